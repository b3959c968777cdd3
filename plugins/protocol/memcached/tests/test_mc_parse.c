// SPDX-License-Identifier: Apache-2.0
/*
 * The memcached plugin on the mock host, one behaviour per test: text,
 * meta and binary requests and replies, noreply, quiet requests closed by
 * noop/mn, status mapping, sanitized statements, detection; then hostile
 * input: truncated streams, absurd lengths, garbage, lost bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc_testlib.h"

static struct mock_plugin *plug;
static struct mock_conn *conn;
static uint64_t now = 1000000;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mock_plugin_start(zt_builtin_entry_memcached, NULL, NULL, &plug), 0);
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_CLIENT, 11211);
	assert_int_equal(mock_conn_open(plug, &ci, &conn), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (conn)
		mock_conn_close(conn);
	conn = NULL;
	mock_plugin_stop(plug);
	mock_reset();
	return 0;
}

/* The client writes (egress) / reads (ingress) these bytes, 1 ms apart. */
static void cw(const void *p, size_t n)
{
	mock_conn_message(conn, ZT_DIR_EGRESS, p, n, now += 1000000);
}

static void cr(const void *p, size_t n)
{
	mock_conn_message(conn, ZT_DIR_INGRESS, p, n, now += 1000000);
}

#define CW(s) cw(s, sizeof(s) - 1)
#define CR(s) cr(s, sizeof(s) - 1)

static const struct mock_record *rec(size_t i)
{
	assert_true(i < mock_record_count());
	return mock_record_get(i);
}

static void want(size_t i, const char *method, uint32_t status, const char *stmt)
{
	const struct mock_record *r = rec(i);
	assert_string_equal(r->method, method);
	assert_int_equal(r->status, status);
	if (stmt)
		assert_string_equal(r->statement, stmt);
	assert_string_equal(mock_record_attr(r, "db.system"), "memcached");
	assert_string_equal(mock_record_attr(r, "db.operation"), method);
}

static void no_leftovers(void)
{
	struct mock_l7_stats st = mock_conn_stats(conn);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.unmatched_responses, 0);
	assert_int_equal(st.parse_errors, 0);
}

/* ----------------------------------------------------------------- text */

static void test_text_get(void **state)
{
	(void)state;
	CW("get secret-key\r\n");
	CR("VALUE secret-key 0 5\r\nhello\r\nEND\r\n");
	CW("get a b c\r\n");
	CR("VALUE a 0 1\r\nx\r\nEND\r\n");
	CW("get nothing\r\n");
	CR("END\r\n");
	assert_int_equal(mock_record_count(), 3);
	want(0, "get", ZT_STATUS_OK, "get ?");
	assert_int_equal(rec(0)->end_ns - rec(0)->start_ns, 1000000);
	assert_int_equal(rec(0)->resp_size, 22 + 7 + 5);
	want(1, "get", ZT_STATUS_OK, "get ? ? ?");
	assert_string_equal(mock_record_attr(rec(1), "db.operation.batch.size"), "3");
	want(2, "get", ZT_STATUS_OK, "get ?");
	for (size_t i = 0; i < 3; i++)
		for (uint32_t k = 0; k < rec(i)->attr_count; k++)
			assert_null(strstr(rec(i)->attr_value[k], "secret"));
	no_leftovers();
}

static void test_text_storage_and_errors(void **state)
{
	(void)state;
	CW("set k 0 0 5\r\nhello\r\n");
	CR("STORED\r\n");
	CW("add k 0 0 5\r\nhello\r\n");
	CR("NOT_STORED\r\n");
	CW("cas k 0 0 1 99\r\nz\r\n");
	CR("EXISTS\r\n");
	CW("incr k 1\r\n");
	CR("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
	CW("delete nope\r\n");
	CR("NOT_FOUND\r\n");
	CW("frobnicate\r\n");
	CR("ERROR\r\n");
	CW("set big 0 0 5\r\nhello\r\n");
	CR("SERVER_ERROR out of memory storing object\r\n");
	assert_int_equal(mock_record_count(), 7);
	want(0, "set", ZT_STATUS_OK, "set ?");
	assert_int_equal(rec(0)->req_size, 13 + 7);
	want(1, "add", ZT_STATUS_OK, NULL);
	want(2, "cas", ZT_STATUS_OK, NULL);
	want(3, "incr", ZT_STATUS_FAILED, "incr ?");
	assert_string_equal(rec(3)->error, "CLIENT_ERROR cannot increment or decrement non-numeric value");
	want(4, "delete", ZT_STATUS_OK, NULL);
	assert_string_equal(mock_record_attr(rec(4), "db.response.status_code"), "NOT_FOUND");
	want(5, "unknown", ZT_STATUS_FAILED, "unknown");
	want(6, "set", ZT_STATUS_FAILED, NULL);
	no_leftovers();
}

static void test_text_noreply(void **state)
{
	(void)state;
	CW("set k 0 0 1 noreply\r\nv\r\ndelete k noreply\r\nget k\r\n");
	/* both noreply records exist before any reply */
	assert_int_equal(mock_record_count(), 2);
	assert_true(rec(0)->flags & 2);
	want(0, "set", ZT_STATUS_OK, "set ? noreply");
	want(1, "delete", ZT_STATUS_OK, "delete ? noreply");
	CR("END\r\n");
	assert_int_equal(mock_record_count(), 3);
	want(2, "get", ZT_STATUS_OK, NULL);
	no_leftovers();
}

static void test_text_stats_and_admin(void **state)
{
	(void)state;
	CW("stats\r\n");
	CR("STAT pid 1\r\nSTAT uptime 2\r\n");
	CR("STAT version 1.6.18\r\nEND\r\n");
	CW("stats cachedump 1 100\r\n");
	CR("ITEM secret [1 b; 0 s]\r\nEND\r\n");
	CW("version\r\n");
	CR("VERSION 1.6.18\r\n");
	CW("verbosity 1\r\n");
	CR("OK\r\n");
	CW("flush_all\r\n");
	CR("OK\r\n");
	CW("quit\r\n");
	assert_int_equal(mock_record_count(), 5);
	want(0, "stats", ZT_STATUS_OK, "stats");
	assert_int_equal(rec(0)->resp_size, 12 + 15 + 21 + 5);
	want(1, "stats", ZT_STATUS_OK, "stats cachedump ? ?");
	want(2, "version", ZT_STATUS_OK, "version");
	want(3, "verbosity", ZT_STATUS_OK, "verbosity ?");
	want(4, "flush_all", ZT_STATUS_OK, "flush_all");
	no_leftovers();
}

static void test_text_pipelined(void **state)
{
	(void)state;
	CW("get a\r\nset b 0 0 3\r\nabc\r\nincr c 1\r\ngets a b\r\n");
	CR("END\r\nSTORED\r\nNOT_FOUND\r\nVALUE b 0 3 7\r\nabc\r\nEND\r\n");
	assert_int_equal(mock_record_count(), 4);
	want(0, "get", ZT_STATUS_OK, NULL);
	want(1, "set", ZT_STATUS_OK, NULL);
	want(2, "incr", ZT_STATUS_OK, NULL);
	want(3, "gets", ZT_STATUS_OK, "gets ? ?");
	no_leftovers();
}

/* ----------------------------------------------------------------- meta */

static void test_meta_quiet(void **state)
{
	(void)state;
	CW("mg k1 v t q\r\nmg k2 v q\r\nms k3 2 T0 q\r\nhi\r\nmd k4 q\r\nmn\r\n");
	CR("VA 2 t-1\r\nhi\r\nMN\r\n");
	assert_int_equal(mock_record_count(), 4);
	want(0, "mg", ZT_STATUS_OK, "mg ? v t q");
	want(1, "mg", ZT_STATUS_OK, NULL);
	want(2, "ms", ZT_STATUS_OK, "ms ? T q");
	want(3, "md", ZT_STATUS_OK, NULL);
	CW("mg k1 v q\r\nms k2 2 q\r\nxx\r\nmn\r\n");
	CR("CLIENT_ERROR bad data chunk\r\nMN\r\n");
	assert_int_equal(mock_record_count(), 6);
	want(4, "mg", ZT_STATUS_FAILED, NULL); /* the first quiet one takes the error: its order is kept */
	want(5, "ms", ZT_STATUS_OK, NULL);
	no_leftovers();
}

static void test_meta_plain(void **state)
{
	(void)state;
	CW("mg miss v\r\n");
	CR("EN\r\n");
	CW("ma k\r\n");
	CR("NF\r\n");
	CW("ms k 3\r\nabc\r\n");
	CR("HD\r\n");
	assert_int_equal(mock_record_count(), 3);
	want(0, "mg", ZT_STATUS_OK, NULL);
	want(1, "ma", ZT_STATUS_OK, NULL);
	want(2, "ms", ZT_STATUS_OK, NULL);
	no_leftovers();
}

/* --------------------------------------------------------------- binary */

static size_t bin(uint8_t *b, uint8_t magic, uint8_t op, const char *key, uint8_t extlen, uint32_t vlen,
		  uint16_t status, uint32_t opaque)
{
	size_t kl = key ? strlen(key) : 0, body = kl + extlen + vlen;
	memset(b, 0, 24 + body);
	b[0] = magic;
	b[1] = op;
	b[2] = (uint8_t)(kl >> 8);
	b[3] = (uint8_t)kl;
	b[4] = extlen;
	b[6] = (uint8_t)(status >> 8);
	b[7] = (uint8_t)status;
	b[8] = (uint8_t)(body >> 24);
	b[9] = (uint8_t)(body >> 16);
	b[10] = (uint8_t)(body >> 8);
	b[11] = (uint8_t)body;
	b[12] = (uint8_t)(opaque >> 24);
	b[15] = (uint8_t)opaque;
	if (kl)
		memcpy(b + 24 + extlen, key, kl);
	return 24 + body;
}

static void test_binary_quiet_getkq(void **state)
{
	uint8_t w[512], r[512];
	size_t n = 0, m = 0;
	(void)state;
	n += bin(w + n, 0x80, 0x0d, "k1", 0, 0, 0, 1); /* GETKQ */
	n += bin(w + n, 0x80, 0x0d, "k2", 0, 0, 0, 2);
	n += bin(w + n, 0x80, 0x0d, "k3", 0, 0, 0, 3);
	n += bin(w + n, 0x80, 0x0a, NULL, 0, 0, 0, 4); /* NOOP */
	cw(w, n);
	m += bin(r + m, 0x81, 0x0d, "k2", 4, 5, 0, 2); /* only k2 hits */
	m += bin(r + m, 0x81, 0x0a, NULL, 0, 0, 0, 4);
	cr(r, m);
	assert_int_equal(mock_record_count(), 3);
	/* k2 is answered by its own reply, k1 and k3 by the NOOP's */
	want(0, "get", ZT_STATUS_OK, "getkq ?");
	want(1, "get", ZT_STATUS_OK, "getkq ?");
	want(2, "get", ZT_STATUS_OK, "getkq ?");
	/* in the order the answers came: k1 settled by k2's reply, k2, then k3 by the NOOP's */
	assert_int_equal(rec(0)->resp_size, 0);
	assert_int_equal(rec(1)->resp_size, 24 + 2 + 4 + 5);
	assert_int_equal(rec(2)->resp_size, 0);
	no_leftovers();
}

static void test_binary_status(void **state)
{
	uint8_t b[512];
	(void)state;
	cw(b, bin(b, 0x80, 0x00, "k", 0, 0, 0, 0)); /* GET, opaque 0 */
	cr(b, bin(b, 0x81, 0x00, NULL, 0, 9, 0x0001, 0)); /* key not found: a miss */
	cw(b, bin(b, 0x80, 0x01, "k", 8, 3, 0, 0)); /* SET */
	cr(b, bin(b, 0x81, 0x01, NULL, 0, 14, 0x0003, 0)); /* value too large */
	cw(b, bin(b, 0x80, 0x11, "k", 8, 3, 0, 7)); /* SETQ, answered only on error */
	cw(b, bin(b, 0x80, 0x11, "k", 8, 3, 0, 8));
	cr(b, bin(b, 0x81, 0x11, NULL, 0, 0, 0x0082, 8)); /* out of memory for the second */
	cw(b, bin(b, 0x80, 0x10, NULL, 0, 0, 0, 9)); /* STAT: one reply per statistic, then an empty one */
	size_t n = bin(b, 0x81, 0x10, "pid", 0, 2, 0, 9);
	n += bin(b + n, 0x81, 0x10, "uptime", 0, 1, 0, 9);
	n += bin(b + n, 0x81, 0x10, NULL, 0, 0, 0, 9);
	cr(b, n);
	cw(b, bin(b, 0x80, 0x42, NULL, 0, 0, 0, 10)); /* not an opcode */
	assert_int_equal(mock_record_count(), 5);
	want(0, "get", ZT_STATUS_OK, "get ?");
	assert_string_equal(mock_record_attr(rec(0), "db.response.status_code"), "0x0001");
	want(1, "set", ZT_STATUS_FAILED, "set ?");
	assert_string_equal(rec(1)->error, "value too large");
	want(2, "set", ZT_STATUS_OK, "setq ?");
	want(3, "set", ZT_STATUS_FAILED, "setq ?");
	want(4, "stats", ZT_STATUS_OK, "stat");
	assert_int_equal(rec(4)->resp_size, 24 * 3 + 5 + 7);
	assert_int_equal(mock_conn_stats(conn).parse_errors, 1);
}

/* ------------------------------------------------------------ detection */

static void test_detect(void **state)
{
	static const struct {
		const char *s;
		uint32_t want;
	} cases[] = {
		{ "get user:1\r\n", ZT_DETECT_YES },
		{ "gets a b c\r\n", ZT_DETECT_YES },
		{ "set k 0 0 5\r\nhello\r\n", ZT_DETECT_YES },
		{ "set k 0 0 5 noreply\r\n", ZT_DETECT_YES },
		{ "cas k 0 0 5 12\r\n", ZT_DETECT_YES },
		{ "mg k v t\r\n", ZT_DETECT_YES },
		{ "mn\r\n", ZT_DETECT_YES },
		{ "version\r\n", ZT_DETECT_YES },
		{ "stats\r\n", ZT_DETECT_YES },
		{ "set k v\r\n", ZT_DETECT_NO },            /* Redis inline */
		{ "GET / HTTP/1.1\r\n", ZT_DETECT_NO },     /* HTTP */
		{ "*2\r\n$3\r\nGET\r\n", ZT_DETECT_NO },    /* RESP */
		{ "set k 0 0 x\r\n", ZT_DETECT_NO },
		{ "get ", ZT_DETECT_MAYBE },
		{ "quit\r\n", ZT_DETECT_NO },
	};
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_CLIENT, 4000);
	uint8_t b[64];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = mock_detect(plug, &ci, ZT_DIR_EGRESS, cases[i].s, strlen(cases[i].s));
		if (got != cases[i].want)
			fail_msg("detect(\"%s\") = %u, want %u", cases[i].s, got, cases[i].want);
	}
	assert_int_equal(mock_detect(plug, &ci, ZT_DIR_EGRESS, b, bin(b, 0x80, 0x00, "k", 0, 0, 0, 1)), ZT_DETECT_YES);
	b[5] = 7; /* data type must be 0 */
	assert_int_equal(mock_detect(plug, &ci, ZT_DIR_EGRESS, b, 25), ZT_DETECT_NO);
	/* kernel rules claim on memcached's port only */
	struct zt_conn_info std = mock_conn_info(ZT_ROLE_CLIENT, 11211);
	assert_int_equal(mock_rules_match(plug, &std, ZT_DIR_EGRESS, "get k\r\n", 7), ZT_RULE_CLAIM);
	assert_int_equal(mock_rules_match(plug, &ci, ZT_DIR_EGRESS, "get k\r\n", 7), 0);
	assert_int_equal(mock_rules_match(plug, &std, ZT_DIR_EGRESS, b, bin(b, 0x80, 0x01, "k", 8, 1, 0, 1)),
			 ZT_RULE_CLAIM);
}

/* ------------------------------------------------------------ hostile */

static void test_truncated(void **state)
{
	(void)state;
	CW("get a\r\nget b\r\n");
	CR("VALUE a 0 100\r\nonly part of the val"); /* the connection ends mid-value */
	assert_int_equal(mock_record_count(), 0);
	assert_int_equal(mock_conn_stats(conn).pending, 2); /* both wait: unanswered at close */
	assert_int_equal(mock_conn_stats(conn).parse_errors, 0);
	mock_conn_close(conn);
	conn = NULL;
	assert_int_equal(mock_record_count(), 0);
}

static void test_hostile_lengths(void **state)
{
	uint8_t b[64];
	(void)state;
	/* a length memcached refuses: CLIENT_ERROR, and no data block follows */
	CW("set k 0 0 99999999999999999999\r\n");
	CR("CLIENT_ERROR bad command line format\r\n");
	CW("get k\r\n");
	CR("END\r\n");
	assert_int_equal(mock_record_count(), 2);
	want(0, "set", ZT_STATUS_FAILED, NULL);
	want(1, "get", ZT_STATUS_OK, NULL);
	/* a reply announcing a value beyond any item size */
	CW("get k\r\n");
	CR("VALUE k 0 18446744073709551615\r\n");
	assert_int_equal(mock_conn_stats(conn).parse_errors, 1);
	/* a binary body of 4 GiB */
	size_t n = bin(b, 0x80, 0x00, "k", 0, 0, 0, 1);
	b[8] = b[9] = b[10] = b[11] = 0xff;
	cw(b, n);
	assert_int_equal(mock_conn_stats(conn).parse_errors, 1); /* text connection: the binary bytes are garbage */
	assert_int_equal(mock_record_count(), 2);
}

static void test_garbage_then_recovery(void **state)
{
	uint8_t junk[300];
	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 1);
	cw(junk, sizeof(junk));
	assert_int_equal(mock_conn_stats(conn).parse_errors, 1);
	CW("get k\r\n");
	CR("END\r\n");
	assert_int_equal(mock_record_count(), 1);
	want(0, "get", ZT_STATUS_OK, NULL);
}

static void test_gap_resync(void **state)
{
	(void)state;
	CW("get a\r\n");
	mock_conn_lose(conn, ZT_DIR_INGRESS, 100); /* its reply is lost */
	CR("\r\nEND\r\n");                         /* the tail of it: skipped (not a message start that parses) */
	CW("set b 0 0 1\r\nx\r\n");
	CR("STORED\r\n");
	CW("get b\r\n");
	CR("VALUE b 0 1\r\nx\r\nEND\r\n");
	assert_int_equal(mock_record_count(), 2);
	want(0, "set", ZT_STATUS_OK, NULL);
	want(1, "get", ZT_STATUS_OK, NULL);
	/* the lost one waits in the core until it expires */
	mock_conn_expire(conn, now + 3600ull * 1000000000ull);
	assert_int_equal(mock_record_count(), 3);
	assert_true(rec(2)->flags & 1);
}

static void test_big_value_small_capture(void **state)
{
	static uint8_t msg[100000 + 64];
	(void)state;
	CW("get big\r\n");
	size_t n = (size_t)snprintf((char *)msg, 64, "VALUE big 0 100000\r\n");
	memset(msg + n, 'v', 100000);
	memcpy(msg + n + 100000, "\r\nEND\r\n", 7);
	cr(msg, n + 100007); /* one read; only the plugin's capture of it is seen */
	assert_int_equal(mock_record_count(), 1);
	want(0, "get", ZT_STATUS_OK, NULL);
	assert_int_equal(rec(0)->resp_size, n + 100007);
	CW("get x\r\n");
	CR("END\r\n");
	assert_int_equal(mock_record_count(), 2);
	no_leftovers();
}

/* After a value whose end was not captured, the next reply's first line
 * comes in two reads: still found (the kept start of a message counts). */
static void test_resync_split_line(void **state)
{
	static uint8_t msg[8192 + 64];
	(void)state;
	CW("get big\r\n");
	size_t n = (size_t)snprintf((char *)msg, 64, "VALUE big 0 8192\r\n");
	memset(msg + n, 'v', 8192);
	memcpy(msg + n + 8192, "\r\nEND\r\n", 7);
	cr(msg, n + 8199);
	CW("get small\r\n");
	CR("VAL");
	CR("UE small 0 1\r\nx\r\nEND\r\n");
	assert_int_equal(mock_record_count(), 2);
	want(1, "get", ZT_STATUS_OK, NULL);
	assert_int_equal(rec(1)->resp_size, 17 + 3 + 5);
	no_leftovers();
}

static void test_long_get_line(void **state)
{
	static char line[6000];
	size_t n = 0;
	(void)state;
	n += (size_t)sprintf(line, "get");
	for (int i = 0; i < 400; i++)
		n += (size_t)sprintf(line + n, " key:%08d", i);
	n += (size_t)sprintf(line + n, "\r\n");
	cw(line, n); /* 5 KB: beyond the 2 KiB capture */
	CR("END\r\n");
	assert_int_equal(mock_record_count(), 1);
	want(0, "get", ZT_STATUS_OK, NULL);
	assert_true(strlen(rec(0)->statement) <= 128);
	assert_non_null(strstr(rec(0)->statement, "..."));
	no_leftovers();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_storage_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_noreply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_stats_and_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_quiet_getkq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_then_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_value_small_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_split_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_get_line, setup, teardown),
	};
	return cmocka_run_group_tests_name("memcached_parse", tests, NULL, NULL);
}
