/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.x heads: request line, status line and the header fields that
 * decide framing (RFC 9112) or feed span attributes. Every check is on
 * bytes already in hand: no allocation, no copying, each byte looked at a
 * bounded number of times. A prefix that can no longer become a valid head
 * is rejected as soon as it is seen, so garbage never makes the caller
 * wait for more bytes.
 */
#include <string.h>

#include "http.h"

static const char *const method_names[M_COUNT] = {
	[M_OTHER] = "_OTHER", [M_GET] = "GET",         [M_HEAD] = "HEAD",       [M_POST] = "POST",
	[M_PUT] = "PUT",      [M_DELETE] = "DELETE",   [M_CONNECT] = "CONNECT", [M_OPTIONS] = "OPTIONS",
	[M_TRACE] = "TRACE",  [M_PATCH] = "PATCH",
};

const char *http_method_name(uint32_t m)
{
	return m < M_COUNT ? method_names[m] : method_names[M_OTHER];
}

/* tchar of RFC 9110 section 5.6.2. */
/* Byte classes, one table lookup per byte in the header loops. */
#define C_T 1u /* tchar: token bytes (field names, methods) */
#define C_V 2u /* field-value and reason-phrase bytes: VCHAR, SP, HTAB, obs-text */
static const uint8_t cls[256] = {
	['\t'] = C_V,
	[' '] = C_V, ['"'] = C_V, ['('] = C_V, [')'] = C_V, [','] = C_V, ['/'] = C_V, [':'] = C_V, [';'] = C_V,
	['<'] = C_V, ['='] = C_V, ['>'] = C_V, ['?'] = C_V, ['@'] = C_V, ['['] = C_V, ['\\'] = C_V, [']'] = C_V,
	['{'] = C_V, ['}'] = C_V,
	['!'] = C_T | C_V, ['#'] = C_T | C_V, ['$'] = C_T | C_V, ['%'] = C_T | C_V, ['&'] = C_T | C_V,
	['\''] = C_T | C_V, ['*'] = C_T | C_V, ['+'] = C_T | C_V, ['-'] = C_T | C_V, ['.'] = C_T | C_V,
	['^'] = C_T | C_V, ['_'] = C_T | C_V, ['`'] = C_T | C_V, ['|'] = C_T | C_V, ['~'] = C_T | C_V,
	['0' ... '9'] = C_T | C_V, ['A' ... 'Z'] = C_T | C_V, ['a' ... 'z'] = C_T | C_V,
	[0x80 ... 0xff] = C_V,
};

static int tchar(uint8_t c)
{
	return cls[c] & C_T;
}

static int vchar(uint8_t c)
{
	return cls[c] & C_V;
}

static uint32_t method_of(const uint8_t *p, size_t n)
{
	for (uint32_t m = M_GET; m < M_COUNT; m++)
		if (strlen(method_names[m]) == n && !memcmp(method_names[m], p, n))
			return m;
	return M_OTHER;
}

/* "\r\n" or "\n" at p[i..n): 1 with *end past it, 0 when incomplete, -1 when something else. */
static int eol(const uint8_t *p, size_t n, size_t i, size_t *end)
{
	if (i >= n)
		return 0;
	if (p[i] == '\n') {
		*end = i + 1;
		return 1;
	}
	if (p[i] != '\r')
		return -1;
	if (i + 1 >= n)
		return 0;
	if (p[i + 1] != '\n')
		return -1;
	*end = i + 2;
	return 1;
}

/* Compares p[i..n) with lit as far as both go: -1 mismatch, 0 a prefix, 1 all of lit. */
static int expect(const uint8_t *p, size_t n, size_t i, const char *lit)
{
	size_t k = 0;
	for (; lit[k]; k++) {
		if (i + k >= n)
			return 0;
		if (p[i + k] != (uint8_t)lit[k])
			return -1;
	}
	return 1;
}

static int status_line(const uint8_t *p, size_t n, struct http_line *l)
{
	size_t i = 5; /* "HTTP/" */
	int e;

	l->is_response = 1;
	if (i >= n)
		return HP_INCOMPLETE;
	if (p[i] != '1') /* HTTP/2 in a status line, HTTP/0.x: not ours */
		return p[i] >= '0' && p[i] <= '9' ? HP_NOT_HTTP : HP_BAD;
	if (++i >= n)
		return HP_INCOMPLETE;
	if (p[i] != '.')
		return HP_BAD;
	if (++i >= n)
		return HP_INCOMPLETE;
	if (p[i] < '0' || p[i] > '9')
		return HP_BAD;
	l->minor = p[i] - '0';
	if (++i >= n)
		return HP_INCOMPLETE;
	if (p[i] != ' ')
		return HP_BAD;
	uint32_t code = 0;
	for (int k = 0; k < 3; k++) {
		if (++i >= n)
			return HP_INCOMPLETE;
		if (p[i] < '0' || p[i] > '9')
			return HP_BAD;
		code = code * 10 + (p[i] - '0');
	}
	if (code < 100 || code > 599)
		return HP_BAD;
	l->status = code;
	i++;
	/* The reason phrase may be empty, even without its SP ("HTTP/1.1 200\r\n"). */
	if (i < n && p[i] == ' ')
		for (i++; i < n && p[i] != '\r' && p[i] != '\n'; i++)
			if (!vchar(p[i]))
				return HP_BAD;
	size_t end;
	e = eol(p, n, i, &end);
	if (e < 0)
		return HP_BAD;
	if (!e)
		return HP_INCOMPLETE;
	l->len = end;
	return HP_OK;
}

static int request_line(const uint8_t *p, size_t n, struct http_line *l)
{
	size_t i = 0, t0;
	int e;

	while (i < n && tchar(p[i]))
		if (++i > HTTP_METHOD_MAX)
			return HP_BAD;
	if (i >= n)
		return HP_INCOMPLETE;
	if (!i || p[i] != ' ')
		return HP_BAD;
	l->method = method_of(p, i);
	t0 = ++i;
	l->target = p + t0;
	for (; i < n && p[i] > 0x20 && p[i] != 0x7f; i++)
		;
	l->target_len = i - t0;
	if (i >= n)
		return HP_INCOMPLETE;
	if (i == t0)
		return HP_BAD;
	if (p[i] == '\r' || p[i] == '\n') /* no version: HTTP/0.9, or Redis' "GET key" */
		return l->method != M_OTHER ? HP_NOT_HTTP : HP_BAD;
	if (p[i] != ' ')
		return HP_BAD;
	i++;
	/* The version: HTTP/1.x, else another protocol's (RTSP/1.0, SIP/2.0,
	 * HTTP/2.0 of the h2 preface) when it has that shape. */
	e = expect(p, n, i, "HTTP/1.");
	if (e < 0) {
		size_t v = i;
		while (v < n && v - i < 16 && ((p[v] >= 'A' && p[v] <= 'Z') || p[v] == '-'))
			v++;
		if (v >= n)
			return v - i < 16 ? HP_INCOMPLETE : HP_BAD;
		return v > i && p[v] == '/' ? HP_NOT_HTTP : HP_BAD;
	}
	if (!e)
		return HP_INCOMPLETE;
	i += 7;
	if (i >= n)
		return HP_INCOMPLETE;
	if (p[i] < '0' || p[i] > '9')
		return HP_BAD;
	l->minor = p[i] - '0';
	size_t end;
	e = eol(p, n, i + 1, &end);
	if (e < 0)
		return HP_BAD;
	if (!e)
		return HP_INCOMPLETE;
	l->len = end;
	return HP_OK;
}

int http_line_parse(const uint8_t *p, size_t n, struct http_line *l)
{
	memset(l, 0, sizeof(*l));
	if (!n)
		return HP_INCOMPLETE;
	int e = expect(p, n, 0, "HTTP/");
	if (e > 0)
		return status_line(p, n, l);
	if (e == 0) /* "HT": a status line or a method (HEAD), wait */
		return HP_INCOMPLETE;
	return request_line(p, n, l);
}

static int name_is(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	if (n != k)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (uint8_t)lit[i])
			return 0;
	}
	return 1;
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Content-Length: 1*DIGIT, or a list of one repeated value ("5, 5"). */
static int content_length(const uint8_t *v, size_t n, struct http_head *h)
{
	size_t i = 0;
	do {
		uint64_t x = 0;
		size_t d = 0;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, d++) {
			x = x * 10 + (v[i] - '0');
			if (x > HTTP_BODY_MAX)
				return HP_BAD;
		}
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (!d || (i < n && v[i] != ','))
			return HP_BAD;
		if (h->has_cl && h->cl != x)
			return HP_BAD; /* RFC 9112 6.3: differing lengths cannot be framed */
		h->has_cl = 1;
		h->cl = x;
	} while (i++ < n);
	return HP_OK;
}

/* Transfer-Encoding: only whether the last coding is chunked matters. */
static void transfer_encoding(const uint8_t *v, size_t n, struct http_head *h)
{
	size_t i = n, end;

	h->has_te = 1;
	while (i && (v[i - 1] == ' ' || v[i - 1] == '\t' || v[i - 1] == ','))
		i--;
	if (!i)
		return; /* an empty list changes nothing */
	end = i;
	while (i && v[i - 1] != ',')
		i--;
	/* the last list element, without its parameters */
	const uint8_t *e = v + i;
	size_t k = end - i;
	for (size_t j = 0; j < k; j++)
		if (e[j] == ';') {
			k = j;
			break;
		}
	trim(&e, &k);
	h->chunked = name_is(e, k, "chunked");
}

int http_head_parse(const uint8_t *p, size_t n, struct http_head *h)
{
	size_t lim = n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX, i;
	int r;

	memset(h, 0, sizeof(*h));
	r = http_line_parse(p, lim, &h->line);
	if (r != HP_OK)
		return r == HP_INCOMPLETE && n >= HTTP_HEAD_MAX ? HP_BAD : r;
	h->line_done = 1;
	i = h->line.len;
	for (unsigned lines = 0;; lines++) {
		const uint8_t *lf = i < lim ? memchr(p + i, '\n', lim - i) : NULL;
		size_t end = lf ? (size_t)(lf - p) : lim; /* the line is p[i..end), CR included */
		size_t e = end;

		if (lf && e > i && p[e - 1] == '\r')
			e--;
		if (lf && e == i) {
			h->len = end + 1;
			return HP_OK;
		}
		if (lines >= HTTP_HEADERS_MAX)
			return HP_BAD;
		if (!lf && lim - i <= 1 && (i == lim || p[i] == '\r')) /* maybe the empty line's CR */
			return n >= HTTP_HEAD_MAX ? HP_BAD : HP_INCOMPLETE;
		/* A CR is only allowed right before LF (or as the last byte so far). */
		size_t vend = !lf && e > i && p[e - 1] == '\r' ? e - 1 : e;
		if (p[i] == ' ' || p[i] == '\t') {
			/* obs-fold: the previous field continues; only checked. */
			if (!lines)
				return HP_BAD;
			for (size_t k = i; k < vend; k++)
				if (!vchar(p[k]))
					return HP_BAD;
		} else {
			size_t k = i;
			while (k < vend && tchar(p[k]))
				k++;
			if (k < vend && (k == i || p[k] != ':'))
				return HP_BAD;
			if (k == vend) { /* no colon yet */
				if (lf)
					return HP_BAD;
			} else {
				for (size_t j = k + 1; j < vend; j++)
					if (!vchar(p[j]))
						return HP_BAD;
				size_t nl = k - i;
				/* only the fields below are read (lengths 4, 10, 14, 17) */
				if (lf && (nl == 4 || nl == 10 || nl == 14 || nl == 17)) {
					const uint8_t *v = p + k + 1;
					size_t vn = e - (k + 1);
					trim(&v, &vn);
					if (name_is(p + i, k - i, "content-length")) {
						if (content_length(v, vn, h) != HP_OK)
							return HP_BAD;
					} else if (name_is(p + i, k - i, "transfer-encoding")) {
						transfer_encoding(v, vn, h);
					} else if (name_is(p + i, k - i, "host")) {
						h->host = v;
						h->host_len = vn;
					} else if (name_is(p + i, k - i, "user-agent")) {
						h->ua = v;
						h->ua_len = vn;
					}
				}
			}
		}
		if (!lf)
			return n >= HTTP_HEAD_MAX ? HP_BAD : HP_INCOMPLETE;
		i = end + 1;
	}
}
