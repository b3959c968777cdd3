/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP connection table: kernel events in, traffic accounting, the
 * poll timer, start and stop. Labels and gauges live in tcp_peers.c.
 *
 * Kernel events (bpf/tcp.bpf.c) open and close table entries; sock_diag
 * polls (tcp_scan.c) add the traffic of live connections in between. Each
 * entry remembers the payload bytes and retransmits already counted, so a
 * poll and the final counters of the CLOSE event only ever add what is new
 * and the totals come out exact.
 *
 * Attribution: the process of an event is looked up in the entity table
 * (filled by discovery plugins from the process ring, which is drained
 * first). A process not known yet is retried for up to TCP_DEFER_NS,
 * then counted as unattributed and left out of the container families:
 * without a discovery plugin no process has a container.
 */
#include "tcp_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "config.h"
#include <zerotap/protocol.h>
#include "entities.h"
#include "log.h"
#include "loop.h"
#include "netclass.h"

#define TCP_DQ_MAX 4096
#define TCP_DEFER_NS (1000ull * 1000 * 1000)

#define TCP_STATE_FIN_WAIT2 5
#define TCP_STATE_CLOSE_WAIT 8
#define TCP_STATE_LAST_ACK 9
#define TCP_STATE_CLOSING 11

static const char *const untracked_reason[] = { "table_full", "unattributed", "expired", "adopt_map_full",
						"kernel_map_full", "no_listener" };

/* ------------------------------------------------------ the table */

static uint32_t id_hash(uint64_t skaddr, uint64_t gen)
{
	uint64_t x = (skaddr ^ (gen * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x >> 40) & (TCP_BUCKETS - 1);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* Word-wise: on the per-connection path three times (find, link, unlink). */
static uint32_t tuple_hash(uint32_t netns, const struct zt_addr *s, uint16_t sport, const struct zt_addr *d,
			   uint16_t dport)
{
	uint64_t w[4];
	memcpy(&w[0], s->a, 16);
	memcpy(&w[2], d->a, 16);
	uint64_t h = ((uint64_t)netns << 32 | (uint32_t)sport << 16 | dport) * 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 4; i++)
		h = mix64(h ^ w[i]) + 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (TCP_BUCKETS - 1);
}

static int conn_find_id(struct tcp_mod *t, uint64_t skaddr, uint64_t gen)
{
	for (uint32_t i = t->by_id[id_hash(skaddr, gen)]; i; i = t->c[i - 1].next_id)
		if (t->c[i - 1].skaddr == skaddr && t->c[i - 1].gen == gen)
			return (int)(i - 1);
	return -ENOENT;
}

int tcp_conn_find_tuple(struct tcp_mod *t, uint32_t netns, const struct zt_addr *s, uint16_t sport,
			const struct zt_addr *d, uint16_t dport)
{
	for (uint32_t i = t->by_tuple[tuple_hash(netns, s, sport, d, dport)]; i; i = t->c[i - 1].next_tuple) {
		const struct tcp_conn *c = &t->c[i - 1];
		if (c->netns == netns && c->sport == sport && c->dport == dport && !memcmp(&c->saddr, s, sizeof(*s)) &&
		    !memcmp(&c->daddr, d, sizeof(*d)))
			return (int)(i - 1);
	}
	return -ENOENT;
}

/* A zeroed, used entry; linked once its identity is filled in (conn_link). */
static int conn_alloc(struct tcp_mod *t)
{
	uint32_t idx;
	if (t->n >= TCP_MAX_TABLE)
		return -ENOSPC;
	if (!t->free_head) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;
		if (cap > TCP_MAX_TABLE)
			cap = TCP_MAX_TABLE;
		struct tcp_conn *c = realloc(t->c, (size_t)cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		memset(&c[t->cap], 0, (size_t)(cap - t->cap) * sizeof(*c));
		for (uint32_t i = cap; i > t->cap; i--) {
			c[i - 1].next_id = t->free_head;
			t->free_head = i;
		}
		t->c = c;
		t->cap = cap;
	}
	idx = t->free_head - 1;
	t->free_head = t->c[idx].next_id;
	memset(&t->c[idx], 0, sizeof(t->c[idx]));
	t->c[idx].used = 1;
	t->n++;
	return (int)idx;
}

static void conn_link(struct tcp_mod *t, uint32_t idx)
{
	struct tcp_conn *c = &t->c[idx];
	uint32_t hi = id_hash(c->skaddr, c->gen), ht = tuple_hash(c->netns, &c->saddr, c->sport, &c->daddr, c->dport);
	c->next_id = t->by_id[hi];
	t->by_id[hi] = idx + 1;
	c->next_tuple = t->by_tuple[ht];
	t->by_tuple[ht] = idx + 1;
	c->seen = t->round;
	tcp_ns_ref(t, c->netns, c->tgid);
}

static void unlink_chain(struct tcp_mod *t, uint32_t *head, uint32_t idx, int tuple)
{
	uint32_t *pp = head;
	while (*pp && *pp != idx + 1)
		pp = tuple ? &t->c[*pp - 1].next_tuple : &t->c[*pp - 1].next_id;
	if (*pp)
		*pp = tuple ? t->c[idx].next_tuple : t->c[idx].next_id;
}

/* A peer's series of family f (labels lv), through its cached ref. */
static void peer_add(struct tcp_mod *t, struct tcp_peer *p, int f, const struct zt_str *lv, double v)
{
	registry_add_ref(t->m[f], &p->ref[f], lv, v);
}

static void peer_set(struct tcp_mod *t, struct tcp_peer *p, int f, const struct zt_str *lv, double v)
{
	registry_set_ref(t->m[f], &p->ref[f], lv, v);
}

/* Drops an entry: its peer loses a live connection. No traffic is counted. */
static void conn_release(struct tcp_mod *t, uint32_t idx)
{
	struct tcp_conn *c = &t->c[idx];
	struct tcp_peer *p = c->peer;
	struct zt_str lv[4];

	if (p) {
		p->live--;
		p->last_active_ns = loop_now_ns();
		tcp_peer_lv(p, lv);
		peer_set(t, p, p->dir == PEER_OUT ? M_ACTIVE : M_IN_ACTIVE, lv, p->live);
		p->ctr->conns--;
	}
	tcp_ns_unref(t, c->netns);
	unlink_chain(t, &t->by_id[id_hash(c->skaddr, c->gen)], idx, 0);
	unlink_chain(t, &t->by_tuple[tuple_hash(c->netns, &c->saddr, c->sport, &c->daddr, c->dport)], idx, 1);
	memset(c, 0, sizeof(*c));
	c->next_id = t->free_head;
	t->free_head = idx + 1;
	t->n--;
}

static uint64_t minus(uint64_t v, uint64_t off)
{
	return v > off ? v - off : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* New traffic of one observation: payload totals on the socket's scale. */
static void conn_apply(struct tcp_mod *t, uint32_t idx, uint64_t sent, uint64_t rcvd, uint32_t retrans)
{
	struct tcp_conn *c = &t->c[idx];
	struct tcp_peer *p = c->peer;
	uint64_t ds = minus(sent, c->sent), dr = minus(rcvd, c->rcvd);
	uint32_t dx = retrans > c->retrans ? retrans - c->retrans : 0;
	struct zt_str lv[4];
	int out = p->dir == PEER_OUT;

	if (!ds && !dr && !dx)
		return;
	c->sent += ds;
	c->rcvd += dr;
	c->retrans += dx;
	p->last_active_ns = loop_now_ns();
	tcp_peer_lv(p, lv);
	if (ds)
		peer_add(t, p, out ? M_SENT : M_IN_SENT, lv, (double)ds);
	if (dr)
		peer_add(t, p, out ? M_RCVD : M_IN_RCVD, lv, (double)dr);
	if (dx)
		peer_add(t, p, out ? M_RETRANS : M_IN_RETRANS, lv, dx);
	const char *cls = netclass_name(c->cls);
	lv[2] = (struct zt_str){ cls, strlen(cls) };
	if (p->nb_cls != c->cls + 1) {
		memset(p->nb_ref, 0, sizeof(p->nb_ref));
		p->nb_cls = (uint8_t)(c->cls + 1);
	}
	if (ds) {
		lv[3] = ZT_STR("sent");
		registry_add_ref(t->m[M_NET_BYTES], &p->nb_ref[0], lv, (double)ds);
	}
	if (dr) {
		lv[3] = ZT_STR("received");
		registry_add_ref(t->m[M_NET_BYTES], &p->nb_ref[1], lv, (double)dr);
	}
}

/*
 * A sock_diag reading. The state tells which FINs the counters include
 * (ours is acknowledged in FIN_WAIT2 only, the peer's arrived in
 * CLOSE_WAIT, LAST_ACK and CLOSING), but only as of an instant before the
 * counters were read: the kernel reads the state without the socket lock
 * (inet_sk_diag_fill, tcp_get_info) and the counters under it, and when
 * the application holds the lock (inside close(), shutdown(), recv()), the
 * dump waits for it while release_sock() processes the backlog: the ACK of
 * the FIN just sent, the peer's FIN. So a reading may hold one FIN per
 * direction that its state does not show (seen: LAST_ACK or CLOSE_WAIT
 * with our FIN acknowledged), and a FIN counted as payload is never taken
 * back. Only what is certain counts:
 *  - the previous reading, less the FINs this state shows: it was read
 *    after those counters, so it shows every FIN they hold;
 *  - this reading, less one unit per direction for a FIN it may hold.
 * Traffic since the last poll may thus show one byte short per direction
 * until the next poll; the CLOSE event, read with the socket locked,
 * brings every total to the exact value.
 */
void tcp_conn_observe(struct tcp_mod *t, uint32_t idx, const struct sockdiag_sock *s)
{
	struct tcp_conn *c = &t->c[idx];
	int fin_acked = s->state == TCP_STATE_FIN_WAIT2;
	int fin_rcvd = s->state == TCP_STATE_CLOSE_WAIT || s->state == TCP_STATE_LAST_ACK ||
		       s->state == TCP_STATE_CLOSING;
	uint64_t sent, rcvd;

	c->seen = t->round;
	c->misses = 0;
	/* A socket that closed after the dump picked it up (state CLOSE) holds
	 * FINs no state tells: its CLOSE event counts it. */
	if (!s->has_info || s->state >= 32 || !(TCP_LIVE_STATES & (1u << s->state)))
		return;
	sent = max_u64(minus(c->last_acked, c->acked_off + fin_acked), minus(s->bytes_acked, c->acked_off + 1));
	rcvd = max_u64(minus(c->last_rcvd, fin_rcvd), minus(s->bytes_received, 1));
	c->last_acked = s->bytes_acked;
	c->last_rcvd = s->bytes_received;
	conn_apply(t, idx, sent, rcvd, s->total_retrans);
	if (c->peer->dir == PEER_OUT && s->rtt_us) {
		c->peer->rtt_sum += s->rtt_us;
		c->peer->rttvar_sum += s->rttvar_us;
		c->peer->rtt_n++;
	}
}

static void delete_kernel_entry(struct tcp_mod *t, const struct tcp_conn *c)
{
	if (c->adopted) {
		struct zt_tcp_tuple k = { .netns = c->netns, .sport = c->sport, .dport = c->dport };
		memcpy(k.saddr, c->saddr.a, 16);
		memcpy(k.daddr, c->daddr.a, 16);
		bpf_map_delete_elem(t->k.adopt_fd, &k);
	} else {
		struct zt_tcp_conn v;
		uint64_t key = c->skaddr;
		/* only ours: the address may already belong to a new socket */
		if (!bpf_map_lookup_elem(t->k.conns_fd, &key, &v) && v.gen == c->gen)
			bpf_map_delete_elem(t->k.conns_fd, &key);
	}
}

/* Not seen in several dumps and no CLOSE arrived (a lost event). */
void tcp_conn_expire(struct tcp_mod *t, uint32_t idx)
{
	delete_kernel_entry(t, &t->c[idx]);
	t->untracked[UT_EXPIRED]++;
	conn_release(t, idx);
}

/* Fills a new entry's identity from a 4-tuple and hooks it to its peer. */
static void conn_fill(struct tcp_mod *t, uint32_t idx, struct tcp_peer *p, uint32_t netns, const uint8_t *s,
		      uint16_t sport, const uint8_t *d, uint16_t dport)
{
	struct tcp_conn *c = &t->c[idx];
	c->netns = netns;
	memcpy(c->saddr.a, s, 16);
	memcpy(c->daddr.a, d, 16);
	c->sport = sport;
	c->dport = dport;
	c->peer = p;
	c->cls = (uint8_t)netclass_classify(t->nc, &c->daddr, NULL);
	p->live++;
	p->last_active_ns = loop_now_ns();
	p->ctr->conns++;
}

/* A peer's labels: outbound, the remote ip:port and ip; inbound, the local
 * ip:port the client reached and the client's ip (never its port). */
static void peer_labels(int out, const struct zt_addr *local, uint16_t lport, const struct zt_addr *remote,
			uint16_t rport, char a[64], char b[48])
{
	if (out)
		zt_addr_port_format(remote, rport, a, 64);
	else
		zt_addr_port_format(local, lport, a, 64);
	zt_addr_format(remote, b, 48);
}

int tcp_conn_adopt(struct tcp_mod *t, struct tcp_ctr *ctr, uint32_t tgid, int32_t fd, uint8_t role,
		   uint32_t netns, const struct sockdiag_sock *s)
{
	char a[64], b[48], act[64];
	struct tcp_peer *p;
	int idx;

	act[0] = '\0';
	peer_labels(role == ZT_TCP_CLIENT, &s->saddr, s->sport, &s->daddr, s->dport, a, b);
	if (role == ZT_TCP_CLIENT)
		conntrack_actual_dst(t->ct, netns, tgid, 0, &s->saddr, s->sport, &s->daddr, s->dport, act, sizeof(act));
	p = tcp_peer_get_act(t, ctr, role == ZT_TCP_CLIENT ? PEER_OUT : PEER_IN, a, act, b);
	if (!p)
		return -ENOMEM;
	idx = conn_alloc(t);
	if (idx < 0)
		return idx;
	struct tcp_conn *c = &t->c[idx];
	c->gen = (1ull << 63) | ++t->next_adopt_gen; /* never a bpf_ktime_get_ns() value */
	c->tgid = tgid;
	c->fd = fd;
	c->role = role;
	c->adopted = 1;
	conn_fill(t, (uint32_t)idx, p, netns, s->saddr.a, s->sport, s->daddr.a, s->dport);
	/* The first reading is the baseline: only later traffic counts. Should
	 * it hold a FIN its state does not show (see tcp_conn_observe), one
	 * byte of later traffic goes uncounted; never one from before. */
	if (s->has_info) {
		c->sent = minus(s->bytes_acked, s->state == TCP_STATE_FIN_WAIT2);
		c->rcvd = minus(s->bytes_received, s->state == TCP_STATE_CLOSE_WAIT || s->state == TCP_STATE_LAST_ACK ||
							   s->state == TCP_STATE_CLOSING);
		c->retrans = s->total_retrans;
		c->last_acked = s->bytes_acked;
		c->last_rcvd = s->bytes_received;
	}
	conn_link(t, (uint32_t)idx);
	struct zt_tcp_tuple k = { .netns = netns, .sport = s->sport, .dport = s->dport };
	struct zt_tcp_adopted v = { .gen = c->gen, .tgid = tgid, .role = role };
	memcpy(k.saddr, s->saddr.a, 16);
	memcpy(k.daddr, s->daddr.a, 16);
	if (bpf_map_update_elem(t->k.adopt_fd, &k, &v, BPF_ANY))
		t->untracked[UT_ADOPT_FULL]++; /* still polled; its last bytes are lost at close */
	struct zt_str lv[4];
	tcp_peer_lv(p, lv);
	peer_set(t, p, role == ZT_TCP_CLIENT ? M_ACTIVE : M_IN_ACTIVE, lv, p->live);
	return 0;
}

/* ---------------------------------------------------------------- events */

/* CONNECT_OK and ACCEPT. */
static int on_open(struct tcp_mod *t, const struct zt_tcp_ev *e, struct tcp_ctr *ctr)
{
	int out = e->type == ZT_TCP_CONNECT_OK;
	struct zt_addr s, d;
	char a[64], b[48], act[64];
	struct zt_str lv[4];
	struct tcp_peer *p;
	int idx;

	memcpy(s.a, e->saddr, 16);
	memcpy(d.a, e->daddr, 16);
	act[0] = '\0';
	peer_labels(out, &s, e->sport, &d, e->dport, a, b);
	if (out)
		conntrack_actual_dst(t->ct, e->netns, e->tgid, e->ts_ns, &s, e->sport, &d, e->dport, act, sizeof(act));
	p = tcp_peer_get_act(t, ctr, out ? PEER_OUT : PEER_IN, a, act, b);
	if (!p)
		return -ENOMEM;
	tcp_peer_lv(p, lv);
	if (out) {
		peer_add(t, p, M_CONNECTS, lv, 1);
		peer_add(t, p, M_CONN_TIME, lv, e->duration_ns / 1e9);
	} else {
		peer_add(t, p, M_IN_CONNECTS, lv, 1);
	}
	p->last_active_ns = loop_now_ns();

	/* The same 4-tuple already in the table: adopted at start-up while
	 * its event was in flight, or a connection whose CLOSE was lost. */
	idx = tcp_conn_find_tuple(t, e->netns, &s, e->sport, &d, e->dport);
	if (idx >= 0) {
		if (!t->c[idx].adopted)
			t->untracked[UT_EXPIRED]++;
		delete_kernel_entry(t, &t->c[idx]);
		conn_release(t, (uint32_t)idx);
	}
	idx = conn_alloc(t);
	if (idx < 0) {
		t->untracked[UT_TABLE_FULL]++;
		return 0;
	}
	struct tcp_conn *c = &t->c[idx];
	c->skaddr = e->skaddr;
	c->gen = e->gen;
	c->tgid = e->tgid;
	c->fd = e->fd;
	c->role = out ? ZT_TCP_CLIENT : ZT_TCP_SERVER;
	/* bytes_acked at ESTABLISHED: the client's counts its SYN, the
	 * server's child socket starts at 0 (its SYN-ACK is not counted). */
	c->acked_off = e->bytes_acked;
	conn_fill(t, (uint32_t)idx, p, e->netns, e->saddr, e->sport, e->daddr, e->dport);
	conn_link(t, (uint32_t)idx);
	peer_set(t, p, out ? M_ACTIVE : M_IN_ACTIVE, lv, p->live);
	/* Series exist from the first connection, so a rate has a start. */
	peer_add(t, p, out ? M_SENT : M_IN_SENT, lv, 0);
	peer_add(t, p, out ? M_RCVD : M_IN_RCVD, lv, 0);
	peer_add(t, p, out ? M_RETRANS : M_IN_RETRANS, lv, 0);
	return 0;
}

static int on_fail(struct tcp_mod *t, const struct zt_tcp_ev *e, struct tcp_ctr *ctr)
{
	struct zt_addr d;
	char a[64], b[48];
	struct zt_str lv[4];
	struct tcp_peer *p;

	memcpy(d.a, e->daddr, 16);
	peer_labels(1, NULL, 0, &d, e->dport, a, b);
	p = tcp_peer_get(t, ctr, PEER_OUT, a, b);
	if (!p)
		return -ENOMEM;
	p->last_active_ns = loop_now_ns();
	tcp_peer_lv(p, lv);
	peer_add(t, p, M_FAILED, lv, 1);
	return 0;
}

static void on_close(struct tcp_mod *t, const struct zt_tcp_ev *e, uint32_t idx)
{
	struct tcp_conn *c = &t->c[idx];
	uint64_t sent = minus(e->bytes_acked, c->acked_off + !!(e->flags & ZT_TCPF_FIN_ACKED));
	uint64_t rcvd = minus(e->bytes_received, !!(e->flags & ZT_TCPF_FIN_RCVD));
	conn_apply(t, idx, sent, rcvd, e->total_retrans);
	conn_release(t, idx);
}

static int dq_has_listen(const struct tcp_mod *t, uint32_t upto, uint32_t netns, uint16_t port)
{
	for (uint32_t i = 0; i < upto; i++)
		if (t->dq[i].ev.type == ZT_TCP_LISTEN && t->dq[i].ev.netns == netns && t->dq[i].ev.sport == port)
			return 1;
	return 0;
}

/* A server-side connection (SYN_RECV -> ESTABLISHED, softirq): it belongs
 * to whoever owns the listening socket it came through. */
static int on_server_open(struct tcp_mod *t, const struct zt_tcp_ev *e, uint32_t upto)
{
	struct zt_addr local;
	struct tcp_listener *l;
	struct zt_tcp_ev ev;

	memcpy(local.a, e->saddr, 16);
	l = tcp_listener_find(t, e->netns, &local, e->sport);
	if (!l) {
		if (dq_has_listen(t, upto, e->netns, e->sport))
			return -EAGAIN; /* its LISTEN waits for the process */
		t->untracked[UT_NO_LISTENER]++;
		struct tcp_conn c = { .skaddr = e->skaddr, .gen = e->gen };
		delete_kernel_entry(t, &c);
		return 0;
	}
	ev = *e;
	ev.tgid = l->tgid;
	return on_open(t, &ev, l->ctr);
}

static int dq_has(const struct tcp_mod *t, uint32_t upto, uint64_t skaddr, uint64_t gen)
{
	for (uint32_t i = 0; i < upto; i++)
		if (t->dq[i].ev.skaddr == skaddr && t->dq[i].ev.gen == gen)
			return 1;
	return 0;
}

/*
 * One event. -EAGAIN: its process is not in the entity table yet (or, for
 * a CLOSE, its opening event is still waiting): retry later. `upto` is how
 * many waiting events precede this one.
 */
static int handle(struct tcp_mod *t, const struct zt_tcp_ev *e, uint32_t upto)
{
	struct tcp_ctr *ctr = NULL;
	int idx;

	switch (e->type) {
	case ZT_TCP_CLOSE:
		idx = conn_find_id(t, (e->flags & ZT_TCPF_ADOPTED) ? 0 : e->skaddr, e->gen);
		if (idx >= 0)
			on_close(t, e, (uint32_t)idx);
		else if (dq_has(t, upto, e->skaddr, e->gen))
			return -EAGAIN;
		return 0;
	case ZT_TCP_UNLISTEN:
		if (tcp_listener_remove(t, e) && dq_has(t, upto, e->skaddr, 0))
			return -EAGAIN; /* its LISTEN is still waiting */
		return 0;
	case ZT_TCP_ACCEPT:
		return on_server_open(t, e, upto);
	case ZT_TCP_CONNECT_OK:
	case ZT_TCP_CONNECT_FAIL:
	case ZT_TCP_LISTEN:
		ctr = tcp_attribute(t, e->tgid);
		if (!ctr)
			return -EAGAIN;
		break;
	default:
		return 0;
	}
	if (e->type == ZT_TCP_CONNECT_FAIL)
		return on_fail(t, e, ctr);
	if (e->type == ZT_TCP_LISTEN) {
		struct zt_addr addr;
		memcpy(addr.a, e->saddr, 16);
		return tcp_listener_add(t, ctr, e->skaddr, e->netns, e->tgid, &addr, e->sport);
	}
	return on_open(t, e, ctr);
}

int tcp_on_event(void *ctx, void *data, size_t size)
{
	struct tcp_mod *t = ctx;
	const struct zt_tcp_ev *e = data;

	if (!t || size < sizeof(*e))
		return 0;
	/* an open after the horizon waits for the next drain (which reads its
	 * process's events first); in order, behind any earlier waiting one */
	int later = e->ts_ns > t->horizon && t->dq_len < TCP_DQ_MAX &&
		    (e->type == ZT_TCP_CONNECT_OK || e->type == ZT_TCP_CONNECT_FAIL || e->type == ZT_TCP_ACCEPT ||
		     e->type == ZT_TCP_LISTEN);
	if (!later) {
		if (handle(t, e, t->dq_len) != -EAGAIN)
			return 0;
		/* Without any discovery plugin nothing will ever resolve. */
		if (t->dq_len >= TCP_DQ_MAX || !entities_process_count(t->a->ents)) {
			t->untracked[UT_UNATTRIBUTED]++;
			return 0;
		}
	}
	t->dq[t->dq_len].ev = *e;
	t->dq[t->dq_len].since = loop_now_ns();
	t->dq_len++;
	return 0;
}

void tcp_before_drain(struct tcp_mod *t, unsigned long long horizon)
{
	uint64_t now = loop_now_ns();
	uint32_t kept = 0;

	if (!t)
		return;
	t->horizon = horizon;
	for (uint32_t i = 0; i < t->dq_len; i++) {
		if (handle(t, &t->dq[i].ev, kept) != -EAGAIN)
			continue;
		if (now - t->dq[i].since < TCP_DEFER_NS)
			t->dq[kept++] = t->dq[i];
		else
			t->untracked[UT_UNATTRIBUTED]++;
	}
	t->dq_len = kept;
}

static void update_self(struct tcp_mod *t)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v = ncpu > 0 ? calloc((size_t)ncpu, sizeof(uint64_t)) : NULL;
	uint32_t key = ZT_TCP_DROP_CONNS;

	if (v && !bpf_map_lookup_elem(t->k.drops_fd, &key, v)) {
		uint64_t sum = 0;
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
		t->untracked[UT_KERNEL_FULL] = sum;
	}
	free(v);
	for (size_t i = 0; i < sizeof(untracked_reason) / sizeof(untracked_reason[0]); i++) {
		struct zt_str lv = { untracked_reason[i], strlen(untracked_reason[i]) };
		registry_set(t->m[M_UNTRACKED], &lv, (double)t->untracked[i]);
	}
	registry_set(t->m[M_TABLE], NULL, t->n);
	conntrack_tick(t->ct);
}

static void on_poll_timer(void *arg)
{
	struct tcp_mod *t = arg;
	uint64_t t0 = loop_now_ns();
	netclass_refresh_local(t->nc);
	tcp_poll(t);
	tcp_after_poll(t);
	registry_set(t->m[M_POLL_SECONDS], NULL, (loop_now_ns() - t0) / 1e9);
	update_self(t);
}

static void on_start_timer(void *arg)
{
	struct tcp_mod *t = arg;
	loop_timer_cancel(t->a->loop, t->start_timer);
	if (t->k.drain)
		t->k.drain(t->k.drain_arg);
	tcp_adopt_existing(t);
	on_poll_timer(t);
}

/* ------------------------------------------------------- start / stop */

int tcp_start(struct agent *a, const struct tcp_kernel *k, struct tcp_mod **out)
{
	const struct zt_config *cfg = a->cfg;
	struct tcp_mod *t = calloc(1, sizeof(*t));
	int err = -ENOMEM;

	if (!t)
		return -ENOMEM;
	t->a = a;
	t->reg = a->reg;
	t->k = *k;
	t->self_ns_fd = -1;
	t->horizon = UINT64_MAX; /* until the first drain sets it */
	t->max_peers = (uint32_t)cfg->max_peers_per_container;
	t->poll_ns = (uint64_t)cfg->tcp_poll_interval_ms * 1000000ull;
	t->by_id = calloc(TCP_BUCKETS, sizeof(uint32_t));
	t->by_tuple = calloc(TCP_BUCKETS, sizeof(uint32_t));
	t->dq = calloc(TCP_DQ_MAX, sizeof(*t->dq));
	if (!t->by_id || !t->by_tuple || !t->dq)
		goto fail;
	err = tcp_register_families(t);
	if (err)
		goto fail;
	err = netclass_new(cfg->az, &t->nc);
	for (size_t i = 0; !err && i < cfg->n_zones; i++)
		err = netclass_add_cidr(t->nc, cfg->zone_cidrs[i], cfg->zone_names[i]);
	if (!err)
		err = netclass_refresh_local(t->nc);
	if (err)
		goto fail;
	err = tcp_ns_self(t);
	if (err)
		goto fail;
	err = conntrack_new(t->reg, &t->ct);
	if (err) /* not worth the feature: actual_destination stays destination */
		log_msg(ZT_LOG_WARN, NULL, "tcp: no conntrack (NAT) lookups: %s", strerror(-err));
	/* One-shot: the loop's first turn comes after the discovery plugins
	 * have scanned /proc, so adopted connections find their containers. */
	err = loop_timer_add(a->loop, t, 1000000ull, on_start_timer, t, &t->start_timer);
	if (!err)
		err = loop_timer_add(a->loop, t, t->poll_ns, on_poll_timer, t, &t->poll_timer);
	if (err)
		goto fail;
	*out = t;
	return 0;
fail:
	tcp_stop(t);
	return err;
}

void tcp_stop(struct tcp_mod *t)
{
	if (!t)
		return;
	loop_remove_owner(t->a->loop, t);
	tcp_ns_close_all(t);
	conntrack_free(t->ct);
	for (uint32_t h = 0; h < TCP_CTR_BUCKETS; h++)
		for (struct tcp_ctr *c = t->ctrs[h], *n; c; c = n) {
			n = c->next;
			tcp_ctr_free(t, c, 0);
		}
	for (struct tcp_listener *l = t->listeners, *n; l; l = n) {
		n = l->next;
		free(l);
	}
	netclass_free(t->nc);
	free(t->c);
	free(t->by_id);
	free(t->by_tuple);
	free(t->dq);
	free(t);
}

int tcp_conn_role(struct tcp_mod *t, uint32_t netns, const uint8_t *laddr, uint16_t lport, const uint8_t *raddr,
		  uint16_t rport)
{
	struct zt_addr s, d;
	int idx;
	if (!t)
		return 0;
	memcpy(s.a, laddr, 16);
	memcpy(d.a, raddr, 16);
	idx = tcp_conn_find_tuple(t, netns, &s, lport, &d, rport);
	if (idx >= 0 && t->c[idx].role == ZT_TCP_CLIENT)
		return ZT_ROLE_CLIENT;
	if (idx >= 0 && t->c[idx].role == ZT_TCP_SERVER)
		return ZT_ROLE_SERVER;
	if (tcp_listener_find(t, netns, &s, lport))
		return ZT_ROLE_SERVER;
	/* a client of a server on this host (a loopback peer, or one of the
	 * same namespace) whose connect the table has not seen yet */
	return tcp_listener_find(t, netns, &d, rport) ? ZT_ROLE_CLIENT : ZT_ROLE_UNKNOWN;
}

int tcp_actual_destination(struct tcp_mod *t, uint32_t netns, const uint8_t *laddr, uint16_t lport,
			   const uint8_t *raddr, uint16_t rport, char *out, size_t len)
{
	struct zt_addr s, d;
	int idx;
	if (!t)
		return -ENOENT;
	memcpy(s.a, laddr, 16);
	memcpy(d.a, raddr, 16);
	idx = tcp_conn_find_tuple(t, netns, &s, lport, &d, rport);
	if (idx < 0 || !t->c[idx].peer || t->c[idx].peer->dir != PEER_OUT)
		return -ENOENT;
	const struct tcp_peer *p = t->c[idx].peer;
	snprintf(out, len, "%.*s", (int)(p->actlen ? p->actlen : p->alen), p->actlen ? p->act : p->a);
	return 0;
}
