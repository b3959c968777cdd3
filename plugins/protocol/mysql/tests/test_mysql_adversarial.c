// SPDX-License-Identifier: Apache-2.0
/*
 * Crafted streams for what the captured sessions do not show, and hostile
 * input: CLIENT_DEPRECATE_EOF result sets, packets of 16 MiB - 1 continued,
 * prepared statements (unknown ids, closed ids, MariaDB's direct execute,
 * a bounded statement table), COM_CHANGE_USER, cursors, pipelining, a
 * connection joined late, lost bytes in the middle of a result (the
 * response then ends at the next command: ZT_FRAME_F_PEER_DIR), TLS, auth
 * failures, garbage, hostile lengths and truncation. Nothing may crash or
 * leak (ASan/valgrind builds), every record must be what the client saw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "my_testlib.h"
#include "mysql.h"

#define C2S ZT_DIR_EGRESS /* the traced process is the client */
#define S2C ZT_DIR_INGRESS

static struct mock_plugin *plug;
static uint64_t ts;

static int setup(void **state)
{
	(void)state;
	ts = 1000000;
	return mock_plugin_start(zt_builtin_entry_mysql, NULL, "{\"max_statements\": 3}", &plug);
}

static int teardown(void **state)
{
	(void)state;
	mock_plugin_stop(plug);
	mock_reset();
	return 0;
}

static struct mock_conn *conn(uint16_t port)
{
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_UNKNOWN, port);
	struct mock_conn *c;
	assert_int_equal(mock_conn_open(plug, &ci, &c), 0);
	return c;
}

static uint32_t msg(struct mock_conn *c, uint32_t dir, const uint8_t *b, size_t n)
{
	return mock_conn_message(c, dir, b, n, ts += 1000);
}

/* One packet as its own message. */
static uint32_t one(struct mock_conn *c, uint32_t dir, uint8_t seq, const void *payload, size_t len)
{
	uint8_t b[4096];
	assert_true(len + 4 <= sizeof(b));
	return msg(c, dir, b, pkt(b, 0, seq, payload, len));
}

#define ONE(c, dir, seq, lit) one(c, dir, seq, lit, sizeof(lit) - 1)

static const uint8_t OK[] = "\x00\x00\x00\x02\x00\x00\x00";
static const uint8_t OK_MORE[] = "\x00\x00\x00\x0a\x00\x00\x00"; /* SERVER_MORE_RESULTS_EXISTS */
static const uint8_t EOF5[] = "\xfe\x00\x00\x02\x00";
static const uint8_t OK_FE[] = "\xfe\x00\x00\x02\x00\x00\x00"; /* an OK as terminator (DEPRECATE_EOF) */
static const uint8_t ERR[] = "\xff\x7a\x04#42S02Table 'secret_db.t' doesn't exist";
static const uint8_t COLDEF[] = "\x03" "def" "\x01" "d" "\x01" "t" "\x01" "t" "\x01" "c" "\x01" "c"
				"\x0c\x3f\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00";

/* Greeting, handshake response with caps, OK. */
static struct mock_conn *session(uint32_t caps, uint16_t port)
{
	uint8_t g[128], hs[128];
	struct mock_conn *c = conn(port);
	static const char ver[] = "\x0a" "8.0.36\0" "\x07\x00\x00\x00" "abcdefgh\0" "\xff\xff" "\x2d" "\x02\x00"
				  "\xff\xff" "\x15" "\0\0\0\0\0\0\0\0\0\0" "ijklmnopqrst\0" "caching_sha2_password\0";
	size_t n = 0;
	memcpy(g, ver, sizeof(ver) - 1);
	assert_int_equal(one(c, S2C, 0, g, sizeof(ver) - 1), ZT_PARSE_OK);
	memset(hs, 0, sizeof(hs));
	hs[0] = (uint8_t)caps;
	hs[1] = (uint8_t)(caps >> 8);
	hs[2] = (uint8_t)(caps >> 16);
	hs[3] = (uint8_t)(caps >> 24);
	hs[8] = 0x2d;
	n = 32;
	memcpy(hs + n, "app\0", 4);
	n += 4;
	hs[n++] = 2; /* auth data, 1-byte length (SECURE_CONNECTION) */
	hs[n++] = 0xaa;
	hs[n++] = 0xbb;
	memcpy(hs + n, "shop\0", 5);
	n += 5;
	assert_int_equal(one(c, C2S, 1, hs, n), ZT_PARSE_OK);
	/* caching_sha2: fast auth success, then OK */
	assert_int_equal(ONE(c, S2C, 2, "\x01\x03"), ZT_PARSE_OK);
	assert_int_equal(one(c, S2C, 3, OK, 7), ZT_PARSE_OK);
	return c;
}

#define CAPS_41 (CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_CONNECT_WITH_DB)

static void query(struct mock_conn *c, const char *sql)
{
	uint8_t b[1100];
	b[0] = COM_QUERY;
	memcpy(b + 1, sql, strlen(sql));
	assert_int_equal(one(c, C2S, 0, b, 1 + strlen(sql)), ZT_PARSE_OK);
}

/* A result set of one column and `rows` rows in one message. */
static size_t resultset(uint8_t *b, int deprecate_eof, int rows, const uint8_t *end, size_t endlen)
{
	size_t n = 0;
	uint8_t seq = 1;
	n = pkt(b, n, seq++, "\x01", 1);
	n = pkt(b, n, seq++, COLDEF, sizeof(COLDEF) - 1);
	if (!deprecate_eof)
		n = pkt(b, n, seq++, EOF5, 5);
	for (int i = 0; i < rows; i++)
		n = pkt(b, n, seq++, "\x03" "abc", 4);
	return pkt(b, n, seq, end, endlen);
}

static const struct mock_record *rec(size_t i)
{
	const struct mock_record *r = mock_record_get(i);
	assert_non_null(r);
	return r;
}

static void test_deprecate_eof(void **state)
{
	uint8_t b[2048];
	(void)state;
	struct mock_conn *c = session(CAPS_41 | CLIENT_DEPRECATE_EOF, 23306);
	query(c, "select c from t");
	msg(c, S2C, b, resultset(b, 1, 3, OK_FE, 7));
	query(c, "select c from t where 0");
	msg(c, S2C, b, resultset(b, 1, 0, OK_FE, 7));
	/* two results: the first ends with MORE_RESULTS in its OK terminator */
	query(c, "call p()");
	size_t n = resultset(b, 1, 2, (const uint8_t *)"\xfe\x00\x00\x0a\x00\x00\x00", 7);
	n = pkt(b, n, 6, OK, 7);
	msg(c, S2C, b, n);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rec(i)->status, ZT_STATUS_OK);
		assert_int_equal(rec(i)->role, ZT_ROLE_CLIENT);
		assert_string_equal(mock_record_attr(rec(i), "db.system"), "mysql");
		assert_string_equal(mock_record_attr(rec(i), "db.name"), "shop");
	}
	assert_string_equal(rec(2)->method, "CALL");
}

static void test_eof_and_multi_results(void **state)
{
	uint8_t b[2048];
	(void)state;
	struct mock_conn *c = session(CAPS_41, 23306);
	/* result, OK with MORE_RESULTS, result, ERR: one request, failed */
	query(c, "select 1; update t set a = 1; select 2; select * from nosuch");
	size_t n = resultset(b, 0, 1, (const uint8_t *)"\xfe\x00\x00\x0a\x00", 5);
	n = pkt(b, n, 5, OK_MORE, 7);
	msg(c, S2C, b, n);
	msg(c, S2C, b, resultset(b, 0, 1, (const uint8_t *)"\xfe\x00\x00\x0a\x00", 5));
	ONE(c, S2C, 9, ERR);
	/* an error while sending rows */
	query(c, "select slow()");
	msg(c, S2C, b, resultset(b, 0, 2, ERR, sizeof(ERR) - 1));
	query(c, "select 3");
	msg(c, S2C, b, resultset(b, 0, 1, EOF5, 5));
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 0);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 3);
	assert_int_equal(rec(0)->status, ZT_STATUS_FAILED);
	assert_string_equal(rec(0)->error, "ERR 1146 (42S02)");
	assert_string_equal(mock_record_attr(rec(0), "db.response.status_code"), "1146");
	assert_null(strstr(rec(0)->error, "secret")); /* never the message: it quotes names and values */
	assert_int_equal(rec(1)->status, ZT_STATUS_FAILED);
	assert_int_equal(rec(2)->status, ZT_STATUS_OK);
}

static void prepare(struct mock_conn *c, const char *sql, uint32_t id, uint16_t cols, uint16_t params, int eofs)
{
	uint8_t b[2048], ok[12] = { 0 };
	size_t n;
	b[0] = COM_STMT_PREPARE;
	memcpy(b + 1, sql, strlen(sql));
	one(c, C2S, 0, b, 1 + strlen(sql));
	memcpy(ok + 1, &id, 4); /* little endian host */
	ok[5] = (uint8_t)cols;
	ok[7] = (uint8_t)params;
	n = pkt(b, 0, 1, ok, 12);
	uint8_t seq = 2;
	for (int i = 0; i < params; i++)
		n = pkt(b, n, seq++, COLDEF, sizeof(COLDEF) - 1);
	if (params && eofs)
		n = pkt(b, n, seq++, EOF5, 5);
	for (int i = 0; i < cols; i++)
		n = pkt(b, n, seq++, COLDEF, sizeof(COLDEF) - 1);
	if (cols && eofs)
		n = pkt(b, n, seq++, EOF5, 5);
	msg(c, S2C, b, n);
}

static void execute(struct mock_conn *c, uint32_t id, int ok)
{
	uint8_t b[16] = { COM_STMT_EXECUTE };
	memcpy(b + 1, &id, 4);
	b[6] = 1;
	one(c, C2S, 0, b, 10);
	if (ok)
		one(c, S2C, 1, OK, 7);
	else
		one(c, S2C, 1, ERR, sizeof(ERR) - 1);
}

static void test_prepared(void **state)
{
	uint8_t b[16] = { COM_STMT_CLOSE, 5, 0, 0, 0 };
	(void)state;
	struct mock_conn *c = session(CAPS_41, 23306);
	prepare(c, "SELECT c FROM t WHERE id = ? AND s = 'secret'", 5, 1, 1, 1);
	prepare(c, "UPDATE t SET c = ? WHERE id = 7", 6, 0, 1, 1);
	execute(c, 5, 1);
	execute(c, 6, 0);
	execute(c, 99, 1);         /* prepared before we saw it */
	one(c, C2S, 0, b, 5);      /* COM_STMT_CLOSE 5: no answer */
	execute(c, 5, 1);          /* closed: unknown now */
	execute(c, 0xffffffffu, 1); /* MariaDB: the last prepared (6) */
	assert_int_equal(mock_conn_stats(c).pending, 0);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 7);
	assert_string_equal(rec(0)->method, "PREPARE");
	assert_string_equal(rec(0)->statement, "SELECT c FROM t WHERE id = ? AND s = ?");
	assert_string_equal(rec(2)->method, "SELECT");
	assert_string_equal(rec(2)->statement, "SELECT c FROM t WHERE id = ? AND s = ?");
	assert_string_equal(mock_record_attr(rec(2), "db.mysql.command"), "COM_STMT_EXECUTE");
	assert_string_equal(rec(3)->method, "UPDATE");
	assert_int_equal(rec(3)->status, ZT_STATUS_FAILED);
	assert_string_equal(rec(4)->method, "EXECUTE");
	assert_string_equal(rec(4)->statement, "");
	assert_string_equal(rec(5)->method, "EXECUTE");
	assert_string_equal(rec(6)->method, "UPDATE");
}

static void test_statement_table_bound(void **state)
{
	char sql[64];
	(void)state;
	struct mock_conn *c = session(CAPS_41 | CLIENT_DEPRECATE_EOF, 23306);
	for (uint32_t i = 1; i <= 5; i++) { /* max_statements is 3: 1 and 2 are forgotten */
		snprintf(sql, sizeof(sql), "DELETE FROM t%u WHERE id = ?", i);
		prepare(c, sql, i, 0, 1, 0);
	}
	for (uint32_t i = 1; i <= 5; i++)
		execute(c, i, 1);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 10);
	assert_string_equal(rec(5)->method, "EXECUTE");
	assert_string_equal(rec(6)->method, "EXECUTE");
	for (int i = 7; i < 10; i++)
		assert_string_equal(rec(i)->method, "DELETE");
	assert_string_equal(rec(9)->statement, "DELETE FROM t5 WHERE id = ?");
}

static void test_change_user_cursor_commands(void **state)
{
	uint8_t b[512];
	size_t n;
	(void)state;
	struct mock_conn *c = session(CAPS_41, 23306);
	ONE(c, C2S, 0, "\x11" "other\0" "\x00" "db\0");
	ONE(c, S2C, 1, "\xfe" "mysql_native_password\0" "abcdefghijklmnopqrst\0"); /* auth switch */
	ONE(c, C2S, 2, "01234567890123456789");
	ONE(c, S2C, 3, "\x00\x00\x00\x02\x00\x00\x00");
	ONE(c, C2S, 0, "\x0e");         /* ping */
	ONE(c, S2C, 1, "\x00\x00\x00\x02\x00\x00\x00");
	ONE(c, C2S, 0, "\x02" "shop2"); /* USE */
	ONE(c, S2C, 1, "\x00\x00\x00\x02\x00\x00\x00");
	ONE(c, C2S, 0, "\x09");         /* statistics: a bare string */
	ONE(c, S2C, 1, "Uptime: 1  Threads: 1");
	ONE(c, C2S, 0, "\x1b\x01\x00"); /* set option: EOF */
	ONE(c, S2C, 1, "\xfe\x00\x00\x02\x00");
	/* execute with a cursor: definitions and EOF with CURSOR_EXISTS, rows come with fetch */
	prepare(c, "SELECT c FROM t", 1, 1, 0, 1);
	uint8_t ex[10] = { COM_STMT_EXECUTE, 1, 0, 0, 0, 1, 1, 0, 0, 0 };
	one(c, C2S, 0, ex, 10);
	n = pkt(b, 0, 1, "\x01", 1);
	n = pkt(b, n, 2, COLDEF, sizeof(COLDEF) - 1);
	n = pkt(b, n, 3, "\xfe\x00\x00\x42\x00", 5);
	msg(c, S2C, b, n);
	ONE(c, C2S, 0, "\x1c\x01\x00\x00\x00\x10\x00\x00\x00"); /* fetch */
	n = pkt(b, 0, 1, "\x00\x00\x03" "abc", 6);
	n = pkt(b, n, 2, "\xfe\x00\x00\x82\x00", 5);
	msg(c, S2C, b, n);
	ONE(c, C2S, 0, "\x01"); /* quit: no answer, no record */
	assert_int_equal(mock_conn_stats(c).pending, 0);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 8);
	static const char *methods[] = { "COM_CHANGE_USER", "PING", "USE", "COM_STATISTICS", "COM_SET_OPTION",
					 "PREPARE", "SELECT", "FETCH" };
	for (int i = 0; i < 8; i++) {
		assert_string_equal(rec(i)->method, methods[i]);
		assert_int_equal(rec(i)->status, ZT_STATUS_OK);
	}
	assert_string_equal(mock_record_attr(rec(3), "db.name"), "shop2");
}

static void test_pipelined_and_server_side(void **state)
{
	uint8_t b[512];
	size_t n;
	(void)state;
	/* the traced process is the server: commands are read (ingress) */
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_UNKNOWN, 40000);
	struct mock_conn *c;
	ci.local_port = 23306;
	assert_int_equal(mock_conn_open(plug, &ci, &c), 0);
	static const char ver[] = "\x0a" "5.5.5-10.11.19-MariaDB\0" "\x07\x00\x00\x00" "abcdefgh\0" "\xff\xf7" "\x2d"
				  "\x02\x00" "\xff\x81" "\x15" "\0\0\0\0\0\0\0\0\0\0" "ijklmnopqrst\0";
	one(c, ZT_DIR_EGRESS, 0, ver, sizeof(ver) - 1);
	uint8_t hs[40] = { 0x00, 0x02, 0, 0 };
	one(c, ZT_DIR_INGRESS, 1, hs, 40);
	one(c, ZT_DIR_EGRESS, 2, OK, 7);
	/* two commands in one read, two answers in one write */
	n = pkt(b, 0, 0, "\x03" "select 1", 9);
	n = pkt(b, n, 0, "\x03" "select * from nosuch", 21);
	msg(c, ZT_DIR_INGRESS, b, n);
	n = resultset(b, 0, 1, EOF5, 5);
	n = pkt(b, n, 1, ERR, sizeof(ERR) - 1);
	msg(c, ZT_DIR_EGRESS, b, n);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 2);
	assert_int_equal(rec(0)->role, ZT_ROLE_SERVER);
	assert_int_equal(rec(0)->status, ZT_STATUS_OK);
	assert_int_equal(rec(1)->status, ZT_STATUS_FAILED);
	assert_string_equal(mock_record_attr(rec(0), "db.system"), "mariadb");
}

static void test_joined_late(void **state)
{
	uint8_t b[512];
	(void)state;
	/* no greeting: the command phase; commands have sequence id 0 */
	struct mock_conn *c = conn(23306);
	ONE(c, S2C, 7, "\x03" "abc"); /* the end of a result we did not see the start of */
	query(c, "select 1");
	msg(c, S2C, b, resultset(b, 0, 1, EOF5, 5));
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(rec(0)->role, ZT_ROLE_CLIENT);
	assert_string_equal(mock_record_attr(rec(0), "db.system"), "mysql");
}

static void test_lost_in_result(void **state)
{
	uint8_t b[8192];
	(void)state;
	struct mock_conn *c = session(CAPS_41, 23306);
	query(c, "select c from big");
	/* a result far larger than the capture: its end is not seen */
	size_t n = resultset(b, 0, 1000, EOF5, 5);
	assert_true(n < sizeof(b));
	uint64_t t_res = ts + 1000;
	mock_conn_message_cap(c, S2C, b, n, 256, ts += 1000);
	query(c, "select 2"); /* the next command shows the result was complete */
	msg(c, S2C, b, resultset(b, 0, 1, EOF5, 5));
	/* the same with bytes lost on the way (a full ring) */
	query(c, "select c from big");
	resultset(b, 0, 1000, EOF5, 5);
	mock_conn_message(c, S2C, b, 600, ts += 1000);
	mock_conn_lose(c, S2C, 1000);
	mock_conn_message(c, S2C, b + 1600, 1200, ts += 1000);
	uint64_t t_last = ts;
	query(c, "select 3");
	one(c, S2C, 1, ERR, sizeof(ERR) - 1);
	struct mock_l7_stats st = mock_conn_stats(c);
	assert_int_equal(st.unmatched_responses, 0);
	assert_int_equal(st.pending, 0);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 4);
	assert_int_equal(rec(0)->status, ZT_STATUS_OK);
	assert_int_equal(rec(0)->end_ns, t_res); /* the last byte read of it */
	assert_int_equal(rec(1)->status, ZT_STATUS_OK);
	assert_int_equal(rec(2)->status, ZT_STATUS_OK);
	assert_int_equal(rec(2)->end_ns, t_last);
	assert_int_equal(rec(3)->status, ZT_STATUS_FAILED);
}

static void test_big_packets(void **state)
{
	uint8_t b[64];
	(void)state;
	struct mock_conn *c = session(CAPS_41, 23306);
	/* a 16 MiB - 1 COM_QUERY packet continued by a packet of 100 bytes:
	 * both written at once, captured 64 bytes; the continuation is not a command */
	memset(b, 'a', sizeof(b));
	b[0] = 0xff, b[1] = 0xff, b[2] = 0xff, b[3] = 0, b[4] = COM_QUERY;
	memcpy(b + 5, "insert into t values ('", 23);
	mock_conn_message_cap(c, C2S, b, 0xffffffu + 4 + 104, 64, ts += 1000);
	one(c, S2C, 1, OK, 7);
	/* a continuation written on its own, whose first byte looks like a command */
	b[0] = 0xff, b[1] = 0xff, b[2] = 0xff, b[3] = 0, b[4] = COM_QUERY;
	mock_conn_message_cap(c, C2S, b, 0xffffffu + 4, 64, ts += 1000);
	uint8_t cont[8] = { 0x04, 0, 0, 1, COM_QUIT, 0, 0, 0 };
	msg(c, C2S, cont, 8);
	one(c, S2C, 1, OK, 7);
	/* a response row of 16 MiB - 1 continued: a byte 0xfe inside is not a terminator */
	query(c, "select blob from t");
	uint8_t r[64];
	size_t n = pkt(r, 0, 1, "\x01", 1);
	n = pkt(r, n, 2, COLDEF, sizeof(COLDEF) - 1);
	n = pkt(r, n, 3, EOF5, 5);
	msg(c, S2C, r, n);
	memset(r, 0xfe, sizeof(r));
	r[0] = 0xff, r[1] = 0xff, r[2] = 0xff, r[3] = 4;
	mock_conn_message_cap(c, S2C, r, 0xffffffu + 4, 64, ts += 1000);
	n = pkt(r, 0, 5, "\xfe\x00\x00", 3); /* the continuation, 3 bytes */
	n = pkt(r, n, 6, EOF5, 5);
	msg(c, S2C, r, n);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rec(i)->status, ZT_STATUS_OK);
	assert_int_equal(rec(0)->req_size, 0xffffffu + 4);
	assert_string_equal(rec(0)->statement, "insert into t values (?...");
}

static void test_handshake_ends(void **state)
{
	uint8_t hs[40] = { 0 };
	(void)state;
	/* SSLRequest: the rest is TLS, capture stops */
	struct mock_conn *c = conn(23306);
	uint8_t g[300];
	static const char ver[] = "\x0a" "8.0.36\0" "\x07\x00\x00\x00" "abcdefgh\0" "\xff\xff" "\x2d" "\x02\x00"
				  "\xff\xff" "\x15" "\0\0\0\0\0\0\0\0\0\0" "ijklmnopqrst\0";
	memcpy(g, ver, sizeof(ver) - 1);
	one(c, S2C, 0, g, sizeof(ver) - 1);
	hs[1] = 0x0a; /* PROTOCOL_41 | SSL */
	hs[0] = 0x00;
	uint32_t caps = CLIENT_PROTOCOL_41 | CLIENT_SSL;
	memcpy(hs, &caps, 4);
	assert_int_equal(one(c, C2S, 1, hs, 32), ZT_PARSE_END_OF_STREAM);
	mock_conn_close(c);
	/* access denied */
	c = conn(23306);
	one(c, S2C, 0, g, sizeof(ver) - 1);
	caps = CAPS_41 & ~CLIENT_CONNECT_WITH_DB;
	memcpy(hs, &caps, 4);
	one(c, C2S, 1, hs, 40);
	assert_int_equal(ONE(c, S2C, 2, "\xff\x15\x04#28000Access denied for user 'app'"), ZT_PARSE_IGNORED);
	mock_conn_close(c);
	/* refused before the handshake */
	c = conn(23306);
	assert_int_equal(ONE(c, S2C, 0, "\xff\x69\x04Host '10.0.0.1' is blocked"), ZT_PARSE_OK);
	mock_conn_close(c);
	/* a kernel rule matched a few bytes of something else */
	c = conn(23306);
	assert_int_equal(ONE(c, S2C, 0, "\x0a" "8.not a greeting at all"), ZT_PARSE_IGNORED);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 0);
}

static void test_compress_and_query_attributes(void **state)
{
	(void)state;
	/* compressed protocol: released once the handshake is over */
	struct mock_conn *c = conn(23306);
	static const char ver[] = "\x0a" "8.0.36\0" "\x07\x00\x00\x00" "abcdefgh\0" "\xff\xff" "\x2d" "\x02\x00"
				  "\xff\xff" "\x15" "\0\0\0\0\0\0\0\0\0\0" "ijklmnopqrst\0";
	uint8_t hs[40] = { 0 };
	uint32_t caps = CAPS_41 & ~CLIENT_CONNECT_WITH_DB;
	one(c, S2C, 0, ver, sizeof(ver) - 1);
	caps |= CLIENT_COMPRESS;
	memcpy(hs, &caps, 4);
	one(c, C2S, 1, hs, 40);
	assert_int_equal(one(c, S2C, 2, OK, 7), ZT_PARSE_END_OF_STREAM);
	mock_conn_close(c);
	/* query attributes (MySQL 8): the empty set before the SQL is skipped */
	c = conn(23306);
	one(c, S2C, 0, ver, sizeof(ver) - 1); /* server caps 0xffff...: QUERY_ATTRIBUTES on */
	caps = (CAPS_41 & ~CLIENT_CONNECT_WITH_DB) | CLIENT_QUERY_ATTRIBUTES;
	memcpy(hs, &caps, 4);
	one(c, C2S, 1, hs, 40);
	one(c, S2C, 2, OK, 7);
	ONE(c, C2S, 0, "\x03\x00\x01select 1");
	one(c, S2C, 1, OK, 7);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 1);
	assert_string_equal(rec(0)->method, "SELECT");
	assert_string_equal(rec(0)->statement, "select ?");
}

static void test_garbage(void **state)
{
	uint8_t b[4096];
	unsigned seed = 12345;
	(void)state;
	/* commands that are not commands: a parse error each, then back in sync */
	struct mock_conn *c = session(CAPS_41, 23306);
	ONE(c, C2S, 0, "\x55garbage");
	ONE(c, C2S, 0, "\xee\xee");
	query(c, "select 1");
	one(c, S2C, 1, OK, 7);
	assert_int_equal(mock_conn_stats(c).parse_errors, 2);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 1);
	/* random bytes in both directions, hostile lengths included */
	for (int round = 0; round < 200; round++) {
		c = conn(round % 2 ? 3306 : 23306);
		for (int m = 0; m < 20; m++) {
			size_t n = 0;
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 8) % sizeof(b);
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				b[i] = (uint8_t)(seed >> 16);
			}
			if (m % 3 == 0 && n > 5) { /* a plausible header with any length */
				b[3] = 0;
				b[4] = COM_QUERY;
			}
			mock_conn_message_cap(c, (seed >> 4) & 1, b, n + ((seed >> 5) & 1 ? 100000 : 0),
					      (seed >> 6) & 1 ? 64 : 0, ts += 1000);
		}
		mock_conn_close(c);
	}
	for (size_t i = 0; i < mock_frame_count(); i++) {
		const struct mock_frame *f = mock_frame_get(i);
		assert_true(f->start_ns <= f->end_ns);
		assert_null(strpbrk(f->statement, "'\""));
		for (const char *p = f->statement; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
	}
}

static void test_truncated(void **state)
{
	uint8_t b[2048];
	(void)state;
	/* the connection ends mid-result and mid-command */
	struct mock_conn *c = session(CAPS_41, 23306);
	query(c, "select c from t");
	size_t n = resultset(b, 0, 5, EOF5, 5);
	msg(c, S2C, b, n - 9);
	struct mock_l7_stats st = mock_conn_stats(c);
	assert_int_equal(st.pending, 1);
	mock_conn_close(c);
	c = session(CAPS_41, 23306);
	n = pkt(b, 0, 0, "\x03" "select 1", 9);
	msg(c, C2S, b, 6);
	st = mock_conn_stats(c);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.requests, 0);
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deprecate_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_and_multi_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_table_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_user_cursor_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_server_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_joined_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_in_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_and_query_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
