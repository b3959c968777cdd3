// SPDX-License-Identifier: Apache-2.0
/*
 * An incremental reader of RESP2 and RESP3 values (the Redis
 * serialization protocol), one direction of one connection at a time.
 *
 * It never buffers a value: type lines are read whole (the core keeps a
 * partial line for the next call), bulk bodies are stepped over by their
 * declared length, captured or not, and nesting is a small stack of
 * element counts. So a pipelined batch, a 500 MB value or a reply of a
 * million elements cost the same few bytes of state, and only the first
 * two elements of a value (command and subcommand, push kind) and an
 * error's code are copied out.
 */
#include <string.h>

#include "redis.h"

static int is_type(uint8_t c)
{
	return c && strchr("+-:$*_,#!=(%~>|", c) != NULL;
}

static int is_aggregate(uint8_t c)
{
	return c == '*' || c == '%' || c == '~' || c == '>' || c == '|';
}

static int is_bulk(uint8_t c)
{
	return c == '$' || c == '!' || c == '=';
}

void resp_reset(struct resp_reader *r)
{
	uint32_t inl = r->inline_ok;
	memset(r, 0, sizeof(*r));
	r->inline_ok = inl;
	r->body_word = -1;
}

/* A decimal integer filling p[0..n); 0 or -1. */
static int parse_int(const uint8_t *p, size_t n, int64_t *out)
{
	int neg = 0;
	uint64_t v = 0;
	size_t i = 0;

	if (n && (p[0] == '-' || p[0] == '+')) {
		neg = p[0] == '-';
		i++;
	}
	if (i == n || n - i > 19)
		return -1;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int valid_double(const uint8_t *p, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789.eE+-infa", p[i]))
			return 0;
	return 1;
}

/* The current element's index inside the top-level value, when it is a direct child. */
static int64_t child_index(const struct resp_reader *r)
{
	if (r->depth != 1 || r->lv[0].attr)
		return -1;
	int64_t total = r->lv[0].type == '%' ? (int64_t)r->v.count * 2 : (int64_t)r->v.count;
	return total - r->lv[0].left;
}

static void keep_word(struct resp_value *v, int i, const uint8_t *p, size_t n, int complete)
{
	size_t k = n < RESP_WORD_MAX ? n : RESP_WORD_MAX;
	memcpy(v->word[i], p, k);
	v->word_len[i] = (uint8_t)k;
	v->word_ok[i] = complete && n < RESP_WORD_MAX;
}

static void keep_err(struct resp_value *v, const uint8_t *p, size_t n)
{
	size_t k = 0;
	while (k < n && k < RESP_ERR_MAX && p[k] > ' ' && p[k] < 0x7f)
		k++;
	memcpy(v->err, p, k);
	v->err_len = (uint8_t)k;
}

/* An element starts at the current depth. */
static void begin_elem(struct resp_reader *r, uint8_t type, uint64_t ts)
{
	if (r->depth == 0) {
		if (!r->in_value) {
			memset(&r->v, 0, sizeof(r->v));
			r->v.start_ns = ts;
			r->in_value = 1;
		}
		r->v.type = type;
	} else if (r->depth == 1 && !r->lv[0].attr) {
		r->elem1_type = type;
	}
}

/*
 * The element at the current depth ended (was_attr: it was an attribute,
 * which precedes the element it describes and does not count). Pops every
 * aggregate it completes; a completed top-level value goes to ops->value.
 */
static void end_elem(struct resp_reader *r, int was_attr, uint64_t ts, const struct resp_ops *ops, void *ctx)
{
	for (;;) {
		if (r->depth == 0) {
			if (was_attr) /* a top-level attribute: the reply it describes follows */
				return;
			r->in_value = 0;
			if (ops->value)
				ops->value(ctx, &r->v, ts);
			return;
		}
		if (was_attr)
			return;
		if (r->depth == 1 && !r->lv[0].attr && ops->element)
			ops->element(ctx, &r->v, r->elem1_type, ts);
		if (--r->lv[r->depth - 1].left > 0)
			return;
		was_attr = r->lv[r->depth - 1].attr;
		r->depth--;
	}
}

/* The line p[0..n) (without CRLF) of type p[0]. */
static int on_line(struct resp_reader *r, const uint8_t *p, size_t n, uint64_t ts, const struct resp_ops *ops,
		   void *ctx)
{
	uint8_t t = p[0];
	int64_t v = 0, idx;

	if (is_aggregate(t) || is_bulk(t) || t == ':' || t == '(') {
		if (t == '(' ? n < 2 : parse_int(p + 1, n - 1, &v))
			return RESP_BAD;
		if (t == '(') {
			for (size_t i = 1; i < n; i++)
				if (!((p[i] >= '0' && p[i] <= '9') || (i == 1 && p[i] == '-')))
					return RESP_BAD;
		}
	} else if (t == ',') {
		if (!valid_double(p + 1, n - 1))
			return RESP_BAD;
	} else if (t == '#') {
		if (n != 2 || (p[1] != 't' && p[1] != 'f'))
			return RESP_BAD;
	} else if (t == '_') {
		if (n != 1)
			return RESP_BAD;
	}
	idx = child_index(r);
	begin_elem(r, t, ts);
	r->v.size += r->line_bytes;
	if (is_aggregate(t)) {
		if (v < -1 || v > RESP_COUNT_MAX || (v == -1 && t != '*'))
			return RESP_BAD;
		if (r->depth == 0)
			r->v.count = v < 0 ? 0 : (uint64_t)v;
		if (v <= 0) {
			if (r->depth == 0)
				r->v.null = v < 0;
			end_elem(r, t == '|', ts, ops, ctx);
			return RESP_OK;
		}
		if (r->depth == RESP_DEPTH_MAX)
			return RESP_BAD;
		r->lv[r->depth].type = t;
		r->lv[r->depth].attr = t == '|';
		r->lv[r->depth].left = (t == '%' || t == '|') ? 2 * v : v;
		r->depth++;
		if (r->depth == 1 && t != '|' && ops->begin)
			ops->begin(ctx, &r->v);
		return RESP_OK;
	}
	if (is_bulk(t)) {
		if (v < -1 || v > RESP_BULK_MAX || (v == -1 && t != '$'))
			return RESP_BAD;
		if (v == -1) {
			if (r->depth == 0)
				r->v.null = 1;
			end_elem(r, 0, ts, ops, ctx);
			return RESP_OK;
		}
		r->body_left = (uint64_t)v + 2;
		r->body_len = (uint64_t)v;
		r->body_seen = 0;
		r->body_type = t;
		r->body_word = -1;
		if (r->depth == 0 && t == '!')
			r->body_word = 2;
		else if (idx == 0 || idx == 1)
			r->body_word = (int32_t)idx;
		return RESP_OK;
	}
	/* simple types */
	if (r->depth == 0 && t == '-')
		keep_err(&r->v, p + 1, n - 1);
	if (r->depth == 0 && t == '_')
		r->v.null = 1;
	if (r->depth == 0 && t == '+')
		keep_word(&r->v, 0, p + 1, n - 1, 1);
	if ((idx == 0 || idx == 1) && t == '+')
		keep_word(&r->v, (int)idx, p + 1, n - 1, 1);
	if (r->depth == 1 && t == ':')
		r->v.last_int = v;
	end_elem(r, 0, ts, ops, ctx);
	return RESP_OK;
}

/* An inline command (a line of words, as typed into telnet or nc). */
static int on_inline(struct resp_reader *r, const uint8_t *p, size_t n, uint64_t ts, const struct resp_ops *ops,
		     void *ctx)
{
	struct resp_value *v = &r->v;
	size_t i = 0;

	for (size_t k = 0; k < n; k++)
		if ((p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f)
			return RESP_BAD;
	memset(v, 0, sizeof(*v));
	v->type = 'i';
	v->start_ns = ts;
	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			break;
		size_t s = i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		if (v->count < 2)
			keep_word(v, (int)v->count, p + s, i - s, 1);
		v->count++;
	}
	if (!v->count) /* an empty line: Redis skips it without a reply */
		return RESP_OK;
	v->size = r->line_bytes;

	if (ops->value)
		ops->value(ctx, v, ts);
	return RESP_OK;
}

static void body_bytes(struct resp_reader *r, const uint8_t *p, size_t n)
{
	/* p: captured body bytes starting at body offset r->body_seen */
	if (r->body_word < 0 || r->body_seen >= r->body_len)
		return;
	uint64_t room = r->body_len - r->body_seen;
	size_t k = n < room ? n : (size_t)room;
	if (r->body_word == 2) {
		if (!r->body_seen)
			keep_err(&r->v, p, k);
		return;
	}
	struct resp_value *v = &r->v;
	int i = r->body_word;
	size_t have = v->word_len[i];
	if (r->body_seen != have) /* a hole before: not kept */
		return;
	size_t c = have + k <= RESP_WORD_MAX ? k : RESP_WORD_MAX - have;
	memcpy(v->word[i] + have, p, c);
	v->word_len[i] = (uint8_t)(have + c);
}

int resp_read(struct resp_reader *r, const uint8_t *p, size_t len, uint64_t avail, uint64_t first_ns,
	      uint64_t ts_ns, const struct resp_ops *ops, void *ctx, uint64_t *consumed)
{
	uint64_t pos = 0;
	int rc = RESP_OK;

	if (avail < len)
		avail = len;
	for (;;) {
		uint64_t ts = pos ? ts_ns : first_ns;
		if (r->body_left) {
			uint64_t take = r->body_left < avail - pos ? r->body_left : avail - pos;
			uint64_t cap = pos < len ? len - pos : 0;
			uint64_t seen = take < cap ? take : cap;
			int hole = seen < take;
			body_bytes(r, p + pos, (size_t)seen);
			r->body_seen += take;
			r->body_left -= take;
			r->v.size += take;
			pos += take;
			if (r->body_left) { /* goes on in the next message */
				if (hole && r->body_word >= 0 && r->body_word < 2)
					r->body_word = -1;
				*consumed = pos;
				return RESP_OK;
			}
			/* the CRLF, where it was captured */
			if (pos <= len && ((pos >= 2 && p[pos - 2] != '\r') || p[pos - 1] != '\n'))
				return RESP_BAD;
			if (r->body_word == 0 || r->body_word == 1) {
				int i = r->body_word;
				r->v.word_ok[i] = !hole && r->body_len < RESP_WORD_MAX &&
						  r->v.word_len[i] == r->body_len;
			}
			r->body_word = -1;
			end_elem(r, 0, ts_ns, ops, ctx);
			if (pos > len) { /* stepped past the capture: what follows was not seen */
				*consumed = pos;
				if (pos == avail)
					return RESP_OK;
				rc = RESP_LOST;
				goto lost;
			}
			continue;
		}
		if (pos >= len) {
			*consumed = pos;
			if (pos < avail) {
				rc = RESP_LOST;
				goto lost;
			}
			return RESP_OK;
		}
		size_t lim = len - pos < RESP_LINE_MAX ? (size_t)(len - pos) : RESP_LINE_MAX;
		const uint8_t *lf = memchr(p + pos, '\n', lim);
		if (!lf) {
			*consumed = pos;
			if (len - pos >= RESP_LINE_MAX)
				return RESP_BAD;
			if (avail > len) {
				rc = RESP_LOST;
				goto lost;
			}
			return RESP_MORE;
		}
		size_t n = (size_t)(lf - (p + pos)), used = n + 1;
		if (r->depth == 0 && !r->in_value && !is_type(p[pos])) {
			if (!r->inline_ok)
				return RESP_BAD;
			if (n && p[pos + n - 1] == '\r')
				n--;
			r->line_bytes = used;
			rc = on_inline(r, p + pos, n, ts, ops, ctx);
		} else {
			if (!n || p[pos + n - 1] != '\r' || !is_type(p[pos]))
				return RESP_BAD;
			r->line_bytes = used;
			rc = on_line(r, p + pos, n - 1, ts, ops, ctx);
		}
		if (rc != RESP_OK)
			return rc;
		pos += used;
	}
lost:
	if (r->in_value) {
		r->v.lost = 1;
		if (ops->value)
			ops->value(ctx, &r->v, ts_ns);
	}
	resp_reset(r);
	return rc;
}
