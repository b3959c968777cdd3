/* SPDX-License-Identifier: Apache-2.0 */
/* The metric registry: families, series, caps and overflow, snapshots. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"

#define S(x) ((struct zt_str){ (x), strlen(x) })

static int setup(void **state)
{
	struct registry *r;
	if (registry_new(100, &r))
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	registry_free(*state);
	return 0;
}

static zt_metric *reg(struct registry *r, uint32_t type, const char *name, const char *const *labels, uint32_t n,
		      uint32_t cap)
{
	struct zt_metric_desc d = { sizeof(d), type, name, "help text", labels, n, cap };
	zt_metric *m = NULL;
	assert_int_equal(registry_register(r, &d, &m), 0);
	assert_non_null(m);
	return m;
}

static void test_register_rules(void **state)
{
	struct registry *r = *state;
	static const char *const l1[] = { "a" };
	static const char *const l2[] = { "b" };
	static const char *const bad[] = { "le" };
	static const char *const bad2[] = { "__x" };
	zt_metric *m1 = reg(r, ZT_METRIC_COUNTER, "x_total", l1, 1, 0), *m2 = NULL;
	struct zt_metric_desc same = { sizeof(same), ZT_METRIC_COUNTER, "x_total", "h", l1, 1 };
	struct zt_metric_desc other = { sizeof(other), ZT_METRIC_COUNTER, "x_total", "h", l2, 1 };
	struct zt_metric_desc gauge = { sizeof(gauge), ZT_METRIC_GAUGE, "x_total", "h", l1, 1 };
	struct zt_metric_desc badname = { sizeof(badname), ZT_METRIC_GAUGE, "9bad", "h", NULL, 0 };
	struct zt_metric_desc badlabel = { sizeof(badlabel), ZT_METRIC_GAUGE, "ok", "h", bad, 1 };
	struct zt_metric_desc badlabel2 = { sizeof(badlabel2), ZT_METRIC_GAUGE, "ok", "h", bad2, 1 };
	struct zt_metric_desc badtype = { sizeof(badtype), 9, "ok", "h", NULL, 0 };
	const double unsorted[] = { 1, 0.5 };
	struct zt_metric_desc badbuckets = { sizeof(badbuckets), ZT_METRIC_HISTOGRAM, "h", "h", NULL, 0, 0, unsorted, 2 };

	/* same definition: the same family comes back (restarted plugins keep counters) */
	assert_int_equal(registry_register(r, &same, &m2), 0);
	assert_ptr_equal(m1, m2);
	assert_int_equal(registry_register(r, &other, &m2), -EEXIST);
	assert_int_equal(registry_register(r, &gauge, &m2), -EEXIST);
	assert_int_equal(registry_register(r, &badname, &m2), -EINVAL);
	assert_int_equal(registry_register(r, &badlabel, &m2), -EINVAL);
	assert_int_equal(registry_register(r, &badlabel2, &m2), -EINVAL);
	assert_int_equal(registry_register(r, &badtype, &m2), -EINVAL);
	assert_int_equal(registry_register(r, &badbuckets, &m2), -EINVAL);
}

static void test_counter_gauge(void **state)
{
	struct registry *r = *state;
	static const char *const l[] = { "a", "b" };
	zt_metric *c = reg(r, ZT_METRIC_COUNTER, "c_total", l, 2, 0);
	zt_metric *g = reg(r, ZT_METRIC_GAUGE, "g", l, 2, 0);
	double v;

	registry_add(c, ZT_LV(S("x"), S("y")), 2);
	registry_add(c, ZT_LV(S("x"), S("y")), 3);
	registry_add(c, ZT_LV(S("x"), S("y")), -1); /* counters never go down */
	/* ("ab","c") and ("a","bc") are different series */
	registry_add(c, ZT_LV(S("ab"), S("c")), 1);
	registry_add(c, ZT_LV(S("a"), S("bc")), 7);
	assert_int_equal(registry_get(c, ZT_LV(S("x"), S("y")), &v, NULL), 0);
	assert_true(v == 5);
	assert_int_equal(registry_get(c, ZT_LV(S("ab"), S("c")), &v, NULL), 0);
	assert_true(v == 1);
	assert_int_equal(registry_get(c, ZT_LV(S("a"), S("bc")), &v, NULL), 0);
	assert_true(v == 7);
	assert_int_equal(registry_series_count(c), 3);

	registry_set(g, ZT_LV(S("x"), S("y")), 10);
	registry_set(g, ZT_LV(S("x"), S("y")), 4);
	assert_int_equal(registry_get(g, ZT_LV(S("x"), S("y")), &v, NULL), 0);
	assert_true(v == 4);
	/* a counter set from a kernel reading never goes backwards */
	registry_set(c, ZT_LV(S("x"), S("y")), 3);
	assert_int_equal(registry_get(c, ZT_LV(S("x"), S("y")), &v, NULL), 0);
	assert_true(v == 5);

	registry_remove(c, ZT_LV(S("ab"), S("c")));
	assert_int_equal(registry_get(c, ZT_LV(S("ab"), S("c")), &v, NULL), -ENOENT);
	assert_int_equal(registry_series_count(c), 2);
}

static void test_histogram(void **state)
{
	struct registry *r = *state;
	zt_metric *h = reg(r, ZT_METRIC_HISTOGRAM, "lat_seconds", NULL, 0, 0);
	double sum;
	uint64_t count;
	registry_observe(h, NULL, 0.001);
	registry_observe(h, NULL, 0.005); /* le is inclusive */
	registry_observe(h, NULL, 0.3);
	registry_observe(h, NULL, 99);
	assert_int_equal(registry_get(h, NULL, &sum, &count), 0);
	assert_int_equal(count, 4);
	assert_true(sum > 99.305 && sum < 99.307);
}

struct collected {
	char text[8192];
	size_t len;
};

static int col_series(void *ctx, const struct zt_family_view *f, const struct zt_series_view *s)
{
	struct collected *c = ctx;
	c->len += snprintf(c->text + c->len, sizeof(c->text) - c->len, "%.*s{", (int)f->name.len, f->name.ptr);
	for (uint32_t i = 0; i < s->label_count; i++)
		c->len += snprintf(c->text + c->len, sizeof(c->text) - c->len, "%.*s=%.*s,", (int)s->label_names[i].len,
				   s->label_names[i].ptr, (int)s->label_values[i].len, s->label_values[i].ptr);
	if (f->type == ZT_METRIC_HISTOGRAM) {
		c->len += snprintf(c->text + c->len, sizeof(c->text) - c->len, "} count=%llu", (unsigned long long)s->count);
		for (uint32_t b = 0; b < s->bucket_count; b++)
			c->len += snprintf(c->text + c->len, sizeof(c->text) - c->len, " %g:%llu", s->bucket_bounds[b],
					   (unsigned long long)s->bucket_cumulative[b]);
		c->len += snprintf(c->text + c->len, sizeof(c->text) - c->len, "\n");
	} else {
		c->len += snprintf(c->text + c->len, sizeof(c->text) - c->len, "} %g\n", s->value);
	}
	return 0;
}

static void test_cap_overflow_and_snapshot(void **state)
{
	struct registry *r = *state;
	static const char *const l[] = { "peer" };
	static const char *const cn[] = { "machine_id" };
	static const char *const cv[] = { "m1" };
	zt_metric *c = reg(r, ZT_METRIC_COUNTER, "peers_total", l, 1, 3);
	char buf[32];
	double v;
	for (int i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "p%d", i);
		registry_add(c, ZT_LV(S(buf)), 1);
	}
	/* 3 real series + the overflow one; 7 updates went to the overflow */
	assert_int_equal(registry_series_count(c), 4);
	assert_int_equal(registry_overflowed(c), 7);
	/* existing series keep counting after the cap is hit */
	registry_add(c, ZT_LV(S("p0")), 1);
	assert_int_equal(registry_get(c, ZT_LV(S("p0")), &v, NULL), 0);
	assert_true(v == 2);

	assert_int_equal(registry_set_const_labels(r, cn, cv, 1), 0);
	struct collected col = { 0 };
	struct zt_collect_visitor vis = { sizeof(vis), 0, NULL, col_series };
	assert_int_equal(registry_collect(r, &vis, &col), 0);
	assert_non_null(strstr(col.text, "peers_total{machine_id=m1,peer=~overflow,} 7\n"));
	assert_non_null(strstr(col.text, "peers_total{machine_id=m1,peer=p0,} 2\n"));

	zt_metric *h = reg(r, ZT_METRIC_HISTOGRAM, "d_seconds", NULL, 0, 0);
	registry_observe(h, NULL, 0.02);
	registry_observe(h, NULL, 0.02);
	registry_observe(h, NULL, 20);
	col.len = 0;
	assert_int_equal(registry_collect(r, &vis, &col), 0);
	/* default buckets, cumulative; 20 s lands only in +Inf (count) */
	assert_non_null(strstr(col.text, "d_seconds{machine_id=m1,} count=3 0.005:0 0.01:0 0.025:2 0.05:2 0.1:2 0.25:2 0.5:2 1:2 2.5:2 5:2 10:2\n"));
}

static void test_remove_matching(void **state)
{
	struct registry *r = *state;
	static const char *const l[] = { "container_id", "x" };
	static const char *const l2[] = { "other" };
	zt_metric *a = reg(r, ZT_METRIC_GAUGE, "a", l, 2, 1000);
	zt_metric *b = reg(r, ZT_METRIC_GAUGE, "b", l2, 1, 0);
	char buf[32];
	double v;
	/* enough series to force probing chains and resizes */
	for (int i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		registry_set(a, ZT_LV(S(i % 2 ? "/podman/web" : "/podman/db"), S(buf)), i);
	}
	registry_set(b, ZT_LV(S("/podman/web")), 1);
	registry_remove_matching(r, S("container_id"), S("/podman/web"));
	assert_int_equal(registry_series_count(a), 250);
	for (int i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		int rc = registry_get(a, ZT_LV(S(i % 2 ? "/podman/web" : "/podman/db"), S(buf)), &v, NULL);
		assert_int_equal(rc, i % 2 ? -ENOENT : 0);
		if (!rc)
			assert_true(v == i);
	}
	/* families without that label are untouched */
	assert_int_equal(registry_series_count(b), 1);
}

/* Cached series: reused while nothing was removed; looked up again (and
 * recreated) after a removal, a clear or a matching removal; a ref made
 * for one family never hits in another. */
static void test_refs(void **state)
{
	struct registry *r = *state;
	static const char *const l[] = { "container_id", "status" };
	zt_metric *c = reg(r, ZT_METRIC_COUNTER, "reqs_total", l, 2, 0);
	zt_metric *c2 = reg(r, ZT_METRIC_COUNTER, "other_total", l, 2, 0);
	zt_metric *h = reg(r, ZT_METRIC_HISTOGRAM, "lat_seconds", l, 1, 0);
	struct registry_ref ref = { 0 }, href = { 0 };
	double v;
	uint64_t n;

	for (int i = 0; i < 10; i++)
		registry_add_ref(c, &ref, ZT_LV(S("/web"), S("ok")), 1);
	assert_int_equal(registry_get(c, ZT_LV(S("/web"), S("ok")), &v, NULL), 0);
	assert_true(v == 10);
	void *first = ref.series;
	/* values are not read on a hit: the caller owns the ref's label set */
	registry_add_ref(c, &ref, ZT_LV(S("/ignored"), S("x")), 1);
	assert_ptr_equal(ref.series, first);
	assert_int_equal(registry_get(c, ZT_LV(S("/ignored"), S("x")), &v, NULL), -ENOENT);
	/* another family with the same ref: a miss, looked up there */
	registry_add_ref(c2, &ref, ZT_LV(S("/web"), S("ok")), 5);
	assert_int_equal(registry_get(c2, ZT_LV(S("/web"), S("ok")), &v, NULL), 0);
	assert_true(v == 5);
	registry_add_ref(c, &ref, ZT_LV(S("/web"), S("ok")), 1);
	assert_int_equal(registry_get(c, ZT_LV(S("/web"), S("ok")), &v, NULL), 0);
	assert_true(v == 12);

	/* removing any series of the family invalidates: the series is made
	 * again from the values, from zero */
	registry_set(c, ZT_LV(S("/db"), S("ok")), 3);
	registry_remove(c, ZT_LV(S("/db"), S("ok")));
	registry_add_ref(c, &ref, ZT_LV(S("/web"), S("ok")), 1);
	assert_int_equal(registry_get(c, ZT_LV(S("/web"), S("ok")), &v, NULL), 0);
	assert_true(v == 13);
	registry_remove_matching(r, S("container_id"), S("/web"));
	registry_add_ref(c, &ref, ZT_LV(S("/web"), S("ok")), 1);
	assert_int_equal(registry_get(c, ZT_LV(S("/web"), S("ok")), &v, NULL), 0);
	assert_true(v == 1);
	registry_clear(c);
	registry_add_ref(c, &ref, ZT_LV(S("/web"), S("failed")), 2);
	assert_int_equal(registry_get(c, ZT_LV(S("/web"), S("failed")), &v, NULL), 0);
	assert_true(v == 2);
	assert_int_equal(registry_series_count(c), 1);

	/* histograms */
	registry_observe_ref(h, &href, ZT_LV(S("/web")), 0.001);
	registry_observe_ref(h, &href, ZT_LV(S("/web")), 0.5);
	assert_int_equal(registry_get(h, ZT_LV(S("/web")), &v, &n), 0);
	assert_int_equal(n, 2);
	/* a counter's ref is refused by a histogram and the reverse */
	registry_observe_ref(c, &href, ZT_LV(S("/web"), S("ok")), 1);
	registry_add_ref(h, &ref, ZT_LV(S("/web")), 1);
	assert_int_equal(registry_get(h, ZT_LV(S("/web")), &v, &n), 0);
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_gauge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_overflow_and_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs, setup, teardown),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
