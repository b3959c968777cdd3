/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis protocol plugin: RESP2 and RESP3 (every reply type), inline
 * commands, pipelining, MULTI/EXEC, pub/sub and HELLO, on the client and
 * the server side of a connection. Each command becomes one request frame
 * (db.operation = its name, the statement with every argument replaced by
 * "?"); each reply the response that answers it; pub/sub messages and
 * other pushes are events, never requests.
 *
 * Pairing is by id: the plugin numbers the requests of a connection and
 * knows which one each reply answers, because Redis answers in order with
 * three exceptions it tracks itself: (un)subscribe commands get one
 * confirmation per channel (the first answers, the rest are events),
 * commands queued in a transaction are answered by "+QUEUED" and then by
 * their element of EXEC's reply (which is what the request's record
 * gets), and pushes come between replies. When bytes are lost, the
 * connection resynchronizes on the next request (README.md,
 * "Resynchronization").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zerotap/plugin.h>

#include "redis.h"

/*
 * capture_bytes: a pipelined batch is only counted in full when every
 * command's header is captured, so the largest capture the ABI allows:
 * 16 pipelined GETs or SETs with 100-byte values fit, and a single
 * command or reply needs no more than its first line. The kernel copies
 * at most this much per read or write, whatever the value sizes.
 */
#define REDIS_CAPTURE 4096
#define REDIS_PENDING_MAX 1024 /* unanswered requests per connection, as the core's max_pending */
#define REDIS_STATEMENT_MAX 256
#define DIR_UNKNOWN 2u

/* Resynchronization after lost bytes. */
#define SYNC_OK 0
#define SYNC_WAIT_REQUEST 1 /* replies are skipped until a request comes */
#define SYNC_WAIT_REPLY 2   /* ... and until the next reply message starts */

struct redis_state {
	const struct zt_host *host;
	zt_instance *inst;
	struct zt_detect_rule rules[3];
	size_t nrules;
};

struct pend {
	uint64_t id;
	uint8_t kind;     /* enum redis_kind */
	uint8_t confirm;  /* enum redis_push_kind of its confirmations */
	uint8_t answered; /* its first confirmation came */
	uint8_t hello;
	int64_t left;     /* confirmations still due; -1 unknown (unsubscribe from all) */
};

struct ring {
	struct pend *e;
	uint32_t head, len, cap;
};

struct redis_conn {
	const struct zt_host *host;
	zt_conn *conn;
	uint32_t req_dir; /* ZT_DIR_* that carries commands, or DIR_UNKNOWN */
	struct resp_reader rd[2];
	uint32_t hunting[2]; /* after lost bytes: wait for a message that starts a value */
	uint32_t lost[2];    /* bytes of this direction were lost at least once */
	uint32_t own_gap[2]; /* the next chunk's gap is the one our ZT_PARSE_INVALID made */
	uint64_t cand_off[2]; /* hunting: stream offset of a command start kept for more bytes */
	uint32_t sync;
	uint32_t ever_ok;
	uint32_t resp3, in_multi, exec_reply;
	int64_t subscribed; /* subscriptions, from the last confirmation */
	uint64_t next_id;
	struct ring pend;   /* requests waiting for their reply, oldest first */
	struct ring queued; /* commands answered +QUEUED, waiting for EXEC */
};

/* ---------------------------------------------------------------- rings */

static struct pend *ring_front(struct ring *r)
{
	return r->len ? &r->e[r->head] : NULL;
}

static void ring_pop(struct ring *r)
{
	if (r->len) {
		r->head = (r->head + 1) % r->cap;
		r->len--;
	}
}

/* Appends; a full ring drops its oldest entry (the core expires that request too). */
static void ring_push(struct ring *r, const struct pend *p)
{
	if (r->len == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 8;
		struct pend *e = cap <= REDIS_PENDING_MAX ? malloc(cap * sizeof(*e)) : NULL;
		if (e) {
			for (uint32_t i = 0; i < r->len; i++)
				e[i] = r->e[(r->head + i) % r->cap];
			free(r->e);
			r->e = e;
			r->head = 0;
			r->cap = cap;
		} else if (r->cap) {
			ring_pop(r);
		} else {
			return;
		}
	}
	r->e[(r->head + r->len) % r->cap] = *p;
	r->len++;
}

static void ring_clear(struct ring *r)
{
	r->head = r->len = 0;
}

/* ----------------------------------------------------------------- frames */

static void emit_response(struct redis_conn *rc, uint64_t id, uint32_t status, const struct resp_value *v,
			  uint64_t end_ns)
{
	struct zt_frame f = {
		.struct_size = sizeof(f),
		.type = ZT_FRAME_RESPONSE,
		.pairing = ZT_PAIR_ID,
		.status = status,
		.id = id,
		.start_ns = v->start_ns,
		.end_ns = end_ns,
		.size = v->size,
	};
	if (status == ZT_STATUS_FAILED)
		f.error = v->err_len ? (struct zt_str){ v->err, v->err_len } : ZT_STR("ERR");
	rc->host->frame_emit(rc->conn, &f);
}

static void emit_event(struct redis_conn *rc, const struct resp_value *v, uint64_t end_ns)
{
	struct zt_frame f = {
		.struct_size = sizeof(f),
		.type = ZT_FRAME_EVENT,
		.start_ns = v->start_ns,
		.end_ns = end_ns,
		.size = v->size,
	};
	rc->host->frame_emit(rc->conn, &f);
}

static uint32_t status_of(uint8_t type)
{
	return type == '-' || type == '!' ? ZT_STATUS_FAILED : ZT_STATUS_OK;
}

/* ----------------------------------------------------------------- resync */

/* Bytes were lost: which reply answers which request is no longer known.
 * Requests still waiting expire in the core (status unknown). */
static void lose_sync(struct redis_conn *rc)
{
	rc->sync = SYNC_WAIT_REQUEST;
	ring_clear(&rc->pend);
	ring_clear(&rc->queued);
	rc->in_multi = 0;
	rc->exec_reply = 0;
	if (rc->req_dir != DIR_UNKNOWN) {
		resp_reset(&rc->rd[rc->req_dir ^ 1]);
		rc->hunting[rc->req_dir ^ 1] = 1;
	}
}

/* ---------------------------------------------------------------- requests */

static void on_request(void *ctx, const struct resp_value *v, uint64_t end_ns)
{
	struct redis_conn *rc = ctx;
	struct redis_cmd cmd;
	char stmt[REDIS_STATEMENT_MAX];
	size_t sl = 0;

	if (v->lost)
		lose_sync(rc);
	if (v->type != '*' && v->type != 'i')
		return; /* not a command: Redis would close the connection */
	if (!v->count)
		return; /* "*0": Redis reads nothing and answers nothing */
	if (redis_cmd_of(v, &cmd)) {
		if (v->lost && !v->word_ok[0])
			return; /* too little seen to know it is a command */
		memcpy(cmd.op, "_OTHER", 6); /* not a name: the server still answers it (an error) */
		cmd.op_len = 6;
		cmd.args = v->count - 1;
	}
	sl = redis_statement(&cmd, stmt, sizeof(stmt));
	struct zt_attr a[3] = {
		{ ZT_STR("db.system"), ZT_STR("redis") },
		{ ZT_STR("db.operation"), { cmd.op, cmd.op_len } },
		{ ZT_STR("db.statement"), { stmt, sl } },
	};
	struct pend p = {
		.id = ++rc->next_id,
		.kind = (uint8_t)cmd.kind,
		.confirm = (uint8_t)cmd.confirm,
		.hello = (uint8_t)cmd.hello,
		.left = (cmd.kind == RK_SUBSCRIBE || cmd.kind == RK_UNSUBSCRIBE) && cmd.args ? (int64_t)cmd.args : -1,
	};
	struct zt_frame f = {
		.struct_size = sizeof(f),
		.type = ZT_FRAME_REQUEST,
		.pairing = ZT_PAIR_ID,
		.id = p.id,
		.start_ns = v->start_ns,
		.end_ns = end_ns,
		.size = v->size,
		.method = { cmd.op, cmd.op_len },
		.statement = { stmt, sl },
		.attrs = a,
		.attr_count = 3,
	};
	rc->ever_ok = 1;
	rc->host->frame_emit(rc->conn, &f);
	if (cmd.kind == RK_SUBSCRIBE && !cmd.args)
		return; /* "SUBSCRIBE" alone: an arity error follows, answered in order */
	ring_push(&rc->pend, &p);
	if (rc->sync == SYNC_WAIT_REQUEST)
		rc->sync = SYNC_WAIT_REPLY;
}

/* ----------------------------------------------------------------- replies */

/* The request the next reply answers: skips (un)subscribe commands whose confirmations are done. */
static struct pend *reply_head(struct redis_conn *rc)
{
	struct pend *h;
	while ((h = ring_front(&rc->pend)) && h->answered && h->left < 0)
		ring_pop(&rc->pend);
	return h;
}

/* Every queued command gets `status` (the transaction ended without running them one by one). */
static void flush_queued(struct redis_conn *rc, uint32_t status, const struct resp_value *v, uint64_t end_ns)
{
	struct pend *q;
	while ((q = ring_front(&rc->queued))) {
		emit_response(rc, q->id, status, v, end_ns);
		ring_pop(&rc->queued);
	}
}

static void on_reply_begin(void *ctx, const struct resp_value *v)
{
	struct redis_conn *rc = ctx;
	struct pend *h = reply_head(rc);
	rc->exec_reply = v->type == '*' && rc->in_multi && h && h->kind == RK_EXEC;
}

static void on_reply_element(void *ctx, const struct resp_value *top, uint8_t type, uint64_t end_ns)
{
	struct redis_conn *rc = ctx;
	struct pend *q;

	if (!rc->exec_reply || !(q = ring_front(&rc->queued)))
		return;
	struct resp_value ev = { .start_ns = top->start_ns, .size = 0 };
	if (status_of(type) == ZT_STATUS_FAILED)
		memcpy(ev.err, "ERR", ev.err_len = 3);
	emit_response(rc, q->id, status_of(type), &ev, end_ns);
	ring_pop(&rc->queued);
}

/* A pub/sub confirmation of kind k: the first one of a command answers it. */
static void on_confirmation(struct redis_conn *rc, uint32_t k, const struct resp_value *v, uint64_t end_ns)
{
	struct pend *h;

	rc->subscribed = v->last_int;
	for (;;) {
		h = ring_front(&rc->pend);
		if (h && (h->kind == RK_SUBSCRIBE || h->kind == RK_UNSUBSCRIBE) && h->confirm == k) {
			if (!h->answered) {
				h->answered = 1;
				emit_response(rc, h->id, ZT_STATUS_OK, v, end_ns);
			} else {
				emit_event(rc, v, end_ns);
			}
			if (h->left > 0 && --h->left == 0)
				ring_pop(&rc->pend);
			return;
		}
		if (h && h->answered && h->left < 0) {
			ring_pop(&rc->pend); /* an unsubscribe-from-all is over */
			continue;
		}
		emit_event(rc, v, end_ns); /* nobody waits for it */
		return;
	}
}

static void on_reply(void *ctx, const struct resp_value *v, uint64_t end_ns)
{
	struct redis_conn *rc = ctx;
	uint32_t push = RP_NONE, status = status_of(v->type);
	struct pend *h = reply_head(rc);

	rc->ever_ok = 1;
	if (v->word_ok[0] &&
	    (v->type == '>' || (v->type == '*' && !rc->resp3 && (v->count == 3 || v->count == 4) &&
				(rc->subscribed > 0 || (h && (h->kind == RK_SUBSCRIBE || h->kind == RK_UNSUBSCRIBE))))))
		push = redis_push_kind(v->word[0], v->word_len[0]);
	if (v->type == '>' && push == RP_NONE)
		push = RP_MESSAGE; /* any other push (client tracking's invalidate, ...) */
	if (push == RP_MESSAGE) {
		emit_event(rc, v, end_ns);
	} else if (push != RP_NONE) {
		on_confirmation(rc, push, v, end_ns);
	} else if (!h) {
		/* a reply nobody waits for: the request was lost (counted by the core as unmatched) */
		struct zt_frame f = { .struct_size = sizeof(f), .type = ZT_FRAME_RESPONSE, .pairing = ZT_PAIR_ID,
				      .id = 0, .status = status, .start_ns = v->start_ns, .end_ns = end_ns };
		rc->host->frame_emit(rc->conn, &f);
	} else {
		struct pend p = *h;
		ring_pop(&rc->pend);
		switch (p.kind) {
		case RK_MULTI:
			if (status == ZT_STATUS_OK)
				rc->in_multi = 1;
			break;
		case RK_EXEC:
		case RK_DISCARD:
			if (rc->in_multi)
				flush_queued(rc, status, v, end_ns);
			rc->in_multi = 0;
			rc->exec_reply = 0;
			break;
		case RK_HELLO:
			if (status == ZT_STATUS_OK && p.hello)
				rc->resp3 = p.hello == 3;
			break;
		case RK_RESET:
			flush_queued(rc, status, v, end_ns);
			rc->in_multi = 0;
			rc->resp3 = 0;
			rc->subscribed = 0;
			break;
		default:
			if (rc->in_multi && v->type == '+' && v->word_ok[0] && v->word_len[0] == 6 &&
			    !memcmp(v->word[0], "QUEUED", 6)) {
				ring_push(&rc->queued, &p); /* answered by its element of EXEC's reply */
				return;
			}
			break;
		}
		emit_response(rc, p.id, status, v, end_ns);
	}
	if (v->lost)
		lose_sync(rc);
}

static const struct resp_ops request_ops = { .value = on_request };
static const struct resp_ops reply_ops = { .value = on_reply, .element = on_reply_element, .begin = on_reply_begin };

/* ------------------------------------------------------------------ parse */

/* 1: p starts with "*<digits>\r\n$"; 2: p is a proper prefix of that; 0: neither. */
static int command_prefix(const uint8_t *p, size_t n)
{
	size_t i = 1;
	if (!n || p[0] != '*')
		return 0;
	while (i < n && i < 12 && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == n)
		return i < 12 ? 2 : 0;
	if (i == 1 || p[i] != '\r')
		return 0;
	if (i + 1 == n)
		return 2;
	if (p[i + 1] != '\n')
		return 0;
	if (i + 2 == n)
		return 2;
	return p[i + 2] == '$';
}

static uint32_t redis_parse(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *c,
			    uint64_t *consumed)
{
	struct redis_conn *rc = conn_state;
	uint64_t avail;
	uint32_t dir;

	*consumed = 0;
	if (!rc || !c || (!c->data && c->len))
		return ZT_PARSE_INVALID;
	dir = c->direction & 1;
	avail = c->avail > c->len ? c->avail : c->len;
	if (!avail)
		return ZT_PARSE_NEED_MORE;
	if (rc->req_dir == DIR_UNKNOWN) {
		/* role unknown: the side that sends "*N\r\n$" first is the client */
		if (!(c->flags & ZT_CHUNK_MSG_START) || command_prefix(c->data, c->len) != 1) {
			*consumed = avail;
			return ZT_PARSE_OK;
		}
		rc->req_dir = dir;
		rc->rd[dir].inline_ok = 1;
		resp_reset(&rc->rd[dir]);
	}
	int is_req = dir == rc->req_dir;
	if (c->flags & ZT_CHUNK_GAP) {
		resp_reset(&rc->rd[dir]);
		rc->hunting[dir] = 1;
		rc->lost[dir] = 1;
		if (!rc->own_gap[dir]) /* our own INVALID's gap: resynchronizing already */
			lose_sync(rc);
	}
	rc->own_gap[dir] = 0;
	if (!is_req && rc->sync != SYNC_OK) {
		if (rc->sync == SYNC_WAIT_REQUEST || !(c->flags & ZT_CHUNK_MSG_START)) {
			*consumed = avail;
			return ZT_PARSE_OK;
		}
		rc->sync = SYNC_OK;
		resp_reset(&rc->rd[dir]);
		rc->hunting[dir] = 0;
	}
	if (rc->hunting[dir]) {
		/* only a message's first byte may start a value again; an inline
		 * command only where nothing was lost (the connection's start) */
		int start = (c->flags & ZT_CHUNK_MSG_START) || c->offset == rc->cand_off[dir];
		int inl = is_req && !rc->lost[dir] && c->len && ((c->data[0] | 0x20) >= 'a' && (c->data[0] | 0x20) <= 'z');
		int cmd = is_req ? command_prefix(c->data, c->len) : 1;
		if (start && cmd == 2 && !inl && avail == c->len) {
			rc->cand_off[dir] = c->offset; /* a command's start, cut short: wait for the rest */
			return ZT_PARSE_NEED_MORE;
		}
		rc->cand_off[dir] = UINT64_MAX;
		if (!start || !c->len || (is_req ? cmd != 1 && !inl : !strchr("+-:$*_,#!=(%~>|", c->data[0]))) {
			*consumed = avail;
			return ZT_PARSE_OK;
		}
		rc->hunting[dir] = 0;
		resp_reset(&rc->rd[dir]);
	}
	int r = resp_read(&rc->rd[dir], c->data, c->len, avail, c->first_ts_ns, c->ts_ns,
			  is_req ? &request_ops : &reply_ops, rc, consumed);
	switch (r) {
	case RESP_OK:
		return ZT_PARSE_OK;
	case RESP_MORE:
		return ZT_PARSE_NEED_MORE;
	case RESP_LOST:
		/* the rest of this message was not captured: skip it, then resync */
		if (*consumed < avail)
			*consumed = avail;
		rc->hunting[dir] = 1;
		rc->lost[dir] = 1;
		if (is_req || rc->sync == SYNC_OK)
			lose_sync(rc);
		return ZT_PARSE_OK;
	default:
		resp_reset(&rc->rd[dir]);
		if (!rc->ever_ok)
			return ZT_PARSE_IGNORED; /* not Redis after all */
		rc->hunting[dir] = 1;
		rc->lost[dir] = 1;
		rc->own_gap[dir] = 1;
		lose_sync(rc);
		*consumed = 0;
		return ZT_PARSE_INVALID;
	}
}

/* -------------------------------------------------------------- detection */

static const struct zt_config_field redis_config[] = {
	{ "port", ZT_CFG_INT, 0, "6379",
	  "Server port whose connections are Redis whatever their first bytes (inline commands included); 0: none.",
	  0, 65535 },
	{ "detect_any_port", ZT_CFG_BOOL, 0, "true",
	  "Also claim connections on any port whose first message is a RESP command (\"*N\\r\\n$...\").", 0, 0 },
	ZT_CFG_END,
};

static uint32_t redis_detect(void *state, const struct zt_conn_info *ci, const struct zt_chunk *c)
{
	const uint8_t *p;
	size_t n, i;
	int64_t blen = 0;

	if (!c || !c->data || !c->len)
		return ZT_DETECT_MAYBE;
	p = c->data;
	n = c->len;
	if (command_prefix(p, n) != 1)
		return ZT_DETECT_NO;
	i = (size_t)((const uint8_t *)memchr(p, '\n', n) - p) + 2; /* after "$" */
	for (; i < n && p[i] >= '0' && p[i] <= '9' && blen < 100; i++)
		blen = blen * 10 + (p[i] - '0');
	if (blen < 1 || blen >= RESP_WORD_MAX || i + 2 + (size_t)blen > n || p[i] != '\r' || p[i + 1] != '\n')
		return n < 64 && c->avail <= n ? ZT_DETECT_MAYBE : ZT_DETECT_NO;
	i += 2;
	for (int64_t k = 0; k < blen; k++) {
		uint8_t ch = p[i + (size_t)k] | 0x20;
		if (!((ch >= 'a' && ch <= 'z') || (k && ((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_'))))
			return ZT_DETECT_NO;
	}
	return ZT_DETECT_YES;
}

static size_t redis_rules(void *state, const struct zt_detect_rule **rules)
{
	struct redis_state *s = state;
	*rules = s->rules;
	return s->nrules;
}

/* "*<digit>\r\n$" and "*<digit><digit>\r\n$": the digits masked to 0x3_. */
static void command_rule(struct zt_detect_rule *r, int digits)
{
	memset(r, 0, sizeof(*r));
	r->struct_size = sizeof(*r);
	r->verdict = ZT_RULE_ASK;
	r->direction = ZT_RULE_DIR_ANY;
	r->transports = ZT_TRANSPORT_TCP;
	r->len = (uint16_t)(4 + digits);
	r->min_len = 8;
	r->pattern[0] = '*';
	r->mask[0] = 0xff;
	for (int i = 1; i <= digits; i++) {
		r->pattern[i] = '0';
		r->mask[i] = 0xf0;
	}
	memcpy(r->pattern + 1 + digits, "\r\n$", 3);
	memset(r->mask + 1 + digits, 0xff, 3);
}

/* ------------------------------------------------------------- lifecycle */

static int redis_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct redis_state *s = calloc(1, sizeof(*s));
	int64_t port = 6379;
	uint32_t any = 1;

	if (!s)
		return -ENOMEM;
	s->host = host;
	s->inst = inst;
	host->config_int(inst, "port", &port);
	host->config_bool(inst, "detect_any_port", &any);
	if (port > 0) {
		struct zt_detect_rule *r = &s->rules[s->nrules++];
		memset(r, 0, sizeof(*r));
		r->struct_size = sizeof(*r);
		r->verdict = ZT_RULE_CLAIM;
		r->direction = ZT_RULE_DIR_ANY;
		r->transports = ZT_TRANSPORT_TCP;
		r->port = (uint16_t)port;
	}
	if (any) {
		command_rule(&s->rules[s->nrules++], 1);
		command_rule(&s->rules[s->nrules++], 2);
	}
	*state = s;
	return 0;
}

static void redis_fini(void *state)
{
	free(state);
}

static int redis_conn_open(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state)
{
	struct redis_state *s = state;
	struct redis_conn *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return -ENOMEM;
	rc->host = s->host;
	rc->conn = conn;
	rc->req_dir = ci && ci->role == ZT_ROLE_CLIENT ? ZT_DIR_EGRESS
		      : ci && ci->role == ZT_ROLE_SERVER ? ZT_DIR_INGRESS
							   : DIR_UNKNOWN;
	for (int i = 0; i < 2; i++) {
		rc->cand_off[i] = UINT64_MAX;
		resp_reset(&rc->rd[i]);
		rc->hunting[i] = 1; /* joined mid-stream or not: a value at a message start syncs */
	}
	if (rc->req_dir != DIR_UNKNOWN)
		rc->rd[rc->req_dir].inline_ok = 1;
	*conn_state = rc;
	return 0;
}

static void redis_conn_close(void *state, void *conn_state)
{
	struct redis_conn *rc = conn_state;
	if (!rc)
		return;
	free(rc->pend.e);
	free(rc->queued.e);
	free(rc);
}

static const struct zt_protocol_ops redis_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_protocol_ops, ZT_KIND_PROTOCOL),
	.metric_stem = "redis_queries",
	.transports = ZT_TRANSPORT_TCP,
	.capture_bytes = REDIS_CAPTURE,
	.max_pending = REDIS_PENDING_MAX,
	.init = redis_init,
	.fini = redis_fini,
	.rules = redis_rules,
	.detect = redis_detect,
	.conn_open = redis_conn_open,
	.conn_close = redis_conn_close,
	.parse = redis_parse,
};

ZT_PLUGIN_DEFINE(redis, ZT_KIND_PROTOCOL, "0.1.0", "Apache-2.0",
		 "Redis (RESP2/RESP3) commands and replies: command, status, latency; pub/sub and MULTI/EXEC aware",
		 redis_config, &redis_ops);
