// SPDX-License-Identifier: GPL-2.0
/*
 * TCP connection lifecycle: connects (with their duration and outcome),
 * accepts, closes with the socket's final counters, listen sockets, and a
 * per-connection retransmit count. Tracepoints only.
 *
 * Cost on the traced application: one map update/delete per connect()
 * syscall, one bounded fd-table walk per accept, one event per connection
 * state that matters (never per packet, read or write), and one map lookup
 * per retransmitted skb. Every state change of every TCP socket runs
 * zt_tcp_state; the protocol test comes first, and only transitions to
 * SYN_SENT, ESTABLISHED-from-SYN_SENT, LISTEN and CLOSE touch a map.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "tcp_event.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
/* Wake the reader only once this much is queued; otherwise it drains on its timer. */
#define WAKEUP_BYTES (64 * 1024)

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

struct connect_arg {
	__u64 ts;
	__s32 fd;
	__u32 pad;
};

/* connect() in progress per thread; LRU so that a thread killed inside the
 * syscall cannot leak an entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct connect_arg);
} connecting SEC(".maps");

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
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&tcp_rb, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline __u32 sk_netns(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline void map_v4(__u8 *dst, const __u8 *v4)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, v4, 4);
}

/*
 * The tracepoint already holds the 4-tuple: no socket reads needed. The
 * fields are loaded as scalars at constant offsets, because the verifier
 * refuses context pointers that the compiler has offset by a variable.
 */
struct tp_tuple {
	__u64 s6[2], d6[2];
	__u32 s4, d4;
	__u16 sport, dport, family;
};

static __always_inline void tp_read(struct tp_tuple *t, const struct trace_event_raw_inet_sock_set_state *ctx)
{
	t->family = ctx->family;
	t->sport = ctx->sport;
	t->dport = ctx->dport;
	t->s4 = *(const __u32 *)ctx->saddr;
	t->d4 = *(const __u32 *)ctx->daddr;
	t->s6[0] = *(const __u64 *)&ctx->saddr_v6[0];
	t->s6[1] = *(const __u64 *)&ctx->saddr_v6[8];
	t->d6[0] = *(const __u64 *)&ctx->daddr_v6[0];
	t->d6[1] = *(const __u64 *)&ctx->daddr_v6[8];
}

static __always_inline void tp_addrs(__u8 *saddr, __u8 *daddr, const struct tp_tuple *t)
{
	if (t->family == AF_INET) {
		map_v4(saddr, (const __u8 *)&t->s4);
		map_v4(daddr, (const __u8 *)&t->d4);
	} else {
		__builtin_memcpy(saddr, t->s6, 16);
		__builtin_memcpy(daddr, t->d6, 16);
	}
}

static __always_inline void tuple_from_tp(struct zt_tcp_ev *e, const struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct tp_tuple t;
	tp_read(&t, ctx);
	tp_addrs(e->saddr, e->daddr, &t);
	e->sport = t.sport;
	e->dport = t.dport;
}

static __always_inline void tuple_from_sk(struct zt_tcp_ev *e, struct sock *sk, __u16 family)
{
	if (family == AF_INET) {
		__be32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 b = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		map_v4(e->saddr, (const __u8 *)&a);
		map_v4(e->daddr, (const __u8 *)&b);
	} else {
		/* whole 16 bytes: BPF_CORE_READ_INTO would size the read by an element */
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline void read_counters(struct zt_tcp_ev *e, struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	e->bytes_received = BPF_CORE_READ(tp, bytes_received);
	e->total_retrans = BPF_CORE_READ(tp, total_retrans);
	e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	e->rttvar_us = BPF_CORE_READ(tp, mdev_us) >> 2;
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
static __always_inline __u8 fin_flags(struct sock *sk, int old)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u8 f = 0;

	if (old == TCP_FIN_WAIT1 || old == TCP_FIN_WAIT2 || old == TCP_CLOSING || old == TCP_LAST_ACK) {
		if (BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
			f |= ZT_TCPF_FIN_ACKED;
	}
	if (old == TCP_CLOSE_WAIT || old == TCP_LAST_ACK || old == TCP_CLOSING)
		f |= ZT_TCPF_FIN_RCVD;
	else if (BPF_CORE_READ(sk, __sk_common.skc_flags) & (1ull << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
		f |= ZT_TCPF_FIN_RCVD;
	return f;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int zt_tcp_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct connect_arg a = { .ts = bpf_ktime_get_ns(), .fd = (__s32)ctx->args[0] };
	bpf_map_update_elem(&connecting, &id, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int zt_tcp_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&connecting, &id);
	return 0;
}

/* CLOSE -> SYN_SENT runs in the connecting task: remember who it is. */
static __always_inline void on_syn_sent(struct sock *sk, __u64 skaddr)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	struct connect_arg *a = bpf_map_lookup_elem(&connecting, &id);
	struct zt_tcp_conn c = {
		.gen = now,
		.start_ns = a ? a->ts : now,
		.cgroup_id = bpf_get_current_cgroup_id(),
		.tgid = id >> 32,
		.fd = a ? a->fd : -1,
		.netns = sk_netns(sk),
		.role = ZT_TCP_CLIENT,
	};
	if (bpf_map_update_elem(&conns, &skaddr, &c, BPF_ANY))
		count(ZT_TCP_DROP_CONNS);
}

static __always_inline void on_listen(const struct trace_event_raw_inet_sock_set_state *ctx, struct sock *sk,
				      __u8 type)
{
	struct zt_tcp_ev *e = reserve(type);
	if (!e)
		return;
	tuple_from_tp(e, ctx);
	e->skaddr = (__u64)ctx->skaddr;
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->netns = sk_netns(sk);
	e->cgroup_id = bpf_get_current_cgroup_id();
	submit(e);
}

/* An untracked socket closed: report it only if user space adopted it. */
static __always_inline void on_untracked_close(const struct trace_event_raw_inet_sock_set_state *ctx,
					       struct sock *sk, int old)
{
	struct zt_tcp_tuple k = { .netns = sk_netns(sk) };
	struct zt_tcp_adopted *ad;
	struct zt_tcp_ev *e;
	struct tp_tuple t;

	tp_read(&t, ctx);
	tp_addrs(k.saddr, k.daddr, &t);
	k.sport = t.sport;
	k.dport = t.dport;
	ad = bpf_map_lookup_elem(&adopt, &k);
	if (!ad)
		return;
	e = reserve(ZT_TCP_CLOSE);
	if (e) {
		tuple_from_tp(e, ctx);
		e->gen = ad->gen;
		e->tgid = ad->tgid;
		e->role = ad->role;
		e->netns = k.netns;
		e->oldstate = old;
		e->flags = fin_flags(sk, old) | ZT_TCPF_ADOPTED;
		read_counters(e, sk);
		submit(e);
	}
	bpf_map_delete_elem(&adopt, &k);
}

SEC("tracepoint/sock/inet_sock_set_state")
int zt_tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	int old = ctx->oldstate, new = ctx->newstate;
	__u64 skaddr = (__u64)ctx->skaddr;
	struct sock *sk = (struct sock *)ctx->skaddr;
	struct zt_tcp_conn *c;
	struct zt_tcp_ev *e;

	if (old == TCP_CLOSE && new == TCP_SYN_SENT) {
		on_syn_sent(sk, skaddr);
		return 0;
	}
	if (new == TCP_LISTEN && old == TCP_CLOSE) {
		on_listen(ctx, sk, ZT_TCP_LISTEN);
		return 0;
	}
	if (old == TCP_LISTEN && new == TCP_CLOSE) {
		on_listen(ctx, sk, ZT_TCP_UNLISTEN);
		return 0;
	}
	if (new != TCP_CLOSE && !(old == TCP_SYN_SENT && new == TCP_ESTABLISHED))
		return 0;

	c = bpf_map_lookup_elem(&conns, &skaddr);
	if (!c) {
		if (new == TCP_CLOSE && old != TCP_SYN_SENT && old != TCP_SYN_RECV)
			on_untracked_close(ctx, sk, old);
		return 0;
	}
	if (new == TCP_ESTABLISHED) {
		e = reserve(ZT_TCP_CONNECT_OK);
		if (!e)
			return 0;
		from_conn(e, skaddr, c);
		tuple_from_tp(e, ctx);
		e->duration_ns = e->ts_ns - c->start_ns;
		/* the SYN just acknowledged: user space's baseline for payload */
		e->bytes_acked = BPF_CORE_READ((struct tcp_sock *)sk, bytes_acked);
		submit(e);
		return 0;
	}
	/* -> CLOSE */
	e = reserve(old == TCP_SYN_SENT ? ZT_TCP_CONNECT_FAIL : ZT_TCP_CLOSE);
	if (e) {
		from_conn(e, skaddr, c);
		tuple_from_tp(e, ctx);
		e->oldstate = old;
		if (old == TCP_SYN_SENT) {
			e->duration_ns = e->ts_ns - c->start_ns;
			e->error = BPF_CORE_READ(sk, sk_err);
		} else {
			e->flags = fin_flags(sk, old);
			read_counters(e, sk);
		}
		submit(e);
	}
	bpf_map_delete_elem(&conns, &skaddr);
	return 0;
}

/* Bounded CO-RE walk: current->files->fdt->fd[fd]->private_data->sk. */
static __always_inline struct sock *sock_of_fd(int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *so;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	if (!so)
		return NULL;
	return BPF_CORE_READ(so, sk);
}

static __always_inline int on_accept(long ret)
{
	if (ret < 0)
		return 0;
	struct sock *sk = sock_of_fd((int)ret);
	if (!sk)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if ((family != AF_INET && family != AF_INET6) || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    BPF_CORE_READ(sk, sk_type) != SOCK_STREAM)
		return 0;
	/* Reset while it waited in the accept queue: its CLOSE is already past. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)
		return 0;

	__u64 id = bpf_get_current_pid_tgid(), skaddr = (__u64)sk, now = bpf_ktime_get_ns();
	struct zt_tcp_conn c = {
		.gen = now,
		.start_ns = now,
		.cgroup_id = bpf_get_current_cgroup_id(),
		.tgid = id >> 32,
		.fd = (__s32)ret,
		.netns = sk_netns(sk),
		.role = ZT_TCP_SERVER,
	};
	if (bpf_map_update_elem(&conns, &skaddr, &c, BPF_ANY)) {
		count(ZT_TCP_DROP_CONNS);
		return 0;
	}
	struct zt_tcp_ev *e = reserve(ZT_TCP_ACCEPT);
	if (!e)
		return 0;
	from_conn(e, skaddr, &c);
	tuple_from_sk(e, sk, family);
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int zt_tcp_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int zt_tcp_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

/* Per retransmitted segment: one lookup and an atomic add, no event. */
SEC("tracepoint/tcp/tcp_retransmit_skb")
int zt_tcp_retransmit(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	__u64 skaddr = (__u64)ctx->skaddr;
	struct zt_tcp_conn *c = bpf_map_lookup_elem(&conns, &skaddr);
	if (c)
		__sync_fetch_and_add(&c->retrans, 1);
	return 0;
}
