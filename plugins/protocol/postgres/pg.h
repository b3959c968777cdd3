/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Postgres plugin's internals, shared by its sources and its tests:
 * the wire constants (protocol 3.0, see README.md), the statement
 * sanitizer and the per-connection tables of prepared statements and
 * portals.
 */
#ifndef ZT_PG_H
#define ZT_PG_H

#include <stddef.h>
#include <stdint.h>

/* Untyped messages of the start-up phase: length, then one of these codes. */
#define PG_PROTO_V3 0x00030000u   /* StartupMessage 3.x: the major in the high 16 bits */
#define PG_CODE_CANCEL 80877102u  /* CancelRequest (length 16) */
#define PG_CODE_SSL 80877103u     /* SSLRequest (length 8) */
#define PG_CODE_GSSENC 80877104u  /* GSSENCRequest (length 8) */
#define PG_STARTUP_MAX 10000u     /* the server's own limit on a start-up packet */
#define PG_MSG_MAX (1u << 30)     /* a message's length field beyond this is garbage */

#define PG_CAPTURE 4096          /* bytes captured per read/write */
#define PG_TEXT_SCAN 2048        /* query text read from a Query or Parse */
#define PG_STMT_MAX 512          /* sanitized statement kept (bytes, with its NUL) */
#define PG_OP_MAX 32             /* db.operation */
#define PG_TABLE_MAX 64          /* db.sql.table */
#define PG_NAME_MAX 64           /* statement and portal names kept (with NUL) */
#define PG_PORTALS 16            /* named portals per connection */
#define PG_TIMEOUT_NS (600ull * 1000000000ull)
#define PG_MAX_PENDING 1024      /* requests waiting per connection */

/* A statement as the plugin keeps it: sanitized text, operation, table. */
struct pg_sql {
	char text[PG_STMT_MAX];
	char op[PG_OP_MAX];
	char table[PG_TABLE_MAX];
};

/*
 * Writes q[0..n) into out with every literal (strings, dollar-quoted
 * strings, numbers) replaced by '?', comments dropped, whitespace runs
 * made one space, bytes outside printable ASCII replaced by '?'. An
 * unterminated literal (a cut capture) ends the text with '?'. Output is
 * at most cap - 1 bytes, NUL-terminated; returns its length.
 */
size_t pg_sql_sanitize(const char *q, size_t n, char *out, size_t cap);

/* Fills s from raw query text: sanitized text, the first keyword as the
 * operation (upper case), the table for SELECT/INSERT/UPDATE/DELETE/COPY/
 * TRUNCATE where it is a plain name. */
void pg_sql_describe(const char *q, size_t n, struct pg_sql *s);

/* Per-connection tables of prepared statements (Parse/Close) and portals
 * (Bind/Close). Bounded: past max_stmts named statements the oldest is
 * forgotten. */
struct pg_stmts;
struct pg_stmts *pg_stmts_new(uint32_t max_stmts);
void pg_stmts_free(struct pg_stmts *t);
/* Parse: name "" is the unnamed statement. 0 or -errno. */
int pg_stmt_put(struct pg_stmts *t, const char *name, size_t nlen, const struct pg_sql *s);
/* The statement, or NULL when unknown (prepared before capture started, or forgotten). */
const struct pg_sql *pg_stmt_get(struct pg_stmts *t, const char *name, size_t nlen);
void pg_stmt_close(struct pg_stmts *t, const char *name, size_t nlen);
/* Bind: the portal now runs that statement (NULL: unknown). */
void pg_portal_bind(struct pg_stmts *t, const char *portal, size_t plen, const struct pg_sql *s);
const struct pg_sql *pg_portal_get(struct pg_stmts *t, const char *portal, size_t plen);
void pg_portal_close(struct pg_stmts *t, const char *portal, size_t plen);
/* Named statements kept now. */
uint32_t pg_stmts_count(const struct pg_stmts *t);

#endif
