/* SPDX-License-Identifier: Apache-2.0 */
#include "kfeatures.h"

#include <errno.h>
#include <pthread.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "plugin_host.h"
#include "registry.h"

#include "proc_event.h"
#include "proc.skel.h"
#include "tcp.h"
#include "tcp_event.h"
#include "tcp.skel.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

struct ring_stat {
	const char *name;
	uint64_t events;
	uint64_t bytes;
};

struct features {
	struct agent *agent;
	struct proc_bpf *proc;
	struct ring_buffer *rb;
	struct ring_stat life;
	struct tcp_bpf *tcp;
	struct ring_buffer *tcp_rb;
	struct ring_stat tcp_ring;
	struct tcp_mod *tcpm;
	int stats_fd; /* BPF_ENABLE_STATS handle: run time accounting while held */
	zt_metric *m_up, *m_events, *m_bytes, *m_lost, *m_prog_ns, *m_prog_cnt;
	uint64_t drain_timer;
	int up, total;
};

/* libbpf's own lines go to debug; the first warning of a load is kept so
 * that a refused feature is reported in one line that says why. */
static char libbpf_last_warn[256];

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	if (level == LIBBPF_WARN && !libbpf_last_warn[0] && !strstr(buf, "RLIMIT_MEMLOCK"))
		snprintf(libbpf_last_warn, sizeof(libbpf_last_warn), "%.200s",
			 strncmp(buf, "libbpf: ", 8) ? buf : buf + 8);
	log_msg(ZT_LOG_DEBUG, "libbpf", "%s", buf);
	return 0;
}

/* libbpf resolves tracepoint ids through tracefs; there is none at boot here. */
static void ensure_tracefs(void)
{
	struct statfs sf;
	if (!statfs("/sys/kernel/tracing/events", &sf))
		return;
	if (!statfs("/sys/kernel/tracing", &sf) && sf.f_type == TRACEFS_MAGIC)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		log_msg(ZT_LOG_WARN, NULL, "mount tracefs on /sys/kernel/tracing: %s", strerror(errno));
	else
		log_msg(ZT_LOG_INFO, NULL, "mounted tracefs on /sys/kernel/tracing");
}

static void set_up(struct features *f, const char *feature, int up)
{
	registry_set(f->m_up, ZT_LV({ feature, strlen(feature) }), up);
	f->total++;
	f->up += up;
}

static int on_life_event(void *ctx, void *data, size_t size)
{
	struct features *f = ctx;
	const struct zt_pev *e = data;
	struct zt_process_event ev = { .struct_size = sizeof(ev) };
	static const uint32_t map[] = { 0, ZT_PROC_EXEC, ZT_PROC_FORK, ZT_PROC_EXIT, ZT_PROC_OOM };

	f->life.events++;
	f->life.bytes += size;
	if (size < sizeof(*e) || e->type < 1 || e->type > 4)
		return 0;
	ev.type = map[e->type];
	ev.pid = e->pid;
	ev.ppid = e->ppid;
	ev.exit_code = e->exit_code;
	ev.ts_ns = e->ts_ns;
	ev.cgroup_id = e->cgroup_id;
	ev.comm.ptr = e->comm;
	ev.comm.len = strnlen(e->comm, sizeof(e->comm));
	plugins_process_event(f->agent, &ev);
	return 0;
}

static int start_proc(struct features *f)
{
	int err;
	f->proc = proc_bpf__open();
	if (!f->proc)
		return -errno;
	err = proc_bpf__load(f->proc);
	if (err)
		return err;
	err = proc_bpf__attach(f->proc);
	if (err)
		return err;
	f->rb = ring_buffer__new(bpf_map__fd(f->proc->maps.lifecycle_rb), on_life_event, f, NULL);
	if (!f->rb)
		return -errno;
	return 0;
}

static int on_tcp_event(void *ctx, void *data, size_t size)
{
	struct features *f = ctx;
	f->tcp_ring.events++;
	f->tcp_ring.bytes += size;
	return tcp_on_event(f->tcpm, data, size);
}

static void drain_cb(void *arg)
{
	features_drain(arg);
}

/* The tcp feature: its own BPF object, ring and connection table. */
static int start_tcp(struct features *f)
{
	struct tcp_kernel k = { .drain = drain_cb, .drain_arg = f };
	int err;
	f->tcp = tcp_bpf__open();
	if (!f->tcp)
		return -errno;
	err = tcp_bpf__load(f->tcp);
	if (err)
		return err;
	err = tcp_bpf__attach(f->tcp);
	if (err)
		return err;
	k.conns_fd = bpf_map__fd(f->tcp->maps.conns);
	k.adopt_fd = bpf_map__fd(f->tcp->maps.adopt);
	k.drops_fd = bpf_map__fd(f->tcp->maps.tcp_drops);
	k.adopt_live = &f->tcp->bss->adopt_live;
	err = tcp_start(f->agent, &k, &f->tcpm);
	if (err)
		return err;
	f->tcp_rb = ring_buffer__new(bpf_map__fd(f->tcp->maps.tcp_rb), on_tcp_event, f, NULL);
	if (!f->tcp_rb)
		return -errno;
	return 0;
}

static void stop_tcp(struct features *f)
{
	if (f->tcp_rb) {
		tcp_before_drain(f->tcpm, ~0ull);
		ring_buffer__consume(f->tcp_rb);
		ring_buffer__free(f->tcp_rb);
		f->tcp_rb = NULL;
	}
	tcp_stop(f->tcpm);
	f->tcpm = NULL;
	tcp_bpf__destroy(f->tcp);
	f->tcp = NULL;
}

static void on_ring_ready(void *arg, int fd, uint32_t events)
{
	features_drain(arg);
}

static void on_drain_timer(void *arg)
{
	features_drain(arg);
}

/* Process events first: a connection's process must be in the entity
 * table before its TCP events are attributed. */
void features_drain(struct features *f)
{
	struct timespec ts;
	unsigned long long horizon = ~0ull;

	if (!clock_gettime(CLOCK_MONOTONIC, &ts)) /* bpf_ktime_get_ns's clock */
		horizon = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
	if (f && f->rb)
		ring_buffer__consume(f->rb);
	if (f && f->tcp_rb) {
		tcp_before_drain(f->tcpm, horizon);
		ring_buffer__consume(f->tcp_rb);
	}
}

static int register_metrics(struct features *f)
{
	static const char *const l_feature[] = { "feature" };
	static const char *const l_ring[] = { "ring" };
	static const char *const l_prog[] = { "feature", "program" };
	const struct zt_metric_desc d[] = {
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_feature_up", "Whether a kernel feature loaded and attached (1) or was refused (0).", l_feature, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_ringbuf_events_total", "Records read from a BPF ring buffer.", l_ring, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_ringbuf_bytes_total", "Bytes read from a BPF ring buffer.", l_ring, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_ringbuf_lost_events_total", "Records the kernel could not reserve in a ring buffer (dropped).", l_ring, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_bpf_prog_run_time_seconds_total", "Time the kernel spent in a BPF program (needs BPF stats, see agent.bpf_stats).", l_prog, 2 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_bpf_prog_runs_total", "Times a BPF program ran (needs BPF stats, see agent.bpf_stats).", l_prog, 2 },
	};
	zt_metric **out[] = { &f->m_up, &f->m_events, &f->m_bytes, &f->m_lost, &f->m_prog_ns, &f->m_prog_cnt };
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		int err = registry_register(f->agent->reg, &d[i], out[i]);
		if (err)
			return err;
	}
	return 0;
}

static uint64_t sum_percpu(int map_fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t total = 0;
	if (ncpu <= 0)
		return 0;
	uint64_t *vals = calloc(ncpu, sizeof(uint64_t));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(map_fd, &key, vals))
		for (int i = 0; i < ncpu; i++)
			total += vals[i];
	free(vals);
	return total;
}

static int stats_enabled(struct features *f)
{
	char c = '0';
	FILE *fp;
	if (f->stats_fd >= 0)
		return 1;
	fp = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	if (fp) {
		if (fread(&c, 1, 1, fp) != 1)
			c = '0';
		fclose(fp);
	}
	return c == '1';
}

const char *features_last_libbpf_warning(void)
{
	return libbpf_last_warn;
}

void features_clear_libbpf_warning(void)
{
	libbpf_last_warn[0] = 0;
}

void features_report(struct features *f, const char *feature, int up)
{
	if (f)
		set_up(f, feature, up);
}

void features_prog_stats(struct features *f, const char *feature, struct bpf_object *obj)
{
	struct bpf_program *p;
	/* Without stats the kernel reports zeros: no series beats a false 0. */
	if (!stats_enabled(f))
		return;
	bpf_object__for_each_program(p, obj)
	{
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(p);
		const char *name = bpf_program__name(p);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		const struct zt_str lv[] = { { feature, strlen(feature) }, { name, strlen(name) } };
		registry_set(f->m_prog_ns, lv, info.run_time_ns / 1e9);
		registry_set(f->m_prog_cnt, lv, (double)info.run_cnt);
	}
}

void features_update_metrics(struct features *f)
{
	if (!f)
		return;
	const struct zt_str ring = ZT_STR("lifecycle");
	registry_set(f->m_events, &ring, (double)f->life.events);
	registry_set(f->m_bytes, &ring, (double)f->life.bytes);
	if (f->proc) {
		registry_set(f->m_lost, &ring, (double)sum_percpu(bpf_map__fd(f->proc->maps.drops), ZT_DROP_LIFECYCLE));
		features_prog_stats(f, "proc", f->proc->obj);
	}
	if (f->tcp) {
		const struct zt_str tcp = ZT_STR("tcp");
		registry_set(f->m_events, &tcp, (double)f->tcp_ring.events);
		registry_set(f->m_bytes, &tcp, (double)f->tcp_ring.bytes);
		registry_set(f->m_lost, &tcp, (double)sum_percpu(bpf_map__fd(f->tcp->maps.tcp_drops), ZT_TCP_DROP_RING));
		features_prog_stats(f, "tcp", f->tcp->obj);
	}
}

int features_start(struct agent *a, struct features **out)
{
	struct features *f = calloc(1, sizeof(*f));
	uint64_t t0 = loop_now_ns();
	int err;
	if (!f)
		return -ENOMEM;
	f->agent = a;
	f->stats_fd = -1;
	f->life.name = "lifecycle";
	libbpf_set_print(libbpf_log);
	err = register_metrics(f);
	if (err)
		goto fail;
	ensure_tracefs();
	if (a->cfg->bpf_stats) {
		f->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (f->stats_fd < 0)
			log_msg(ZT_LOG_WARN, NULL, "BPF run-time stats unavailable: %s", strerror(errno));
	}

	libbpf_last_warn[0] = 0;
	err = start_proc(f);
	if (err) {
		log_msg(ZT_LOG_ERROR, NULL,
			"feature 'proc' disabled: %s%s%s%s (process events and OOM kills will be missing)",
			strerror(err < 0 ? -err : err), libbpf_last_warn[0] ? " [libbpf: " : "", libbpf_last_warn,
			libbpf_last_warn[0] ? "]" : "");
		ring_buffer__free(f->rb);
		f->rb = NULL;
		proc_bpf__destroy(f->proc);
		f->proc = NULL;
		set_up(f, "proc", 0);
	} else {
		set_up(f, "proc", 1);
		/* Wakeups arrive only past the kernel's watermark or for OOM kills;
		 * the timer drains the rest, off the traced threads' path. */
		loop_fd_add(a->loop, f, ring_buffer__epoll_fd(f->rb), ZT_FD_READ, on_ring_ready, f);
	}

	libbpf_last_warn[0] = 0;
	err = start_tcp(f);
	if (err) {
		log_msg(ZT_LOG_ERROR, NULL,
			"feature 'tcp' disabled: %s%s%s%s (TCP connection metrics will be missing)",
			strerror(err < 0 ? -err : err), libbpf_last_warn[0] ? " [libbpf: " : "", libbpf_last_warn,
			libbpf_last_warn[0] ? "]" : "");
		stop_tcp(f);
		set_up(f, "tcp", 0);
	} else {
		set_up(f, "tcp", 1);
		loop_fd_add(a->loop, f, ring_buffer__epoll_fd(f->tcp_rb), ZT_FD_READ, on_ring_ready, f);
	}
	loop_timer_add(a->loop, f, (uint64_t)a->cfg->drain_interval_ms * 1000000ull, on_drain_timer, f, &f->drain_timer);
	log_msg(ZT_LOG_INFO, NULL, "%d/%d kernel features attached in %.1f ms", f->up, f->total,
		(loop_now_ns() - t0) / 1e6);
	*out = f;
	return 0;
fail:
	free(f);
	return err;
}

/*
 * Detaching a tracepoint waits for an RCU grace period (~75 ms here), and
 * the kernel serializes nothing between links: closing them one by one
 * made shutdown last 10 x 75 ms. Destroying them from one thread each lets
 * the grace periods overlap, so SIGTERM exits well within a second.
 */
static void *destroy_link(void *arg)
{
	bpf_link__destroy(arg);
	return NULL;
}

void features_detach_parallel(struct bpf_object_skeleton **skels, size_t n)
{
	pthread_t th[64];
	struct bpf_link *links[64];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!skels[i])
			continue;
		for (int p = 0; p < skels[i]->prog_cnt && k < 64; p++) {
			struct bpf_link **l = skels[i]->progs[p].link;
			if (l && *l) {
				links[k++] = *l;
				*l = NULL; /* the skeleton's destroy must not close it again */
			}
		}
	}
	size_t started = 0;
	for (size_t i = 0; i < k; i++) {
		if (pthread_create(&th[i], NULL, destroy_link, links[i]))
			break;
		started++;
	}
	for (size_t i = started; i < k; i++)
		bpf_link__destroy(links[i]);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

void features_stop(struct features *f)
{
	if (!f)
		return;
	struct bpf_object_skeleton *skels[2] = { f->proc ? f->proc->skeleton : NULL, f->tcp ? f->tcp->skeleton : NULL };
	features_detach_parallel(skels, 2);
	loop_remove_owner(f->agent->loop, f);
	if (f->rb) {
		ring_buffer__consume(f->rb);
		ring_buffer__free(f->rb);
	}
	proc_bpf__destroy(f->proc);
	stop_tcp(f);
	if (f->stats_fd >= 0)
		close(f->stats_fd);
	free(f);
}

int features_up_count(struct features *f, int *total)
{
	if (total)
		*total = f ? f->total : 0;
	return f ? f->up : 0;
}

struct tcp_mod *features_tcp(struct features *f)
{
	return f ? f->tcpm : NULL;
}
