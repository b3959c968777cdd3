/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden streams of the HTTP plugin's tests (format in README.md, "Golden
 * tests"): loading, and replaying them through the mock host under a
 * chosen chunking, with the records written out as text lines.
 */
#ifndef ZT_HTTP_TEST_GOLDEN_H
#define ZT_HTTP_TEST_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "mock_host.h"

struct golden_stream {
	struct mock_msg *m;
	size_t n;
};

/* Loads path (plain or gzip). 0, or -errno. */
int golden_load(const char *path, struct golden_stream *s);
void golden_free(struct golden_stream *s);

/* How a replay cuts the stream into messages. */
#define CHUNK_WHOLE MOCK_CHUNK_WHOLE  /* as recorded */
#define CHUNK_BYTES MOCK_CHUNK_BYTES  /* every byte its own message */
#define CHUNK_RANDOM MOCK_CHUNK_RANDOM /* seeded random sizes, 1..capture */

struct replay_opts {
	uint32_t role;   /* ZT_ROLE_CLIENT: the client's lines are egress; SERVER: ingress */
	int chunking;    /* CHUNK_* */
	unsigned seed;   /* CHUNK_RANDOM */
	size_t capture;  /* 0: the plugin's capture_bytes */
};

struct replay_result {
	char *text;      /* one line per record: "METHOD ROUTE STATUS REQ_SIZE RESP_SIZE\n" */
	size_t records;
	int bad_times;   /* records whose end is before their start */
	int wrong_role;  /* records whose role is not the replay's */
	struct mock_l7_stats st;
};

/*
 * Replays s on a new connection of plugin p with o, closes it and fills
 * r (free r->text). Consecutive messages of one direction are joined
 * before a non-whole chunking cuts them again, so the order of the two
 * directions is kept.
 */
int golden_replay(struct mock_plugin *p, const struct golden_stream *s, const struct replay_opts *o,
		  struct replay_result *r);

/* Unescapes a golden line's payload into out (at least strlen(in) bytes); returns the length. */
size_t golden_unescape(const char *in, size_t n, uint8_t *out);

#endif
