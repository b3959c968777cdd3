/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers of the MySQL plugin: golden streams (testdata/NAME.golden,
 * format in testdata/README.md) loaded and replayed through the mock
 * host under a chosen chunking, and packet builders for crafted streams.
 */
#ifndef ZT_MYSQL_TESTLIB_H
#define ZT_MYSQL_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_mysql(void);

struct golden {
	struct mock_msg *m;
	size_t n;
	char **expect; /* "COMMAND VERB STATUS" */
	size_t nexpect;
};

/* 0, or -errno. */
int golden_load(const char *path, struct golden *g);
void golden_free(struct golden *g);

#define CHUNK_WHOLE MOCK_CHUNK_WHOLE  /* as captured */
#define CHUNK_BYTES MOCK_CHUNK_BYTES  /* one byte per message */
#define CHUNK_RANDOM MOCK_CHUNK_RANDOM /* seeded random sizes */

struct replay_opts {
	uint32_t role;    /* the traced process: ZT_ROLE_CLIENT or ZT_ROLE_SERVER */
	uint32_t ci_role; /* what conn_info says (the agent says ZT_ROLE_UNKNOWN) */
	uint16_t port;    /* the server port in conn_info */
	int chunking;
	unsigned seed;
	size_t capture; /* 0: the plugin's */
};

struct replay_result {
	struct mock_l7_stats st;
	size_t first, count; /* records made: mock_record_get(first .. first + count) */
};

int golden_replay(struct mock_plugin *p, const struct golden *g, const struct replay_opts *o, struct replay_result *r);

/* Appends one packet (header + payload) to buf at *n; returns the new length. */
size_t pkt(uint8_t *buf, size_t n, uint8_t seq, const void *payload, size_t len);

#endif
