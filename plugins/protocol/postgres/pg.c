// SPDX-License-Identifier: Apache-2.0
/*
 * postgres: the PostgreSQL frontend/backend protocol 3.x (README.md has
 * the wire-format notes). One request per simple Query ('Q', answered at
 * ReadyForQuery) and one per Execute ('E', answered by CommandComplete,
 * EmptyQueryResponse, PortalSuspended or ErrorResponse); records go to
 * the core's postgres_queries families, FIFO-paired.
 *
 * The plugin keeps its own queue of what the server owes (Query, Execute,
 * Sync) because the protocol's answers are not one per request: a Query
 * ends at its ReadyForQuery whatever it held, an error in an extended
 * batch makes the server skip the batch's remaining Executes up to Sync.
 * A RESPONSE frame is emitted only for a request the plugin emitted, so
 * the core's FIFO and this queue stay in step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zerotap/zerotap.h>

#include "pg.h"

struct pg {
	const struct zt_host *host;
	zt_instance *inst;
	uint32_t max_prepared;
	size_t nrules;
	uint16_t port;
	struct zt_detect_rule rules[5];
};

/* What the server owes, in order. */
#define Q_QUERY 1u
#define Q_EXEC 2u
#define Q_SYNC 3u

struct pg_item {
	uint32_t kind;
};

struct pg_conn {
	zt_conn *conn;
	int fe_dir;          /* ZT_DIR_* of the frontend's messages; -1 until known */
	int fe_lost, be_lost; /* framing lost: resynchronize */
	int be_restart;      /* the next backend message start is a boundary (the frontend sent anew) */
	int be_uncertain;    /* backend bytes were lost since the last ReadyForQuery */
	int be_clean_end;    /* resynchronized on a CommandComplete right before ReadyForQuery: no error in the batch */
	uint32_t flush_n;    /* queue items answered in backend bytes we lost (answered unknown at the next backend chunk) */
	uint32_t ssl_wait;   /* one-byte answers owed to SSLRequest / GSSENCRequest */
	int batch_error;     /* an ErrorResponse since the last Sync */
	int q_failed;        /* the current simple Query saw an ErrorResponse */
	char q_code[6];
	char dbname[64], user[64];
	uint64_t fe_bytes, be_bytes; /* since the last request / response */
	struct pg_stmts *st;
	struct pg_item *q;
	uint32_t qcap, qhead, qlen, nreq;
};

static const struct zt_config_field config[] = {
	{ "port", ZT_CFG_INT, 0, "5432",
	  "Server port on which connections already open when the agent started (no start-up message seen) are "
	  "recognized by their messages. 0: only connections whose start-up the agent sees.",
	  0, 65535 },
	{ "max_prepared", ZT_CFG_INT, 0, "128",
	  "Named prepared statements remembered per connection (their sanitized text, for the records of "
	  "Execute); past this the oldest is forgotten.",
	  0, 4096 },
	ZT_CFG_END,
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ------------------------------------------------------------ detection */

static void rule8(struct zt_detect_rule *r, const uint8_t pat[8], const uint8_t mask[8], uint32_t min, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->struct_size = sizeof(*r);
	r->verdict = ZT_RULE_CLAIM;
	r->direction = ZT_RULE_DIR_ANY; /* the client writes it, the server reads it */
	r->len = 8;
	memcpy(r->pattern, pat, 8);
	if (mask)
		memcpy(r->mask, mask, 8);
	r->min_len = min;
	r->max_len = max;
}

static void make_rules(struct pg *g)
{
	static const uint8_t startup[8] = { 0, 0, 0, 0, 0, 3, 0, 0 };
	static const uint8_t startup_mask[8] = { 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0 };
	static const uint8_t ssl[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
	static const uint8_t gss[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30 };
	static const uint8_t cancel[8] = { 0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e };

	rule8(&g->rules[0], startup, startup_mask, 9, PG_STARTUP_MAX);
	rule8(&g->rules[1], ssl, NULL, 8, 8);
	rule8(&g->rules[2], gss, NULL, 8, 8);
	rule8(&g->rules[3], cancel, NULL, 16, 16);
	g->nrules = 4;
	if (g->port) { /* connections older than the agent: detect() looks at their messages */
		struct zt_detect_rule *r = &g->rules[g->nrules++];
		memset(r, 0, sizeof(*r));
		r->struct_size = sizeof(*r);
		r->verdict = ZT_RULE_ASK;
		r->port = g->port;
		r->min_len = 5;
	}
}

/* An untyped start-up-phase message at p (len 8.. bytes known): its code, or 0. */
static uint32_t untyped_code(const uint8_t *p, size_t n)
{
	if (n < 8)
		return 0;
	uint32_t len = be32(p), code = be32(p + 4);
	if ((code == PG_CODE_SSL || code == PG_CODE_GSSENC) && len == 8)
		return code;
	if (code == PG_CODE_CANCEL && len == 16)
		return code;
	if ((code >> 16) == 3 && len >= 9 && len <= PG_STARTUP_MAX)
		return code;
	return 0;
}

static const char FE_ONLY[] = "QPBFXfp";
static const char BE_ONLY[] = "RZTK123ntIVvGWAsN";
static const char SHARED[] = "DCSEHdc";

static int known_type(uint8_t t, int fe)
{
	if (!t)
		return 0;
	return strchr(SHARED, t) || strchr(fe ? FE_ONLY : BE_ONLY, t);
}

/* A typed message header at p that the frontend (fe) or backend could
 * send, and, when it ends within n, another one after it. */
static int plausible(const uint8_t *p, size_t n, int fe)
{
	if (n < 5 || !known_type(p[0], fe))
		return 0;
	uint32_t len = be32(p + 1);
	if (len < 4 || len > (fe ? PG_MSG_MAX : (1u << 28)))
		return 0;
	if ((p[0] == 'Z' && !fe && len != 5) || ((p[0] == 'S' || p[0] == 'X' || p[0] == 'H' || p[0] == 'c') && fe && len != 4))
		return 0;
	if ((uint64_t)len + 1 + 5 <= n)
		return known_type(p[len + 1], fe) && be32(p + len + 2) >= 4;
	return 1;
}

static uint32_t pg_detect(void *state, const struct zt_conn_info *ci, const struct zt_chunk *c)
{
	struct pg *g = state;

	if (c->len >= 8 && !c->data[0] && untyped_code(c->data, c->len))
		return ZT_DETECT_YES;
	if (!g->port || (ci->local_port != g->port && ci->remote_port != g->port))
		return ZT_DETECT_NO;
	if (c->len < 5)
		return ZT_DETECT_MAYBE;
	return plausible(c->data, c->len, 1) || plausible(c->data, c->len, 0) ? ZT_DETECT_YES : ZT_DETECT_NO;
}

/* ------------------------------------------------------- the life cycle */

static int pg_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct pg *g = calloc(1, sizeof(*g));
	int64_t port = 5432, maxp = 128;
	if (!g)
		return -ENOMEM;
	g->host = host;
	g->inst = inst;
	host->config_int(inst, "port", &port);
	host->config_int(inst, "max_prepared", &maxp);
	g->port = (uint16_t)port;
	g->max_prepared = (uint32_t)maxp;
	make_rules(g);
	*state = g;
	return 0;
}

static void pg_fini(void *state)
{
	free(state);
}

static size_t pg_rules(void *state, const struct zt_detect_rule **rules)
{
	struct pg *g = state;
	*rules = g->rules;
	return g->nrules;
}

static int pg_open(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state)
{
	struct pg *g = state;
	struct pg_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->st = pg_stmts_new(g->max_prepared);
	if (!c->st) {
		free(c);
		return -ENOMEM;
	}
	c->conn = conn;
	c->fe_dir = ci->role == ZT_ROLE_CLIENT ? (int)ZT_DIR_EGRESS
		    : ci->role == ZT_ROLE_SERVER ? (int)ZT_DIR_INGRESS
						  : -1;
	*conn_state = c;
	return 0;
}

static void pg_close(void *state, void *conn_state)
{
	struct pg_conn *c = conn_state;
	(void)state;
	if (!c)
		return;
	pg_stmts_free(c->st);
	free(c->q);
	free(c);
}

/* --------------------------------------------------------------- queue */

static struct pg_item *front(struct pg_conn *c)
{
	return c->qlen ? &c->q[c->qhead] : NULL;
}

static void pop(struct pg_conn *c)
{
	if (!c->qlen)
		return;
	if (c->q[c->qhead].kind != Q_SYNC)
		c->nreq--;
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
}

static int push(struct pg_conn *c, uint32_t kind)
{
	if (c->qlen == 4 * PG_MAX_PENDING)
		pop(c); /* Syncs that never got their ReadyForQuery (answers never seen): the oldest goes */
	if (c->qlen == c->qcap) {
		uint32_t cap = c->qcap ? c->qcap * 2 : 8;
		struct pg_item *q = malloc(cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		for (uint32_t i = 0; i < c->qlen; i++)
			q[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = q;
		c->qcap = cap;
		c->qhead = 0;
	}
	/* the core keeps at most max_pending requests and expires the oldest: so do we */
	while (kind != Q_SYNC && c->nreq >= PG_MAX_PENDING)
		pop(c);
	c->q[(c->qhead + c->qlen) % c->qcap].kind = kind;
	c->qlen++;
	if (kind != Q_SYNC)
		c->nreq++;
	return 0;
}

/* -------------------------------------------------------------- frames */

static void set_attr(struct zt_attr *a, uint32_t *n, const char *k, const char *v)
{
	if (!v || !v[0])
		return;
	a[*n].key = (struct zt_str){ k, strlen(k) };
	a[*n].value = (struct zt_str){ v, strlen(v) };
	(*n)++;
}

static void emit_request(struct pg *g, struct pg_conn *c, uint32_t kind, const struct pg_sql *s, uint64_t start,
			 uint64_t end, uint64_t size)
{
	struct zt_attr a[6];
	uint32_t n = 0;
	struct zt_frame f = { .struct_size = sizeof(f), .type = ZT_FRAME_REQUEST, .pairing = ZT_PAIR_FIFO };

	if (push(c, kind))
		return;
	f.start_ns = start;
	f.end_ns = end;
	f.size = size;
	set_attr(a, &n, "db.system", "postgresql");
	if (s) {
		f.method = (struct zt_str){ s->op, strlen(s->op) };
		f.resource = (struct zt_str){ s->table, strlen(s->table) };
		f.statement = (struct zt_str){ s->text, strlen(s->text) };
		set_attr(a, &n, "db.operation", s->op);
		set_attr(a, &n, "db.sql.table", s->table);
	}
	if (!f.method.len)
		f.method = kind == Q_EXEC ? ZT_STR("EXECUTE") : ZT_STR("QUERY");
	set_attr(a, &n, "db.name", c->dbname);
	set_attr(a, &n, "db.user", c->user);
	f.attrs = a;
	f.attr_count = n;
	g->host->frame_emit(c->conn, &f);
}

/* Answers the oldest request (the queue's front, which must be one). */
static void emit_response(struct pg *g, struct pg_conn *c, uint32_t status, const char *code, const char *err,
			  uint64_t start, uint64_t end)
{
	struct zt_attr a[1];
	uint32_t n = 0;
	struct zt_frame f = { .struct_size = sizeof(f), .type = ZT_FRAME_RESPONSE, .pairing = ZT_PAIR_FIFO };

	f.status = status;
	f.start_ns = start;
	f.end_ns = end;
	f.size = c->be_bytes;
	c->be_bytes = 0;
	if (code && code[0]) {
		set_attr(a, &n, "db.response.status_code", code);
		f.error = (struct zt_str){ code, strlen(code) };
	} else if (err) {
		f.error = (struct zt_str){ err, strlen(err) };
	}
	f.attrs = a;
	f.attr_count = n;
	pop(c);
	g->host->frame_emit(c->conn, &f);
}

/* The first flush_n queue items, answered as unknown (their answers were lost). */
static void flush_unknown(struct pg *g, struct pg_conn *c, uint64_t ts)
{
	for (; c->flush_n && c->qlen; c->flush_n--) {
		if (front(c)->kind == Q_SYNC)
			pop(c);
		else
			emit_response(g, c, ZT_STATUS_UNKNOWN, NULL, "lost", ts, ts);
	}
	c->flush_n = 0;
	c->batch_error = 0;
	c->q_failed = 0;
}

/* ------------------------------------------------------------- backend */

/* The SQLSTATE ('C' field) of an ErrorResponse body, if captured. */
static void error_code(const uint8_t *p, size_t n, char code[6])
{
	size_t i = 0;
	code[0] = 0;
	while (i < n && p[i]) {
		uint8_t f = p[i++];
		const uint8_t *v = p + i, *z = memchr(v, 0, n - i);
		if (!z)
			return;
		if (f == 'C' && z - v == 5) {
			for (int k = 0; k < 5; k++)
				code[k] = (v[k] >= '0' && v[k] <= '9') || (v[k] >= 'A' && v[k] <= 'Z') ? (char)v[k] : '?';
			code[5] = 0;
			return;
		}
		i = (size_t)(z - p) + 1;
	}
}

static void on_ready(struct pg *g, struct pg_conn *c, uint64_t start, uint64_t end)
{
	struct pg_item *f;

	/* Executes the server skipped after an error in their batch did not
	 * run: failed. Executes whose answers we lost: unknown, unless the
	 * batch ended with a CommandComplete (an error would have ended it). */
	while ((f = front(c)) && f->kind == Q_EXEC) {
		uint32_t st = c->batch_error ? ZT_STATUS_FAILED : c->be_clean_end ? ZT_STATUS_OK : ZT_STATUS_UNKNOWN;
		emit_response(g, c, st, NULL, st == ZT_STATUS_FAILED ? "aborted" : st == ZT_STATUS_OK ? NULL : "lost", start,
			      end);
	}
	if (f && f->kind == Q_SYNC) {
		pop(c);
	} else if (f && f->kind == Q_QUERY) {
		uint32_t st = c->q_failed		      ? ZT_STATUS_FAILED
			      : c->be_uncertain && !c->be_clean_end ? ZT_STATUS_UNKNOWN
								    : ZT_STATUS_OK;
		emit_response(g, c, st, c->q_code, st == ZT_STATUS_UNKNOWN ? "lost" : NULL, start, end);
	}
	c->batch_error = 0;
	c->q_failed = 0;
	c->q_code[0] = 0;
	c->be_uncertain = 0;
	c->be_clean_end = 0;
}

/* One backend message [p, p + have) of declared length len (type byte not counted). */
static void backend_msg(struct pg *g, struct pg_conn *c, const uint8_t *p, size_t have, uint64_t start, uint64_t end)
{
	struct pg_item *f = front(c);
	char code[6];

	switch (p[0]) {
	case 'C': /* CommandComplete */
	case 'I': /* EmptyQueryResponse */
	case 's': /* PortalSuspended: the Execute's row limit was reached */
		if (f && f->kind == Q_EXEC)
			emit_response(g, c, ZT_STATUS_OK, NULL, NULL, start, end);
		break;
	case 'E': /* ErrorResponse */
		error_code(p + 5, have > 5 ? have - 5 : 0, code);
		if (f && f->kind == Q_EXEC) {
			c->batch_error = 1;
			emit_response(g, c, ZT_STATUS_FAILED, code, "error", start, end);
		} else if (f && f->kind == Q_QUERY) {
			if (!c->q_failed)
				memcpy(c->q_code, code, sizeof(code));
			c->q_failed = 1;
		} else {
			c->batch_error = 1; /* a Parse or Bind of a batch with no Execute */
		}
		break;
	case 'Z': /* ReadyForQuery */
		on_ready(g, c, start, end);
		break;
	default: /* rows, descriptions, notices, parameter status, notifications, COPY data: not answers */
		break;
	}
}

/* Backend framing lost: find a ReadyForQuery ('Z', length 5, status I/T/E)
 * in the captured bytes and, if a CommandComplete or ErrorResponse ends
 * right before it, that message. Returns the offset to resume at, or
 * SIZE_MAX. */
static size_t be_resync(const uint8_t *d, size_t n)
{
	for (size_t z = 0; z + 6 <= n; z++) {
		if (d[z] != 'Z' || d[z + 1] || d[z + 2] || d[z + 3] || d[z + 4] != 5 ||
		    (d[z + 5] != 'I' && d[z + 5] != 'T' && d[z + 5] != 'E'))
			continue;
		for (size_t b = z >= 600 ? z - 600 : 0; b + 5 <= z; b++)
			if ((d[b] == 'C' || d[b] == 'E' || d[b] == 'I') && (uint64_t)be32(d + b + 1) + 1 + b == z &&
			    !d[z - 1])
				return b;
		return z;
	}
	return SIZE_MAX;
}

/* ------------------------------------------------------------ frontend */

/* A NUL-terminated string at p within n: its length, or n when cut. */
static size_t cstr(const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);
	return z ? (size_t)(z - p) : n;
}

static void startup_params(struct pg_conn *c, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i]) {
		size_t kl = cstr(p + i, n - i);
		if (i + kl + 1 >= n)
			break;
		const char *k = (const char *)p + i;
		const uint8_t *v = p + i + kl + 1;
		size_t vl = cstr(v, n - (i + kl + 1));
		char *dst = kl == 4 && !memcmp(k, "user", 4) ? c->user : kl == 8 && !memcmp(k, "database", 8) ? c->dbname
													 : NULL;
		if (dst) {
			size_t m = vl < 63 ? vl : 63, o = 0;
			for (size_t j = 0; j < m; j++)
				if (v[j] >= 0x20 && v[j] < 0x7f)
					dst[o++] = (char)v[j];
			dst[o] = 0;
		}
		i += kl + 1 + vl + 1;
	}
	if (!c->dbname[0])
		memcpy(c->dbname, c->user, sizeof(c->dbname));
}

/* One frontend message: p[0] the type, have bytes captured of total. */
static uint32_t frontend_msg(struct pg *g, struct pg_conn *c, const uint8_t *p, size_t have, uint64_t total,
			     uint64_t start, uint64_t end)
{
	const uint8_t *b = p + 5;
	size_t n = have > 5 ? have - 5 : 0, l1, l2;
	struct pg_sql sql;
	const struct pg_sql *s;

	c->fe_bytes += total;
	switch (p[0]) {
	case 'Q':
		pg_sql_describe((const char *)b, n, &sql);
		emit_request(g, c, Q_QUERY, &sql, start, end, c->fe_bytes);
		c->fe_bytes = 0;
		break;
	case 'P': /* Parse: name, query */
		l1 = cstr(b, n);
		if (l1 < n) {
			pg_sql_describe((const char *)b + l1 + 1, n - l1 - 1, &sql);
			pg_stmt_put(c->st, (const char *)b, l1, &sql);
		}
		break;
	case 'B': /* Bind: portal, statement, ... */
		l1 = cstr(b, n);
		if (l1 < n) {
			l2 = cstr(b + l1 + 1, n - l1 - 1);
			s = l1 + 1 + l2 < n ? pg_stmt_get(c->st, (const char *)b + l1 + 1, l2) : NULL;
			pg_portal_bind(c->st, (const char *)b, l1, s);
		}
		break;
	case 'E': /* Execute: portal, max rows */
		l1 = cstr(b, n);
		s = l1 < n ? pg_portal_get(c->st, (const char *)b, l1) : NULL;
		emit_request(g, c, Q_EXEC, s, start, end, c->fe_bytes);
		c->fe_bytes = 0;
		break;
	case 'C': /* Close: 'S' statement or 'P' portal, name */
		if (n >= 2) {
			l1 = cstr(b + 1, n - 1);
			if (l1 < n - 1) {
				if (b[0] == 'S')
					pg_stmt_close(c->st, (const char *)b + 1, l1);
				else if (b[0] == 'P')
					pg_portal_close(c->st, (const char *)b + 1, l1);
			}
		}
		break;
	case 'S': /* Sync: the server answers with ReadyForQuery */
		push(c, Q_SYNC);
		pg_portal_close(c->st, "", 0);
		break;
	case 'X': /* Terminate */
	case 'D': /* Describe */
	case 'H': /* Flush */
	case 'd': /* CopyData */
	case 'c': /* CopyDone */
	case 'f': /* CopyFail */
	case 'F': /* FunctionCall */
	case 'p': /* password, SASL */
		break;
	default:
		return ZT_PARSE_INVALID;
	}
	return ZT_PARSE_OK;
}

/* -------------------------------------------------------------- parse */

/* Bytes of a message's body the plugin reads (the rest is skipped). */
static uint64_t wanted(uint8_t type, int fe)
{
	if (fe)
		return type == 'Q' || type == 'P' ? PG_TEXT_SCAN : type == 'B' || type == 'E' || type == 'C' ? 2 * PG_NAME_MAX : 0;
	return type == 'E' ? 512 : type == 'Z' ? 1 : 0;
}

static uint32_t infer_dir(struct pg_conn *c, const struct zt_chunk *ch)
{
	const uint8_t *d = ch->data;
	if (ch->len >= 8 && !d[0] && untyped_code(d, ch->len))
		c->fe_dir = (int)ch->direction;
	else if (ch->len >= 5 && strchr(FE_ONLY, d[0]) && d[0] && plausible(d, ch->len, 1))
		c->fe_dir = (int)ch->direction;
	else if (ch->len >= 5 && strchr(BE_ONLY, d[0]) && d[0] && plausible(d, ch->len, 0))
		c->fe_dir = (int)(ch->direction ^ 1u);
	return c->fe_dir >= 0;
}

static uint32_t pg_parse(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *ch, uint64_t *consumed)
{
	struct pg *g = state;
	struct pg_conn *c = conn_state;
	const uint8_t *d = ch->data;
	size_t pos = 0;
	int fe;
	(void)conn;

	*consumed = 0;
	if (c->fe_dir < 0 && (!((ch->flags & ZT_CHUNK_MSG_START) || !ch->offset) || !infer_dir(c, ch))) {
		if (!ch->offset && ch->len < 8 && ch->avail == ch->len)
			return ZT_PARSE_NEED_MORE; /* the stream's first bytes: wait for enough to tell */
		*consumed = ch->avail; /* which side is which is not known yet: wait for a message that tells */
		return ZT_PARSE_OK;
	}
	fe = (int)ch->direction == c->fe_dir;
	if (ch->flags & ZT_CHUNK_GAP) {
		if (fe) {
			c->fe_lost = 1;
		} else {
			c->be_lost = 1;
			c->be_uncertain = 1;
			/* a client waits for a ReadyForQuery before its next Query or
			 * batch: with several waiting, all but the last were answered
			 * in the lost bytes */
			uint32_t last_unit = 0;
			for (uint32_t i = 0; i + 1 < c->qlen; i++)
				if (c->q[(c->qhead + i) % c->qcap].kind != Q_EXEC)
					last_unit = i + 1;
			if (last_unit > c->flush_n)
				c->flush_n = last_unit;
		}
	}
	if (fe && c->fe_lost) {
		if (!(ch->flags & ZT_CHUNK_MSG_START) ||
		    !((ch->len >= 8 && !d[0] && untyped_code(d, ch->len)) || plausible(d, ch->len, 1))) {
			*consumed = ch->avail;
			return ZT_PARSE_OK;
		}
		c->fe_lost = 0; /* requests lost with the bytes are missing from the queue: README, "Limits" */
	}
	if (!fe && c->flush_n) /* responses are frames of the backend's direction: answer them here */
		flush_unknown(g, c, ch->first_ts_ns);
	if (!fe && c->be_lost) {
		if ((ch->flags & ZT_CHUNK_MSG_START) && c->be_restart && plausible(d, ch->len, 0)) {
			c->be_lost = 0;
		} else {
			size_t at = be_resync(d, ch->len);
			if (at == SIZE_MAX) {
				*consumed = ch->avail;
				return ZT_PARSE_OK;
			}
			pos = at;
			c->be_lost = 0;
			c->be_clean_end = d[at] == 'C' || d[at] == 'I';
		}
		c->be_restart = 0;
	}

	while (pos < ch->len) {
		const uint8_t *p = d + pos;
		size_t left = ch->len - pos;
		uint64_t start = pos ? ch->ts_ns : ch->first_ts_ns, total, need;

		if (!fe && c->ssl_wait) { /* the one-byte answer to SSLRequest / GSSENCRequest */
			c->ssl_wait--;
			if (p[0] == 'S' || p[0] == 'G')
				return ZT_PARSE_END_OF_STREAM; /* TLS or GSS encryption from here on */
			if (p[0] == 'N') {
				pos++;
				continue;
			}
			c->ssl_wait = 0; /* an old server's ErrorResponse: typed from here */
		}
		if (fe && !p[0]) { /* untyped: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest */
			if (left < 8)
				break;
			uint32_t code = untyped_code(p, left);
			if (!code)
				return ZT_PARSE_INVALID;
			total = be32(p);
			if (code == PG_CODE_CANCEL) {
				struct zt_frame f = { .struct_size = sizeof(f), .type = ZT_FRAME_EVENT, .method = ZT_STR("CANCEL") };
				f.start_ns = start;
				f.end_ns = ch->ts_ns;
				f.size = 16;
				g->host->frame_emit(c->conn, &f);
				*consumed = pos + 16;
				return ZT_PARSE_END_OF_STREAM; /* the server closes a cancel connection */
			}
			if (code == PG_CODE_SSL || code == PG_CODE_GSSENC) {
				c->ssl_wait++;
				pos += 8;
				continue;
			}
			if (left < total && ch->avail == ch->len)
				break; /* the rest of the start-up packet is still to come */
			startup_params(c, p + 8, (size_t)(left < total ? left : total) - 8);
			pos += total;
			continue;
		}
		if (left < 5)
			break;
		uint32_t mlen = be32(p + 1);
		if (!known_type(p[0], fe) || mlen < 4 || mlen > PG_MSG_MAX)
			return ZT_PARSE_INVALID;
		total = (uint64_t)mlen + 1;
		need = 5 + wanted(p[0], fe);
		if (need > total)
			need = total;
		if (left < need && ch->avail == ch->len)
			break; /* what the plugin reads is still to come */
		size_t have = left < total ? left : (size_t)total;
		if (fe) {
			if (c->be_lost && (p[0] == 'Q' || p[0] == 'E' || p[0] == 'S')) {
				/* a new request while the answers were lost: the old ones were
				 * answered in what we did not see (a client waits for its answers) */
				if (!c->be_restart)
					c->flush_n = c->qlen;
				c->be_restart = 1;
			}
			uint32_t r = frontend_msg(g, c, p, have, total, start, ch->ts_ns);
			if (r != ZT_PARSE_OK)
				return r;
		} else {
			c->be_bytes += total;
			backend_msg(g, c, p, have, start, ch->ts_ns);
		}
		pos += total;
	}
	*consumed = pos;
	return pos < ch->len ? ZT_PARSE_NEED_MORE : ZT_PARSE_OK;
}

static const struct zt_protocol_ops ops = {
	.hdr = ZT_OPS_HEADER(struct zt_protocol_ops, ZT_KIND_PROTOCOL),
	.metric_stem = "postgres_queries",
	.transports = ZT_TRANSPORT_TCP,
	.capture_bytes = PG_CAPTURE,
	.request_timeout_ns = PG_TIMEOUT_NS,
	.max_pending = PG_MAX_PENDING,
	.init = pg_init,
	.fini = pg_fini,
	.rules = pg_rules,
	.detect = pg_detect,
	.conn_open = pg_open,
	.conn_close = pg_close,
	.parse = pg_parse,
};

ZT_PLUGIN_DEFINE(postgres, ZT_KIND_PROTOCOL, "0.1.0", "Apache-2.0",
		 "PostgreSQL wire protocol 3.x: simple and extended queries into postgres_queries records", config,
		 &ops);
