/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP table's label side: metric families, containers, their peers
 * (with the per-container cap and the "~other" overflow peer), listen
 * sockets, and the gauges recomputed after every poll (RTT per destination,
 * latency per destination ip). Counters are added by core/tcp.c.
 */
#include "tcp_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "entities.h"
#include "loop.h"
#include "netclass.h"

/* A peer with no live connection and no traffic for this long is dropped
 * with its series, so the per-container cap counts current peers. */
#define TCP_PEER_IDLE_NS (600ull * 1000 * 1000 * 1000)

/* ------------------------------------------------------------ families */

int tcp_register_families(struct tcp_mod *t)
{
	static const char *const l_out[] = { "container_id", "app_id", "destination", "actual_destination" };
	static const char *const l_dst[] = { "container_id", "app_id", "destination" };
	static const char *const l_listen[] = { "container_id", "app_id", "listen_addr", "proxy" };
	static const char *const l_ip[] = { "container_id", "app_id", "destination_ip" };
	static const char *const l_in[] = { "container_id", "app_id", "listen_addr", "client_ip" };
	static const char *const l_cost[] = { "container_id", "app_id", "peer_class", "direction" };
	static const char *const l_ovf[] = { "container_id", "app_id", "direction" };
	static const char *const l_reason[] = { "reason" };
	static const struct {
		enum tcp_family f;
		uint32_t type;
		const char *name, *help;
		const char *const *labels;
		uint32_t n;
	} d[] = {
		{ M_CONNECTS, ZT_METRIC_COUNTER, "container_net_tcp_successful_connects_total", "Successful outbound TCP connects.", l_out, 4 },
		{ M_CONN_TIME, ZT_METRIC_COUNTER, "container_net_tcp_connection_time_seconds_total", "Time spent in successful outbound connects (connect() to ESTABLISHED).", l_out, 4 },
		{ M_FAILED, ZT_METRIC_COUNTER, "container_net_tcp_failed_connects_total", "Outbound TCP connects that failed (refused, timed out or aborted).", l_dst, 3 },
		{ M_ACTIVE, ZT_METRIC_GAUGE, "container_net_tcp_active_connections", "Open outbound TCP connections.", l_out, 4 },
		{ M_RETRANS, ZT_METRIC_COUNTER, "container_net_tcp_retransmits_total", "Segments retransmitted on outbound connections.", l_out, 4 },
		{ M_SENT, ZT_METRIC_COUNTER, "container_net_tcp_bytes_sent_total", "Payload bytes sent and acknowledged on outbound connections.", l_out, 4 },
		{ M_RCVD, ZT_METRIC_COUNTER, "container_net_tcp_bytes_received_total", "Payload bytes received on outbound connections.", l_out, 4 },
		{ M_LISTEN, ZT_METRIC_GAUGE, "container_net_tcp_listen_info", "A TCP listen socket of the container.", l_listen, 4 },
		{ M_LATENCY, ZT_METRIC_GAUGE, "container_net_latency_seconds", "Mean smoothed RTT of the container's live connections to an IP.", l_ip, 3 },
		{ M_IN_CONNECTS, ZT_METRIC_COUNTER, "zerotap_container_net_tcp_inbound_connects_total", "Inbound TCP connections accepted.", l_in, 4 },
		{ M_IN_ACTIVE, ZT_METRIC_GAUGE, "zerotap_container_net_tcp_inbound_active_connections", "Open inbound TCP connections.", l_in, 4 },
		{ M_IN_SENT, ZT_METRIC_COUNTER, "zerotap_container_net_tcp_inbound_bytes_sent_total", "Payload bytes sent and acknowledged on inbound connections.", l_in, 4 },
		{ M_IN_RCVD, ZT_METRIC_COUNTER, "zerotap_container_net_tcp_inbound_bytes_received_total", "Payload bytes received on inbound connections.", l_in, 4 },
		{ M_IN_RETRANS, ZT_METRIC_COUNTER, "zerotap_container_net_tcp_inbound_retransmits_total", "Segments retransmitted on inbound connections.", l_in, 4 },
		{ M_RTT, ZT_METRIC_GAUGE, "zerotap_container_net_tcp_rtt_seconds", "Mean smoothed RTT (tcpi_rtt) of live outbound connections to a destination.", l_out, 4 },
		{ M_RTTVAR, ZT_METRIC_GAUGE, "zerotap_container_net_tcp_rttvar_seconds", "Mean RTT variation (tcpi_rttvar) of live outbound connections to a destination.", l_out, 4 },
		{ M_NET_BYTES, ZT_METRIC_COUNTER, "zerotap_container_net_bytes_total", "TCP payload bytes by peer class (same_host, same_zone, other_zone, internet, unknown).", l_cost, 4 },
		{ M_OVERFLOW, ZT_METRIC_COUNTER, "zerotap_container_net_tcp_peer_overflow_total", "Connections and failed connects counted under the ~other peer (max_peers_per_container reached).", l_ovf, 3 },
		{ M_TABLE, ZT_METRIC_GAUGE, "zerotap_tcp_connections", "Connections in the agent's TCP table.", NULL, 0 },
		{ M_UNTRACKED, ZT_METRIC_COUNTER, "zerotap_tcp_untracked_total", "Connections the agent could not follow, by reason.", l_reason, 1 },
		{ M_POLL_SECONDS, ZT_METRIC_GAUGE, "zerotap_tcp_poll_duration_seconds", "Duration of the last sock_diag poll.", NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		const struct zt_metric_desc md = { sizeof(md), d[i].type, d[i].name, d[i].help, d[i].labels, d[i].n };
		int err = registry_register(t->reg, &md, &t->m[d[i].f]);
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------ containers and peers */

static struct tcp_ctr *ctr_get(struct tcp_mod *t, const char *id, const char *app)
{
	size_t il = strlen(id);
	uint32_t h = tcp_fnv(2166136261u, id, il) & (TCP_CTR_BUCKETS - 1);
	struct tcp_ctr *c;

	for (c = t->ctrs[h]; c; c = c->next)
		if (c->id_len == il && !memcmp(c->id, id, il))
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = strdup(id);
	c->app = strdup(app);
	if (!c->id || !c->app) {
		free(c->id);
		free(c->app);
		free(c);
		return NULL;
	}
	c->id_len = il;
	c->app_len = strlen(app);
	c->next = t->ctrs[h];
	t->ctrs[h] = c;
	return c;
}

struct tcp_ctr *tcp_attribute(struct tcp_mod *t, uint32_t tgid)
{
	char id[512], app[512];
	if (entities_process_ident(t->a->ents, tgid, id, sizeof(id), app, sizeof(app)))
		return NULL;
	return ctr_get(t, id, app);
}

void tcp_ctr_lv(const struct tcp_ctr *c, struct zt_str *lv)
{
	lv[0] = (struct zt_str){ c->id, c->id_len };
	lv[1] = (struct zt_str){ c->app, c->app_len };
}

/* Label values of a peer's families: out {id, app, dest, actual dest}, in {id, app, listen, client}. */
void tcp_peer_lv(const struct tcp_peer *p, struct zt_str *lv)
{
	tcp_ctr_lv(p->ctr, lv);
	lv[2] = (struct zt_str){ p->a, p->alen };
	if (p->dir == PEER_IN)
		lv[3] = (struct zt_str){ p->b, p->blen };
	else
		lv[3] = p->actlen ? (struct zt_str){ p->act, p->actlen } : lv[2];
}

static uint32_t peer_hash(const struct tcp_ctr *c, uint8_t dir, const char *a, size_t al, const char *act, size_t xl,
			  const char *b, size_t bl)
{
	uint32_t h = tcp_fnv(2166136261u, &c, sizeof(c));
	h = tcp_fnv(h, &dir, 1);
	h = tcp_fnv(h, a, al + 1);
	if (xl) /* most peers have no NAT: hash them as before */
		h = tcp_fnv(h, act, xl + 1);
	return tcp_fnv(h, b, bl) & (TCP_PEER_BUCKETS - 1);
}

static struct tcp_peer *peer_lookup(struct tcp_mod *t, struct tcp_ctr *c, uint8_t dir, const char *a, const char *act,
				    const char *b)
{
	size_t al = strlen(a), xl = *act ? strlen(act) : 0, bl = strlen(b);
	for (struct tcp_peer *p = t->peers[peer_hash(c, dir, a, al, act, xl, b, bl)]; p; p = p->next_hash)
		if (p->ctr == c && p->dir == dir && p->alen == al && p->actlen == xl && p->blen == bl &&
		    !memcmp(p->a, a, al) && !memcmp(p->act, act, xl) && !memcmp(p->b, b, bl))
			return p;
	return NULL;
}

static struct tcp_peer *peer_new(struct tcp_mod *t, struct tcp_ctr *c, uint8_t dir, const char *a, const char *act,
				 const char *b, int overflow)
{
	struct tcp_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ctr = c;
	p->dir = dir;
	p->overflow = (uint8_t)overflow;
	snprintf(p->a, sizeof(p->a), "%s", a);
	snprintf(p->act, sizeof(p->act), "%s", act);
	snprintf(p->b, sizeof(p->b), "%s", b);
	p->alen = strlen(p->a);
	p->actlen = strlen(p->act);
	p->blen = strlen(p->b);
	uint32_t h = peer_hash(c, dir, p->a, p->alen, p->act, p->actlen, p->b, p->blen);
	p->next_hash = t->peers[h];
	t->peers[h] = p;
	p->next_ctr = c->peers;
	c->peers = p;
	if (!overflow)
		c->npeers[dir]++;
	return p;
}

/*
 * The peer for (a, act, b), created unless the container already has
 * max_peers of this direction: then the overflow peer, whose client ip or
 * destination (and actual destination) is "~other" (the listen address
 * stays: it is bounded by the container's own sockets). act NULL or "": the
 * same as a (inbound, failed connects, no NAT). NULL only when out of memory.
 */
struct tcp_peer *tcp_peer_get_act(struct tcp_mod *t, struct tcp_ctr *c, uint8_t dir, const char *a, const char *act,
				  const char *b)
{
	static const char *const dir_name[] = { "outbound", "inbound" };
	struct tcp_peer *p;
	const char *oa = dir == PEER_OUT ? TCP_OTHER : a;

	if (!act || dir != PEER_OUT || (*act && !strcmp(act, a)))
		act = ""; /* no NAT: the peer's labels show a twice */
	p = peer_lookup(t, c, dir, a, act, b);
	if (p || c->npeers[dir] < t->max_peers)
		return p ? p : peer_new(t, c, dir, a, act, b, 0);
	struct zt_str lv[3];
	tcp_ctr_lv(c, lv);
	lv[2] = (struct zt_str){ dir_name[dir], strlen(dir_name[dir]) };
	registry_add(t->m[M_OVERFLOW], lv, 1);
	p = peer_lookup(t, c, dir, oa, "", TCP_OTHER);
	return p ? p : peer_new(t, c, dir, oa, "", TCP_OTHER, 1);
}

struct tcp_peer *tcp_peer_get(struct tcp_mod *t, struct tcp_ctr *c, uint8_t dir, const char *a, const char *b)
{
	return tcp_peer_get_act(t, c, dir, a, NULL, b);
}

static void peer_free(struct tcp_mod *t, struct tcp_peer *p)
{
	static const enum tcp_family out[] = { M_CONNECTS, M_CONN_TIME, M_ACTIVE, M_RETRANS, M_SENT, M_RCVD };
	static const enum tcp_family in[] = { M_IN_CONNECTS, M_IN_ACTIVE, M_IN_SENT, M_IN_RCVD, M_IN_RETRANS };
	struct tcp_ctr *c = p->ctr;
	struct zt_str lv[4];
	struct tcp_peer **pp;

	tcp_peer_lv(p, lv);
	if (p->dir == PEER_OUT) {
		for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
			registry_remove(t->m[out[i]], lv);
		/* {destination} only: failed connects go to the peer without NAT */
		if (!p->actlen)
			registry_remove(t->m[M_FAILED], lv);
		registry_remove(t->m[M_RTT], lv);
		registry_remove(t->m[M_RTTVAR], lv);
	} else {
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
			registry_remove(t->m[in[i]], lv);
	}
	for (pp = &t->peers[peer_hash(c, p->dir, p->a, p->alen, p->act, p->actlen, p->b, p->blen)]; *pp != p;
	     pp = &(*pp)->next_hash)
		;
	*pp = p->next_hash;
	for (pp = &c->peers; *pp != p; pp = &(*pp)->next_ctr)
		;
	*pp = p->next_ctr;
	if (!p->overflow)
		c->npeers[p->dir]--;
	free(p);
}

void tcp_ctr_free(struct tcp_mod *t, struct tcp_ctr *c, int remove_series)
{
	static const char *const dirs[] = { "outbound", "inbound" };
	static const char *const bytes_dir[] = { "sent", "received" };
	struct zt_str lv[4];
	struct tcp_ctr **pp;

	while (c->peers) {
		if (remove_series) {
			peer_free(t, c->peers);
		} else {
			struct tcp_peer *p = c->peers;
			c->peers = p->next_ctr;
			free(p);
		}
	}
	if (remove_series) {
		tcp_ctr_lv(c, lv);
		for (int d = 0; d < 2; d++) {
			lv[2] = (struct zt_str){ dirs[d], strlen(dirs[d]) };
			registry_remove(t->m[M_OVERFLOW], lv);
			lv[3] = (struct zt_str){ bytes_dir[d], strlen(bytes_dir[d]) };
			for (int k = NETCLASS_SAME_HOST; k <= NETCLASS_UNKNOWN_ZONE; k++) {
				const char *cls = netclass_name(k);
				lv[2] = (struct zt_str){ cls, strlen(cls) };
				registry_remove(t->m[M_NET_BYTES], lv);
			}
		}
		uint32_t h = tcp_fnv(2166136261u, c->id, c->id_len) & (TCP_CTR_BUCKETS - 1);
		for (pp = &t->ctrs[h]; *pp != c; pp = &(*pp)->next)
			;
		*pp = c->next;
	}
	free(c->lat_ips);
	free(c->id);
	free(c->app);
	free(c);
}

/* ------------------------------------------------------------ listeners */

static void listener_label(const struct tcp_listener *l, struct zt_str *lv)
{
	tcp_ctr_lv(l->ctr, lv);
	lv[2] = (struct zt_str){ l->laddr, strlen(l->laddr) };
	lv[3] = ZT_STR("");
}

/* Unlinks *pp; SO_REUSEPORT: the series stays while another socket of the
 * container listens on the same address. */
static void listener_drop(struct tcp_mod *t, struct tcp_listener **pp)
{
	struct tcp_listener *l = *pp;
	struct zt_str lv[4];

	*pp = l->next;
	l->ctr->listeners--;
	for (struct tcp_listener *o = t->listeners; o; o = o->next)
		if (o->ctr == l->ctr && !strcmp(o->laddr, l->laddr))
			goto out;
	listener_label(l, lv);
	registry_remove(t->m[M_LISTEN], lv);
out:
	free(l);
}

/* An adopted listener (skaddr 0) on the same address of the same namespace. */
static struct tcp_listener **adopted_twin(struct tcp_mod *t, uint32_t netns, const struct zt_addr *addr,
					  uint16_t port)
{
	struct tcp_listener **pp;
	for (pp = &t->listeners; *pp; pp = &(*pp)->next)
		if (!(*pp)->skaddr && (*pp)->netns == netns && (*pp)->port == port &&
		    !memcmp(&(*pp)->addr, addr, sizeof(*addr)))
			return pp;
	return NULL;
}

int tcp_listener_add(struct tcp_mod *t, struct tcp_ctr *ctr, uint64_t skaddr, uint32_t netns, uint32_t tgid,
		     const struct zt_addr *addr, uint16_t port)
{
	struct tcp_listener *l = calloc(1, sizeof(*l)), **twin;
	struct zt_str lv[4];
	if (!l)
		return -ENOMEM;
	/* adopted at start-up while its LISTEN event was in flight */
	twin = skaddr ? adopted_twin(t, netns, addr, port) : NULL;
	if (twin)
		listener_drop(t, twin);
	l->skaddr = skaddr;
	l->netns = netns;
	l->tgid = tgid;
	l->addr = *addr;
	l->port = port;
	l->ctr = ctr;
	zt_addr_port_format(addr, port, l->laddr, sizeof(l->laddr));
	l->next = t->listeners;
	t->listeners = l;
	ctr->listeners++;
	listener_label(l, lv);
	registry_set(t->m[M_LISTEN], lv, 1);
	return 0;
}

static int addr_any(const struct zt_addr *a)
{
	static const uint8_t any6[16], any4[16] = { [10] = 0xff, [11] = 0xff };
	return !memcmp(a->a, any6, 16) || !memcmp(a->a, any4, 16);
}

/* The listener a server-side connection came in through: same namespace
 * and port, its local address or a wildcard (an exact address wins). */
struct tcp_listener *tcp_listener_find(struct tcp_mod *t, uint32_t netns, const struct zt_addr *local, uint16_t port)
{
	struct tcp_listener *any = NULL;
	for (struct tcp_listener *l = t->listeners; l; l = l->next) {
		if (l->netns != netns || l->port != port)
			continue;
		if (!memcmp(&l->addr, local, sizeof(*local)))
			return l;
		if (!any && addr_any(&l->addr))
			any = l;
	}
	return any;
}

/* By socket address; else an adopted listener on the same address.
 * 0, or -ENOENT when no listener matches. */
int tcp_listener_remove(struct tcp_mod *t, const struct zt_tcp_ev *e)
{
	struct tcp_listener **pp;
	struct zt_addr addr;

	memcpy(addr.a, e->saddr, 16);
	for (pp = &t->listeners; *pp && (*pp)->skaddr != e->skaddr; pp = &(*pp)->next)
		;
	if (!*pp)
		pp = adopted_twin(t, e->netns, &addr, e->sport);
	if (!pp || !*pp)
		return -ENOENT;
	listener_drop(t, pp);
	return 0;
}

/* ------------------------------------------------------- after a poll */

static void export_rtt(struct tcp_mod *t, struct tcp_peer *p)
{
	struct zt_str lv[4];
	tcp_peer_lv(p, lv);
	if (p->rtt_n) {
		registry_set(t->m[M_RTT], lv, p->rtt_sum / p->rtt_n / 1e6);
		registry_set(t->m[M_RTTVAR], lv, p->rttvar_sum / p->rtt_n / 1e6);
		p->rtt_exported = 1;
	} else if (p->rtt_exported) {
		registry_remove(t->m[M_RTT], lv);
		registry_remove(t->m[M_RTTVAR], lv);
		p->rtt_exported = 0;
	}
}

/* container_net_latency_seconds: the container's outbound peers grouped by
 * ip (at most max_peers + 1 of them, so a quadratic grouping is fine). */
static int export_latency(struct tcp_mod *t, struct tcp_ctr *c)
{
	struct { const char *ip; double sum; uint32_t n; } *g = NULL;
	size_t ng = 0, cap = 0;
	struct zt_str lv[3];
	int err = 0;

	for (struct tcp_peer *p = c->peers; p; p = p->next_ctr) {
		size_t i;
		if (p->dir != PEER_OUT || !p->rtt_n)
			continue;
		for (i = 0; i < ng && strcmp(g[i].ip, p->b); i++)
			;
		if (i == ng) {
			if (ng == cap) {
				void *n = realloc(g, (cap = cap ? cap * 2 : 8) * sizeof(*g));
				if (!n) {
					err = -ENOMEM;
					goto out;
				}
				g = n;
			}
			g[ng++] = (typeof(*g)){ p->b, 0, 0 };
		}
		g[i].sum += p->rtt_sum;
		g[i].n += p->rtt_n;
	}
	tcp_ctr_lv(c, lv);
	/* drop the ips measured last time but not now */
	for (size_t j = 0; j < c->n_lat; j++) {
		size_t i;
		for (i = 0; i < ng && strcmp(g[i].ip, c->lat_ips[j]); i++)
			;
		if (i == ng) {
			lv[2] = (struct zt_str){ c->lat_ips[j], strlen(c->lat_ips[j]) };
			registry_remove(t->m[M_LATENCY], lv);
		}
	}
	if (ng > c->cap_lat) {
		void *n = realloc(c->lat_ips, ng * sizeof(*c->lat_ips));
		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		c->lat_ips = n;
		c->cap_lat = ng;
	}
	for (size_t i = 0; i < ng; i++) {
		lv[2] = (struct zt_str){ g[i].ip, strlen(g[i].ip) };
		registry_set(t->m[M_LATENCY], lv, g[i].sum / g[i].n / 1e6);
		snprintf(c->lat_ips[i], sizeof(c->lat_ips[i]), "%s", g[i].ip);
	}
	c->n_lat = ng;
out:
	free(g);
	return err;
}

void tcp_after_poll(struct tcp_mod *t)
{
	uint64_t now = loop_now_ns();

	for (uint32_t h = 0; h < TCP_CTR_BUCKETS; h++) {
		for (struct tcp_ctr *c = t->ctrs[h], *cn; c; c = cn) {
			cn = c->next;
			export_latency(t, c);
			for (struct tcp_peer *p = c->peers, *pn; p; p = pn) {
				pn = p->next_ctr;
				if (p->dir == PEER_OUT)
					export_rtt(t, p);
				p->rtt_sum = p->rttvar_sum = 0;
				p->rtt_n = 0;
				if (!p->live && now - p->last_active_ns > TCP_PEER_IDLE_NS)
					peer_free(t, p);
			}
			if (!c->peers && !c->conns && !c->listeners && !c->n_lat)
				tcp_ctr_free(t, c, 1);
		}
	}
}
