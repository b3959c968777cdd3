// SPDX-License-Identifier: GPL-2.0
/*
 * L7 capture: the bytes processes read and write on TCP and UDP sockets,
 * for the protocol plugins.
 *
 * Hooks: the BTF tracepoints sock/sock_send_length and sock/sock_recv_length,
 * where read, write, readv, writev, recvfrom, sendto, recvmsg, sendmsg,
 * recvmmsg and sendmmsg on sockets all converge (sock_sendmsg /
 * sock_recvmsg), called with the socket and the byte count; the user buffer
 * comes from the syscall's own argument registers (bpf_task_pt_regs). No
 * syscall tracepoint is enabled, so no task pays for the syscall-tracing
 * slow path, and I/O on files and pipes runs no program at all. Plus
 * sock/inet_sock_set_state for TCP closes.
 *
 * Per message on a socket: one LRU hash lookup (socket cookie -> policy,
 * offsets), an atomic add, and only for connections a protocol claimed
 * (or not yet decided) one bounded copy of the first bytes into the ring.
 * Connections no protocol wants cost the lookup and the add.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "l7_event.h"
#include "ringwake.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define MSG_PEEK 2
#define TCP_CLOSE 7
#define WAKEUP_SHIFT 18 /* a wakeup per 256 KiB of backlog growth */

/* x86_64 syscall numbers */
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_recvmmsg 299
#define NR_sendmmsg 307

char LICENSE[] SEC("license") = "GPL";

/* Written by user space before attach and while running. */
__u32 self_tgid SEC(".bss");
__u32 nrules SEC(".bss");
__u32 probe_capture SEC(".bss"); /* bytes copied of an undecided connection's message */
/* Bumped by user space after each write to l7_verdicts: a claimed
 * connection looks for a verdict only when it changed since its last look. */
__u32 verdict_gen SEC(".bss");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} l7_rb SEC(".maps");

/* Per socket, in the socket itself (freed with it): no hash lookup on the
 * hot path and nothing to clean up. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct zt_l7_conn);
} l7_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct zt_l7_verdict);
} l7_verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ZT_L7_MAX_RULES);
	__type(key, __u32);
	__type(value, struct zt_l7_rule);
} l7_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ZT_L7_ST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} l7_stats SEC(".maps");

/*
 * Which element of a sendmmsg/recvmmsg vector a message is. The kernel
 * handles the elements in order, one sock_sendmsg/sock_recvmsg each, and
 * writes each element's length back into its msg_len before the next
 * one. Per thread (only threads that ever used the mmsg calls on a parsed
 * socket have an entry): the vector and socket of the last element seen,
 * its index and length. The next message continues that vector only when
 * the previous element's msg_len now holds that length; a failed receive
 * or send (the end of a call that took fewer datagrams than it asked for)
 * forgets the position, so the next call starts at element 0.
 */
struct mmsg_pos {
	__u64 vec, cookie;
	__u32 next, last_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mmsg_pos);
} l7_mmsg SEC(".maps");

/* The record being built: header + payload. Twice the payload bound so
 * that the verifier can see every copy stay inside. */
struct scratch {
	__u8 raw[sizeof(struct zt_l7_ev) + 2 * ZT_L7_CAP_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} l7_scratch SEC(".maps");

static __always_inline void stat_add(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&l7_stats, &slot);
	if (v)
		*v += n;
}

static __always_inline void map_v4(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &a, 4);
}

static __always_inline void fill_tuple(struct zt_l7_ev *e, const struct sock *sk, __u16 family)
{
	if (family == AF_INET) {
		e->family = 4;
		map_v4(e->laddr, sk->__sk_common.skc_rcv_saddr);
		map_v4(e->raddr, sk->__sk_common.skc_daddr);
	} else {
		e->family = 6;
		bpf_probe_read_kernel(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	e->lport = sk->__sk_common.skc_num;
	e->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	e->netns = sk->__sk_common.skc_net.net->ns.inum;
}

/* v & (ZT_L7_CAP_MAX - 1), done where the compiler cannot drop it: the
 * verifier must see the bound even where the C code already implies it. */
static __always_inline __u64 cap_bound(__u64 v)
{
	asm volatile("%0 &= 0xfff" : "+r"(v));
	return v;
}

/* v & 0x1fff likewise: keeps any v <= ZT_L7_CAP_MAX, and bounds a copy
 * into the 2 * ZT_L7_CAP_MAX payload area. */
static __always_inline __u64 len_bound(__u64 v)
{
	asm volatile("%0 &= 0x1fff" : "+r"(v));
	return v;
}

/* Copies up to `want` bytes from up to 4 iovecs; returns the bytes copied. */
static __always_inline __u32 copy_iov(__u8 *dst, const struct iovec *iov, __u64 n_iov, __u32 want)
{
	__u32 pos = 0;

	for (int i = 0; i < 4; i++) {
		struct iovec v;
		__u64 n;

		if (i >= n_iov || pos >= want || pos >= ZT_L7_CAP_MAX)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		n = v.iov_len;
		if (n > want - pos)
			n = want - pos;
		if (n > ZT_L7_CAP_MAX)
			n = ZT_L7_CAP_MAX;
		/* pos < ZT_L7_CAP_MAX already; the mask says so to the verifier */
		if (n && bpf_probe_read_user(dst + cap_bound(pos), len_bound(n), v.iov_base))
			break;
		pos += n;
	}
	return pos;
}

static __always_inline void read_peer(struct zt_l7_ev *e, const void *uaddr)
{
	struct sockaddr_in6 sa;

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), uaddr))
		return;
	if (sa.sin6_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&sa;
		e->peer_family = 4;
		e->peer_port = bpf_ntohs(s4->sin_port);
		map_v4(e->peer_addr, s4->sin_addr.s_addr);
	} else if (sa.sin6_family == AF_INET6) {
		e->peer_family = 6;
		e->peer_port = bpf_ntohs(sa.sin6_port);
		__builtin_memcpy(e->peer_addr, &sa.sin6_addr, 16);
	}
}

/* The element of the mmsg vector at vec (vlen elements) that this message
 * of `len` bytes on socket `cookie` is; NULL when it cannot be told.
 * again: the same message asked a second time (a longer copy after a
 * claim), the position stays. */
static __always_inline const struct user_msghdr *mmsg_element(struct task_struct *task, __u64 vec, __u64 vlen,
							      __u64 cookie, __u32 len, int again)
{
	struct mmsg_pos *st = bpf_task_storage_get(&l7_mmsg, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	const struct mmsghdr *v = (const struct mmsghdr *)vec;
	__u32 idx = 0, written;

	if (!st)
		return vlen == 1 ? &v->msg_hdr : 0;
	if (again)
		return st->vec == vec && st->next ? &v[st->next - 1].msg_hdr : 0;
	if (st->vec == vec && st->cookie == cookie && st->next && st->next < vlen &&
	    !bpf_probe_read_user(&written, sizeof(written), &v[st->next - 1].msg_len) && written == st->last_len)
		idx = st->next;
	st->vec = vec;
	st->cookie = cookie;
	st->next = idx + 1;
	st->last_len = len;
	return &v[idx].msg_hdr;
}

/*
 * The message's bytes from the syscall's arguments. Returns bytes copied;
 * sets ZT_L7F_UNKNOWN_BUF when the buffer cannot be located (sendfile,
 * splice, io_uring).
 */
static __always_inline __u32 copy_payload(struct zt_l7_ev *e, __u8 *dst, __u32 want, int send, __u64 cookie,
					  __u32 len, int again)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct user_msghdr mh;
	const struct user_msghdr *umh;
	long nr;

	if (!regs)
		goto nobuf;
	nr = regs->orig_ax;
	switch (nr) {
	case NR_read:
	case NR_write:
	case NR_recvfrom:
	case NR_sendto: {
		if (nr == NR_sendto)
			read_peer(e, (const void *)regs->r8);
		if (want > ZT_L7_CAP_MAX)
			want = ZT_L7_CAP_MAX;
		if (want && bpf_probe_read_user(dst, len_bound(want), (const void *)regs->si))
			goto nobuf;
		return want;
	}
	case NR_readv:
	case NR_writev:
		return copy_iov(dst, (const struct iovec *)regs->si, regs->dx, want);
	case NR_recvmsg:
	case NR_sendmsg:
		umh = (const struct user_msghdr *)regs->si;
		break;
	case NR_recvmmsg:
	case NR_sendmmsg:
		umh = mmsg_element(task, regs->si, regs->dx, cookie, len, again);
		if (!umh)
			goto nobuf;
		break;
	default:
		goto nobuf;
	}
	if (bpf_probe_read_user(&mh, sizeof(mh), umh))
		goto nobuf;
	if (send)
		read_peer(e, mh.msg_name);
	return copy_iov(dst, mh.msg_iov, mh.msg_iovlen, want);
nobuf:
	e->flags |= ZT_L7F_UNKNOWN_BUF;
	stat_add(ZT_L7_ST_NOBUF, 1);
	return 0;
}

struct rule_ctx {
	__u32 len;
	__u8 dir, transport;
	__u16 lport, rport;
	int hit;
};

/* One rule against the message in the scratch record (bpf_loop body). */
static long rule_step(__u32 i, void *arg)
{
	struct rule_ctx *rc = arg;
	__u32 zero = 0, k = i;
	struct scratch *s = bpf_map_lookup_elem(&l7_scratch, &zero);
	struct zt_l7_rule *r = bpf_map_lookup_elem(&l7_rules, &k);

	if (!s || !r)
		return 1;
	if (zt_l7_rule_match(r, s->raw + sizeof(struct zt_l7_ev), rc->len, rc->dir, rc->transport, rc->lport,
			     rc->rport, 0)) {
		rc->hit = (int)i;
		return 1;
	}
	return 0;
}

static __always_inline int on_msg(const struct sock *sk, int ret, int dir)
{
	__u64 id = bpf_get_current_pid_tgid(), cookie, off;
	__u32 zero = 0, tgid = id >> 32, want, cap = 0;
	struct zt_l7_conn *c, nc;
	struct scratch *s;
	__u16 family, proto;
	__u8 transport, flags = 0, wake = 0;

	if (ret < 0) {
		/* a vector call that stops early ends with a failed element */
		struct mmsg_pos *st = bpf_task_storage_get(&l7_mmsg, bpf_get_current_task_btf(), 0, 0);
		if (st)
			st->vec = 0;
		return 0;
	}
	if (!ret || tgid == self_tgid)
		return 0;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	proto = sk->sk_protocol;
	if (proto == IPPROTO_TCP)
		transport = ZT_L7_TCP;
	else if (proto == IPPROTO_UDP)
		transport = ZT_L7_UDP;
	else
		return 0;

	c = bpf_sk_storage_get(&l7_conns, (void *)sk, 0, 0);
	if (!c) {
		__builtin_memset(&nc, 0, sizeof(nc));
		nc.tgid = tgid;
		nc.transport = transport;
		c = bpf_sk_storage_get(&l7_conns, (void *)sk, &nc, BPF_SK_STORAGE_GET_F_CREATE);
		if (!c) {
			stat_add(ZT_L7_ST_CONNS_FULL, 1);
			return 0;
		}
		flags |= ZT_L7F_NEW;
	}
	if (c->policy == ZT_L7_IGNORED)
		return 0; /* the common case for connections nobody parses */
	cookie = bpf_get_socket_cookie((void *)sk);
	off = __sync_fetch_and_add(&c->off[dir & 1], (__u64)ret);

	/* a verdict from user space: a claim by detect(), or stop */
	__u32 vg = verdict_gen;
	if (c->policy == ZT_L7_UNKNOWN || c->vgen != vg) {
		c->vgen = vg;
		struct zt_l7_verdict *v = bpf_map_lookup_elem(&l7_verdicts, &cookie);
		if (v) {
			c->proto = v->proto;
			c->capture = v->capture;
			c->policy = v->policy;
			bpf_map_delete_elem(&l7_verdicts, &cookie);
			if (c->policy == ZT_L7_IGNORED)
				return 0;
		}
	}

	if (c->policy == ZT_L7_CLAIMED) {
		want = c->capture;
	} else {
		if (c->probes >= ZT_L7_PROBE_MSGS)
			return 0; /* user space is deciding */
		/* user space drains on a timer; a connection still undecided at
		 * this many messages is chatty: wake it, so detect()'s verdict
		 * lands before the kernel stops sending (and loses messages) */
		if (++c->probes == ZT_L7_PROBE_WAKE)
			wake = 1;
		want = probe_capture;
	}
	if (want > (__u32)ret)
		want = ret;
	if (want > ZT_L7_CAP_MAX)
		want = ZT_L7_CAP_MAX;

	s = bpf_map_lookup_elem(&l7_scratch, &zero);
	if (!s)
		return 0;
	struct zt_l7_ev *e = (struct zt_l7_ev *)s->raw;
	__u8 *data = s->raw + sizeof(struct zt_l7_ev);
	__builtin_memset(e, 0, sizeof(*e));
	if (c->policy == ZT_L7_UNKNOWN)
		__builtin_memset(data, 0, ZT_L7_WINDOW);
	cap = copy_payload(e, data, want, dir == 0, cookie, (__u32)ret, 0);

	if (c->policy == ZT_L7_UNKNOWN && cap) {
		/* the detection rules, in the kernel: a match claims at once */
		struct rule_ctx rc = {
			.len = (__u32)ret, .dir = (__u8)dir, .transport = transport,
			.lport = sk->__sk_common.skc_num, .rport = bpf_ntohs(sk->__sk_common.skc_dport),
			.hit = -1,
		};
		/* an unconnected UDP socket: the peer of this datagram (sendto) */
		if (!rc.rport)
			rc.rport = e->peer_port;
		__u32 n = nrules;
		if (n > ZT_L7_MAX_RULES)
			n = ZT_L7_MAX_RULES;
		if (n)
			bpf_loop(n, rule_step, &rc, 0);
		if (rc.hit >= 0) {
			__u32 k = (__u32)rc.hit;
			struct zt_l7_rule *r = bpf_map_lookup_elem(&l7_rules, &k);
			if (r) {
				e->proto = r->proto;
				if (r->verdict == 1) {
					c->proto = r->proto;
					c->capture = r->capture;
					c->policy = ZT_L7_CLAIMED;
					flags |= ZT_L7F_CLAIMED_NOW;
					/* the rest of this message, up to the claim's capture */
					if (r->capture > cap && cap == want && (__u32)ret > cap) {
						__u32 more = r->capture < (__u32)ret ? r->capture : (__u32)ret;
						if (more > ZT_L7_CAP_MAX)
							more = ZT_L7_CAP_MAX;
						cap = copy_payload(e, data, more, dir == 0, cookie, (__u32)ret, 1);
					}
				} else {
					flags |= ZT_L7F_ASK;
				}
			}
		}
	}
	if (c->policy == ZT_L7_CLAIMED)
		e->proto = c->proto;

	e->cookie = cookie;
	e->ts_ns = bpf_ktime_get_ns();
	e->offset = off;
	e->tgid = tgid;
	e->len = ret;
	e->cap_len = cap;
	e->type = ZT_L7_DATA;
	e->dir = dir;
	e->flags |= flags;
	e->transport = transport;
	if (c->ntuple < ZT_L7_TUPLE_MSGS || e->ts_ns - c->tuple_ts > ZT_L7_TUPLE_IDLE_NS) {
		fill_tuple(e, sk, family);
		e->flags |= ZT_L7F_TUPLE;
		c->tuple_ts = e->ts_ns;
		if (c->ntuple < 255)
			c->ntuple++;
	}

	/* cap <= ZT_L7_CAP_MAX; the mask (which keeps it) bounds the size
	 * within the scratch record for the verifier */
	__u64 size = cap;
	asm volatile("%0 &= 0x1fff" : "+r"(size));
	size += sizeof(struct zt_l7_ev);
	__u64 wf = wake ? BPF_RB_FORCE_WAKEUP : zt_rb_wake_before(&l7_rb, size, WAKEUP_SHIFT);
	if (bpf_ringbuf_output(&l7_rb, s, size, wf)) {
		stat_add(ZT_L7_ST_RING_LOST, 1);
		return 0;
	}
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(zt_l7_send, struct sock *sk, int ret, int flags)
{
	return on_msg(sk, ret, 0);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(zt_l7_recv, struct sock *sk, int ret, int flags)
{
	if (flags & MSG_PEEK)
		return 0;
	return on_msg(sk, ret, 1);
}

/* A TCP socket reached CLOSE: tell user space after its last data event. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(zt_l7_state, const struct sock *sk, const int old, const int new)
{
	if (new != TCP_CLOSE || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	struct zt_l7_conn *c = bpf_sk_storage_get(&l7_conns, (void *)sk, 0, 0);
	if (!c)
		return 0;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	if (c->policy == ZT_L7_CLAIMED || c->probes) {
		struct zt_l7_ev *e = bpf_ringbuf_reserve(&l7_rb, sizeof(*e), 0);
		if (e) {
			__builtin_memset(e, 0, sizeof(*e));
			e->cookie = cookie;
			e->ts_ns = bpf_ktime_get_ns();
			e->type = ZT_L7_CLOSE;
			e->proto = c->proto;
			e->tgid = c->tgid;
			e->transport = ZT_L7_TCP;
			bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
		} else {
			stat_add(ZT_L7_ST_RING_LOST, 1);
		}
	}
	bpf_sk_storage_delete(&l7_conns, (void *)sk);
	return 0;
}
