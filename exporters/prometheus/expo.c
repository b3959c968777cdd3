/* SPDX-License-Identifier: Apache-2.0 */
#include "expo.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* ---------------------------------------------------------------- buffer */

int prom_buf_init(struct prom_buf *b, size_t hint)
{
	memset(b, 0, sizeof(*b));
	b->limit = PROM_BUF_DEFAULT_LIMIT;
	b->cap = hint > 4096 ? hint : 4096;
	if (b->cap > b->limit)
		b->cap = b->limit;
	b->data = malloc(b->cap);
	if (!b->data) {
		b->cap = 0;
		b->err = -ENOMEM;
	}
	return b->err;
}

static int buf_reserve(struct prom_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (b->err)
		return b->err;
	if (extra > b->limit - b->len) {
		b->err = -E2BIG;
		return b->err;
	}
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 4096;
	while (ncap < need)
		ncap = ncap > b->limit / 2 ? b->limit : ncap * 2;
	p = realloc(b->data, ncap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

void prom_buf_put(struct prom_buf *b, const char *s, size_t n)
{
	if (!n || buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void prom_buf_puts(struct prom_buf *b, const char *s)
{
	prom_buf_put(b, s, strlen(s));
}

void prom_buf_putc(struct prom_buf *b, char c)
{
	if (buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *prom_buf_take(struct prom_buf *b, size_t *len)
{
	char *p = b->data;

	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---------------------------------------------------------------- values */

size_t prom_format_double(double v, char out[PROM_DOUBLE_MAX])
{
	int n;

	if (isnan(v))
		return (size_t)snprintf(out, PROM_DOUBLE_MAX, "NaN");
	if (isinf(v))
		return (size_t)snprintf(out, PROM_DOUBLE_MAX, v > 0 ? "+Inf" : "-Inf");
	if (v == 0)
		return (size_t)snprintf(out, PROM_DOUBLE_MAX, "0"); /* also -0: same sample */
	/* Every integer below 2^53 is exact, and "%.0f" never uses an exponent,
	 * so counters stay readable and diffable. */
	if (fabs(v) < 9007199254740992.0 && v == trunc(v))
		return (size_t)snprintf(out, PROM_DOUBLE_MAX, "%.0f", v);
	/* Shortest of 15..17 significant digits that reads back the same
	 * double: 0.1 stays "0.1" instead of "0.10000000000000001". */
	for (int prec = 15;; prec++) {
		n = snprintf(out, PROM_DOUBLE_MAX, "%.*g", prec, v);
		if (prec == 17 || strtod(out, NULL) == v)
			break;
	}
	return (size_t)n;
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 when it is invalid
 * (overlong, surrogate, above U+10FFFF or truncated). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Escapes \ and newline always, " only inside label values. */
static void put_escaped(struct prom_buf *b, struct zt_str v, int quote)
{
	const unsigned char *p = (const unsigned char *)v.ptr;
	size_t i = 0, start = 0;

	while (i < v.len) {
		const char *esc = NULL;
		size_t seq = 1;

		if (p[i] == '\\')
			esc = "\\\\";
		else if (p[i] == '\n')
			esc = "\\n";
		else if (p[i] == '"' && quote)
			esc = "\\\"";
		else if (p[i] >= 0x80 && !(seq = utf8_seq(p + i, v.len - i)))
			esc = "\xef\xbf\xbd"; /* U+FFFD for one bad byte */
		if (!esc) {
			i += seq;
			continue;
		}
		prom_buf_put(b, v.ptr + start, i - start);
		prom_buf_puts(b, esc);
		start = ++i;
	}
	prom_buf_put(b, v.ptr + start, i - start);
}

void prom_put_label_value(struct prom_buf *b, struct zt_str v)
{
	put_escaped(b, v, 1);
}

void prom_put_help(struct prom_buf *b, struct zt_str v)
{
	put_escaped(b, v, 0);
}

static void put_double(struct prom_buf *b, double v)
{
	char tmp[PROM_DOUBLE_MAX];

	prom_buf_put(b, tmp, prom_format_double(v, tmp));
}

static void put_u64(struct prom_buf *b, uint64_t v)
{
	char tmp[24];

	prom_buf_put(b, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, v));
}

/* ------------------------------------------------------------- rendering */

static const char *type_name(uint32_t type)
{
	switch (type) {
	case ZT_METRIC_COUNTER:
		return "counter";
	case ZT_METRIC_GAUGE:
		return "gauge";
	case ZT_METRIC_HISTOGRAM:
		return "histogram";
	default:
		return "untyped"; /* a type from a newer core: still scrapeable */
	}
}

void prom_render_family(struct prom_buf *b, const struct zt_family_view *f)
{
	/* An empty HELP line only adds noise; promtool reports the missing
	 * help either way. */
	if (f->help.len) {
		prom_buf_puts(b, "# HELP ");
		prom_buf_put(b, f->name.ptr, f->name.len);
		prom_buf_putc(b, ' ');
		prom_put_help(b, f->help);
		prom_buf_putc(b, '\n');
	}
	prom_buf_puts(b, "# TYPE ");
	prom_buf_put(b, f->name.ptr, f->name.len);
	prom_buf_putc(b, ' ');
	prom_buf_puts(b, type_name(f->type));
	prom_buf_putc(b, '\n');
}

/* name + suffix + {labels[,le="..."]} + ' ' */
static void put_sample_head(struct prom_buf *b, const struct zt_family_view *f, const char *suffix,
			    const struct zt_series_view *s, const char *le)
{
	int first = 1;

	prom_buf_put(b, f->name.ptr, f->name.len);
	prom_buf_puts(b, suffix);
	for (uint32_t i = 0; i < s->label_count; i++) {
		prom_buf_putc(b, first ? '{' : ',');
		first = 0;
		prom_buf_put(b, s->label_names[i].ptr, s->label_names[i].len);
		prom_buf_puts(b, "=\"");
		prom_put_label_value(b, s->label_values[i]);
		prom_buf_putc(b, '"');
	}
	if (le) {
		prom_buf_puts(b, first ? "{le=\"" : ",le=\"");
		prom_buf_puts(b, le);
		prom_buf_putc(b, '"');
		first = 0;
	}
	prom_buf_puts(b, first ? " " : "} ");
}

void prom_render_series(struct prom_buf *b, const struct zt_family_view *f, const struct zt_series_view *s)
{
	char le[PROM_DOUBLE_MAX];

	if (f->type != ZT_METRIC_HISTOGRAM) {
		put_sample_head(b, f, "", s, NULL);
		put_double(b, s->value);
		prom_buf_putc(b, '\n');
		return;
	}
	/* The snapshot already holds cumulative counts; +Inf is the total. */
	for (uint32_t i = 0; s->bucket_bounds && s->bucket_cumulative && i < s->bucket_count; i++) {
		prom_format_double(s->bucket_bounds[i], le);
		put_sample_head(b, f, "_bucket", s, le);
		put_u64(b, s->bucket_cumulative[i]);
		prom_buf_putc(b, '\n');
	}
	put_sample_head(b, f, "_bucket", s, "+Inf");
	put_u64(b, s->count);
	prom_buf_putc(b, '\n');
	put_sample_head(b, f, "_sum", s, NULL);
	put_double(b, s->sum);
	prom_buf_putc(b, '\n');
	put_sample_head(b, f, "_count", s, NULL);
	put_u64(b, s->count);
	prom_buf_putc(b, '\n');
}

static int visit_family(void *ctx, const struct zt_family_view *f)
{
	struct prom_buf *b = ctx;

	prom_render_family(b, f);
	return b->err; /* stop the walk early once the buffer failed */
}

static int visit_series(void *ctx, const struct zt_family_view *f, const struct zt_series_view *s)
{
	struct prom_buf *b = ctx;

	prom_render_series(b, f, s);
	return b->err;
}

int prom_render(const struct zt_host *host, struct prom_buf *b)
{
	static const struct zt_collect_visitor visitor = {
		.struct_size = sizeof(struct zt_collect_visitor),
		.family = visit_family,
		.series = visit_series,
	};
	locale_t c_locale, old = (locale_t)0;
	int err;

	/* The agent (or a library it loads) may call setlocale(); a decimal
	 * comma would make every fractional sample unparseable. uselocale()
	 * only affects this thread. */
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale)
		old = uselocale(c_locale);
	err = host->metrics_collect(&visitor, b);
	if (c_locale) {
		uselocale(old);
		freelocale(c_locale);
	}
	if (b->err)
		return b->err;
	return err < 0 ? err : 0;
}

/* ------------------------------------------------------------------ gzip */

/* q-value of one coding's parameters: only "is it zero" matters. */
static int q_positive(const char *params, const char *end)
{
	const char *p = params;

	while (p < end) {
		while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			for (p += 2; p < end && *p != ';'; p++)
				if (*p >= '1' && *p <= '9')
					return 1;
			return 0;
		}
		while (p < end && *p != ';')
			p++;
	}
	return 1; /* no q: q=1 */
}

int prom_accepts_gzip(const char *h)
{
	int gzip = -1, star = -1;

	if (!h)
		return 0;
	while (*h) {
		const char *tok, *tok_end, *end;

		while (*h == ' ' || *h == '\t' || *h == ',')
			h++;
		tok = h;
		end = strchr(h, ',');
		if (!end)
			end = h + strlen(h);
		tok_end = tok;
		while (tok_end < end && *tok_end != ';' && *tok_end != ' ' && *tok_end != '\t')
			tok_end++;
		size_t n = (size_t)(tok_end - tok);
		if ((n == 4 && !strncasecmp(tok, "gzip", 4)) || (n == 6 && !strncasecmp(tok, "x-gzip", 6)))
			gzip = q_positive(tok_end, end);
		else if (n == 1 && *tok == '*')
			star = q_positive(tok_end, end);
		h = end;
	}
	return gzip >= 0 ? gzip : star > 0;
}

int prom_gzip(const char *in, size_t n, int level, char **out, size_t *out_len)
{
	z_stream z;
	char *dst = NULL;
	uLong bound;
	int err = -EIO, zr;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, (uLong)n);
	if ((uLong)(uInt)n != n || (uLong)(uInt)bound != bound) {
		err = -E2BIG; /* one deflate call takes at most 4 GiB */
		goto out;
	}
	dst = malloc(bound ? bound : 1);
	if (!dst) {
		err = -ENOMEM;
		goto out;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)dst;
	z.avail_out = (uInt)bound;
	/* deflateBound guarantees one Z_FINISH call is enough. */
	zr = deflate(&z, Z_FINISH);
	if (zr != Z_STREAM_END)
		goto out;
	*out = dst;
	*out_len = z.total_out;
	dst = NULL;
	err = 0;
out:
	deflateEnd(&z);
	free(dst);
	return err;
}
