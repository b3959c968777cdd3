/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the node discovery plugin against tests/mockhost and a fake
 * proc_root/sys_root tree with known contents. The plugin source is
 * compiled in with -DZT_PLUGIN_BUILTIN; see
 * tests/unit/build_test_prometheus.sh. (The exposition of the real node
 * families is linted by promtool in tests/unit/test_prometheus.c.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_node(void);

static int teardown(void **state)
{
	mock_reset();
	return 0;
}

/* IPv6 link-local addresses say nothing about a node: never exported. */
static int no_link_local(void *ctx, const struct zt_family_view *f, const struct zt_series_view *s)
{
	if (f->name.len != 21 || memcmp(f->name.ptr, "node_net_interface_ip", 21))
		return 0;
	const struct zt_str *ip = &s->label_values[s->label_count - 1];
	assert_false(ip->len >= 5 && !strncasecmp(ip->ptr, "fe80:", 5));
	return 0;
}

static void test_node_defaults(void **state)
{
	const struct zt_plugin_desc *d = zt_builtin_entry_node();
	zt_instance *inst = NULL;
	struct zt_str s;
	int64_t n = 0;

	assert_int_equal(mock_plugin_check(d), 0);
	assert_int_equal(d->kind, ZT_KIND_DISCOVERY);
	assert_string_equal(d->name, "node");
	assert_int_equal(mock_instance_create("node", NULL, d->config, &inst), 0);
	assert_int_equal(mock_host()->config_string(inst, "proc_root", &s), 0);
	assert_int_equal(s.len, 5);
	assert_memory_equal(s.ptr, "/proc", 5);
	assert_int_equal(mock_host()->config_string(inst, "sys_root", &s), 0);
	assert_memory_equal(s.ptr, "/sys", 4);
	assert_int_equal(mock_host()->config_int(inst, "interval_ms", &n), 0);
	assert_int_equal(n, 5000);
}

static char tree[64];

static void put_file(const char *rel, const char *content)
{
	char path[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (slash = strchr(path + strlen(tree) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void put_dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/x", tree, rel);
	put_file(path + strlen(tree) + 1, "");
}

static const char diskstats_v1[] =
	"   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	"   7       1 loop1 10 0 80 5 0 0 0 0 0 4 5 0 0 0 0 0 0\n"
	"   8       0 sda 1000 10 20000 3000 2000 20 40000 5000 0 6000 8000 0 0 0 0 0 0\n"
	"   8       1 sda1 900 10 18000 2900 1900 20 38000 4900 0 5900 7800 0 0 0 0 0 0\n"
	" 259       0 nvme0n1 5 0 40 1 7 0 56 2 0 3 3\n"
	"   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	" 253       0 dm-0 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0 0 0\n";

static const char netdev_head[] =
	"Inter-|   Receive                                                |  Transmit\n"
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
	"carrier compressed\n";

static void make_tree(void)
{
	char net[1024];

	snprintf(tree, sizeof(tree), "/tmp/zt-node-XXXXXX");
	assert_non_null(mkdtemp(tree));
	put_file("proc/stat", "cpu  1000 20 300 40000 50 6 7 8 0 0\n"
			      "cpu0 500 10 150 20000 25 3 4 4 0 0\n"
			      "cpu1 500 10 150 20000 25 3 3 4 0 0\n"
			      "intr 12345 1 2 3\nctxt 999\nbtime 1700000000\nprocesses 1234\n");
	put_file("proc/uptime", "12345.67 23456.78\n");
	put_file("proc/meminfo", "MemTotal:        8000000 kB\nMemFree:         1000000 kB\n"
				 "MemAvailable:    5000000 kB\nBuffers:          100000 kB\n"
				 "Cached:          2000000 kB\nSwapCached:            7 kB\n");
	put_file("proc/diskstats", diskstats_v1);
	snprintf(net, sizeof(net),
		 "%s    lo:  1000      10    0    0    0     0          0         0     1000      10    0    0    0     "
		 "0       0          0\n"
		 "  eth0: 123456789 1000 0 0 0 0 0 0 987654321 2000 0 0 0 0 0 0\n"
		 "  eth1:0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		 "   wg0: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n",
		 netdev_head);
	put_file("proc/net/dev", net);
	put_file("proc/sys/kernel/hostname", "fakehost\n");
	put_file("proc/sys/kernel/osrelease", "6.1.0-fake\n");
	put_dir("sys/block/sda");
	put_dir("sys/block/loop0");
	put_dir("sys/block/loop1");
	put_dir("sys/block/nvme0n1");
	put_dir("sys/block/ram0");
	put_file("sys/class/net/lo/flags", "0x9\n");
	put_file("sys/class/net/lo/operstate", "unknown\n");
	put_file("sys/class/net/eth0/flags", "0x1003\n");
	put_file("sys/class/net/eth0/operstate", "up\n");
	put_file("sys/class/net/eth1/flags", "0x1003\n"); /* up, no carrier */
	put_file("sys/class/net/eth1/operstate", "down\n");
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	assert_int_equal(system(cmd), 0);
}

static struct mock_plugin *start_node(int interval_ms)
{
	struct mock_plugin *p = NULL;
	char cfg[256];

	snprintf(cfg, sizeof(cfg), "{\"interval_ms\":%d,\"proc_root\":\"%s/proc/\",\"sys_root\":\"%s/sys\"}",
		 interval_ms, tree, tree);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_node, NULL, cfg, &p), 0);
	return p;
}

#define V(...) mock_metric_value(__VA_ARGS__, NULL)

static void test_node_values(void **state)
{
	const double tck = (double)sysconf(_SC_CLK_TCK);
	static const char *const all[] = {
		"node_info", "node_uptime_seconds", "node_resources_cpu_usage_seconds_total",
		"node_resources_cpu_logical_cores", "node_resources_memory_total_bytes",
		"node_resources_memory_free_bytes", "node_resources_memory_available_bytes",
		"node_resources_memory_cached_bytes", "node_resources_disk_reads_total",
		"node_resources_disk_writes_total", "node_resources_disk_read_bytes_total",
		"node_resources_disk_written_bytes_total", "node_resources_disk_read_time_seconds_total",
		"node_resources_disk_write_time_seconds_total", "node_resources_disk_io_time_seconds_total",
		"node_net_received_bytes_total", "node_net_transmitted_bytes_total", "node_net_received_packets_total",
		"node_net_transmitted_packets_total", "node_net_interface_up", "node_net_interface_ip",
	};

	make_tree();
	struct mock_plugin *p = start_node(1500);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_true(mock_metric_series_count(all[i]) >= 0);
	assert_int_equal(mock_metric_type("node_resources_cpu_usage_seconds_total"), ZT_METRIC_COUNTER);
	assert_int_equal(mock_metric_type("node_resources_memory_cached_bytes"), ZT_METRIC_GAUGE);
	assert_int_equal(mock_timer_count(p->inst), 1);
	assert_true(mock_timer_interval(p->inst, 0) == 1500000000ull);
	assert_int_equal(mock_log_count(ZT_LOG_WARN), 0);

	assert_true(V("node_info", "fakehost", "6.1.0-fake") == 1);
	assert_true(V("node_uptime_seconds") == 12345.67);
	assert_true(V("node_resources_cpu_usage_seconds_total", "user") == 1000 / tck);
	assert_true(V("node_resources_cpu_usage_seconds_total", "nice") == 20 / tck);
	assert_true(V("node_resources_cpu_usage_seconds_total", "system") == 300 / tck);
	assert_true(V("node_resources_cpu_usage_seconds_total", "idle") == 40000 / tck);
	assert_true(V("node_resources_cpu_usage_seconds_total", "iowait") == 50 / tck);
	assert_true(V("node_resources_cpu_usage_seconds_total", "irq") == 6 / tck);
	assert_true(V("node_resources_cpu_usage_seconds_total", "softirq") == 7 / tck);
	assert_true(V("node_resources_cpu_usage_seconds_total", "steal") == 8 / tck);
	assert_int_equal(mock_metric_series_count("node_resources_cpu_usage_seconds_total"), 8);
	assert_true(V("node_resources_cpu_logical_cores") == 2);
	assert_true(V("node_resources_memory_total_bytes") == 8000000.0 * 1024);
	assert_true(V("node_resources_memory_free_bytes") == 1000000.0 * 1024);
	assert_true(V("node_resources_memory_available_bytes") == 5000000.0 * 1024);
	assert_true(V("node_resources_memory_cached_bytes") == 2000000.0 * 1024); /* not SwapCached */

	/* Whole disks only; idle loop/ram devices dropped; busy loop kept. */
	assert_int_equal(mock_metric_series_count("node_resources_disk_reads_total"), 3);
	assert_true(V("node_resources_disk_reads_total", "sda") == 1000);
	assert_true(V("node_resources_disk_writes_total", "sda") == 2000);
	assert_true(V("node_resources_disk_read_bytes_total", "sda") == 20000.0 * 512);
	assert_true(V("node_resources_disk_written_bytes_total", "sda") == 40000.0 * 512);
	assert_true(V("node_resources_disk_read_time_seconds_total", "sda") == 3);
	assert_true(V("node_resources_disk_write_time_seconds_total", "sda") == 5);
	assert_true(V("node_resources_disk_io_time_seconds_total", "sda") == 6);
	assert_true(V("node_resources_disk_reads_total", "loop1") == 10);
	assert_true(V("node_resources_disk_io_time_seconds_total", "nvme0n1") == 0.003); /* 11-field format */
	assert_false(mock_metric_exists("node_resources_disk_reads_total", "sda1", NULL));
	assert_false(mock_metric_exists("node_resources_disk_reads_total", "loop0", NULL));
	assert_false(mock_metric_exists("node_resources_disk_reads_total", "ram0", NULL));
	assert_false(mock_metric_exists("node_resources_disk_reads_total", "dm-0", NULL));

	assert_int_equal(mock_metric_series_count("node_net_received_bytes_total"), 4);
	assert_true(V("node_net_received_bytes_total", "eth0") == 123456789);
	assert_true(V("node_net_transmitted_bytes_total", "eth0") == 987654321);
	assert_true(V("node_net_received_packets_total", "eth0") == 1000);
	assert_true(V("node_net_transmitted_packets_total", "eth0") == 2000);
	assert_true(V("node_net_received_bytes_total", "eth1") == 0);
	assert_true(V("node_net_transmitted_packets_total", "wg0") == 4);
	assert_true(V("node_net_interface_up", "lo") == 1);
	assert_true(V("node_net_interface_up", "eth0") == 1);
	assert_true(V("node_net_interface_up", "eth1") == 0);
	assert_false(mock_metric_exists("node_net_interface_up", "wg0", NULL)); /* no sysfs: unknown */

	/* Addresses come from this machine's netlink, not the fake tree. */
	assert_true(V("node_net_interface_ip", "lo", "127.0.0.1") == 1);
	struct zt_collect_visitor v = { .struct_size = sizeof(v), .series = no_link_local };
	assert_int_equal(mock_host()->metrics_collect(&v, NULL), 0);

	mock_plugin_stop(p);
	assert_int_equal(mock_timer_count(NULL), 0);
	remove_tree();
}

static void test_node_refresh(void **state)
{
	char net[1024];

	make_tree();
	struct mock_plugin *p = start_node(5000);
	/* A disk goes, a counter grows, an interface is recreated with lower
	 * counters, the host is renamed. */
	put_file("proc/diskstats",
		 "   8       0 sda 1100 10 20000 3000 2000 20 40000 5000 0 6000 8000 0 0 0 0 0 0\n"
		 "   7       1 loop1 10 0 80 5 0 0 0 0 0 4 5 0 0 0 0 0 0\n");
	snprintf(net, sizeof(net), "%s  eth0: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n", netdev_head);
	put_file("proc/net/dev", net);
	put_file("proc/sys/kernel/hostname", "fakehost2\n");
	put_file("proc/uptime", "12350.5 0\n");
	assert_int_equal(mock_fire_timers(), 1);

	assert_true(V("node_resources_disk_reads_total", "sda") == 1100);
	assert_false(mock_metric_exists("node_resources_disk_reads_total", "nvme0n1", NULL));
	assert_false(mock_metric_exists("node_resources_disk_io_time_seconds_total", "nvme0n1", NULL));
	assert_int_equal(mock_metric_series_count("node_resources_disk_written_bytes_total"), 2);
	assert_true(V("node_net_received_bytes_total", "eth0") == 5); /* restarted, not stuck */
	assert_true(V("node_net_transmitted_bytes_total", "eth0") == 7);
	assert_int_equal(mock_metric_series_count("node_net_received_bytes_total"), 1);
	assert_false(mock_metric_exists("node_net_interface_up", "lo", NULL));
	assert_false(mock_metric_exists("node_info", "fakehost", "6.1.0-fake", NULL));
	assert_true(V("node_info", "fakehost2", "6.1.0-fake") == 1);
	assert_true(V("node_uptime_seconds") == 12350.5);
	mock_plugin_stop(p);
	remove_tree();
}

static void test_node_missing_sources(void **state)
{
	struct mock_plugin *p = NULL;

	make_tree();
	char cfg[256];
	snprintf(cfg, sizeof(cfg), "{\"proc_root\":\"%s/nothing\",\"sys_root\":\"%s/sys\"}", tree, tree);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_node, NULL, cfg, &p), 0);
	size_t warns = mock_log_count(ZT_LOG_WARN);
	assert_int_equal(warns, 5); /* uptime, stat, meminfo, diskstats, net/dev; info falls back to uname */
	assert_true(mock_log_contains("diskstats (under "));
	assert_int_equal(mock_fire_timers(), 1);
	assert_int_equal(mock_log_count(ZT_LOG_WARN), warns); /* once per failure streak */
	assert_true(mock_metric_series_count("node_info") == 1);
	mock_plugin_stop(p);

	/* Schema bounds are the core's to enforce; the mock does it too. */
	assert_int_equal(mock_plugin_start(zt_builtin_entry_node, NULL, "{\"interval_ms\":10}", &p), -EINVAL);
	remove_tree();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_node_defaults, teardown),
		cmocka_unit_test_teardown(test_node_values, teardown),
		cmocka_unit_test_teardown(test_node_refresh, teardown),
		cmocka_unit_test_teardown(test_node_missing_sources, teardown),
	};
	return cmocka_run_group_tests_name("node", tests, NULL, NULL);
}
