// SPDX-License-Identifier: Apache-2.0
#include "l7_quant.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LQ_GAMMA 1.02
#define LQ_MIN 1e-6 /* seconds: bucket 0 holds everything up to here */
#define LQ_BUCKETS 1048 /* LQ_MIN * GAMMA^1047 > 1000 s; the last one holds the rest */

/* log2 of a positive finite double from its exponent and a table of the
 * mantissa's log2 with linear interpolation: within 3e-6, against the
 * 0.0286 a bucket spans (log2 1.02), so a value within 2e-6 of a bucket
 * edge may land in the neighbour bucket, whose middle is still within
 * 1 % of it. Runs once per record; libm's log() was 3 % of the agent. */
#define LQ_LOG2_BITS 8
static double lq_log2_tab[(1 << LQ_LOG2_BITS) + 1];

__attribute__((constructor)) static void lq_log2_init(void)
{
	for (int i = 0; i <= 1 << LQ_LOG2_BITS; i++)
		lq_log2_tab[i] = log2(1.0 + (double)i / (1 << LQ_LOG2_BITS));
}

static double fast_log2(double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof(u));
	int e = (int)((u >> 52) & 0x7ff) - 1023;
	/* the mantissa's fraction: the table index and the rest */
	uint64_t frac = u & 0x000fffffffffffffull;
	uint32_t k = (uint32_t)(frac >> (52 - LQ_LOG2_BITS));
	double t = (double)(frac & ((1ull << (52 - LQ_LOG2_BITS)) - 1)) / (double)(1ull << (52 - LQ_LOG2_BITS));
	return e + lq_log2_tab[k] + t * (lq_log2_tab[k + 1] - lq_log2_tab[k]);
}

static uint32_t bucket_of(double v)
{
	static const double log2_min = -19.931568569324174; /* log2(1e-6) */
	static const double inv_log2_gamma = 35.0027887811465; /* 1 / log2(1.02) */
	if (!(v > LQ_MIN))
		return 0;
	if (!(v < 1e300)) /* and infinity */
		return LQ_BUCKETS - 1;
	double i = ceil((fast_log2(v) - log2_min) * inv_log2_gamma);
	return i >= LQ_BUCKETS - 1 ? LQ_BUCKETS - 1 : i < 1 ? 1 : (uint32_t)i;
}

/* Bucket i holds (MIN * G^(i-1), MIN * G^i]: its geometric middle. */
static double value_of(uint32_t i)
{
	if (!i)
		return LQ_MIN;
	return LQ_MIN * pow(LQ_GAMMA, (double)i - 0.5);
}

void lq_init(struct lq_sketch *s, uint64_t now_ns)
{
	memset(s, 0, sizeof(*s));
	s->started_ns = now_ns;
}

void lq_free(struct lq_sketch *s)
{
	free(s->w[0].c);
	free(s->w[1].c);
	memset(s, 0, sizeof(*s));
}

/* Makes bucket b part of w's span. */
static int cover(struct lq_window *w, uint32_t b)
{
	if (w->c && b >= w->lo && b < w->lo + w->n)
		return 0;
	uint32_t lo = w->c ? (b < w->lo ? b : w->lo) : b;
	uint32_t hi = w->c ? (b >= w->lo + w->n ? b + 1 : w->lo + w->n) : b + 1;
	/* some room on the side that grew, so a drifting series does not
	 * reallocate at every new bucket */
	if (w->c && b < w->lo)
		lo = lo > 16 ? lo - 16 : 0;
	else
		hi = hi + 16 < LQ_BUCKETS ? hi + 16 : LQ_BUCKETS;
	uint32_t *c = calloc(hi - lo, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (w->c) {
		memcpy(c + (w->lo - lo), w->c, w->n * sizeof(*c));
		free(w->c);
	}
	w->c = c;
	w->lo = lo;
	w->n = hi - lo;
	return 0;
}

int lq_add(struct lq_sketch *s, double seconds)
{
	if (!(seconds >= 0))
		return 0;
	struct lq_window *w = &s->w[s->cur];
	uint32_t b = bucket_of(seconds);
	if (cover(w, b))
		return -ENOMEM;
	w->c[b - w->lo]++;
	w->count++;
	return 0;
}

void lq_rotate(struct lq_sketch *s, uint64_t now_ns, uint64_t period_ns)
{
	if (now_ns < s->started_ns + period_ns)
		return;
	/* two periods or more without a rotation: the old window is stale too */
	if (now_ns >= s->started_ns + 2 * period_ns) {
		free(s->w[s->cur].c);
		memset(&s->w[s->cur], 0, sizeof(s->w[0]));
	}
	s->cur ^= 1;
	struct lq_window *w = &s->w[s->cur];
	if (w->c)
		memset(w->c, 0, w->n * sizeof(*w->c)); /* keep the span: the same values come again */
	w->count = 0;
	s->started_ns = now_ns;
}

uint64_t lq_count(const struct lq_sketch *s)
{
	return s->w[0].count + s->w[1].count;
}

static uint32_t at(const struct lq_window *w, uint32_t b)
{
	return w->c && b >= w->lo && b < w->lo + w->n ? w->c[b - w->lo] : 0;
}

double lq_quantile(const struct lq_sketch *s, double q)
{
	uint64_t n = lq_count(s);
	if (!n || !(q >= 0) || q > 1)
		return NAN;
	uint64_t rank = (uint64_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	uint32_t lo = LQ_BUCKETS, hi = 0;
	for (int i = 0; i < 2; i++) {
		const struct lq_window *w = &s->w[i];
		if (!w->c || !w->count)
			continue;
		if (w->lo < lo)
			lo = w->lo;
		if (w->lo + w->n > hi)
			hi = w->lo + w->n;
	}
	uint64_t seen = 0;
	for (uint32_t b = lo; b < hi; b++) {
		seen += (uint64_t)at(&s->w[0], b) + at(&s->w[1], b);
		if (seen >= rank)
			return value_of(b);
	}
	return value_of(hi ? hi - 1 : 0);
}
