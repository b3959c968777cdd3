/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process discovery plugin against tests/mockhost, on a fake /proc and
 * a fake hybrid cgroup tree built in a temporary directory (proc_root,
 * cgroup_root and the runtimes' directories are config keys). Drives the
 * plugin through its events and timer and checks entities and metrics:
 * podman naming, restarts with a recreated cgroup, OOM counted once, k8s
 * names that appear late, lost EXIT events, expiry, disk usage of the
 * mounts in a fake mountinfo (on the test directory's own filesystem).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_process(void);

#define PID1 "749d3265aba08afa096822b62e7c250ed63b6b0c7507ace84ffc467129c94d29"
#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define POD "/kubepods/burstable/pod0c9a4f1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
#define WEB "/podman/ztp-web"
#define SEC 1000000000ull

static char root[256];
static char config[2048];
static uint64_t clock_ns = 1000 * SEC;

static void put(const char *rel, const char *fmt, ...)
{
	char path[1024], *slash;
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void rm_rf(const char *rel)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

/* A process in the fake /proc, in `path` in every hierarchy (v2 too). */
static void fake_proc(unsigned pid, unsigned ppid, const char *comm, const char *path, unsigned flags)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "proc/%u/stat", pid);
	put(rel, "%u (%s) S %u 1 1 0 -1 %u 0 0 0 0 1 1 0 0 20 0 1 0 100 1000 10 1 1 1 1 1 1 0 0 0 0 0 0 0 17 0 0 0 "
		 "5 0 0\n",
	    pid, comm, ppid, flags);
	snprintf(rel, sizeof(rel), "proc/%u/cgroup", pid);
	put(rel, "4:memory:%s\n3:blkio:%s\n2:cpuacct:%s\n1:cpu:%s\n0::%s\n", path, path, path, path, path);
	snprintf(rel, sizeof(rel), "proc/%u/schedstat", pid);
	put(rel, "1000 %u 3\n", pid * 1000u);
	snprintf(rel, sizeof(rel), "proc/%u/status", pid);
	put(rel, "Name:\t%s\nUmask:\t0022\nState:\tS\nTgid:\t%u\nPid:\t%u\n", comm, pid, pid);
}

/* A cgroup with resource files in the hybrid layout. */
static void fake_cgroup(const char *path, uint64_t usage_ns, uint64_t rss)
{
	char rel[512];
#define CG(h, f) (snprintf(rel, sizeof(rel), "cg/%s%s/%s", h, path, f), rel)
	put(CG("cpuacct", "cpuacct.usage"), "%llu\n", (unsigned long long)usage_ns);
	put(CG("cpu", "cpu.stat"), "nr_periods 5\nnr_throttled 1\nthrottled_time 250000000\n");
	put(CG("cpu", "cpu.cfs_quota_us"), "50000\n");
	put(CG("cpu", "cpu.cfs_period_us"), "100000\n");
	put(CG("memory", "memory.limit_in_bytes"), "16777216\n");
	put(CG("memory", "memory.stat"), "cache 1\nrss 2\ntotal_cache 8192\ntotal_rss %llu\n", (unsigned long long)rss);
	put(CG("blkio", "blkio.throttle.io_service_bytes_recursive"),
	    "4095:4095 Read 4096\n4095:4095 Write 512\n4095:4095 Total 4608\nTotal 4608\n");
	put(CG("blkio", "blkio.throttle.io_serviced_recursive"), "4095:4095 Read 2\n4095:4095 Write 1\nTotal 3\n");
	put(CG("unified", "cpu.pressure"), "some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n"
					   "full avg10=0.00 avg60=0.00 avg300=0.00 total=500000\n");
	put(CG("unified", "memory.pressure"), "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
					      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
#undef CG
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "%s/zt_test_process.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return -1;
	/* hierarchy markers the plugin looks for */
	put("cg/unified/cgroup.controllers", "cpu io memory pids\n");
	put("cg/cpu/cpu.shares", "1024\n");
	put("cg/cpuacct/cpuacct.usage", "1\n");
	put("cg/memory/memory.stat", "total_rss 1\n");
	put("cg/blkio/blkio.throttle.io_service_bytes", "Total 0\n");
	put("proc/sys/kernel/task_delayacct", "1\n");
	put("podman/overlay-containers/containers.json",
	    "[{\"id\":\"" PID1 "\",\"names\":[\"ztp-web\"],\"image\":\"274ca09e\",\"metadata\":"
	    "\"{\\\"image-name\\\":\\\"localhost/bb:1\\\",\\\"name\\\":\\\"ztp-web\\\"}\"}]");
	put("kubelet/README", "log links appear here\n");
	put("docker/containers/.keep", "");
	fake_proc(1, 0, "init", "/", 0);
	fake_proc(2, 0, "kthreadd", "/", 0x00200000);
	fake_proc(90, 1, "conmon", "/libpod_parent/conmon", 0);
	fake_proc(100, 90, "nginx", "/libpod_parent/libpod-" PID1, 0);
	fake_cgroup("/libpod_parent/libpod-" PID1, 2500000000ull, 49152);
	snprintf(config, sizeof(config),
		 "{\"interval_ms\":1000,\"container_ttl_ms\":60000,\"proc_root\":\"%s/proc\",\"cgroup_root\":\"%s/cg\","
		 "\"podman_storage\":\"%s/podman\",\"docker_root\":\"%s/docker\",\"kubelet_log_dir\":\"%s/kubelet\"}",
		 root, root, root, root, root);
	clock_ns = 1000 * SEC;
	mock_set_clock(clock_ns, clock_ns);
	return 0;
}

static int teardown(void **state)
{
	mock_reset();
	rm_rf("");
	return 0;
}

static void advance(uint64_t ns)
{
	clock_ns += ns;
	mock_set_clock(clock_ns, clock_ns);
}

static void event(struct mock_plugin *p, uint32_t type, uint32_t pid, uint32_t ppid, const char *comm)
{
	struct zt_process_event ev = { .struct_size = sizeof(ev), .type = type, .pid = pid, .ppid = ppid };
	ev.comm = (struct zt_str){ comm, comm ? strlen(comm) : 0 };
	mock_plugin_process_event(p, &ev);
}

static void test_schema(void **state)
{
	const struct zt_plugin_desc *d = zt_builtin_entry_process();
	static const char *const keys[] = { "interval_ms", "container_ttl_ms", "include_root_cgroup", "enable_delayacct", "proc_root",
					    "cgroup_root", "podman_storage", "docker_root", "kubelet_log_dir" };
	size_t n = 0;

	assert_int_equal(mock_plugin_check(d), 0);
	assert_int_equal(d->kind, ZT_KIND_DISCOVERY);
	assert_string_equal(d->name, "process");
	for (const struct zt_config_field *f = d->config; f->key; f++, n++) {
		assert_string_equal(f->key, keys[n]);
		assert_non_null(f->doc);
		assert_non_null(f->default_json);
	}
	assert_int_equal(n, sizeof(keys) / sizeof(keys[0]));
}

static void test_scan_and_metrics(void **state)
{
	struct mock_plugin *p;
	const struct mock_container *c;
	const struct mock_process *pr;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_process, NULL, config, &p), 0);
	assert_int_equal(mock_timer_count(p->inst), 1);
	assert_int_equal(mock_timer_interval(p->inst, 0), 1000000000ull);
	/* predating processes are found; kernel threads are not processes */
	assert_int_equal(mock_process_count(), 3);
	assert_null(mock_process_get(2));
	pr = mock_process_get(100);
	assert_non_null(pr);
	assert_string_equal(pr->container_id, WEB);
	assert_string_equal(pr->app_id, WEB);
	assert_string_equal(pr->comm, "nginx");
	assert_int_equal(pr->ppid, 90);
	assert_string_equal(mock_process_get(90)->container_id, "/libpod_parent/conmon");
	assert_string_equal(mock_process_get(1)->container_id, "/");
	c = mock_container_get(WEB);
	assert_non_null(c);
	assert_string_equal(c->name, "ztp-web");
	assert_string_equal(c->image, "localhost/bb:1");
	assert_string_equal(c->runtime, "podman");

	mock_fire_timers();
	assert_true(mock_metric_value("container_info", WEB, WEB, "localhost/bb:1", "", "", NULL) == 1);
	assert_true(mock_metric_value("container_restarts_total", WEB, WEB, NULL) == 0);
	assert_true(mock_metric_value("container_oom_kills_total", WEB, WEB, NULL) == 0);
	assert_true(mock_metric_value("container_application_type", WEB, WEB, "nginx", NULL) == 1);
	assert_true(mock_metric_value("container_resources_cpu_usage_seconds_total", WEB, WEB, NULL) == 2.5);
	assert_true(mock_metric_value("container_resources_cpu_throttled_seconds_total", WEB, WEB, NULL) == 0.25);
	assert_true(mock_metric_value("container_resources_cpu_limit_cores", WEB, WEB, NULL) == 0.5);
	assert_true(mock_metric_value("container_resources_memory_limit_bytes", WEB, WEB, NULL) == 16777216);
	assert_true(mock_metric_value("container_resources_memory_rss_bytes", WEB, WEB, NULL) == 49152);
	assert_true(mock_metric_value("container_resources_memory_cache_bytes", WEB, WEB, NULL) == 8192);
	assert_true(mock_metric_value("container_resources_disk_read_bytes_total", WEB, WEB, "", "4095:4095", "",
				      NULL) == 4096);
	assert_true(mock_metric_value("container_resources_disk_written_bytes_total", WEB, WEB, "", "4095:4095", "",
				      NULL) == 512);
	assert_true(mock_metric_value("container_resources_disk_reads_total", WEB, WEB, "", "4095:4095", "", NULL) ==
		    2);
	assert_true(mock_metric_value("container_resources_disk_writes_total", WEB, WEB, "", "4095:4095", "",
				      NULL) == 1);
	assert_true(mock_metric_value("container_resources_cpu_pressure_waiting_seconds_total", WEB, WEB, "some",
				      NULL) == 1.5);
	assert_true(mock_metric_value("container_resources_cpu_pressure_waiting_seconds_total", WEB, WEB, "full",
				      NULL) == 0.5);
	assert_true(mock_metric_value("container_resources_memory_pressure_waiting_seconds_total", WEB, WEB, "some",
				      NULL) == 0);
	/* no io.pressure file: no series rather than a 0 */
	assert_false(mock_metric_exists("container_resources_io_pressure_waiting_seconds_total", WEB, WEB, "some",
					NULL));
	/* run delay of pid 100 (100000 ns), blkio ticks 5 at USER_HZ */
	assert_true(mock_metric_value("container_resources_cpu_delay_seconds_total", WEB, WEB, NULL) == 0.0001);
	assert_true(fabs(mock_metric_value("container_resources_disk_delay_seconds_total", WEB, WEB, NULL) -
			 5.0 / (double)sysconf(_SC_CLK_TCK)) < 1e-9);
	/* the root cgroup gets no container metrics by default; conmon's
	 * shared cgroup is a plain path and has no cpu files here */
	assert_false(mock_metric_exists("container_info", "/", "/", "", "", "", NULL));
	assert_false(mock_metric_exists("container_resources_cpu_usage_seconds_total", "/libpod_parent/conmon",
					"/libpod_parent/conmon", NULL));
	assert_false(mock_log_contains("ERROR"));
	mock_plugin_stop(p);
}

static void test_restart_oom_and_expiry(void **state)
{
	struct mock_plugin *p;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_process, NULL, config, &p), 0);
	mock_fire_timers();
	assert_true(mock_metric_value("container_resources_cpu_delay_seconds_total", WEB, WEB, NULL) == 0.0001);

	/* the process waits more, then exits: its delay stays counted */
	put("proc/100/schedstat", "1000 300000 3\n");
	event(p, ZT_PROC_EXIT, 100, 90, "nginx");
	assert_null(mock_process_get(100));
	rm_rf("proc/100");
	mock_fire_timers();
	assert_true(mock_metric_value("container_resources_cpu_delay_seconds_total", WEB, WEB, NULL) == 0.0003);

	/* podman restart: the cgroup is recreated and its counters restart
	 * from zero, at a value that may already exceed the old one */
	/* The old directory is moved aside, not removed: a freed inode number
	 * may be handed to the new directory on some filesystems (cgroupfs
	 * never reuses ids), which would hide the recreation. */
	{
		char from[1024], to[1024];
		snprintf(from, sizeof(from), "%s/cg/cpuacct/libpod_parent", root);
		snprintf(to, sizeof(to), "%s/old_cpuacct_parent", root);
		assert_int_equal(rename(from, to), 0);
	}
	fake_cgroup("/libpod_parent/libpod-" PID1, 3000000000ull, 4096);
	fake_proc(300, 90, "nginx", "/libpod_parent/libpod-" PID1, 0);
	event(p, ZT_PROC_EXEC, 300, 90, "nginx");
	assert_string_equal(mock_process_get(300)->container_id, WEB);
	assert_true(mock_metric_value("container_restarts_total", WEB, WEB, NULL) == 1);
	mock_fire_timers();
	assert_true(mock_metric_value("container_resources_cpu_usage_seconds_total", WEB, WEB, NULL) == 5.5);
	assert_true(mock_metric_value("container_resources_memory_rss_bytes", WEB, WEB, NULL) == 4096);

	/* OOM: the victim task may be a thread, and may be marked twice */
	put("proc/301/status", "Name:\tnginx\nTgid:\t300\nPid:\t301\n");
	event(p, ZT_PROC_OOM, 301, 0, NULL);
	event(p, ZT_PROC_OOM, 300, 0, NULL);
	event(p, ZT_PROC_OOM, 301, 0, NULL);
	assert_true(mock_metric_value("container_oom_kills_total", WEB, WEB, NULL) == 1);
	/* an unknown pid that is gone: nothing to count */
	event(p, ZT_PROC_OOM, 4242, 0, NULL);

	/* EXEC handled after the process became a zombie: its cgroup file
	 * reads "/" everywhere, which must not move it out of the container */
	fake_proc(302, 300, "python3", "/", 0);
	put("proc/302/stat", "302 (python3) Z 300 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 100 0 0 1 1 1 1 1 1 0 0 0 0 0 0 0 17 0 0 0 "
			     "5 0 0\n");
	event(p, ZT_PROC_EXEC, 302, 300, "python3");
	assert_non_null(mock_process_get(302));
	assert_string_equal(mock_process_get(302)->container_id, WEB);
	event(p, ZT_PROC_EXIT, 302, 300, "python3");
	rm_rf("proc/302");

	/* FORK whose child already vanished: the parent's container */
	event(p, ZT_PROC_FORK, 301, 300, "nginx");
	assert_string_equal(mock_process_get(301)->container_id, WEB);
	/* and its EXIT arrives */
	event(p, ZT_PROC_EXIT, 301, 300, "nginx");
	assert_null(mock_process_get(301));

	/* lost EXIT: the process vanished from /proc */
	rm_rf("proc/300");
	mock_fire_timers();
	assert_null(mock_process_get(300));
	assert_non_null(mock_container_get(WEB));

	/* no process for container_ttl_ms: forgotten with its series */
	advance(59 * SEC);
	mock_fire_timers();
	assert_non_null(mock_container_get(WEB));
	advance(2 * SEC);
	mock_fire_timers();
	assert_null(mock_container_get(WEB));
	assert_false(mock_metric_exists("container_restarts_total", WEB, WEB, NULL));
	assert_false(mock_metric_exists("container_resources_cpu_usage_seconds_total", WEB, WEB, NULL));
	assert_non_null(mock_container_get("/libpod_parent/conmon"));
	mock_plugin_stop(p);
}

static void test_k8s_late_names(void **state)
{
	struct mock_plugin *p;
	const char *id = "/k8s/shop/web-5d8c7b9f4d-x7k2p/nginx";

	assert_int_equal(mock_plugin_start(zt_builtin_entry_process, NULL, config, &p), 0);
	/* the kubelet links the log only after the container started */
	fake_proc(500, 1, "nginx", POD "/" K1, 0);
	fake_cgroup(POD "/" K1, 1000000000ull, 100);
	event(p, ZT_PROC_EXEC, 500, 1, "nginx");
	assert_string_equal(mock_process_get(500)->container_id, "/containerd/" K1);
	event(p, ZT_PROC_OOM, 500, 0, NULL);
	mock_fire_timers();
	assert_false(mock_metric_exists("container_info", "/containerd/" K1, "/containerd/" K1, "", "", "", NULL));

	put("kubelet/web-5d8c7b9f4d-x7k2p_shop_nginx-" K1 ".log", "");
	advance(SEC);
	mock_fire_timers();
	assert_string_equal(mock_process_get(500)->container_id, id);
	assert_string_equal(mock_process_get(500)->app_id, "/k8s/shop/web");
	assert_null(mock_container_get("/containerd/" K1));
	assert_string_equal(mock_container_get(id)->runtime, "containerd");
	mock_fire_timers();
	assert_true(mock_metric_value("container_resources_cpu_usage_seconds_total", id, "/k8s/shop/web", NULL) == 1);
	/* the OOM seen under the temporary name is kept */
	assert_true(mock_metric_value("container_oom_kills_total", id, "/k8s/shop/web", NULL) == 1);

	/* the container restarts: a new runtime id, found late again, merged */
	event(p, ZT_PROC_EXIT, 500, 1, "nginx");
	rm_rf("proc/500");
	fake_proc(501, 1, "nginx", POD "/" K2, 0);
	fake_cgroup(POD "/" K2, 200000000ull, 100);
	event(p, ZT_PROC_EXEC, 501, 1, "nginx");
	assert_string_equal(mock_process_get(501)->container_id, "/containerd/" K2);
	put("kubelet/web-5d8c7b9f4d-x7k2p_shop_nginx-" K2 ".log", "");
	advance(SEC);
	mock_fire_timers();
	assert_string_equal(mock_process_get(501)->container_id, id);
	assert_null(mock_container_get("/containerd/" K2));
	assert_true(mock_metric_value("container_restarts_total", id, "/k8s/shop/web", NULL) == 1);
	mock_fire_timers();
	assert_true(mock_metric_value("container_resources_cpu_usage_seconds_total", id, "/k8s/shop/web", NULL) ==
		    1.2);

	/* a pause container never named: no metrics, and after the retry
	 * window it keeps its runtime id */
	fake_proc(600, 1, "pause", POD "/" "3333333333333333333333333333333333333333333333333333333333333333", 0);
	event(p, ZT_PROC_EXEC, 600, 1, "pause");
	advance(121 * SEC);
	mock_fire_timers();
	mock_fire_timers();
	assert_non_null(mock_process_get(600));
	assert_false(mock_metric_exists(
		"container_restarts_total", "/containerd/3333333333333333333333333333333333333333333333333333333333333333",
		"/containerd/3333333333333333333333333333333333333333333333333333333333333333", NULL));
	mock_plugin_stop(p);
}


/* The device label the plugin gives the test directory's filesystem, and
 * the mountinfo type and source that make it one: a block device is named
 * from sysfs; on an anonymous device (tmpfs, overlay: a CI container) the
 * test calls it btrfs, which is named by its source. */
static void test_fs(struct stat *st, char *dev, size_t devlen, const char **type, const char **src)
{
	char path[128], buf[1024], *d;
	FILE *f;

	assert_int_equal(stat(root, st), 0);
	*type = major(st->st_dev) ? "ext4" : "btrfs";
	*src = "/dev/ztfake0";
	if (!major(st->st_dev)) {
		snprintf(dev, devlen, "ztfake0");
		return;
	}
	snprintf(dev, devlen, "%u:%u", major(st->st_dev), minor(st->st_dev));
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(st->st_dev), minor(st->st_dev));
	f = fopen(path, "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "DEVNAME=", 8) && (d = strchr(buf, '\n'))) {
			*d = 0;
			snprintf(dev, devlen, "%.63s", buf + 8);
		}
	if (f)
		fclose(f);
}

static void test_disk_usage(void **state)
{
	struct mock_plugin *p;
	struct stat st;
	struct statvfs sv;
	char dev[64], vol[512], link[512], mnt[4096];
	const char *type, *src;
	unsigned ma, mi;

	test_fs(&st, dev, sizeof(dev), &type, &src);
	ma = major(st.st_dev);
	mi = minor(st.st_dev);
	/* the host sees its filesystem at "/"; the container's root and its
	 * volume are directories of it */
	put("proc/1/mountinfo", "21 1 %u:%u / / rw - %s %s rw\n22 21 0:5 / /proc rw - proc proc rw\n", ma, mi, type,
	    src);
	put("ctr/data/.keep", "");
	put("ctr/nfs/sub/.keep", "");
	put("ctr/etc/hosts", "127.0.0.1 localhost\n");
	put("outside/d/.keep", "");
	put("vol/.keep", "");
	snprintf(link, sizeof(link), "%s/outside", root);
	snprintf(vol, sizeof(vol), "%s/ctr/esc", root);
	assert_int_equal(symlink(link, vol), 0); /* leads out of the container if followed */
	snprintf(link, sizeof(link), "%s/ctr", root);
	snprintf(vol, sizeof(vol), "%s/proc/100/root", root);
	assert_int_equal(symlink(link, vol), 0);
	snprintf(vol, sizeof(vol), "%s/vol", root);
	snprintf(mnt, sizeof(mnt),
		 "75 49 %u:%u %s/ctr / rw - %s %s rw\n"
		 "76 75 %u:%u %s/vol /data rw - %s %s rw\n"
		 "77 75 %u:%u %s/ctr/etc/hosts /etc/hosts rw - %s %s rw\n"
		 "78 75 0:43 / /proc rw,nosuid - proc proc rw\n"
		 "79 75 0:60 / /nfs rw - nfs4 srv:/export rw\n"
		 "80 79 %u:%u %s/vol /nfs/sub rw - %s %s rw\n"
		 "81 75 %u:%u %s/outside /esc/d rw - %s %s rw\n"
		 "this is not a mountinfo line\n",
		 ma, mi, root, type, src, ma, mi, root, type, src, ma, mi, root, type, src, ma, mi, root, type, src, ma,
		 mi, root, type, src);
	put("proc/100/mountinfo", "%s", mnt);
	/* a service that sees the host's own filesystem has no disks */
	fake_proc(200, 1, "sshd", "/system.slice/ssh.service", 0);
	put("proc/200/mountinfo", "21 1 %u:%u / / rw - %s %s rw\n", ma, mi, type, src);

	assert_int_equal(mock_plugin_start(zt_builtin_entry_process, NULL, config, &p), 0);
	mock_fire_timers();
	assert_int_equal(statvfs(root, &sv), 0);
	double size = (double)sv.f_blocks * (double)sv.f_frsize;
	assert_true(mock_metric_value("container_resources_disk_size_bytes", WEB, WEB, "/", dev, "", NULL) == size);
	assert_true(mock_metric_value("container_resources_disk_size_bytes", WEB, WEB, "/data", dev, vol, NULL) == size);
	double used = mock_metric_value("container_resources_disk_used_bytes", WEB, WEB, "/data", dev, vol, NULL);
	double resv = mock_metric_value("container_resources_disk_reserved_bytes", WEB, WEB, "/data", dev, vol, NULL);
	assert_true(used > 0 && used <= size);
	assert_true(resv >= 0 && used + resv <= size);
	/* and nothing else: not a file bind mount, pseudo filesystems, NFS and
	 * what is below it, a path that only a symlink out of the container
	 * reaches, nor the service that sees the host's "/" */
	assert_int_equal(mock_metric_series_count("container_resources_disk_size_bytes"), 2);
	assert_int_equal(mock_metric_series_count("container_resources_disk_used_bytes"), 2);
	assert_int_equal(mock_metric_series_count("container_resources_disk_reserved_bytes"), 2);

	/* the volume goes away: seen at the next refresh, 30 s later */
	put("proc/100/mountinfo", "75 49 %u:%u %s/ctr / rw - %s %s rw\n", ma, mi, root, type, src);
	advance(SEC);
	mock_fire_timers();
	assert_true(mock_metric_exists("container_resources_disk_size_bytes", WEB, WEB, "/data", dev, vol, NULL));
	advance(30 * SEC);
	mock_fire_timers();
	assert_false(mock_metric_exists("container_resources_disk_size_bytes", WEB, WEB, "/data", dev, vol, NULL));
	assert_true(mock_metric_exists("container_resources_disk_size_bytes", WEB, WEB, "/", dev, "", NULL));
	assert_int_equal(mock_metric_series_count("container_resources_disk_used_bytes"), 1);
	assert_int_equal(mock_metric_series_count("container_resources_disk_reserved_bytes"), 1);
	mock_plugin_stop(p);
}

static void test_bad_config(void **state)
{
	struct mock_plugin *p = NULL;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_process, NULL, "{\"interval_ms\":0}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_process, NULL, "{\"nope\":1}", &p), -EINVAL);
	assert_null(p);
	/* a missing proc_root is logged, not fatal */
	assert_int_equal(mock_plugin_start(zt_builtin_entry_process, NULL, "{\"proc_root\":\"/nonexistent\"}", &p), 0);
	assert_int_equal(mock_process_count(), 0);
	mock_plugin_stop(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_and_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_oom_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_k8s_late_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
