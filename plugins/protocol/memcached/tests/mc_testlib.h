/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers of the memcached plugin: golden streams (testdata/README.md)
 * and replaying bytes through the mock host under a chosen chunking, with
 * the records written out as text lines.
 */
#ifndef ZT_MC_TESTLIB_H
#define ZT_MC_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_memcached(void);

struct golden_conn {
	struct mock_msg *m;
	size_t n, cap;
};

struct golden {
	struct golden_conn *c;
	size_t n;
	char client[256]; /* the "client" line: what the client counted */
	char server[512]; /* the "server" line: stats counters moved */
};

/* Loads a golden file (gzip or plain). 0, or -errno. */
int golden_load(const char *path, struct golden *g);
void golden_free(struct golden *g);

#define CHUNK_WHOLE MOCK_CHUNK_WHOLE  /* as recorded, with the plugin's capture */
#define CHUNK_BYTES MOCK_CHUNK_BYTES  /* every byte its own message */
#define CHUNK_RANDOM MOCK_CHUNK_RANDOM /* seeded random sizes */

struct replay {
	uint32_t role;  /* ZT_ROLE_CLIENT: the client's messages are egress */
	int chunking;
	unsigned seed;
	size_t capture; /* 0: the plugin's */
};

/* Per-replay totals, from the records. */
struct replay_sum {
	char *text;        /* one line per record: "METHOD STATUS[ oneway] STATEMENT | REQ RESP" */
	size_t records, oneway, ok, failed, unknown;
	size_t storage_ok; /* set/add/replace/append/prepend/cas records not failed (server: cmd_set) */
	size_t get_keys;   /* keys of get/gets records (server: cmd_get) */
	size_t touch;      /* touch, gat, gats records (server: cmd_touch) */
	int bad_times, wrong_role;
	struct mock_l7_stats st; /* summed over the connections */
};

int replay_golden(struct mock_plugin *p, const struct golden *g, const struct replay *o, struct replay_sum *r);
void replay_sum_free(struct replay_sum *r);

/* The value of "name N" in a counts line, or -1. */
long counts_get(const char *line, const char *name);

#endif
