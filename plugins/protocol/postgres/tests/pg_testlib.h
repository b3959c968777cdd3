/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers of the Postgres plugin: golden captures (testdata, *.txt,
 * format in testdata/README.md) loaded and replayed through the mock host,
 * and builders of protocol messages for hand-made streams.
 */
#ifndef ZT_PG_TESTLIB_H
#define ZT_PG_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_postgres(void);

struct gseg {
	int conn;
	int from_client;
	uint64_t us;
	uint8_t *data;
	size_t len;
};

struct golden {
	struct gseg *s;
	size_t n;
	int nconns;
	char *expect; /* "conn METHOD STATUS CODE\n" lines */
};

int golden_load(const char *path, struct golden *g);
void golden_free(struct golden *g);

#define CHUNK_WHOLE 0
#define CHUNK_BYTES 1
#define CHUNK_RANDOM 2

struct replay_opts {
	uint32_t role;   /* ZT_ROLE_CLIENT: the client's segments are egress; SERVER: ingress */
	uint32_t info_role; /* the role the conn info tells the plugin (the agent: UNKNOWN) */
	int chunking;
	unsigned seed;
	size_t capture;  /* 0: the plugin's */
};

/* Replays every connection of g; the records as "conn METHOD STATUS CODE\n"
 * lines in *text (free it); stats summed into *st. */
int golden_replay(struct mock_plugin *p, const struct golden *g, const struct replay_opts *o, char **text,
		  struct mock_l7_stats *st);

/* Message builders: append to buf at *n (cap bytes); return the new length. */
size_t pgm(uint8_t *buf, size_t n, char type, const void *body, size_t blen);
size_t pgm_str(uint8_t *buf, size_t n, char type, const char *s); /* body = s + NUL */
size_t pgm_startup(uint8_t *buf, size_t n, const char *user, const char *db);
size_t pgm_code(uint8_t *buf, size_t n, uint32_t code); /* SSLRequest, GSSENCRequest: length 8 */
size_t pgm_parse(uint8_t *buf, size_t n, const char *name, const char *query);
size_t pgm_bind(uint8_t *buf, size_t n, const char *portal, const char *stmt);
size_t pgm_exec(uint8_t *buf, size_t n, const char *portal);
size_t pgm_error(uint8_t *buf, size_t n, const char *code);
size_t pgm_ready(uint8_t *buf, size_t n);
size_t pgm_complete(uint8_t *buf, size_t n, const char *tag);

#endif
