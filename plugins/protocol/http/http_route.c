/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route templates: a request-target reduced to a bounded, low-cardinality
 * path ("/users/{id}/orders") for the record's resource and http.route,
 * and the Host field reduced to server.address / server.port. No raw
 * identifier, query string or personal data may survive, so the rules
 * err on the side of "{id}" (README.md, "Route templates").
 */
#include <string.h>

#include "http.h"

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* pchar of RFC 3986 (unreserved / pct-encoded / sub-delims / ":" / "@"). */
static int pchar(uint8_t c)
{
	if (is_alpha(c) || is_digit(c))
		return 1;
	return c && strchr("-._~%!$&'()*+,;=:@", c) != NULL;
}

static int is_uuid(const uint8_t *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!is_hex(s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Does a path segment look like an identifier rather than a name? */
static int id_like(const uint8_t *s, size_t n)
{
	size_t digits = 0, alpha = 0, hex = 0;

	for (size_t i = 0; i < n; i++) {
		if (!pchar(s[i]) || s[i] == '@' || s[i] == '%') /* raw bytes, e-mail addresses, encoded text */
			return 1;
		digits += is_digit(s[i]);
		alpha += is_alpha(s[i]);
		hex += is_hex(s[i]);
	}
	if (digits == n)                           /* 42, 20240131 */
		return 1;
	if (is_uuid(s, n))                          /* 123e4567-e89b-12d3-a456-426614174000 */
		return 1;
	if (hex == n && n >= 8 && digits)           /* 5f2b8c9e, sha1/sha256 digests */
		return 1;
	if (n >= 16 && digits && alpha)             /* tokens: base64, JWT parts, random keys */
		return 1;
	if (digits >= 4 && 2 * digits >= digits + alpha) /* 2024-01-31, order-12345, 12345.json */
		return 1;
	if (n > 40)                                 /* long slugs and blobs */
		return 1;
	return 0;
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

size_t http_route(const uint8_t *t, size_t n, char *out, size_t outcap)
{
	size_t o = 0, i = 0, segs = 0, max;

	if (!outcap)
		return 0;
	max = outcap - 1 < HTTP_ROUTE_MAX ? outcap - 1 : HTTP_ROUTE_MAX;
	out[0] = 0;
	if (n == 1 && t[0] == '*') { /* OPTIONS * */
		out[o++] = '*';
		out[o] = 0;
		return o;
	}
	/* absolute-form: scheme "://" authority, then the path (RFC 9112 3.2.2) */
	if (n && t[0] != '/') {
		size_t k = 0;
		while (k < n && (is_alpha(t[k]) || is_digit(t[k]) || t[k] == '+' || t[k] == '-' || t[k] == '.'))
			k++;
		if (!k || k + 3 > n || memcmp(t + k, "://", 3))
			return 0; /* authority-form (CONNECT host:port) or not a target: no route */
		i = k + 3;
		while (i < n && t[i] != '/' && t[i] != '?' && t[i] != '#')
			i++;
	}
	size_t end = i;
	while (end < n && t[end] != '?' && t[end] != '#')
		end++;
	while (i < end) {
		size_t s = ++i; /* t[i - 1] == '/' here, or the path is empty */
		while (i < end && t[i] != '/')
			i++;
		if (i == s) /* an empty segment: "//", or the trailing "/" */
			continue;
		const char *seg = (const char *)t + s;
		size_t sl = i - s;
		if (id_like(t + s, sl)) {
			seg = "{id}";
			sl = 4;
		}
		/* room for "/" + seg, and for "/..." should a later one not fit */
		if (segs == HTTP_ROUTE_SEGMENTS || o + 1 + sl + (i < end ? 4 : 0) > max) {
			if (o + 4 <= max) {
				memcpy(out + o, "/...", 4);
				o += 4;
			}
			out[o] = 0;
			return o;
		}
		out[o++] = '/';
		memcpy(out + o, seg, sl);
		o += sl;
		segs++;
	}
	if (end && t[end - 1] == '/' && o + 1 <= max) /* keep a trailing slash: "/" and "/api/" */
		out[o++] = '/';
	if (!o && max) /* absolute-form without a path */
		out[o++] = '/';
	out[o] = 0;
	return o;
}

size_t http_host(const uint8_t *v, size_t n, char *out, size_t outcap, uint32_t *port)
{
	size_t h0 = 0, h1, o = 0;
	*port = 0;
	if (!n || !outcap)
		return 0;
	if (v[0] == '[') { /* IPv6 literal */
		h0 = 1;
		for (h1 = 1; h1 < n && v[h1] != ']'; h1++)
			if (!is_hex(v[h1]) && v[h1] != ':' && v[h1] != '.')
				return 0;
		if (h1 >= n)
			return 0;
		size_t rest = h1 + 1;
		if (rest < n && v[rest] != ':')
			return 0;
		if (rest < n) {
			uint32_t p = 0;
			for (size_t k = rest + 1; k < n; k++) {
				if (!is_digit(v[k]) || (p = p * 10 + (v[k] - '0')) > 65535)
					return 0;
			}
			*port = p;
		}
	} else {
		for (h1 = 0; h1 < n && v[h1] != ':'; h1++)
			if (!is_alpha(v[h1]) && !is_digit(v[h1]) && v[h1] != '-' && v[h1] != '.' && v[h1] != '_')
				return 0;
		if (h1 < n) {
			uint32_t p = 0;
			if (h1 + 1 == n)
				return 0;
			for (size_t k = h1 + 1; k < n; k++) {
				if (!is_digit(v[k]) || (p = p * 10 + (v[k] - '0')) > 65535)
					return 0;
			}
			*port = p;
		}
	}
	if (h1 == h0 || h1 - h0 > HTTP_HOST_MAX || h1 - h0 >= outcap) {
		*port = 0;
		return 0;
	}
	for (size_t k = h0; k < h1; k++)
		out[o++] = (char)ascii_lower(v[k]);
	out[o] = 0;
	return o;
}
