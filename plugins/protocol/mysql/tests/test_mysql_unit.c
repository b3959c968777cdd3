// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the MySQL plugin's pieces: the SQL sanitizer and verb,
 * command names, detection (detect() and the kernel rules as the mock
 * applies them, on real and crafted greetings) and the config schema.
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

static void san(const char *in, const char *want)
{
	char out[MY_STATEMENT_MAX];
	my_sql_sanitize((const uint8_t *)in, strlen(in), 0, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("sanitize(%s) = \"%s\", expected \"%s\"", in, out, want);
}

static void test_sanitize(void **state)
{
	(void)state;
	san("select * from t where id = 42", "select * from t where id = ?");
	san("SELECT a FROM t1 WHERE b='x' AND c=\"y\"", "SELECT a FROM t1 WHERE b=? AND c=?");
	san("insert into t values ('it''s', 'a\\'b', \"q\"\"q\")", "insert into t values (?, ?, ?)");
	san("select -1.5e+10, .5, 0x1F, 3", "select -?, ?, ?, ?");
	san("select x'414243', X'00', b'0101', N'nat', _utf8mb4'in'", "select ?, ?, ?, ?, ?");
	san("select `weird 1`, t2.c3 from `db`.`t2`", "select `weird 1`, t2.c3 from `db`.`t2`");
	san("select 1 /* secret 'x' */ from dual -- trailing 'y'\n where a = 2 # more",
	    "select ? from dual where a = ?");
	san("  select\n\t1\r\n", "select ?");
	san("select 'unterminated secret", "select ?...");
	san("select \"esc at end\\", "select ?...");
	san("select name from t where n = 'caf\xc3\xa9'", "select name from t where n = ?");
	san("select col\xc3\xa9 from t", "select col?? from t");
	san("SELECT intcol1 FROM t1", "SELECT intcol1 FROM t1"); /* mysqlslap: a NUL ends it */
	san("", "");
}

static void test_sanitize_bounds(void **state)
{
	char in[5000], out[MY_STATEMENT_MAX], small[8];
	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = "select a,"[i % 9];
	size_t n = my_sql_sanitize((const uint8_t *)in, sizeof(in), 0, out, sizeof(out));
	assert_int_equal(n, sizeof(out) - 1);
	assert_int_equal(strlen(out), n);
	assert_string_equal(out + n - 3, "...");
	/* a cut capture is marked too, and no secret survives a tiny buffer */
	n = my_sql_sanitize((const uint8_t *)"select 'secret'", 15, 1, small, sizeof(small));
	assert_int_equal(n, 7);
	assert_string_equal(small, "sele...");
	assert_int_equal(my_sql_sanitize((const uint8_t *)"x", 1, 0, small, 0), 0);
	n = my_sql_sanitize((const uint8_t *)"select 1", 8, 1, out, sizeof(out));
	assert_string_equal(out, "select ?...");
	/* every byte of garbage stays printable */
	for (size_t i = 0; i < 256; i++)
		in[i] = (char)i;
	my_sql_sanitize((const uint8_t *)in, 256, 0, out, sizeof(out));
	for (const char *p = out; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void verb(const char *in, const char *want)
{
	char out[MY_VERB_MAX];
	my_sql_verb(in, out);
	if (strcmp(out, want))
		fail_msg("verb(%s) = \"%s\", expected \"%s\"", in, out, want);
}

static void test_verb(void **state)
{
	(void)state;
	verb("select ?", "SELECT");
	verb(" ((Select ?))", "SELECT");
	verb("insert into t", "INSERT");
	verb("select1x from t", "");
	verb("? + ?", "");
	verb("", "");
	verb("averyveryveryverylongkeywordthatgoeson", "");
	verb("SET AUTOCOMMIT = ?", "SET");
}

static void test_command_names(void **state)
{
	(void)state;
	assert_string_equal(my_command_name(COM_QUERY), "COM_QUERY");
	assert_string_equal(my_command_name(COM_STMT_EXECUTE), "COM_STMT_EXECUTE");
	assert_string_equal(my_command_name(COM_RESET_CONNECTION), "COM_RESET_CONNECTION");
	assert_string_equal(my_command_name(COM_STMT_BULK_EXECUTE), "COM_STMT_BULK_EXECUTE");
	assert_null(my_command_name(0x20));
	assert_null(my_command_name(0xff));
}

/* A greeting packet with the given version string, as a server writes it. */
static size_t greeting(uint8_t *buf, const char *version)
{
	uint8_t p[256];
	size_t n = 0, vl = strlen(version);
	p[n++] = 0x0a;
	memcpy(p + n, version, vl + 1);
	n += vl + 1;
	memcpy(p + n, "\x07\x00\x00\x00" "abcdefgh" "\x00" "\xfe\xf7" "\x2d" "\x02\x00" "\xff\x81" "\x15", 19);
	n += 19;
	memset(p + n, 0, 10);
	n += 10;
	memcpy(p + n, "ijklmnopqrst\0mysql_native_password\0", 35);
	n += 35;
	return pkt(buf, 0, 0, p, n);
}

static void test_detection(void **state)
{
	struct mock_plugin *p;
	uint8_t g[300];
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_UNKNOWN, 23306), ci3306 = mock_conn_info(ZT_ROLE_UNKNOWN, 3306);
	static const uint8_t query[] = "\x09\x00\x00\x00\x03select 1";
	static const uint8_t ping[] = "\x01\x00\x00\x00\x0e";
	(void)state;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_mysql, NULL, NULL, &p), 0);
	/* the versions of MariaDB (5.5.5- prefix), MySQL 8 and a two-digit major claim in the kernel */
	static const char *versions[] = { "5.5.5-10.11.19-MariaDB-0+deb12u1", "8.0.36", "11.4.2-MariaDB" };
	for (int i = 0; i < 3; i++) {
		size_t n = greeting(g, versions[i]);
		assert_int_equal(mock_rules_match(p, &ci, ZT_DIR_INGRESS, g, n), ZT_RULE_CLAIM);
		assert_int_equal(mock_rules_match(p, &ci, ZT_DIR_EGRESS, g, n), ZT_RULE_CLAIM);
		assert_int_equal(mock_detect(p, &ci, ZT_DIR_INGRESS, g, n), ZT_DETECT_YES);
		/* cut, or with bytes after it: not a lone greeting */
		assert_int_equal(mock_detect(p, &ci, ZT_DIR_INGRESS, g, n - 30), ZT_DETECT_MAYBE);
	}
	/* an odd version only asks detect(), which checks the whole packet */
	size_t n = greeting(g, "v9-custom");
	assert_int_equal(mock_rules_match(p, &ci, ZT_DIR_INGRESS, g, n), ZT_RULE_ASK);
	assert_int_equal(mock_detect(p, &ci, ZT_DIR_INGRESS, g, n), ZT_DETECT_YES);
	g[6] = 0x01; /* a control byte in the version */
	assert_int_equal(mock_detect(p, &ci, ZT_DIR_INGRESS, g, n), ZT_DETECT_MAYBE);
	/* other protocols' first messages */
	static const char *others[] = { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "*1\r\n$4\r\nPING\r\n",
					"\x00\x00\x00\x08\x04\xd2\x16\x2f", "SSH-2.0-OpenSSH_9.2\r\n" };
	for (int i = 0; i < 4; i++) {
		size_t l = strlen(others[i]) ? strlen(others[i]) : 8;
		assert_int_equal(mock_rules_match(p, &ci, ZT_DIR_EGRESS, others[i], l), 0);
		assert_int_equal(mock_detect(p, &ci, ZT_DIR_EGRESS, others[i], l), ZT_DETECT_MAYBE);
	}
	/* a connection older than the agent: commands on the server port only */
	assert_int_equal(mock_rules_match(p, &ci3306, ZT_DIR_EGRESS, query, sizeof(query) - 1), ZT_RULE_ASK);
	assert_int_equal(mock_rules_match(p, &ci, ZT_DIR_EGRESS, query, sizeof(query) - 1), 0);
	assert_int_equal(mock_detect(p, &ci3306, ZT_DIR_EGRESS, query, sizeof(query) - 1), ZT_DETECT_YES);
	assert_int_equal(mock_detect(p, &ci3306, ZT_DIR_EGRESS, ping, sizeof(ping) - 1), ZT_DETECT_YES);
	assert_int_equal(mock_detect(p, &ci, ZT_DIR_EGRESS, query, sizeof(query) - 1), ZT_DETECT_MAYBE);
	assert_int_equal(mock_detect(p, &ci3306, ZT_DIR_EGRESS, query, sizeof(query) - 3), ZT_DETECT_MAYBE);
	mock_plugin_stop(p);
	mock_reset();
}

static void test_config(void **state)
{
	struct mock_plugin *p;
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_UNKNOWN, 13306);
	static const uint8_t query[] = "\x09\x00\x00\x00\x03select 1";
	(void)state;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_mysql, NULL, "{\"port\": 13306, \"max_statements\": 4}", &p),
			 0);
	assert_int_equal(mock_detect(p, &ci, ZT_DIR_EGRESS, query, sizeof(query) - 1), ZT_DETECT_YES);
	assert_int_equal(mock_rules_match(p, &ci, ZT_DIR_EGRESS, query, sizeof(query) - 1), ZT_RULE_ASK);
	mock_plugin_stop(p);
	assert_int_not_equal(mock_plugin_start(zt_builtin_entry_mysql, NULL, "{\"port\": 0}", &p), 0);
	assert_int_not_equal(mock_plugin_start(zt_builtin_entry_mysql, NULL, "{\"max_statements\": -1}", &p), 0);
	assert_int_not_equal(mock_plugin_start(zt_builtin_entry_mysql, NULL, "{\"prot\": 3306}", &p), 0);
	assert_true(mock_log_contains("prot"));
	mock_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),     cmocka_unit_test(test_sanitize_bounds),
		cmocka_unit_test(test_verb),         cmocka_unit_test(test_command_names),
		cmocka_unit_test(test_detection),    cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
