/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.x protocol plugin (RFC 9110, RFC 9112): requests and responses of
 * both the client and the server side, keep-alive and pipelining, bodies
 * framed by Content-Length, chunked coding or the connection's end, 1xx
 * interim responses, HEAD/204/304 without body, Upgrade/CONNECT leaving
 * HTTP. Everything goes through the SDK: detection rules and detect(),
 * parse() over the core's chunks, frame_emit() for what it found; the core
 * pairs requests with responses (FIFO) and makes the http_requests
 * families.
 *
 * Every frame is emitted as soon as its head is complete: bodies are
 * skipped, never waited for, so a slow download, a stream (SSE) or a
 * connection closed mid-body never keeps a response from its request. A
 * response's end_ns is therefore the arrival of its head, and its size
 * counts the body only when the head declares its length (README.md,
 * "Timing and sizes").
 *
 * State per connection and direction is a small state machine (HUNT,
 * START, chunk framing); bytes are never copied except into the short
 * strings of a frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zerotap/plugin.h>

#include "http.h"

/*
 * capture_bytes: request and response heads are what the plugin reads;
 * bodies are skipped by their length. 2 KiB holds the heads of nearly all
 * API and browser traffic (a request line with its Host, User-Agent,
 * Accept and a few cookies or a bearer token), so the framing fields come
 * with the first capture; larger heads are still framed when a process
 * writes them in pieces (the core keeps partial heads), and are otherwise
 * degraded (README.md, "Limits"). The kernel copies at most this much per
 * read/write of a claimed connection, whatever the body size.
 */
#define HTTP_CAPTURE 2048
/*
 * request_timeout_ns: a response is emitted at its head, so only the
 * server's think time counts; long polling and backends behind 60 s proxy
 * timeouts wait longer than the core's 30 s default. A request that is
 * never answered mostly ends with its connection, which drops it anyway.
 */
#define HTTP_REQUEST_TIMEOUT_NS (120ull * 1000000000ull)
#define HTTP_SPECIAL_MAX 16      /* unanswered HEAD and CONNECT requests remembered */
#define HTTP_HUNT_GIVE_UP 64     /* message starts skipped before any HTTP was seen: not HTTP */
#define NO_OFFSET UINT64_MAX
#define M_NONE 0xff              /* the request was not seen (joined late, or lost) */

enum { ST_HUNT, ST_START, ST_CHUNK_LINE, ST_TRAILER };
enum { KIND_UNKNOWN, KIND_REQUESTS, KIND_RESPONSES };

#define STEP_AGAIN 0xffu /* internal: state changed, nothing consumed: run the next step */

struct http_state {
	const struct zt_host *host;
	zt_instance *inst;
};

struct http_dir {
	uint32_t state;
	uint32_t kind;       /* what this direction carries, once seen */
	uint64_t cand_off;   /* ST_HUNT: a message start waiting for more bytes ... */
	uint64_t cand_len;   /* ... and how many it had: the next message starts there */
	uint32_t trailers;   /* ST_TRAILER: lines so far */
};

/*
 * Which unanswered requests were HEAD or CONNECT, whose responses frame
 * differently: requests and final responses are numbered in order, and
 * only the numbers of the special ones are kept, so any pipelining depth
 * costs nothing. More than HTTP_SPECIAL_MAX special ones outstanding: the
 * responses up to the last one forgotten are "not seen".
 */
struct http_methods {
	uint32_t req_seq, resp_seq; /* requests seen, final responses seen */
	uint32_t head, len;         /* ring of special requests */
	uint32_t forgot;            /* 1 + number of the last special request not kept; 0 none */
	struct {
		uint32_t seq;
		uint32_t method;
	} sp[HTTP_SPECIAL_MAX];
};

struct http_conn {
	const struct zt_host *host;
	zt_conn *conn;
	struct http_dir d[2];
	struct http_methods mq;
	uint32_t ever_ok;    /* a valid head was seen on this connection */
	uint32_t hunt_skips; /* message starts skipped while !ever_ok */
};

/* One parse() call. */
struct ctx {
	struct http_conn *hc;
	struct http_dir *d;
	const struct zt_chunk *c;
	const uint8_t *p;
	size_t len;
	uint64_t avail;
};

/* ---------------------------------------------------------------- rules */

#define RULE(verdict_, s)                                                                                    \
	{                                                                                                    \
		.struct_size = sizeof(struct zt_detect_rule), .verdict = (verdict_),                         \
		.direction = ZT_RULE_DIR_ANY, .transports = ZT_TRANSPORT_TCP, .len = sizeof(s) - 1,          \
		.pattern = s,                                                                                \
	}

/*
 * A method and its SP at offset 0 of a message, in either direction (the
 * traced process may be the client or the server), or a status line's
 * "HTTP/1." (a connection joined while a response is on its way). The
 * method RTSP and SIP share (OPTIONS) and the rare ones only ask detect(),
 * which checks the request line's HTTP/1.x version.
 */
static const struct zt_detect_rule http_rules[] = {
	RULE(ZT_RULE_CLAIM, "GET "),    RULE(ZT_RULE_CLAIM, "POST "),   RULE(ZT_RULE_CLAIM, "PUT "),
	RULE(ZT_RULE_CLAIM, "HEAD "),   RULE(ZT_RULE_CLAIM, "DELETE "), RULE(ZT_RULE_CLAIM, "PATCH "),
	RULE(ZT_RULE_CLAIM, "HTTP/1."), RULE(ZT_RULE_ASK, "OPTIONS "),  RULE(ZT_RULE_ASK, "CONNECT "),
	RULE(ZT_RULE_ASK, "TRACE "),
};

static size_t http_rules_get(void *state, const struct zt_detect_rule **rules)
{
	*rules = http_rules;
	return sizeof(http_rules) / sizeof(http_rules[0]);
}

static uint32_t http_detect(void *state, const struct zt_conn_info *ci, const struct zt_chunk *c)
{
	struct http_line l;

	if (!c || !c->len || !c->data)
		return ZT_DETECT_MAYBE;
	switch (http_line_parse(c->data, c->len < HTTP_HEAD_MAX ? c->len : HTTP_HEAD_MAX, &l)) {
	case HP_OK:
		return ZT_DETECT_YES;
	case HP_INCOMPLETE:
		if (c->avail <= c->len)
			return ZT_DETECT_MAYBE; /* the message itself ended mid-line */
		/* a request line longer than the probe: a known method and a path will do */
		return l.target_len && l.method != M_OTHER && l.target[0] == '/' ? ZT_DETECT_YES : ZT_DETECT_NO;
	default:
		return ZT_DETECT_NO;
	}
}

/* --------------------------------------------------------------- frames */

static struct zt_str zs(const char *s, size_t n)
{
	return (struct zt_str){ s, n };
}

/* Decimal digits of v, right-aligned in buf[0..cap); returns where they start. */
static size_t decimal(uint64_t v, char *buf, size_t cap)
{
	size_t k = cap;
	do
		buf[--k] = (char)('0' + v % 10);
	while ((v /= 10) && k);
	return k;
}

static void emit_request(struct ctx *x, const struct http_head *h, uint64_t size)
{
	const struct http_line *l = &h->line;
	char route[HTTP_ROUTE_MAX + 1], host[HTTP_HOST_MAX + 1], port[5], ua[HTTP_UA_MAX], bsz[20];
	const char *m = http_method_name(l->method);
	struct zt_attr a[8];
	uint32_t na = 0, pn = 0;
	size_t rl = http_route(l->target, l->target_len, route, sizeof(route)), k;

	a[na++] = (struct zt_attr){ ZT_STR("http.request.method"), zs(m, strlen(m)) };
	if (rl)
		a[na++] = (struct zt_attr){ ZT_STR("http.route"), zs(route, rl) };
	if (h->line_done) /* a request line cut by the capture has no version yet */
		a[na++] = (struct zt_attr){ ZT_STR("network.protocol.version"), l->minor ? ZT_STR("1.1") : ZT_STR("1.0") };
	if (h->host) {
		size_t hl = http_host(h->host, h->host_len, host, sizeof(host), &pn);
		if (hl) {
			a[na++] = (struct zt_attr){ ZT_STR("server.address"), zs(host, hl) };
			if (pn) {
				k = decimal(pn, port, sizeof(port));
				a[na++] = (struct zt_attr){ ZT_STR("server.port"), zs(port + k, sizeof(port) - k) };
			}
		}
	}
	if (h->ua) {
		size_t n = 0;
		while (n < h->ua_len && n < sizeof(ua) && h->ua[n] >= 0x20 && h->ua[n] < 0x7f) {
			ua[n] = (char)h->ua[n];
			n++;
		}
		if (n)
			a[na++] = (struct zt_attr){ ZT_STR("user_agent.original"), zs(ua, n) };
	}
	if (h->has_cl && h->cl) {
		k = decimal(h->cl, bsz, sizeof(bsz));
		a[na++] = (struct zt_attr){ ZT_STR("http.request.body.size"), zs(bsz + k, sizeof(bsz) - k) };
	}

	struct zt_frame f = {
		.struct_size = sizeof(f),
		.type = ZT_FRAME_REQUEST,
		.pairing = ZT_PAIR_FIFO,
		.start_ns = x->c->first_ts_ns,
		.end_ns = x->c->ts_ns,
		.size = size,
		.method = zs(m, strlen(m)),
		.resource = zs(route, rl),
		.attrs = a,
		.attr_count = na,
	};
	x->hc->host->frame_emit(x->hc->conn, &f);
}

static void emit_response(struct ctx *x, const struct http_head *h, uint64_t size)
{
	uint32_t st = h->line.status;
	char code[3] = { (char)('0' + st / 100 % 10), (char)('0' + st / 10 % 10), (char)('0' + st % 10) }, bsz[20];
	struct zt_attr a[2] = { { ZT_STR("http.response.status_code"), zs(code, 3) } };
	uint32_t na = 1;

	if (h->len && h->has_cl && !h->has_te && h->cl && size == h->len + h->cl) { /* the body was counted */
		size_t k = decimal(h->cl, bsz, sizeof(bsz));
		a[na++] = (struct zt_attr){ ZT_STR("http.response.body.size"), zs(bsz + k, sizeof(bsz) - k) };
	}
	struct zt_frame f = {
		.struct_size = sizeof(f),
		.type = ZT_FRAME_RESPONSE,
		.pairing = ZT_PAIR_FIFO,
		.status = st >= 500 ? ZT_STATUS_FAILED : ZT_STATUS_OK,
		.start_ns = x->c->first_ts_ns,
		.end_ns = x->c->ts_ns,
		.size = size,
		.status_label = zs(code, 3),
		/* OpenTelemetry's error.type for a server error is its status code */
		.error = st >= 500 ? zs(code, 3) : zs("", 0),
		.attrs = a,
		.attr_count = na,
	};
	x->hc->host->frame_emit(x->hc->conn, &f);
}

/* ------------------------------------------------------- method queue */

static void mq_push(struct http_methods *q, uint32_t m)
{
	uint32_t seq = q->req_seq++;
	if (m != M_HEAD && m != M_CONNECT)
		return;
	if (q->len == HTTP_SPECIAL_MAX) {
		q->forgot = seq + 1;
		return;
	}
	q->sp[(q->head + q->len) % HTTP_SPECIAL_MAX].seq = seq;
	q->sp[(q->head + q->len) % HTTP_SPECIAL_MAX].method = m;
	q->len++;
}

/* The method of the request a final response answers: M_HEAD, M_CONNECT, M_GET (any other) or M_NONE. */
static uint32_t mq_pop(struct http_methods *q)
{
	if (q->resp_seq == q->req_seq)
		return M_NONE;
	uint32_t seq = q->resp_seq++;
	if (q->len && q->sp[q->head].seq == seq) {
		uint32_t m = q->sp[q->head].method;
		q->head = (q->head + 1) % HTTP_SPECIAL_MAX;
		q->len--;
		return m;
	}
	return q->forgot && seq < q->forgot ? M_NONE : M_GET;
}

/* ---------------------------------------------------------------- steps */

/* Lost our place in this direction: wait for a message that starts with a head. */
static void hunt(struct ctx *x)
{
	x->d->state = ST_HUNT;
	x->d->cand_off = NO_OFFSET;
	x->d->trailers = 0;
}

/* Bytes were lost before this chunk. */
static void on_gap(struct ctx *x)
{
	hunt(x);
	/* The requests or responses lost may have been HEAD requests or their
	 * answers: the numbering no longer says which response is whose. */
	memset(&x->hc->mq, 0, sizeof(x->hc->mq));
}

/* Skips the rest of a message that cannot be framed (yet). */
static uint32_t skip_message(struct ctx *x, uint64_t *consumed)
{
	*consumed = x->avail;
	return ZT_PARSE_OK;
}

/* The captured bytes end before the framing we need; the rest of the message was not captured. */
static uint32_t framing_lost(struct ctx *x, uint64_t *consumed)
{
	hunt(x);
	return skip_message(x, consumed);
}

static uint32_t invalid(struct ctx *x)
{
	hunt(x);
	return ZT_PARSE_INVALID;
}

/*
 * A head that is not one (or not ours). While in sync, or with a complete
 * start line, it is a broken message; otherwise (looking for a head after
 * lost bytes) it is most likely a body's bytes, skipped without a word.
 */
static uint32_t bad_head(struct ctx *x, uint64_t *consumed, int hunting, int not_http, int line_done)
{
	struct http_dir *d = x->d;
	if (!hunting || (line_done && !not_http))
		return invalid(x);
	if (!x->hc->ever_ok && (not_http || ++x->hc->hunt_skips > HTTP_HUNT_GIVE_UP))
		return ZT_PARSE_IGNORED; /* RTSP, SIP, Redis' "GET key", ...: not ours */
	if (!(x->c->flags & ZT_CHUNK_MSG_START) && x->c->offset == d->cand_off && d->cand_len < x->len) {
		/* A candidate kept from earlier messages was not a head after all:
		 * drop only its bytes, so the message that came after it is
		 * offered again from its own start. */
		*consumed = d->cand_len;
		d->cand_off = NO_OFFSET;
		return ZT_PARSE_OK;
	}
	return skip_message(x, consumed); /* a body seen after a gap, most likely */
}

static uint32_t on_request(struct ctx *x, const struct http_head *h, int truncated, uint64_t *consumed)
{
	mq_push(&x->hc->mq, h->line.method);
	if (truncated) {
		/* The head goes on past the capture: its framing is unknown. */
		emit_request(x, h, x->avail);
		return framing_lost(x, consumed);
	}
	if (h->chunked) {
		emit_request(x, h, h->len);
		x->d->state = ST_CHUNK_LINE;
		*consumed = h->len;
		return ZT_PARSE_OK;
	}
	uint64_t body = h->has_cl ? h->cl : 0; /* no length, no body (RFC 9112 6.3 rule 6) */
	emit_request(x, h, h->len + body);
	*consumed = h->len + body; /* may go past len and avail: the core skips the body */
	return ZT_PARSE_OK;
}

static uint32_t on_response(struct ctx *x, const struct http_head *h, int truncated, uint64_t *consumed)
{
	uint32_t st = h->line.status;

	if (st < 200 && st != 101) { /* 100 Continue, 102, 103: the final response follows */
		if (truncated)
			return framing_lost(x, consumed);
		*consumed = h->len;
		return ZT_PARSE_OK;
	}
	uint32_t m = mq_pop(&x->hc->mq);
	if (st == 101 || (m == M_CONNECT && st < 300)) {
		/* Switching Protocols, or a CONNECT tunnel: what follows is not HTTP/1. */
		emit_response(x, h, truncated ? x->avail : h->len);
		return ZT_PARSE_END_OF_STREAM;
	}
	if (truncated) {
		emit_response(x, h, x->avail);
		return framing_lost(x, consumed);
	}
	int nobody = m == M_HEAD || st == 204 || st == 304;
	/* The request was not seen (joined late, or lost): a HEAD response is
	 * recognised by the next status line right behind its head. */
	if (!nobody && m == M_NONE && h->has_cl && h->cl && !h->has_te && x->len >= h->len + 7 &&
	    !memcmp(x->p + h->len, "HTTP/1.", 7))
		nobody = 1;
	if (nobody) {
		emit_response(x, h, h->len);
		*consumed = h->len;
		return ZT_PARSE_OK;
	}
	if (h->chunked) { /* the body's size is not known: the head's */
		emit_response(x, h, h->len);
		x->d->state = ST_CHUNK_LINE;
		*consumed = h->len;
		return ZT_PARSE_OK;
	}
	if (h->has_cl && !h->has_te) {
		emit_response(x, h, h->len + h->cl);
		*consumed = h->len + h->cl; /* may go past len and avail: the core skips the body */
		return ZT_PARSE_OK;
	}
	/* The body runs until the connection closes: nothing after it on this
	 * connection can be HTTP, so capture stops here. */
	emit_response(x, h, h->len);
	return ZT_PARSE_END_OF_STREAM;
}

static uint32_t step_head(struct ctx *x, uint64_t *consumed, int hunting)
{
	struct http_dir *d = x->d;
	struct http_head h;
	int truncated = 0;
	int r = http_head_parse(x->p, x->len, &h);

	if (r == HP_INCOMPLETE) {
		if (x->avail <= x->len) {
			/* the rest comes with the next read or write */
			if (hunting) {
				d->cand_off = x->c->offset;
				d->cand_len = x->len;
			}
			return ZT_PARSE_NEED_MORE;
		}
		/* The rest of the head was not captured. A complete start line
		 * (or, in sync, a request line cut inside its target) is still
		 * worth a frame. */
		if (h.line_done || (!hunting && (h.line.target_len || h.line.status)))
			truncated = 1;
		else
			r = HP_BAD;
	}
	if (r == HP_BAD || r == HP_NOT_HTTP)
		return bad_head(x, consumed, hunting, r == HP_NOT_HTTP, h.line_done);

	uint32_t kind = h.line.is_response ? KIND_RESPONSES : KIND_REQUESTS;
	if (d->kind && d->kind != kind)
		return bad_head(x, consumed, hunting, 0, 0);
	if (kind == KIND_REQUESTS && h.has_te && !h.chunked && !truncated)
		return bad_head(x, consumed, hunting, 0, 1); /* a body that cannot be framed (RFC 9112 6.3 rule 4) */
	x->hc->ever_ok = 1;
	d->kind = kind;
	d->state = ST_START;
	d->cand_off = NO_OFFSET;
	return kind == KIND_REQUESTS ? on_request(x, &h, truncated, consumed) : on_response(x, &h, truncated, consumed);
}

static int is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint64_t hex_val(uint8_t c)
{
	return c <= '9' ? (uint64_t)(c - '0') : (uint64_t)((c | 0x20) - 'a' + 10);
}

/* chunk-size [ chunk-ext ] CRLF, then chunk-data CRLF (RFC 9112 7.1) */
static uint32_t step_chunk_line(struct ctx *x, uint64_t *consumed)
{
	static const uint8_t crlf[2] = { '\r', '\n' };
	size_t lim = x->len < HTTP_CHUNK_LINE_MAX ? x->len : HTTP_CHUNK_LINE_MAX, i = 0;
	uint64_t size = 0;

	for (; i < lim && is_hex(x->p[i]); i++)
		if ((size = size * 16 + hex_val(x->p[i])) > HTTP_BODY_MAX)
			return invalid(x);
	if (!i && lim)
		return invalid(x);
	/* after the size: BWS, then extensions (";" ...) or CR, up to LF */
	while (i < lim && (x->p[i] == ' ' || x->p[i] == '\t'))
		i++;
	if (i < lim && x->p[i] != ';' && x->p[i] != '\r' && x->p[i] != '\n')
		return invalid(x);
	for (; i < lim && x->p[i] != '\n'; i++)
		if (x->p[i] != '\t' && (x->p[i] < 0x20 || x->p[i] == 0x7f) &&
		    !(x->p[i] == '\r' && (i + 1 == lim || x->p[i + 1] == '\n')))
			return invalid(x);
	if (i == lim) {
		if (x->len >= HTTP_CHUNK_LINE_MAX)
			return invalid(x);
		if (x->avail > x->len) /* the rest of the line was not captured */
			return framing_lost(x, consumed);
		return ZT_PARSE_NEED_MORE;
	}
	i++; /* the LF */
	if (!size) {
		x->d->state = ST_TRAILER;
		x->d->trailers = 0;
		*consumed = i;
		return ZT_PARSE_OK;
	}
	/* The data and its CRLF are skipped together, captured or not, arrived
	 * or not; the CRLF is checked where it is in hand. */
	for (uint64_t k = 0; k < 2; k++)
		if (i + size + k < x->len && x->p[i + size + k] != crlf[k])
			return invalid(x);
	*consumed = i + size + 2;
	return ZT_PARSE_OK;
}

/* trailer-section CRLF: field lines until the empty line that ends the message */
static uint32_t step_trailer(struct ctx *x, uint64_t *consumed)
{
	size_t lim = x->len < HTTP_HEAD_MAX ? x->len : HTTP_HEAD_MAX;
	const uint8_t *lf = lim ? memchr(x->p, '\n', lim) : NULL;

	if (!lf) {
		if (x->len >= HTTP_HEAD_MAX)
			return invalid(x);
		return x->avail > x->len ? framing_lost(x, consumed) : ZT_PARSE_NEED_MORE;
	}
	size_t n = (size_t)(lf - x->p);
	for (size_t i = 0; i < n; i++)
		if (x->p[i] != '\t' && (x->p[i] < 0x20 || x->p[i] == 0x7f) && !(x->p[i] == '\r' && i + 1 == n))
			return invalid(x);
	*consumed = n + 1;
	if (n == 0 || (n == 1 && x->p[0] == '\r')) { /* the message ends */
		x->d->state = ST_START;
		return ZT_PARSE_OK;
	}
	if (++x->d->trailers > HTTP_TRAILERS_MAX)
		return invalid(x);
	return ZT_PARSE_OK;
}

static uint32_t step(struct ctx *x, uint64_t *consumed)
{
	switch (x->d->state) {
	case ST_HUNT:
		/* Only a message's first byte may start a head again. */
		if (!(x->c->flags & ZT_CHUNK_MSG_START) && x->c->offset != x->d->cand_off)
			return skip_message(x, consumed);
		return step_head(x, consumed, 1);
	case ST_START:
		return step_head(x, consumed, 0);
	case ST_CHUNK_LINE:
		return step_chunk_line(x, consumed);
	case ST_TRAILER:
		return step_trailer(x, consumed);
	}
	hunt(x);
	return STEP_AGAIN;
}

static uint32_t http_parse(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *c,
			   uint64_t *consumed)
{
	struct http_conn *hc = conn_state;
	uint32_t r = STEP_AGAIN;

	*consumed = 0;
	if (!hc || !c || (!c->data && c->len))
		return ZT_PARSE_INVALID;
	struct ctx x = {
		.hc = hc,
		.d = &hc->d[c->direction & 1],
		.c = c,
		.p = c->data,
		.len = c->len,
		.avail = c->avail > c->len ? c->avail : c->len,
	};
	if (!x.avail)
		return ZT_PARSE_NEED_MORE;
	if (c->flags & ZT_CHUNK_GAP)
		on_gap(&x);
	for (int i = 0; i < 2 && r == STEP_AGAIN; i++)
		r = step(&x, consumed);
	if (r == STEP_AGAIN) /* cannot happen; never spin */
		r = framing_lost(&x, consumed);
	return r;
}

/* ----------------------------------------------------------- lifecycle */

static int http_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct http_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->inst = inst;
	*state = s;
	return 0;
}

static void http_fini(void *state)
{
	free(state);
}

static int http_conn_open(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state)
{
	struct http_state *s = state;
	struct http_conn *hc = calloc(1, sizeof(*hc));

	if (!hc)
		return -ENOMEM;
	hc->host = s->host;
	hc->conn = conn;
	for (int i = 0; i < 2; i++) {
		hc->d[i].state = ST_HUNT; /* joined mid-stream or not: a head at a message start syncs */
		hc->d[i].cand_off = NO_OFFSET;
	}
	*conn_state = hc;
	return 0;
}

static void http_conn_close(void *state, void *conn_state)
{
	free(conn_state);
}

static const struct zt_protocol_ops http_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_protocol_ops, ZT_KIND_PROTOCOL),
	.metric_stem = "http_requests",
	.transports = ZT_TRANSPORT_TCP,
	.capture_bytes = HTTP_CAPTURE,
	.request_timeout_ns = HTTP_REQUEST_TIMEOUT_NS,
	.init = http_init,
	.fini = http_fini,
	.rules = http_rules_get,
	.detect = http_detect,
	.conn_open = http_conn_open,
	.conn_close = http_conn_close,
	.parse = http_parse,
};

ZT_PLUGIN_DEFINE(http, ZT_KIND_PROTOCOL, "0.1.0", "Apache-2.0",
		 "HTTP/1.x requests and responses: method, route template, status, sizes, latency", NULL, &http_ops);
