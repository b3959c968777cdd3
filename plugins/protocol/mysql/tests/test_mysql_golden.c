// SPDX-License-Identifier: Apache-2.0
/*
 * Golden tests: real sessions recorded with testdata/capture.sh (MariaDB
 * 10.11 with the mariadb CLI, pymysql, sysbench and mysqlslap) replayed
 * through the plugin on the mock host, as the client and as the server,
 * with the role given by conn_info or left unknown on a non-default port
 * (as the agent does), cut into messages every way we know: as captured,
 * byte by byte, seeded random cuts, and with only 300 or 64 bytes
 * captured per message. Every replay must give the records tshark's
 * decode gives (the expect lines: command, SQL verb, status), with no
 * parse error, no unmatched response and no request left waiting.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "my_testlib.h"

#define RANDOM_SEEDS 6

static struct mock_plugin *plug;

static int setup(void **state)
{
	(void)state;
	return mock_plugin_start(zt_builtin_entry_mysql, NULL, NULL, &plug);
}

static int teardown(void **state)
{
	(void)state;
	mock_plugin_stop(plug);
	mock_reset();
	return 0;
}

static const char *desc(const struct replay_opts *o)
{
	static char s[128];
	snprintf(s, sizeof(s), "role %s%s port %u chunking %d seed %u capture %zu",
		 o->role == ZT_ROLE_CLIENT ? "client" : "server", o->ci_role ? "" : " (unknown)", o->port, o->chunking,
		 o->seed, o->capture);
	return s;
}

static void check(const char *name, const struct golden *g, const struct replay_opts *o)
{
	struct replay_result r;
	assert_int_equal(golden_replay(plug, g, o, &r), 0);
	if (r.count != g->nexpect || getenv("MYSQL_GOLDEN_DEBUG"))
		for (size_t i = 0; i < r.count; i++) {
			const struct mock_record *rec = mock_record_get(r.first + i);
			const char *rc = mock_record_attr(rec, "db.mysql.command");
			print_message("  %s %s %u %s | %s\n", rc ? rc : "?", rec->method, rec->status, rec->error,
				      rec->statement);
		}
	if (r.count != g->nexpect)
		fail_msg("%s, %s: %zu records, %zu expected", name, desc(o), r.count, g->nexpect);
	if (r.st.parse_errors || r.st.unmatched_responses || r.st.expired_requests || r.st.unanswered_at_close)
		fail_msg("%s, %s: parse errors %llu, unmatched responses %llu, expired %llu, unanswered %llu", name,
			 desc(o), (unsigned long long)r.st.parse_errors, (unsigned long long)r.st.unmatched_responses,
			 (unsigned long long)r.st.expired_requests, (unsigned long long)r.st.unanswered_at_close);
	for (size_t i = 0; i < r.count; i++) {
		const struct mock_record *rec = mock_record_get(r.first + i);
		char cmd[64], verb[64], status[16];
		if (sscanf(g->expect[i], "%63s %63s %15s", cmd, verb, status) != 3)
			fail_msg("%s: bad expect line %s", name, g->expect[i]);
		const char *rc = mock_record_attr(rec, "db.mysql.command"), *sys = mock_record_attr(rec, "db.system");
		const char *rs = rec->status == ZT_STATUS_OK ? "ok" : rec->status == ZT_STATUS_FAILED ? "failed" : "unknown";
		if (!rc || strcmp(rc, cmd) || strcmp(rs, status) || (strcmp(verb, "-") && strcmp(rec->method, verb)))
			fail_msg("%s, %s: record %zu is %s %s %s, expected %s", name, desc(o), i, rc ? rc : "?",
				 rec->method, rs, g->expect[i]);
		if (rec->role != o->role)
			fail_msg("%s, %s: record %zu has role %u", name, desc(o), i, rec->role);
		if (!sys || strcmp(sys, "mariadb"))
			fail_msg("%s, %s: db.system %s", name, desc(o), sys ? sys : "(none)");
		if (strpbrk(rec->statement, "'\""))
			fail_msg("%s, %s: statement not sanitized: %s", name, desc(o), rec->statement);
		if (rec->end_ns < rec->start_ns)
			fail_msg("%s, %s: record %zu ends before it starts", name, desc(o), i);
		if (rec->status == ZT_STATUS_FAILED && (!rec->error[0] || !mock_record_attr(rec, "db.response.status_code")))
			fail_msg("%s, %s: failed record %zu without its error", name, desc(o), i);
	}
	mock_frames_clear();
}

static void replay_all(const char *name, const struct golden *g)
{
	static const uint32_t roles[2] = { ZT_ROLE_CLIENT, ZT_ROLE_SERVER };
	static const size_t captures[3] = { 0, 300, 64 };
	for (int ri = 0; ri < 2; ri++) {
		for (int known = 0; known < 2; known++) {
			struct replay_opts o = { .role = roles[ri], .ci_role = known ? roles[ri] : ZT_ROLE_UNKNOWN,
						 .port = known ? 3306 : 23306 };
			for (int k = 0; k < 3; k++) {
				o.capture = captures[k];
				o.chunking = CHUNK_WHOLE;
				check(name, g, &o);
			}
			o.capture = 0;
			o.chunking = CHUNK_BYTES;
			check(name, g, &o);
			o.chunking = CHUNK_RANDOM;
			for (unsigned s = 1; s <= RANDOM_SEEDS; s++) {
				o.seed = s * 7919;
				check(name, g, &o);
			}
		}
	}
}

static void test_goldens(void **state)
{
	const char *src = getenv("ZT_SOURCE_DIR");
	char dir[1024];
	struct dirent **names;
	int n, files = 0;
	(void)state;

	snprintf(dir, sizeof(dir), "%s/plugins/protocol/mysql/testdata", src ? src : ".");
	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(names[i]->d_name);
		if (l > 7 && !strcmp(names[i]->d_name + l - 7, ".golden")) {
			char path[1400];
			struct golden g;
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			assert_int_equal(golden_load(path, &g), 0);
			assert_true(g.n > 0);
			replay_all(names[i]->d_name, &g);
			golden_free(&g);
			files++;
		}
		free(names[i]);
	}
	free(names);
	assert_true(files >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_goldens, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
