/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by core/tcp.c (events, connection table, traffic
 * accounting), core/tcp_peers.c (families, containers, peers, listeners,
 * gauges) and core/tcp_scan.c (sock_diag polls per network namespace,
 * start-up adoption). Not an interface: nothing else includes it.
 */
#ifndef ZT_CORE_TCP_INT_H
#define ZT_CORE_TCP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "conntrack.h"
#include "registry.h"
#include "sockdiag.h"
#include "tcp.h"
#include "tcp_event.h"

#define TCP_BUCKETS (1u << 16)     /* connection hash heads, per index */
#define TCP_CTR_BUCKETS 1024u
#define TCP_PEER_BUCKETS 4096u
#define TCP_MAX_TABLE 262144u       /* tracked + adopted connections */
#define TCP_OTHER "~other"
/* Full sockets of a connection (ESTABLISHED, FIN_WAIT1/2, CLOSE_WAIT,
 * LAST_ACK, CLOSING); TIME_WAIT ones are past their CLOSE event. */
#define TCP_LIVE_STATES ((1u << 1) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 11))

enum { PEER_OUT, PEER_IN };

enum tcp_family {
	M_CONNECTS, M_CONN_TIME, M_FAILED, M_ACTIVE, M_RETRANS, M_SENT, M_RCVD, M_LISTEN, M_LATENCY,
	M_IN_CONNECTS, M_IN_ACTIVE, M_IN_SENT, M_IN_RCVD, M_IN_RETRANS,
	M_RTT, M_RTTVAR, M_NET_BYTES, M_OVERFLOW,
	M_TABLE, M_UNTRACKED, M_POLL_SECONDS,
	M_N
};

/* A container with TCP activity. Label values are copied from the entity
 * table when the container is first seen. */
struct tcp_ctr {
	char *id, *app;
	size_t id_len, app_len;
	uint32_t conns, listeners;   /* references from the tables */
	uint32_t npeers[2];          /* non-overflow peers per direction */
	struct tcp_peer *peers;      /* this container's peers */
	char (*lat_ips)[48];         /* destination_ip series currently exported */
	size_t n_lat, cap_lat;
	struct tcp_ctr *next;
};

/*
 * One label set of a container: outbound, a = destination "ip:port", act =
 * actual_destination when NAT made it differ (core/conntrack.c), else ""
 * (it is then a), and b = the destination's ip; inbound, a = listen_addr
 * (local "ip:port"), act = "" and b = client ip. Past
 * max_peers_per_container a direction's new peers share one overflow peer
 * whose destination / client ip is "~other".
 */
struct tcp_peer {
	struct tcp_ctr *ctr;
	uint8_t dir, overflow, rtt_exported;
	char a[64], act[64], b[48];
	size_t alen, actlen, blen;
	uint32_t live;
	uint64_t last_active_ns;
	double rtt_sum, rttvar_sum; /* this poll's observations */
	uint32_t rtt_n;
	/* this peer's series (its labels never change), found once per
	 * family; net_bytes by the class of nb_cls, sent and received */
	struct registry_ref ref[M_IN_RETRANS + 1];
	struct registry_ref nb_ref[2];
	uint8_t nb_cls;
	struct tcp_peer *next_hash, *next_ctr;
};

/*
 * One connection. `sent`/`rcvd` are payload bytes on the socket's own
 * scale: the kernel's bytes_acked/bytes_received minus the SYN (acked_off)
 * and FINs. Whatever exceeds the last value seen is new traffic.
 * `last_acked`/`last_rcvd` are the raw counters of the last sock_diag
 * reading (see tcp_conn_observe).
 */
struct tcp_conn {
	uint64_t skaddr, gen;        /* identity; skaddr 0 for adopted connections */
	uint32_t netns, tgid;
	int32_t fd;
	uint8_t used, role, adopted, cls, misses, pad[3];
	uint16_t sport, dport;
	struct zt_addr saddr, daddr;
	uint64_t acked_off;
	uint64_t sent, rcvd;
	uint64_t last_acked, last_rcvd;
	uint32_t retrans;
	uint32_t seen;               /* poll round it was last dumped in */
	struct tcp_peer *peer;
	uint32_t next_id, next_tuple; /* hash chains: index + 1, 0 ends */
};

struct tcp_listener {
	uint64_t skaddr;             /* 0 when adopted at start-up */
	uint32_t netns, tgid;
	struct zt_addr addr;
	uint16_t port;
	char laddr[64];
	struct tcp_ctr *ctr;
	struct tcp_listener *next;
};

/* A network namespace holding tracked connections, and the sock_diag
 * socket opened inside it (sock_diag only sees its own namespace). */
struct tcp_ns {
	uint32_t inum, conns, tgid, dumped;
	struct sockdiag *sd;
};

struct tcp_dq {
	struct zt_tcp_ev ev;
	uint64_t since;
};

struct tcp_mod {
	struct agent *a;
	struct registry *reg;
	struct tcp_kernel k;
	struct netclass *nc;
	struct conntrack *ct;        /* NAT lookups for actual_destination */
	uint32_t max_peers;
	uint64_t poll_ns;
	zt_metric *m[M_N];

	struct tcp_conn *c;          /* slab, indices are stable, pointers are not */
	uint32_t cap, n, free_head;  /* free list through next_id */
	uint32_t *by_id, *by_tuple;

	struct tcp_ctr *ctrs[TCP_CTR_BUCKETS];
	struct tcp_peer *peers[TCP_PEER_BUCKETS];
	struct tcp_listener *listeners;

	struct tcp_dq *dq;           /* events waiting for their process */
	uint32_t dq_len;
	uint64_t horizon; /* see tcp_before_drain */

	struct tcp_ns *ns;
	size_t nns, cap_ns;
	int self_ns_fd;
	uint32_t self_ns;

	uint32_t round;
	uint64_t next_adopt_gen;
	uint64_t poll_timer, start_timer;
	uint64_t untracked[6];       /* see tcp.c: untracked_reason[] */
};

enum { UT_TABLE_FULL, UT_UNATTRIBUTED, UT_EXPIRED, UT_ADOPT_FULL, UT_KERNEL_FULL, UT_NO_LISTENER };

static inline uint32_t tcp_fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* tcp_peers.c */
int tcp_register_families(struct tcp_mod *t);
/* The container of a process (from the entity table), or NULL. */
struct tcp_ctr *tcp_attribute(struct tcp_mod *t, uint32_t tgid);
void tcp_ctr_lv(const struct tcp_ctr *c, struct zt_str *lv);
/* Label values: outbound {id, app, dest, actual dest}, inbound {id, app, listen, client}. */
void tcp_peer_lv(const struct tcp_peer *p, struct zt_str *lv);
struct tcp_peer *tcp_peer_get(struct tcp_mod *t, struct tcp_ctr *c, uint8_t dir, const char *a, const char *b);
/* The same, for an outbound peer whose actual destination is act (NULL or "": a). */
struct tcp_peer *tcp_peer_get_act(struct tcp_mod *t, struct tcp_ctr *c, uint8_t dir, const char *a, const char *act,
				  const char *b);
/* remove_series 0: only frees (agent shutdown). */
void tcp_ctr_free(struct tcp_mod *t, struct tcp_ctr *c, int remove_series);
int tcp_listener_add(struct tcp_mod *t, struct tcp_ctr *ctr, uint64_t skaddr, uint32_t netns, uint32_t tgid,
		     const struct zt_addr *addr, uint16_t port);
int tcp_listener_remove(struct tcp_mod *t, const struct zt_tcp_ev *e);
struct tcp_listener *tcp_listener_find(struct tcp_mod *t, uint32_t netns, const struct zt_addr *local, uint16_t port);
/* RTT and latency gauges from this poll's observations; drops idle peers. */
void tcp_after_poll(struct tcp_mod *t);

/* tcp.c */
int tcp_conn_find_tuple(struct tcp_mod *t, uint32_t netns, const struct zt_addr *s, uint16_t sport,
			const struct zt_addr *d, uint16_t dport);
/* Adds a connection from a dump; -ENOSPC when the table is full. */
int tcp_conn_adopt(struct tcp_mod *t, struct tcp_ctr *ctr, uint32_t tgid, int32_t fd, uint8_t role,
		   uint32_t netns, const struct sockdiag_sock *s);
void tcp_conn_observe(struct tcp_mod *t, uint32_t idx, const struct sockdiag_sock *s);
void tcp_conn_expire(struct tcp_mod *t, uint32_t idx);

/* tcp_scan.c */
void tcp_ns_ref(struct tcp_mod *t, uint32_t inum, uint32_t tgid);
void tcp_ns_unref(struct tcp_mod *t, uint32_t inum);
/* Opens the dispatch thread's own namespace (to return to after setns). */
int tcp_ns_self(struct tcp_mod *t);
void tcp_ns_close_all(struct tcp_mod *t);
/* One poll: dumps every namespace with connections, observes, expires. */
void tcp_poll(struct tcp_mod *t);
/* Start-up: adopts connections and listeners that existed before the agent. */
void tcp_adopt_existing(struct tcp_mod *t);

#endif
