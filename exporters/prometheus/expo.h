/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format 0.0.4: a growable output buffer, the
 * number and string formatting rules of the format, the renderer that
 * walks a host snapshot, and gzip for the HTTP layer.
 *
 * Kept apart from the HTTP server so the unit test can check the exact
 * bytes without a socket. Every symbol is prefixed prom_ because the same
 * objects also link into the agent when the plugin is built in.
 */
#ifndef ZT_PROM_EXPO_H
#define ZT_PROM_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include <zerotap/host.h>

/*
 * Output buffer with a sticky error: appends after a failure are no-ops,
 * so a renderer checks `err` once at the end instead of after each call.
 */
struct prom_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit; /* PROM_BUF_DEFAULT_LIMIT after init; lower it to test */
	int err;      /* 0, -ENOMEM or -E2BIG */
};

/* A runaway registry must not take the agent's memory with it. */
#define PROM_BUF_DEFAULT_LIMIT ((size_t)256 << 20)

/* Resets b and reserves at least `hint` bytes (the last scrape's size). */
int prom_buf_init(struct prom_buf *b, size_t hint);
void prom_buf_put(struct prom_buf *b, const char *s, size_t n);
void prom_buf_puts(struct prom_buf *b, const char *s);
void prom_buf_putc(struct prom_buf *b, char c);
void prom_buf_free(struct prom_buf *b);
/* Hands the data to the caller (who frees it with free()); resets b. */
char *prom_buf_take(struct prom_buf *b, size_t *len);

/* Longest output of prom_format_double, including the NUL. */
#define PROM_DOUBLE_MAX 32

/*
 * Formats a sample value or `le` bound so that Prometheus' Go parser
 * reads back exactly v: integers below 2^53 without exponent or point,
 * others with the shortest %g precision that round-trips, and +Inf, -Inf,
 * NaN spelled as the format wants. Needs the C numeric locale (prom_render
 * sets it for its thread). Returns the length written.
 */
size_t prom_format_double(double v, char out[PROM_DOUBLE_MAX]);

/* Label value escaping (\\, \", \n); invalid UTF-8 becomes U+FFFD
 * because Prometheus rejects the whole scrape otherwise. */
void prom_put_label_value(struct prom_buf *b, struct zt_str v);
/* HELP text escaping (\\, \n). */
void prom_put_help(struct prom_buf *b, struct zt_str v);

/*
 * Renders a whole snapshot from host->metrics_collect into b.
 * Returns 0, a negative errno from the collect, or b->err.
 */
int prom_render(const struct zt_host *host, struct prom_buf *b);

/* The same, for one family and its series: the visitor's two halves,
 * exposed for tests that build views by hand. */
void prom_render_family(struct prom_buf *b, const struct zt_family_view *f);
void prom_render_series(struct prom_buf *b, const struct zt_family_view *f, const struct zt_series_view *s);

/*
 * True when an Accept-Encoding header value accepts gzip (a "gzip",
 * "x-gzip" or "*" coding with a q-value above zero, gzip's own entry
 * taking precedence over "*"). NULL is false.
 */
int prom_accepts_gzip(const char *accept_encoding);

/* Compresses in[0..n) into a new gzip member. Returns 0 or -ENOMEM/-EIO. */
int prom_gzip(const char *in, size_t n, int level, char **out, size_t *out_len);

#endif
