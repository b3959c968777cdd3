/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conntrack lookups over ctnetlink. Wire-format notes:
 *
 * - A request is one nlmsghdr of type (NFNL_SUBSYS_CTNETLINK << 8) | msg,
 *   NLM_F_REQUEST only, then struct nfgenmsg (family, NFNETLINK_V0,
 *   res_id 0), then netlink attributes. IPCTNL_MSG_CT_GET carries
 *   CTA_TUPLE_ORIG { CTA_TUPLE_IP { CTA_IP_V4_SRC/DST | CTA_IP_V6_SRC/DST },
 *   CTA_TUPLE_PROTO { CTA_PROTO_NUM u8, CTA_PROTO_SRC_PORT, _DST_PORT be16 } }
 *   with NLA_F_NESTED on the nests; zone 0 is implied.
 * - The kernel answers inside the sendmsg() call: an IPCTNL_MSG_CT_NEW
 *   message with the entry (CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, ...), or an
 *   NLMSG_ERROR (-ENOENT when there is no entry). Without NLM_F_ACK a
 *   success carries no trailing ack. IPCTNL_MSG_CT_GET_STATS answers with
 *   CTA_STATS_GLOBAL_ENTRIES (be32), the namespace's entry count.
 * - The kernel sets NLA_F_NESTED (and may set NLA_F_NET_BYTEORDER) in the
 *   attribute types it sends, so types are masked with NLA_TYPE_MASK.
 * - ctnetlink needs CAP_NET_ADMIN in the namespace's user namespace; its
 *   sockets answer for the network namespace they were created in.
 *
 * Which namespaces and when (the resolver, below): a connection's entry
 * lives where the NAT happened. For a container that is usually the host
 * (kube-proxy, docker: PREROUTING in the host namespace), sometimes the
 * container's own namespace (an OUTPUT dnat inside it). So the socket's
 * namespace is asked first when it is not the agent's, then the agent's.
 *
 * "Conntrack not in use" test: a namespace's table is empty unless some
 * rule or NAT in it needs conntrack (since Linux 4.10 the hooks are only
 * registered per namespace on demand), and a NATed TCP connection keeps its
 * entry for seconds after it closes (CLOSE 10 s, TIME_WAIT 120 s). So an
 * entry count of 0 read at time T proves that no connection established
 * before T, and looked up now, was NATed in that namespace. The count
 * comes from CT_GET_STATS on the same socket (one round trip), and the
 * verdict "idle at T" is reused for every event stamped before T: at most
 * one count per namespace per ring drain under churn. Before any of that,
 * a node without nf_conntrack at all (its sysctls missing) is never asked,
 * so that the agent does not make the kernel load conntrack modules.
 */
#define _GNU_SOURCE
#include "conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "log.h"
#include "netns.h"
#include "registry.h"

/* ------------------------------------------------------------ wire format */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void w_put(struct wbuf *w, const void *d, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = -ENOSPC;
		return;
	}
	if (n)
		memcpy(w->p + w->len, d, n);
	w->len += n;
}

/* An attribute; returns its offset, for w_nest_end. */
static size_t w_attr(struct wbuf *w, uint16_t type, const void *d, size_t n)
{
	static const uint8_t zero[NLA_ALIGNTO];
	struct nlattr h = { .nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type };
	size_t at = w->len;

	w_put(w, &h, sizeof(h));
	w_put(w, d, n);
	w_put(w, zero, NLA_ALIGN(n) - n);
	return at;
}

static void w_nest_end(struct wbuf *w, size_t at)
{
	uint16_t len = (uint16_t)(w->len - at);
	if (!w->err)
		memcpy(w->p + at, &len, sizeof(len)); /* nla_len is first */
}

static void w_tuple(struct wbuf *w, uint16_t type, const struct ct_tuple *t, int v4)
{
	uint16_t sp = htons(t->sport), dp = htons(t->dport);
	size_t tup = w_attr(w, type | NLA_F_NESTED, NULL, 0);
	size_t ip = w_attr(w, CTA_TUPLE_IP | NLA_F_NESTED, NULL, 0);
	if (v4) {
		w_attr(w, CTA_IP_V4_SRC, &t->src.a[12], 4);
		w_attr(w, CTA_IP_V4_DST, &t->dst.a[12], 4);
	} else {
		w_attr(w, CTA_IP_V6_SRC, t->src.a, 16);
		w_attr(w, CTA_IP_V6_DST, t->dst.a, 16);
	}
	w_nest_end(w, ip);
	size_t proto = w_attr(w, CTA_TUPLE_PROTO | NLA_F_NESTED, NULL, 0);
	w_attr(w, CTA_PROTO_NUM, &t->proto, 1);
	w_attr(w, CTA_PROTO_SRC_PORT, &sp, 2);
	w_attr(w, CTA_PROTO_DST_PORT, &dp, 2);
	w_nest_end(w, proto);
	w_nest_end(w, tup);
}

static int build(void *buf, size_t len, uint32_t seq, uint8_t msg, uint8_t family, const struct ct_tuple *t)
{
	struct wbuf w = { buf, 0, len, 0 };
	struct nlmsghdr h = {
		.nlmsg_type = (uint16_t)((NFNL_SUBSYS_CTNETLINK << 8) | msg),
		.nlmsg_flags = NLM_F_REQUEST,
		.nlmsg_seq = seq,
	};
	struct nfgenmsg g = { .nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(0) };
	uint32_t total;

	w_put(&w, &h, sizeof(h));
	w_put(&w, &g, sizeof(g)); /* 4 bytes: attributes start aligned */
	if (t)
		w_tuple(&w, CTA_TUPLE_ORIG, t, family == AF_INET);
	if (w.err)
		return w.err;
	total = (uint32_t)w.len;
	memcpy(buf, &total, sizeof(total)); /* nlmsg_len is first */
	return (int)w.len;
}

int ct_build_get(void *buf, size_t len, uint32_t seq, const struct ct_tuple *orig)
{
	int v4 = zt_addr_is_v4(&orig->dst);
	if (v4 != zt_addr_is_v4(&orig->src))
		return -EINVAL;
	return build(buf, len, seq, IPCTNL_MSG_CT_GET, v4 ? AF_INET : AF_INET6, orig);
}

int ct_build_stats(void *buf, size_t len, uint32_t seq)
{
	return build(buf, len, seq, IPCTNL_MSG_CT_GET_STATS, AF_UNSPEC, NULL);
}

/* The next attribute of [p, p + len) at *off: 1 (type, data, dlen set),
 * 0 at the end, -EBADMSG when one overruns. */
static int attr_next(const uint8_t *p, size_t len, size_t *off, uint16_t *type, const uint8_t **data, size_t *dlen)
{
	struct nlattr h;

	if (*off >= len || len - *off < NLA_HDRLEN)
		return 0;
	memcpy(&h, p + *off, sizeof(h));
	if (h.nla_len < NLA_HDRLEN || h.nla_len > len - *off)
		return -EBADMSG;
	*type = h.nla_type & NLA_TYPE_MASK;
	*data = p + *off + NLA_HDRLEN;
	*dlen = h.nla_len - NLA_HDRLEN;
	*off += NLA_ALIGN(h.nla_len);
	return 1;
}

static void addr_v4(struct zt_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->a[10] = a->a[11] = 0xff;
	memcpy(&a->a[12], p, 4);
}

#define HAVE_SRC 1u
#define HAVE_DST 2u
#define HAVE_PROTO 4u

static int parse_tuple(const uint8_t *p, size_t len, struct ct_tuple *t)
{
	size_t off = 0, o2, dl, dl2;
	const uint8_t *d, *d2;
	uint16_t type, t2, port;
	unsigned have = 0;
	int r, r2;

	memset(t, 0, sizeof(*t));
	while ((r = attr_next(p, len, &off, &type, &d, &dl)) > 0) {
		o2 = 0;
		if (type == CTA_TUPLE_IP) {
			while ((r2 = attr_next(d, dl, &o2, &t2, &d2, &dl2)) > 0) {
				if ((t2 == CTA_IP_V4_SRC || t2 == CTA_IP_V4_DST) && dl2 >= 4) {
					addr_v4(t2 == CTA_IP_V4_SRC ? &t->src : &t->dst, d2);
					have |= t2 == CTA_IP_V4_SRC ? HAVE_SRC : HAVE_DST;
				} else if ((t2 == CTA_IP_V6_SRC || t2 == CTA_IP_V6_DST) && dl2 >= 16) {
					memcpy(t2 == CTA_IP_V6_SRC ? t->src.a : t->dst.a, d2, 16);
					have |= t2 == CTA_IP_V6_SRC ? HAVE_SRC : HAVE_DST;
				}
			}
		} else if (type == CTA_TUPLE_PROTO) {
			while ((r2 = attr_next(d, dl, &o2, &t2, &d2, &dl2)) > 0) {
				if (t2 == CTA_PROTO_NUM && dl2 >= 1) {
					t->proto = d2[0];
					have |= HAVE_PROTO;
				} else if ((t2 == CTA_PROTO_SRC_PORT || t2 == CTA_PROTO_DST_PORT) && dl2 >= 2) {
					memcpy(&port, d2, 2);
					*(t2 == CTA_PROTO_SRC_PORT ? &t->sport : &t->dport) = ntohs(port);
				}
			}
		} else {
			continue;
		}
		if (r2 < 0)
			return r2;
	}
	if (r < 0)
		return r;
	return have == (HAVE_SRC | HAVE_DST | HAVE_PROTO) ? 0 : -EBADMSG;
}

static int parse_entry(const uint8_t *p, size_t len, struct ct_answer *a)
{
	size_t off = 0, dl;
	const uint8_t *d;
	uint16_t type;
	int r, got = 0, err;

	while ((r = attr_next(p, len, &off, &type, &d, &dl)) > 0) {
		if (type == CTA_TUPLE_ORIG || type == CTA_TUPLE_REPLY) {
			err = parse_tuple(d, dl, type == CTA_TUPLE_ORIG ? &a->orig : &a->reply);
			if (err)
				return err;
			got |= type == CTA_TUPLE_ORIG ? 1 : 2;
		}
	}
	if (r < 0)
		return r;
	if (got != 3)
		return -EBADMSG;
	a->kind = CT_ANS_ENTRY;
	return 1;
}

static int parse_stats(const uint8_t *p, size_t len, struct ct_answer *a)
{
	size_t off = 0, dl;
	const uint8_t *d;
	uint16_t type;
	uint32_t v;
	int r;

	while ((r = attr_next(p, len, &off, &type, &d, &dl)) > 0) {
		if (type == CTA_STATS_GLOBAL_ENTRIES && dl >= 4) {
			memcpy(&v, d, 4);
			a->kind = CT_ANS_STATS;
			a->entries = ntohl(v);
			return 1;
		}
	}
	return r < 0 ? r : -EBADMSG;
}

int ct_parse(const void *buf, size_t len, uint32_t seq, struct ct_answer *a)
{
	const uint8_t *b = buf;
	size_t off = 0;

	memset(a, 0, sizeof(*a));
	while (off < len && len - off >= NLMSG_HDRLEN) {
		struct nlmsghdr h;
		const uint8_t *p;
		size_t plen;

		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			return -EBADMSG;
		p = b + off + NLMSG_HDRLEN;
		plen = h.nlmsg_len - NLMSG_HDRLEN;
		off += NLMSG_ALIGN(h.nlmsg_len);
		if (h.nlmsg_seq != seq)
			continue; /* a late answer to an earlier request */
		if (h.nlmsg_type == NLMSG_ERROR) {
			int32_t err;
			if (plen < sizeof(err))
				return -EBADMSG;
			memcpy(&err, p, sizeof(err));
			/* 0 would be an ack, which we never ask for */
			return err < 0 && err > -4096 ? err : -EBADMSG;
		}
		if ((h.nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK)
			continue; /* NLMSG_DONE, NLMSG_NOOP */
		if (plen < NLMSG_ALIGN(sizeof(struct nfgenmsg)))
			return -EBADMSG;
		p += NLMSG_ALIGN(sizeof(struct nfgenmsg));
		plen -= NLMSG_ALIGN(sizeof(struct nfgenmsg));
		switch (h.nlmsg_type & 0xff) {
		case IPCTNL_MSG_CT_NEW:
			return parse_entry(p, plen, a);
		case IPCTNL_MSG_CT_GET_STATS:
			return parse_stats(p, plen, a);
		default:
			break;
		}
	}
	return 0;
}

int ct_translated(const struct ct_answer *a)
{
	return memcmp(&a->reply.src, &a->orig.dst, sizeof(a->orig.dst)) || a->reply.sport != a->orig.dport;
}

/* ------------------------------------------------------------ the socket */

/* A reply is one entry (~300-600 bytes with every attribute the kernel
 * adds); the kernel sizes an answer at NLMSG_DEFAULT_SIZE (< 4 KiB). */
#define CT_RCV_BUF 8192
/* Late answers to requests that timed out, skipped before ours. */
#define CT_MAX_STALE 16

struct ct_sock {
	int fd;
	uint32_t seq;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ct_sock_open(struct ct_sock **out)
{
	struct ct_sock *cs = calloc(1, sizeof(*cs));
	int err;

	*out = NULL;
	if (!cs)
		return -ENOMEM;
	cs->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	if (cs->fd < 0) {
		err = -errno;
		free(cs);
		return err;
	}
	cs->seq = (uint32_t)mono_ns();
	*out = cs;
	return 0;
}

void ct_sock_close(struct ct_sock *cs)
{
	if (!cs)
		return;
	close(cs->fd);
	free(cs);
}

/* Sends one request and reads until its answer: 0 (*a filled) or -errno. */
static int ask(struct ct_sock *cs, const void *req, size_t len, uint32_t seq, struct ct_answer *a)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint64_t deadline = mono_ns() + CT_SOCK_TIMEOUT_MS * 1000000ull;
	uint8_t buf[CT_RCV_BUF] __attribute__((aligned(8)));

	if (sendto(cs->fd, req, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	for (int i = 0; i < CT_MAX_STALE;) {
		ssize_t n = recv(cs->fd, buf, sizeof(buf), MSG_TRUNC);
		uint64_t now = mono_ns();
		if (n < 0) {
			struct pollfd pfd = { .fd = cs->fd, .events = POLLIN };
			if (now >= deadline)
				return -ETIMEDOUT;
			if (errno == EINTR || errno == ENOBUFS)
				continue; /* ENOBUFS: stale answers overflowed the queue */
			if (errno != EAGAIN)
				return -errno;
			/* The kernel answers inside sendto(), so this is rare. */
			if (poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000)) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		i++;
		if ((size_t)n > sizeof(buf))
			continue; /* cut short; ours are far smaller */
		int r = ct_parse(buf, (size_t)n, seq, a);
		if (r)
			return r < 0 ? r : 0;
	}
	return -ETIMEDOUT;
}

int ct_sock_get(struct ct_sock *cs, const struct ct_tuple *orig, struct ct_answer *a)
{
	uint8_t req[CT_REQ_MAX] __attribute__((aligned(8)));
	uint32_t seq = ++cs->seq;
	int len = ct_build_get(req, sizeof(req), seq, orig), err;

	if (len < 0)
		return len;
	err = ask(cs, req, (size_t)len, seq, a);
	if (err)
		return err;
	/* The tuple may have matched the reply direction of some other entry
	 * (a connection from our destination port to our source port). */
	if (a->kind != CT_ANS_ENTRY || memcmp(&a->orig.src, &orig->src, sizeof(orig->src)) ||
	    memcmp(&a->orig.dst, &orig->dst, sizeof(orig->dst)) || a->orig.sport != orig->sport ||
	    a->orig.dport != orig->dport || a->orig.proto != orig->proto)
		return -ENOENT;
	return 0;
}

int ct_sock_count(struct ct_sock *cs, uint32_t *entries)
{
	uint8_t req[CT_REQ_MAX] __attribute__((aligned(8)));
	uint32_t seq = ++cs->seq;
	int len = ct_build_stats(req, sizeof(req), seq), err;
	struct ct_answer a;

	if (len < 0)
		return len;
	err = ask(cs, req, (size_t)len, seq, &a);
	if (err)
		return err;
	if (a.kind != CT_ANS_STATS)
		return -EBADMSG;
	*entries = a.entries;
	return 0;
}

/* ---------------------------------------------------------- the resolver */

/* More namespaces than this are not asked (their lookups count as failed). */
#define CT_NS_MAX 4096
/* A namespace with entries is asked for its count again after this, so
 * that it can be found idle again. */
#define CT_BUSY_RECHECK_NS (10ull * 1000000000ull)
/* After a socket or query error, a namespace is left alone this long. */
#define CT_RETRY_NS (5ull * 1000000000ull)
/* A socket unused this long is closed at a tick even if never released. */
#define CT_UNUSED_CLOSE_NS (60ull * 1000000000ull)
/* Present in every namespace once nf_conntrack is loaded (or built in). */
#define CT_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_max"

enum { NS_UNKNOWN, NS_IDLE, NS_BUSY, NS_BROKEN };

struct ct_ns {
	uint32_t inum;
	uint8_t state;
	struct ct_sock *cs;
	uint64_t checked_ns;  /* when `state` was established */
	uint64_t used_ns;     /* last lookup that involved it */
	uint64_t released_ns; /* the TCP table's last connection in it went; 0: not */
};

enum ct_result {
	R_TRANSLATED,
	R_NOT_TRANSLATED,
	R_NOT_FOUND,
	R_FAILED,
	R_SKIP_LOOPBACK,
	R_SKIP_IDLE,
	R_SKIP_UNAVAILABLE,
	R_SKIP_GONE,
	R_N
};

static const char *const result_name[R_N] = {
	"translated",       "not_translated", "not_found",           "failed",
	"skipped_loopback", "skipped_idle",   "skipped_unavailable", "skipped_netns_gone",
};

struct conntrack {
	zt_metric *m_lookups, *m_seconds, *m_sockets;
	uint64_t results[R_N];
	uint64_t spent_ns;
	int self_fd;
	uint32_t self_ns;
	int loaded;
	struct ct_ns *ns; /* ns[0] is the agent's own namespace */
	size_t nns, cap;
};

static int conntrack_loaded(void)
{
	return access(CT_SYSCTL, F_OK) == 0;
}

int conntrack_new(struct registry *reg, struct conntrack **out)
{
	static const char *const l_result[] = { "result" };
	struct conntrack *ct = calloc(1, sizeof(*ct));
	struct stat st;
	int err = -ENOMEM;

	*out = NULL;
	if (!ct)
		return -ENOMEM;
	ct->self_fd = -1;
	ct->ns = calloc(8, sizeof(*ct->ns));
	if (!ct->ns)
		goto fail;
	ct->cap = 8;
	ct->self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ct->self_fd < 0 || fstat(ct->self_fd, &st)) {
		err = -errno;
		goto fail;
	}
	ct->self_ns = (uint32_t)st.st_ino;
	ct->ns[0].inum = ct->self_ns;
	ct->nns = 1;
	if (reg) {
		const struct zt_metric_desc d[] = {
			{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_conntrack_lookups_total",
			  "New outbound TCP connections by the outcome of their conntrack (NAT) lookup.", l_result, 1,
			  0, NULL },
			{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_conntrack_lookup_seconds_total",
			  "Time the dispatch thread spent in conntrack lookups (ctnetlink round trips, sockets).", NULL,
			  0, 0, NULL },
			{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_conntrack_sockets",
			  "Open ctnetlink sockets (one per network namespace asked).", NULL, 0, 0, NULL },
		};
		zt_metric **m[] = { &ct->m_lookups, &ct->m_seconds, &ct->m_sockets };
		for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
			err = registry_register(reg, &d[i], m[i]);
			if (err)
				goto fail;
		}
	}
	ct->loaded = conntrack_loaded();
	if (!ct->loaded)
		log_msg(ZT_LOG_INFO, NULL, "conntrack: %s missing (nf_conntrack not loaded): no NAT lookups for now",
			CT_SYSCTL);
	conntrack_tick(ct);
	*out = ct;
	return 0;
fail:
	conntrack_free(ct);
	return err;
}

void conntrack_free(struct conntrack *ct)
{
	if (!ct)
		return;
	for (size_t i = 0; i < ct->nns; i++)
		ct_sock_close(ct->ns[i].cs);
	free(ct->ns);
	if (ct->self_fd >= 0)
		close(ct->self_fd);
	free(ct);
}

/* Index of namespace inum, created if needed; -1 when the table is full. */
static int ns_index(struct conntrack *ct, uint32_t inum)
{
	for (size_t i = 0; i < ct->nns; i++)
		if (ct->ns[i].inum == inum)
			return (int)i;
	if (ct->nns >= CT_NS_MAX)
		return -1;
	if (ct->nns == ct->cap) {
		struct ct_ns *n = realloc(ct->ns, ct->cap * 2 * sizeof(*n));
		if (!n)
			return -1;
		ct->ns = n;
		ct->cap *= 2;
	}
	memset(&ct->ns[ct->nns], 0, sizeof(ct->ns[0]));
	ct->ns[ct->nns].inum = inum;
	return (int)ct->nns++;
}

static int open_cb(void *arg)
{
	return ct_sock_open(arg);
}

static void ns_broken(struct ct_ns *x, int err, uint64_t now)
{
	log_msg(ZT_LOG_DEBUG, NULL, "conntrack: netns %u: %s; not asked for %llu s", x->inum, strerror(-err),
		CT_RETRY_NS / 1000000000ull);
	ct_sock_close(x->cs);
	x->cs = NULL;
	x->state = NS_BROKEN;
	x->checked_ns = now;
}

/*
 * Whether namespace x may hold an entry for a connection established at
 * ts: 1 (ask it), 0 (its table was empty after ts: skip), or -errno.
 * Opens its socket on first use, through process tgid for another
 * namespace.
 */
static int ns_ready(struct conntrack *ct, struct ct_ns *x, uint32_t tgid, uint64_t ts, uint64_t now)
{
	uint32_t n;
	uint64_t t;
	int err;

	if (x->state == NS_IDLE && ts <= x->checked_ns)
		return 0;
	if (x->state == NS_BUSY && now - x->checked_ns < CT_BUSY_RECHECK_NS)
		return 1;
	if (x->state == NS_BROKEN && now - x->checked_ns < CT_RETRY_NS)
		return -EAGAIN;
	if (!x->cs) {
		err = x->inum == ct->self_ns ? ct_sock_open(&x->cs) : netns_run(ct->self_fd, x->inum, tgid, open_cb, &x->cs);
		if (err == -ESRCH)
			return err; /* that process is gone; another may still enter */
		if (err) {
			ns_broken(x, err, now);
			return err;
		}
	}
	t = mono_ns(); /* the kernel reads the count after this */
	err = ct_sock_count(x->cs, &n);
	if (err == -EOPNOTSUPP || err == -EINVAL) {
		/* a kernel without CT_GET_STATS: always ask */
		x->state = NS_BUSY;
		x->checked_ns = t;
		return 1;
	}
	if (err) {
		ns_broken(x, err, now);
		return err;
	}
	x->state = n ? NS_BUSY : NS_IDLE;
	x->checked_ns = t;
	return n != 0;
}

static int is_loopback(const struct zt_addr *a)
{
	static const uint8_t v6_lo[16] = { [15] = 1 };
	if (zt_addr_is_v4(a))
		return a->a[12] == 127;
	return !memcmp(a->a, v6_lo, 16);
}

int conntrack_actual_dst(struct conntrack *ct, uint32_t netns, uint32_t tgid, uint64_t ts_ns,
			 const struct zt_addr *src, uint16_t sport, const struct zt_addr *dst, uint16_t dport,
			 char *out, size_t outlen)
{
	struct ct_tuple orig = { .src = *src, .dst = *dst, .sport = sport, .dport = dport, .proto = IPPROTO_TCP };
	int idx[2], n = 0, found = 0, failed = 0, asked = 0, gone = 0, res;
	uint64_t t0;
	struct ct_answer a;

	if (!ct)
		return 0;
	if (is_loopback(dst)) {
		ct->results[R_SKIP_LOOPBACK]++;
		return 0;
	}
	if (!ct->loaded) {
		ct->results[R_SKIP_UNAVAILABLE]++;
		return 0;
	}
	t0 = mono_ns();
	if (netns != ct->self_ns) {
		idx[n] = ns_index(ct, netns);
		if (idx[n] >= 0)
			n++;
		else
			failed = 1;
	}
	idx[n++] = 0;
	for (int i = 0; i < n; i++) {
		struct ct_ns *x = &ct->ns[idx[i]];
		int r, err;

		x->used_ns = t0;
		r = ns_ready(ct, x, tgid, ts_ns, t0);
		if (r == -ESRCH) {
			/* The process left before we could enter its namespace
			 * (a short-lived client, and no socket there yet): that
			 * namespace goes unasked, which is not an error. */
			gone = 1;
			continue;
		}
		if (r <= 0) {
			failed |= r < 0;
			continue;
		}
		asked = 1;
		err = ct_sock_get(x->cs, &orig, &a);
		if (!err && ct_translated(&a)) {
			zt_addr_port_format(&a.reply.src, a.reply.sport, out, outlen);
			res = R_TRANSLATED;
			goto done;
		}
		if (!err) {
			found = 1; /* not NATed here; the next namespace may have */
		} else if (err != -ENOENT) {
			failed = 1;
			ns_broken(x, err, t0);
		}
	}
	res = found ? R_NOT_TRANSLATED : failed ? R_FAILED : asked ? R_NOT_FOUND : gone ? R_SKIP_GONE : R_SKIP_IDLE;
done:
	ct->results[res]++;
	ct->spent_ns += mono_ns() - t0;
	return res == R_TRANSLATED;
}

void conntrack_ns_release(struct conntrack *ct, uint32_t netns)
{
	if (!ct || netns == ct->self_ns)
		return;
	for (size_t i = 1; i < ct->nns; i++)
		if (ct->ns[i].inum == netns)
			ct->ns[i].released_ns = mono_ns();
}

void conntrack_tick(struct conntrack *ct)
{
	uint64_t now = mono_ns();
	size_t sockets = 0;

	if (!ct)
		return;
	if (ct->loaded != conntrack_loaded()) {
		ct->loaded = !ct->loaded;
		log_msg(ZT_LOG_INFO, NULL, "conntrack: nf_conntrack %s: NAT lookups %s", ct->loaded ? "appeared" : "gone",
			ct->loaded ? "on" : "off");
	}
	for (size_t i = 1; i < ct->nns; i++) {
		struct ct_ns *x = &ct->ns[i];
		if ((x->released_ns && x->used_ns <= x->released_ns) || now - x->used_ns > CT_UNUSED_CLOSE_NS) {
			ct_sock_close(x->cs);
			ct->ns[i--] = ct->ns[--ct->nns];
		}
	}
	for (size_t i = 0; i < ct->nns; i++)
		sockets += ct->ns[i].cs != NULL;
	if (!ct->m_lookups)
		return;
	for (int r = 0; r < R_N; r++) {
		struct zt_str lv = { result_name[r], strlen(result_name[r]) };
		registry_set(ct->m_lookups, &lv, (double)ct->results[r]);
	}
	registry_set(ct->m_seconds, NULL, ct->spent_ns / 1e9);
	registry_set(ct->m_sockets, NULL, (double)sockets);
}
