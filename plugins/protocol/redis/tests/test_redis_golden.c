// SPDX-License-Identifier: Apache-2.0
/*
 * Golden tests: real exchanges recorded with testdata/capture.sh
 * (redis-server 7.0 with redis-cli, redis-benchmark, python3-redis and a
 * plain socket client, captured by tshark on loopback) replayed through
 * the plugin on the mock host, as the client and as the server, cut into
 * messages as recorded, byte by byte and at seeded random sizes. Every cut
 * must give the "expect" lines of the file (written by hand from what the
 * client did), the pushes counted as events ("@events"), no parse error,
 * no reply without its request and no request left unanswered.
 * GOLDEN_PRINT=1 prints what each file gives.
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

#include "redis_testlib.h"

#define RANDOM_SEEDS 6

static char dir[1024];

static void check(struct mock_plugin *p, const char *name, const struct golden *g, const struct replay *o)
{
	struct replay_out r;
	const char *how = o->chunking == CHUNK_WHOLE ? "as recorded" : o->chunking == CHUNK_BYTES ? "byte by byte" : "random";
	const char *role = o->role == ZT_ROLE_CLIENT ? "client" : "server";

	assert_int_equal(golden_replay(p, g, o, &r), 0);
	if (getenv("GOLDEN_PRINT") && o->chunking == CHUNK_WHOLE && o->role == ZT_ROLE_CLIENT)
		fprintf(stderr, "== %s: %zu events\n%s", name, r.events, r.text);
	if (strcmp(g->expect, r.text))
		fail_msg("%s as %s, %s (seed %u):\nwant:\n%sgot:\n%s", name, role, how, o->seed, g->expect, r.text);
	if (r.events != g->events)
		fail_msg("%s as %s, %s (seed %u): %zu events, want %u", name, role, how, o->seed, r.events, g->events);
	if (r.st.parse_errors || r.st.unmatched_responses || r.st.pending || r.st.unanswered_at_close ||
	    r.st.expired_requests || r.st.bad_frames || r.st.lost_bytes)
		fail_msg("%s as %s, %s (seed %u): parse_errors %llu unmatched %llu pending %u unanswered %llu "
			 "expired %llu bad_frames %llu lost %llu",
			 name, role, how, o->seed, (unsigned long long)r.st.parse_errors,
			 (unsigned long long)r.st.unmatched_responses, r.st.pending,
			 (unsigned long long)r.st.unanswered_at_close, (unsigned long long)r.st.expired_requests,
			 (unsigned long long)r.st.bad_frames, (unsigned long long)r.st.lost_bytes);
	assert_int_equal(r.bad_times, 0);
	assert_int_equal(r.wrong_role, 0);
	free(r.text);
}

static void test_golden(void **state)
{
	const char *name = *state;
	char path[2048];
	struct golden g;
	struct mock_plugin *p;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(golden_load(path, &g), 0);
	assert_true(g.n > 0);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_redis, NULL, NULL, &p), 0);
	for (int rl = 0; rl < 2; rl++) {
		struct replay o = { .role = rl ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT };
		o.chunking = CHUNK_WHOLE;
		check(p, name, &g, &o);
		o.chunking = CHUNK_BYTES;
		check(p, name, &g, &o);
		o.chunking = CHUNK_RANDOM;
		for (o.seed = 1; o.seed <= RANDOM_SEEDS; o.seed++)
			check(p, name, &g, &o);
		mock_frames_clear();
	}
	mock_plugin_stop(p);
	golden_free(&g);
}

static int teardown(void **state)
{
	mock_reset();
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	const char *src = getenv("ZT_SOURCE_DIR");
	struct CMUnitTest tests[64];
	char *names[64];
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/plugins/protocol/redis/testdata", src ? src : ".");
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "no %s (set ZT_SOURCE_DIR)\n", dir);
		return 1;
	}
	while ((de = readdir(d)) && n < 64) {
		size_t l = strlen(de->d_name);
		if (l > 4 && !strcmp(de->d_name + l - 4, ".txt"))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ names[i], test_golden, NULL, teardown, names[i] };
	if (n < 10) {
		fprintf(stderr, "only %zu golden streams in %s\n", n, dir);
		return 1;
	}
	return _cmocka_run_group_tests("redis_golden", tests, n, NULL, NULL);
}
