/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the Redis plugin's tests: golden streams (testdata/NAME.txt,
 * format in README.md "Golden tests") and their replay through the mock
 * host under a chosen chunking, with the records written as text lines
 * "OPERATION STATUS".
 */
#ifndef ZT_REDIS_TESTLIB_H
#define ZT_REDIS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_redis(void);

struct golden {
	struct mock_msg *m;
	size_t n;
	char *expect; /* "OP STATUS\n" lines */
	unsigned events; /* "@events N": pushes and extra confirmations expected */
};

int golden_load(const char *path, struct golden *g);
void golden_free(struct golden *g);

#define CHUNK_WHOLE MOCK_CHUNK_WHOLE  /* as recorded */
#define CHUNK_BYTES MOCK_CHUNK_BYTES  /* every byte its own message */
#define CHUNK_RANDOM MOCK_CHUNK_RANDOM /* seeded random sizes */

struct replay {
	uint32_t role;
	int chunking;
	unsigned seed;
	size_t capture; /* 0: the plugin's */
};

struct replay_out {
	char *text;        /* one "OP STATUS" line per record */
	size_t records, events;
	int bad_times, wrong_role;
	struct mock_l7_stats st;
};

int golden_replay(struct mock_plugin *p, const struct golden *g, const struct replay *o, struct replay_out *r);
/* The records from index `first` on, as "OP STATUS" lines (caller frees). */
char *records_text(size_t first);

#endif
