/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process discovery plugin's pure parsers: /proc/PID/cgroup, cgroup
 * path classification for every runtime layout, kubelet log names, k8s
 * workloads, application types, runtime metadata files (testdata/), the
 * cgroup/proc resource file parsers, /proc/PID/mountinfo, and taskstats
 * generic netlink messages (crafted buffers, then one real round trip).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

#include "cgroup.h"
#include "meta.h"
#include "stats.h"

#define ID1 "c59bf02778afb51d989289823799f7b3eb91be438bf3664b9e6a7a52200fdcfc"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "0c9a4f1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
#define UID_ "0c9a4f1e_2b3d_4e5f_8a9b_0c1d2e3f4a5b"

static char testdata[2048];

static const char *td(const char *rel)
{
	static char buf[4][4096];
	static int i;
	char *b = buf[i++ % 4];
	assert_true((size_t)snprintf(b, sizeof(buf[0]), "%s/%s", testdata, rel) < sizeof(buf[0]));
	return b;
}

static char *slurp(const char *rel, size_t *len)
{
	char *buf = NULL;
	assert_int_equal(pd_meta_read_file(td(rel), 1 << 20, &buf, len), 0);
	return buf;
}

static int sl_eq(struct cg_slice s, const char *lit)
{
	return s.p && s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

/* ------------------------------------------------------ /proc/PID/cgroup */

static void test_parse_hybrid_podman(void **state)
{
	size_t len;
	char *buf = slurp("proc_cgroup/podman_cgroupfs_hybrid", &len);
	struct cg_proc_paths p;
	struct cg_slice id;
	const char *want = "/libpod_parent/libpod-749d3265aba08afa096822b62e7c250ed63b6b0c7507ace84ffc467129c94d29";

	assert_int_equal(pd_cg_parse_proc_cgroup(buf, len, &p), 0);
	assert_int_equal(p.lines, 10);
	assert_int_equal(p.malformed, 0);
	assert_true(sl_eq(p.v2, want));
	assert_true(sl_eq(p.memory, want));
	assert_true(sl_eq(p.cpu, want));
	assert_true(sl_eq(p.cpuacct, want));
	assert_true(sl_eq(p.blkio, want));
	assert_true(sl_eq(p.systemd, want));
	assert_int_equal(pd_cg_identity_path(&p, &id), 0);
	assert_true(sl_eq(id, want));
	free(buf);
}

static void test_parse_hybrid_conmon_and_plain(void **state)
{
	size_t len;
	char *buf = slurp("proc_cgroup/conmon_cgroupfs_hybrid", &len);
	struct cg_proc_paths p;
	struct cg_slice id;

	/* v2 is "/": the v1 memory path decides */
	assert_int_equal(pd_cg_parse_proc_cgroup(buf, len, &p), 0);
	assert_true(sl_eq(p.v2, "/"));
	assert_int_equal(pd_cg_identity_path(&p, &id), 0);
	assert_true(sl_eq(id, "/libpod_parent/conmon"));
	free(buf);

	buf = slurp("proc_cgroup/plain_v1_memory_only", &len);
	assert_int_equal(pd_cg_parse_proc_cgroup(buf, len, &p), 0);
	assert_true(sl_eq(p.cpu, "/"));
	assert_int_equal(pd_cg_identity_path(&p, &id), 0);
	assert_true(sl_eq(id, "/batch/job-42"));
	free(buf);

	buf = slurp("proc_cgroup/root_hybrid", &len);
	assert_int_equal(pd_cg_parse_proc_cgroup(buf, len, &p), 0);
	assert_int_equal(pd_cg_identity_path(&p, &id), 0);
	assert_true(sl_eq(id, "/"));
	free(buf);
}

static void test_parse_v2_and_comounted(void **state)
{
	const char *v2 = "0::/system.slice/nginx.service\n";
	const char *v1 = "12:cpu,cpuacct:/docker/" ID1 "\n11:memory:/docker/" ID1 "\n1:name=systemd:/docker/" ID1 "\n";
	const char *sysd = "3:name=systemd:/user.slice/user-0.slice/session-1.scope\n2:cpu,cpuacct:/\n1:memory:/\n0::/\n";
	struct cg_proc_paths p;
	struct cg_slice id;

	assert_int_equal(pd_cg_parse_proc_cgroup(v2, strlen(v2), &p), 0);
	assert_true(sl_eq(p.v2, "/system.slice/nginx.service"));
	assert_null(p.memory.p);
	assert_int_equal(pd_cg_identity_path(&p, &id), 0);
	assert_true(sl_eq(id, "/system.slice/nginx.service"));

	assert_int_equal(pd_cg_parse_proc_cgroup(v1, strlen(v1), &p), 0);
	assert_true(sl_eq(p.cpu, "/docker/" ID1));
	assert_true(sl_eq(p.cpuacct, "/docker/" ID1));
	assert_null(p.v2.p);
	assert_int_equal(pd_cg_identity_path(&p, &id), 0);
	assert_true(sl_eq(id, "/docker/" ID1));

	/* only name=systemd is non-root: it decides */
	assert_int_equal(pd_cg_parse_proc_cgroup(sysd, strlen(sysd), &p), 0);
	assert_int_equal(pd_cg_identity_path(&p, &id), 0);
	assert_true(sl_eq(id, "/user.slice/user-0.slice/session-1.scope"));
}

static void test_parse_malformed(void **state)
{
	char big[CG_PATH_MAX + 64];
	char buf[4096];
	struct cg_proc_paths p;
	struct cg_slice id;

	/* junk lines are skipped and counted, good ones still parse */
	const char *mixed = "garbage\n:::\nx:cpu:/a\n1:cpu:relative\n2:memory:\n\n3:blkio:/ok\r\n"
			    "0::/kubepods/burstable/pod" UID "/cri-containerd:" ID1 "\n4:memory:/a\001b\n";
	assert_int_equal(pd_cg_parse_proc_cgroup(mixed, strlen(mixed), &p), 0);
	assert_int_equal(p.lines, 2);
	assert_int_equal(p.malformed, 6);
	assert_true(sl_eq(p.blkio, "/ok"));
	/* the path keeps its own colons */
	assert_true(sl_eq(p.v2, "/kubepods/burstable/pod" UID "/cri-containerd:" ID1));

	/* a dead v2 cgroup */
	const char *dead = "0::/libpod_parent/libpod-" ID1 " (deleted)\n";
	assert_int_equal(pd_cg_parse_proc_cgroup(dead, strlen(dead), &p), 0);
	assert_true(sl_eq(p.v2, "/libpod_parent/libpod-" ID1));

	/* overlong path: refused, the next line still counts */
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	snprintf(buf, sizeof(buf), "4:memory:%.*s\n1:cpu:/short", CG_PATH_MAX + 10, big);
	assert_int_equal(pd_cg_parse_proc_cgroup(buf, strlen(buf), &p), 0);
	assert_null(p.memory.p);
	assert_int_equal(p.malformed, 1);
	assert_true(sl_eq(p.cpu, "/short"));

	/* nothing usable */
	assert_int_equal(pd_cg_parse_proc_cgroup("", 0, &p), -EINVAL);
	assert_int_equal(pd_cg_parse_proc_cgroup("nonsense", 8, &p), -EINVAL);
	assert_int_equal(pd_cg_parse_proc_cgroup(NULL, 0, &p), -EINVAL);
	assert_int_equal(pd_cg_identity_path(&p, &id), -ENOENT);
	/* no trailing newline, length shorter than the string */
	assert_int_equal(pd_cg_parse_proc_cgroup("0::/a/b\n0::/c", 7, &p), 0);
	assert_true(sl_eq(p.v2, "/a/b"));
}

/* ------------------------------------------------------------- classify */

struct cls_case {
	const char *path;
	uint32_t kind, runtime;
	const char *id;
	const char *base;
	const char *pod_uid;
};

static void check_case(const struct cls_case *c)
{
	struct cg_ident ci;

	assert_int_equal(pd_cg_classify(c->path, strlen(c->path), &ci), 0);
	if (ci.kind != c->kind)
		fail_msg("%s: kind %u, want %u", c->path, ci.kind, c->kind);
	assert_int_equal(ci.runtime, c->runtime);
	assert_string_equal(ci.id, c->id ? c->id : "");
	if (c->base) {
		assert_int_equal(ci.base_len, strlen(c->base));
		assert_memory_equal(c->path, c->base, ci.base_len);
	}
	assert_string_equal(ci.pod_uid, c->pod_uid ? c->pod_uid : "");
}

static void test_classify_runtimes(void **state)
{
	static const struct cls_case cases[] = {
		/* docker: cgroupfs and systemd drivers, docker-in-docker */
		{ "/docker/" ID1, CG_KIND_DOCKER, 0, ID1, "/docker/" ID1 },
		{ "/docker/" ID1 "/", CG_KIND_DOCKER, 0, ID1, "/docker/" ID1 },
		{ "/docker/" ID1 "/docker/" ID2, CG_KIND_DOCKER, 0, ID1, "/docker/" ID1 },
		{ "/system.slice/docker-" ID1 ".scope", CG_KIND_DOCKER, CG_RT_DOCKER, ID1,
		  "/system.slice/docker-" ID1 ".scope" },
		/* k8s, cgroupfs driver: guaranteed, burstable, besteffort */
		{ "/kubepods/pod" UID "/" ID1, CG_KIND_K8S, CG_RT_UNKNOWN, ID1, NULL, UID },
		{ "/kubepods/burstable/pod" UID "/" ID1, CG_KIND_K8S, CG_RT_UNKNOWN, ID1,
		  "/kubepods/burstable/pod" UID "/" ID1, UID },
		{ "/kubepods/besteffort/pod" UID "/crio-" ID1, CG_KIND_K8S, CG_RT_CRIO, ID1, NULL, UID },
		{ "/kubepods/besteffort/pod" UID "/crio-conmon-" ID1, CG_KIND_HELPER, 0, ID1, NULL, UID },
		/* k8s, systemd driver */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID1
		  ".scope",
		  CG_KIND_K8S, CG_RT_CONTAINERD, ID1, NULL, UID },
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID1 ".scope/sub", CG_KIND_K8S,
		  CG_RT_CONTAINERD, ID1, "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID1 ".scope",
		  UID },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-" ID1 ".scope",
		  CG_KIND_K8S, CG_RT_CRIO, ID1, NULL, UID },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-conmon-" ID1
		  ".scope",
		  CG_KIND_HELPER, 0, ID1, NULL, UID },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/docker-" ID1 ".scope",
		  CG_KIND_K8S, CG_RT_DOCKER, ID1, NULL, UID },
		/* kind / nested kubelet */
		{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
		  "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" ID1 ".scope",
		  CG_KIND_K8S, CG_RT_CONTAINERD, ID1, NULL, NULL },
		{ "/kubepods/pod" UID, CG_KIND_PLAIN, 0, NULL, "/kubepods/pod" UID, UID },
		/* podman: cgroupfs, systemd, split, rootless, conmon */
		{ "/libpod_parent/libpod-" ID1, CG_KIND_PODMAN, 0, ID1, "/libpod_parent/libpod-" ID1 },
		{ "/libpod_parent/conmon", CG_KIND_PLAIN, 0, NULL, "/libpod_parent/conmon" },
		{ "/machine.slice/libpod-" ID1 ".scope", CG_KIND_PODMAN, 0, ID1, NULL },
		{ "/machine.slice/libpod-" ID1 ".scope/container", CG_KIND_PODMAN, 0, ID1,
		  "/machine.slice/libpod-" ID1 ".scope" },
		{ "/machine.slice/libpod-conmon-" ID1 ".scope", CG_KIND_HELPER, 0, ID1,
		  "/machine.slice/libpod-conmon-" ID1 ".scope" },
		{ "/machine.slice/machine-libpod_pod_" ID2 ".slice/libpod-" ID1 ".scope", CG_KIND_PODMAN, 0, ID1,
		  NULL },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID1 ".scope", CG_KIND_PODMAN, 0,
		  ID1, NULL },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" ID1 ".scope",
		  CG_KIND_HELPER, 0, ID1, NULL },
		/* not containers */
		{ "/", CG_KIND_ROOT, 0, NULL, "/" },
		{ "///", CG_KIND_ROOT, 0, NULL, "/" },
		{ "/init.scope", CG_KIND_PLAIN, 0, NULL, "/init.scope" },
		{ "/system.slice", CG_KIND_PLAIN, 0, NULL, "/system.slice" },
		{ "/user.slice/user-0.slice/session-3.scope", CG_KIND_PLAIN, 0, NULL, NULL },
		{ "/docker/abc", CG_KIND_PLAIN, 0, NULL, "/docker/abc" },
		{ "/docker/C59BF02778AFB51D989289823799F7B3EB91BE438BF3664B9E6A7A52200FDCFC", CG_KIND_PLAIN, 0, NULL,
		  NULL },
		{ "/lxc/" ID1, CG_KIND_PLAIN, 0, NULL, NULL },
		{ "/batch/libpod-" ID1 "x", CG_KIND_PLAIN, 0, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void test_classify_systemd(void **state)
{
	struct cg_ident ci;
	char buf[256];
	const char *p;

	p = "/system.slice/nginx.service";
	assert_int_equal(pd_cg_classify(p, strlen(p), &ci), 0);
	assert_int_equal(ci.kind, CG_KIND_SYSTEMD);
	assert_string_equal(ci.unit, "nginx.service");
	assert_string_equal(pd_cg_unit_suffix(ci.unit), "service");
	assert_int_equal(pd_cg_plain_container_id(p, strlen(p), &ci, buf, sizeof(buf)), (int)strlen(p));
	assert_string_equal(buf, "/system.slice/nginx.service");

	/* a unit's own sub-cgroups belong to the unit */
	p = "/system.slice/docker.service/cgroup-child";
	assert_int_equal(pd_cg_classify(p, strlen(p), &ci), 0);
	assert_int_equal(ci.kind, CG_KIND_SYSTEMD);
	assert_int_equal(pd_cg_plain_container_id(p, strlen(p), &ci, buf, sizeof(buf)), (int)strlen("/system.slice/docker.service"));
	assert_string_equal(buf, "/system.slice/docker.service");

	/* nested slice, escaped instance */
	p = "/system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service";
	assert_int_equal(pd_cg_classify(p, strlen(p), &ci), 0);
	assert_int_equal(ci.kind, CG_KIND_SYSTEMD);
	assert_string_equal(ci.unit, "serial-getty@ttyS0.service");
	assert_true(pd_cg_plain_container_id(p, strlen(p), &ci, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/system.slice/system-serial-getty.slice/serial-getty@ttyS0.service");

	p = "/system.slice/cron.scope";
	assert_int_equal(pd_cg_classify(p, strlen(p), &ci), 0);
	assert_int_equal(ci.kind, CG_KIND_SYSTEMD);
	assert_string_equal(pd_cg_unit_suffix(ci.unit), "scope");

	/* a slice with no unit in it is a plain path */
	p = "/system.slice/system-foo.slice";
	assert_int_equal(pd_cg_classify(p, strlen(p), &ci), 0);
	assert_int_equal(ci.kind, CG_KIND_PLAIN);

	/* plain and root ids; ids the path alone cannot name */
	p = "/user.slice/user-1000.slice/session-2.scope/";
	assert_int_equal(pd_cg_classify(p, strlen(p), &ci), 0);
	assert_int_equal(ci.kind, CG_KIND_PLAIN);
	assert_int_equal(ci.has_user_uid, 1);
	assert_int_equal(ci.user_uid, 1000);
	assert_true(pd_cg_plain_container_id(p, strlen(p), &ci, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/user.slice/user-1000.slice/session-2.scope");
	assert_int_equal(pd_cg_plain_container_id(p, strlen(p), &ci, buf, 10), -ENOSPC);
	assert_int_equal(pd_cg_classify("/", 1, &ci), 0);
	assert_int_equal(pd_cg_plain_container_id("/", 1, &ci, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");
	p = "/docker/" ID1;
	assert_int_equal(pd_cg_classify(p, strlen(p), &ci), 0);
	assert_int_equal(pd_cg_plain_container_id(p, strlen(p), &ci, buf, sizeof(buf)), -EINVAL);
}

static void test_classify_invalid(void **state)
{
	struct cg_ident ci;
	char big[CG_PATH_MAX + 2];

	assert_int_equal(pd_cg_classify("", 0, &ci), -EINVAL);
	assert_int_equal(pd_cg_classify(NULL, 0, &ci), -EINVAL);
	assert_int_equal(pd_cg_classify("docker/x", 8, &ci), -EINVAL);
	assert_int_equal(pd_cg_classify("/a\nb", 4, &ci), -EINVAL);
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	assert_int_equal(pd_cg_classify(big, CG_PATH_MAX + 1, &ci), -EINVAL);
	assert_int_equal(pd_cg_classify(big, CG_PATH_MAX, &ci), 0);
	assert_int_equal(ci.kind, CG_KIND_PLAIN);
	/* huge uid in user-N.slice is ignored, not wrapped */
	assert_int_equal(pd_cg_classify("/user.slice/user-99999999999.slice/x", 36, &ci), 0);
	assert_int_equal(ci.has_user_uid, 0);
}

/* ------------------------------------------------------------------ k8s */

static void test_kubelet_log_names(void **state)
{
	struct cg_k8s_name k;
	const char *n = "web-5d8c7b9f4d-x7k2p_shop_log-shipper-" ID1 ".log";

	assert_int_equal(pd_cg_parse_kubelet_log_name(n, strlen(n), &k), 0);
	assert_true(sl_eq(k.pod, "web-5d8c7b9f4d-x7k2p"));
	assert_true(sl_eq(k.ns, "shop"));
	assert_true(sl_eq(k.container, "log-shipper"));
	assert_true(sl_eq(k.id, ID1));

	const char *bad[] = {
		"web_shop_nginx-" ID1,                  /* no .log */
		"web_shop_nginx-abc.log",               /* short id */
		"web_shop_nginx_" ID1 ".log",           /* no dash before the id */
		"web_shop-nginx-" ID1 ".log",           /* one underscore */
		"web_shop_ng_inx-" ID1 ".log",          /* three */
		"_shop_nginx-" ID1 ".log",              /* empty pod */
		"web__nginx-" ID1 ".log",               /* empty namespace */
		"web_shop_-" ID1 ".log",                /* empty container */
		"web_shop_nginx-" ID1 "X.log",          /* not hex */
		"x.log",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pd_cg_parse_kubelet_log_name(bad[i], strlen(bad[i]), &k) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(pd_cg_parse_kubelet_log_name(NULL, 0, &k), -EINVAL);
}

static void check_wl(const char *pod, const char *want)
{
	size_t n = pd_cg_k8s_workload(pod, strlen(pod));
	if (n != strlen(want) || memcmp(pod, want, n))
		fail_msg("workload(%s) = %.*s, want %s", pod, (int)n, pod, want);
}

static void test_k8s_workload(void **state)
{
	check_wl("web-5d8c7b9f4d-x7k2p", "web");                 /* Deployment */
	check_wl("api-gateway-7c9db8f6b-zq2kx", "api-gateway");  /* 9-char hash */
	check_wl("fluentd-x7k2p", "fluentd");                    /* DaemonSet */
	check_wl("node-exporter-4xk9z", "node-exporter");
	check_wl("db-0", "db");                                  /* StatefulSet */
	check_wl("kafka-broker-12", "kafka-broker");
	check_wl("backup-28573920-w7vbd", "backup");             /* CronJob */
	check_wl("etcd-control-plane", "etcd-control-plane");    /* static pod */
	check_wl("nginx", "nginx");
	check_wl("a-bcdfg", "a");
	check_wl("-x7k2p", "-x7k2p");  /* never stripped to nothing */
	check_wl("web-hello", "web-hello");
	check_wl("", "");
	assert_int_equal(pd_cg_k8s_workload(NULL, 0), 0);
}

/* ----------------------------------------------------- application type */

static void test_app_type(void **state)
{
	static const char java_kafka[] = "java\0-Xmx1G\0kafka.Kafka\0/etc/kafka/server.properties";
	static const char java_zk[] = "java\0-cp\0x.jar\0org.apache.zookeeper.server.quorum.QuorumPeerMain";
	static const char beam[] = "/usr/lib/erlang/erts/bin/beam.smp\0--\0-root\0/usr/lib/erlang\0-s\0rabbit";
#define AT(c, cmd, n) pd_cg_app_type(c, strlen(c), cmd, n)
	assert_string_equal(AT("postgres", NULL, 0), "postgres");
	assert_string_equal(AT("mysqld", NULL, 0), "mysql");
	assert_string_equal(AT("mariadbd", NULL, 0), "mysql");
	assert_string_equal(AT("redis-server", NULL, 0), "redis");
	assert_string_equal(AT("memcached", NULL, 0), "memcached");
	assert_string_equal(AT("nginx", NULL, 0), "nginx");
	assert_string_equal(AT("mongod", NULL, 0), "mongodb");
	assert_string_equal(AT("clickhouse-serv", NULL, 0), "clickhouse");
	assert_string_equal(AT("php-fpm8.2", NULL, 0), "php-fpm");
	assert_null(AT("nginx-proxy", NULL, 0));
	assert_null(AT("postgres2", NULL, 0));
	assert_null(AT("sleep", NULL, 0));
	assert_true(pd_cg_app_type_needs_cmdline("java", 4));
	assert_false(pd_cg_app_type_needs_cmdline("nginx", 5));
	assert_string_equal(AT("java", java_kafka, sizeof(java_kafka)), "kafka");
	assert_string_equal(AT("java", java_zk, sizeof(java_zk)), "zookeeper");
	assert_string_equal(AT("beam.smp", beam, sizeof(beam)), "rabbitmq");
	assert_null(AT("java", NULL, 0));
	assert_null(AT("java", "java\0-jar\0app.jar", 17));
	/* the cmdline only counts for shared runtimes */
	assert_null(AT("python3", java_kafka, sizeof(java_kafka)));
	assert_null(pd_cg_app_type(NULL, 0, NULL, 0));
#undef AT
	assert_int_equal(pd_cg_app_type_index("postgres"), 0);
	assert_string_equal(pd_cg_app_type_name(pd_cg_app_type_index("rabbitmq")), "rabbitmq");
	assert_int_equal(pd_cg_app_type_index("nope"), -1);
	assert_null(pd_cg_app_type_name(-1));
	assert_null(pd_cg_app_type_name(CG_APP_TYPES_MAX));
}

/* ------------------------------------------------------------- metadata */

static void test_podman_real_file(void **state)
{
	struct meta_podman_db db = { 0 };
	struct meta_info mi;
	struct meta_stamp first;

	/* captured from podman 4.3 on this project's test machine */
	assert_int_equal(pd_meta_podman_refresh(&db, td("podman")), 0);
	assert_int_equal(db.n, 2);
	assert_int_equal(pd_meta_podman_lookup(&db, "749d3265aba08afa096822b62e7c250ed63b6b0c7507ace84ffc467129c94d29", &mi),
			 0);
	assert_string_equal(mi.name, "ztp-web");
	assert_string_equal(mi.image, "localhost/bb:1"); /* metadata's image-name, not the image id */
	assert_int_equal(pd_meta_podman_lookup(&db, "123e17ea61cda1992fcb1c9ffa1527346d3fc469abf519d7604255c43048eef3", &mi),
			 0);
	assert_string_equal(mi.name, "ztp-db");
	assert_int_equal(pd_meta_podman_lookup(&db, ID2, &mi), -ENOENT);
	/* unchanged file: not re-read */
	first = db.stamp;
	assert_int_equal(pd_meta_podman_refresh(&db, td("podman")), 0);
	assert_memory_equal(&first, &db.stamp, sizeof(first));
	assert_int_equal(db.n, 2);
	/* missing storage keeps what was loaded */
	assert_int_equal(pd_meta_podman_refresh(&db, td("nowhere")), -ENOENT);
	assert_int_equal(db.n, 2);
	pd_meta_podman_free(&db);
}

static void test_podman_parse_edge(void **state)
{
	struct meta_podman_db db = { 0 };
	struct meta_info mi;
	const char *no_md = "[{\"id\":\"" ID1 "\",\"names\":[\"a\",\"b\"],\"image\":\"sha\"},"
			    "{\"id\":\"short\",\"names\":[\"x\"]},{\"names\":[\"y\"]},7,"
			    "{\"id\":\"" ID2 "\",\"metadata\":\"not json\",\"image\":\"img2\"}]";

	assert_int_equal(pd_meta_podman_parse(no_md, strlen(no_md), &db), 0);
	assert_int_equal(db.n, 2);
	assert_int_equal(pd_meta_podman_lookup(&db, ID1, &mi), 0);
	assert_string_equal(mi.name, "a");
	assert_string_equal(mi.image, "sha"); /* no metadata: the image id */
	/* a record without a name cannot name a container */
	assert_int_equal(pd_meta_podman_lookup(&db, ID2, &mi), -ENOENT);
	/* bad input leaves the db as it was */
	assert_int_equal(pd_meta_podman_parse("{}", 2, &db), -EINVAL);
	assert_int_equal(pd_meta_podman_parse("[", 1, &db), -EINVAL);
	assert_int_equal(db.n, 2);
	assert_int_equal(pd_meta_podman_parse("[]", 2, &db), 0);
	assert_int_equal(db.n, 0);
	pd_meta_podman_free(&db);
	pd_meta_podman_free(&db); /* idempotent */
}

static void test_docker(void **state)
{
	struct meta_info mi;

	assert_int_equal(pd_meta_docker_read(td("docker"), "3f4e8a1b2c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7", &mi),
			 0);
	assert_string_equal(mi.name, "shop-web-1");
	assert_string_equal(mi.image, "nginx:1.25");
	assert_int_equal(mi.is_k8s, 0);
	/* dockershim: k8s labels name the pod */
	assert_int_equal(pd_meta_docker_read(td("docker"), "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9", &mi),
			 0);
	assert_int_equal(mi.is_k8s, 1);
	assert_int_equal(mi.is_sandbox, 0);
	assert_string_equal(mi.k8s_pod, "cache-7d9f8b6c5d-x2k8q");
	assert_string_equal(mi.k8s_ns, "prod");
	assert_string_equal(mi.k8s_container, "redis");
	assert_int_equal(pd_meta_docker_read(td("docker"), ID2, &mi), -ENOENT);
	assert_int_equal(pd_meta_docker_read(td("docker"), "../../etc", &mi), -EINVAL);

	const char *pause = "{\"Name\":\"/k8s_POD_x\",\"Config\":{\"Image\":\"pause:3.9\",\"Labels\":{"
			    "\"io.kubernetes.pod.name\":\"x\",\"io.kubernetes.pod.namespace\":\"d\","
			    "\"io.kubernetes.container.name\":\"POD\",\"io.kubernetes.docker.type\":\"podsandbox\"}}}";
	assert_int_equal(pd_meta_docker_parse(pause, strlen(pause), &mi), 0);
	assert_int_equal(mi.is_sandbox, 1);
	assert_int_equal(pd_meta_docker_parse("[1]", 3, &mi), -EINVAL);
	assert_int_equal(pd_meta_docker_parse("{\"Config\":{}}", 13, &mi), -ENOENT);
	assert_int_equal(pd_meta_docker_parse("{\"Name\":", 8, &mi), -EINVAL);
}

static void test_kubelet(void **state)
{
	struct meta_kubelet_index idx = { 0 };
	struct meta_info mi;

	assert_int_equal(pd_meta_kubelet_refresh(&idx, td("kubelet")), 0);
	assert_int_equal(idx.n, 4);
	assert_int_equal(pd_meta_kubelet_lookup(&idx, "5c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d", &mi), 0);
	assert_int_equal(mi.is_k8s, 1);
	assert_string_equal(mi.k8s_pod, "web-5d8c7b9f4d-x7k2p");
	assert_string_equal(mi.k8s_ns, "shop");
	assert_string_equal(mi.k8s_container, "log-shipper");
	assert_int_equal(pd_meta_kubelet_lookup(&idx, "6d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e", &mi), 0);
	assert_string_equal(mi.k8s_pod, "db-0");
	assert_string_equal(mi.k8s_ns, "prod");
	assert_int_equal(pd_meta_kubelet_lookup(&idx, ID1, &mi), -ENOENT);
	/* unchanged directory: nothing re-read */
	assert_int_equal(pd_meta_kubelet_refresh(&idx, td("kubelet")), 0);
	assert_int_equal(idx.n, 4);
	assert_int_equal(pd_meta_kubelet_refresh(&idx, td("nowhere")), -ENOENT);
	assert_int_equal(idx.n, 4);
	pd_meta_kubelet_free(&idx);
}

static void test_systemd_units(void **state)
{
	const char *dirs[] = { td("nowhere"), td("systemd"), NULL };
	struct meta_unit u;
	char type[32];

	assert_int_equal(pd_meta_unit_read(dirs, "nginx.service", &u), 0);
	assert_string_equal(u.type, "forking");
	assert_string_equal(u.triggered_by, "");
	assert_int_equal(pd_meta_unit_read(dirs, "backup.service", &u), 0);
	assert_string_equal(u.type, "oneshot");
	assert_string_equal(u.triggered_by, "backup.timer");
	assert_int_equal(pd_meta_unit_read(dirs, "getty@tty1.service", &u), 0);
	assert_string_equal(u.type, "idle");
	assert_int_equal(pd_meta_unit_read(dirs, "sshd.service", &u), 0);
	assert_string_equal(u.type, "simple");
	assert_string_equal(u.triggered_by, "sshd.socket");
	assert_int_equal(pd_meta_unit_read(dirs, "unknown.service", &u), 0);
	assert_string_equal(u.type, "");
	assert_int_equal(pd_meta_unit_read(dirs, "session-1.scope", &u), 0);
	assert_string_equal(u.type, "");

	/* Type= outside [Service], comments, last one wins */
	const char *f = "[Unit]\nType=bogus\n[Service]\n;Type=x\nType=simple\nType=notify\n[Install]\nType=y\n";
	pd_meta_unit_parse_type(f, strlen(f), type, sizeof(type));
	assert_string_equal(type, "notify");
	pd_meta_unit_parse_type("", 0, type, sizeof(type));
	assert_string_equal(type, "");
	pd_meta_unit_parse_type("[Service]\nTypeX=1\nType\n", 22, type, sizeof(type));
	assert_string_equal(type, "");
}

static void test_passwd(void **state)
{
	char home[64];

	assert_int_equal(pd_meta_passwd_home(td("passwd"), 1000, home, sizeof(home)), 0);
	assert_string_equal(home, "/home/alice");
	assert_int_equal(pd_meta_passwd_home(td("passwd"), 1001, home, sizeof(home)), 0);
	assert_string_equal(home, "/srv/bob");
	assert_int_equal(pd_meta_passwd_home(td("passwd"), 0, home, sizeof(home)), 0);
	assert_string_equal(home, "/root");
	assert_int_equal(pd_meta_passwd_home(td("passwd"), 5, home, sizeof(home)), -ENOENT);
	assert_int_equal(pd_meta_passwd_home(td("passwd"), 1000, home, 4), -ENOSPC);
	assert_int_equal(pd_meta_passwd_home(td("nowhere"), 0, home, sizeof(home)), -ENOENT);
}

static void test_read_file_limits(void **state)
{
	char *buf = NULL;
	size_t len;

	assert_int_equal(pd_meta_read_file(td("passwd"), 10, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(pd_meta_read_file(td("nowhere"), 10, &buf, &len), -ENOENT);
	/* kernel files report size 0: read to EOF */
	assert_int_equal(pd_meta_read_file("/proc/self/stat", 1 << 16, &buf, &len), 0);
	assert_true(len > 10);
	assert_int_equal(buf[len], 0);
	free(buf);
}

/* ------------------------------------------------------- resource files */

static void test_stats_parsers(void **state)
{
	uint64_t v;
	int64_t i;
	double cores;
	struct st_psi psi;
	const char *cpu_stat = "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods 10\n"
			       "nr_throttled 2\nthrottled_usec 5000\n";
	const char *v1_cpu_stat = "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n";
	const char *memstat = "cache 0\nrss 49152\nrss_huge 0\ntotal_cache 8192\ntotal_rss 49152\n";

	assert_int_equal(pd_st_kv_get(cpu_stat, strlen(cpu_stat), "usage_usec", &v), 0);
	assert_int_equal(v, 123456);
	assert_int_equal(pd_st_kv_get(cpu_stat, strlen(cpu_stat), "throttled_usec", &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(pd_st_kv_get(cpu_stat, strlen(cpu_stat), "usage", &v), -ENOENT);
	assert_int_equal(pd_st_kv_get(v1_cpu_stat, strlen(v1_cpu_stat), "throttled_time", &v), 0);
	assert_int_equal(v, 0);
	/* "rss" must not match "rss_huge" or "total_rss" */
	assert_int_equal(pd_st_kv_get(memstat, strlen(memstat), "rss", &v), 0);
	assert_int_equal(v, 49152);
	assert_int_equal(pd_st_kv_get(memstat, strlen(memstat), "total_cache", &v), 0);
	assert_int_equal(v, 8192);

	assert_int_equal(pd_st_parse_u64("16777216\n", &v), 0);
	assert_int_equal(v, 16777216);
	assert_int_equal(pd_st_parse_u64("9223372036854771712\n", &v), 0);
	assert_true(v >= ST_MEM_UNLIMITED);
	assert_int_equal(pd_st_parse_u64("max\n", &v), -EINVAL);
	assert_int_equal(pd_st_parse_u64("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(pd_st_parse_u64("12 13", &v), -EINVAL);
	assert_int_equal(pd_st_parse_i64("-1\n", &i), 0);
	assert_int_equal(i, -1);

	assert_int_equal(pd_st_cpu_max("max 100000\n", &cores), -ENOENT);
	assert_int_equal(pd_st_cpu_max("50000 100000\n", &cores), 0);
	assert_true(cores == 0.5);
	assert_int_equal(pd_st_cpu_max("50000\n", &cores), -EINVAL);
	assert_int_equal(pd_st_cpu_max("1 0\n", &cores), -EINVAL);
	assert_int_equal(pd_st_cfs_cores(-1, 100000, &cores), -ENOENT);
	assert_int_equal(pd_st_cfs_cores(200000, 100000, &cores), 0);
	assert_true(cores == 2.0);
	assert_int_equal(pd_st_cfs_cores(1, 0, &cores), -EINVAL);

	const char *pr = "some avg10=0.00 avg60=0.00 avg300=0.00 total=4293\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=866\n";
	assert_int_equal(pd_st_parse_psi(pr, strlen(pr), &psi), 0);
	assert_int_equal(psi.some_us, 4293);
	assert_int_equal(psi.full_us, 866);
	assert_int_equal(psi.has_full, 1);
	assert_int_equal(pd_st_parse_psi("some avg10=1.00 total=7\n", 24, &psi), 0);
	assert_int_equal(psi.has_full, 0);
	assert_int_equal(pd_st_parse_psi("nothing\n", 8, &psi), -EINVAL);

	assert_int_equal(pd_st_parse_schedstat("504351 1234 1\n", &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(pd_st_parse_schedstat("504351\n", &v), -EINVAL);
}

static void test_pid_stat(void **state)
{
	struct st_pidstat ps;
	char line[1024];
	size_t o;
	/* comm with spaces and ')'; fields 3..52 of a 6.x kernel */
	o = (size_t)snprintf(line, sizeof(line), "4242 (we) ird) name) S");
	for (int f = 4; f <= 52; f++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %u",
				      f == 4 ? 17u : f == 9 ? 0x00400100u : f == 42 ? 77u : (unsigned)f);
	snprintf(line + o, sizeof(line) - o, "\n");
	assert_int_equal(pd_st_parse_pid_stat(line, strlen(line), &ps), 0);
	assert_string_equal(ps.comm, "we) ird) name");
	assert_int_equal(ps.ppid, 17);
	assert_int_equal(ps.flags, 0x00400100u);
	assert_int_equal(ps.has_blkio, 1);
	assert_int_equal(ps.blkio_ticks, 77);
	assert_int_equal(ps.starttime, 22);
	/* a kernel thread, and an old kernel's short line */
	const char *kt = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 1";
	assert_int_equal(pd_st_parse_pid_stat(kt, strlen(kt), &ps), 0);
	assert_true(ps.flags & ST_PF_KTHREAD);
	assert_int_equal(ps.has_blkio, 0);
	assert_int_equal(pd_st_parse_pid_stat("1 (x S 0", 8, &ps), -EINVAL);
	assert_int_equal(pd_st_parse_pid_stat("1 (x) S z", 9, &ps), -EINVAL);
	/* the real thing */
	char *buf = NULL;
	size_t len;
	assert_int_equal(pd_meta_read_file("/proc/self/stat", 1 << 16, &buf, &len), 0);
	assert_int_equal(pd_st_parse_pid_stat(buf, len, &ps), 0);
	assert_int_equal(ps.has_blkio, 1);
	free(buf);
}

static void test_block_io(void **state)
{
	struct st_dev_io io[2];
	size_t n = 0;
	const char *bytes = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n"
			    "253:1 Read 1\n253:1 Write 2\n259:0 Read 5\nTotal 12288\n";
	const char *ios = "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n";
	const char *v2 = "8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n254:0 rbytes=1 wbytes=0 rios=1 wios=0\n";

	/* merged by device; capped at the array size */
	assert_int_equal(pd_st_parse_blkio(bytes, strlen(bytes), 0, io, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(io[0].major, 8);
	assert_int_equal(io[0].rbytes, 4096);
	assert_int_equal(io[0].wbytes, 8192);
	assert_int_equal(io[1].major, 253);
	assert_int_equal(io[1].minor, 1);
	assert_int_equal(pd_st_parse_blkio(ios, strlen(ios), 1, io, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(io[0].rios, 1);
	assert_int_equal(io[0].wios, 2);
	assert_int_equal(io[0].rbytes, 4096);

	n = 0;
	assert_int_equal(pd_st_parse_io_stat(v2, strlen(v2), io, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(io[0].rbytes, 100);
	assert_int_equal(io[0].wbytes, 200);
	assert_int_equal(io[0].rios, 3);
	assert_int_equal(io[0].wios, 4);
	assert_int_equal(io[1].major, 254);
	n = 0;
	assert_int_equal(pd_st_parse_blkio("Total 0\n", 8, 0, io, 2, &n), 0);
	assert_int_equal(n, 0);

	char name[16];
	const char *ue = "MAJOR=253\nMINOR=0\nDEVNAME=zram0\nDEVTYPE=disk\n";
	assert_int_equal(pd_st_uevent_devname(ue, strlen(ue), name, sizeof(name)), 0);
	assert_string_equal(name, "zram0");
	assert_int_equal(pd_st_uevent_devname("MAJOR=1\n", 8, name, sizeof(name)), -ENOENT);
	assert_int_equal(pd_st_uevent_devname(ue, strlen(ue), name, 3), -ENOSPC);
}


/* ------------------------------------------------------------ mountinfo */

static int mi(const char *line, struct st_mount *m)
{
	return pd_st_parse_mountinfo(line, strlen(line), m);
}

static void test_mountinfo_real(void **state)
{
	size_t len, n = 0, disk = 0;
	char *buf = slurp("proc_mountinfo/podman_volumes", &len);
	struct st_mount *m = malloc(sizeof(*m));

	assert_non_null(m);
	for (const char *p = buf, *end = buf + len; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		assert_int_equal(pd_st_parse_mountinfo(p, (size_t)(le - p), m), 0);
		p = nl ? nl + 1 : end;
		int cls = pd_st_mount_class(m);
		if (n == 0) {
			/* the container's root: an overlay, its upper layer on the host */
			assert_string_equal(m->mount_point, "/");
			assert_string_equal(m->fstype, "overlay");
			assert_int_equal(cls, ST_MNT_OVERLAY);
			assert_string_equal(m->upperdir, "/var/lib/containers/storage/overlay/"
							 "e6108b24fd895753f529e49ee0a9eb718866b7a98ed55e5a2d29454a000a9a6e/diff");
		} else if (n == 1) {
			/* -v "/tmp/with space:/my vol" */
			assert_string_equal(m->root, "/tmp/with space");
			assert_string_equal(m->mount_point, "/my vol");
			assert_int_equal(m->major, 254);
			assert_int_equal(m->minor, 0);
			assert_string_equal(m->source, "/dev/vda");
			assert_string_equal(m->upperdir, "");
		} else if (n == 2) {
			assert_string_equal(m->root, "/tmp/x");
			assert_string_equal(m->mount_point, "/data");
		}
		if (!strcmp(m->mount_point, "/proc") || !strcmp(m->mount_point, "/dev") ||
		    !strcmp(m->mount_point, "/sys/fs/cgroup/memory"))
			assert_int_equal(cls, ST_MNT_SKIP);
		disk += cls == ST_MNT_DISK;
	}
	/* two volumes and three file bind mounts (/etc/hosts ...: the plugin
	 * drops those when they are not directories) */
	assert_int_equal(n, 31);
	assert_int_equal(disk, 5);
	free(m);
	free(buf);
}

static void test_mountinfo_fields(void **state)
{
	struct st_mount *m = malloc(sizeof(*m));
	char *longline = malloc(4096);

	assert_non_null(m);
	/* optional fields, escapes of space, tab, newline and backslash */
	assert_int_equal(mi("36 35 98:0 /mnt\\0401 /a\\011b\\012c\\134d rw,noatime shared:1 master:2 "
			    "propagate_from:3 unbindable - ext3 /dev/root rw,errors=continue", m), 0);
	assert_int_equal(m->major, 98);
	assert_string_equal(m->root, "/mnt 1");
	assert_string_equal(m->mount_point, "/a\tb\nc\\d");
	assert_string_equal(m->fstype, "ext3");
	assert_string_equal(m->source, "/dev/root");
	/* no optional field; an empty source (two spaces); no super options */
	assert_int_equal(mi("1 0 0:5 / /x rw - tmpfs  rw,size=4k", m), 0);
	assert_string_equal(m->source, "");
	assert_int_equal(mi("1 0 8:1 / /x rw - ext4 /dev/sda1", m), 0);
	assert_string_equal(m->source, "/dev/sda1");
	/* a backslash that starts no escape stays; an escaped NUL is refused */
	assert_int_equal(mi("1 0 8:1 /a\\9b /x\\04 rw - ext4 s o", m), 0);
	assert_string_equal(m->root, "/a\\9b");
	assert_string_equal(m->mount_point, "/x\\04");
	assert_int_equal(mi("1 0 8:1 /a\\000 /x rw - ext4 s o", m), -EINVAL);
	assert_int_equal(pd_st_parse_mountinfo("1 0 8:1 /a\0b /x rw - ext4 s o", 29, m), -EINVAL);
	/* overlay's escaped ',' in upperdir; an overlay without one is read-only */
	assert_int_equal(mi("9 1 0:40 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u\\054v/diff,workdir=/w", m), 0);
	assert_string_equal(m->upperdir, "/u,v/diff");
	assert_int_equal(pd_st_mount_class(m), ST_MNT_OVERLAY);
	assert_int_equal(mi("9 1 0:40 / / ro - overlay overlay ro,lowerdir=/a:/b", m), 0);
	assert_int_equal(pd_st_mount_class(m), ST_MNT_SKIP);
	/* hostile lines */
	assert_int_equal(mi("", m), -EINVAL);
	assert_int_equal(mi("36 35 98:0", m), -EINVAL);
	assert_int_equal(mi("36 35 98:0 / /x rw master:1 ext4 /dev/sda o", m), -EINVAL); /* no "-" */
	assert_int_equal(mi("36 35 98:0 / /x rw -", m), -EINVAL);
	assert_int_equal(mi("36 35 98:0 / /x rw - ext4", m), -EINVAL);
	assert_int_equal(mi("36 35 98:0 / /x rw -  /dev/sda o", m), -EINVAL); /* empty type */
	assert_int_equal(mi("x 35 98:0 / /x rw - ext4 /dev/sda o", m), -EINVAL);
	assert_int_equal(mi("36 35 98:z / /x rw - ext4 /dev/sda o", m), -EINVAL);
	assert_int_equal(mi("36 35 98 / /x rw - ext4 /dev/sda o", m), -EINVAL);
	assert_int_equal(mi("36 35 99999999999:0 / /x rw - ext4 /dev/sda o", m), -EINVAL);
	assert_int_equal(mi("36 35 98:0 rel /x rw - ext4 /dev/sda o", m), -EINVAL);
	assert_int_equal(mi("36 35 98:0 / x rw - ext4 /dev/sda o", m), -EINVAL);
	assert_int_equal(mi("36  35 98:0 / /x rw - ext4 /dev/sda o", m), -EINVAL);
	size_t o = (size_t)snprintf(longline, 4096, "1 0 8:1 /");
	memset(longline + o, 'a', 2000);
	snprintf(longline + o + 2000, 4096 - o - 2000, " /x rw - ext4 s o");
	assert_int_equal(mi(longline, m), -ENAMETOOLONG);
	memset(longline, 0, 4096);
	o = (size_t)snprintf(longline, 4096, "1 0 8:1 / /x rw - ");
	memset(longline + o, 'f', 100);
	snprintf(longline + o + 100, 4096 - o - 100, " s o");
	assert_int_equal(mi(longline, m), -ENAMETOOLONG);
	/* every prefix of a good line is either refused or a shorter good line */
	const char *good = "36 35 98:0 /mnt\\0401 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue";
	for (size_t i = 0; i < strlen(good); i++) {
		int err = pd_st_parse_mountinfo(good, i, m);
		assert_true(err == 0 || err == -EINVAL);
	}
	free(longline);
	free(m);
}

static void test_mount_class_and_host(void **state)
{
	struct st_mount *m = malloc(sizeof(*m));
	char out[64];
	const struct st_hmount hm[] = {
		{ 254, 0, ST_MNT_DISK, "/", "/", "/dev/vda" },
		{ 8, 16, ST_MNT_DISK, "/", "/var/lib/docker", "/dev/sdb" },
		{ 254, 0, ST_MNT_DISK, "/srv/data", "/mnt/bind", "/dev/vda" },
		{ 0, 50, ST_MNT_SKIP, "/", "/var/lib/docker/tmp", "tmpfs" },
		{ 0, 45, ST_MNT_ANON, "/@home", "/home", "/dev/sda2" },
		{ 8, 16, ST_MNT_DISK, "/volumes", "/vols", "/dev/sdb" },
	};
	const size_t n = sizeof(hm) / sizeof(hm[0]);

	assert_non_null(m);
	assert_int_equal(mi("1 0 0:60 / /n rw - nfs4 srv:/e rw", m), 0);
	assert_int_equal(pd_st_mount_class(m), ST_MNT_REMOTE);
	assert_int_equal(mi("1 0 0:61 / /f rw - fuse.sshfs u@h: rw", m), 0);
	assert_int_equal(pd_st_mount_class(m), ST_MNT_REMOTE);
	assert_int_equal(mi("1 0 8:3 / /w rw - fuseblk /dev/sda3 rw", m), 0);
	assert_int_equal(pd_st_mount_class(m), ST_MNT_REMOTE);
	assert_int_equal(mi("1 0 0:45 /@home /h rw - btrfs /dev/sda2 rw", m), 0);
	assert_int_equal(pd_st_mount_class(m), ST_MNT_ANON);
	assert_int_equal(mi("1 0 0:22 / /t rw - tmpfs tmpfs rw", m), 0);
	assert_int_equal(pd_st_mount_class(m), ST_MNT_SKIP);
	assert_int_equal(mi("1 0 8:1 / /d rw - xfs /dev/sda1 rw", m), 0);
	assert_int_equal(pd_st_mount_class(m), ST_MNT_DISK);

	assert_true(pd_st_path_under("/a/b", "/a"));
	assert_true(pd_st_path_under("/a", "/a"));
	assert_true(pd_st_path_under("/x", "/"));
	assert_false(pd_st_path_under("/ab", "/a"));
	assert_false(pd_st_path_under("/a", "/a/b"));

	/* the host mount holding a path: the deepest one */
	assert_ptr_equal(pd_st_hmount_of(hm, n, "/var/lib/docker/overlay2/x/diff"), &hm[1]);
	assert_ptr_equal(pd_st_hmount_of(hm, n, "/var/lib/docker/tmp/t"), &hm[3]);
	assert_ptr_equal(pd_st_hmount_of(hm, n, "/var/lib/dockerx"), &hm[0]);
	assert_ptr_equal(pd_st_hmount_of(hm, n, "/"), &hm[0]);
	assert_null(pd_st_hmount_of(hm, n, "relative"));

	/* host paths of bind sources: the canonical mount wins over a bind */
	assert_int_equal(pd_st_host_path(hm, n, 254, 0, "/tmp/x", out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/x");
	assert_int_equal(pd_st_host_path(hm, n, 254, 0, "/srv/data/sub", out, sizeof(out)), 0);
	assert_string_equal(out, "/srv/data/sub");
	assert_int_equal(pd_st_host_path(hm, n, 254, 0, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(pd_st_host_path(hm, n, 8, 16, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/var/lib/docker");
	assert_int_equal(pd_st_host_path(hm, n, 8, 16, "/volumes/v/_data", out, sizeof(out)), 0);
	assert_string_equal(out, "/var/lib/docker/volumes/v/_data");
	/* only a subvolume is mounted: paths outside it are not on the host */
	assert_int_equal(pd_st_host_path(hm, n, 0, 45, "/@home/u", out, sizeof(out)), 0);
	assert_string_equal(out, "/home/u");
	assert_int_equal(pd_st_host_path(hm, n, 0, 45, "/@root", out, sizeof(out)), -ENOENT);
	assert_int_equal(pd_st_host_path(hm, n, 9, 9, "/", out, sizeof(out)), -ENOENT);
	assert_int_equal(pd_st_host_path(hm, n, 8, 16, "/volumes/a-very-long-volume-name-here/_data", out, 32),
			 -ENAMETOOLONG);
	free(m);
}

/* ------------------------------------------------------ taskstats netlink */

/* Appends an attribute (header + payload, padded) at *off. */
static void put_attr(uint8_t *b, size_t *off, uint16_t type, const void *p, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type };
	memcpy(b + *off, &a, sizeof(a));
	if (n)
		memcpy(b + *off + NLA_HDRLEN, p, n);
	*off += NLA_ALIGN(NLA_HDRLEN + n);
}

static void set_u16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* A reply as the kernel builds it: nlmsghdr, genlmsghdr, AGGR_TGID {TGID,
 * NULL padding, STATS}. The offsets of the lengths are returned for the
 * tests that corrupt them. */
struct crafted {
	uint8_t b[1024];
	size_t len, aggr_off, tgid_off, stats_off;
};

static void craft_reply(struct crafted *c, uint16_t family, uint32_t seq, uint32_t tgid, size_t stats_len)
{
	struct nlmsghdr h = { .nlmsg_type = family, .nlmsg_seq = seq };
	struct genlmsghdr g = { .cmd = TASKSTATS_CMD_NEW, .version = 1 };
	struct taskstats ts;
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN, inner;

	memset(c, 0, sizeof(*c));
	memset(&ts, 0, sizeof(ts));
	ts.version = TASKSTATS_VERSION;
	ts.cpu_count = 7;
	ts.cpu_delay_total = 1234567890123ull;
	ts.blkio_count = 3;
	ts.blkio_delay_total = 987654321ull;
	ts.ac_etime = 5000000;
	c->aggr_off = off;
	off += NLA_HDRLEN;
	inner = off;
	c->tgid_off = off;
	put_attr(c->b, &off, TASKSTATS_TYPE_TGID, &tgid, sizeof(tgid));
	put_attr(c->b, &off, TASKSTATS_TYPE_NULL, NULL, 0);
	c->stats_off = off;
	put_attr(c->b, &off, TASKSTATS_TYPE_STATS, &ts, stats_len);
	set_u16(c->b + c->aggr_off, (uint16_t)(off - inner + NLA_HDRLEN));
	set_u16(c->b + c->aggr_off + 2, NLA_F_NESTED | TASKSTATS_TYPE_AGGR_TGID);
	h.nlmsg_len = (uint32_t)off;
	memcpy(c->b, &h, sizeof(h));
	memcpy(c->b + NLMSG_HDRLEN, &g, sizeof(g));
	c->len = off;
}

static void craft_error(uint8_t *b, size_t *len, uint32_t seq, int error)
{
	struct nlmsghdr h = { .nlmsg_len = NLMSG_HDRLEN + sizeof(struct nlmsgerr), .nlmsg_type = NLMSG_ERROR,
			      .nlmsg_seq = seq };
	struct nlmsgerr e = { .error = error };
	memcpy(b, &h, sizeof(h));
	memcpy(b + NLMSG_HDRLEN, &e, sizeof(e));
	*len = h.nlmsg_len;
}

static void test_taskstats_messages(void **state)
{
	struct crafted *c = malloc(sizeof(*c));
	struct st_taskstats ts;
	uint8_t req[64], two[2048];
	struct nlmsghdr h;
	struct nlattr a;
	uint32_t v32;
	size_t len;
	int n;

	assert_non_null(c);
	/* requests */
	n = pd_st_taskstats_request(req, sizeof(req), 27, 5, 4242);
	assert_int_equal(n, NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 4);
	memcpy(&h, req, sizeof(h));
	assert_int_equal(h.nlmsg_len, n);
	assert_int_equal(h.nlmsg_type, 27);
	assert_int_equal(h.nlmsg_seq, 5);
	assert_int_equal(h.nlmsg_flags, NLM_F_REQUEST);
	assert_int_equal(req[NLMSG_HDRLEN], TASKSTATS_CMD_GET);
	memcpy(&a, req + NLMSG_HDRLEN + GENL_HDRLEN, sizeof(a));
	assert_int_equal(a.nla_type, TASKSTATS_CMD_ATTR_TGID);
	memcpy(&v32, req + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, 4);
	assert_int_equal(v32, 4242);
	assert_int_equal(pd_st_taskstats_request(req, 20, 27, 5, 1), -ENOSPC);
	n = pd_st_genl_family_request(req, sizeof(req), 1, "TASKSTATS");
	assert_int_equal(n, NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + 10));
	assert_string_equal((char *)req + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, "TASKSTATS");

	/* a whole reply, also from an unaligned buffer */
	craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), 0);
	assert_int_equal(ts.tgid, 4242);
	assert_int_equal(ts.version, TASKSTATS_VERSION);
	assert_true(ts.cpu_delay_ns == 1234567890123ull);
	assert_true(ts.blkio_delay_ns == 987654321ull);
	assert_true(ts.etime_us == 5000000);
	memmove(two + 1, c->b, c->len);
	assert_int_equal(pd_st_taskstats_reply(two + 1, c->len, 27, 9, &ts), 0);
	/* another request's answer, another family */
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 8, &ts), -ENOMSG);
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 28, 9, &ts), -ENOMSG);
	/* a late answer followed by ours in one datagram */
	memcpy(two, c->b, c->len);
	len = c->len;
	craft_reply(c, 27, 10, 77, sizeof(struct taskstats));
	memcpy(two + len, c->b, c->len);
	assert_int_equal(pd_st_taskstats_reply(two, len + c->len, 27, 10, &ts), 0);
	assert_int_equal(ts.tgid, 77);
	/* the oldest struct (version 1) ends right after the delays we read */
	craft_reply(c, 27, 9, 1, 48);
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), 0);
	assert_true(ts.etime_us == UINT64_MAX); /* unknown: no bound */
	craft_reply(c, 27, 9, 1, 47);
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), -EBADMSG);

	/* kernel errors */
	craft_error(two, &len, 9, -ESRCH);
	assert_int_equal(pd_st_taskstats_reply(two, len, 27, 9, &ts), -ESRCH);
	assert_int_equal(pd_st_taskstats_reply(two, len, 27, 8, &ts), -ENOMSG);
	craft_error(two, &len, 9, 0);
	assert_int_equal(pd_st_taskstats_reply(two, len, 27, 9, &ts), -ENODATA);
	craft_error(two, &len, 9, 5);
	assert_int_equal(pd_st_taskstats_reply(two, len, 27, 9, &ts), -EBADMSG);
	craft_error(two, &len, 9, -EPERM);
	h.nlmsg_len = NLMSG_HDRLEN + 2; /* error payload cut */
	memcpy(two, &h, 4);
	assert_int_equal(pd_st_taskstats_reply(two, NLMSG_HDRLEN + 2, 27, 9, &ts), -EBADMSG);

	/* truncated datagrams: every prefix is refused, none is read past */
	craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
	for (size_t i = 0; i < c->len; i++) {
		uint8_t *cut = malloc(i ? i : 1);
		assert_non_null(cut);
		memcpy(cut, c->b, i);
		int err = pd_st_taskstats_reply(cut, i, 27, 9, &ts);
		assert_true(err == -EBADMSG || err == -ENOMSG);
		free(cut);
	}
	/* hostile lengths */
	uint32_t nl;
	size_t good = c->len;
	nl = (uint32_t)good + 4; /* message longer than the datagram */
	memcpy(c->b, &nl, 4);
	assert_int_equal(pd_st_taskstats_reply(c->b, good, 27, 9, &ts), -EBADMSG);
	nl = 8; /* shorter than its own header */
	memcpy(c->b, &nl, 4);
	assert_int_equal(pd_st_taskstats_reply(c->b, good, 27, 9, &ts), -EBADMSG);
	nl = NLMSG_HDRLEN + 2; /* no room for the genl header */
	memcpy(c->b, &nl, 4);
	assert_int_equal(pd_st_taskstats_reply(c->b, good, 27, 9, &ts), -EBADMSG);
	static const uint16_t bad_aggr[] = { 0, 2, 3, 0xffff };
	for (size_t i = 0; i < sizeof(bad_aggr) / sizeof(bad_aggr[0]); i++) {
		craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
		set_u16(c->b + c->aggr_off, bad_aggr[i]);
		assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), -EBADMSG);
	}
	/* a nested length past the outer attribute's end */
	craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
	set_u16(c->b + c->stats_off, (uint16_t)(NLA_HDRLEN + sizeof(struct taskstats) + 8));
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), -EBADMSG);
	/* a zero-length attribute must not loop */
	craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
	set_u16(c->b + c->tgid_off, 0);
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), -EBADMSG);
	/* TGID too short, or missing (renamed to an unknown type) */
	craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
	set_u16(c->b + c->tgid_off, NLA_HDRLEN + 2);
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), -EBADMSG);
	craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
	set_u16(c->b + c->tgid_off + 2, 99);
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), -EBADMSG);
	/* a PID aggregate where a TGID one was asked for */
	craft_reply(c, 27, 9, 4242, sizeof(struct taskstats));
	set_u16(c->b + c->aggr_off + 2, TASKSTATS_TYPE_AGGR_PID);
	assert_int_equal(pd_st_taskstats_reply(c->b, c->len, 27, 9, &ts), -EBADMSG);

	/* family lookup answers */
	uint16_t fam = 0, id = 31;
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	memset(c->b, 0, sizeof(c->b));
	put_attr(c->b, &off, CTRL_ATTR_FAMILY_NAME, "TASKSTATS", 10);
	put_attr(c->b, &off, CTRL_ATTR_FAMILY_ID, &id, 2);
	h = (struct nlmsghdr){ .nlmsg_len = (uint32_t)off, .nlmsg_type = GENL_ID_CTRL, .nlmsg_seq = 3 };
	memcpy(c->b, &h, sizeof(h));
	assert_int_equal(pd_st_genl_family_reply(c->b, off, 3, &fam), 0);
	assert_int_equal(fam, 31);
	assert_int_equal(pd_st_genl_family_reply(c->b, off, 4, &fam), -ENOMSG);
	id = 2; /* a control message type is no family */
	memcpy(c->b + off - 4 + 0, &id, 2);
	assert_int_equal(pd_st_genl_family_reply(c->b, off, 3, &fam), -EBADMSG);
	craft_error(two, &len, 3, -ENOENT); /* CONFIG_TASKSTATS=n */
	assert_int_equal(pd_st_genl_family_reply(two, len, 3, &fam), -ENOENT);
	free(c);
}

static void test_delay_plausible(void **state)
{
	const uint64_t S = 1000000000ull;

	/* seen on the 6.18 test kernel: a new dd (0.05 s old) at +4046 s of
	 * block I/O delay, on a machine up for 4046 s */
	assert_false(pd_st_delay_plausible(4046 * S, S / 20, 4046 * S));
	assert_false(pd_st_delay_plausible(2 * 4046 * S, 5 * S, 4046 * S));
	/* within the room, or past it by less than the slack */
	assert_true(pd_st_delay_plausible(4 * S, 5 * S, 4046 * S));
	assert_true(pd_st_delay_plausible(14 * S, 5 * S, 4046 * S));
	/* a long wait that began before the window, far from the uptime */
	assert_true(pd_st_delay_plausible(300 * S, 5 * S, 86400 * S));
	/* a process with many old threads has room for it */
	assert_true(pd_st_delay_plausible(4046 * S, 1000 * 4000 * S, 4046 * S));
	assert_true(pd_st_delay_plausible(UINT64_MAX, UINT64_MAX, 4046 * S));
}

/* One round trip with the running kernel, when it lets us (root with
 * CAP_NET_ADMIN in the initial network namespace). */
static void test_taskstats_live(void **state)
{
	uint8_t req[64], buf[8192];
	struct st_taskstats ts;
	uint16_t fam;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC), n, err;
	ssize_t r;

	if (fd < 0)
		skip();
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = pd_st_genl_family_request(req, sizeof(req), 1, TASKSTATS_GENL_NAME);
	assert_true(n > 0);
	assert_int_equal(send(fd, req, (size_t)n, 0), n);
	r = recv(fd, buf, sizeof(buf), 0);
	assert_true(r > 0);
	err = pd_st_genl_family_reply(buf, (size_t)r, 1, &fam);
	if (err == -ENOENT) {
		close(fd);
		skip();
	}
	assert_int_equal(err, 0);
	n = pd_st_taskstats_request(req, sizeof(req), fam, 2, (uint32_t)getpid());
	assert_int_equal(send(fd, req, (size_t)n, 0), n);
	r = recv(fd, buf, sizeof(buf), 0);
	assert_true(r > 0);
	err = pd_st_taskstats_reply(buf, (size_t)r, fam, 2, &ts);
	close(fd);
	if (err == -EPERM)
		skip();
	assert_int_equal(err, 0);
	assert_int_equal(ts.tgid, (uint32_t)getpid());
	assert_true(ts.version >= 8);
}

int main(void)
{
	const char *src = getenv("ZT_SOURCE_DIR");
	if (src) {
		snprintf(testdata, sizeof(testdata), "%s/plugins/discovery/process/testdata", src);
	} else {
		/* run by hand: find the tree from this file's path */
		const char *f = __FILE__, *cut = strstr(f, "tests/unit/test_cgroup.c");
		snprintf(testdata, sizeof(testdata), "%.*splugins/discovery/process/testdata",
			 cut ? (int)(cut - f) : 0, f);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_hybrid_podman),
		cmocka_unit_test(test_parse_hybrid_conmon_and_plain),
		cmocka_unit_test(test_parse_v2_and_comounted),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_classify_runtimes),
		cmocka_unit_test(test_classify_systemd),
		cmocka_unit_test(test_classify_invalid),
		cmocka_unit_test(test_kubelet_log_names),
		cmocka_unit_test(test_k8s_workload),
		cmocka_unit_test(test_app_type),
		cmocka_unit_test(test_podman_real_file),
		cmocka_unit_test(test_podman_parse_edge),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_kubelet),
		cmocka_unit_test(test_systemd_units),
		cmocka_unit_test(test_passwd),
		cmocka_unit_test(test_read_file_limits),
		cmocka_unit_test(test_stats_parsers),
		cmocka_unit_test(test_pid_stat),
		cmocka_unit_test(test_block_io),
		cmocka_unit_test(test_mountinfo_real),
		cmocka_unit_test(test_mountinfo_fields),
		cmocka_unit_test(test_mount_class_and_host),
		cmocka_unit_test(test_taskstats_messages),
		cmocka_unit_test(test_delay_plausible),
		cmocka_unit_test(test_taskstats_live),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
