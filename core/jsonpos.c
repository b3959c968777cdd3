/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonpos.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's JSON_PARSER_MAX_DEPTH: deeper text never reaches us, and the
 * bound keeps the recursion's stack use small. */
#define MAX_DEPTH 2048

struct buf {
	char *p;
	size_t len, cap;
};

struct scan {
	const char *text;
	size_t len, pos;
	int line, col;
	struct buf path; /* pointer of the value being scanned */
	struct buf key;  /* scratch: the decoded key */
	struct jsonpos *jp;
	size_t cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Appends "/" and seg escaped as RFC 6901 asks. */
static int buf_put_segment(struct buf *b, const char *seg, size_t n)
{
	int err = buf_put(b, "/", 1);
	for (size_t i = 0; !err && i < n; i++) {
		if (seg[i] == '~')
			err = buf_put(b, "~0", 2);
		else if (seg[i] == '/')
			err = buf_put(b, "~1", 2);
		else
			err = buf_put(b, &seg[i], 1);
	}
	return err;
}

static int peek(const struct scan *s)
{
	return s->pos < s->len ? (unsigned char)s->text[s->pos] : -1;
}

static void advance(struct scan *s)
{
	unsigned char c = (unsigned char)s->text[s->pos++];
	if (c == '\n') {
		s->line++;
		s->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		/* UTF-8 continuation bytes belong to the character already counted */
		s->col++;
	}
}

static void skip_ws(struct scan *s)
{
	int c;
	while ((c = peek(s)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		advance(s);
}

static int hex4(struct scan *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int c = peek(s);
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (uint32_t)(c - 'A' + 10);
		else
			return -EINVAL;
		advance(s);
	}
	*out = v;
	return 0;
}

static int put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_put(b, u, n);
}

/* \u escape after the "\u": a surrogate pair becomes one code point. */
static int unicode_escape(struct scan *s, struct buf *out)
{
	uint32_t cp, lo;
	int err = hex4(s, &cp);
	if (err)
		return err;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -EINVAL;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (peek(s) != '\\')
			return -EINVAL;
		advance(s);
		if (peek(s) != 'u')
			return -EINVAL;
		advance(s);
		err = hex4(s, &lo);
		if (err)
			return err;
		if (lo < 0xdc00 || lo > 0xdfff)
			return -EINVAL;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return out ? put_utf8(out, cp) : 0;
}

/* At the opening quote. Decodes into out when out is not NULL. */
static int scan_string(struct scan *s, struct buf *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	int c, err = 0;
	advance(s);
	while (!err) {
		c = peek(s);
		if (c < 0x20) /* end of text or a raw control character */
			return -EINVAL;
		advance(s);
		if (c == '"')
			return 0;
		if (c != '\\') {
			char ch = (char)c;
			err = out ? buf_put(out, &ch, 1) : 0;
			continue;
		}
		c = peek(s);
		if (c < 0)
			return -EINVAL;
		advance(s);
		if (c == 'u') {
			err = unicode_escape(s, out);
		} else {
			const char *p = c ? strchr(from, c) : NULL;
			if (!p)
				return -EINVAL;
			err = out ? buf_put(out, &to[p - from], 1) : 0;
		}
	}
	return err;
}

static int record(struct scan *s, int key_line, int key_col)
{
	struct jsonpos *jp = s->jp;
	struct jsonpos_ent *e;
	if (jp->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		e = realloc(jp->ent, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		jp->ent = e;
		s->cap = cap;
	}
	e = &jp->ent[jp->n];
	e->path = strdup(s->path.p ? s->path.p : "");
	if (!e->path)
		return -ENOMEM;
	e->key_line = key_line;
	e->key_col = key_col;
	e->val_line = s->line;
	e->val_col = s->col;
	e->seq = jp->n++;
	return 0;
}

static int scan_value(struct scan *s, int depth);

/* Records the member or element at the current position under the path
 * extended by seg, then scans its value. */
static int scan_member(struct scan *s, const char *seg, size_t n, int key_line, int key_col, int depth)
{
	size_t keep = s->path.len;
	int err = buf_put_segment(&s->path, seg, n);
	if (!err)
		err = record(s, key_line, key_col);
	if (!err)
		err = scan_value(s, depth);
	s->path.len = keep;
	if (s->path.p)
		s->path.p[keep] = '\0';
	return err;
}

static int scan_object(struct scan *s, int depth)
{
	int err, kl, kc;
	advance(s);
	skip_ws(s);
	if (peek(s) == '}') {
		advance(s);
		return 0;
	}
	for (;;) {
		skip_ws(s);
		if (peek(s) != '"')
			return -EINVAL;
		kl = s->line;
		kc = s->col;
		s->key.len = 0;
		err = scan_string(s, &s->key);
		if (err)
			return err;
		skip_ws(s);
		if (peek(s) != ':')
			return -EINVAL;
		advance(s);
		skip_ws(s);
		/* the key buffer is reused by nested members: copy what we need */
		{
			size_t n = s->key.len;
			char *k = malloc(n + 1);
			if (!k)
				return -ENOMEM;
			memcpy(k, s->key.p ? s->key.p : "", n + 1);
			err = scan_member(s, k, n, kl, kc, depth);
			free(k);
		}
		if (err)
			return err;
		skip_ws(s);
		if (peek(s) == '}') {
			advance(s);
			return 0;
		}
		if (peek(s) != ',')
			return -EINVAL;
		advance(s);
	}
}

static int scan_array(struct scan *s, int depth)
{
	char idx[24];
	size_t i = 0;
	int err;
	advance(s);
	skip_ws(s);
	if (peek(s) == ']') {
		advance(s);
		return 0;
	}
	for (;; i++) {
		int n = snprintf(idx, sizeof(idx), "%zu", i);
		skip_ws(s);
		err = scan_member(s, idx, (size_t)n, 0, 0, depth);
		if (err)
			return err;
		skip_ws(s);
		if (peek(s) == ']') {
			advance(s);
			return 0;
		}
		if (peek(s) != ',')
			return -EINVAL;
		advance(s);
	}
}

/* At the first character of a value (whitespace already skipped). */
static int scan_value(struct scan *s, int depth)
{
	int c = peek(s);
	size_t start = s->pos;
	if ((c == '{' || c == '[') && depth >= MAX_DEPTH)
		return -EINVAL;
	if (c == '{')
		return scan_object(s, depth + 1);
	if (c == '[')
		return scan_array(s, depth + 1);
	if (c == '"')
		return scan_string(s, NULL);
	/* numbers and literals: jansson has checked their spelling */
	while ((c = peek(s)) == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z'))
		advance(s);
	return s->pos > start ? 0 : -EINVAL;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct jsonpos_ent *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int jsonpos_build(const char *text, size_t len, struct jsonpos **out)
{
	struct scan s = { .text = text, .len = len, .line = 1, .col = 1 };
	int err = -ENOMEM;

	*out = NULL;
	s.jp = calloc(1, sizeof(*s.jp));
	if (!s.jp)
		goto fail;
	skip_ws(&s);
	err = record(&s, 0, 0);
	if (!err)
		err = scan_value(&s, 0);
	if (err)
		goto fail;
	skip_ws(&s);
	if (s.pos != s.len) {
		err = -EINVAL;
		goto fail;
	}
	/* sorted once so that lookups are binary searches and duplicate keys
	 * sit next to each other */
	qsort(s.jp->ent, s.jp->n, sizeof(*s.jp->ent), ent_cmp);
	*out = s.jp;
	s.jp = NULL;
fail:
	jsonpos_free(s.jp);
	free(s.path.p);
	free(s.key.p);
	return err;
}

void jsonpos_free(struct jsonpos *jp)
{
	if (!jp)
		return;
	for (size_t i = 0; i < jp->n; i++)
		free(jp->ent[i].path);
	free(jp->ent);
	free(jp);
}

const struct jsonpos_ent *jsonpos_find(const struct jsonpos *jp, const char *path)
{
	size_t lo = 0, hi;
	if (!jp || !path)
		return NULL;
	/* lower bound, so that a duplicated path yields its first occurrence */
	hi = jp->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(jp->ent[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < jp->n && !strcmp(jp->ent[lo].path, path) ? &jp->ent[lo] : NULL;
}

const struct jsonpos_ent *jsonpos_findv(const struct jsonpos *jp, ...)
{
	struct buf b = { 0 };
	const struct jsonpos_ent *e = NULL;
	const char *seg;
	va_list ap;
	int err = buf_put(&b, "", 0);

	va_start(ap, jp);
	while (!err && (seg = va_arg(ap, const char *)))
		err = buf_put_segment(&b, seg, strlen(seg));
	va_end(ap);
	if (!err)
		e = jsonpos_find(jp, b.p);
	free(b.p);
	return e;
}

int jsonpos_duplicate(const struct jsonpos *jp, const struct jsonpos_ent **first,
		      const struct jsonpos_ent **second)
{
	const struct jsonpos_ent *f = NULL, *d = NULL;
	for (size_t i = 1; jp && i < jp->n; i++) {
		/* the previous entry with this path is its first occurrence only
		 * if the one before it has another path */
		if (strcmp(jp->ent[i].path, jp->ent[i - 1].path))
			continue;
		if (!d || jp->ent[i].seq < d->seq) {
			size_t j = i - 1;
			while (j > 0 && !strcmp(jp->ent[j - 1].path, jp->ent[i].path))
				j--;
			f = &jp->ent[j];
			d = &jp->ent[i];
		}
	}
	if (!d)
		return 0;
	*first = f;
	*second = d;
	return 1;
}
