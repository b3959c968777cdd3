// SPDX-License-Identifier: Apache-2.0
/*
 * Hostile and broken input through the mock host: absurd lengths, garbage,
 * NUL bytes, endless heads, chunk sizes that overflow, truncated streams,
 * joining a connection in the middle of a body, bytes lost in the middle
 * of heads and bodies. The plugin must never crash or spin, must make no
 * record out of bytes that are not a head, and must find its way back at
 * the next message that starts with one.
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

#define HTTP_TEST_BIG 4096
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
	struct zt_conn_info ci = mock_conn_info(role, 80);
	struct mock_conn *c;
	assert_int_equal(mock_conn_open(plug, &ci, &c), 0);
	return c;
}

static uint32_t msg(struct mock_conn *c, uint32_t dir, const char *s, uint64_t ts)
{
	return mock_conn_message(c, dir, s, strlen(s), ts);
}

static void rec_is(size_t i, const char *method, const char *route, const char *status)
{
	const struct mock_record *r = mock_record_get(i);
	assert_non_null(r);
	if (strcmp(r->method, method) || strcmp(r->resource, route) || strcmp(r->status_label, status))
		fail_msg("record %zu: want %s %s %s, got %s %s %s", i, method, route, status, r->method, r->resource,
			 r->status_label);
}

/* One good exchange, to show the connection is back in sync. */
static void good_exchange(struct mock_conn *c, const char *path, uint64_t ts)
{
	char req[256];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
	assert_int_equal(msg(c, OUT, req, ts), ZT_PARSE_OK);
	assert_int_equal(msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ts + 1), ZT_PARSE_OK);
}

static void test_huge_lengths(void **state)
{
	static const char *const cls[] = { "9223372036854775808", "18446744073709551615", "1125899906842625",
					   "99999999999999999999999999999999", "-1", "0x10", "12abc", "", "1 2",
					   "5, 6" };
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	char m[256];
	uint64_t ts = 1;

	good_exchange(c, "/first", ts++);
	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		snprintf(m, sizeof(m), "POST /p HTTP/1.1\r\nContent-Length: %s\r\n\r\nbody", cls[i]);
		assert_int_equal(msg(c, OUT, m, ts++), ZT_PARSE_OK);
		snprintf(m, sizeof(m), "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nbody", cls[i]);
		assert_int_equal(msg(c, IN, m, ts++), ZT_PARSE_OK);
		assert_int_equal(mock_conn_stats(c).parse_errors, 2 * (i + 1));
	}
	good_exchange(c, "/last", ts++);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/first", "200");
	rec_is(1, "GET", "/last", "200");
	mock_conn_close(c);
}

/* The largest accepted length: skipping it is the client's fate too; no overflow. */
static void test_max_length(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "GET /x HTTP/1.1\r\n\r\n", 1);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 1125899906842624\r\n\r\n", 2);
	for (int i = 0; i < 100; i++)
		msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3 + i);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(mock_record_get(0)->resp_size, 1125899906842624ull + 53);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

static void test_chunk_sizes(void **state)
{
	static const char *const lines[] = { "ffffffffffffffffffffffff\r\n", "4000000000001\r\n", "zz\r\n", "-5\r\n",
					     "5 x\r\n", "\r\n", "5\r\nabcdeXX", "5\x00\r\n" };
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	uint64_t ts = 1;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		msg(c, OUT, "GET /c HTTP/1.1\r\n\r\n", ts++);
		msg(c, IN, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ts++);
		mock_conn_message(c, IN, lines[i], strlen(lines[i]) + (i == 7 ? 3 : 0), ts++);
		assert_int_equal(mock_conn_stats(c).parse_errors, i + 1);
	}
	good_exchange(c, "/ok", ts++);
	assert_int_equal(mock_record_count(), sizeof(lines) / sizeof(lines[0]) + 1);
	rec_is(sizeof(lines) / sizeof(lines[0]), "GET", "/ok", "200");
	mock_conn_close(c);
}

/* Chunk-size lines and trailer sections past their limits, or cut by the capture. */
static void test_chunk_limits(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	static char m[HTTP_TEST_BIG];
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	uint64_t ts = 1;
	size_t n;

	/* an endless chunk extension */
	msg(c, OUT, "GET /1 HTTP/1.1\r\n\r\n", ts++);
	msg(c, IN, head, ts++);
	msg(c, IN, "5;ext=", ts++);
	for (int i = 0; i < 1100; i++)
		msg(c, IN, "a", ts++);
	assert_int_equal(mock_conn_stats(c).parse_errors, 1);
	/* a trailer line without end, a bad byte in one, too many of them */
	static const char *const bad_trailers[] = { NULL, "X: a\x01b\r\n", "T: 1\r\n" };
	for (int k = 0; k < 3; k++) {
		msg(c, OUT, "GET /2 HTTP/1.1\r\n\r\n", ts++);
		msg(c, IN, head, ts++);
		msg(c, IN, "0\r\n", ts++);
		if (k == 0) {
			msg(c, IN, "X: ", ts++);
			for (int i = 0; i < 9000; i++)
				msg(c, IN, "a", ts++);
		} else {
			for (int i = 0; i < (k == 2 ? 70 : 1); i++)
				msg(c, IN, bad_trailers[k], ts++);
		}
		assert_int_equal(mock_conn_stats(c).parse_errors, 2 + k);
	}
	/* a chunk-size line, then a trailer, cut by the capture (2048 bytes): no error, resync */
	for (int k = 0; k < 2; k++) {
		msg(c, OUT, "GET /3 HTTP/1.1\r\n\r\n", ts++);
		n = (size_t)snprintf(m, sizeof(m), "%s", head);
		size_t data = 2045 - n - 7 - 2;
		n += (size_t)snprintf(m + n, sizeof(m) - n, "%05zx\r\n", data);
		memset(m + n, 'd', data);
		n += data;
		n += (size_t)snprintf(m + n, sizeof(m) - n, k ? "\r\n0\r\nTrailer: xxxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n"
							    : "\r\n100\r\n");
		assert_true(n > 2048);
		mock_conn_message(c, IN, m, n, ts++);
		assert_int_equal(mock_conn_stats(c).parse_errors, 4);
		good_exchange(c, "/after", ts++);
	}
	assert_int_equal(mock_conn_stats(c).parse_errors, 4);
	rec_is(mock_record_count() - 1, "GET", "/after", "200");
	mock_conn_close(c);
}

/* A request body with a coding other than chunked cannot be framed. */
static void test_request_coding(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_SERVER);

	msg(c, IN, "GET /a HTTP/1.1\r\n\r\n", 1);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	msg(c, IN, "POST /b HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b", 3);
	assert_int_equal(mock_conn_stats(c).parse_errors, 1);
	assert_int_equal(mock_frame_count(), 2);
	mock_conn_close(c);
}

/* An interim response whose head goes past the capture: resync, no record. */
static void test_interim_truncated(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	static char m[4096];
	size_t n = (size_t)snprintf(m, sizeof(m), "HTTP/1.1 103 Early Hints\r\nLink: <");
	memset(m + n, 'l', sizeof(m) - n);

	msg(c, OUT, "GET /p HTTP/1.1\r\n\r\n", 1);
	mock_conn_message(c, IN, m, sizeof(m), 2);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3);
	assert_int_equal(mock_record_count(), 1);
	rec_is(0, "GET", "/p", "200");
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

/* A head that never ends, one byte per write: refused at the head limit, never kept without bound. */
static void test_endless_head(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_SERVER);

	msg(c, IN, "GET /first HTTP/1.1\r\n\r\n", 0);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	msg(c, IN, "GET / HTTP/1.1\r\nX-Long: ", 1);
	for (int i = 0; i < 20000; i++)
		msg(c, IN, "a", 2 + i);
	struct mock_l7_stats st = mock_conn_stats(c);
	assert_int_equal(st.parse_errors, 1);
	assert_int_equal(st.keep_overflows, 0);
	assert_int_equal(mock_frame_count(), 2);
	/* many header lines */
	msg(c, IN, "GET / HTTP/1.1\r\n", 30000);
	for (int i = 0; i < 200; i++)
		msg(c, IN, "A: b\r\n", 30001 + i);
	assert_int_equal(mock_conn_stats(c).parse_errors, 2);
	msg(c, IN, "GET /fine HTTP/1.1\r\n\r\n", 40000);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 40001);
	assert_int_equal(mock_record_count(), 2);
	rec_is(1, "GET", "/fine", "200");
	mock_conn_close(c);

	/* the same from the start of a connection: given up on, as not HTTP */
	c = open_as(ZT_ROLE_SERVER);
	uint32_t r = msg(c, IN, "GET / HTTP/1.1\r\nX-Long: ", 1);
	for (int i = 0; i < 20000 && r == ZT_PARSE_OK; i++)
		r = msg(c, IN, "a", 2 + i);
	assert_int_equal(r, ZT_PARSE_IGNORED);
	assert_int_equal(mock_conn_stats(c).parse_errors, 1);
	mock_conn_close(c);
}

static void test_nul_and_controls(void **state)
{
	static const char bad[][40] = { "GET /\0 HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nX: \0\r\n\r\n",
					"GET / HTTP/1.1\r\n\0: x\r\n\r\n", "GET\0/ HTTP/1.1\r\n\r\n",
					"GET / HTTP/1.1\r\nX: \x1b[31m\r\n\r\n" };
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = sizeof(bad[i]);
		while (n && !bad[i][n - 1])
			n--;
		good_exchange(c, "/a", 10 * i); /* in sync: what comes next must be a head */
		mock_conn_message(c, OUT, bad[i], n, 10 * i + 5);
		assert_int_equal(mock_conn_stats(c).parse_errors, i + 1);
	}
	good_exchange(c, "/b", 100);
	assert_int_equal(mock_record_count(), sizeof(bad) / sizeof(bad[0]) + 1);
	mock_conn_close(c);
}

/* Not HTTP at all: no record, no error counted, and capture stops. */
static void test_not_http(void **state)
{
	static const char *const firsts[] = { "GET key\r\n", "OPTIONS rtsp://cam/1 RTSP/1.0\r\nCSeq: 1\r\n\r\n",
					      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/2.0 200 OK\r\n" };
	for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
		assert_int_equal(msg(c, OUT, firsts[i], 1), ZT_PARSE_IGNORED);
		assert_int_equal(mock_conn_stats(c).parse_errors, 0);
		mock_conn_close(c);
	}
	/* binary from the start: skipped, and given up on after a while */
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	uint8_t junk[300];
	uint32_t x = 12345, r = ZT_PARSE_OK;
	int i;
	for (i = 0; i < 1000 && r == ZT_PARSE_OK; i++) {
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
		junk[0] |= 0x80;
		r = mock_conn_message(c, i & 1, junk, sizeof(junk), 1 + i);
	}
	assert_int_equal(r, ZT_PARSE_IGNORED);
	assert_true(i < 200);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	assert_int_equal(mock_frame_count(), 0);
	mock_conn_close(c);
}

/* The agent started in the middle of a body: nothing until a message starts with a head. */
static void test_mid_stream_join(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	/* the tail of a response body, then of a chunked one: mentions of heads inside */
	msg(c, IN, "ody of a page that says HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n and more", 1);
	msg(c, IN, "\r\n0\r\n\r\n", 2);
	msg(c, IN, "more body, no head at this message's start\r\nHTTP/1.1 500 Error\r\n\r\n", 3);
	/* the tail of an upload the process is still writing */
	msg(c, OUT, "--boundary\r\nContent-Disposition: form-data\r\n\r\nGET /fake HTTP/1.1\r\n\r\n", 4);
	assert_int_equal(mock_frame_count(), 0);
	good_exchange(c, "/real", 5);
	assert_int_equal(mock_record_count(), 1);
	rec_is(0, "GET", "/real", "200");
	struct mock_l7_stats st = mock_conn_stats(c);
	assert_int_equal(st.parse_errors, 0);
	assert_int_equal(st.unmatched_responses, 0);
	mock_conn_close(c);

	/* a body's last bytes that could start a method ("Accept"...) wait for
	 * more, then must not swallow the head that follows them */
	c = open_as(ZT_ROLE_CLIENT);
	msg(c, IN, "Accept", 1);
	msg(c, OUT, "GET /glued HTTP/1.1\r\n\r\n", 2);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3);
	assert_int_equal(mock_record_count(), 2);
	rec_is(1, "GET", "/glued", "200");
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);

	/* the server side, joined in an upload's body */
	c = open_as(ZT_ROLE_SERVER);
	msg(c, IN, "xxxxxxxxxxxxxxxxxxxxxxx", 1);
	msg(c, IN, "POST is a word in this body too", 2);
	msg(c, IN, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 3);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
	assert_int_equal(mock_record_count(), 3);
	rec_is(2, "GET", "/next", "200");
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

/* Bytes lost (a full ring) in the middle of a head. */
static void test_gap_in_head(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	msg(c, OUT, "GET /lost HTTP/1.1\r\nHo", 1);
	mock_conn_lose(c, OUT, 10);
	msg(c, OUT, "ept: */*\r\n\r\n", 2); /* the rest of the lost head: not a head start */
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 3);
	assert_int_equal(mock_frame_count(), 1); /* the response alone, matched to nothing */
	good_exchange(c, "/after", 4);
	assert_int_equal(mock_record_count(), 1);
	rec_is(0, "GET", "/after", "200");
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);

	/* and in a response head */
	msg(c, OUT, "GET /resp-lost HTTP/1.1\r\n\r\n", 5);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-", 6);
	mock_conn_lose(c, IN, 7);
	msg(c, IN, "7\r\n\r\nabcdefg", 7);
	good_exchange(c, "/after2", 8);
	/* /resp-lost never got its response: the next one is paired FIFO with it, as the core does */
	assert_int_equal(mock_record_count(), 2);
	rec_is(1, "GET", "/resp-lost", "200");
	assert_int_equal(mock_conn_stats(c).pending, 1);
	mock_conn_close(c);
}

/* Bytes lost inside a body of known length change nothing. */
static void test_gap_in_body(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);
	char body[3000];

	memset(body, 'b', sizeof(body));
	msg(c, OUT, "GET /big HTTP/1.1\r\n\r\n", 1);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n", 2);
	mock_conn_message(c, IN, body, sizeof(body), 3);
	mock_conn_lose(c, IN, 4000);
	mock_conn_message(c, IN, body, sizeof(body), 4);
	good_exchange(c, "/next", 5);
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/big", "200");
	rec_is(1, "GET", "/next", "200");
	assert_int_equal(mock_conn_stats(c).resyncs, 0);

	/* ... but lost bytes that run past the body's end do: resync at the next head */
	msg(c, OUT, "GET /big2 HTTP/1.1\r\n\r\n", 6);
	msg(c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 7);
	mock_conn_lose(c, IN, 3000 + 20); /* the body and the start of the next response */
	msg(c, IN, "ength: 0\r\n\r\n", 8);
	good_exchange(c, "/next2", 9);
	assert_int_equal(mock_record_count(), 4);
	rec_is(2, "GET", "/big2", "200");
	rec_is(3, "GET", "/next2", "200");
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

/* Bytes lost inside a chunked body: resync at the next head, no bogus record. */
static void test_gap_in_chunked(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_SERVER);

	msg(c, IN, "GET /s HTTP/1.1\r\n\r\n", 1);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n", 2);
	mock_conn_lose(c, OUT, 100);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3); /* body text that looks like a head */
	msg(c, OUT, "10\r\n0123456789abcdef\r\n0\r\n\r\n", 4);
	msg(c, IN, "GET /t HTTP/1.1\r\n\r\n", 5);
	msg(c, OUT, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 6);
	/* The look-alike at a message start is taken for a response (to no
	 * request): that much a resync cannot tell. The chunk after it is then
	 * a broken message, and the next head resyncs again. */
	assert_int_equal(mock_record_count(), 2);
	rec_is(0, "GET", "/s", "200");
	rec_is(1, "GET", "/t", "201");
	assert_int_equal(mock_conn_stats(c).parse_errors, 1);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 1);
	mock_conn_close(c);
}

/* Streams cut short anywhere: no crash, no record without its response. */
static void test_truncated_streams(void **state)
{
	const char *req = "POST /t HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody";
	const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n";
	for (size_t cut = 0; cut <= strlen(req) + strlen(resp); cut++) {
		struct mock_conn *c = open_as(cut & 1 ? ZT_ROLE_CLIENT : ZT_ROLE_SERVER);
		uint32_t rq = cut & 1 ? OUT : IN;
		size_t a = cut < strlen(req) ? cut : strlen(req);
		if (a)
			mock_conn_message(c, rq, req, a, 1);
		if (cut > strlen(req))
			mock_conn_message(c, !rq, resp, cut - strlen(req), 2);
		struct mock_l7_stats st = mock_conn_stats(c);
		assert_int_equal(st.parse_errors, 0);
		mock_conn_close(c);
	}
	/* records only for the cuts where the response head was complete */
	for (size_t i = 0; i < mock_record_count(); i++)
		rec_is(i, "POST", "/t", "200");
	assert_int_equal(mock_record_count(), strlen(resp) - 47 + 1); /* the head is 47 bytes */
}

/* A response where requests go (and the reverse) is not taken. */
static void test_wrong_direction(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	good_exchange(c, "/a", 1);
	msg(c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3);
	msg(c, IN, "GET /b HTTP/1.1\r\n\r\n", 4);
	assert_int_equal(mock_conn_stats(c).parse_errors, 2);
	good_exchange(c, "/c", 5);
	assert_int_equal(mock_record_count(), 2);
	mock_conn_close(c);
}

/* A deep pipeline with HEADs in it, each response its own write. */
static void test_deep_pipeline(void **state)
{
	struct mock_conn *c = open_as(ZT_ROLE_CLIENT);

	for (int i = 0; i < 300; i++)
		msg(c, OUT, i % 20 == 7 ? "HEAD /h HTTP/1.1\r\n\r\n" : "GET /g HTTP/1.1\r\n\r\n", 1 + i);
	for (int i = 0; i < 300; i++)
		msg(c, IN, i % 20 == 7 ? "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
				       : "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
		    1000 + i);
	assert_int_equal(mock_record_count(), 300);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 0);
	for (int i = 0; i < 300; i++)
		rec_is(i, i % 20 == 7 ? "HEAD" : "GET", i % 20 == 7 ? "/h" : "/g", "200");
	mock_conn_close(c);

	/* More HEADs waiting than remembered: their responses, in one read, are
	 * still told apart by the status line right behind each head. */
	c = open_as(ZT_ROLE_CLIENT);
	char resp[64 * 40];
	size_t n = 0;
	for (int i = 0; i < 50; i++) {
		msg(c, OUT, "HEAD /h HTTP/1.1\r\n\r\n", 1 + i);
		n += (size_t)snprintf(resp + n, sizeof(resp) - n, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
	}
	mock_conn_message(c, IN, resp, n, 100);
	assert_int_equal(mock_record_count(), 350);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

/* Seeded random bytes with HTTP-ish pieces mixed in, both directions. */
static void test_random_soup(void **state)
{
	static const char *const bits[] = { "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n",
					    "Transfer-Encoding: chunked\r\n", "\r\n", "0\r\n\r\n", "ffff\r\n",
					    "HEAD /x HTTP/1.0\r\n", "HTTP/1.1 101 Up\r\n", "Host: a:1\r\n" };
	uint32_t x = 7;
	for (int conn = 0; conn < 200; conn++) {
		struct mock_conn *c = open_as(conn & 1 ? ZT_ROLE_CLIENT : ZT_ROLE_SERVER);
		for (int m = 0; m < 40; m++) {
			uint8_t buf[512];
			size_t n = 0, want = (x = x * 1103515245u + 12345u) >> 23;
			while (n < want && n < sizeof(buf)) {
				x = x * 1103515245u + 12345u;
				if ((x >> 16) % 4) {
					const char *b = bits[(x >> 8) % 10];
					size_t l = strlen(b);
					if (n + l > sizeof(buf))
						break;
					memcpy(buf + n, b, l);
					n += l;
				} else {
					buf[n++] = (uint8_t)(x >> 24);
				}
			}
			if ((x >> 20) % 16 == 0)
				mock_conn_lose(c, m & 1, (x >> 4) % 300);
			if (mock_conn_message(c, (x >> 10) & 1, buf, n, 1 + m) != ZT_PARSE_OK)
				break;
		}
		mock_conn_close(c);
	}
	for (size_t i = 0; i < mock_record_count(); i++) {
		const struct mock_record *r = mock_record_get(i);
		assert_true(strlen(r->status_label) == 3 || (r->flags & 1));
		assert_true(r->resource[0] == 0 || r->resource[0] == '/' || r->resource[0] == '*');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_huge_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunk_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endless_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunk_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_coding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interim_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_and_controls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mid_stream_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_in_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_in_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_in_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_soup, setup, teardown),
	};
	return cmocka_run_group_tests_name("http_adversarial", tests, NULL, NULL);
}
