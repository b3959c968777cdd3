/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source positions for JSON text.
 *
 * jansson keeps no positions for object keys or values once parsing
 * succeeds, yet config errors must say FILE:LINE:COL. This scanner walks
 * the same text a second time and records, for every value, its path and
 * where its key and the value itself start.
 *
 * Paths are JSON pointers (RFC 6901): "" is the root, "/a/b" is key "b" of
 * object "a", "/a/0" the first element of array "a"; in a key, '~' is
 * written "~0" and '/' "~1". Keys are compared after decoding escapes, so
 * "\u0061" and "a" are the same key, as they are for jansson.
 *
 * Lines and columns are 1-based; columns count characters (UTF-8 lead
 * bytes), the way jansson counts them in its own errors.
 *
 * Meant for text jansson has already accepted (or rejected only for a
 * duplicate key); on anything else it fails cleanly with -EINVAL.
 */
#ifndef ZEROTAP_CORE_JSONPOS_H
#define ZEROTAP_CORE_JSONPOS_H

#include <stddef.h>

struct jsonpos_ent {
	char *path;
	int key_line, key_col; /* 0 for array elements and the root */
	int val_line, val_col;
	size_t seq;            /* order of appearance in the text */
};

struct jsonpos {
	struct jsonpos_ent *ent; /* sorted by path, then seq */
	size_t n;
};

/* Scans text[0..len). Returns 0, -EINVAL (not JSON, or nested deeper than
 * jansson allows) or -ENOMEM. */
int jsonpos_build(const char *text, size_t len, struct jsonpos **out);
void jsonpos_free(struct jsonpos *jp);

/* The first occurrence of a path, or NULL. */
const struct jsonpos_ent *jsonpos_find(const struct jsonpos *jp, const char *path);

/* Same, with the path given as raw (unescaped) segments ending in NULL:
 * jsonpos_findv(jp, "plugins", name, "config", key, NULL). NULL when absent
 * or out of memory: positions only decorate messages. */
const struct jsonpos_ent *jsonpos_findv(const struct jsonpos *jp, ...) __attribute__((sentinel));

/* A key that occurs twice in one object: *first and *second are its first
 * two occurrences. Returns 1 if there is one, else 0. With several, the one
 * whose second occurrence comes first in the text. */
int jsonpos_duplicate(const struct jsonpos *jp, const struct jsonpos_ent **first,
		      const struct jsonpos_ent **second);

#endif
