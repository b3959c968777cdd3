// SPDX-License-Identifier: Apache-2.0
/*
 * Hand-made cases the golden streams do not hold: RESP3 blob errors and
 * attributes, statements and operation names, values larger than the
 * capture, pipelined batches cut by the capture, lost bytes and the
 * resynchronization after them, hostile lengths, nesting and garbage,
 * detection rules and detect().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redis.h"
#include "redis_testlib.h"

static struct mock_plugin *P;
static struct mock_conn *C;
static uint64_t TS = 1000000;

static int setup(void **state)
{
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_CLIENT, 6379);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_redis, NULL, NULL, &P), 0);
	assert_int_equal(mock_conn_open(P, &ci, &C), 0);
	return 0;
}

static int teardown(void **state)
{
	if (C)
		mock_conn_close(C);
	C = NULL;
	mock_plugin_stop(P);
	mock_reset();
	return 0;
}

static uint32_t out(const char *s) { return mock_conn_message(C, ZT_DIR_EGRESS, s, strlen(s), TS += 1000); }
static uint32_t in(const char *s) { return mock_conn_message(C, ZT_DIR_INGRESS, s, strlen(s), TS += 1000); }

static void records_are(const char *want)
{
	char *got = records_text(0);
	if (strcmp(got, want))
		fail_msg("want:\n%sgot:\n%s", want, got);
	free(got);
}

static void test_statement_and_operation(void **state)
{
	out("*4\r\n$6\r\nCONFIG\r\n$3\r\nget\r\n$9\r\nmaxmemory\r\n$6\r\nsecret\r\n");
	in("*0\r\n");
	records_are("CONFIG GET ok\n");
	const struct mock_record *r = mock_record_get(0);
	assert_string_equal(r->statement, "CONFIG GET ? ?");
	assert_string_equal(mock_record_attr(r, "db.system"), "redis");
	assert_string_equal(mock_record_attr(r, "db.operation"), "CONFIG GET");
	assert_null(strstr(r->statement, "secret"));
	char buf[64];
	struct redis_cmd c = { .op = "MSET", .op_len = 4, .args = 40 };
	size_t n = redis_statement(&c, buf, sizeof(buf) - 1);
	buf[n] = 0;
	assert_true(n <= sizeof(buf) - 1);
	assert_non_null(strstr(buf, "MSET ? ?"));
}

static void test_resp3_types(void **state)
{
	out("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
	in("%1\r\n+server\r\n+redis\r\n");
	out("*1\r\n$1\r\nA\r\n*1\r\n$1\r\nB\r\n*1\r\n$1\r\nC\r\n*1\r\n$1\r\nD\r\n*1\r\n$1\r\nE\r\n");
	/* blob error, an attribute before a reply, a push between replies, a big number, a set of maps */
	in("!21\r\nSYNTAX invalid syntax\r\n|1\r\n+ttl\r\n:3\r\n#t\r\n>2\r\n+x\r\n+y\r\n(123456789012345678901234567890\r\n"
	   "~1\r\n%1\r\n=7\r\ntxt:abc\r\n,1.5e3\r\n_\r\n");
	records_are("HELLO ok\nA failed\nB ok\nC ok\nD ok\nE ok\n");
	assert_string_equal(mock_record_get(1)->error, "SYNTAX");
	struct mock_l7_stats st = mock_conn_stats(C);
	assert_int_equal(st.unmatched_responses, 0);
}

static void test_value_larger_than_capture(void **state)
{
	size_t n = 20000;
	char *m = malloc(n + 64);
	int h = sprintf(m, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n", n - 2);
	memset(m + h, 'v', n - 2);
	memcpy(m + h + n - 2, "\r\n", 2);
	mock_conn_message(C, ZT_DIR_EGRESS, m, h + n, TS += 1000); /* one write, 4 KiB captured */
	in("+OK\r\n");
	/* a reply value larger than the capture, then the next command */
	out("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	h = sprintf(m, "$%zu\r\n", n - 2);
	memset(m + h, 'v', n - 2);
	memcpy(m + h + n - 2, "\r\n", 2);
	mock_conn_message(C, ZT_DIR_INGRESS, m, h + n, TS += 1000);
	out("*1\r\n$4\r\nPING\r\n");
	in("+PONG\r\n");
	free(m);
	records_are("SET ok\nGET ok\nPING ok\n");
	struct mock_l7_stats st = mock_conn_stats(C);
	assert_int_equal(st.lost_bytes, 0);
}

/* 16 GETs in one write, 16 replies in one read, only 64 bytes captured of each. */
static void test_pipeline_cut_by_capture(void **state)
{
	char req[2048] = "", rep[2048] = "";
	for (int i = 0; i < 16; i++) {
		strcat(req, "*2\r\n$3\r\nGET\r\n$6\r\nkey:00\r\n");
		strcat(rep, "$3\r\nabc\r\n");
	}
	mock_conn_message_cap(C, ZT_DIR_EGRESS, req, strlen(req), 64, TS += 1000);
	mock_conn_message_cap(C, ZT_DIR_INGRESS, rep, strlen(rep), 64, TS += 1000);
	/* the next batch is whole: pairing must be right again */
	out("*2\r\n$3\r\nGET\r\n$1\r\nx\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n");
	in("$-1\r\n-WRONGTYPE no\r\n");
	size_t n = mock_record_count();
	char *got = records_text(0);
	/* what was seen is counted ok (never failed), and the last two are exact */
	assert_non_null(strstr(got, "GET ok\nINCR failed\n"));
	assert_null(strstr(got, "unknown"));
	assert_true(n >= 2 && n <= 2 + 16);
	free(got);
	mock_conn_expire(C, TS + 3600000000000ull);
	got = records_text(0);
	for (size_t i = 0; i < mock_record_count(); i++)
		assert_true(mock_record_get(i)->status != ZT_STATUS_FAILED || !strcmp(mock_record_get(i)->method, "INCR"));
	free(got);
}

/* Lost reply bytes: the replies after the gap answer the next request, not an older one. */
static void test_gap_resync(void **state)
{
	out("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
	in("+PONG\r\n");
	mock_conn_lose(C, ZT_DIR_INGRESS, 7);
	in("$3\r\nabc\r\n"); /* half of something: must not answer anything */
	out("*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
	in("-ERR not an integer\r\n");
	mock_conn_expire(C, TS + 3600000000000ull);
	records_are("PING ok\nINCR failed\nPING unknown\n");
}

static void test_garbage(void **state)
{
	/* not RESP from the start: the plugin gives the connection up */
	assert_int_equal(in("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), ZT_PARSE_OK);
	assert_int_equal(out("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), ZT_PARSE_OK);
	records_are("");
}

static void test_hostile_lengths(void **state)
{
	static const char *const bad[] = {
		"*99999999999999999999\r\n", "$-7\r\n", "*-2\r\n", ":12x\r\n", "#x\r\n", "_y\r\n", "(\r\n",
		"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n",
		"+no CR\n", "$3\r\nabcXY",
	};
	out("*1\r\n$4\r\nPING\r\n");
	in("+PONG\r\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out("*1\r\n$4\r\nPING\r\n");
		in(bad[i]);
		out("*1\r\n$4\r\nPING\r\n");
		in("+PONG\r\n");
	}
	struct mock_l7_stats st = mock_conn_stats(C);
	assert_true(st.parse_errors >= 1);
	/* after each bad reply the next request/reply pair is counted right */
	size_t ok = 0;
	for (size_t i = 0; i < mock_record_count(); i++)
		ok += mock_record_get(i)->status == ZT_STATUS_OK;
	assert_true(ok >= 1 + sizeof(bad) / sizeof(bad[0]));
	for (size_t i = 0; i < mock_record_count(); i++)
		assert_true(mock_record_get(i)->status != ZT_STATUS_FAILED);
}

static void test_reader_limits(void **state)
{
	struct resp_reader r;
	struct resp_ops ops = { 0 };
	uint64_t consumed = 0;
	char line[RESP_LINE_MAX + 16];
	memset(&r, 0, sizeof(r));
	resp_reset(&r);
	memset(line, 'a', sizeof(line));
	line[0] = '+';
	assert_int_equal(resp_read(&r, (const uint8_t *)line, sizeof(line), sizeof(line), 1, 1, &ops, NULL, &consumed),
			 RESP_BAD);
	resp_reset(&r);
	assert_int_equal(resp_read(&r, (const uint8_t *)"$5\r\nab", 6, 6, 1, 1, &ops, NULL, &consumed), RESP_OK);
	assert_int_equal(consumed, 6);
	resp_reset(&r);
	assert_int_equal(resp_read(&r, (const uint8_t *)"+OK", 3, 100, 1, 1, &ops, NULL, &consumed), RESP_LOST);
}

static void test_detect_and_rules(void **state)
{
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_CLIENT, 7777);
	const char *cmd = "*1\r\n$4\r\nPING\r\n", *big = "*12\r\n$4\r\nMSET\r\n";
	assert_int_equal(mock_rules_match(P, &ci, ZT_DIR_EGRESS, cmd, strlen(cmd)), ZT_RULE_ASK);
	assert_int_equal(mock_rules_match(P, &ci, ZT_DIR_EGRESS, big, strlen(big)), ZT_RULE_ASK);
	assert_int_equal(mock_detect(P, &ci, ZT_DIR_EGRESS, cmd, strlen(cmd)), ZT_DETECT_YES);
	assert_int_equal(mock_detect(P, &ci, ZT_DIR_EGRESS, "GET / HTTP/1.1\r\n", 16), ZT_DETECT_NO);
	assert_int_equal(mock_detect(P, &ci, ZT_DIR_EGRESS, "*1\r\n$4\r\n\x01\x02\x03\x04\r\n", 14), ZT_DETECT_NO);
	assert_int_equal(mock_rules_match(P, &ci, ZT_DIR_EGRESS, "GET / HTTP/1.1\r\n", 16), 0);
	ci = mock_conn_info(ZT_ROLE_CLIENT, 6379); /* the configured port: anything, inline included */
	assert_int_equal(mock_rules_match(P, &ci, ZT_DIR_EGRESS, "PING\r\n", 6), ZT_RULE_CLAIM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_statement_and_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resp3_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_larger_than_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_cut_by_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect_and_rules, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
