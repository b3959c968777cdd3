/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where an outbound TCP connection really goes: the conntrack (NAT) entry
 * of its original tuple, asked over ctnetlink (NETLINK_NETFILTER,
 * IPCTNL_MSG_CT_GET). A connection to a Service VIP, a docker published
 * port or an nft dnat target has an entry whose reply tuple comes from the
 * backend; that backend's ip:port is the connection's actual destination.
 *
 * Three layers:
 * - the wire format (ct_build_*, ct_parse): pure functions over buffers,
 *   exposed for the unit tests;
 * - struct ct_sock: one ctnetlink socket, in the network namespace it was
 *   created in, with short timeouts;
 * - struct conntrack: the resolver the TCP table calls once per new
 *   outbound connection. It decides which namespaces to ask (the socket's
 *   own, then the agent's), skips those where conntrack tracks nothing, and
 *   counts every outcome in zerotap_conntrack_lookups_total{result}.
 *
 * Everything runs on the dispatch thread; nothing here is thread-safe.
 */
#ifndef ZT_CORE_CONNTRACK_H
#define ZT_CORE_CONNTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "sockdiag.h" /* struct zt_addr */

struct registry;

/* ------------------------------------------------------------ wire format */

/* One direction of a connection. IPv4 is held IPv4-mapped, as everywhere in
 * the agent; the message family follows the addresses. */
struct ct_tuple {
	struct zt_addr src, dst;
	uint16_t sport, dport; /* host byte order */
	uint8_t proto;         /* IPPROTO_TCP, ... */
};

/* What a reply datagram said about the request with our sequence number. */
struct ct_answer {
	uint8_t kind;          /* CT_ANS_ENTRY or CT_ANS_STATS */
	struct ct_tuple orig;  /* CT_ANS_ENTRY: the entry's original direction */
	struct ct_tuple reply; /* CT_ANS_ENTRY: its reply direction */
	uint32_t entries;      /* CT_ANS_STATS: entries in the namespace's table */
};
#define CT_ANS_ENTRY 1
#define CT_ANS_STATS 2

/* Request sizes never exceed this (a v6 tuple is 100 bytes). */
#define CT_REQ_MAX 128

/* IPCTNL_MSG_CT_GET for the entry whose original tuple is `orig`. Returns
 * the message length, -EINVAL (mixed address families), or -ENOSPC. */
int ct_build_get(void *buf, size_t len, uint32_t seq, const struct ct_tuple *orig);
/* IPCTNL_MSG_CT_GET_STATS: the namespace's global counters. */
int ct_build_stats(void *buf, size_t len, uint32_t seq);
/*
 * Parses one datagram. Returns 1 when it holds the answer to `seq` (*a is
 * filled), 0 when it holds nothing for `seq` (a late reply to an earlier
 * request), the kernel's -errno for `seq` (-ENOENT: no such entry), or
 * -EBADMSG when it is malformed. Reads through memcpy: any alignment.
 */
int ct_parse(const void *buf, size_t len, uint32_t seq, struct ct_answer *a);
/* 1 when the entry was NATed on the way out: its reply does not come from
 * the original destination. */
int ct_translated(const struct ct_answer *a);

/* ------------------------------------------------------------ the socket */

struct ct_sock;

/* A ctnetlink socket in the calling thread's network namespace. */
int ct_sock_open(struct ct_sock **out);
void ct_sock_close(struct ct_sock *cs);
/* The entry of original tuple `orig`: 0 (*a filled), -ENOENT when there is
 * none, -ETIMEDOUT, or another -errno. Never waits longer than
 * CT_SOCK_TIMEOUT_MS for the kernel. */
int ct_sock_get(struct ct_sock *cs, const struct ct_tuple *orig, struct ct_answer *a);
/* The number of entries in the socket namespace's conntrack table. */
int ct_sock_count(struct ct_sock *cs, uint32_t *entries);

#define CT_SOCK_TIMEOUT_MS 20

/* ---------------------------------------------------------- the resolver */

struct conntrack;

/* Registers zerotap_conntrack_* in reg. Must run on the thread that will
 * call conntrack_actual_dst (its namespace is "the agent's"). */
int conntrack_new(struct registry *reg, struct conntrack **out);
void conntrack_free(struct conntrack *ct);

/*
 * The actual destination of an outbound TCP connection from src:sport to
 * dst:dport, made by process tgid in network namespace netns, established
 * at ts_ns (CLOCK_MONOTONIC, as bpf_ktime_get_ns; 0 for a connection older
 * than the agent). Returns 1 and writes "ip:port" ("[v6]:port") into out
 * when a conntrack entry says the connection was DNATed: the reply tuple's
 * source. Otherwise returns 0 and leaves out alone (the actual destination
 * is dst:dport itself; the caller has it formatted already). ct may be
 * NULL (no lookups). Bounded: at most a few ctnetlink round trips, each
 * with a CT_SOCK_TIMEOUT_MS timeout.
 */
int conntrack_actual_dst(struct conntrack *ct, uint32_t netns, uint32_t tgid, uint64_t ts_ns,
			 const struct zt_addr *src, uint16_t sport, const struct zt_addr *dst, uint16_t dport,
			 char *out, size_t outlen);
/* The TCP table holds no connection in netns any more: its socket there is
 * closed at the next tick, so the agent does not keep a dead namespace. */
void conntrack_ns_release(struct conntrack *ct, uint32_t netns);
/* Periodic: exports the counters, closes released namespaces' sockets and
 * re-checks whether conntrack is loaded at all. */
void conntrack_tick(struct conntrack *ct);

#endif
