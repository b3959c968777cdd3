/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcached protocol plugin: the text protocol (storage, retrieval,
 * delete/incr/decr/touch, gat, flush_all, version, stats, verbosity, the
 * noreply variants), the meta commands (mg, ms, md, ma, mn) and the binary
 * protocol (24-byte headers, quiet opcodes closed by NOOP), on both the
 * client and the server side of a connection.
 *
 * The plugin pairs requests and replies itself and hands the core frames
 * with ZT_PAIR_ID and its own sequence numbers: memcached answers in order,
 * but quiet requests (binary GETQ/SETQ/..., meta's q flag) answer only
 * when there is something to say, so a plain FIFO would give a NOOP's
 * reply to a quiet GETKQ. A reply settles every quiet request queued
 * before the one it answers (they were answered by silence, which means
 * success). noreply commands get no reply at all: they are ONEWAY records
 * at once. README.md has the wire-format notes and the choices made.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mc_int.h"

#define MC_HUNT_GIVE_UP 64 /* message starts skipped before any memcached was seen: not memcached */

struct mc_state {
	const struct zt_host *host;
	zt_instance *inst;
	struct zt_detect_rule rules[20];
	size_t nrules;
};

static const struct zt_config_field mc_config[] = {
	{ "port", ZT_CFG_INT, 0, "11211",
	  "Server port on which the kernel claims connections at their first command (elsewhere detect() "
	  "decides from the first command line or binary header); 0: no kernel claim rules.",
	  0, 65535 },
	ZT_CFG_END,
};

size_t mc_put(char *buf, size_t len, size_t cap, const char *s, size_t n)
{
	if (len >= cap)
		return len;
	if (n > cap - len)
		n = cap - len;
	memcpy(buf + len, s, n);
	return len + n;
}

/* ---------------------------------------------------------------- queue */

struct mc_pending *mc_queue_at(struct mc_queue *q, uint32_t i)
{
	return i < q->len ? &q->e[(q->head + i) % q->cap] : NULL;
}

/* Removes entry i, keeping the order of the others. */
void mc_queue_drop(struct mc_queue *q, uint32_t i)
{
	if (i >= q->len)
		return;
	for (uint32_t k = i; k > 0; k--)
		q->e[(q->head + k) % q->cap] = q->e[(q->head + k - 1) % q->cap];
	q->head = (q->head + 1) % q->cap;
	q->len--;
}

void mc_queue_clear(struct mc_queue *q)
{
	q->head = q->len = 0;
}

static int queue_push(struct mc_queue *q, const struct mc_pending *p)
{
	if (q->len == MC_QUEUE_MAX) /* the oldest gives way; the core expires its request */
		mc_queue_drop(q, 0);
	if (q->len == q->cap) {
		uint32_t cap = q->cap ? q->cap * 2 : 8;
		struct mc_pending *e = malloc(cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		for (uint32_t i = 0; i < q->len; i++)
			e[i] = q->e[(q->head + i) % q->cap];
		free(q->e);
		q->e = e;
		q->cap = cap;
		q->head = 0;
	}
	q->e[(q->head + q->len) % q->cap] = *p;
	q->len++;
	return 0;
}

/* --------------------------------------------------------------- frames */

static struct zt_str zs(const char *s, size_t n)
{
	return (struct zt_str){ s, n };
}

static size_t decimal(uint64_t v, char *buf, size_t cap)
{
	size_t k = cap;
	do
		buf[--k] = (char)('0' + v % 10);
	while ((v /= 10) && k);
	return k;
}

static void emit_req(struct mc_ctx *x, const struct mc_req *r, uint32_t type, uint64_t seq)
{
	char bs[12];
	struct zt_attr a[3];
	uint32_t na = 0;

	a[na++] = (struct zt_attr){ ZT_STR("db.system"), ZT_STR("memcached") };
	a[na++] = (struct zt_attr){ ZT_STR("db.operation"), zs(r->method, strlen(r->method)) };
	if (r->batch > 1) {
		size_t k = decimal(r->batch, bs, sizeof(bs));
		a[na++] = (struct zt_attr){ ZT_STR("db.operation.batch.size"), zs(bs + k, sizeof(bs) - k) };
	}
	struct zt_frame f = {
		.struct_size = sizeof(f),
		.type = type,
		.pairing = ZT_PAIR_ID,
		.status = type == ZT_FRAME_ONEWAY ? ZT_STATUS_OK : ZT_STATUS_UNKNOWN,
		.id = seq,
		.start_ns = r->start_ns,
		.end_ns = x->c->ts_ns,
		.size = r->size,
		.method = zs(r->method, strlen(r->method)),
		.statement = zs(r->stmt, r->stmt_len),
		.attrs = a,
		.attr_count = na,
	};
	x->mc->host->frame_emit(x->mc->conn, &f);
}

int mc_request(struct mc_ctx *x, const struct mc_req *r)
{
	struct mc_pending p = {
		.opaque = r->opaque,
		.expect = (uint8_t)r->expect,
		.op = r->op,
		.flags = (uint8_t)r->flags,
	};
	if (!(r->flags & PE_SILENT))
		p.seq = ++x->mc->next_seq;
	if (queue_push(&x->mc->q, &p))
		return -ENOMEM;
	if (!(r->flags & PE_SILENT))
		emit_req(x, r, ZT_FRAME_REQUEST, p.seq);
	return 0;
}

void mc_oneway(struct mc_ctx *x, const struct mc_req *r)
{
	emit_req(x, r, ZT_FRAME_ONEWAY, 0);
}

static void emit_resp(struct mc_ctx *x, uint64_t seq, const struct mc_resp *r)
{
	struct zt_attr a[1];
	uint32_t na = 0;

	if (r->code_len)
		a[na++] = (struct zt_attr){ ZT_STR("db.response.status_code"), zs(r->code, r->code_len) };
	struct zt_frame f = {
		.struct_size = sizeof(f),
		.type = ZT_FRAME_RESPONSE,
		.pairing = ZT_PAIR_ID,
		.status = r->status,
		.id = seq,
		.start_ns = x->c->first_ts_ns,
		.end_ns = x->c->ts_ns,
		.size = r->size,
		.error = zs(r->error, r->error ? r->error_len : 0),
		.attrs = a,
		.attr_count = na,
	};
	x->mc->host->frame_emit(x->mc->conn, &f);
}

void mc_answer(struct mc_ctx *x, const struct mc_pending *p, const struct mc_resp *r)
{
	if (!(p->flags & PE_SILENT))
		emit_resp(x, p->seq, r);
}

/* A reply to no request we know of: the core counts it as unmatched (ids start at 1). */
void mc_unmatched(struct mc_ctx *x, const struct mc_resp *r)
{
	emit_resp(x, 0, r);
}

/*
 * The reply in hand answers queue entry n: the n entries before it got
 * none. Quiet ones were answered by silence (success); the others' replies
 * were lost, and the core expires them.
 */
void mc_settle(struct mc_ctx *x, uint32_t n)
{
	static const struct mc_resp silent_ok = { .status = ZT_STATUS_OK };
	for (uint32_t i = 0; i < n && x->mc->q.len; i++) {
		struct mc_pending p = *mc_queue_at(&x->mc->q, 0);
		mc_queue_drop(&x->mc->q, 0);
		if (p.flags & PE_QUIET)
			mc_answer(x, &p, &silent_ok);
	}
}

/* ------------------------------------------------------------ detection */

static void rule(struct zt_detect_rule *r, const void *pat, uint16_t len, uint16_t port, uint32_t min_len)
{
	memset(r, 0, sizeof(*r));
	r->struct_size = sizeof(*r);
	r->verdict = ZT_RULE_CLAIM;
	r->direction = ZT_RULE_DIR_ANY; /* the client writes commands, the server reads them */
	r->transports = ZT_TRANSPORT_TCP;
	r->len = len;
	memcpy(r->pattern, pat, len);
	r->port = port;
	r->min_len = min_len;
}

/*
 * Kernel claims on memcached's port only: "get k" and "set k v" are also
 * Redis inline commands, so elsewhere detect() checks the whole line's
 * shape (a set line has four numeric fields). The commands a connection
 * starts with most: retrieval, storage, delete, arithmetic, meta, and the
 * binary request magic.
 */
static void make_rules(struct mc_state *s, uint16_t port)
{
	static const char *const words[] = { "get",   "set ",  "add ",     "replace ", "append ", "prepend ",
					     "cas ",  "delete ", "incr ",  "decr ",    "touch ",  "gat",
					     "mg ",   "ms ",   "version", "stats" };
	static const uint8_t magic = 0x80;
	s->nrules = 0;
	if (!port)
		return;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		rule(&s->rules[s->nrules++], words[i], (uint16_t)strlen(words[i]), port, 0);
	rule(&s->rules[s->nrules++], &magic, 1, port, 24);
}

static size_t mc_rules(void *state, const struct zt_detect_rule **rules)
{
	struct mc_state *s = state;
	*rules = s->rules;
	return s->nrules;
}

static uint32_t mc_detect(void *state, const struct zt_conn_info *ci, const struct zt_chunk *c)
{
	(void)state;
	(void)ci;
	if (!c || !c->data || !c->len)
		return ZT_DETECT_MAYBE;
	if (c->data[0] == 0x80 || c->data[0] == 0x81) {
		if (c->len < 24)
			return c->avail > c->len ? ZT_DETECT_NO : ZT_DETECT_MAYBE;
		return mc_binary_header_ok(c->data, c->len, c->data[0]) ? ZT_DETECT_YES : ZT_DETECT_NO;
	}
	switch (mc_text_is_request(c->data, c->len, c->avail)) {
	case 1:
		return ZT_DETECT_YES;
	case 0:
		return ZT_DETECT_NO;
	default:
		return ZT_DETECT_MAYBE;
	}
}

/* ---------------------------------------------------------------- parse */

static uint32_t mc_parse(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *c, uint64_t *consumed)
{
	struct mc_conn *mc = conn_state;
	(void)state;
	(void)conn;

	*consumed = 0;
	if (!mc || !c || (!c->data && c->len))
		return ZT_PARSE_INVALID;
	struct mc_ctx x = {
		.mc = mc,
		.d = &mc->d[c->direction & 1],
		.c = c,
		.avail = c->avail > c->len ? c->avail : c->len,
	};
	if (!x.avail)
		return ZT_PARSE_NEED_MORE;
	if (c->flags & ZT_CHUNK_GAP) {
		/* Requests or replies were lost: which reply answers which
		 * request is no longer known. The core expires what waits. */
		x.d->hunt = 1;
		x.d->in_multi = 0;
		x.d->skip_left = 0;
		mc_queue_clear(&mc->q);
	}
	if (mc->mode == MODE_UNKNOWN) {
		if (!c->len)
			return ZT_PARSE_NEED_MORE;
		mc->mode = (c->data[0] == 0x80 || c->data[0] == 0x81) ? MODE_BINARY : MODE_TEXT;
	}
	return mc->mode == MODE_BINARY ? mc_binary_parse(&x, consumed) : mc_text_parse(&x, consumed);
}

/* ----------------------------------------------------------- lifecycle */

static int mc_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct mc_state *s = calloc(1, sizeof(*s));
	int64_t port = 11211;

	if (!s)
		return -ENOMEM;
	s->host = host;
	s->inst = inst;
	if (host->config_int)
		host->config_int(inst, "port", &port);
	make_rules(s, (uint16_t)port);
	*state = s;
	return 0;
}

static void mc_fini(void *state)
{
	free(state);
}

static int mc_conn_open(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state)
{
	struct mc_state *s = state;
	struct mc_conn *mc = calloc(1, sizeof(*mc));

	if (!mc)
		return -ENOMEM;
	mc->host = s->host;
	mc->conn = conn;
	mc->role = ci ? ci->role : ZT_ROLE_UNKNOWN;
	*conn_state = mc;
	return 0;
}

static void mc_conn_close(void *state, void *conn_state)
{
	struct mc_conn *mc = conn_state;
	(void)state;
	if (!mc)
		return;
	free(mc->q.e);
	free(mc);
}

static const struct zt_protocol_ops mc_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_protocol_ops, ZT_KIND_PROTOCOL),
	.metric_stem = "memcached_queries",
	.transports = ZT_TRANSPORT_TCP,
	.capture_bytes = MC_CAPTURE,
	.max_pending = MC_QUEUE_MAX,
	.init = mc_init,
	.fini = mc_fini,
	.rules = mc_rules,
	.detect = mc_detect,
	.conn_open = mc_conn_open,
	.conn_close = mc_conn_close,
	.parse = mc_parse,
};

ZT_PLUGIN_DEFINE(memcached, ZT_KIND_PROTOCOL, "0.1.0", "Apache-2.0",
		 "memcached text, meta and binary protocols: command, status, latency", mc_config, &mc_ops);
