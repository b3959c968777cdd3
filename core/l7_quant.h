/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Latency quantiles with a bounded relative error, over a sliding window.
 *
 * Histogram families with METRICS.md's default buckets cannot give a p99
 * within 10% (a bucket spans 25..50 ms). A sketch here keeps counts in
 * logarithmic buckets, each GAMMA = 1.02 times wider than the previous
 * (so any quantile it reports is within 1% of a value that was observed
 * at that rank), from 1 us to 1000 s; only the span of buckets a series
 * actually used is allocated. Two windows rotate every `period`: a
 * quantile covers the last period to two periods.
 *
 * Pure code: no locking, no clock of its own.
 */
#ifndef ZT_CORE_L7_QUANT_H
#define ZT_CORE_L7_QUANT_H

#include <stddef.h>
#include <stdint.h>

struct lq_window {
	uint32_t lo, n; /* buckets lo .. lo+n-1 held in c */
	uint32_t *c;
	uint64_t count;
};

struct lq_sketch {
	struct lq_window w[2]; /* [cur], [!cur] */
	uint32_t cur;
	uint64_t started_ns; /* when w[cur] began */
};

void lq_init(struct lq_sketch *s, uint64_t now_ns);
void lq_free(struct lq_sketch *s);
/* One value in seconds (negative and NaN values are ignored). 0, or
 * -ENOMEM (the value is not counted). */
int lq_add(struct lq_sketch *s, double seconds);
/* Starts a new window when the current one is older than period_ns. */
void lq_rotate(struct lq_sketch *s, uint64_t now_ns, uint64_t period_ns);
/* Values in both windows. */
uint64_t lq_count(const struct lq_sketch *s);
/* The q-quantile (0 <= q <= 1) of both windows, in seconds; NaN if empty.
 * The value reported is the geometric middle of the bucket holding the
 * sample at rank ceil(q * count) (the nearest-rank definition). */
double lq_quantile(const struct lq_sketch *s, double q);

#endif
