/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The text protocol and the meta commands: one command line per request
 * (storage commands and ms followed by a data block of the declared
 * length), reply lines in request order (VALUE blocks then END for
 * retrievals, STAT lines then END for stats, one line otherwise; meta
 * replies are one line, VA with a data block). Data blocks are skipped by
 * their length, never read. Keys never leave this file: statements carry
 * "?" in their place.
 */
#include <string.h>

#include "mc_int.h"

#define TOK_MAX 24 /* tokens looked at; more keys of a get are only counted */

enum {
	C_UNKNOWN,
	C_GET,    /* get, gets: keys from 1 */
	C_GAT,    /* gat, gats: exptime, then keys */
	C_STORE,  /* set, add, replace, append, prepend: key flags exptime bytes [noreply] */
	C_CAS,    /* cas: key flags exptime bytes cas [noreply] */
	C_DELETE, /* delete key [0] [noreply] */
	C_ARITH,  /* incr, decr: key value [noreply] */
	C_TOUCH,  /* touch: key exptime [noreply] */
	C_ADMIN,  /* flush_all, verbosity, version, ... : no key */
	C_STATS,  /* stats [group]: STAT lines until END */
	C_MG,     /* mg key flags* */
	C_MS,     /* ms key datalen flags* + data */
	C_MD,     /* md key flags* */
	C_MA,     /* ma key flags* */
	C_MN,     /* mn: MN */
	C_ME,     /* me key: ME line or EN */
	C_QUIT,   /* quit: the server closes, no reply */
	C_WATCH,  /* watch: a log stream follows, never a reply */
};

struct cmd {
	const char *name;
	uint8_t cls;
};

static const struct cmd cmds[] = {
	{ "get", C_GET },	{ "gets", C_GET },	  { "gat", C_GAT },	       { "gats", C_GAT },
	{ "set", C_STORE },	{ "add", C_STORE },	  { "replace", C_STORE },      { "append", C_STORE },
	{ "prepend", C_STORE }, { "cas", C_CAS },	  { "delete", C_DELETE },      { "incr", C_ARITH },
	{ "decr", C_ARITH },	{ "touch", C_TOUCH },	  { "mg", C_MG },	       { "ms", C_MS },
	{ "md", C_MD },		{ "ma", C_MA },		  { "mn", C_MN },	       { "me", C_ME },
	{ "stats", C_STATS },	{ "flush_all", C_ADMIN }, { "verbosity", C_ADMIN },    { "version", C_ADMIN },
	{ "quit", C_QUIT },	{ "shutdown", C_ADMIN },  { "cache_memlimit", C_ADMIN }, { "slabs", C_ADMIN },
	{ "lru_crawler", C_ADMIN }, { "lru", C_ADMIN },	  { "watch", C_WATCH },	       { "misbehave", C_ADMIN },
	{ "debugtime", C_ADMIN },
};

struct tok {
	const uint8_t *s;
	size_t n;
};

struct line {
	struct tok t[TOK_MAX];
	size_t nt;    /* tokens kept in t */
	size_t total; /* tokens in the line */
	struct tok last;
};

static void tokenize(const uint8_t *p, size_t n, struct line *l)
{
	size_t i = 0;
	memset(l, 0, sizeof(*l));
	while (i < n) {
		while (i < n && p[i] == ' ')
			i++;
		if (i == n)
			break;
		size_t s = i;
		while (i < n && p[i] != ' ')
			i++;
		struct tok t = { p + s, i - s };
		if (l->nt < TOK_MAX)
			l->t[l->nt++] = t;
		l->total++;
		l->last = t;
	}
}

static int tok_is(const struct tok *t, const char *w)
{
	size_t n = strlen(w);
	return t->n == n && !memcmp(t->s, w, n);
}

/* Unsigned decimal, at most max; -1 when it is not one. */
static int64_t tok_num(const struct tok *t, uint64_t max)
{
	uint64_t v = 0;
	if (!t->n || t->n > 20)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(t->s[i] - '0');
		if (v > max)
			return -1;
	}
	return (int64_t)v;
}

/* A signed decimal (exptimes may be negative). */
static int tok_int(const struct tok *t)
{
	struct tok u = *t;
	if (u.n && u.s[0] == '-') {
		u.s++;
		u.n--;
	}
	return tok_num(&u, UINT32_MAX) >= 0;
}

static const struct cmd *lookup(const struct tok *t)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (tok_is(t, cmds[i].name))
			return &cmds[i];
	return NULL;
}

/* Bytes of a line a parser accepts: no control characters but a final CR. */
static int line_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && !(p[i] == '\r' && i + 1 == n)) || p[i] == 0x7f)
			return 0;
	return 1;
}

static size_t strip_cr(const uint8_t *p, size_t n)
{
	return n && p[n - 1] == '\r' ? n - 1 : n;
}

static int key_ok(const struct tok *t)
{
	return t->n && t->n <= MC_KEY_MAX;
}

/* ------------------------------------------------------------ detection */

/* The line has the shape of a command of cls. */
static int shape_ok(const struct cmd *cm, const struct line *l)
{
	size_t n = l->total;
	int nr = n > 1 && tok_is(&l->last, "noreply");
	switch (cm->cls) {
	case C_GET:
		return n >= 2 && key_ok(&l->t[1]);
	case C_GAT:
		return n >= 3 && tok_int(&l->t[1]) && key_ok(&l->t[2]);
	case C_STORE:
		return (n == 5 || (n == 6 && nr)) && key_ok(&l->t[1]) && tok_num(&l->t[2], UINT32_MAX) >= 0 &&
		       tok_int(&l->t[3]) && tok_num(&l->t[4], MC_DATA_MAX) >= 0;
	case C_CAS:
		return (n == 6 || (n == 7 && nr)) && key_ok(&l->t[1]) && tok_num(&l->t[2], UINT32_MAX) >= 0 &&
		       tok_int(&l->t[3]) && tok_num(&l->t[4], MC_DATA_MAX) >= 0 && tok_num(&l->t[5], UINT64_MAX) >= 0;
	case C_DELETE:
		return n >= 2 && n <= 4 && key_ok(&l->t[1]);
	case C_ARITH:
		return (n == 3 || (n == 4 && nr)) && key_ok(&l->t[1]) && tok_num(&l->t[2], UINT64_MAX) >= 0;
	case C_TOUCH:
		return (n == 3 || (n == 4 && nr)) && key_ok(&l->t[1]) && tok_int(&l->t[2]);
	case C_MG:
	case C_MD:
	case C_MA:
	case C_ME:
		return n >= 2 && key_ok(&l->t[1]);
	case C_MS:
		return n >= 3 && key_ok(&l->t[1]) && tok_num(&l->t[2], MC_DATA_MAX) >= 0;
	case C_MN:
		return n == 1;
	case C_STATS:
		return n <= 4;
	case C_ADMIN:
		return tok_is(&l->t[0], "version") ? n == 1 : n <= 4;
	default:
		return 0;
	}
}

int mc_text_is_request(const uint8_t *p, size_t n, uint64_t avail)
{
	size_t lim = n < MC_LINE_MAX ? n : MC_LINE_MAX;
	const uint8_t *nl = memchr(p, '\n', lim);
	struct line l;

	if (!nl) {
		const uint8_t *sp = memchr(p, ' ', lim < 16 ? lim : 16);
		if (n >= MC_LINE_MAX || !line_ok(p, lim))
			return 0;
		if (avail <= n)
			return sp || n < 16 ? -1 : 0; /* the line goes on in the next write */
		/* a line longer than the capture: a retrieval with many keys */
		if (!sp)
			return 0;
		struct tok t = { p, (size_t)(sp - p) };
		const struct cmd *cm = lookup(&t);
		return cm && (cm->cls == C_GET || cm->cls == C_GAT) ? 1 : 0;
	}
	size_t ln = (size_t)(nl - p);
	if (!line_ok(p, ln))
		return 0;
	tokenize(p, strip_cr(p, ln), &l);
	if (!l.total)
		return 0;
	const struct cmd *cm = lookup(&l.t[0]);
	return cm && cm->cls != C_WATCH && cm->cls != C_QUIT && shape_ok(cm, &l) ? 1 : 0;
}

/* ------------------------------------------------------------- requests */

static size_t stmt_keys(char *s, size_t sl, size_t nkeys)
{
	for (size_t k = 0; k < nkeys && k < MC_STMT_KEYS; k++)
		sl = mc_put(s, sl, MC_STMT_MAX, " ?", 2);
	if (nkeys > MC_STMT_KEYS)
		sl = mc_put(s, sl, MC_STMT_MAX, " ...", 4);
	return sl;
}

/* Arguments that are plain words (stats groups, "on", "off") stay; numbers and the rest become "?". */
static size_t stmt_args(char *s, size_t sl, const struct line *l, size_t from)
{
	for (size_t i = from; i < l->nt; i++) {
		const struct tok *t = &l->t[i];
		int word = t->n && t->n <= 16;
		for (size_t k = 0; k < t->n && word; k++)
			word = (t->s[k] >= 'a' && t->s[k] <= 'z') || t->s[k] == '_';
		sl = mc_put(s, sl, MC_STMT_MAX, " ", 1);
		sl = word ? mc_put(s, sl, MC_STMT_MAX, (const char *)t->s, t->n) : mc_put(s, sl, MC_STMT_MAX, "?", 1);
	}
	return sl;
}

/* Meta flags: their letters only (the tokens after them are values: TTLs, opaques, CAS). */
static size_t stmt_flags(char *s, size_t sl, const struct line *l, size_t from, int *quiet)
{
	for (size_t i = from; i < l->nt; i++) {
		const struct tok *t = &l->t[i];
		uint8_t f = t->s[0];
		if (!((f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z')))
			continue;
		if (f == 'q' && t->n == 1)
			*quiet = 1;
		sl = mc_put(s, sl, MC_STMT_MAX, " ", 1);
		sl = mc_put(s, sl, MC_STMT_MAX, (const char *)&f, 1);
	}
	return sl;
}

/*
 * One command line [p, p + ln) (without its LF) of a message of which
 * `linesz` bytes end the line; `cut` when the line goes on past the
 * capture (only its first tokens are known). Fills *consumed.
 */
static uint32_t request(struct mc_ctx *x, size_t pos, const uint8_t *p, size_t ln, size_t linesz, int cut,
			uint64_t *consumed)
{
	struct line l;
	char stmt[MC_STMT_MAX];
	size_t sl;
	int quiet = 0;

	tokenize(p, strip_cr(p, ln), &l);
	if (!l.total) { /* an empty line: memcached answers ERROR */
		static const struct tok none = { (const uint8_t *)"", 0 };
		l.t[0] = none;
		l.nt = l.total = 1;
	}
	const struct cmd *cm = lookup(&l.t[0]);
	uint32_t cls = cm ? cm->cls : C_UNKNOWN;
	int nr = l.total > 1 && tok_is(&l.last, "noreply") && !cut;
	uint64_t data = 0; /* data block that follows, with its CRLF */
	int64_t v;

	if (cls == C_WATCH)
		return ZT_PARSE_END_OF_STREAM; /* a log stream, not replies */
	struct mc_req r = {
		.method = cm ? cm->name : "unknown",
		.stmt = stmt,
		.start_ns = pos ? x->c->ts_ns : x->c->first_ts_ns,
		.expect = EXP_LINE,
	};
	sl = mc_put(stmt, 0, sizeof(stmt), r.method, strlen(r.method));
	switch (cls) {
	case C_GET:
	case C_GAT: {
		size_t first = cls == C_GET ? 1 : 2;
		size_t nkeys = l.total > first ? l.total - first : 0;
		if (cls == C_GAT && l.total > 1)
			sl = mc_put(stmt, sl, sizeof(stmt), " ?", 2);
		sl = stmt_keys(stmt, sl, nkeys);
		r.batch = (uint32_t)(nkeys < UINT32_MAX ? nkeys : UINT32_MAX);
		r.expect = EXP_VALUES;
		break;
	}
	case C_STORE:
	case C_CAS:
		/* memcached reads the block only when the line parses; a bad
		 * length is a CLIENT_ERROR and the block's lines are commands */
		if (l.total >= (cls == C_CAS ? 6u : 5u) && (v = tok_num(&l.t[4], MC_DATA_MAX)) >= 0)
			data = (uint64_t)v + 2;
		sl = stmt_keys(stmt, sl, l.total > 1);
		break;
	case C_DELETE:
	case C_ARITH:
	case C_TOUCH:
		sl = stmt_keys(stmt, sl, l.total > 1);
		break;
	case C_MS:
		if (l.total >= 3 && (v = tok_num(&l.t[2], MC_DATA_MAX)) >= 0)
			data = (uint64_t)v + 2;
		/* fallthrough */
	case C_MG:
	case C_MD:
	case C_MA:
	case C_ME:
		sl = stmt_keys(stmt, sl, l.total > 1);
		sl = stmt_flags(stmt, sl, &l, cls == C_MS ? 3 : 2, &quiet);
		r.expect = EXP_META;
		r.op = cls == C_MG ? MC_META_GET : cls == C_MS ? MC_META_SET : cls == C_MD ? MC_META_DEL
			: cls == C_MA ? MC_META_ARITH : 0;
		break;
	case C_MN:
		r.expect = EXP_MN;
		r.flags = PE_SILENT; /* a pipeline's end marker, not a query */
		break;
	case C_STATS:
		sl = stmt_args(stmt, sl, &l, 1);
		r.expect = EXP_STATS;
		break;
	case C_ADMIN:
		sl = stmt_args(stmt, sl, &l, 1);
		if (tok_is(&l.t[0], "lru_crawler") && l.nt > 1 && tok_is(&l.t[1], "metadump"))
			r.expect = EXP_STATS;
		break;
	default:
		break;
	}
	if (nr && cls != C_GET && cls != C_GAT && cls != C_STATS && cls < C_MG)
		sl = mc_put(stmt, sl, sizeof(stmt), " noreply", 8);
	else
		nr = 0;
	r.stmt_len = sl;
	r.size = linesz + data;
	if (quiet)
		r.flags |= PE_QUIET;
	if (cut) {
		*consumed = x->avail; /* the rest of the line was not captured: the write ends with it */
		r.size = x->avail - pos;
	} else {
		*consumed = pos + linesz + data; /* may go past the capture: the core skips the block */
	}
	if (cls == C_QUIT)
		return ZT_PARSE_OK; /* the connection ends: no reply, not a query */
	if (nr)
		mc_oneway(x, &r);
	else
		mc_request(x, &r);
	return ZT_PARSE_OK;
}

/* -------------------------------------------------------------- replies */

static int is_error(const struct tok *w)
{
	return tok_is(w, "ERROR") || tok_is(w, "CLIENT_ERROR") || tok_is(w, "SERVER_ERROR");
}

/*
 * A quiet meta request says nothing for its nominal outcome (mg: EN; ms:
 * HD; md, ma: HD, NF) nor for the mn behind it; and a reply word its
 * command never gives (VA for an ms) is not its own either.
 */
static int suppressed(const struct mc_pending *e, const struct tok *w)
{
	static const char *const can[5][6] = {
		[MC_META_GET] = { "VA", "HD", NULL },
		[MC_META_SET] = { "NS", "EX", "NF", NULL },
		[MC_META_DEL] = { "EX", NULL },
		[MC_META_ARITH] = { "VA", "NS", "EX", NULL },
	};
	if (!(e->flags & PE_QUIET) || is_error(w))
		return 0;
	if (e->op > MC_META_ARITH || !e->op)
		return 1;
	for (const char *const *c = can[e->op]; *c; c++)
		if (tok_is(w, *c))
			return 0;
	return 1;
}

/* The reply is complete: pair it with the request it answers. */
static void reply(struct mc_ctx *x, const struct tok *w, const uint8_t *line, size_t ln, uint64_t size)
{
	struct mc_dir *d = x->d;
	struct mc_queue *q = &x->mc->q;
	int err = is_error(w);
	struct mc_resp r = {
		.status = err ? ZT_STATUS_FAILED : ZT_STATUS_OK,
		.code = (const char *)w->s,
		.code_len = w->n,
		.error = err ? (const char *)line : NULL,
		.error_len = err ? (ln < 128 ? ln : 128) : 0,
		.size = size + (d->in_multi ? d->multi_size : 0),
	};
	d->in_multi = 0;
	d->multi_size = 0;
	for (uint32_t i = 0; i < q->len; i++) {
		const struct mc_pending *e = mc_queue_at(q, i);
		if (suppressed(e, w))
			continue;
		if (e->expect == EXP_MN && !tok_is(w, "MN"))
			break; /* everything before the mn was quiet: this reply is no one's */
		mc_settle(x, i);
		struct mc_pending m = *mc_queue_at(q, 0);
		mc_queue_drop(q, 0);
		mc_answer(x, &m, &r);
		return;
	}
	if (!tok_is(w, "MN"))
		mc_unmatched(x, &r);
}

/*
 * A value ended in bytes the kernel did not copy, `rest` bytes before the
 * end of a read or write. The server writes a whole reply at once, so for
 * the server the rest is END (and a client reading in small pieces sees it
 * in its next read); a retrieval in progress is complete here. What the
 * next message starts with is not known: resynchronize on a reply word.
 */
static uint32_t value_end_unseen(struct mc_ctx *x, uint64_t rest)
{
	if (x->d->in_multi)
		reply(x, &(struct tok){ (const uint8_t *)"END", 3 }, (const uint8_t *)"", 0, rest);
	x->d->hunt = 1;
	return ZT_PARSE_OK;
}

/* What the oldest waiting request expects, or EXP_LINE. */
static uint32_t head_expect(struct mc_ctx *x)
{
	const struct mc_pending *e = mc_queue_at(&x->mc->q, 0);
	return e ? e->expect : EXP_LINE;
}

static uint32_t response(struct mc_ctx *x, size_t pos, const uint8_t *p, size_t ln, size_t linesz, int cut,
			 uint64_t *consumed)
{
	struct mc_dir *d = x->d;
	struct line l;
	size_t n = strip_cr(p, ln);
	int64_t v;

	tokenize(p, n, &l);
	struct tok w = l.nt ? l.t[0] : (struct tok){ p, 0 };
	uint32_t exp = head_expect(x);

	if (cut) {
		/* The line goes on past the capture: this write ends the reply. */
		*consumed = x->avail;
		reply(x, d->in_multi ? &(struct tok){ (const uint8_t *)"END", 3 } : &w, p, n, x->avail - pos);
		return ZT_PARSE_OK;
	}
	int data = tok_is(&w, "VALUE") || tok_is(&w, "VA");
	if (data) {
		int va = tok_is(&w, "VA");
		const struct tok *len = va ? (l.nt > 1 ? &l.t[1] : NULL) : (l.nt > 3 ? &l.t[3] : NULL);
		if (!len || (v = tok_num(len, MC_DATA_MAX)) < 0)
			return ZT_PARSE_INVALID;
		uint64_t end = pos + linesz + (uint64_t)v + 2;
		if (va)
			reply(x, &w, p, n, linesz + (uint64_t)v + 2); /* a meta reply with its value */
		else {
			d->in_multi = 1;
			d->multi_size += linesz + (uint64_t)v + 2;
		}
		if (end <= x->c->len || end == x->avail) {
			*consumed = end; /* may go past the capture: the core skips the value */
			return ZT_PARSE_OK;
		}
		*consumed = x->avail;
		if (end < x->avail) /* what follows the value in this message was not captured */
			return value_end_unseen(x, x->avail - end);
		d->skip_left = end - x->avail; /* the value goes on in the next messages */
		return ZT_PARSE_OK;
	}
	*consumed = pos + linesz;
	if (tok_is(&w, "STAT") || tok_is(&w, "ITEM") || tok_is(&w, "PREFIX") ||
	    (exp == EXP_STATS && !tok_is(&w, "END") && !tok_is(&w, "RESET") && !tok_is(&w, "OK") && !is_error(&w) &&
	     !tok_is(&w, "BUSY") && !tok_is(&w, "BADCLASS"))) {
		d->in_multi = 1;
		d->multi_size += linesz;
		return ZT_PARSE_OK;
	}
	/* one line that ends a reply: upper-case words or a number (incr, decr) */
	if (!w.n || !((w.s[0] >= 'A' && w.s[0] <= 'Z') || (w.s[0] >= '0' && w.s[0] <= '9')))
		return ZT_PARSE_INVALID;
	reply(x, &w, p, n, linesz);
	return ZT_PARSE_OK;
}

/* --------------------------------------------------------------- driver */

/* A word a reply line starts with (or a number: incr, decr). */
static int reply_word(const struct tok *w)
{
	static const char *const words[] = { "VALUE", "END", "STORED", "NOT_STORED", "EXISTS", "NOT_FOUND",
					     "DELETED", "TOUCHED", "OK", "ERROR", "CLIENT_ERROR", "SERVER_ERROR",
					     "VERSION", "STAT", "RESET", "VA", "HD", "EN", "NF", "NS", "EX", "MN",
					     "ME", "BUSY", "BADCLASS" };
	if (tok_num(w, UINT64_MAX) >= 0)
		return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (tok_is(w, words[i]))
			return 1;
	return 0;
}

static uint32_t bad(struct mc_ctx *x, uint64_t *consumed)
{
	if (x->d->hunt) { /* not a line start after lost bytes: skip the write */
		*consumed = x->avail;
		return ZT_PARSE_OK;
	}
	x->d->hunt = 1;
	x->d->in_multi = 0;
	return ZT_PARSE_INVALID;
}

uint32_t mc_text_parse(struct mc_ctx *x, uint64_t *consumed)
{
	const struct zt_chunk *c = x->c;
	struct mc_dir *d = x->d;
	const uint8_t *p = c->data;
	size_t lim = c->len < MC_LINE_MAX ? c->len : MC_LINE_MAX;
	int cut = 0;

	if (d->hunt && !(c->flags & ZT_CHUNK_MSG_START) && !(d->cand && c->offset == d->cand_off)) {
		*consumed = x->avail;
		return ZT_PARSE_OK;
	}
	d->cand = 0;
	if (d->skip_left) {
		uint64_t k = d->skip_left;
		if (k >= x->avail) {
			d->skip_left -= x->avail;
			*consumed = x->avail;
			return ZT_PARSE_OK;
		}
		d->skip_left = 0;
		if (k <= c->len) {
			*consumed = k;
			return ZT_PARSE_OK;
		}
		*consumed = x->avail;
		return value_end_unseen(x, x->avail - k);
	}
	if (!c->len) {
		*consumed = x->avail;
		return ZT_PARSE_OK;
	}
	const uint8_t *nl = memchr(p, '\n', lim);
	size_t ln = nl ? (size_t)(nl - p) : lim;
	if (!nl) {
		if (c->len >= MC_LINE_MAX)
			return bad(x, consumed);
		if (x->avail <= c->len) {
			/* the line ends in a later message; while hunting, that
			 * continuation is still this message start's */
			d->cand = d->hunt;
			d->cand_off = c->offset;
			return ZT_PARSE_NEED_MORE;
		}
		cut = 1; /* the line goes on past the capture */
	}
	if (!line_ok(p, ln))
		return bad(x, consumed);
	if (d->kind == KIND_UNKNOWN) {
		if (c->len && p[0] >= 'a' && p[0] <= 'z')
			d->kind = KIND_REQUESTS;
		else if (c->len && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= '0' && p[0] <= '9')))
			d->kind = KIND_RESPONSES;
		else
			return bad(x, consumed);
	}
	if (d->hunt) {
		/* resynchronize only on a line that is what this direction carries */
		struct line l;
		tokenize(p, strip_cr(p, ln), &l);
		if (d->kind == KIND_REQUESTS && (!l.total || !lookup(&l.t[0]))) {
			*consumed = x->avail;
			return ZT_PARSE_OK;
		}
		if (d->kind == KIND_RESPONSES && (!l.total || !reply_word(&l.t[0]))) {
			*consumed = x->avail;
			return ZT_PARSE_OK;
		}
		d->hunt = 0;
	}
	size_t linesz = nl ? ln + 1 : ln;
	uint32_t r = d->kind == KIND_REQUESTS ? request(x, 0, p, ln, linesz, cut, consumed)
					      : response(x, 0, p, ln, linesz, cut, consumed);
	if (r == ZT_PARSE_INVALID) {
		*consumed = 0;
		return bad(x, consumed);
	}
	return r;
}
