// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the HTTP plugin's pieces: descriptor, detection rules as
 * the kernel applies them, detect(), the head parser and the route
 * templating.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_http(void);

static int teardown(void **state)
{
	mock_reset();
	return 0;
}

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static void test_descriptor(void **state)
{
	const struct zt_plugin_desc *d = zt_builtin_entry_http();
	struct mock_plugin *p;

	assert_int_equal(mock_plugin_check(d), 0);
	assert_int_equal(d->kind, ZT_KIND_PROTOCOL);
	assert_string_equal(d->name, "http");
	assert_int_equal(mock_plugin_start(zt_builtin_entry_http, NULL, NULL, &p), 0);
	const struct zt_protocol_ops *o = mock_plugin_protocol_ops(p);
	assert_non_null(o);
	assert_string_equal(o->metric_stem, "http_requests");
	assert_int_equal(o->transports, ZT_TRANSPORT_TCP);
	assert_true(o->capture_bytes >= 1024 && o->capture_bytes <= 2048);
	assert_non_null(o->rules);
	assert_non_null(o->detect);
	mock_plugin_stop(p);
}

static void test_rules(void **state)
{
	struct mock_plugin *p;
	struct zt_conn_info srv = mock_conn_info(ZT_ROLE_SERVER, 8080);

	assert_int_equal(mock_plugin_start(zt_builtin_entry_http, NULL, NULL, &p), 0);
	static const char *const claim[] = {
		"GET / HTTP/1.1\r\n", "POST /x HTTP/1.1\r\n", "PUT /x HTTP/1.1\r\n", "HEAD / HTTP/1.0\r\n",
		"DELETE /a/1 HTTP/1.1\r\n", "PATCH /p HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", "HTTP/1.0 404 Not Found\r\n",
		"GET ", /* a request line written in pieces claims with its first piece */
	};
	for (size_t i = 0; i < sizeof(claim) / sizeof(claim[0]); i++) {
		assert_int_equal(mock_rules_match(p, NULL, ZT_DIR_EGRESS, claim[i], strlen(claim[i])), ZT_RULE_CLAIM);
		assert_int_equal(mock_rules_match(p, &srv, ZT_DIR_INGRESS, claim[i], strlen(claim[i])), ZT_RULE_CLAIM);
	}
	static const char *const ask[] = { "OPTIONS * HTTP/1.1\r\n", "CONNECT example.com:443 HTTP/1.1\r\n",
					   "TRACE / HTTP/1.1\r\n", "OPTIONS rtsp://cam/ RTSP/1.0\r\n" };
	for (size_t i = 0; i < sizeof(ask) / sizeof(ask[0]); i++)
		assert_int_equal(mock_rules_match(p, NULL, ZT_DIR_EGRESS, ask[i], strlen(ask[i])), ZT_RULE_ASK);
	static const char *const none[] = { "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "get key\r\n", "GETX / HTTP/1.1",
					    "*1\r\n$4\r\nPING\r\n", "HTTP/2 200\r\n", "SSH-2.0-OpenSSH_9.2\r\n",
					    "\x16\x03\x01\x02\x00\x01", "GE" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(mock_rules_match(p, NULL, ZT_DIR_EGRESS, none[i], strlen(none[i])), 0);
	assert_false(mock_log_contains("rule"));
	mock_plugin_stop(p);
}

static void test_detect(void **state)
{
	struct mock_plugin *p;
	char longline[1200];

	assert_int_equal(mock_plugin_start(zt_builtin_entry_http, NULL, NULL, &p), 0);
#define DET(s) mock_detect(p, NULL, ZT_DIR_EGRESS, s, strlen(s))
	assert_int_equal(DET("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), ZT_DETECT_YES);
	assert_int_equal(DET("OPTIONS * HTTP/1.1\r\n"), ZT_DETECT_YES);
	assert_int_equal(DET("PROPFIND /dav/ HTTP/1.1\r\n"), ZT_DETECT_YES); /* not in the rules: detect finds it */
	assert_int_equal(DET("CONNECT example.com:443 HTTP/1.1\r\n"), ZT_DETECT_YES);
	assert_int_equal(DET("HTTP/1.1 204 No Content\r\n"), ZT_DETECT_YES);
	assert_int_equal(DET("OPTIONS rtsp://cam/ RTSP/1.0\r\n"), ZT_DETECT_NO);
	assert_int_equal(DET("OPTIONS sip:bob@example.com SIP/2.0\r\n"), ZT_DETECT_NO);
	assert_int_equal(DET("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), ZT_DETECT_NO);
	assert_int_equal(DET("GET key\r\n"), ZT_DETECT_NO);
	assert_int_equal(DET("*1\r\n$4\r\nPING\r\n"), ZT_DETECT_NO);
	assert_int_equal(DET("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), ZT_DETECT_NO);
	assert_int_equal(DET("GET /partial"), ZT_DETECT_MAYBE); /* the write ended mid-line */
	/* a request line longer than the detection probe (256 bytes) */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "GET /", 5);
	memcpy(longline + sizeof(longline) - 12, " HTTP/1.1\r\n", 11);
	longline[sizeof(longline) - 1] = 0;
	assert_int_equal(DET(longline), ZT_DETECT_YES);
	longline[0] = 'X'; /* "XET /aaa...": unknown method, no version in sight */
	assert_int_equal(DET(longline), ZT_DETECT_NO);
#undef DET
	mock_plugin_stop(p);
}

static void test_line(void **state)
{
	struct http_line l;

	assert_int_equal(http_line_parse(S("GET /a?b HTTP/1.1\r\n"), &l), HP_OK);
	assert_int_equal(l.method, M_GET);
	assert_int_equal(l.minor, 1);
	assert_int_equal(l.target_len, 4);
	assert_memory_equal(l.target, "/a?b", 4);
	assert_int_equal(l.len, 19);
	assert_int_equal(http_line_parse(S("PATCH / HTTP/1.0\n"), &l), HP_OK); /* bare LF */
	assert_int_equal(l.method, M_PATCH);
	assert_int_equal(l.minor, 0);
	assert_int_equal(http_line_parse(S("MKCOL /d HTTP/1.1\r\n"), &l), HP_OK);
	assert_int_equal(l.method, M_OTHER);
	assert_string_equal(http_method_name(l.method), "_OTHER");
	assert_int_equal(http_line_parse(S("HTTP/1.1 200 OK\r\n"), &l), HP_OK);
	assert_true(l.is_response);
	assert_int_equal(l.status, 200);
	assert_int_equal(http_line_parse(S("HTTP/1.1 204\r\n"), &l), HP_OK); /* no reason phrase, no SP */
	assert_int_equal(l.status, 204);
	assert_int_equal(http_line_parse(S("HTTP/1.0 503 \r\n"), &l), HP_OK);
	/* prefixes wait for more */
	static const char *const prefixes[] = { "G", "GET", "GET ", "GET /x", "GET /x HTTP/1", "GET /x HTTP/1.1",
						"GET /x HTTP/1.1\r", "H", "HT", "HTTP", "HTTP/1.1 2", "HTTP/1.1 200 O",
						"HEAD" };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		assert_int_equal(http_line_parse((const uint8_t *)prefixes[i], strlen(prefixes[i]), &l), HP_INCOMPLETE);
	/* garbage is rejected at once, whatever follows */
	static const char *const bad[] = { "\x00GET", " GET / HTTP/1.1\r\n", "GET  / HTTP/1.1\r\n", "GET / HTTP/1.1 x\r\n",
					   "GET / HTTP/1.x\r\n", "GET /\x01 HTTP/1.1\r\n", "HTTP/1.1 099 Low\r\n",
					   "HTTP/1.1 600 High\r\n", "HTTP/1.1 2x0\r\n", "HTTP/1.1 200 \x01\r\n",
					   "HTTP/1.1 200 OK\rX", "ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n", "\xff\xfe",
					   "HTTP/1x", "HTTP/1.x 200", "HTTP/1.1x200", "HTTP/x.1 200",
					   "GET / ABCDEFGHIJKLMNOPQRST/1.0\r\n", "GET / http/1.1\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_line_parse((const uint8_t *)bad[i], strlen(bad[i]) + (i == 0), &l), HP_BAD);
	/* other protocols' lines */
	static const char *const other[] = { "OPTIONS rtsp://h/ RTSP/1.0\r\n", "INVITE sip:a@b SIP/2.0\r\n",
					     "PRI * HTTP/2.0\r\n", "GET key\r\n", "HTTP/2 200\r\n", "HTTP/3.0 200 OK\r\n" };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_int_equal(http_line_parse((const uint8_t *)other[i], strlen(other[i]), &l), HP_NOT_HTTP);
}

static void test_head(void **state)
{
	struct http_head h;

	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent:  curl/8 \r\n"
					   "Content-Length: 12\r\n\r\nbody"),
					 &h),
			 HP_OK);
	assert_int_equal(h.len, 84);
	assert_true(h.has_cl);
	assert_int_equal(h.cl, 12);
	assert_int_equal(h.host_len, 16);
	assert_memory_equal(h.ua, "curl/8", 6);
	assert_int_equal(h.ua_len, 6);
	assert_int_equal(http_head_parse(S("HTTP/1.1 200 OK\nContent-Length: 5, 5\n\n"), &h), HP_OK);
	assert_int_equal(h.cl, 5);
	assert_int_equal(h.len, 38);
	/* Transfer-Encoding: only the last coding counts */
	assert_int_equal(http_head_parse(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"), &h), HP_OK);
	assert_true(h.has_te && h.chunked);
	assert_int_equal(http_head_parse(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), &h), HP_OK);
	assert_true(h.has_te && !h.chunked);
	assert_int_equal(http_head_parse(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
					   "Transfer-Encoding: chunked;x=1\r\n\r\n"),
					 &h),
			 HP_OK);
	assert_true(h.chunked);
	assert_int_equal(http_head_parse(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: , \r\n\r\n"), &h), HP_OK);
	assert_true(h.has_te && !h.chunked);
	/* obs-fold is tolerated */
	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\nX-A: a\r\n  b\r\n\r\n"), &h), HP_OK);
	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\nX-A: a\r\n  b\x01\r\n\r\n"), &h), HP_BAD);
	/* incomplete heads, with what is known so far */
	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\nHost: a\r\nUser-Ag"), &h), HP_INCOMPLETE);
	assert_true(h.line_done);
	assert_int_equal(h.host_len, 1);
	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\nHost: a\r\n\r"), &h), HP_INCOMPLETE);
	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\n"), &h), HP_INCOMPLETE);
	/* malformed */
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",   /* space before the colon */
		"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
		"GET / HTTP/1.1\r\n continued\r\n\r\n", /* fold before any field */
		"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",   /* bare CR */
		"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
		"GET / HTTP/1.1\r\n:empty\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_head_parse((const uint8_t *)bad[i], strlen(bad[i]), &h), HP_BAD);
	uint8_t nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	assert_int_equal(http_head_parse(nul, sizeof(nul) - 1, &h), HP_BAD);
	/* a header prefix that cannot become a field is rejected before its LF */
	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\nX y"), &h), HP_BAD);
	assert_int_equal(http_head_parse(S("GET / HTTP/1.1\r\nX: \x01"), &h), HP_BAD);
	/* limits: the head's size and its number of fields */
	static uint8_t big[HTTP_HEAD_MAX + 100];
	size_t n = sizeof(big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', n - 19);
	assert_int_equal(http_head_parse(big, n, &h), HP_BAD);
	assert_int_equal(http_head_parse(big, HTTP_HEAD_MAX - 1, &h), HP_INCOMPLETE);
	size_t o = 16;
	memcpy(big, "GET / HTTP/1.1\r\n", 16);
	for (int i = 0; i <= HTTP_HEADERS_MAX; i++) {
		memcpy(big + o, "A: b\r\n", 6);
		o += 6;
	}
	memcpy(big + o, "\r\n", 2);
	assert_int_equal(http_head_parse(big, o + 2, &h), HP_BAD);
}

static void route_is(const char *target, const char *want)
{
	char out[HTTP_ROUTE_MAX + 1];
	size_t n = http_route((const uint8_t *)target, strlen(target), out, sizeof(out));
	if (strcmp(out, want) || n != strlen(want))
		fail_msg("route of \"%s\": want \"%s\", got \"%s\"", target, want, out);
}

static void test_route(void **state)
{
	route_is("/", "/");
	route_is("/index.html", "/index.html");
	route_is("/index.html?utm_source=x&id=7", "/index.html");
	route_is("/a/b#frag", "/a/b");
	route_is("/api/v1/users/12345", "/api/v1/users/{id}");
	route_is("/api/v1/users/12345/", "/api/v1/users/{id}/");
	route_is("/users/123e4567-e89b-12d3-a456-426614174000/avatar", "/users/{id}/avatar");
	route_is("/blobs/5f2b8c9e", "/blobs/{id}");
	route_is("/blobs/deadbeef", "/blobs/deadbeef"); /* hex without a digit: a word */
	route_is("/git/3b18e512dba79e4c8300dd08aeb37f8e728b8dad", "/git/{id}");
	route_is("/t/eyJhbGciOiJIUzI1NiJ9", "/t/{id}");
	route_is("/reports/2024-01-31", "/reports/{id}");
	route_is("/orders/order-123456", "/orders/{id}");
	route_is("/files/12345.json", "/files/{id}");
	route_is("/v2/page2/ipv6", "/v2/page2/ipv6");
	route_is("/release/1.2.3", "/release/1.2.3");
	route_is("/users/alice@example.com", "/users/{id}");
	route_is("/search/John%20Doe", "/search/{id}");
	route_is("/caf\xc3\xa9", "/{id}");
	route_is("/a//b", "/a/b");
	route_is("*", "*");
	route_is("http://example.com/a/42?x=1", "/a/{id}");
	route_is("https://example.com", "/");
	route_is("HTTP://example.com?x", "/");
	route_is("example.com:443", "");
	route_is("relative/path", "");
	route_is("/how-to-write-an-http-parser-in-c-without-tears-or-regrets", "/{id}");
	route_is("/getUserPermissions", "/getUserPermissions");
	route_is("/x/abcdefgh-abcd-abcd-abcd-abcdefghijkl", "/x/abcdefgh-abcd-abcd-abcd-abcdefghijkl");
	route_is("/x/abcdefab_abcd-abcd-abcd-abcdefabcdef", "/x/abcdefab_abcd-abcd-abcd-abcdefabcdef");
	/* bounded: at most 8 segments, at most HTTP_ROUTE_MAX bytes, cut at a segment */
	route_is("/1/2/3/4/5/6/7/8/9/10", "/{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}/...");
	route_is("/a/b/c/d/e/f/g/h", "/a/b/c/d/e/f/g/h");
	route_is("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccc",
		 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/...");
	char out[8];
	assert_int_equal(http_route((const uint8_t *)"/abc/def", 8, out, sizeof(out)), 4); /* no room for "/abc" and a later "/..." */
	assert_string_equal(out, "/...");
	assert_int_equal(http_route((const uint8_t *)"/", 1, out, 0), 0);
}

static void host_is(const char *v, const char *want, uint32_t want_port)
{
	char out[HTTP_HOST_MAX + 1];
	uint32_t port = 99;
	size_t n = http_host((const uint8_t *)v, strlen(v), out, sizeof(out), &port);
	if (!want) {
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(port, want_port);
}

static void test_host(void **state)
{
	host_is("Example.COM", "example.com", 0);
	host_is("127.0.0.1:8080", "127.0.0.1", 8080);
	host_is("[::1]:443", "::1", 443);
	host_is("[2001:db8::1]", "2001:db8::1", 0);
	host_is("my_svc.ns.svc.cluster.local:80", "my_svc.ns.svc.cluster.local", 80);
	host_is("", NULL, 0);
	host_is("a:", NULL, 0);
	host_is("a:65536", NULL, 0);
	host_is("a:12x", NULL, 0);
	host_is("bad host", NULL, 0);
	host_is("evil\r\nx", NULL, 0);
	host_is("[::1", NULL, 0);
	host_is("[::1]x", NULL, 0);
	host_is("[zz]", NULL, 0);
	host_is("[::1]:8x", NULL, 0);
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	host_is(big, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_descriptor, teardown), cmocka_unit_test_teardown(test_rules, teardown),
		cmocka_unit_test_teardown(test_detect, teardown),     cmocka_unit_test(test_line),
		cmocka_unit_test(test_head),                          cmocka_unit_test(test_route),
		cmocka_unit_test(test_host),
	};
	return cmocka_run_group_tests_name("http_unit", tests, NULL, NULL);
}
