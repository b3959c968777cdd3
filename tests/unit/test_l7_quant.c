/* SPDX-License-Identifier: Apache-2.0 */
/* Latency quantile sketch (core/l7_quant.c): relative error, windows. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "l7_quant.h"

#define SEC 1000000000ull

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* nearest rank */
static double exact(double *v, size_t n, double q)
{
	size_t r = (size_t)ceil(q * (double)n);
	return v[(r ? r : 1) - 1];
}

static void check(const struct lq_sketch *s, double *v, size_t n, double q)
{
	double want = exact(v, n, q), got = lq_quantile(s, q);
	if (fabs(got - want) > 0.0101 * want)
		fail_msg("q%.3f: sketch %.9g, exact %.9g", q, got, want);
}

/* Values spread over six decades, added in random order, in ascending
 * order (the span grows upward) and descending (it grows downward). */
static void test_error_bound(void **state)
{
	(void)state;
	enum { N = 20000 };
	static double v[N];
	static const double qs[] = { 0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1 };
	for (int order = 0; order < 3; order++) {
		struct lq_sketch s;
		lq_init(&s, 0);
		srand(7);
		for (size_t i = 0; i < N; i++)
			v[i] = 2e-6 * pow(10, 6.0 * rand() / RAND_MAX);
		if (order)
			qsort(v, N, sizeof(v[0]), cmp);
		for (size_t i = 0; i < N; i++)
			assert_int_equal(lq_add(&s, order == 2 ? v[N - 1 - i] : v[i]), 0);
		qsort(v, N, sizeof(v[0]), cmp);
		assert_int_equal(lq_count(&s), N);
		for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++)
			check(&s, v, N, qs[k]);
		lq_free(&s);
	}
}

/* A tight cluster (20 ms +- 1 %) and a tail: p50 and p99 apart. */
static void test_cluster_and_tail(void **state)
{
	(void)state;
	struct lq_sketch s;
	double v[1000];
	lq_init(&s, 0);
	for (int i = 0; i < 1000; i++) {
		v[i] = i < 980 ? 0.0198 + 0.0004 * (i % 10) / 10 : 0.2 + 0.001 * (i - 980);
		lq_add(&s, v[i]);
	}
	qsort(v, 1000, sizeof(v[0]), cmp);
	check(&s, v, 1000, 0.5);
	check(&s, v, 1000, 0.99);
	assert_true(lq_quantile(&s, 0.99) > 0.19);
	/* out of range and bad values */
	lq_add(&s, 0);
	lq_add(&s, 1e9);
	lq_add(&s, -1);
	lq_add(&s, NAN);
	assert_int_equal(lq_count(&s), 1002);
	assert_true(lq_quantile(&s, 1) > 999);
	assert_true(lq_quantile(&s, 0) <= 1e-6);
	assert_true(isnan(lq_quantile(&s, 1.5)));
	lq_free(&s);
}

/* The window: values older than two periods are gone; one period back
 * they still count. */
static void test_windows(void **state)
{
	(void)state;
	struct lq_sketch s;
	lq_init(&s, 100 * SEC);
	assert_true(isnan(lq_quantile(&s, 0.5)));
	for (int i = 0; i < 100; i++)
		lq_add(&s, 0.001);
	lq_rotate(&s, 105 * SEC, 10 * SEC); /* too early: nothing moves */
	assert_int_equal(lq_count(&s), 100);
	lq_rotate(&s, 110 * SEC, 10 * SEC);
	for (int i = 0; i < 100; i++)
		lq_add(&s, 0.1);
	assert_int_equal(lq_count(&s), 200);
	assert_true(fabs(lq_quantile(&s, 0.25) - 0.001) < 0.00002);
	assert_true(fabs(lq_quantile(&s, 0.75) - 0.1) < 0.002);
	lq_rotate(&s, 120 * SEC, 10 * SEC); /* the 1 ms window is gone */
	assert_int_equal(lq_count(&s), 100);
	assert_true(fabs(lq_quantile(&s, 0.01) - 0.1) < 0.002);
	lq_rotate(&s, 145 * SEC, 10 * SEC); /* idle for two periods: empty */
	assert_int_equal(lq_count(&s), 0);
	assert_true(isnan(lq_quantile(&s, 0.5)));
	lq_add(&s, 0.05);
	assert_true(fabs(lq_quantile(&s, 0.5) - 0.05) < 0.0006);
	lq_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_cluster_and_tail),
		cmocka_unit_test(test_windows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
