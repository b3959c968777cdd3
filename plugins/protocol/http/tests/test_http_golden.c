// SPDX-License-Identifier: Apache-2.0
/*
 * Golden tests: real exchanges recorded with testdata/capture/capture.sh
 * (nginx, curl, Python's http.server) replayed through the plugin on the
 * mock host, as the client and as the server, cut into messages every way
 * we know: as recorded (with the plugin's capture, so large bodies are
 * not captured), byte by byte, and several seeded random cuts. Every cut
 * must give the records of <name>.expect, and no parse error, no
 * unmatched response and no request left waiting. With "@small-capture N"
 * (up to four) the recorded cut is also replayed with only N bytes
 * captured per message: with 400 the heads are still whole and bodies
 * unseen; with 64 most heads are cut too, and only start lines are left to
 * make records from. Either must give the same methods, routes and
 * statuses.
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

#include "golden.h"
#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_http(void);

#define RANDOM_SEEDS 6

static char dir[1024];

struct expect {
	char *records; /* the record lines, each ending in \n */
	size_t small_capture[4];
	int nsmall;
};

static void load_expect(const char *path, struct expect *e)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t cap = 4096, n = 0;

	memset(e, 0, sizeof(*e));
	assert_non_null(f);
	e->records = calloc(1, cap);
	assert_non_null(e->records);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '@') {
			unsigned long v;
			if (sscanf(line, "@small-capture %lu", &v) == 1 && e->nsmall < 4)
				e->small_capture[e->nsmall++] = v;
			else
				fail_msg("%s: unknown option %s", path, line);
			continue;
		}
		size_t l = strlen(line);
		if (n + l + 1 > cap)
			fail_msg("%s: too many records", path);
		memcpy(e->records + n, line, l + 1);
		n += l;
	}
	fclose(f);
}

/* The first three fields (method, route, status) of every line. */
static char *first3(const char *text)
{
	char *out = calloc(1, strlen(text) + 1), *o = out;
	assert_non_null(out);
	for (const char *p = text; *p;) {
		int fields = 0;
		for (; *p && *p != '\n'; p++) {
			if (*p == ' ' && ++fields == 3) {
				while (*p && *p != '\n')
					p++;
				break;
			}
			*o++ = *p;
		}
		if (*p == '\n') {
			*o++ = '\n';
			p++;
		}
	}
	*o = 0;
	return out;
}

static const char *chunking_name(int c)
{
	return c == CHUNK_WHOLE ? "as recorded" : c == CHUNK_BYTES ? "byte by byte" : "random";
}

static void check(struct mock_plugin *p, const char *name, const struct golden_stream *s, const struct expect *e,
		  const struct replay_opts *o, int loose)
{
	struct replay_result r;
	assert_int_equal(golden_replay(p, s, o, &r), 0);
	const char *how = chunking_name(o->chunking);
	const char *role = o->role == ZT_ROLE_CLIENT ? "client" : "server";
	if (loose) {
		char *want = first3(e->records), *got = first3(r.text);
		if (strcmp(want, got))
			fail_msg("%s as %s, %s, capture %zu:\nwant:\n%sgot:\n%s", name, role, how, o->capture, want, got);
		free(want);
		free(got);
	} else {
		if (strcmp(e->records, r.text))
			fail_msg("%s as %s, %s (seed %u):\nwant:\n%sgot:\n%s", name, role, how, o->seed, e->records,
				 r.text);
		if (r.st.parse_errors || r.st.unmatched_responses || r.st.pending || r.st.unanswered_at_close ||
		    r.st.expired_requests || r.st.bad_frames)
			fail_msg("%s as %s, %s (seed %u): parse_errors %llu unmatched %llu pending %u unanswered %llu "
				 "expired %llu bad_frames %llu",
				 name, role, how, o->seed, (unsigned long long)r.st.parse_errors,
				 (unsigned long long)r.st.unmatched_responses, r.st.pending,
				 (unsigned long long)r.st.unanswered_at_close, (unsigned long long)r.st.expired_requests,
				 (unsigned long long)r.st.bad_frames);
	}
	if (getenv("GOLDEN_VERBOSE"))
		fprintf(stderr, "%s %s %s seed %u cap %zu: %zu records, %llu parse calls, %llu lost bytes, %llu resyncs\n", name, role, how, o->seed, o->capture, r.records, (unsigned long long)r.st.parse_calls, (unsigned long long)r.st.lost_bytes, (unsigned long long)r.st.resyncs);
	assert_int_equal(r.bad_times, 0);
	assert_int_equal(r.wrong_role, 0);
	free(r.text);
}

static void test_golden(void **state)
{
	const char *name = *state;
	char path[2048];
	struct golden_stream s;
	struct expect e;
	struct mock_plugin *p;

	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	load_expect(path, &e);
	snprintf(path, sizeof(path), "%s/%s.http", dir, name);
	if (golden_load(path, &s)) {
		snprintf(path, sizeof(path), "%s/%s.http.gz", dir, name);
		assert_int_equal(golden_load(path, &s), 0);
	}
	assert_true(s.n > 0);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_http, NULL, NULL, &p), 0);
	for (int rl = 0; rl < 2; rl++) {
		struct replay_opts o = { .role = rl ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT };
		o.chunking = CHUNK_WHOLE;
		check(p, name, &s, &e, &o, 0);
		o.chunking = CHUNK_BYTES;
		check(p, name, &s, &e, &o, 0);
		o.chunking = CHUNK_RANDOM;
		for (o.seed = 1; o.seed <= RANDOM_SEEDS; o.seed++)
			check(p, name, &s, &e, &o, 0);
		for (int k = 0; k < e.nsmall; k++) {
			o.chunking = CHUNK_WHOLE;
			o.seed = 0;
			o.capture = e.small_capture[k];
			check(p, name, &s, &e, &o, 1);
		}
		mock_frames_clear();
	}
	mock_plugin_stop(p);
	golden_free(&s);
	free(e.records);
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

	snprintf(dir, sizeof(dir), "%s/plugins/protocol/http/testdata", src ? src : ".");
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "no %s (set ZT_SOURCE_DIR)\n", dir);
		return 1;
	}
	while ((de = readdir(d)) && n < 64) {
		size_t l = strlen(de->d_name);
		if (l > 7 && !strcmp(de->d_name + l - 7, ".expect"))
			names[n++] = strndup(de->d_name, l - 7);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ names[i], test_golden, NULL, teardown, names[i] };
	if (n < 10) {
		fprintf(stderr, "only %zu golden streams in %s\n", n, dir);
		return 1;
	}
	return _cmocka_run_group_tests("http_golden", tests, n, NULL, NULL);
}
