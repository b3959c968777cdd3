// SPDX-License-Identifier: GPL-2.0
/*
 * TCP connection lifecycle: connects (with their duration and outcome),
 * server-side connections, closes with the socket's final counters, listen
 * sockets, and a per-connection retransmit count.
 *
 * Two BTF tracepoints and nothing else: sock/inet_sock_set_state and
 * tcp/tcp_retransmit_skb, as tp_btf programs (the kernel calls them with
 * its own arguments; no trace record is built and no syscall is hooked).
 * Hooking connect()/accept() syscalls would send every syscall of every
 * task through the kernel's syscall-tracing slow path and cost an fd-table
 * walk per accept; the state changes already say who and when:
 *  - CLOSE -> SYN_SENT runs in the connecting task (tgid, cgroup, start);
 *  - SYN_RECV -> ESTABLISHED is a server-side connection complete; user
 *    space gives it to the container owning the listening socket.
 *
 * Cost on the traced application: every state change of every socket runs
 * zt_tcp_state (a few loads and compares); only SYN_SENT, ESTABLISHED,
 * LISTEN and CLOSE transitions touch a map or the ring. Per retransmitted
 * skb: one map lookup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "tcp_event.h"
#include "ringwake.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
/* Wake the reader only once this much is queued; otherwise it drains on its timer. */
#define WAKEUP_SHIFT 16 /* a wakeup per 64 KiB of backlog growth */

/* include/net/tcp_states.h */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_FIN_WAIT2 5
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LAST_ACK 9
#define TCP_LISTEN 10
#define TCP_CLOSING 11

char LICENSE[] SEC("license") = "GPL";

/* Sized for connection churn: at ~150 k events/s it holds over 50 ms of
 * events between two timer drains even if the watermark wakeup is late. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 * 1024 * 1024);
} tcp_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ZT_TCP_DROP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} tcp_drops SEC(".maps");

/* Tracked sockets. Preallocated (about 15 MiB of kernel memory): inserts
 * and deletes then cost the traced application ~30% less than with
 * BPF_F_NO_PREALLOC, measured on the accept and state-change paths. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_TCP_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct zt_tcp_conn);
} conns SEC(".maps");

/* Connections from before the agent, written by user space at start-up. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_TCP_MAX_ADOPTED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct zt_tcp_tuple);
	__type(value, struct zt_tcp_adopted);
} adopt SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&tcp_drops, &slot);
	if (v)
		*v += 1;
}

static __always_inline struct zt_tcp_ev *reserve(__u8 type)
{
	struct zt_tcp_ev *e = bpf_ringbuf_reserve(&tcp_rb, sizeof(*e), 0);
	if (!e) {
		count(ZT_TCP_DROP_RING);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->fd = -1;
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

static __always_inline void submit(struct zt_tcp_ev *e)
{
	bpf_ringbuf_submit(e, zt_rb_wake_reserved(&tcp_rb, sizeof(*e), WAKEUP_SHIFT));
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return sk->__sk_common.skc_net.net->ns.inum;
}

static __always_inline void map_v4(__u8 *dst, const __u8 *v4)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, v4, 4);
}

static __always_inline void tuple_from_sk(struct zt_tcp_ev *e, const struct sock *sk)
{
	if (sk->__sk_common.skc_family == AF_INET) {
		__be32 a = sk->__sk_common.skc_rcv_saddr, b = sk->__sk_common.skc_daddr;
		map_v4(e->saddr, (const __u8 *)&a);
		map_v4(e->daddr, (const __u8 *)&b);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	e->sport = sk->__sk_common.skc_num;
	e->dport = bpf_ntohs(sk->__sk_common.skc_dport);
}

static __always_inline void read_counters(struct zt_tcp_ev *e, const struct tcp_sock *tp)
{
	e->bytes_acked = tp->bytes_acked;
	e->bytes_received = tp->bytes_received;
	e->total_retrans = tp->total_retrans;
	e->srtt_us = tp->srtt_us >> 3;
	e->rttvar_us = tp->mdev_us >> 2;
}

static __always_inline void from_conn(struct zt_tcp_ev *e, __u64 skaddr, const struct zt_tcp_conn *c)
{
	e->skaddr = skaddr;
	e->gen = c->gen;
	e->tgid = c->tgid;
	e->fd = c->fd;
	e->role = c->role;
	e->netns = c->netns;
	e->cgroup_id = c->cgroup_id;
	e->retrans_events = c->retrans;
}

/*
 * bytes_acked counts our FIN once it is acknowledged, and bytes_received
 * the peer's FIN: user space subtracts them to report payload bytes. A FIN
 * was queued in FIN_WAIT1/2, CLOSING and LAST_ACK; it is acknowledged when
 * snd_una has caught up with write_seq (which includes it). The peer's FIN
 * sets SOCK_DONE (tcp_fin), and is implied by the states only it leads to.
 */
static __always_inline __u8 fin_flags(const struct sock *sk, const struct tcp_sock *tp, int old)
{
	__u8 f = 0;

	if (old == TCP_FIN_WAIT1 || old == TCP_FIN_WAIT2 || old == TCP_CLOSING || old == TCP_LAST_ACK) {
		if (tp->snd_una == tp->write_seq)
			f |= ZT_TCPF_FIN_ACKED;
	}
	if (old == TCP_CLOSE_WAIT || old == TCP_LAST_ACK || old == TCP_CLOSING)
		f |= ZT_TCPF_FIN_RCVD;
	else if (sk->__sk_common.skc_flags & (1ull << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
		f |= ZT_TCPF_FIN_RCVD;
	return f;
}

/* CLOSE -> SYN_SENT runs in the connecting task: remember who it is. */
static __always_inline void on_syn_sent(const struct sock *sk, __u64 skaddr)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	struct zt_tcp_conn c = {
		.gen = now,
		.start_ns = now,
		.cgroup_id = bpf_get_current_cgroup_id(),
		.tgid = id >> 32,
		.fd = -1,
		.netns = sk_netns(sk),
		.role = ZT_TCP_CLIENT,
	};
	if (bpf_map_update_elem(&conns, &skaddr, &c, BPF_ANY))
		count(ZT_TCP_DROP_CONNS);
}

/* SYN_RECV -> ESTABLISHED of a passive open: a server-side connection.
 * Softirq context: the owner is the listening socket's, found by user space. */
static __always_inline void on_server_established(const struct sock *sk, __u64 skaddr, const struct tcp_sock *tp)
{
	__u64 now = bpf_ktime_get_ns();
	struct zt_tcp_conn c = {
		.gen = now,
		.start_ns = now,
		.fd = -1,
		.netns = sk_netns(sk),
		.role = ZT_TCP_SERVER,
	};
	if (bpf_map_update_elem(&conns, &skaddr, &c, BPF_ANY)) {
		count(ZT_TCP_DROP_CONNS);
		return;
	}
	struct zt_tcp_ev *e = reserve(ZT_TCP_ACCEPT);
	if (!e)
		return;
	from_conn(e, skaddr, &c);
	tuple_from_sk(e, sk);
	e->bytes_acked = tp->bytes_acked;
	submit(e);
}

static __always_inline void on_listen(const struct sock *sk, __u8 type)
{
	struct zt_tcp_ev *e = reserve(type);
	if (!e)
		return;
	tuple_from_sk(e, sk);
	e->skaddr = (__u64)sk;
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->netns = sk_netns(sk);
	e->cgroup_id = bpf_get_current_cgroup_id();
	submit(e);
}

/* Set by user space while it has adopted connections in `adopt`. */
__u32 adopt_live SEC(".bss");

/* An untracked socket closed: report it only if user space adopted it. */
static __always_inline void on_untracked_close(const struct sock *sk, const struct tcp_sock *tp, int old)
{
	struct zt_tcp_tuple k = { .netns = sk_netns(sk) };
	struct zt_tcp_adopted *ad;
	struct zt_tcp_ev *e;

	e = reserve(ZT_TCP_CLOSE); /* scratch for the tuple; discarded when not adopted */
	if (!e)
		return;
	tuple_from_sk(e, sk);
	__builtin_memcpy(k.saddr, e->saddr, 16);
	__builtin_memcpy(k.daddr, e->daddr, 16);
	k.sport = e->sport;
	k.dport = e->dport;
	ad = bpf_map_lookup_elem(&adopt, &k);
	if (!ad) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return;
	}
	e->gen = ad->gen;
	e->tgid = ad->tgid;
	e->role = ad->role;
	e->netns = k.netns;
	e->oldstate = old;
	e->flags = fin_flags(sk, tp, old) | ZT_TCPF_ADOPTED;
	read_counters(e, tp);
	submit(e);
	bpf_map_delete_elem(&adopt, &k);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(zt_tcp_state, const struct sock *sk, const int old, const int new)
{
	__u64 skaddr = (__u64)sk;
	struct zt_tcp_conn *c;
	struct zt_tcp_ev *e;

	/* the common case first: a transition nobody here cares about */
	if (new != TCP_CLOSE && new != TCP_ESTABLISHED && new != TCP_SYN_SENT && new != TCP_LISTEN)
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;

	if (new == TCP_SYN_SENT) {
		if (old == TCP_CLOSE)
			on_syn_sent(sk, skaddr);
		return 0;
	}
	if (new == TCP_LISTEN) {
		if (old == TCP_CLOSE)
			on_listen(sk, ZT_TCP_LISTEN);
		return 0;
	}
	if (old == TCP_LISTEN) { /* -> CLOSE */
		on_listen(sk, ZT_TCP_UNLISTEN);
		return 0;
	}
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return 0;
	if (new == TCP_ESTABLISHED) {
		if (old == TCP_SYN_RECV) {
			on_server_established(sk, skaddr, tp);
			return 0;
		}
		if (old != TCP_SYN_SENT)
			return 0;
	}

	c = bpf_map_lookup_elem(&conns, &skaddr);
	if (!c) {
		if (new == TCP_CLOSE && old != TCP_SYN_SENT && old != TCP_SYN_RECV && adopt_live)
			on_untracked_close(sk, tp, old);
		return 0;
	}
	if (new == TCP_ESTABLISHED) {
		e = reserve(ZT_TCP_CONNECT_OK);
		if (!e)
			return 0;
		from_conn(e, skaddr, c);
		tuple_from_sk(e, sk);
		e->duration_ns = e->ts_ns - c->start_ns;
		/* the SYN just acknowledged: user space's baseline for payload */
		e->bytes_acked = tp->bytes_acked;
		submit(e);
		return 0;
	}
	/* -> CLOSE */
	e = reserve(old == TCP_SYN_SENT ? ZT_TCP_CONNECT_FAIL : ZT_TCP_CLOSE);
	if (e) {
		from_conn(e, skaddr, c);
		tuple_from_sk(e, sk);
		e->oldstate = old;
		if (old == TCP_SYN_SENT) {
			e->duration_ns = e->ts_ns - c->start_ns;
			e->error = sk->sk_err;
		} else {
			e->flags = fin_flags(sk, tp, old);
			read_counters(e, tp);
		}
		submit(e);
	}
	bpf_map_delete_elem(&conns, &skaddr);
	return 0;
}

/* Per retransmitted segment: one lookup and an atomic add, no event. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(zt_tcp_retransmit, const struct sock *sk)
{
	__u64 skaddr = (__u64)sk;
	struct zt_tcp_conn *c = bpf_map_lookup_elem(&conns, &skaddr);
	if (c)
		__sync_fetch_and_add(&c->retrans, 1);
	return 0;
}
