/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Self-test of the mock host: a plugin test is only as good as the host it
 * runs against. Uses a small discovery plugin defined here, built the way
 * plugin tests build theirs (-DZT_PLUGIN_BUILTIN).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock_host.h"

/* ---------------------------------------------------------- a tiny plugin */

static const struct zt_config_field fake_config[] = {
	{ "name", ZT_CFG_STRING, ZT_CFG_F_REQUIRED, NULL, "Required string.", 1, 0 },
	{ "count", ZT_CFG_INT, 0, "3", "Bounded int.", 1, 10 },
	{ "ratio", ZT_CFG_DOUBLE, 0, "0.5", "A double.", 1, 0 },
	{ "on", ZT_CFG_BOOL, 0, "false", "A bool.", 1, 0 },
	{ "tags", ZT_CFG_STRING_LIST, 0, "[\"a\",\"b\"]", "A list.", 1, 0 },
	{ "extra", ZT_CFG_OBJECT, 0, "{\"k\":[1,2]}", "An object.", 1, 0 },
	ZT_CFG_END,
};

struct fake {
	const struct zt_host *host;
	zt_instance *inst;
	int fds[2];
	unsigned ticks, fd_events, proc_events;
};

static void fake_tick(void *arg)
{
	((struct fake *)arg)->ticks++;
}

static void fake_fd(void *arg, int fd, uint32_t events)
{
	((struct fake *)arg)->fd_events += events;
}

static int fake_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	uint64_t id;

	if (!f)
		return -ENOMEM;
	f->host = host;
	f->inst = inst;
	if (pipe(f->fds)) {
		free(f);
		return -errno;
	}
	host->timer_add(inst, 1000000, fake_tick, f, &id);
	host->fd_watch(inst, f->fds[0], ZT_FD_READ, fake_fd, f);
	*state = f;
	return 0;
}

static void fake_fini(void *state)
{
	struct fake *f = state;

	close(f->fds[0]);
	close(f->fds[1]);
	free(f);
}

static void fake_event(void *state, const struct zt_process_event *ev)
{
	((struct fake *)state)->proc_events++;
}

static const struct zt_discovery_ops fake_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_discovery_ops, ZT_KIND_DISCOVERY),
	.init = fake_init,
	.fini = fake_fini,
	.on_process_event = fake_event,
};

ZT_PLUGIN_DEFINE(fake, ZT_KIND_DISCOVERY, "1.0.0", "Apache-2.0", "mock self-test", fake_config, &fake_ops);

static const struct zt_discovery_ops noinit_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_discovery_ops, ZT_KIND_DISCOVERY),
	.fini = fake_fini,
};

ZT_PLUGIN_DEFINE(noinit, ZT_KIND_DISCOVERY, "1.0.0", "Apache-2.0", "no init", NULL, &noinit_ops);

/* ------------------------------------------------------------------ tests */

static int teardown(void **state)
{
	mock_reset();
	return 0;
}

static void test_loader(void **state)
{
	struct zt_plugin_desc d = *zt_builtin_entry_fake();
	struct mock_plugin *p = NULL;

	assert_int_equal(mock_plugin_check(&d), 0);
	d.abi_minor = ZT_ABI_MINOR + 1;
	assert_int_equal(mock_plugin_check(&d), -EINVAL);
	d = *zt_builtin_entry_fake();
	d.magic = 0;
	assert_int_equal(mock_plugin_check(&d), -EINVAL);
	d = *zt_builtin_entry_fake();
	d.name = "Bad Name";
	assert_int_equal(mock_plugin_check(&d), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_noinit, NULL, NULL, &p), -EINVAL);
	assert_true(mock_log_contains("discovery 'noinit': required callback 'init' missing"));
}

static void test_config(void **state)
{
	struct mock_plugin *p = NULL;
	const struct zt_host *h = mock_host();
	struct zt_str s;
	int64_t i;
	double d;
	uint32_t b;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, NULL, "{}", &p), -EINVAL);
	assert_true(mock_log_contains("\"name\" is required"));
	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, NULL, "{\"name\":\"x\",\"bogus\":1}", &p), -EINVAL);
	assert_true(mock_log_contains("unknown config key \"bogus\""));
	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, NULL, "{\"name\":\"x\",\"count\":11}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, NULL, "{\"name\":1}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, NULL, "{\"name\":\"x\",\n\"count\":}", &p), -EINVAL);
	assert_true(mock_log_contains("config:2:"));
	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, NULL, "[1]", &p), -EINVAL);

	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, "inst1", "{\"name\":\"x\",\"ratio\":2}", &p), 0);
	assert_string_equal(mock_instance_name(p->inst), "inst1");
	assert_int_equal(h->config_string(p->inst, "name", &s), 0);
	assert_int_equal(s.len, 1);
	assert_int_equal(h->config_int(p->inst, "count", &i), 0);
	assert_int_equal(i, 3);
	assert_int_equal(h->config_double(p->inst, "ratio", &d), 0); /* an int is a number */
	assert_true(d == 2);
	assert_int_equal(h->config_bool(p->inst, "on", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(h->config_list_string(p->inst, "tags", 1, &s), 0);
	assert_memory_equal(s.ptr, "b", 1);
	assert_int_equal(h->config_list_string(p->inst, "tags", 2, &s), -ERANGE);
	assert_int_equal(h->config_json(p->inst, "extra", &s), 0);
	assert_string_equal(s.ptr, "{\"k\":[1,2]}");
	assert_int_equal(h->config_json(p->inst, "tags", &s), 0);
	assert_string_equal(s.ptr, "[\"a\",\"b\"]");
	assert_int_equal(h->config_json(p->inst, "count", &s), 0);
	assert_string_equal(s.ptr, "3");
	assert_int_equal(h->config_int(p->inst, "name", &i), -EINVAL);
	assert_int_equal(h->config_int(p->inst, "undeclared", &i), -ENOENT);
	mock_plugin_stop(p);
}

static zt_metric *reg(const char *name, uint32_t type, const char *const *labels, uint32_t n, uint32_t max)
{
	struct zt_metric_desc d = { .struct_size = sizeof(d), .type = type, .name = name, .help = "h",
				    .labels = labels, .label_count = n, .max_series = max };
	zt_metric *m = NULL;
	int err = mock_host()->metric_register(NULL, &d, &m);

	return err ? NULL : m;
}

#define LV(...) ((const struct zt_str[]){ __VA_ARGS__ })

static int count_series(void *ctx, const struct zt_family_view *f, const struct zt_series_view *s)
{
	int *n = ctx;

	/* Constant labels first, with the node's values. */
	assert_true(s->label_count >= 2);
	assert_memory_equal(s->label_names[0].ptr, "machine_id", 10);
	assert_memory_equal(s->label_values[0].ptr, "m-1", 3);
	assert_memory_equal(s->label_names[1].ptr, "system_uuid", 11);
	return ++*n == 3 ? 42 : 0; /* stop the walk at the third series */
}

static void test_metrics(void **state)
{
	static const char *const one[] = { "k" };
	static const char *const le[] = { "le" };
	const struct zt_host *h = mock_host();
	struct zt_metric_desc bad = { .struct_size = sizeof(bad), .type = ZT_METRIC_GAUGE, .name = "9x" };
	zt_metric *m;

	assert_int_equal(h->metric_register(NULL, &bad, &m), -EINVAL);
	assert_null(reg("g_le", ZT_METRIC_GAUGE, le, 1, 0));
	zt_metric *c = reg("c_total", ZT_METRIC_COUNTER, one, 1, 2);
	assert_ptr_equal(reg("c_total", ZT_METRIC_COUNTER, one, 1, 2), c); /* same definition: same family */
	assert_null(reg("c_total", ZT_METRIC_GAUGE, one, 1, 0));            /* -EEXIST */

	h->metric_add(c, LV(ZT_STR("a")), 2);
	h->metric_add(c, LV(ZT_STR("a")), -1); /* counters never go down */
	h->metric_set(c, LV(ZT_STR("a")), 1);
	assert_true(mock_metric_value("c_total", "a", NULL) == 2);
	h->metric_add(c, LV(ZT_STR("b")), 1);
	h->metric_add(c, LV(ZT_STR("c")), 5); /* past max_series 2 */
	h->metric_add(c, LV(ZT_STR("d")), 1);
	assert_int_equal(mock_metric_series_count("c_total"), 3);
	assert_true(mock_metric_value("c_total", "~overflow", NULL) == 6);
	assert_int_equal(mock_metric_overflowed("c_total"), 2);
	assert_false(mock_metric_exists("c_total", "c", NULL));
	assert_false(mock_metric_exists("c_total", NULL)); /* wrong label count */
	assert_true(isnan(mock_metric_value("nope", NULL)));
	assert_int_equal(mock_metric_series_count("nope"), -1);

	zt_metric *g = reg("g", ZT_METRIC_GAUGE, one, 1, 0);
	h->metric_set(g, LV(ZT_STR("x")), 5);
	h->metric_set(g, LV(ZT_STR("x")), -5);
	assert_true(mock_metric_value("g", "x", NULL) == -5);
	h->metric_set(g, LV(ZT_STR("y")), 1);
	h->metric_remove(g, LV(ZT_STR("x")));
	assert_false(mock_metric_exists("g", "x", NULL));
	h->metric_remove_matching(ZT_STR("k"), ZT_STR("a"));
	assert_false(mock_metric_exists("c_total", "a", NULL));
	assert_true(mock_metric_exists("g", "y", NULL));

	zt_metric *hist = reg("lat_seconds", ZT_METRIC_HISTOGRAM, NULL, 0, 0);
	h->metric_observe(hist, NULL, 0.003);
	h->metric_observe(hist, NULL, 0.2);
	h->metric_observe(hist, NULL, 99);
	h->metric_observe(hist, NULL, NAN);
	assert_int_equal(mock_metric_hist_count("lat_seconds", NULL), 3);
	assert_int_equal(mock_metric_hist_bucket("lat_seconds", 0.005, NULL), 1); /* default buckets */
	assert_int_equal(mock_metric_hist_bucket("lat_seconds", 0.25, NULL), 2);
	assert_int_equal(mock_metric_hist_bucket("lat_seconds", 10, NULL), 2);
	assert_int_equal(mock_metric_hist_bucket("lat_seconds", INFINITY, NULL), 3);
	assert_true(mock_metric_hist_bucket("lat_seconds", 0.3, NULL) == UINT64_MAX);

	struct zt_collect_visitor v = { .struct_size = sizeof(v), .series = count_series };
	int n = 0;
	mock_set_node_label("machine_id", "m-1");
	assert_int_equal(h->metrics_collect(&v, &n), 42);
	assert_int_equal(n, 3);
	assert_int_equal(mock_calls().metrics_collect, 1);
}

static void test_loop_entities(void **state)
{
	const struct zt_host *h = mock_host();
	struct mock_plugin *p = NULL;
	struct zt_process_event ev = { .struct_size = sizeof(ev), .type = ZT_PROC_EXEC, .pid = 7 };
	struct zt_process_info pi = { .struct_size = sizeof(pi), .pid = 42, .ppid = 1, .comm = ZT_STR("nginx"),
				      .container_id = ZT_STR("/docker/web") };
	struct zt_container_info ci = { .struct_size = sizeof(ci), .container_id = ZT_STR("/docker/web"),
					.image = ZT_STR("nginx:1") };
	char buf[32];
	uint32_t events = 0;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_fake, NULL, "{\"name\":\"x\"}", &p), 0);
	struct fake *f = p->state;
	assert_int_equal(mock_timer_count(p->inst), 1);
	assert_true(mock_timer_interval(p->inst, 0) == 1000000);
	assert_int_equal(mock_fire_timers(), 1);
	assert_int_equal(mock_fire_timers(), 1);
	assert_int_equal(f->ticks, 2);
	assert_true(mock_fd_watched(f->fds[0], &events));
	assert_int_equal(events, ZT_FD_READ);
	assert_int_equal(h->fd_watch(p->inst, f->fds[0], ZT_FD_READ, fake_fd, f), -EEXIST);
	assert_int_equal(mock_fire_fd(f->fds[0], ZT_FD_READ), 0);
	assert_int_equal(f->fd_events, ZT_FD_READ);
	assert_int_equal(mock_fire_fd(12345, ZT_FD_READ), -ENOENT);
	assert_int_equal(h->fd_watch(p->inst, 12345, ZT_FD_READ, fake_fd, f), -EBADF);
	assert_int_equal(h->timer_add(p->inst, 999999, fake_tick, f, NULL), -EINVAL); /* 1 ms floor */
	mock_plugin_process_event(p, &ev);
	assert_int_equal(f->proc_events, 1);

	assert_int_equal(h->process_set(p->inst, &pi), 0);
	assert_string_equal(mock_process_get(42)->comm, "nginx");
	assert_int_equal(h->process_container(42, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "/docker/web");
	assert_int_equal(h->process_container(42, buf, 5), 11); /* truncated, full length returned */
	assert_string_equal(buf, "/doc");
	assert_int_equal(h->process_container(43, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(h->container_set(p->inst, &ci), 0);
	assert_string_equal(mock_container_get("/docker/web")->image, "nginx:1");
	h->process_remove(p->inst, 42);
	h->container_remove(p->inst, ZT_STR("/docker/web"));
	assert_int_equal(mock_process_count(), 0);
	assert_int_equal(mock_container_count(), 0);
	assert_int_equal(mock_calls().process_set, 1);
	assert_int_equal(mock_calls().container_remove, 1);

	mock_plugin_stop(p); /* the instance's hooks go with it */
	assert_int_equal(mock_timer_count(NULL), 0);
	assert_int_equal(mock_fd_watch_count(NULL), 0);
}

static void test_node_clock_log(void **state)
{
	const struct zt_host *h = mock_host();
	struct zt_str s;
	char rest[32];

	assert_int_equal(h->node_label("hostname", &s), 0);
	assert_int_equal(h->node_label("az", &s), -ENOENT);
	mock_set_node_label("az", "eu-1a");
	assert_int_equal(h->node_label("az", &s), 0);
	assert_memory_equal(s.ptr, "eu-1a", 5);
	mock_set_clock(5, 6);
	assert_true(h->now_ns() == 5 && h->wall_ns() == 6);
	mock_set_clock(0, 0);
	assert_true(h->now_ns() > 5);
	h->log(NULL, ZT_LOG_WARN, "port %d busy", 9105);
	assert_true(mock_log_contains("WARN -: port 9105"));
	assert_int_equal(mock_log_after("port ", rest, sizeof(rest)), 0);
	assert_string_equal(rest, "9105 busy");
	assert_int_equal(mock_log_count(ZT_LOG_WARN), 1);
	assert_int_equal(mock_log_count(ZT_LOG_ERROR), 0);
	mock_log_clear();
	assert_false(mock_log_contains("port"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_loader, teardown),
		cmocka_unit_test_teardown(test_config, teardown),
		cmocka_unit_test_teardown(test_metrics, teardown),
		cmocka_unit_test_teardown(test_loop_entities, teardown),
		cmocka_unit_test_teardown(test_node_clock_log, teardown),
	};
	return cmocka_run_group_tests_name("mock_host", tests, NULL, NULL);
}
