// SPDX-License-Identifier: Apache-2.0
/*
 * The L7 pipeline (see l7.h). One user-space connection per socket cookie
 * the kernel reported; its protocol (once claimed), the plugin's state, the
 * two byte streams and the pending requests.
 */
#include "l7.h"

#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "config.h"
#include "entities.h"
#include "kfeatures.h"
#include "l7_pair.h"
#include "l7_quant.h"
#include "l7_rules.h"
#include "l7_stream.h"
#include "log.h"
#include "loop.h"
#include "registry.h"
#include "sockdiag.h"
#include "spanq.h"
#include "tcp.h"

#include "l7.skel.h"

_Static_assert(offsetof(struct zt_l7_ev, data) == sizeof(struct zt_l7_ev), "payload offset");

#define L7_BUCKETS 16384
#define L7_TICK_NS 1000000000ull
#define L7_UDP_IDLE_NS (60ull * 1000000000ull)
#define L7_TCP_IDLE_NS (600ull * 1000000000ull)
#define L7_MAX_USER_CONNS 200000
/* latency quantiles: windows of 30 s (a quantile covers the last 30-60 s),
 * at most this many (protocol, role, container, destination) keys */
#define L7_LQ_PERIOD_NS (30ull * 1000000000ull)
#define L7_LQ_MAX 4096
#define L7_LQ_BUCKETS 1024
/* records of a connection not attributed yet: kept this long, this many */
#define L7_PEND_NS (5ull * 1000000000ull)
#define L7_PEND_MAX 4096

struct l7_proto {
	struct zt_instance *inst;
	struct zt_protocol_ops ops;
	void *state;
	char name[40];
	uint16_t idx;
	uint32_t capture;
	zt_metric *m_out, *m_out_h, *m_in, *m_in_h;
	struct registry_ref records_ref; /* zerotap_l7_records_total{protocol} */
	struct l7_stream_stats sst;
	struct l7_pair_stats pst;
	uint64_t by_rule, by_detect, conns, conns_total, unattributed, local_once;
};

struct zt_conn {
	struct l7_conn *c;
};

struct l7_conn {
	struct zt_conn handle;
	uint64_t cookie;
	uint32_t tgid;
	uint8_t transport, family, dead, attributed;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	struct l7_proto *proto;
	void *cs;
	struct l7_stream stream;
	struct l7_pairer pair;
	uint32_t cur_dir;
	uint32_t probes;
	uint64_t said_no; /* bit per protocol index */
	uint64_t last_ns;
	char cid[256], app[256], dest[64], actual[64];
	uint16_t cid_len, app_len; /* strlen, once attributed */
	uint32_t netns;
	uint8_t actual_tries;
	uint8_t role; /* ZT_ROLE_*, from the tcp feature (0: not known yet) */
	/* the series this connection's records go to, cached: its labels
	 * change only when it is attributed or its NAT destination is found
	 * (refs_key), and by status */
	uint8_t refs_key, st_next;
	struct l7_sref {
		uint8_t len;
		char status[15];
		struct registry_ref ref;
	} st_refs[2];
	struct registry_ref h_ref;
	struct l7_pend *pend; /* records waiting for the container (see pend_push) */
	uint32_t npend, cpend;
	uint64_t pend_since;
	struct l7_lq *lq; /* valid while lq_epoch equals the module's */
	uint64_t lq_epoch;
	/* Both ends on this host (see mirror_pair): the client side's
	 * connection speaks for the server side's (mirror); the server side's
	 * is fed nothing (mirrored_by) and makes its records from the client
	 * side's. */
	struct l7_conn *mirror, *mirrored_by;
	uint64_t nrec;   /* records made */
	uint8_t expired; /* freed at the next tick */
	struct l7_conn *next;
	struct l7_conn *tnext; /* by tuple (TCP) */
};

/* Latency quantiles of one (protocol, role, container, destination). */
struct l7_lq {
	uint64_t hash;
	uint32_t role;
	const char *proto; /* l7_proto.name: lives as long as the module */
	char cid[256], app[256], dest[64];
	struct lq_sketch sk;
	uint64_t last_ns;
	uint8_t dirty, shown;
	struct l7_lq *next;
};

struct l7_mod {
	struct agent *a;
	struct l7_bpf *skel;
	struct ring_buffer *rb;
	int up;
	struct l7_proto *protos[ZT_L7_MAX_PROTOS];
	struct l7_conn *buckets[L7_BUCKETS];
	struct l7_conn *tbuckets[L7_BUCKETS]; /* TCP connections by tuple */
	uint64_t nconns;
	uint64_t events, bytes, ignored, verdict_fail, table_full, unknown_proto, no_tuple;
	struct spanq *spans;
	zt_metric *m_conns, *m_detect, *m_perr, *m_resync, *m_lost, *m_unreq, *m_unresp, *m_ignored, *m_local_once, *m_unattr,
		*m_kernel, *m_ring_ev, *m_ring_bytes, *m_ring_lost, *m_spans, *m_spans_drop, *m_records, *m_lat, *m_dropped;
	struct l7_lq *lq[L7_LQ_BUCKETS];
	uint32_t nlq;
	uint64_t lq_epoch, lq_full;
	uint64_t timer, drain_timer;
	struct l7_conn *emitting; /* the connection whose parse() is running */
};

static struct l7_mod *M(struct agent *a)
{
	return a ? a->l7 : NULL;
}

/* ----------------------------------------------------------- metrics */

static const double default_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

static int register_self(struct l7_mod *m)
{
	static const char *const l_proto[] = { "protocol" };
	static const char *const l_det[] = { "protocol", "by" };
	static const char *const l_unreq[] = { "protocol", "reason" };
	static const char *const l_kernel[] = { "counter" };
	static const char *const l_ring[] = { "ring" };
	static const char *const l_reason[] = { "reason" };
	static const char *const l_lat[] = { "container_id", "app_id", "protocol", "role", "destination", "percentile" };
	const struct zt_metric_desc d[] = {
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_l7_connections", "Connections a protocol plugin is parsing now.", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_detections_total", "Connections claimed by a protocol, by a kernel rule or by detect().", l_det, 2 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_parse_errors_total", "parse() calls that returned INVALID.", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_resyncs_total", "parse() calls told that bytes were lost before them (ZT_CHUNK_GAP).", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_lost_bytes_total", "Stream bytes no parse() call saw (not captured, dropped, or beyond the kept buffer).", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_unmatched_requests_total", "Requests that got no response: timeout, evicted, or still waiting at close.", l_unreq, 2 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_unmatched_responses_total", "Responses with no request waiting for them.", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_ignored_connections_total", "Connections no protocol claimed (their capture stopped).", NULL, 0 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_local_once_connections_total", "Connections with both ends on this host whose server side was not captured: its records were made from the client side's (agent.l7_local_once).", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_unattributed_records_total", "Records whose process had no container yet (no metrics made).", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_kernel_total", "Kernel-side L7 counters: conns_full (entry refused), nobuf (message buffer not locatable), ignored_msgs.", l_kernel, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_ringbuf_events_total", "Records read from a BPF ring buffer.", l_ring, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_ringbuf_bytes_total", "Bytes read from a BPF ring buffer.", l_ring, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_ringbuf_lost_events_total", "Records the kernel could not reserve in a ring buffer (dropped).", l_ring, 1 },
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_span_queue_length", "Records waiting in the span queue for an exporter.", NULL, 0 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_span_queue_dropped_total", "Records not queued because the span queue was full (new records give way).", NULL, 0 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_records_total", "Records (paired requests) made, per protocol.", l_proto, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_l7_dropped_total", "L7 data the agent could not use: verdict_failed (a claim or stop not written to the kernel map), table_full (more connections than the agent tracks), unknown_protocol (claimed by a plugin since removed), no_tuple (a message of a connection the agent does not know, without its addresses).", l_reason, 1 },
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_container_l7_latency_seconds", "Request latency percentiles (50, 90, 99; within 1%) over the last 30 to 60 s, per protocol, role (client: the container sent the requests; server: it answered them) and destination (empty for the server role).", l_lat, 6 },
	};
	zt_metric **out[] = { &m->m_conns, &m->m_detect, &m->m_perr, &m->m_resync, &m->m_lost, &m->m_unreq,
			      &m->m_unresp, &m->m_ignored, &m->m_local_once, &m->m_unattr, &m->m_kernel, &m->m_ring_ev, &m->m_ring_bytes,
			      &m->m_ring_lost, &m->m_spans, &m->m_spans_drop, &m->m_records, &m->m_dropped, &m->m_lat };
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		int err = registry_register(m->a->reg, &d[i], out[i]);
		if (err)
			return err;
	}
	return 0;
}

/* "http_requests" -> "http_inbound_requests": METRICS.md's inbound names. */
static void inbound_stem(const char *stem, char *out, size_t len)
{
	const char *u = strrchr(stem, '_');
	if (!u)
		snprintf(out, len, "inbound_%s", stem);
	else
		snprintf(out, len, "%.*s_inbound_%s", (int)(u - stem), stem, u + 1);
}

static int register_proto_metrics(struct l7_mod *m, struct l7_proto *p)
{
	static const char *const l_out[] = { "container_id", "app_id", "destination", "actual_destination", "status" };
	static const char *const l_out_h[] = { "container_id", "app_id", "destination", "actual_destination" };
	static const char *const l_in[] = { "container_id", "app_id", "status" };
	static const char *const l_in_h[] = { "container_id", "app_id" };
	char n[4][160], in[96], help[4][160];
	const char *stem = p->ops.metric_stem;

	if (!stem)
		return 0;
	inbound_stem(stem, in, sizeof(in));
	snprintf(n[0], sizeof(n[0]), "container_%s_total", stem);
	snprintf(n[1], sizeof(n[1]), "container_%s_duration_seconds_total", stem);
	snprintf(n[2], sizeof(n[2]), "container_%s_total", in);
	snprintf(n[3], sizeof(n[3]), "container_%s_duration_seconds_total", in);
	snprintf(help[0], sizeof(help[0]), "Outbound %s requests (the container is the client), by status.", p->name);
	snprintf(help[1], sizeof(help[1]), "Latency of outbound %s requests.", p->name);
	snprintf(help[2], sizeof(help[2]), "Inbound %s requests (the container is the server), by status.", p->name);
	snprintf(help[3], sizeof(help[3]), "Latency of inbound %s requests.", p->name);
	const struct zt_metric_desc d[] = {
		{ sizeof(d[0]), ZT_METRIC_COUNTER, n[0], help[0], l_out, 5 },
		{ sizeof(d[0]), ZT_METRIC_HISTOGRAM, n[1], help[1], l_out_h, 4, 0, default_buckets, 11 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, n[2], help[2], l_in, 3 },
		{ sizeof(d[0]), ZT_METRIC_HISTOGRAM, n[3], help[3], l_in_h, 2, 0, default_buckets, 11 },
	};
	zt_metric **out[] = { &p->m_out, &p->m_out_h, &p->m_in, &p->m_in_h };
	for (size_t i = 0; i < 4; i++) {
		int err = registry_register(m->a->reg, &d[i], out[i]);
		if (err)
			return err;
	}
	return 0;
}

static void update_self(struct l7_mod *m)
{
	const struct zt_str ring = ZT_STR("l7");
	registry_set(m->m_ring_ev, &ring, (double)m->events);
	registry_set(m->m_ring_bytes, &ring, (double)m->bytes);
	registry_set(m->m_ignored, NULL, (double)m->ignored);
	registry_set(m->m_dropped, ZT_LV(ZT_STR("verdict_failed")), (double)m->verdict_fail);
	registry_set(m->m_dropped, ZT_LV(ZT_STR("table_full")), (double)m->table_full);
	registry_set(m->m_dropped, ZT_LV(ZT_STR("unknown_protocol")), (double)m->unknown_proto);
	registry_set(m->m_dropped, ZT_LV(ZT_STR("no_tuple")), (double)m->no_tuple);
	if (m->skel) {
		static const char *const names[] = { [ZT_L7_ST_CONNS_FULL] = "conns_full", [ZT_L7_ST_NOBUF] = "nobuf",
						     [ZT_L7_ST_IGNORED_MSGS] = "ignored_msgs" };
		int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(m->skel->maps.l7_stats);
		uint64_t *v = ncpu > 0 ? calloc((size_t)ncpu, sizeof(uint64_t)) : NULL;
		for (uint32_t k = 0; v && k < ZT_L7_ST_SLOTS; k++) {
			uint64_t sum = 0;
			if (bpf_map_lookup_elem(fd, &k, v))
				continue;
			for (int i = 0; i < ncpu; i++)
				sum += v[i];
			if (k == ZT_L7_ST_RING_LOST)
				registry_set(m->m_ring_lost, &ring, (double)sum);
			else if (k < sizeof(names) / sizeof(names[0]) && names[k])
				registry_set(m->m_kernel, ZT_LV({ names[k], strlen(names[k]) }), (double)sum);
		}
		free(v);
		features_prog_stats(m->a->features, "l7", m->skel->obj);
	}
	for (int i = 1; i < ZT_L7_MAX_PROTOS; i++) {
		struct l7_proto *p = m->protos[i];
		if (!p)
			continue;
		const struct zt_str lv[] = { { p->name, strlen(p->name) } };
		registry_set(m->m_conns, lv, (double)p->conns);
		registry_set(m->m_detect, ZT_LV(lv[0], ZT_STR("rule")), (double)p->by_rule);
		registry_set(m->m_detect, ZT_LV(lv[0], ZT_STR("detect")), (double)p->by_detect);
		registry_set(m->m_perr, lv, (double)p->sst.parse_errors);
		registry_set(m->m_resync, lv, (double)p->sst.resyncs);
		registry_set(m->m_lost, lv, (double)p->sst.lost_bytes);
		registry_set(m->m_unreq, ZT_LV(lv[0], ZT_STR("timeout")), (double)p->pst.expired_requests);
		registry_set(m->m_unreq, ZT_LV(lv[0], ZT_STR("closed")), (double)p->pst.unanswered_at_close);
		registry_set(m->m_unresp, lv, (double)p->pst.unmatched_responses);
		registry_set(m->m_unattr, lv, (double)p->unattributed);
		registry_set(m->m_local_once, lv, (double)p->local_once);
	}
	registry_set(m->m_spans, NULL, (double)spanq_length(m->spans));
	registry_set(m->m_spans_drop, NULL, (double)spanq_dropped(m->spans));
}

/* ------------------------------------------------------- connections */

static uint32_t bucket(uint64_t cookie)
{
	cookie ^= cookie >> 29;
	cookie *= 0xbf58476d1ce4e5b9ull;
	cookie ^= cookie >> 32;
	return (uint32_t)cookie & (L7_BUCKETS - 1);
}

static struct l7_conn *conn_find(struct l7_mod *m, uint64_t cookie)
{
	for (struct l7_conn *c = m->buckets[bucket(cookie)]; c; c = c->next)
		if (c->cookie == cookie)
			return c;
	return NULL;
}

static uint32_t tbucket(uint32_t netns, const uint8_t *la, uint16_t lp, const uint8_t *ra, uint16_t rp)
{
	uint64_t h = 1469598103934665603ull ^ netns;
	for (int i = 0; i < 16; i++)
		h = (h ^ la[i]) * 1099511628211ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ ra[i]) * 1099511628211ull;
	h = (h ^ ((uint64_t)lp << 16 | rp)) * 1099511628211ull;
	return bucket(h);
}

/* The connection whose local end is (la, lp) and remote end (ra, rp). */
static struct l7_conn *tuple_find(struct l7_mod *m, uint32_t netns, const uint8_t *la, uint16_t lp, const uint8_t *ra,
				  uint16_t rp)
{
	for (struct l7_conn *c = m->tbuckets[tbucket(netns, la, lp, ra, rp)]; c; c = c->tnext)
		if (c->netns == netns && c->lport == lp && c->rport == rp && !memcmp(c->laddr, la, 16) &&
		    !memcmp(c->raddr, ra, 16))
			return c;
	return NULL;
}

static void tuple_unlink(struct l7_mod *m, struct l7_conn *c)
{
	if (c->transport != ZT_L7_TCP)
		return;
	struct l7_conn **pp = &m->tbuckets[tbucket(c->netns, c->laddr, c->lport, c->raddr, c->rport)];
	while (*pp && *pp != c)
		pp = &(*pp)->tnext;
	if (*pp)
		*pp = c->tnext;
}

static void on_record(void *ctx, const struct l7_record *r);
static void pend_settle(struct l7_mod *m, struct l7_conn *c, uint64_t now);
static void mirror_unlink(struct l7_conn *c);

/* Frees a connection: the plugin's conn_close, pending requests counted. */
static void conn_free(struct l7_mod *m, struct l7_conn *c)
{
	struct l7_conn **pp = &m->buckets[bucket(c->cookie)];
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	tuple_unlink(m, c);
	mirror_unlink(c);
	if (c->proto) {
		c->proto->ops.conn_close(c->proto->state, c->cs);
		c->proto->conns--;
		l7_pair_free(&c->pair, &c->proto->pst);
	} else {
		l7_pair_free(&c->pair, NULL);
	}
	l7_stream_free(&c->stream);
	if (c->npend)
		pend_settle(m, c, UINT64_MAX);
	m->nconns--;
	free(c);
}

static struct l7_conn *conn_new(struct l7_mod *m, const struct zt_l7_ev *e)
{
	if (m->nconns >= L7_MAX_USER_CONNS) {
		m->table_full++;
		return NULL;
	}
	struct l7_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->handle.c = c;
	c->cookie = e->cookie;
	c->tgid = e->tgid;
	c->transport = e->transport;
	c->family = (uint8_t)e->family;
	c->lport = e->lport;
	c->rport = e->rport;
	memcpy(c->laddr, e->laddr, 16);
	memcpy(c->raddr, e->raddr, 16);
	struct zt_addr ra;
	memcpy(ra.a, e->raddr, 16);
	zt_addr_port_format(&ra, e->rport, c->dest, sizeof(c->dest));
	c->netns = e->netns;
	l7_stream_init(&c->stream);
	l7_pair_init(&c->pair, 0, 0);
	c->next = m->buckets[bucket(c->cookie)];
	m->buckets[bucket(c->cookie)] = c;
	if (c->transport == ZT_L7_TCP) {
		uint32_t t = tbucket(c->netns, c->laddr, c->lport, c->raddr, c->rport);
		c->tnext = m->tbuckets[t];
		m->tbuckets[t] = c;
	}
	m->nconns++;
	return c;
}

static void attribute(struct l7_mod *m, struct l7_conn *c)
{
	if (c->attributed)
		return;
	if (!entities_process_ident(m->a->ents, c->tgid, c->cid, sizeof(c->cid), c->app, sizeof(c->app))) {
		c->attributed = 1;
		c->cid_len = (uint16_t)strlen(c->cid);
		c->app_len = (uint16_t)strlen(c->app);
	}
}

/* TCP: the tcp feature's table knows who connected (its ring is read
 * before this one); looked up until known */
static uint8_t conn_role(struct l7_mod *m, struct l7_conn *c)
{
	if (!c->role && c->transport == ZT_L7_TCP)
		c->role = (uint8_t)tcp_conn_role(features_tcp(m->a->features), c->netns, c->laddr, c->lport, c->raddr,
						 c->rport);
	return c->role;
}

static void conn_info(struct l7_mod *m, struct l7_conn *c, struct zt_conn_info *ci)
{
	attribute(m, c);
	memset(ci, 0, sizeof(*ci));
	ci->struct_size = sizeof(*ci);
	ci->transport = c->transport == ZT_L7_UDP ? ZT_TRANSPORT_UDP : ZT_TRANSPORT_TCP;
	ci->role = conn_role(m, c);
	ci->pid = c->tgid;
	ci->conn_id = c->cookie;
	ci->family = c->family;
	ci->local_port = c->lport;
	ci->remote_port = c->rport;
	memcpy(ci->local_addr, c->laddr, 16);
	memcpy(ci->remote_addr, c->raddr, 16);
	ci->container_id = c->attributed ? (struct zt_str){ c->cid, strlen(c->cid) } : (struct zt_str){ "", 0 };
	ci->app_id = c->attributed ? (struct zt_str){ c->app, strlen(c->app) } : (struct zt_str){ "", 0 };
}

static void send_verdict(struct l7_mod *m, uint64_t cookie, uint8_t policy, const struct l7_proto *p);

/* Capture stops at the connection's next message (the kernel applies the
 * verdict to its own per-socket entry). */
static void stop_capture(struct l7_mod *m, uint64_t cookie)
{
	send_verdict(m, cookie, ZT_L7_IGNORED, NULL);
}

/* A claim decided in user space: the kernel applies it itself at the
 * connection's next message, so the stream offsets stay exact. */
static void send_verdict(struct l7_mod *m, uint64_t cookie, uint8_t policy, const struct l7_proto *p)
{
	struct zt_l7_verdict v = { .policy = policy };
	if (p) {
		v.proto = p->idx;
		v.capture = p->capture;
	}
	if (!m->skel || bpf_map_update_elem(bpf_map__fd(m->skel->maps.l7_verdicts), &cookie, &v, BPF_ANY))
		m->verdict_fail++;
	else
		__atomic_add_fetch(&m->skel->bss->verdict_gen, 1, __ATOMIC_RELEASE);
}

/* Nobody wants it, or its plugin gave up: capture stops, the entry stays
 * (dead) until the socket closes so late events are dropped quietly. */
static void conn_ignore(struct l7_mod *m, struct l7_conn *c)
{
	mirror_unlink(c);
	if (c->proto) {
		c->proto->ops.conn_close(c->proto->state, c->cs);
		c->proto->conns--;
		l7_pair_free(&c->pair, &c->proto->pst);
		l7_pair_init(&c->pair, 0, 0);
		c->proto = NULL;
		c->cs = NULL;
	}
	l7_stream_free(&c->stream);
	if (!c->dead)
		m->ignored++;
	c->dead = 1;
	stop_capture(m, c->cookie);
}

/*
 * A TCP connection with both ends on this host (the same network
 * namespace, both ends' messages seen) is parsed once: on its client side.
 * The server side's connection stops its capture (the kernel then runs
 * only its entry lookup for it) and gets, for every record of the client
 * side, the same record with the server role, under its own container.
 * The traced server saves a payload copy per message, the agent a parse.
 * Only while neither side made a record yet, both claimed by the same
 * protocol, and the tcp feature knows which side connected.
 */
static void mirror_pair(struct l7_mod *m, struct l7_conn *c)
{
	struct l7_conn *o, *cl, *sv;

	if (!m->a->cfg->l7_local_once || c->transport != ZT_L7_TCP)
		return;
	o = tuple_find(m, c->netns, c->raddr, c->rport, c->laddr, c->lport);
	if (!o || o == c || o->proto != c->proto || o->dead || o->mirror || o->mirrored_by || c->nrec || o->nrec)
		return;
	conn_role(m, o);
	if (c->role == ZT_ROLE_CLIENT && o->role == ZT_ROLE_SERVER) {
		cl = c;
		sv = o;
	} else if (c->role == ZT_ROLE_SERVER && o->role == ZT_ROLE_CLIENT) {
		cl = o;
		sv = c;
	} else {
		return;
	}
	/* what the server side parsed so far made no record: dropped */
	l7_pair_free(&sv->pair, NULL);
	l7_pair_init(&sv->pair, c->proto->ops.max_pending, c->proto->ops.request_timeout_ns);
	l7_stream_free(&sv->stream);
	l7_stream_init(&sv->stream);
	cl->mirror = sv;
	sv->mirrored_by = cl;
	c->proto->local_once++;
	stop_capture(m, sv->cookie);
}

static int conn_open(struct l7_mod *m, struct l7_conn *c, struct l7_proto *p)
{
	struct zt_conn_info ci;
	conn_info(m, c, &ci);
	c->cs = NULL;
	if (p->ops.conn_open(p->state, &ci, &c->handle, &c->cs)) {
		conn_ignore(m, c);
		return -1;
	}
	c->proto = p;
	p->conns++;
	p->conns_total++;
	l7_pair_free(&c->pair, NULL);
	l7_pair_init(&c->pair, p->ops.max_pending, p->ops.request_timeout_ns);
	l7_pair_early_window(&c->pair, L7_EARLY_WINDOW_NS);
	mirror_pair(m, c);
	return 0;
}

/* The pair ends: the server side's connection goes at the next tick (its
 * capture stopped: nothing more comes for it, maybe not even its CLOSE). */
static void mirror_unlink(struct l7_conn *c)
{
	struct l7_conn *s = c->mirror, *cl = c->mirrored_by;
	if (s) {
		s->mirrored_by = NULL;
		s->dead = 1;
		s->expired = 1;
		c->mirror = NULL;
	}
	if (cl) {
		cl->mirror = NULL;
		c->mirrored_by = NULL;
	}
}

/* --------------------------------------------------- latency quantiles */

static uint64_t lq_hash(const char *proto, uint32_t role, const char *cid, const char *dest)
{
	uint64_t h = 1469598103934665603ull ^ role;
	for (const char *v[] = { proto, cid, dest }, **s = v; s < v + 3; s++) {
		for (const char *q = *s; *q; q++)
			h = (h ^ (uint8_t)*q) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static const char *role_name(uint32_t role)
{
	return role == ZT_ROLE_SERVER ? "server" : "client";
}

static void lq_set(struct l7_mod *m, struct l7_lq *q, int remove)
{
	static const char *const qs[] = { "50", "90", "99" };
	static const double qv[] = { 0.5, 0.9, 0.99 };
	const char *rn = role_name(q->role);
	const char *dest = q->role == ZT_ROLE_SERVER ? "" : q->dest;
	for (int i = 0; i < 3; i++) {
		const struct zt_str *lv = ZT_LV({ q->cid, strlen(q->cid) }, { q->app, strlen(q->app) },
						 { q->proto, strlen(q->proto) }, { rn, strlen(rn) },
						 { dest, strlen(dest) }, { qs[i], strlen(qs[i]) });
		if (remove)
			registry_remove(m->m_lat, lv);
		else
			registry_set(m->m_lat, lv, lq_quantile(&q->sk, qv[i]));
	}
	q->shown = !remove;
}

/* The connection's latency sketch (found once, then cached), and a value. */
static void lq_observe(struct l7_mod *m, struct l7_conn *c, uint32_t role, double seconds)
{
	struct l7_lq *q = c->lq_epoch == m->lq_epoch ? c->lq : NULL;
	if (q && q->role != role)
		q = NULL;
	if (!q) {
		const char *dest = role == ZT_ROLE_SERVER ? "" : c->dest;
		uint64_t h = lq_hash(c->proto->name, role, c->cid, dest);
		struct l7_lq **b = &m->lq[h % L7_LQ_BUCKETS];
		for (q = *b; q; q = q->next)
			if (q->hash == h && q->role == role && q->proto == c->proto->name && !strcmp(q->cid, c->cid) &&
			    !strcmp(q->dest, dest))
				break;
		if (!q) {
			if (m->nlq >= L7_LQ_MAX || !(q = calloc(1, sizeof(*q)))) {
				m->lq_full++;
				return;
			}
			q->hash = h;
			q->role = role;
			q->proto = c->proto->name;
			snprintf(q->cid, sizeof(q->cid), "%s", c->cid);
			snprintf(q->app, sizeof(q->app), "%s", c->app);
			snprintf(q->dest, sizeof(q->dest), "%s", dest);
			lq_init(&q->sk, loop_now_ns());
			q->next = *b;
			*b = q;
			m->nlq++;
		}
		c->lq = q;
		c->lq_epoch = m->lq_epoch;
	}
	if (!lq_add(&q->sk, seconds))
		q->dirty = 1;
}

/* Each tick: rotate windows, publish what changed, forget idle keys. */
static void lq_tick(struct l7_mod *m, uint64_t now)
{
	for (uint32_t b = 0; b < L7_LQ_BUCKETS; b++) {
		for (struct l7_lq **pp = &m->lq[b], *q; (q = *pp);) {
			uint64_t before = lq_count(&q->sk);
			lq_rotate(&q->sk, now, L7_LQ_PERIOD_NS);
			uint64_t n = lq_count(&q->sk);
			if (!n) {
				if (q->shown)
					lq_set(m, q, 1);
				*pp = q->next;
				lq_free(&q->sk);
				free(q);
				m->nlq--;
				m->lq_epoch++; /* connections drop their cached pointers */
				continue;
			}
			if (q->dirty || n != before)
				lq_set(m, q, 0);
			q->dirty = 0;
			pp = &q->next;
		}
	}
}

static void lq_free_all(struct l7_mod *m)
{
	for (uint32_t b = 0; b < L7_LQ_BUCKETS; b++)
		while (m->lq[b]) {
			struct l7_lq *q = m->lq[b];
			m->lq[b] = q->next;
			lq_free(&q->sk);
			free(q);
		}
	m->nlq = 0;
	m->lq_epoch++;
}

/* ------------------------------------------------------------ records */

/* The part of a record that needs the connection's container: the
 * METRICS.md families (metric_stem) and the latency percentiles. */
struct l7_pend {
	uint32_t role, flags;
	uint64_t start_ns, end_ns;
	uint8_t slen;
	char status[L7_STATUS_MAX];
};

static void count_record(struct l7_mod *m, struct l7_conn *c, const struct l7_pend *r)
{
	struct l7_proto *p = c->proto;
	struct zt_str status = { r->status, r->slen };
	int timed = !(r->flags & (L7_REC_TIMEOUT | L7_REC_ONEWAY)) && r->start_ns && r->end_ns >= r->start_ns;
	double lat = timed ? (r->end_ns - r->start_ns) / 1e9 : 0;

	if (timed)
		lq_observe(m, c, r->role, lat);
	if (!p->m_out || !(r->flags & L7_REC_ONEWAY || r->start_ns))
		return;
	struct zt_str cid = { c->cid, c->cid_len }, app = { c->app, c->app_len };
	struct zt_str dest = { c->dest, strlen(c->dest) };
	/* NAT resolved by the tcp feature's table (conntrack), for
	 * connections it tracks; else the destination itself */
	if (!c->actual[0] && c->actual_tries < 3 && r->role == ZT_ROLE_CLIENT) {
		c->actual_tries++;
		if (tcp_actual_destination(features_tcp(m->a->features), c->netns, c->laddr, c->lport, c->raddr, c->rport,
					   c->actual, sizeof(c->actual)))
			c->actual[0] = 0;
	}
	struct zt_str act = c->actual[0] ? (struct zt_str){ c->actual, strlen(c->actual) } : dest;
	uint8_t key = 1 | (c->actual[0] ? 2 : 0);
	if (c->refs_key != key) {
		memset(c->st_refs, 0, sizeof(c->st_refs));
		memset(&c->h_ref, 0, sizeof(c->h_ref));
		c->refs_key = key;
	}
	struct registry_ref *sr = NULL;
	if (status.len <= sizeof(c->st_refs[0].status)) {
		for (int i = 0; i < 2 && !sr; i++)
			if (c->st_refs[i].len == status.len && c->st_refs[i].ref.series &&
			    !memcmp(c->st_refs[i].status, status.ptr, status.len))
				sr = &c->st_refs[i].ref;
		if (!sr) {
			struct l7_sref *e = &c->st_refs[c->st_next++ & 1];
			memset(e, 0, sizeof(*e));
			e->len = (uint8_t)status.len;
			memcpy(e->status, status.ptr, status.len);
			sr = &e->ref;
		}
	}
	struct registry_ref scratch = { 0 };
	if (!sr)
		sr = &scratch;
	if (r->role == ZT_ROLE_CLIENT) {
		registry_add_ref(p->m_out, sr, ZT_LV(cid, app, dest, act, status), 1);
		if (timed)
			registry_observe_ref(p->m_out_h, &c->h_ref, ZT_LV(cid, app, dest, act), lat);
	} else {
		registry_add_ref(p->m_in, sr, ZT_LV(cid, app, status), 1);
		if (timed)
			registry_observe_ref(p->m_in_h, &c->h_ref, ZT_LV(cid, app), lat);
	}
}

/* Records of a connection whose process is not in the entity table yet
 * (its exec event not handled: discovery can run behind the L7 ring under
 * load) wait, and are counted once it is; after L7_PEND_NS, or beyond
 * L7_PEND_MAX, they are dropped as unattributed. */
static void pend_flush(struct l7_mod *m, struct l7_conn *c)
{
	for (uint32_t i = 0; i < c->npend; i++)
		count_record(m, c, &c->pend[i]);
	free(c->pend);
	c->pend = NULL;
	c->npend = c->cpend = 0;
}

static void pend_drop(struct l7_conn *c)
{
	if (c->proto)
		c->proto->unattributed += c->npend;
	free(c->pend);
	c->pend = NULL;
	c->npend = c->cpend = 0;
}

static void pend_push(struct l7_conn *c, const struct l7_pend *r)
{
	if (c->npend == c->cpend) {
		uint32_t cap = c->cpend ? c->cpend * 2 : 8;
		struct l7_pend *n = cap <= L7_PEND_MAX ? realloc(c->pend, cap * sizeof(*n)) : NULL;
		if (!n) {
			c->proto->unattributed++;
			return;
		}
		c->pend = n;
		c->cpend = cap;
	}
	if (!c->npend)
		c->pend_since = loop_now_ns();
	c->pend[c->npend++] = *r;
}

/* A record of connection c (its own, or its client side's, mirrored). */
static void record_one(struct l7_mod *m, struct l7_conn *c, struct l7_proto *p, const struct l7_record *r)
{
	struct zt_str status = r->status_label;

	if (!status.len)
		status = r->status == ZT_STATUS_OK ? ZT_STR("ok") : r->status == ZT_STATUS_FAILED ? ZT_STR("failed")
											: ZT_STR("unknown");
	struct l7_pend pr = { .role = r->role, .flags = r->flags, .start_ns = r->start_ns, .end_ns = r->end_ns };
	pr.slen = (uint8_t)(status.len < sizeof(pr.status) ? status.len : sizeof(pr.status));
	memcpy(pr.status, status.ptr, pr.slen);
	c->nrec++;
	attribute(m, c);
	if (c->attributed) {
		if (c->npend)
			pend_flush(m, c);
		count_record(m, c, &pr);
	} else {
		pend_push(c, &pr);
	}
	registry_add_ref(m->m_records, &p->records_ref, ZT_LV({ p->name, strlen(p->name) }), 1);
	if (p->ops.on_record) {
		struct zt_record zr = {
			.struct_size = sizeof(zr),
			.role = r->role,
			.status = r->status,
			.flags = r->flags,
			.id = r->id,
			.start_ns = r->start_ns,
			.end_ns = r->end_ns,
			.request_size = r->req_size,
			.response_size = r->resp_size,
			.method = r->method,
			.resource = r->resource,
			.statement = r->statement,
			.status_label = r->status_label,
			.error = r->error,
			.attrs = r->attrs,
			.attr_count = r->attr_count,
		};
		p->ops.on_record(p->state, c->cs, &zr);
	}
	spanq_push(m->spans, p->name, c->attributed ? c->cid : "", c->dest, r);
}

static void on_record(void *ctx, const struct l7_record *r)
{
	struct l7_conn *c = ctx;
	struct l7_proto *p = c->proto;
	struct l7_mod *m = M(g_agent);

	if (!p || !m)
		return;
	record_one(m, c, p, r);
	if (c->mirror && c->mirror->proto == p) {
		/* the same exchange, seen from the server side */
		struct l7_record sr = *r;
		sr.role = r->role == ZT_ROLE_SERVER ? ZT_ROLE_CLIENT : ZT_ROLE_SERVER;
		record_one(m, c->mirror, p, &sr);
	}
}

/* Waiting records: counted if the container is known now, dropped when
 * they waited too long (now = UINT64_MAX: last chance, at close). */
static void pend_settle(struct l7_mod *m, struct l7_conn *c, uint64_t now)
{
	attribute(m, c);
	if (c->attributed)
		pend_flush(m, c);
	else if (now == UINT64_MAX || now - c->pend_since > L7_PEND_NS)
		pend_drop(c);
}

int l7_frame_emit(struct zt_conn *h, const struct zt_frame *fin)
{
	struct zt_frame f = { 0 };
	struct l7_conn *c;

	if (!h || !fin || fin->struct_size < offsetof(struct zt_frame, attrs))
		return -EINVAL;
	c = h->c;
	if (!c || !c->proto)
		return -EINVAL;
	memcpy(&f, fin, fin->struct_size < sizeof(f) ? fin->struct_size : sizeof(f));
	return l7_pair_frame(&c->pair, c->cur_dir, &f, on_record, c, &c->proto->pst);
}

/* -------------------------------------------------------------- events */

static uint32_t parse_cb(void *ctx, const struct zt_chunk *ch, uint64_t *consumed)
{
	struct l7_conn *c = ctx;
	return c->proto->ops.parse(c->proto->state, c->cs, &c->handle, ch, consumed);
}

static void feed(struct l7_mod *m, struct l7_conn *c, const struct zt_l7_ev *e, size_t cap)
{
	struct l7_msg msg = {
		.dir = e->dir & 1,
		.offset = e->offset,
		.len = e->len,
		.data = e->data,
		.cap_len = cap,
		.ts_ns = e->ts_ns,
		.peer_family = e->peer_family,
		.peer_port = e->peer_port,
	};
	memcpy(msg.peer_addr, e->peer_addr, 16);
	c->cur_dir = msg.dir;
	uint32_t r = l7_stream_feed(&c->stream, &msg, parse_cb, c, &c->proto->sst);
	if (r != ZT_PARSE_OK)
		conn_ignore(m, c);
}

/* An unclaimed connection's message: the plugins' detect(), the one a
 * kernel rule pointed at (ZT_L7F_ASK) first. */
static void detect(struct l7_mod *m, struct l7_conn *c, const struct zt_l7_ev *e, size_t cap)
{
	struct zt_conn_info ci;
	struct zt_chunk ch = {
		.struct_size = sizeof(ch),
		.direction = e->dir & 1,
		.flags = ZT_CHUNK_MSG_START,
		.first_ts_ns = e->ts_ns,
		.ts_ns = e->ts_ns,
		.offset = e->offset,
		.data = e->data,
		.len = cap,
		.avail = e->len,
		.peer_family = e->peer_family,
		.peer_port = e->peer_port,
	};
	int open = 0;

	memcpy(ch.peer_addr, e->peer_addr, 16);
	conn_info(m, c, &ci);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 1; i < ZT_L7_MAX_PROTOS; i++) {
			struct l7_proto *p = m->protos[i];
			if (!p || (c->said_no & (1ull << i)))
				continue;
			if ((pass == 0) != ((e->flags & ZT_L7F_ASK) && e->proto == i))
				continue;
			if (!p->ops.detect || !(p->ops.transports & ci.transport)) {
				c->said_no |= 1ull << i;
				continue;
			}
			uint32_t v = p->ops.detect(p->state, &ci, &ch);
			if (v == ZT_DETECT_YES) {
				p->by_detect++;
				if (conn_open(m, c, p) || c->mirrored_by) /* mirrored: capture stopped */
					return;
				send_verdict(m, c->cookie, ZT_L7_CLAIMED, p);
				feed(m, c, e, cap);
				return;
			}
			if (v == ZT_DETECT_NO)
				c->said_no |= 1ull << i;
			else
				open++;
		}
	}
	c->probes++;
	if (!open || c->probes >= ZT_L7_PROBE_MSGS)
		conn_ignore(m, c);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct l7_mod *m = ctx;
	const struct zt_l7_ev *e = data;
	struct l7_conn *c;
	size_t cap;

	m->events++;
	m->bytes += size;
	if (size < sizeof(*e))
		return 0;
	cap = e->cap_len <= size - sizeof(*e) ? e->cap_len : size - sizeof(*e);
	if (e->flags & ZT_L7F_UNKNOWN_BUF)
		cap = 0;
	c = conn_find(m, e->cookie);
	if (e->type == ZT_L7_CLOSE) {
		if (c && !c->mirrored_by) /* else its records still come from the client side */
			conn_free(m, c);
		return 0;
	}
	if (e->type != ZT_L7_DATA)
		return 0;
	if (!c) {
		/* a connection user space does not know (new, or forgotten
		 * while idle): its events carry the tuple then, unless those
		 * were lost in the ring */
		if (!(e->flags & ZT_L7F_TUPLE)) {
			m->no_tuple++;
			return 0;
		}
		c = conn_new(m, e);
		if (!c)
			return 0;
	}
	c->last_ns = e->ts_ns;
	if (c->mirror)
		c->mirror->last_ns = e->ts_ns;
	if (c->dead || c->mirrored_by)
		return 0;
	if (!c->proto && e->proto && !(e->flags & ZT_L7F_ASK)) { /* a kernel rule claimed it */
		struct l7_proto *p = e->proto < ZT_L7_MAX_PROTOS ? m->protos[e->proto] : NULL;
		if (!p) { /* its plugin is gone */
			m->unknown_proto++;
			conn_ignore(m, c);
			return 0;
		}
		p->by_rule++;
		if (conn_open(m, c, p) || c->mirrored_by)
			return 0;
	}
	if (c->proto) {
		feed(m, c, e, cap);
		return 0;
	}
	detect(m, c, e, cap);
	return 0;
}

/* ---------------------------------------------------------------- rules */

static void load_rules(struct l7_mod *m)
{
	uint32_t n = 0, probe = 64;
	int fd;

	if (!m->skel)
		return;
	fd = bpf_map__fd(m->skel->maps.l7_rules);
	for (int i = 1; i < ZT_L7_MAX_PROTOS; i++) {
		struct l7_proto *p = m->protos[i];
		const struct zt_detect_rule *rules = NULL;
		size_t nr;
		if (!p)
			continue;
		if (p->capture > probe)
			probe = p->capture;
		if (!p->ops.rules)
			continue;
		nr = p->ops.rules(p->state, &rules);
		for (size_t j = 0; rules && j < nr; j++) {
			struct zt_l7_rule k;
			char err[256];
			if (n >= ZT_L7_MAX_RULES) {
				log_msg(ZT_LOG_WARN, p->name, "more than %d detection rules in all: rule %zu and later ignored",
					ZT_L7_MAX_RULES, j);
				break;
			}
			if (l7_rule_compile(&rules[j], p->idx, p->capture, p->ops.transports, &k, err, sizeof(err))) {
				log_msg(ZT_LOG_WARN, p->name, "detection rule %zu ignored: %s", j, err);
				continue;
			}
			if (bpf_map_update_elem(fd, &n, &k, BPF_ANY) == 0)
				n++;
		}
	}
	m->skel->bss->probe_capture = probe > ZT_L7_CAP_MAX ? ZT_L7_CAP_MAX : probe;
	m->skel->bss->nrules = n;
}

/* ----------------------------------------------------------- the feature */

static void drain(struct l7_mod *m)
{
	features_drain(m->a->features); /* processes first: attribution */
	if (m->rb)
		ring_buffer__consume(m->rb);
}

static void on_ready(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	drain(arg);
}

static void on_drain_timer(void *arg)
{
	drain(arg);
}

static void on_tick(void *arg)
{
	struct l7_mod *m = arg;
	uint64_t now = loop_now_ns();

	drain(m);
	for (uint32_t b = 0; b < L7_BUCKETS; b++) {
		for (struct l7_conn *c = m->buckets[b], *n; c; c = n) {
			n = c->next;
			uint64_t idle = now > c->last_ns ? now - c->last_ns : 0;
			if (c->expired || idle > (c->transport == ZT_L7_UDP ? L7_UDP_IDLE_NS : L7_TCP_IDLE_NS)) {
				if (c->proto) /* whatever still waits expires first */
					l7_pair_expire(&c->pair, UINT64_MAX, on_record, c, &c->proto->pst);
				conn_free(m, c);
				continue;
			}
			if (c->proto && (c->pair.len || c->pair.early))
				l7_pair_expire(&c->pair, now, on_record, c, &c->proto->pst);
			if (c->npend)
				pend_settle(m, c, now);
		}
	}
	lq_tick(m, now);
	update_self(m);
}

static int start_kernel(struct l7_mod *m)
{
	int err;

	features_clear_libbpf_warning();
	m->skel = l7_bpf__open();
	if (!m->skel) {
		err = -errno;
		goto fail;
	}
	err = l7_bpf__load(m->skel);
	if (err)
		goto fail;
	m->skel->bss->self_tgid = (uint32_t)getpid();
	load_rules(m);
	err = l7_bpf__attach(m->skel);
	if (err)
		goto fail;
	m->rb = ring_buffer__new(bpf_map__fd(m->skel->maps.l7_rb), on_event, m, NULL);
	if (!m->rb) {
		err = -errno;
		goto fail;
	}
	loop_fd_add(m->a->loop, m, ring_buffer__epoll_fd(m->rb), ZT_FD_READ, on_ready, m);
	features_report(m->a->features, "l7", 1);
	m->up = 1;
	return 0;
fail: {
	const char *w = features_last_libbpf_warning();
	log_msg(ZT_LOG_ERROR, NULL, "feature 'l7' disabled: %s%s%s%s (request metrics will be missing)",
		strerror(err < 0 ? -err : err), w[0] ? " [libbpf: " : "", w, w[0] ? "]" : "");
}
	ring_buffer__free(m->rb);
	m->rb = NULL;
	l7_bpf__destroy(m->skel);
	m->skel = NULL;
	features_report(m->a->features, "l7", 0);
	return err;
}

static struct l7_mod *ensure(struct agent *a)
{
	struct l7_mod *m = a->l7;
	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->a = a;
	m->spans = spanq_new(2048);
	if (!m->spans || register_self(m)) {
		spanq_free(m->spans);
		free(m);
		return NULL;
	}
	a->l7 = m;
	start_kernel(m); /* a refused feature leaves the protocols registered, idle */
	loop_timer_add(a->loop, m, L7_TICK_NS, on_tick, m, &m->timer);
	/* The kernel wakes the agent only for a fast-growing backlog: the
	 * rest is read on this timer (agent.drain_interval_ms), which also
	 * bounds how long an undecided connection waits for detect(). */
	loop_timer_add(a->loop, m, (uint64_t)a->cfg->drain_interval_ms * 1000000ull, on_drain_timer, m,
		       &m->drain_timer);
	return m;
}

int l7_protocol_add(struct agent *a, struct zt_instance *inst, const char *name, const struct zt_protocol_ops *ops,
		    void *state)
{
	struct l7_mod *m = ensure(a);
	struct l7_proto *p;
	int idx = 0, err;

	if (!m)
		return -ENOMEM;
	for (int i = 1; i < ZT_L7_MAX_PROTOS; i++)
		if (!m->protos[i]) {
			idx = i;
			break;
		}
	if (!idx) {
		log_msg(ZT_LOG_ERROR, name, "too many protocol instances (at most %d)", ZT_L7_MAX_PROTOS - 1);
		return -ENOSPC;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->inst = inst;
	p->ops = *ops;
	p->state = state;
	p->idx = (uint16_t)idx;
	p->capture = l7_capture_bytes(ops->capture_bytes);
	if (!p->ops.transports)
		p->ops.transports = ZT_TRANSPORT_TCP;
	snprintf(p->name, sizeof(p->name), "%s", name);
	err = register_proto_metrics(m, p);
	if (err) {
		log_msg(ZT_LOG_ERROR, name, "metric families: %s", strerror(-err));
		free(p);
		return err;
	}
	m->protos[idx] = p;
	load_rules(m);
	return 0;
}

void l7_protocol_remove(struct agent *a, struct zt_instance *inst)
{
	struct l7_mod *m = M(a);
	if (!m)
		return;
	for (int i = 1; i < ZT_L7_MAX_PROTOS; i++) {
		struct l7_proto *p = m->protos[i];
		if (!p || p->inst != inst)
			continue;
		drain(m);
		for (uint32_t b = 0; b < L7_BUCKETS; b++)
			for (struct l7_conn *c = m->buckets[b], *n; c; c = n) {
				n = c->next;
				if (c->proto == p)
					conn_ignore(m, c);
				c->said_no &= ~(1ull << i);
			}
		m->protos[i] = NULL;
		load_rules(m);
		free(p);
	}
}

void l7_stop(struct agent *a)
{
	struct l7_mod *m = M(a);
	if (!m)
		return;
	loop_remove_owner(a->loop, m);
	if (m->skel) {
		struct bpf_object_skeleton *sk = m->skel->skeleton;
		features_detach_parallel(&sk, 1);
	}
	for (uint32_t b = 0; b < L7_BUCKETS; b++)
		while (m->buckets[b])
			conn_free(m, m->buckets[b]);
	ring_buffer__free(m->rb);
	l7_bpf__destroy(m->skel);
	spanq_free(m->spans);
	lq_free_all(m);
	for (int i = 1; i < ZT_L7_MAX_PROTOS; i++)
		free(m->protos[i]);
	free(m);
	a->l7 = NULL;
}
