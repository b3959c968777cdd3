// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP plugin's parse() through the mock host (the core's own stream
 * and pairing code): what records come out of hand-made exchanges, as
 * the client and as the server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_http(void);

#define OUT ZT_DIR_EGRESS
#define IN ZT_DIR_INGRESS

static struct mock_plugin *plug;

static int setup(void **state)
{
	return mock_plugin_start(zt_builtin_entry_http, NULL, NULL, &plug);
}

static int teardown(void **state)
{
	mock_plugin_stop(plug);
	mock_reset();
	return 0;
}

static struct mock_conn *open_as(uint32_t role)
{
	struct zt_conn_info ci = mock_conn_info(role, 8080);
	struct mock_conn *c;
	assert_int_equal(mock_conn_open(plug, &ci, &c), 0);
	return c;
}

static uint32_t msg(struct mock_conn *c, uint32_t dir, const char *s, uint64_t ts)
{
	return mock_conn_message(c, dir, s, strlen(s), ts);
}

static const struct mock_record *rec(size_t i)
{
	const struct mock_record *r = mock_record_get(i);
	assert_non_null(r);
	return r;
}

static void rec_is(size_t i, const char *method, const char *route, const char *status)
{
	const struct mock_record *r = rec(i);
	if (strcmp(r->method, method) || strcmp(r->resource, route) || strcmp(r->status_label, status))
		fail_msg("record %zu: want %s %s %s, got %s %s %s", i, method, route, status, r->method, r->resource,
			 r->status_label);
}

static void no_trouble(struct mock_conn *c)
{
	struct mock_l7_stats st = mock_conn_stats(c);
	assert_int_equal(st.parse_errors, 0);
	assert_int_equal(st.unmatched_responses, 0);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.bad_frames, 0);
}

#define REQ "GET /api/users/42?full=1 HTTP/1.1\r\nHost: Shop.Example:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
#define RESP "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

static void test_client_basic(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	assert_int_equal(msg(c, OUT, REQ, 1000), ZT_PARSE_OK);
	assert_int_equal(msg(c, IN, RESP, 5000), ZT_PARSE_OK);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 1);
	const struct mock_record *r = rec(0);
	rec_is(0, "GET", "/api/users/{id}", "200");
	assert_int_equal(r->role, ZT_ROLE_CLIENT);
	assert_int_equal(r->status, ZT_STATUS_OK);
	assert_int_equal(r->start_ns, 1000);
	assert_int_equal(r->end_ns, 5000);
	assert_int_equal(r->req_size, strlen(REQ));
	assert_int_equal(r->resp_size, strlen(RESP));
	assert_string_equal(mock_record_attr(r, "http.request.method"), "GET");
	assert_string_equal(mock_record_attr(r, "http.route"), "/api/users/{id}");
	assert_string_equal(mock_record_attr(r, "server.address"), "shop.example");
	assert_string_equal(mock_record_attr(r, "server.port"), "8080");
	assert_string_equal(mock_record_attr(r, "user_agent.original"), "curl/7.88.1");
	assert_string_equal(mock_record_attr(r, "network.protocol.version"), "1.1");
	assert_string_equal(mock_record_attr(r, "http.response.status_code"), "200");
	assert_string_equal(mock_record_attr(r, "http.response.body.size"), "2");
	assert_null(mock_record_attr(r, "http.request.body.size"));
	assert_string_equal(r->error, "");
	/* no raw path, query or id anywhere */
	for (uint32_t i = 0; i < r->attr_count; i++)
		assert_null(strstr(r->attr_value[i], "42"));
	mock_conn_close(c);
}

static void test_server_side(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_SERVER);

	msg(c, IN, REQ, 1000);
	msg(c, OUT, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", 2000);
	msg(c, IN, "DELETE /items/7 HTTP/1.0\r\n\r\n", 3000);
	msg(c, OUT, "HTTP/1.0 204 No Content\r\n\r\n", 4000);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/api/users/{id}", "503");
	assert_int_equal(rec(0)->role, ZT_ROLE_SERVER);
	assert_int_equal(rec(0)->status, ZT_STATUS_FAILED);
	assert_string_equal(rec(0)->error, "503");
	rec_is(1, "DELETE", "/items/{id}", "204");
	assert_int_equal(rec(1)->status, ZT_STATUS_OK);
	assert_string_equal(mock_record_attr(rec(1), "network.protocol.version"), "1.0");
	mock_conn_close(c);
}

static void test_status_classes(void **state)
{
	static const struct {
		const char *line;
		uint32_t status;
	} cases[] = {
		{ "HTTP/1.1 200 OK", ZT_STATUS_OK },          { "HTTP/1.1 302 Found", ZT_STATUS_OK },
		{ "HTTP/1.1 404 Not Found", ZT_STATUS_OK },   { "HTTP/1.1 499 Client Closed", ZT_STATUS_OK },
		{ "HTTP/1.1 500 Oops", ZT_STATUS_FAILED },    { "HTTP/1.1 599 Whatever", ZT_STATUS_FAILED },
	};
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	char buf[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msg(c, OUT, "GET / HTTP/1.1\r\n\r\n", 10 * i);
		snprintf(buf, sizeof(buf), "%s\r\nContent-Length: 0\r\n\r\n", cases[i].line);
		msg(c, IN, buf, 10 * i + 5);
		assert_int_equal(rec(i)->status, cases[i].status);
		assert_memory_equal(rec(i)->status_label, cases[i].line + 9, 3);
		assert_int_equal(strlen(rec(i)->status_label), 3);
	}
	no_trouble(c);
	mock_conn_close(c);
}

/* Several requests in one write, their responses in one read; a HEAD among them. */
static void test_pipelining(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT,
	    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	    "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
	    "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
	    "GET /d HTTP/1.1\r\nHost: h\r\n\r\n",
	    100);
	assert_int_equal(mock_conn_stats(c).pending, 4);
	msg(c, IN,
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\naaa"
	    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" /* HEAD: no body */
	    "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	    "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nnope!\r\n0\r\n\r\n",
	    200);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 4);
	rec_is(0, "GET", "/a", "200");
	rec_is(1, "HEAD", "/b", "200");
	rec_is(2, "POST", "/c", "201");
	rec_is(3, "GET", "/d", "404");
	assert_string_equal(mock_record_attr(rec(2), "http.request.body.size"), "5");
	mock_conn_close(c);
}

/* A request written in pieces: parse waits (NEED_MORE); its start is the first piece's. */
static void test_split_request(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "GE", 100);
	msg(c, OUT, "T /split HTTP/1.1\r\nHo", 200);
	msg(c, OUT, "st: h\r\n", 300);
	assert_int_equal(mock_frame_count(), 0);
	msg(c, OUT, "\r\n", 400);
	assert_int_equal(mock_frame_count(), 1);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Len", 500);
	msg(c, IN, "gth: 0\r\n\r\n", 600);
	no_trouble(c);
	rec_is(0, "GET", "/split", "200");
	assert_int_equal(rec(0)->start_ns, 100);
	assert_int_equal(rec(0)->end_ns, 600);
	mock_conn_close(c);
}

/* A Content-Length body far larger than the capture, in many reads, then the next exchange. */
static void test_large_body(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	size_t big = 1 << 20, piece = 65536;
	char *body = malloc(piece);
	char head[128];

	assert_non_null(body);
	memset(body, 'H', piece); /* looks like nothing: must be skipped, not parsed */
	memcpy(body, "HTTP/1.1 500 Fake\r\n\r\n", 21);
	msg(c, OUT, "GET /big HTTP/1.1\r\n\r\n", 1);
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big);
	msg(c, IN, head, 2);
	for (size_t off = 0; off < big; off += piece)
		mock_conn_message(c, IN, body, piece, 3 + off);
	msg(c, OUT, "GET /next HTTP/1.1\r\n\r\n", 1 << 21);
	msg(c, IN, RESP, (1 << 21) + 1);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/big", "200");
	assert_int_equal(rec(0)->resp_size, strlen(head) + big);
	rec_is(1, "GET", "/next", "200");
	/* the kernel sent 2048 bytes of each body read; none of it reached parse() */
	assert_true(mock_conn_stats(c).parse_calls < 10);
	free(body);
	mock_conn_close(c);
}

/* A head and the start of its body in one write larger than the capture. */
static void test_body_past_capture(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_SERVER);
	size_t n = 10000;
	char *m = malloc(n);

	assert_non_null(m);
	int h = snprintf(m, n, "PUT /upload/file.bin HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", 3 * n);
	memset(m + h, 'x', n - h);
	mock_conn_message(c, IN, m, n, 1);          /* head + body start, 2048 captured */
	memset(m, 'y', n);
	mock_conn_message(c, IN, m, n, 2);          /* body */
	mock_conn_message(c, IN, m, n, 3);          /* body */
	mock_conn_message(c, IN, m, h, 4);          /* the body's last bytes */
	msg(c, OUT, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 5);
	msg(c, IN, "GET /after HTTP/1.1\r\n\r\n", 6);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 7);
	no_trouble(c);
	assert_int_equal(mock_conn_stats(c).lost_bytes, 0);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "PUT", "/upload/file.bin", "201");
	assert_int_equal(rec(0)->req_size, h + 3 * n);
	rec_is(1, "GET", "/after", "200");
	free(m);
	mock_conn_close(c);
}

static void test_chunked(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	char big[6 + 4096 + 2];

	msg(c, OUT, "GET /stream HTTP/1.1\r\n\r\n", 1);
	msg(c, IN, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 2);
	assert_int_equal(mock_record_count(), 1); /* at its head: a stream may never end */
	msg(c, IN, "4\r\nWiki\r\n", 3);
	msg(c, IN, "5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n", 4);
	/* a chunk larger than the capture, its size line visible */
	memcpy(big, "1000\r\n", 6);
	memset(big + 6, 'z', 4096);
	memcpy(big + 6 + 4096, "\r\n", 2);
	mock_conn_message(c, IN, big, 6 + 4096 + 2, 5);
	msg(c, IN, "0\r\nX-Trailer: 1\r\n\r\n", 6);
	msg(c, OUT, "GET /after HTTP/1.1\r\n\r\n", 7);
	msg(c, IN, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 8);
	no_trouble(c);
	assert_int_equal(mock_conn_stats(c).resyncs, 0);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/stream", "200");
	assert_int_equal(rec(0)->end_ns, 2);
	rec_is(1, "GET", "/after", "404");
	mock_conn_close(c);
}

/* Chunk sizes out of the capture's sight: resync at the next response head. */
static void test_chunked_framing_lost(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	char m[6000];

	msg(c, OUT, "GET /s HTTP/1.1\r\n\r\n", 1);
	int h = snprintf(m, sizeof(m), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n");
	/* many small chunks in one write: those past 2048 bytes are not captured */
	while (h + 24 < (int)sizeof(m))
		h += snprintf(m + h, sizeof(m) - h, "10\r\n0123456789abcdef\r\n");
	mock_conn_message(c, IN, m, h, 2);
	msg(c, IN, "10\r\n0123456789abcdef\r\n0\r\n\r\n", 3); /* rest of the body: skipped while resyncing */
	msg(c, OUT, "GET /t HTTP/1.1\r\n\r\n", 4);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 5);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/s", "200");
	rec_is(1, "GET", "/t", "200");
	mock_conn_close(c);
}

static void test_chunked_request(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_SERVER);

	msg(c, IN, "POST /ingest HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", 1);
	msg(c, IN, "0\r\n\r\nGET /x HTTP/1.1\r\n\r\n", 2);
	msg(c, OUT, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "POST", "/ingest", "202");
	rec_is(1, "GET", "/x", "200");
	mock_conn_close(c);
}

static void test_no_body_responses(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "HEAD /h HTTP/1.1\r\n\r\n", 1);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 2);
	msg(c, OUT, "GET /n HTTP/1.1\r\n\r\n", 3);
	msg(c, IN, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\n\r\n", 4);
	msg(c, OUT, "DELETE /d HTTP/1.1\r\n\r\n", 5);
	msg(c, IN, "HTTP/1.1 204 No Content\r\nContent-Length: 5000\r\n\r\n", 6);
	msg(c, OUT, "GET /last HTTP/1.1\r\n\r\n", 7);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 8);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 4);
	rec_is(0, "HEAD", "/h", "200");
	rec_is(1, "GET", "/n", "304");
	rec_is(2, "DELETE", "/d", "204");
	rec_is(3, "GET", "/last", "200");
	mock_conn_close(c);
}

static void test_interim_responses(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n", 1);
	msg(c, IN, "HTTP/1.1 100 Continue\r\n\r\n", 2);
	assert_int_equal(mock_record_count(), 0);
	msg(c, OUT, "0123456789", 3);
	msg(c, IN, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 4);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 1);
	rec_is(0, "POST", "/up", "201");
	assert_int_equal(rec(0)->end_ns, 4);
	mock_conn_close(c);
}

static void test_upgrade(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 1);
	assert_int_equal(msg(c, IN, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi", 2),
			 ZT_PARSE_END_OF_STREAM);
	assert_int_equal(mock_conn_stats(c).stopped, ZT_PARSE_END_OF_STREAM);
	msg(c, OUT, "GET /not-http-anymore HTTP/1.1\r\n\r\n", 3);
	assert_int_equal(mock_record_count(), 1);
	rec_is(0, "GET", "/chat", "101");
	mock_conn_close(c);

	c = open_as(ZT_ROLE_CLIENT);
	msg(c, OUT, "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n", 1);
	assert_int_equal(msg(c, IN, "HTTP/1.1 200 Connection Established\r\n\r\n", 2), ZT_PARSE_END_OF_STREAM);
	rec_is(1, "CONNECT", "", "200");
	assert_string_equal(mock_record_attr(rec(1), "server.address"), "db.internal");
	mock_conn_close(c);
}

static void test_until_close(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "GET /old HTTP/1.0\r\n\r\n", 1);
	assert_int_equal(mock_record_count(), 0);
	assert_int_equal(msg(c, IN, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until close", 2),
			 ZT_PARSE_END_OF_STREAM);
	rec_is(0, "GET", "/old", "200");
	assert_int_equal(rec(0)->resp_size, 45); /* the head: the body's size is never known */
	assert_null(mock_record_attr(rec(0), "http.response.body.size"));
	mock_conn_close(c);

	/* a 101 whose head goes past the capture */
	c = open_as(ZT_ROLE_CLIENT);
	static char m[3000];
	size_t n = (size_t)snprintf(m, sizeof(m), "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 3\r\nX: ");
	memset(m + n, 'x', sizeof(m) - n);
	msg(c, OUT, "GET /ws HTTP/1.1\r\n\r\n", 1);
	assert_int_equal(mock_conn_message(c, IN, m, sizeof(m), 2), ZT_PARSE_END_OF_STREAM);
	rec_is(1, "GET", "/ws", "101");
	assert_int_equal(rec(1)->resp_size, sizeof(m));
	assert_null(mock_record_attr(rec(1), "http.response.body.size"));
	mock_conn_close(c);
}

static void test_other_methods(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "PROPFIND /dav/ HTTP/1.1\r\nDepth: 1\r\n\r\n", 1);
	msg(c, IN, "HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n", 2);
	msg(c, OUT, "OPTIONS * HTTP/1.1\r\n\r\n", 3);
	msg(c, IN, "HTTP/1.1 200 OK\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n", 4);
	no_trouble(c);
	rec_is(0, "_OTHER", "/dav/", "207");
	assert_string_equal(mock_record_attr(rec(0), "http.request.method"), "_OTHER");
	rec_is(1, "OPTIONS", "*", "200");
	mock_conn_close(c);
}

static void test_bare_lf(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "GET /lf HTTP/1.1\nHost: h\n\n", 1);
	msg(c, IN, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 2);
	no_trouble(c);
	rec_is(0, "GET", "/lf", "200");
	mock_conn_close(c);
}

/* A head longer than the capture: the request line still makes a record. */
static void test_truncated_head(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	char m[4000];
	int n = snprintf(m, sizeof(m), "GET /account/orders HTTP/1.1\r\nHost: h\r\nCookie: ");
	memset(m + n, 'c', sizeof(m) - n);
	memcpy(m + sizeof(m) - 4, "\r\n\r\n", 4);

	mock_conn_message(c, OUT, m, sizeof(m), 1);
	assert_int_equal(mock_frame_count(), 1);
	msg(c, IN, RESP, 2);
	msg(c, OUT, "GET /b HTTP/1.1\r\n\r\n", 3);
	msg(c, IN, RESP, 4);
	no_trouble(c);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/account/orders", "200");
	assert_int_equal(rec(0)->req_size, sizeof(m));
	rec_is(1, "GET", "/b", "200");
	mock_conn_close(c);
}

/* A request that gets no answer expires as a timeout record. */
static void test_expiry(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "GET /slow HTTP/1.1\r\n\r\n", 1000);
	mock_conn_expire(c, 1000 + 119000000000ull); /* a long poll: still waiting */
	assert_int_equal(mock_record_count(), 0);
	mock_conn_expire(c, 1000 + 120000000000ull);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(rec(0)->flags & 1, 1);
	assert_int_equal(rec(0)->status, ZT_STATUS_UNKNOWN);
	mock_conn_close(c);
}

/* Responses to requests never seen (joined late): a HEAD's is told by what follows it. */
static void test_unknown_request(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, IN,
	    "HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	    1);
	msg(c, OUT, "GET /seen HTTP/1.1\r\n\r\n", 2);
	msg(c, IN, RESP, 3);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 2);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	assert_int_equal(mock_record_count(), 1);
	rec_is(0, "GET", "/seen", "200");
	mock_conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_past_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_framing_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_body_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interim_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_until_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bare_lf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_request, setup, teardown),
	};
	return cmocka_run_group_tests_name("http_parse", tests, NULL, NULL);
}
