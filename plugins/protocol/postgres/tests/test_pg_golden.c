// SPDX-License-Identifier: Apache-2.0
/*
 * Golden tests: real exchanges recorded with testdata/capture.sh (postgres
 * 15, psql, pgbench in simple, extended, prepared and pipeline modes,
 * psycopg2 with COPY, TLS requested and refused, a cancel) replayed
 * through the plugin on the mock host, with the role unknown as in the
 * agent (the plugin tells the sides apart by their messages), from the
 * client's and from the server's side, cut every way: as recorded, byte
 * by byte, seeded random cuts, and as recorded with a 64-byte capture.
 * Every full cut must give exactly the records pcap2golden.py derived
 * (method, status, SQLSTATE per connection, in order) and no parse error,
 * unmatched response or request left waiting. The 64-byte capture loses
 * bytes: it must not invent requests (at most the expected ones, in
 * order, statuses may turn unknown).
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

#include "pg_testlib.h"

#define RANDOM_SEEDS 6

static char dir[1024];
static char *names[64];
static int nnames;

static void replay_one(const char *name)
{
	char path[1300];
	struct golden g;
	struct mock_plugin *p;
	static const uint32_t roles[2] = { ZT_ROLE_CLIENT, ZT_ROLE_SERVER };

	snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
	assert_int_equal(golden_load(path, &g), 0);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_postgres, NULL, NULL, &p), 0);
	for (int r = 0; r < 2; r++) {
		for (int cut = 0; cut < 2 + RANDOM_SEEDS; cut++) {
			struct replay_opts o = { .role = roles[r], .info_role = cut == 1 ? roles[r] : ZT_ROLE_UNKNOWN };
			struct mock_l7_stats st;
			char *text;
			o.chunking = cut == 0 ? CHUNK_WHOLE : cut == 1 ? CHUNK_BYTES : CHUNK_RANDOM;
			o.seed = (unsigned)cut * 7919u;
			assert_int_equal(golden_replay(p, &g, &o, &text, &st), 0);
			if (strcmp(text, g.expect) || st.parse_errors || st.unmatched_responses || st.unanswered_at_close ||
			    st.bad_frames)
				fail_msg("%s role %u cut %d: records\n%s\nexpected\n%s\nparse errors %llu unmatched %llu "
					 "unanswered %llu bad %llu",
					 name, roles[r], cut, text, g.expect, (unsigned long long)st.parse_errors,
					 (unsigned long long)st.unmatched_responses, (unsigned long long)st.unanswered_at_close,
					 (unsigned long long)st.bad_frames);
			free(text);
			mock_frames_clear();
		}
		/* a 64-byte capture: bytes are lost, requests must not be invented */
		struct replay_opts o = { .role = roles[r], .info_role = ZT_ROLE_UNKNOWN, .chunking = CHUNK_WHOLE,
					 .capture = 64 };
		struct mock_l7_stats st;
		char *text;
		assert_int_equal(golden_replay(p, &g, &o, &text, &st), 0);
		assert_true(st.requests <= (uint64_t)(strlen(g.expect) ? 1000 : 0));
		size_t want = 0, got = 0;
		for (const char *q = g.expect; *q; q++)
			want += *q == '\n';
		for (const char *q = text; *q; q++)
			got += *q == '\n';
		if (got > want)
			fail_msg("%s capture 64: %zu records, %zu expected\n%s", name, got, want, text);
		if (st.unmatched_responses)
			fail_msg("%s role %u capture 64: %llu unmatched responses; records\n%s", name, roles[r],
				 (unsigned long long)st.unmatched_responses, text);
		free(text);
		mock_frames_clear();
	}
	mock_plugin_stop(p);
	golden_free(&g);
	mock_reset();
}

static void test_golden(void **state)
{
	replay_one(*state);
}

int main(void)
{
	const char *src = getenv("ZT_SOURCE_DIR");
	struct CMUnitTest tests[64];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/plugins/protocol/postgres/testdata", src ? src : ".");
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "no %s (set ZT_SOURCE_DIR)\n", dir);
		return 1;
	}
	while ((de = readdir(d)) && nnames < 64) {
		size_t l = strlen(de->d_name);
		if (l > 4 && !strcmp(de->d_name + l - 4, ".txt")) {
			names[nnames] = strndup(de->d_name, l - 4);
			tests[nnames] = (struct CMUnitTest){ names[nnames], test_golden, NULL, NULL, names[nnames] };
			nnames++;
		}
	}
	closedir(d);
	if (nnames < 8) {
		fprintf(stderr, "only %d golden files in %s\n", nnames, dir);
		return 1;
	}
	return _cmocka_run_group_tests("postgres_golden", tests, (size_t)nnames, NULL, NULL);
}
