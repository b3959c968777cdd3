/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The periodic work of the process plugin: the /proc rescan that catches
 * lost events, per-process delay sampling, container resource metrics from
 * cgroupfs (v1, v2, hybrid), disk usage of the containers' mounts, and
 * forgetting containers gone for a while.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "state.h"
#include "stats.h"

/* mountinfo of a k8s node with many pods runs to a few hundred KB */
#define MOUNTINFO_MAX (16u << 20)

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
	  "Time the container's threads waited for a CPU (run-queue delay)", l_base);
	R(C, disk_delay, "container_resources_disk_delay_seconds_total",
	  "Time the container's threads waited for block I/O (delay accounting)", l_base);
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
	R(G, disk_size, "container_resources_disk_size_bytes", "Size of the filesystem of a mount", l_disk);
	R(G, disk_used, "container_resources_disk_used_bytes", "Space used on the filesystem of a mount", l_disk);
	R(G, disk_reserved, "container_resources_disk_reserved_bytes",
	  "Space of the filesystem of a mount reserved for root (free, not available to others)", l_disk);
#undef R
	return err;
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

/* ----------------------------------------------------------- disk usage */

/* The host's mount table (pid 1's mountinfo), read at most once per tick
 * and only when some container's disk usage is due: it names the device
 * under an overlay's upper layer and the host path of a bind mount. */
struct hosttab {
	struct st_hmount *v;
	size_t n;
	int state; /* 0 not read yet, 1 read, < 0 failed */
	const struct st_hmount *root; /* the host's "/" */
};

static void hosttab_free(struct hosttab *ht)
{
	for (size_t i = 0; i < ht->n; i++)
		free((char *)ht->v[i].root); /* one block holds the three strings */
	free(ht->v);
	memset(ht, 0, sizeof(*ht));
}

static int hosttab_add(struct hosttab *ht, const struct st_mount *m, size_t *cap)
{
	size_t lr = strlen(m->root) + 1, lm = strlen(m->mount_point) + 1, ls = strlen(m->source) + 1;
	struct st_hmount *h;
	char *b;

	if (ht->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		h = realloc(ht->v, nc * sizeof(*h));
		if (!h)
			return -ENOMEM;
		ht->v = h;
		*cap = nc;
	}
	b = malloc(lr + lm + ls);
	if (!b)
		return -ENOMEM;
	memcpy(b, m->root, lr);
	memcpy(b + lr, m->mount_point, lm);
	memcpy(b + lr + lm, m->source, ls);
	h = &ht->v[ht->n++];
	*h = (struct st_hmount){ .major = m->major, .minor = m->minor, .cls = pd_st_mount_class(m),
				 .root = b, .mount_point = b + lr, .source = b + lr + lm };
	return 0;
}

static void hosttab_load(struct pstate *s, struct hosttab *ht, struct st_mount *m)
{
	char path[512], *buf = NULL;
	size_t len, cap = 0;
	int err;

	snprintf(path, sizeof(path), "%s/1/mountinfo", s->proc_root);
	err = pd_meta_read_file(path, MOUNTINFO_MAX, &buf, &len);
	for (const char *p = buf, *end = buf + len; !err && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		if (!pd_st_parse_mountinfo(p, (size_t)(le - p), m))
			err = hosttab_add(ht, m, &cap);
		p = nl ? nl + 1 : end;
	}
	free(buf);
	ht->state = err ? err : 1;
	for (size_t i = 0; !err && i < ht->n; i++)
		if (!strcmp(ht->v[i].mount_point, "/"))
			ht->root = &ht->v[i]; /* the last one is on top */
}

void pd_disk_forget(struct ctr *c)
{
	for (uint32_t i = 0; i < c->ndm; i++) {
		free(c->dm[i].mount_point);
		free(c->dm[i].device);
		free(c->dm[i].volume);
	}
	free(c->dm);
	c->dm = NULL;
	c->ndm = 0;
	c->dm_next_ns = 0;
}

/*
 * A mount point resolved inside the container's root. mountinfo paths are
 * canonical, so a symlink on the way means the tree changed since the
 * mount, or a trap: an absolute link planted by the container would lead
 * to the host's files. Such paths are refused.
 */
static int open_in_root(int rootfd, const char *mp)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
	char comp[256];
	int fd = (int)syscall(SYS_openat2, rootfd, mp, &how, sizeof(how)), err;

	if (fd >= 0 || errno != ENOSYS)
		return fd < 0 ? -errno : fd;
	/* before Linux 5.6 (and under valgrind): a component at a time */
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (const char *p = mp; fd >= 0;) {
		const char *e;
		size_t n;
		int next;
		while (*p == '/')
			p++;
		if (!*p)
			return fd;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n >= sizeof(comp) || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			close(fd);
			return -EINVAL;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		err = errno;
		close(fd);
		errno = err;
		fd = next;
		p = e;
	}
	return -errno;
}

/* The device label of a mount, or -ENOENT when it is not on a disk. */
static int mount_device(struct pstate *s, const struct hosttab *ht, const struct st_mount *m, int cls, char *out,
			size_t outlen)
{
	const struct st_hmount *h;
	uint32_t ma = m->major, mi = m->minor;
	const char *src = m->source;

	if (cls == ST_MNT_OVERLAY) {
		/* overlay's statfs is its upper layer's filesystem */
		h = ht->state == 1 ? pd_st_hmount_of(ht->v, ht->n, m->upperdir) : NULL;
		if (!h || (h->cls != ST_MNT_DISK && h->cls != ST_MNT_ANON))
			return -ENOENT;
		cls = h->cls;
		ma = h->major;
		mi = h->minor;
		src = h->source;
	}
	if (cls == ST_MNT_DISK) {
		const char *n = devname(s, ma, mi, out, outlen);
		if (n != out)
			snprintf(out, outlen, "%s", n);
		return 0;
	}
	if (!strncmp(src, "/dev/", 5))
		src += 5;
	/* a zfs dataset name may be long: cut, still distinct enough */
	return snprintf(out, outlen, "%s", *src ? src : "unknown") < 0 ? -EINVAL : 0;
}

/* The volume label: where a bind mount comes from on the host. */
static void mount_volume(const struct hosttab *ht, const struct st_mount *m, char *out, size_t outlen)
{
	out[0] = 0;
	if (!strcmp(m->mount_point, "/"))
		return; /* the container's own root filesystem */
	if (ht->state == 1 && !pd_st_host_path(ht->v, ht->n, m->major, m->minor, m->root, out, outlen))
		return;
	if (strcmp(m->root, "/"))
		snprintf(out, outlen, "%s", m->root); /* the path within its filesystem */
}

static int dm_has(const struct dmount *v, size_t n, const char *mp, const char *dev, const char *vol)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].mount_point, mp) && (!dev || (!strcmp(v[i].device, dev) && !strcmp(v[i].volume, vol))))
			return 1;
	return 0;
}

/* One mount's three gauges; 0 when exported (and recorded in nd). */
static int usage_one(struct pstate *s, const struct zt_str *lv, int rootfd, const struct hosttab *ht,
		     const struct st_mount *m, int cls, struct dmount *nd, uint32_t *nn)
{
	char dev[64], vol[ST_MNT_PATH];
	struct statvfs sv;
	struct stat st;
	struct zt_str dl[5] = { lv[0], lv[1] };
	int fd, err;

	if (mount_device(s, ht, m, cls, dev, sizeof(dev)))
		return -ENOENT;
	fd = open_in_root(rootfd, m->mount_point);
	if (fd < 0)
		return fd; /* gone, or a file bind mount (/etc/hosts): not a volume */
	/* the path must lead to this very mount, not to one stacked on it */
	err = fstat(fd, &st) ? -errno : (major(st.st_dev) != m->major || minor(st.st_dev) != m->minor) ? -ESTALE : 0;
	if (!err && fstatvfs(fd, &sv))
		err = -errno;
	close(fd);
	if (err)
		return err;
	mount_volume(ht, m, vol, sizeof(vol));
	nd[*nn] = (struct dmount){ strdup(m->mount_point), strdup(dev), strdup(vol) };
	if (!nd[*nn].mount_point || !nd[*nn].device || !nd[*nn].volume) {
		free(nd[*nn].mount_point);
		free(nd[*nn].device);
		free(nd[*nn].volume);
		return -ENOMEM;
	}
	(*nn)++;
	uint64_t bfree = sv.f_bfree < sv.f_blocks ? sv.f_bfree : sv.f_blocks;
	uint64_t bavail = sv.f_bavail < bfree ? sv.f_bavail : bfree;
	dl[2] = (struct zt_str){ m->mount_point, strlen(m->mount_point) };
	dl[3] = (struct zt_str){ dev, strlen(dev) };
	dl[4] = (struct zt_str){ vol, strlen(vol) };
	s->host->metric_set(s->m.disk_size, dl, (double)sv.f_blocks * (double)sv.f_frsize);
	s->host->metric_set(s->m.disk_used, dl, (double)(sv.f_blocks - bfree) * (double)sv.f_frsize);
	s->host->metric_set(s->m.disk_reserved, dl, (double)(bfree - bavail) * (double)sv.f_frsize);
	return 0;
}

/* Mount points below a network or FUSE mount are not visited either:
 * reaching them would look up names on it. */
static int under_any(char *const *v, size_t n, const char *mp)
{
	for (size_t i = 0; i < n; i++)
		if (pd_st_path_under(mp, v[i]))
			return 1;
	return 0;
}

/* The mount points of network and FUSE mounts, and its root's identity. */
struct mscan {
	char **remote;
	size_t nremote;
	uint32_t has_root, rma, rmi;
	char *rroot;
};

static void mscan_free(struct mscan *ms)
{
	for (size_t i = 0; i < ms->nremote; i++)
		free(ms->remote[i]);
	free(ms->remote);
	free(ms->rroot);
}

static int mscan_line(struct mscan *ms, const struct st_mount *m)
{
	if (!strcmp(m->mount_point, "/")) {
		free(ms->rroot);
		ms->rroot = strdup(m->root);
		if (!ms->rroot)
			return -ENOMEM;
		ms->has_root = 1;
		ms->rma = m->major;
		ms->rmi = m->minor;
	}
	if (pd_st_mount_class(m) == ST_MNT_REMOTE) {
		char **nr = realloc(ms->remote, (ms->nremote + 1) * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		ms->remote = nr;
		if (!(nr[ms->nremote] = strdup(m->mount_point)))
			return -ENOMEM;
		ms->nremote++;
	}
	return 0;
}

static void remove_gone(struct pstate *s, struct ctr *c, const struct zt_str *lv, const struct dmount *nd, size_t nn)
{
	struct zt_str dl[5] = { lv[0], lv[1] };

	for (uint32_t i = 0; i < c->ndm; i++) {
		const struct dmount *d = &c->dm[i];
		if (dm_has(nd, nn, d->mount_point, d->device, d->volume))
			continue;
		dl[2] = (struct zt_str){ d->mount_point, strlen(d->mount_point) };
		dl[3] = (struct zt_str){ d->device, strlen(d->device) };
		dl[4] = (struct zt_str){ d->volume, strlen(d->volume) };
		s->host->metric_remove(s->m.disk_size, dl);
		s->host->metric_remove(s->m.disk_used, dl);
		s->host->metric_remove(s->m.disk_reserved, dl);
	}
}

/*
 * Disk usage of the mounts a container sees on disks: its root filesystem
 * (an overlay's upper layer) and its volumes. Pseudo and in-memory
 * filesystems are skipped, and network and FUSE ones are never touched.
 * A container that sees the host's own "/" (a systemd service) has none:
 * its mounts are the node's.
 */
static void collect_usage(struct pstate *s, struct ctr *c, const struct zt_str *lv, struct hosttab *ht,
			  struct st_mount *m, uint64_t now)
{
	char path[512], *buf = NULL;
	struct dmount *nd = NULL;
	struct mscan ms = { 0 };
	size_t len;
	uint32_t nn = 0;
	int rootfd = -1, pass;

	if (!c->sample_pid || now < c->dm_next_ns)
		return;
	if (!ht->state)
		hosttab_load(s, ht, m);
	snprintf(path, sizeof(path), "%s/%u/mountinfo", s->proc_root, c->sample_pid);
	if (pd_meta_read_file(path, MOUNTINFO_MAX, &buf, &len))
		goto out; /* it just exited: another process next tick */
	c->dm_next_ns = now + PT_DISK_REFRESH_NS;
	nd = calloc(PT_MAX_MOUNTS, sizeof(*nd));
	if (!nd)
		goto out;
	/* pass 0: its root and the mounts not to be touched; pass 1: usage */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (ms.has_root && ht->root && ms.rma == ht->root->major && ms.rmi == ht->root->minor &&
			    !strcmp(ms.rroot, ht->root->root))
				break; /* it sees the host's filesystem */
			snprintf(path, sizeof(path), "%s/%u/root", s->proc_root, c->sample_pid);
			rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (rootfd < 0)
				goto out;
		}
		for (const char *p = buf, *end = buf + len; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
			int cls;
			if (pd_st_parse_mountinfo(p, (size_t)(le - p), m)) {
				p = nl ? nl + 1 : end;
				continue;
			}
			p = nl ? nl + 1 : end;
			if (pass == 0) {
				if (mscan_line(&ms, m))
					goto out;
				continue;
			}
			cls = pd_st_mount_class(m);
			if (cls == ST_MNT_SKIP || cls == ST_MNT_REMOTE || under_any(ms.remote, ms.nremote, m->mount_point) ||
			    dm_has(nd, nn, m->mount_point, NULL, NULL))
				continue;
			if (nn >= PT_MAX_MOUNTS) {
				if (!s->warned_mounts++)
					s->host->log(s->inst, ZT_LOG_WARN, "%s: more than %u disk mounts, the rest not reported",
						     c->id, PT_MAX_MOUNTS);
				break;
			}
			usage_one(s, lv, rootfd, ht, m, cls, nd, &nn);
		}
	}
	remove_gone(s, c, lv, nd, nn);
	{
		uint64_t next = c->dm_next_ns;
		pd_disk_forget(c);
		c->dm_next_ns = next;
	}
	c->dm = nd;
	c->ndm = nn;
	nd = NULL;
out:
	for (uint32_t i = 0; nd && i < nn; i++) {
		free(nd[i].mount_point);
		free(nd[i].device);
		free(nd[i].volume);
	}
	free(nd);
	if (rootfd >= 0)
		close(rootfd);
	mscan_free(&ms);
	free(buf);
}

static void collect_ctr(struct pstate *s, struct ctr *c, char *buf, struct hosttab *ht, struct st_mount *m,
			uint64_t now)
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
	if (s->delayacct || c->blkio_ns)
		s->host->metric_set(s->m.disk_delay, lv, (double)c->blkio_ns / 1e9);
	if (!c->nproc)
		return; /* its cgroup is gone or reused: keep the last values */
	collect_cpu(s, c, lv, buf);
	collect_memory(s, c, lv, buf);
	collect_psi(s, c, lv, buf);
	collect_disk(s, c, lv, buf);
	if (m)
		collect_usage(s, c, lv, ht, m, now);
}

void pd_on_timer(void *arg)
{
	struct pstate *s = arg;
	uint64_t now = s->host->now_ns();
	uint32_t gone[256];
	size_t ngone = 0, n = 0;
	struct hosttab ht = { 0 };
	struct st_mount *m;
	char *buf;

	if (now - s->last_rescan_ns >= PT_RESCAN_NS)
		pd_rescan(s);
	pd_delay_tick(s);
	for (size_t i = 0; i < s->pcap; i++) {
		struct pentry *p = &s->procs[i];
		if (!p->pid || !p->c || !p->c->metrics || p->c->sandbox)
			continue;
		/* a vanished process whose EXIT was lost: removed below (the
		 * table must not change while it is walked) */
		if (pd_proc_sample(s, p, 0) != -ENOENT)
			p->c->sample_pid = p->pid;
		else if (ngone < sizeof(gone) / sizeof(gone[0]))
			gone[ngone++] = p->pid;
	}
	for (size_t i = 0; i < ngone; i++)
		pd_proc_exit(s, gone[i]);

	buf = malloc(FILE_BUF);
	if (!buf)
		return;
	m = malloc(sizeof(*m)); /* NULL: no disk usage this tick */
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
			collect_ctr(s, c, buf, &ht, m, now);
	}
	hosttab_free(&ht);
	free(m);
	free(buf);
}
