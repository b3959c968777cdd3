// SPDX-License-Identifier: Apache-2.0
/*
 * The Postgres plugin on hand-made streams through the mock host: the
 * statement sanitizer, rules and detect(), the extended protocol (named
 * statements and portals, Close, pipelines with an error), TLS requested
 * and refused, CancelRequest, COPY, messages that are not requests, and
 * hostile input (bad lengths, garbage, truncation, lost bytes, huge
 * queries, more prepared statements than kept).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg.h"
#include "pg_testlib.h"

#define FE ZT_DIR_EGRESS /* the process is the client */
#define BE ZT_DIR_INGRESS

static struct mock_plugin *plug;
static uint8_t buf[65536];

static int setup(void **state)
{
	(void)state;
	return mock_plugin_start(zt_builtin_entry_postgres, NULL, "{\"max_prepared\": 4}", &plug);
}

static int teardown(void **state)
{
	(void)state;
	mock_plugin_stop(plug);
	mock_reset();
	return 0;
}

static struct mock_conn *open_conn(uint32_t role)
{
	struct zt_conn_info ci = mock_conn_info(role, 5432);
	struct mock_conn *c;
	ci.role = ZT_ROLE_UNKNOWN; /* as in the agent: the plugin tells the sides apart */
	assert_int_equal(mock_conn_open(plug, &ci, &c), 0);
	return c;
}

/* A connection past its start-up: StartupMessage, AuthenticationOk, ReadyForQuery. */
static struct mock_conn *started(void)
{
	struct mock_conn *c = open_conn(ZT_ROLE_CLIENT);
	size_t n = pgm_startup(buf, 0, "app", "shop");
	mock_conn_message(c, FE, buf, n, 1000);
	n = pgm(buf, 0, 'R', "\0\0\0\0", 4);
	n = pgm_str(buf, n, 'S', "server_version\00015");
	n = pgm(buf, n, 'K', "\0\0\0\1\0\0\0\2", 8);
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 2000);
	return c;
}

static void sanitize(const char *in, const char *want)
{
	char out[PG_STMT_MAX];
	pg_sql_sanitize(in, strlen(in), out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_sanitize(void **state)
{
	(void)state;
	sanitize("select * from t where a = 'x''y' and b = 42", "select * from t where a = ? and b = ?");
	sanitize("SELECT E'sec\\'ret', $1, 3.5e-3, -7, .5", "SELECT ?, $1, ?, -?, ?");
	sanitize("insert into \"T\"(a) values ($tag$p4ss$$word$tag$), ($$x$$)", "insert into \"T\"(a) values (?), (?)");
	sanitize("select /* a /* nested */ comment */ 1 -- tail 'x'\n, x'ff', B'101', U&'d\\0061t'",
		 "select ? , ?, ?, ?");
	sanitize("select col1, t2.x9 from t2", "select col1, t2.x9 from t2");
	sanitize("select 'unterminated secret", "select ?");
	sanitize("select \"cut", "select ?");
	sanitize("  \t\n select\n\n1  ", "select ?");
	sanitize("select 'caf\xc3\xa9', caf\xc3\xa9", "select ?, caf??");
	char big[3000], out[64];
	memset(big, 'a', sizeof(big));
	assert_true(pg_sql_sanitize(big, sizeof(big), out, sizeof(out)) <= 63);
	assert_int_equal(strlen(out), 63);

	struct pg_sql s;
	const char *q = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
	pg_sql_describe(q, strlen(q), &s);
	assert_string_equal(s.op, "SELECT");
	assert_string_equal(s.table, "pgbench_accounts");
	q = "insert into public.t values (1)";
	pg_sql_describe(q, strlen(q), &s);
	assert_string_equal(s.op, "INSERT");
	assert_string_equal(s.table, "public.t");
	q = "update only t set a = 1";
	pg_sql_describe(q, strlen(q), &s);
	assert_string_equal(s.table, "t");
	q = "select (select 1 from x) from y";
	pg_sql_describe(q, strlen(q), &s);
	assert_string_equal(s.table, "y");
	q = "copy (select 1) to stdout";
	pg_sql_describe(q, strlen(q), &s);
	assert_string_equal(s.op, "COPY");
	assert_string_equal(s.table, "");
	q = "  ;";
	pg_sql_describe(q, strlen(q), &s);
	assert_string_equal(s.op, "");
}

static void test_rules_detect(void **state)
{
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_CLIENT, 5432), other = mock_conn_info(ZT_ROLE_CLIENT, 6000);
	size_t n;
	(void)state;
	n = pgm_startup(buf, 0, "u", "d");
	assert_int_equal(mock_rules_match(plug, &other, FE, buf, n), ZT_RULE_CLAIM);
	n = pgm_code(buf, 0, PG_CODE_SSL);
	assert_int_equal(mock_rules_match(plug, &other, FE, buf, n), ZT_RULE_CLAIM);
	n = pgm_code(buf, 0, PG_CODE_GSSENC);
	assert_int_equal(mock_rules_match(plug, &other, FE, buf, n), ZT_RULE_CLAIM);
	n = pgm_code(buf, 0, PG_CODE_CANCEL);
	assert_int_equal(mock_rules_match(plug, &other, FE, buf, n), ZT_RULE_CLAIM);
	assert_int_equal(mock_detect(plug, &other, FE, buf, n), ZT_DETECT_YES);
	/* a typed message: only on the configured port, and only through detect() */
	n = pgm_str(buf, 0, 'Q', "select 1");
	assert_int_equal(mock_rules_match(plug, &other, FE, buf, n), 0);
	assert_int_equal(mock_rules_match(plug, &ci, FE, buf, n), ZT_RULE_ASK);
	assert_int_equal(mock_detect(plug, &ci, FE, buf, n), ZT_DETECT_YES);
	assert_int_equal(mock_detect(plug, &other, FE, buf, n), ZT_DETECT_NO);
	assert_int_equal(mock_detect(plug, &ci, FE, "GET / HTTP/1.1\r\n\r\n", 18), ZT_DETECT_NO);
	assert_int_equal(mock_detect(plug, &ci, FE, "Q\0", 2), ZT_DETECT_MAYBE);
	assert_int_equal(mock_rules_match(plug, &other, FE, "GET / HTTP/1.1\r\n\r\n", 18), 0);
	assert_int_equal(mock_detect(plug, &other, FE, "\0\0\0\x08\x04\xd2\x16\x2f", 7), ZT_DETECT_NO);
}

static void test_simple_query(void **state)
{
	struct mock_conn *c = started();
	size_t n;
	(void)state;
	n = pgm_str(buf, 0, 'Q', "select * from users where pw = 'hunter2'; select 2");
	mock_conn_message(c, FE, buf, n, 10000);
	n = pgm(buf, 0, 'T', "\0\0", 2);
	n = pgm_complete(buf, n, "SELECT 0");
	n = pgm_str(buf, n, 'N', "SNOTICE");           /* NoticeResponse: not an answer */
	n = pgm_str(buf, n, 'S', "TimeZone\0UTC");     /* ParameterStatus */
	n = pgm(buf, n, 'A', "\0\0\0\1ch\0x\0", 9);   /* NotificationResponse */
	n = pgm_complete(buf, n, "SELECT 1");
	mock_conn_message(c, BE, buf, n, 40000);
	n = pgm_ready(buf, 0);
	mock_conn_message(c, BE, buf, n, 50000);
	assert_int_equal(mock_record_count(), 1);
	const struct mock_record *r = mock_record_get(0);
	assert_string_equal(r->method, "SELECT");
	assert_string_equal(r->resource, "users");
	assert_string_equal(r->statement, "select * from users where pw = ?; select ?");
	assert_int_equal(r->status, ZT_STATUS_OK);
	assert_int_equal(r->role, ZT_ROLE_CLIENT);
	assert_int_equal(r->end_ns - r->start_ns, 40000);
	assert_string_equal(mock_record_attr(r, "db.system"), "postgresql");
	assert_string_equal(mock_record_attr(r, "db.operation"), "SELECT");
	assert_string_equal(mock_record_attr(r, "db.name"), "shop");
	assert_string_equal(mock_record_attr(r, "db.user"), "app");
	assert_null(strstr(r->statement, "hunter2"));
	/* an error in a simple query: failed, with its SQLSTATE */
	n = pgm_str(buf, 0, 'Q', "selec 1");
	mock_conn_message(c, FE, buf, n, 60000);
	n = pgm_error(buf, 0, "42601");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 61000);
	r = mock_record_get(1);
	assert_int_equal(r->status, ZT_STATUS_FAILED);
	assert_string_equal(mock_record_attr(r, "db.response.status_code"), "42601");
	assert_string_equal(r->error, "42601");
	struct mock_l7_stats st = mock_conn_stats(c);
	assert_int_equal(st.parse_errors, 0);
	assert_int_equal(st.pending, 0);
	mock_conn_close(c);
}

static void test_extended(void **state)
{
	struct mock_conn *c = started();
	size_t n;
	(void)state;
	/* named statement, named portal, unnamed ones, all in one write */
	n = pgm_parse(buf, 0, "s1", "select v from kv where k = $1");
	n = pgm_parse(buf, n, "", "insert into kv values ('secret', 1)");
	n = pgm_bind(buf, n, "p1", "s1");
	n = pgm_exec(buf, n, "p1");
	n = pgm_bind(buf, n, "", "");
	n = pgm_exec(buf, n, "");
	n = pgm_bind(buf, n, "", "unknown_stmt");
	n = pgm_exec(buf, n, "");
	n = pgm(buf, n, 'S', NULL, 0);
	mock_conn_message(c, FE, buf, n, 10000);
	n = pgm(buf, 0, '1', NULL, 0);
	n = pgm(buf, n, '1', NULL, 0);
	n = pgm(buf, n, '2', NULL, 0);
	n = pgm_complete(buf, n, "SELECT 1");
	n = pgm(buf, n, '2', NULL, 0);
	n = pgm_complete(buf, n, "INSERT 0 1");
	mock_conn_message(c, BE, buf, n, 20000);
	n = pgm_error(buf, 0, "26000"); /* the Bind of an unknown statement fails: its Execute is failed */
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 30000);
	assert_int_equal(mock_record_count(), 3);
	assert_string_equal(mock_record_get(0)->statement, "select v from kv where k = $1");
	assert_string_equal(mock_record_get(0)->method, "SELECT");
	assert_int_equal(mock_record_get(0)->status, ZT_STATUS_OK);
	assert_string_equal(mock_record_get(1)->statement, "insert into kv values (?, ?)");
	assert_int_equal(mock_record_get(1)->end_ns, 20000);
	assert_string_equal(mock_record_get(2)->method, "EXECUTE");
	assert_int_equal(mock_record_get(2)->status, ZT_STATUS_FAILED);
	/* Close of the statement: a later Execute of a portal bound to it has none */
	n = pgm(buf, 0, 'C', "Ss1", 4);
	n = pgm_bind(buf, n, "", "s1");
	n = pgm_exec(buf, n, "");
	n = pgm(buf, n, 'S', NULL, 0);
	mock_conn_message(c, FE, buf, n, 40000);
	n = pgm(buf, 0, '3', NULL, 0);
	n = pgm_error(buf, n, "26000");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 41000);
	assert_string_equal(mock_record_get(3)->method, "EXECUTE");
	assert_string_equal(mock_record_get(3)->statement, "");
	assert_int_equal(mock_conn_stats(c).pending, 0);
	mock_conn_close(c);
}

/* pgbench-style pipeline: four Executes before one Sync, the second fails. */
static void test_pipeline_error(void **state)
{
	struct mock_conn *c = started();
	size_t n = 0;
	(void)state;
	for (int i = 0; i < 4; i++) {
		n = pgm_bind(buf, n, "", "");
		n = pgm_exec(buf, n, "");
	}
	n = pgm(buf, n, 'S', NULL, 0);
	mock_conn_message(c, FE, buf, n, 10000);
	n = pgm(buf, 0, '2', NULL, 0);
	n = pgm_complete(buf, n, "SELECT 1");
	n = pgm(buf, n, '2', NULL, 0);
	n = pgm_error(buf, n, "22012");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 20000);
	assert_int_equal(mock_record_count(), 4);
	assert_int_equal(mock_record_get(0)->status, ZT_STATUS_OK);
	assert_int_equal(mock_record_get(1)->status, ZT_STATUS_FAILED);
	assert_string_equal(mock_record_get(1)->error, "22012");
	assert_int_equal(mock_record_get(2)->status, ZT_STATUS_FAILED);
	assert_string_equal(mock_record_get(2)->error, "aborted");
	assert_int_equal(mock_record_get(3)->status, ZT_STATUS_FAILED);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 0);
	mock_conn_close(c);
}

static void test_tls(void **state)
{
	(void)state;
	/* answered 'S': TLS from here; released, nothing parsed of it */
	struct mock_conn *c = open_conn(ZT_ROLE_CLIENT);
	size_t n = pgm_code(buf, 0, PG_CODE_SSL);
	assert_int_equal(mock_conn_message(c, FE, buf, n, 1000), ZT_PARSE_OK);
	assert_int_equal(mock_conn_message(c, BE, "S", 1, 2000), ZT_PARSE_END_OF_STREAM);
	assert_int_equal(mock_conn_message(c, FE, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, 3000),
			 ZT_PARSE_END_OF_STREAM);
	struct mock_l7_stats st = mock_conn_stats(c);
	assert_int_equal(st.stopped, ZT_PARSE_END_OF_STREAM);
	assert_int_equal(st.parse_errors, 0);
	mock_conn_close(c);
	/* the server's side of it */
	c = open_conn(ZT_ROLE_SERVER);
	assert_int_equal(mock_conn_message(c, BE, buf, n, 1000), ZT_PARSE_OK);
	assert_int_equal(mock_conn_message(c, FE, "S", 1, 2000), ZT_PARSE_END_OF_STREAM);
	mock_conn_close(c);
	/* GSSENCRequest refused, SSLRequest refused, then plain text */
	c = open_conn(ZT_ROLE_CLIENT);
	n = pgm_code(buf, 0, PG_CODE_GSSENC);
	mock_conn_message(c, FE, buf, n, 1000);
	mock_conn_message(c, BE, "N", 1, 2000);
	n = pgm_code(buf, 0, PG_CODE_SSL);
	mock_conn_message(c, FE, buf, n, 3000);
	mock_conn_message(c, BE, "N", 1, 4000);
	n = pgm_startup(buf, 0, "u", NULL);
	n = pgm_str(buf, n, 'Q', "select 1");
	mock_conn_message(c, FE, buf, n, 5000);
	n = pgm(buf, 0, 'R', "\0\0\0\0", 4);
	n = pgm_ready(buf, n);
	n = pgm_complete(buf, n, "SELECT 1");
	n = pgm_ready(buf, n);
	assert_int_equal(mock_conn_message(c, BE, buf, n, 6000), ZT_PARSE_OK);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(mock_record_get(0)->status, ZT_STATUS_OK);
	assert_string_equal(mock_record_attr(mock_record_get(0), "db.name"), "u");
	mock_conn_close(c);
}

static void test_cancel(void **state)
{
	struct mock_conn *c = open_conn(ZT_ROLE_CLIENT);
	size_t n = pgm_code(buf, 0, PG_CODE_CANCEL);
	(void)state;
	assert_int_equal(mock_conn_message(c, FE, buf, n, 1000), ZT_PARSE_END_OF_STREAM);
	assert_int_equal(mock_record_count(), 0);
	assert_int_equal(mock_frame_count(), 1);
	assert_int_equal(mock_frame_get(0)->type, ZT_FRAME_EVENT);
	assert_string_equal(mock_frame_get(0)->method, "CANCEL");
	mock_conn_close(c);
}

static void test_copy(void **state)
{
	struct mock_conn *c = started();
	size_t n;
	(void)state;
	n = pgm_str(buf, 0, 'Q', "copy t from stdin");
	mock_conn_message(c, FE, buf, n, 10000);
	n = pgm(buf, 0, 'G', "\0\0\0", 3);
	mock_conn_message(c, BE, buf, n, 11000);
	/* 20 KiB of CopyData in writes larger than the capture: bytes are lost */
	n = 0;
	for (int i = 0; i < 400; i++)
		n = pgm(buf, n, 'd', "1\tsecret-row-data-xxxxxxxxxxxxxxxxxxxxxx\n", 44);
	mock_conn_message(c, FE, buf, 8192, 12000);
	mock_conn_message(c, FE, buf + 8192, n - 8192, 13000);
	n = pgm(buf, 0, 'c', NULL, 0);
	mock_conn_message(c, FE, buf, n, 14000);
	n = pgm_complete(buf, 0, "COPY 400");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 15000);
	assert_int_equal(mock_record_count(), 1);
	assert_string_equal(mock_record_get(0)->method, "COPY");
	assert_int_equal(mock_record_get(0)->status, ZT_STATUS_OK);
	/* COPY TO STDOUT with a large output: the answer is still found */
	n = pgm_str(buf, 0, 'Q', "copy t to stdout");
	mock_conn_message(c, FE, buf, n, 20000);
	n = pgm(buf, 0, 'H', "\0\0\0", 3);
	for (int i = 0; i < 400; i++)
		n = pgm(buf, n, 'd', "1\tsecret-row-data-xxxxxxxxxxxxxxxxxxxxxx\n", 44);
	mock_conn_message(c, BE, buf, n, 21000);
	n = pgm(buf, 0, 'c', NULL, 0);
	n = pgm_complete(buf, n, "COPY 400");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 22000);
	assert_int_equal(mock_record_count(), 2);
	assert_int_equal(mock_record_get(1)->status, ZT_STATUS_OK);
	assert_int_equal(mock_record_get(1)->end_ns, 22000);
	assert_int_equal(mock_conn_stats(c).pending, 0);
	mock_conn_close(c);
}

/* ------------------------------------------------------------ hostile */

static void test_bad_lengths(void **state)
{
	struct mock_conn *c = started();
	size_t n;
	(void)state;
	uint8_t bad[] = { 'Q', 0xff, 0xff, 0xff, 0xff, 's', 'e', 'l' };
	mock_conn_message(c, FE, bad, sizeof(bad), 10000);
	uint8_t small[] = { 'Q', 0, 0, 0, 2, 'x' };
	mock_conn_message(c, FE, small, sizeof(small), 11000);
	mock_conn_message(c, FE, "\x01\x02garbage that is not postgres", 31, 12000);
	assert_int_equal(mock_record_count(), 0);
	assert_true(mock_conn_stats(c).parse_errors >= 1);
	/* and then a real query at a message start is parsed again */
	n = pgm_str(buf, 0, 'Q', "select 1");
	mock_conn_message(c, FE, buf, n, 20000);
	n = pgm_complete(buf, 0, "SELECT 1");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 21000);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(mock_record_get(0)->status, ZT_STATUS_OK);
	/* garbage in the start-up phase, a start-up packet with a bad code */
	struct mock_conn *d = open_conn(ZT_ROLE_CLIENT);
	uint8_t st[] = { 0, 0, 0, 8, 0x12, 0x34, 0x56, 0x78 };
	mock_conn_message(d, FE, st, sizeof(st), 1000);
	assert_int_equal(mock_record_count(), 1);
	mock_conn_close(d);
	mock_conn_close(c);
}

static void test_truncated_and_gaps(void **state)
{
	struct mock_conn *c = started();
	size_t n;
	(void)state;
	/* a query cut by the close: waits, then counts as unanswered */
	n = pgm_str(buf, 0, 'Q', "select 1");
	mock_conn_message(c, FE, buf, n, 10000);
	n = pgm_complete(buf, 0, "SELECT 1");
	mock_conn_message(c, BE, buf, 3, 11000);
	/* backend bytes lost: the answer is found again at ReadyForQuery */
	mock_conn_lose(c, BE, 100);
	n = pgm(buf, 0, 'D', "\0\1\0\0\0\1x", 7);
	n = pgm_complete(buf, n, "SELECT 1");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf + 3, n - 3, 12000);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(mock_record_get(0)->status, ZT_STATUS_OK);
	/* answers lost whole: the next query tells the old one was answered */
	n = pgm_str(buf, 0, 'Q', "select 2");
	mock_conn_message(c, FE, buf, n, 20000);
	mock_conn_lose(c, BE, 50);
	n = pgm_str(buf, 0, 'Q', "select 3");
	mock_conn_message(c, FE, buf, n, 30000);
	n = pgm_complete(buf, 0, "SELECT 1");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 31000);
	assert_int_equal(mock_record_count(), 3);
	assert_int_equal(mock_record_get(1)->status, ZT_STATUS_UNKNOWN);
	assert_int_equal(mock_record_get(2)->status, ZT_STATUS_OK);
	assert_int_equal(mock_record_get(2)->end_ns - mock_record_get(2)->start_ns, 1000);
	/* frontend bytes lost mid-message: the next message start resyncs */
	n = pgm_str(buf, 0, 'Q', "select 4");
	mock_conn_message(c, FE, buf, 4, 40000);
	mock_conn_lose(c, FE, n - 4);
	n = pgm_str(buf, 0, 'Q', "select 5");
	mock_conn_message(c, FE, buf, n, 50000);
	n = pgm_complete(buf, 0, "SELECT 1");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 51000);
	n = pgm_ready(buf, 0);
	mock_conn_message(c, BE, buf, n, 52000);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 0);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	/* a truncated query at close */
	n = pgm_str(buf, 0, 'Q', "select 6");
	mock_conn_message(c, FE, buf, n - 2, 60000);
	size_t before = mock_record_count();
	mock_conn_close(c);
	assert_true(mock_record_count() >= before);
}

static void test_huge_and_many(void **state)
{
	struct mock_conn *c = started();
	size_t n;
	char q[20000];
	(void)state;
	/* a query far beyond the capture: one request, text cut and sanitized */
	strcpy(q, "insert into big values ('");
	memset(q + strlen(q), 'x', 15000);
	strcpy(q + 25 + 15000, "')");
	n = pgm_str(buf, 0, 'Q', q);
	mock_conn_message(c, FE, buf, n, 10000);
	n = pgm_complete(buf, 0, "INSERT 0 1");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 11000);
	assert_int_equal(mock_record_count(), 1);
	assert_string_equal(mock_record_get(0)->statement, "insert into big values (?");
	assert_string_equal(mock_record_get(0)->resource, "big");
	/* more named statements than kept (max_prepared 4): bounded, the oldest forgotten */
	n = 0;
	for (int i = 0; i < 10; i++) {
		char name[16], text[64];
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(text, sizeof(text), "select %d from t%d", i, i);
		n = pgm_parse(buf, n, name, text);
	}
	n = pgm_bind(buf, n, "", "s0");
	n = pgm_exec(buf, n, "");
	n = pgm_bind(buf, n, "", "s9");
	n = pgm_exec(buf, n, "");
	n = pgm(buf, n, 'S', NULL, 0);
	mock_conn_message(c, FE, buf, n, 20000);
	n = pgm_error(buf, 0, "26000");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 21000);
	assert_string_equal(mock_record_get(1)->method, "EXECUTE");
	assert_string_equal(mock_record_get(2)->resource, "t9");
	/* names longer than kept are not kept */
	char longname[200];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	n = pgm_parse(buf, 0, longname, "select 1");
	n = pgm_bind(buf, n, longname, longname);
	n = pgm_exec(buf, n, longname);
	n = pgm(buf, n, 'S', NULL, 0);
	mock_conn_message(c, FE, buf, n, 30000);
	n = pgm_complete(buf, 0, "SELECT 1");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 31000);
	assert_string_equal(mock_record_get(3)->method, "EXECUTE");
	assert_int_equal(mock_record_get(3)->status, ZT_STATUS_OK);
	/* a flood of Syncs and Executes never answered: bounded, the core's FIFO kept in step */
	for (int k = 0; k < 3000; k++) {
		n = pgm(buf, 0, 'S', NULL, 0);
		n = pgm(buf, n, 'S', NULL, 0);
		n = pgm_exec(buf, n, "");
		mock_conn_message(c, FE, buf, n, 32000 + (uint64_t)k);
	}
	assert_true(mock_conn_stats(c).pending <= 1024);
	/* answers to no request are not emitted */
	n = pgm_complete(buf, 0, "SELECT 1");
	n = pgm_error(buf, n, "XX000");
	n = pgm_ready(buf, n);
	mock_conn_message(c, BE, buf, n, 40000);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 0);
	mock_conn_close(c);
}

/* A connection older than the agent: picked up mid-stream, sides told by the messages. */
static void test_midstream(void **state)
{
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_SERVER, 5432);
	struct mock_conn *c;
	size_t n;
	(void)state;
	ci.role = ZT_ROLE_UNKNOWN;
	assert_int_equal(mock_conn_open(plug, &ci, &c), 0);
	mock_conn_lose(c, ZT_DIR_INGRESS, 5000);
	mock_conn_lose(c, ZT_DIR_EGRESS, 7000);
	n = pgm_str(buf, 0, 'Q', "select 1");
	mock_conn_message(c, ZT_DIR_INGRESS, buf, n, 10000);
	n = pgm_complete(buf, 0, "SELECT 1");
	n = pgm_ready(buf, n);
	mock_conn_message(c, ZT_DIR_EGRESS, buf, n, 12000);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(mock_record_get(0)->role, ZT_ROLE_SERVER);
	assert_int_equal(mock_record_get(0)->status, ZT_STATUS_OK);
	mock_conn_close(c);
}

static void test_bad_config(void **state)
{
	struct mock_plugin *p = NULL;
	(void)state;
	assert_int_not_equal(mock_plugin_start(zt_builtin_entry_postgres, "pg2", "{\"max_prepared\": -1}", &p), 0);
	assert_int_not_equal(mock_plugin_start(zt_builtin_entry_postgres, "pg3", "{\"nope\": 1}", &p), 0);
	assert_int_not_equal(mock_plugin_start(zt_builtin_entry_postgres, "pg4", "{\"port\": \"x\"}", &p), 0);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test_setup_teardown(test_rules_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simple_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_and_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
