/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The periodic work of the process plugin: the /proc rescan that catches
 * lost events, per-process delay sampling, container resource metrics from
 * cgroupfs (v1, v2, hybrid), and forgetting containers gone for a while.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "stats.h"

/* Kernel resource files are small; io.stat / blkio with many devices is
 * the largest and is cut here (the devices past it are dropped). */
#define FILE_BUF 16384

/* ---------------------------------------------------------- registration */

static const char *const l_base[] = { "container_id", "app_id" };
static const char *const l_info[] = { "container_id", "app_id", "image", "systemd_triggered_by", "systemd_type" };
static const char *const l_app[] = { "container_id", "app_id", "application_type" };
static const char *const l_kind[] = { "container_id", "app_id", "kind" };
static const char *const l_disk[] = { "container_id", "app_id", "mount_point", "device", "volume" };

static int reg(struct pstate *s, uint32_t type, const char *name, const char *help, const char *const *labels,
	       uint32_t n, zt_metric **out)
{
	struct zt_metric_desc d = { .struct_size = sizeof(d), .type = type, .name = name, .help = help,
				    .labels = labels, .label_count = n };
	return s->host->metric_register(s->inst, &d, out);
}

int pd_metrics_register(struct pstate *s)
{
	const uint32_t C = ZT_METRIC_COUNTER, G = ZT_METRIC_GAUGE;
	struct metrics *m = &s->m;
	int err = 0;

#define R(t, field, name, help, l) \
	if (!err)                  \
		err = reg(s, t, name, help, l, sizeof(l) / sizeof(l[0]), &m->field)
	R(G, info, "container_info", "Container metadata", l_info);
	R(C, restarts, "container_restarts_total", "Times the container ran again after all its processes exited",
	  l_base);
	R(C, oom, "container_oom_kills_total", "Processes of the container killed by the OOM killer", l_base);
	R(G, app_type, "container_application_type", "Applications recognized in the container", l_app);
	R(G, cpu_limit, "container_resources_cpu_limit_cores", "CPU quota in cores", l_base);
	R(C, cpu_usage, "container_resources_cpu_usage_seconds_total", "CPU time consumed", l_base);
	R(C, cpu_throttled, "container_resources_cpu_throttled_seconds_total", "Time throttled by the CPU quota",
	  l_base);
	R(C, cpu_delay, "container_resources_cpu_delay_seconds_total",
	  "Time the container's processes waited for a CPU (schedstat run delay)", l_base);
	R(C, disk_delay, "container_resources_disk_delay_seconds_total",
	  "Time the container's processes waited for block I/O (delay accounting)", l_base);
	R(C, psi[0], "container_resources_cpu_pressure_waiting_seconds_total", "CPU pressure stall time (PSI)",
	  l_kind);
	R(C, psi[1], "container_resources_memory_pressure_waiting_seconds_total", "Memory pressure stall time (PSI)",
	  l_kind);
	R(C, psi[2], "container_resources_io_pressure_waiting_seconds_total", "I/O pressure stall time (PSI)",
	  l_kind);
	R(G, mem_limit, "container_resources_memory_limit_bytes", "Memory limit", l_base);
	R(G, mem_rss, "container_resources_memory_rss_bytes", "Anonymous memory in use", l_base);
	R(G, mem_cache, "container_resources_memory_cache_bytes", "Page cache in use", l_base);
	R(C, disk_reads, "container_resources_disk_reads_total", "Read operations per device", l_disk);
	R(C, disk_writes, "container_resources_disk_writes_total", "Write operations per device", l_disk);
	R(C, disk_rbytes, "container_resources_disk_read_bytes_total", "Bytes read per device", l_disk);
	R(C, disk_wbytes, "container_resources_disk_written_bytes_total", "Bytes written per device", l_disk);
#undef R
	return err;
}

/* ------------------------------------------------------------- mounts */

static char *try_mount(const char *root, const char *const *names, const char *marker)
{
	char path[4096];
	for (size_t i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", root, names[i], marker);
		if (!access(path, F_OK)) {
			snprintf(path, sizeof(path), "%s/%s", root, names[i]);
			return strdup(path);
		}
	}
	return NULL;
}

void pd_mounts_detect(struct pstate *s)
{
	static const char *const v2[] = { ".", "unified", NULL };
	static const char *const cpu[] = { "cpu", "cpu,cpuacct", "cpuacct,cpu", NULL };
	static const char *const cpuacct[] = { "cpuacct", "cpu,cpuacct", "cpuacct,cpu", NULL };
	static const char *const memory[] = { "memory", NULL };
	static const char *const blkio[] = { "blkio", NULL };

	/* cgroup.controllers exists only in a v2 hierarchy: at the root in
	 * unified mode, under unified/ in hybrid mode. */
	s->mounts[CP_V2] = try_mount(s->cgroup_root, v2, "cgroup.controllers");
	s->mounts[CP_CPU] = try_mount(s->cgroup_root, cpu, "cpu.shares");
	s->mounts[CP_CPUACCT] = try_mount(s->cgroup_root, cpuacct, "cpuacct.usage");
	s->mounts[CP_MEMORY] = try_mount(s->cgroup_root, memory, "memory.stat");
	s->mounts[CP_BLKIO] = try_mount(s->cgroup_root, blkio, "blkio.throttle.io_service_bytes");
	s->host->log(s->inst, ZT_LOG_DEBUG, "cgroup v2 at %s; v1 cpu %s, cpuacct %s, memory %s, blkio %s",
		     s->mounts[CP_V2] ? s->mounts[CP_V2] : "-", s->mounts[CP_CPU] ? s->mounts[CP_CPU] : "-",
		     s->mounts[CP_CPUACCT] ? s->mounts[CP_CPUACCT] : "-",
		     s->mounts[CP_MEMORY] ? s->mounts[CP_MEMORY] : "-", s->mounts[CP_BLKIO] ? s->mounts[CP_BLKIO] : "-");
}

/* Reads a file of c's cgroup in hierarchy h. */
static int cg_read(struct pstate *s, const struct ctr *c, int h, const char *file, char *buf, size_t *len)
{
	char path[4096];
	size_t n;
	int err = pd_ctr_dir(s, c, h, path, sizeof(path));

	if (err)
		return err;
	n = strlen(path);
	if ((size_t)snprintf(path + n, sizeof(path) - n, "/%s", file) >= sizeof(path) - n)
		return -ENAMETOOLONG;
	return pd_st_read(path, buf, FILE_BUF, len);
}

/* Where controller h's files are: its v1 hierarchy when mounted, else v2. */
static int v1(struct pstate *s, int h)
{
	return s->mounts[h] != NULL;
}

/* ------------------------------------------------------------- rescan */

static int numeric(const char *n, uint32_t *pid)
{
	uint64_t v = 0;
	if (!*n)
		return 0;
	for (; *n; n++) {
		if (*n < '0' || *n > '9' || v > UINT32_MAX / 10)
			return 0;
		v = v * 10 + (uint64_t)(*n - '0');
	}
	*pid = (uint32_t)v;
	return v > 0 && v <= UINT32_MAX;
}

void pd_rescan(struct pstate *s)
{
	struct dirent *de;
	uint32_t *gone = NULL, pid;
	size_t ngone = 0;
	DIR *d;

	s->last_rescan_ns = s->host->now_ns();
	d = opendir(s->proc_root);
	if (!d) {
		s->host->log(s->inst, ZT_LOG_WARN, "%s: %s", s->proc_root, strerror(errno));
		return;
	}
	s->epoch++;
	while ((de = readdir(d))) {
		struct pentry *p;
		if (!numeric(de->d_name, &pid))
			continue;
		p = pd_proc_find(s, pid);
		if (!p) {
			pd_proc_discover(s, pid);
			p = pd_proc_find(s, pid);
		}
		if (p)
			p->epoch = s->epoch;
	}
	closedir(d);
	/* What /proc no longer lists exited while its EXIT event was lost. */
	if (s->pcount)
		gone = malloc(s->pcount * sizeof(*gone));
	for (size_t i = 0; gone && i < s->pcap; i++)
		if (s->procs[i].pid && s->procs[i].epoch != s->epoch)
			gone[ngone++] = s->procs[i].pid;
	for (size_t i = 0; i < ngone; i++)
		pd_proc_exit(s, gone[i]);
	free(gone);
}

/* ------------------------------------------------------------- metrics */

static double mono_update(const struct ctr *c, struct mono *m, double raw)
{
	/* a recreated cgroup starts from zero: carry the old total over */
	if (m->valid && (raw < m->last || m->gen != c->cg_gen))
		m->base += m->last;
	m->last = raw;
	m->valid = 1;
	m->gen = c->cg_gen;
	return m->base + raw;
}

static const char *devname(struct pstate *s, uint32_t ma, uint32_t mi, char *tmp, size_t tmplen)
{
	char path[128], buf[1024];
	size_t len;
	struct devname *d;

	for (uint32_t i = 0; i < s->ndevnames; i++)
		if (s->devnames[i].major == ma && s->devnames[i].minor == mi)
			return s->devnames[i].name;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", ma, mi);
	if (pd_st_read(path, buf, sizeof(buf), &len) || pd_st_uevent_devname(buf, len, tmp, tmplen)) {
		snprintf(tmp, tmplen, "%u:%u", ma, mi); /* gone or unnamed: keep it distinct */
		return tmp;
	}
	/* a small cache; when full, the oldest name is replaced */
	d = &s->devnames[s->ndevnames < 64 ? s->ndevnames++ : (ma + mi) % 64];
	d->major = ma;
	d->minor = mi;
	snprintf(d->name, sizeof(d->name), "%s", tmp);
	return d->name;
}

static struct devstat *devstat_of(struct ctr *c, uint32_t ma, uint32_t mi)
{
	struct devstat *nd;

	for (uint32_t i = 0; i < c->ndevs; i++)
		if (c->devs[i].major == ma && c->devs[i].minor == mi)
			return &c->devs[i];
	if (c->ndevs >= PT_MAX_DEVS)
		return NULL;
	nd = realloc(c->devs, (c->ndevs + 1) * sizeof(*nd));
	if (!nd)
		return NULL;
	c->devs = nd;
	memset(&nd[c->ndevs], 0, sizeof(*nd));
	nd[c->ndevs].major = ma;
	nd[c->ndevs].minor = mi;
	return &nd[c->ndevs++];
}

static void collect_disk(struct pstate *s, struct ctr *c, const struct zt_str *lv, char *buf)
{
	struct st_dev_io io[PT_MAX_DEVS];
	size_t n = 0, len;
	struct zt_str dl[5] = { lv[0], lv[1], ZT_STR(""), ZT_STR(""), ZT_STR("") };
	char tmp[32];

	if (v1(s, CP_BLKIO)) {
		/* _recursive counts the container's child cgroups too */
		if (!cg_read(s, c, CP_BLKIO, "blkio.throttle.io_service_bytes_recursive", buf, &len) ||
		    !cg_read(s, c, CP_BLKIO, "blkio.throttle.io_service_bytes", buf, &len))
			pd_st_parse_blkio(buf, len, 0, io, PT_MAX_DEVS, &n);
		else
			return;
		if (!cg_read(s, c, CP_BLKIO, "blkio.throttle.io_serviced_recursive", buf, &len) ||
		    !cg_read(s, c, CP_BLKIO, "blkio.throttle.io_serviced", buf, &len))
			pd_st_parse_blkio(buf, len, 1, io, PT_MAX_DEVS, &n);
	} else if (!cg_read(s, c, CP_V2, "io.stat", buf, &len)) {
		pd_st_parse_io_stat(buf, len, io, PT_MAX_DEVS, &n);
	}
	for (size_t i = 0; i < n; i++) {
		struct devstat *d = devstat_of(c, io[i].major, io[i].minor);
		const char *name;
		if (!d)
			continue;
		name = devname(s, io[i].major, io[i].minor, tmp, sizeof(tmp));
		dl[3] = (struct zt_str){ name, strlen(name) };
		s->host->metric_set(s->m.disk_rbytes, dl, mono_update(c, &d->rb, (double)io[i].rbytes));
		s->host->metric_set(s->m.disk_wbytes, dl, mono_update(c, &d->wb, (double)io[i].wbytes));
		s->host->metric_set(s->m.disk_reads, dl, mono_update(c, &d->rio, (double)io[i].rios));
		s->host->metric_set(s->m.disk_writes, dl, mono_update(c, &d->wio, (double)io[i].wios));
	}
}

static void collect_psi(struct pstate *s, struct ctr *c, const struct zt_str *lv, char *buf)
{
	static const char *const files[3] = { "cpu.pressure", "memory.pressure", "io.pressure" };
	struct zt_str kl[3] = { lv[0], lv[1], ZT_STR("some") };
	struct st_psi psi;
	size_t len;

	/* PSI exists only in v2; on hybrid hosts in the unified hierarchy */
	for (int r = 0; r < 3; r++) {
		if (cg_read(s, c, CP_V2, files[r], buf, &len) || pd_st_parse_psi(buf, len, &psi))
			continue;
		if (psi.has_some) {
			kl[2] = ZT_STR("some");
			s->host->metric_set(s->m.psi[r], kl,
					    mono_update(c, &c->psi[r * 2], (double)psi.some_us) / 1e6);
		}
		if (psi.has_full) {
			kl[2] = ZT_STR("full");
			s->host->metric_set(s->m.psi[r], kl,
					    mono_update(c, &c->psi[r * 2 + 1], (double)psi.full_us) / 1e6);
		}
	}
}

static void collect_cpu(struct pstate *s, struct ctr *c, const struct zt_str *lv, char *buf)
{
	size_t len;
	uint64_t v;
	int64_t quota, period;
	double cores;

	if (v1(s, CP_CPUACCT)) {
		if (!cg_read(s, c, CP_CPUACCT, "cpuacct.usage", buf, &len) && !pd_st_parse_u64(buf, &v))
			s->host->metric_set(s->m.cpu_usage, lv, mono_update(c, &c->cpu_usage, (double)v) / 1e9);
	} else if (!cg_read(s, c, CP_V2, "cpu.stat", buf, &len) && !pd_st_kv_get(buf, len, "usage_usec", &v)) {
		s->host->metric_set(s->m.cpu_usage, lv, mono_update(c, &c->cpu_usage, (double)v) / 1e6);
	}
	if (v1(s, CP_CPU)) {
		if (!cg_read(s, c, CP_CPU, "cpu.stat", buf, &len) && !pd_st_kv_get(buf, len, "throttled_time", &v))
			s->host->metric_set(s->m.cpu_throttled, lv, mono_update(c, &c->cpu_throttled, (double)v) / 1e9);
		if (!cg_read(s, c, CP_CPU, "cpu.cfs_quota_us", buf, &len) && !pd_st_parse_i64(buf, &quota) &&
		    !cg_read(s, c, CP_CPU, "cpu.cfs_period_us", buf, &len) && !pd_st_parse_i64(buf, &period) &&
		    !pd_st_cfs_cores(quota, period, &cores))
			s->host->metric_set(s->m.cpu_limit, lv, cores);
	} else {
		if (!cg_read(s, c, CP_V2, "cpu.stat", buf, &len) && !pd_st_kv_get(buf, len, "throttled_usec", &v))
			s->host->metric_set(s->m.cpu_throttled, lv, mono_update(c, &c->cpu_throttled, (double)v) / 1e6);
		if (!cg_read(s, c, CP_V2, "cpu.max", buf, &len) && !pd_st_cpu_max(buf, &cores))
			s->host->metric_set(s->m.cpu_limit, lv, cores);
	}
}

static void collect_memory(struct pstate *s, struct ctr *c, const struct zt_str *lv, char *buf)
{
	size_t len;
	uint64_t v;
	int h = v1(s, CP_MEMORY) ? CP_MEMORY : CP_V2;
	int is_v1 = h == CP_MEMORY;

	if (!cg_read(s, c, h, is_v1 ? "memory.limit_in_bytes" : "memory.max", buf, &len) && !pd_st_parse_u64(buf, &v) &&
	    v < ST_MEM_UNLIMITED)
		s->host->metric_set(s->m.mem_limit, lv, (double)v);
	if (cg_read(s, c, h, "memory.stat", buf, &len))
		return;
	/* v1's total_* include the container's child cgroups */
	if (!pd_st_kv_get(buf, len, is_v1 ? "total_rss" : "anon", &v))
		s->host->metric_set(s->m.mem_rss, lv, (double)v);
	if (!pd_st_kv_get(buf, len, is_v1 ? "total_cache" : "file", &v))
		s->host->metric_set(s->m.mem_cache, lv, (double)v);
}

static void collect_ctr(struct pstate *s, struct ctr *c, char *buf)
{
	struct zt_str lv[3];

	pd_ctr_announce(s, c);
	pd_ctr_labels(c, lv);
	for (int i = 0; i < CG_APP_TYPES_MAX; i++) {
		const char *t;
		if (!(c->app_types & ~c->app_types_done & (1ull << i)) || !(t = pd_cg_app_type_name(i)))
			continue;
		lv[2] = (struct zt_str){ t, strlen(t) };
		s->host->metric_set(s->m.app_type, lv, 1);
		c->app_types_done |= 1ull << i;
	}
	if (c->nproc || c->delay_ns)
		s->host->metric_set(s->m.cpu_delay, lv, (double)c->delay_ns / 1e9);
	if (s->delayacct)
		s->host->metric_set(s->m.disk_delay, lv, (double)c->blkio_ticks / (double)s->clk_tck);
	if (!c->nproc)
		return; /* its cgroup is gone or reused: keep the last values */
	collect_cpu(s, c, lv, buf);
	collect_memory(s, c, lv, buf);
	collect_psi(s, c, lv, buf);
	collect_disk(s, c, lv, buf);
}

static uint32_t read_delayacct(struct pstate *s)
{
	char path[512], buf[32];
	size_t len;
	uint64_t v;

	snprintf(path, sizeof(path), "%s/sys/kernel/task_delayacct", s->proc_root);
	if (pd_st_read(path, buf, sizeof(buf), &len) || pd_st_parse_u64(buf, &v))
		return 0;
	return v != 0;
}

void pd_on_timer(void *arg)
{
	struct pstate *s = arg;
	uint64_t now = s->host->now_ns();
	uint32_t gone[256];
	size_t ngone = 0, n = 0;
	char *buf;

	if (now - s->last_rescan_ns >= PT_RESCAN_NS)
		pd_rescan(s);
	s->delayacct = read_delayacct(s);
	for (size_t i = 0; i < s->pcap; i++) {
		struct pentry *p = &s->procs[i];
		if (!p->pid || !p->c || !p->c->metrics || p->c->sandbox)
			continue;
		/* a vanished process whose EXIT was lost: removed below (the
		 * table must not change while it is walked) */
		if (pd_proc_sample(s, p) == -ENOENT && ngone < sizeof(gone) / sizeof(gone[0]))
			gone[ngone++] = p->pid;
	}
	for (size_t i = 0; i < ngone; i++)
		pd_proc_exit(s, gone[i]);

	buf = malloc(FILE_BUF);
	if (!buf)
		return;
	/* Snapshot the containers: forgetting or merging one frees it. */
	for (size_t b = 0; b < s->ccap; b++)
		for (struct ctr *c = s->ctab[b]; c && n < PT_MAX_CONTAINERS; c = c->next)
			s->scratch[n++] = c;
	for (size_t i = 0; i < n; i++) {
		struct ctr *c = s->scratch[i];
		if (!c->nproc && now - c->empty_since_ns >= s->ttl_ns) {
			pd_ctr_forget(s, c);
			continue;
		}
		if (c->pending_meta) {
			/* named later or merged into another (then c is freed) */
			pd_ctr_retry_meta(s, c, now);
			continue;
		}
		if (c->metrics && !c->sandbox)
			collect_ctr(s, c, buf);
	}
	free(buf);
}
