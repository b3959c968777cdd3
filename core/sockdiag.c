/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP socket dumps over NETLINK_SOCK_DIAG and socket inode -> process maps
 * from /proc. Wire-format notes:
 *
 * - A request is one nlmsghdr (SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST|DUMP)
 *   followed by struct inet_diag_req_v2; one request per address family.
 * - The reply is a sequence of datagrams, each holding whole netlink
 *   messages: SOCK_DIAG_BY_FAMILY with struct inet_diag_msg and rtattrs,
 *   ending with NLMSG_DONE (whose payload is an int error) or NLMSG_ERROR.
 * - The kernel sizes dump datagrams to the reader's buffer but never above
 *   32 KiB (SKB_WITH_OVERHEAD(32768)), so a 32 KiB buffer never truncates.
 * - INET_DIAG_INFO carries the running kernel's struct tcp_info, which only
 *   ever grows at the end: fields past the attribute's length are absent.
 *
 * The parser reads the input through memcpy into local structs, so it
 * neither trusts nor needs the input's alignment (the fuzzer hands it
 * arbitrary byte offsets).
 */
#define _GNU_SOURCE
#include "sockdiag.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

/* See the header comment: the kernel never sends a larger dump datagram. */
#define SOCKDIAG_BUF_SIZE (32u * 1024u)
/* Bounds one family's dump: at ~100 sockets per datagram this is ~100M
 * sockets, far past any real host, but it ends a kernel or test loop that
 * never sends NLMSG_DONE. */
#define SOCKDIAG_MAX_RECVS (1u << 20)
/* A dump that stalls this long is abandoned instead of hanging the agent. */
#define SOCKDIAG_RECV_TIMEOUT_S 5
/* A process with more descriptors than this is cut short rather than
 * letting one runaway process dominate start-up. */
#define SOCKDIAG_MAX_FDS_PER_PROC (1u << 20)

struct sockdiag {
	int fd;
	uint32_t seq;
	uint8_t *buf; /* SOCKDIAG_BUF_SIZE, reused by every dump */
};

/* Why parsing stopped, for the dump loop (sockdiag_parse folds it in). */
struct parse_state {
	int done;    /* NLMSG_DONE seen */
	int stopped; /* cb returned non-zero; cb_ret holds it */
	int cb_ret;
};

static int open_socket(void)
{
	struct timeval tv = { .tv_sec = SOCKDIAG_RECV_TIMEOUT_S };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int sockdiag_open(struct sockdiag **out)
{
	struct sockdiag *sd;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->fd = -1;
	sd->buf = malloc(SOCKDIAG_BUF_SIZE);
	if (!sd->buf) {
		err = -ENOMEM;
		goto err_free;
	}
	sd->fd = open_socket();
	if (sd->fd < 0) {
		err = sd->fd;
		goto err_free;
	}
	*out = sd;
	return 0;

err_free:
	free(sd->buf);
	free(sd);
	return err;
}

void sockdiag_close(struct sockdiag *sd)
{
	if (!sd)
		return;
	if (sd->fd >= 0)
		close(sd->fd);
	free(sd->buf);
	free(sd);
}

/*
 * A dump left unfinished (cb stopped it, error, timeout) keeps the kernel's
 * dump state alive and the next request would fail with -EBUSY or read the
 * old dump's tail. A fresh socket is cheaper than draining a large dump.
 */
static void reset_socket(struct sockdiag *sd)
{
	if (sd->fd >= 0)
		close(sd->fd);
	sd->fd = open_socket(); /* on failure the next dump retries */
}

static void addr_from_diag(struct zt_addr *a, uint8_t family, const __be32 src[4])
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		a->a[10] = 0xff;
		a->a[11] = 0xff;
		memcpy(&a->a[12], &src[0], 4);
	} else {
		memcpy(a->a, src, 16);
	}
}

/* True when the whole field lies inside an attribute of length len. */
#define TCPI_HAS(len, field) \
	((len) >= offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field))
#define TCPI_GET(dst, p, len, field)                                                   \
	do {                                                                           \
		if (TCPI_HAS(len, field)) {                                            \
			__typeof__(((struct tcp_info *)0)->field) v_;                  \
			memcpy(&v_, (const uint8_t *)(p) + offsetof(struct tcp_info, field), \
			       sizeof(v_));                                            \
			(dst) = v_;                                                    \
		}                                                                      \
	} while (0)

static void take_tcp_info(struct sockdiag_sock *s, const uint8_t *p, size_t len)
{
	/* Without the RTT the attribute tells us nothing we report; a
	 * kernel that old (pre-2.6) or a cut attribute counts as absent. */
	if (!TCPI_HAS(len, tcpi_rttvar))
		return;
	s->has_info = 1;
	TCPI_GET(s->rtt_us, p, len, tcpi_rtt);
	TCPI_GET(s->rttvar_us, p, len, tcpi_rttvar);
	TCPI_GET(s->total_retrans, p, len, tcpi_total_retrans);
	TCPI_GET(s->bytes_acked, p, len, tcpi_bytes_acked);       /* since 4.1 */
	TCPI_GET(s->bytes_received, p, len, tcpi_bytes_received); /* since 4.1 */
	TCPI_GET(s->bytes_sent, p, len, tcpi_bytes_sent);         /* since 4.19 */
}

/*
 * One SOCK_DIAG_BY_FAMILY message payload. Returns 1 when a socket was
 * produced, 0 when skipped (a family we do not handle), or -EBADMSG.
 */
static int parse_diag_msg(const uint8_t *p, size_t len, struct sockdiag_sock *s)
{
	struct inet_diag_msg m;
	size_t off;

	if (len < sizeof(m))
		return -EBADMSG;
	memcpy(&m, p, sizeof(m));
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return 0;

	memset(s, 0, sizeof(*s));
	s->family = m.idiag_family;
	s->state = m.idiag_state;
	s->sport = ntohs(m.id.idiag_sport);
	s->dport = ntohs(m.id.idiag_dport);
	addr_from_diag(&s->saddr, m.idiag_family, m.id.idiag_src);
	addr_from_diag(&s->daddr, m.idiag_family, m.id.idiag_dst);
	s->inode = m.idiag_inode;
	s->uid = m.idiag_uid;
	s->cookie = (uint64_t)m.id.idiag_cookie[0] | (uint64_t)m.id.idiag_cookie[1] << 32;

	off = NLMSG_ALIGN(sizeof(m));
	while (off < len) {
		struct rtattr rta;
		size_t rem = len - off;

		if (rem < sizeof(rta))
			return -EBADMSG;
		memcpy(&rta, p + off, sizeof(rta));
		/* rta_len < header would never advance; past rem is a lie. */
		if (rta.rta_len < sizeof(rta) || rta.rta_len > rem)
			return -EBADMSG;
		if (rta.rta_type == INET_DIAG_INFO)
			take_tcp_info(s, p + off + RTA_LENGTH(0), rta.rta_len - RTA_LENGTH(0));
		/* The last attribute's padding may be missing: the kernel
		 * ends the message at the attribute's own length. */
		off += RTA_ALIGN(rta.rta_len) < rem ? RTA_ALIGN(rta.rta_len) : rem;
	}
	return 1;
}

/* An error field from the wire: only -1..-4095 are errnos. */
static int wire_errno(int32_t e)
{
	if (e < 0 && e >= -4095)
		return e;
	return -EPROTO;
}

/*
 * Walks the netlink messages in buf. want_seq, when given, skips replies
 * to some earlier request. Returns the number of sockets passed to cb or
 * a negative errno; st says whether NLMSG_DONE arrived or cb stopped us.
 */
static int parse_msgs(const uint8_t *buf, size_t len, const uint32_t *want_seq,
		      struct parse_state *st,
		      int (*cb)(void *ctx, const struct sockdiag_sock *s), void *ctx)
{
	struct sockdiag_sock s;
	size_t off = 0;
	int n = 0;

	while (off < len) {
		struct nlmsghdr h;
		size_t rem = len - off, plen;
		const uint8_t *payload;
		int32_t e;
		int r;

		if (rem < sizeof(h))
			return -EBADMSG;
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > rem)
			return -EBADMSG;
		payload = buf + off + NLMSG_HDRLEN;
		plen = h.nlmsg_len - NLMSG_HDRLEN;
		off += NLMSG_ALIGN(h.nlmsg_len) < rem ? NLMSG_ALIGN(h.nlmsg_len) : rem;

		if (want_seq && h.nlmsg_seq != *want_seq)
			continue;
		switch (h.nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_DONE:
			/* The payload, when there, is the dump's own result. */
			if (plen >= sizeof(e)) {
				memcpy(&e, payload, sizeof(e));
				if (e != 0)
					return wire_errno(e);
			}
			st->done = 1;
			return n;
		case NLMSG_ERROR:
			if (plen < sizeof(e))
				return -EBADMSG;
			memcpy(&e, payload, sizeof(e));
			if (e == 0)
				continue; /* an ACK: not an error */
			return wire_errno(e);
		case SOCK_DIAG_BY_FAMILY:
			r = parse_diag_msg(payload, plen, &s);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			if (n < INT_MAX)
				n++;
			r = cb(ctx, &s);
			if (r != 0) {
				st->stopped = 1;
				st->cb_ret = r;
				return n;
			}
			continue;
		default:
			continue; /* a newer kernel's message type: not ours */
		}
	}
	return n;
}

int sockdiag_parse(const void *buf, size_t len, int *done,
		   int (*cb)(void *ctx, const struct sockdiag_sock *s), void *ctx)
{
	struct parse_state st = { 0 };
	int r;

	if ((!buf && len) || !done || !cb)
		return -EINVAL;
	*done = 0;
	r = parse_msgs(buf, len, NULL, &st, cb, ctx);
	/* A stop requested by cb ends this buffer like NLMSG_DONE would. */
	if (r >= 0 && (st.done || st.stopped))
		*done = 1;
	return r;
}

static int send_request(struct sockdiag *sd, uint8_t family, uint32_t states_mask)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nh.nlmsg_len = sizeof(msg);
	msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nh.nlmsg_seq = ++sd->seq;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	/* idiag_ext is a bitmap of (1 << (attribute - 1)). */
	msg.req.idiag_ext = 1u << (INET_DIAG_INFO - 1);
	msg.req.idiag_states = states_mask;

	do {
		n = sendto(sd->fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(msg) ? 0 : -EIO;
}

/* One family's dump. Returns 0, 1 when cb stopped it, or -errno. */
static int dump_family(struct sockdiag *sd, uint8_t family, uint32_t states_mask,
		       int (*cb)(void *ctx, const struct sockdiag_sock *s), void *ctx,
		       int *cb_ret)
{
	uint32_t i;
	int err;

	err = send_request(sd, family, states_mask);
	if (err)
		return err;
	for (i = 0; i < SOCKDIAG_MAX_RECVS; i++) {
		struct parse_state st = { 0 };
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = sd->buf, .iov_len = SOCKDIAG_BUF_SIZE };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(sd->fd, &mh, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		if (n == 0)
			return -EPIPE;
		/* A lost tail would leave the next datagram mid-stream. */
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (from.nl_pid != 0)
			continue; /* not from the kernel */
		err = parse_msgs(sd->buf, (size_t)n, &sd->seq, &st, cb, ctx);
		if (err < 0)
			return err;
		if (st.stopped) {
			*cb_ret = st.cb_ret;
			return 1;
		}
		if (st.done)
			return 0;
	}
	return -EOVERFLOW;
}

int sockdiag_dump_tcp(struct sockdiag *sd, uint32_t states_mask,
		      int (*cb)(void *ctx, const struct sockdiag_sock *s), void *ctx)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	size_t i;
	int err = 0, cb_ret = 0;

	if (!sd || !cb)
		return -EINVAL;
	if (!states_mask)
		return 0;
	if (sd->fd < 0) {
		sd->fd = open_socket();
		if (sd->fd < 0)
			return sd->fd;
	}
	for (i = 0; i < sizeof(families); i++) {
		err = dump_family(sd, families[i], states_mask, cb, ctx, &cb_ret);
		/* No IPv6 module (ipv6.disable=1): the IPv4 dump is whole. */
		if (families[i] == AF_INET6 && (err == -ENOENT || err == -EAFNOSUPPORT))
			err = 0;
		if (err)
			break;
	}
	if (err == 1) {
		reset_socket(sd);
		/* A negative cb result is an errno worth passing on; a
		 * positive one is a plain "enough". */
		return cb_ret < 0 ? cb_ret : 0;
	}
	if (err < 0)
		reset_socket(sd);
	return err;
}

/* "socket:[12345]" -> 12345; 0 for anything else (other fd kinds). */
static uint32_t socket_inode_of(const char *link)
{
	static const char pfx[] = "socket:[";
	const char *p;
	uint64_t v = 0;

	if (strncmp(link, pfx, sizeof(pfx) - 1) != 0)
		return 0;
	p = link + sizeof(pfx) - 1;
	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	if (p[0] != ']' || p[1] != '\0')
		return 0;
	return (uint32_t)v;
}

static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * One process. Returns 0 (including when it vanished or is not ours to
 * read: processes come and go during the walk), or cb's non-zero result.
 */
static int scan_process(int proc_fd, uint32_t tgid,
			int (*cb)(void *ctx, uint32_t inode, uint32_t tgid, int fd), void *ctx)
{
	char path[64], link[64];
	struct dirent *de;
	uint32_t seen = 0;
	DIR *d;
	int dfd, ret = 0;

	snprintf(path, sizeof(path), "%u/fd", tgid);
	dfd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL && seen < SOCKDIAG_MAX_FDS_PER_PROC) {
		uint32_t fdnum, inode;
		ssize_t n;

		if (parse_uint(de->d_name, INT_MAX, &fdnum))
			continue; /* "." and ".." */
		seen++;
		n = readlinkat(dfd, de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue; /* closed since readdir */
		link[n] = '\0';
		inode = socket_inode_of(link);
		if (!inode)
			continue;
		ret = cb(ctx, inode, tgid, (int)fdnum);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

int sockdiag_scan_socket_inodes(const char *proc_root,
				int (*cb)(void *ctx, uint32_t inode, uint32_t tgid, int fd), void *ctx)
{
	struct dirent *de;
	DIR *d;
	int pfd, ret = 0;

	if (!cb)
		return -EINVAL;
	pfd = open(proc_root ? proc_root : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	d = fdopendir(pfd);
	if (!d) {
		ret = -errno;
		close(pfd);
		return ret;
	}
	while ((de = readdir(d)) != NULL) {
		uint32_t tgid;

		if (parse_uint(de->d_name, INT_MAX, &tgid))
			continue; /* "self", "net", ... */
		ret = scan_process(pfd, tgid, cb, ctx);
		if (ret)
			break;
	}
	closedir(d);
	/* Same convention as the dump: a positive cb result only stops. */
	return ret > 0 ? 0 : ret;
}

int zt_addr_is_v4(const struct zt_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return a && memcmp(a->a, mapped, sizeof(mapped)) == 0;
}

/* Both return 0 (and an empty string when len > 0) if buf is too small. */
/* Dotted quad without stdio (on the per-connection path). */
static size_t v4_format(const uint8_t *q, char *out)
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = q[i];
		if (i)
			out[n++] = '.';
		if (v >= 100)
			out[n++] = (char)('0' + v / 100);
		if (v >= 10)
			out[n++] = (char)('0' + v / 10 % 10);
		out[n++] = (char)('0' + v % 10);
	}
	out[n] = '\0';
	return n;
}

size_t zt_addr_format(const struct zt_addr *a, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	size_t n;

	if (!buf || !len)
		return 0;
	buf[0] = '\0';
	if (!a)
		return 0;
	if (zt_addr_is_v4(a)) {
		n = v4_format(&a->a[12], tmp);
	} else {
		if (!inet_ntop(AF_INET6, a->a, tmp, sizeof(tmp)))
			return 0;
		n = strlen(tmp);
	}
	if (n >= len)
		return 0;
	memcpy(buf, tmp, n + 1);
	return n;
}

size_t zt_addr_port_format(const struct zt_addr *a, uint16_t port, char *buf, size_t len)
{
	char out[INET6_ADDRSTRLEN + 8], digits[5];
	size_t n = 0, h, k = 0;
	int v4;

	if (!buf || !len)
		return 0;
	buf[0] = '\0';
	if (!a)
		return 0;
	v4 = zt_addr_is_v4(a);
	if (!v4)
		out[n++] = '[';
	h = zt_addr_format(a, out + n, sizeof(out) - n);
	if (!h)
		return 0;
	n += h;
	if (!v4)
		out[n++] = ']';
	out[n++] = ':';
	do
		digits[k++] = (char)('0' + port % 10);
	while ((port /= 10));
	while (k)
		out[n++] = digits[--k];
	if (n >= len)
		return 0;
	memcpy(buf, out, n);
	buf[n] = '\0';
	return n;
}
