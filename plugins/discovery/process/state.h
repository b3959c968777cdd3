/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal state of the process discovery plugin, shared by its files:
 *   process.c   plugin entry, config, process events, the pid table
 *   ident.c     cgroup -> container (with runtime metadata), container table
 *   collect.c   the periodic timer: /proc rescan, resource metrics, expiry
 * Everything runs on the core's dispatch thread, so there are no locks.
 * Every non-static function is prefixed pd_ (process discovery): a
 * built-in plugin shares the agent's link namespace with all others.
 */
#ifndef ZT_PROCESS_STATE_H
#define ZT_PROCESS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <zerotap/plugin.h>

#include "cgroup.h"
#include "meta.h"

/* Table bounds: past them new entries are not tracked (logged once). */
#define PT_MAX_PROCS (1u << 18)
#define PT_MAX_CONTAINERS 8192u
#define PT_MAX_CGKEYS 16384u
/* Cgroup paths remembered per container (a k8s container gets a new
 * runtime id, so a new cgroup, at every restart). */
#define PT_CGKEYS_PER_CTR 4u
#define PT_MAX_DEVS 32u
#define PT_ID_MAX (CG_PATH_MAX + 64)
/* Runtime metadata that appears after the container started (the kubelet
 * links its log after StartContainer) is retried for this long. */
#define PT_META_RETRY_NS (120ull * 1000000000ull)
/* A full /proc walk catches lost ring-buffer events. */
#define PT_RESCAN_NS (60ull * 1000000000ull)
#define PT_ROOTLESS_DBS 8u
/* Disk usage: mounts reported per container, refresh period (statvfs). */
#define PT_MAX_MOUNTS 32u
#define PT_DISK_REFRESH_NS (30ull * 1000000000ull)

/* A counter read from the kernel that may restart from zero (a container's
 * cgroup is recreated on restart): exported as base + raw, base growing by
 * the last raw value each time raw goes backwards. */
struct mono {
	double base, last;
	uint32_t valid;
	uint32_t gen; /* the container's cgroup generation of `last` */
};

struct devstat {
	uint32_t major, minor;
	struct mono rb, wb, rio, wio;
};

struct ctr;

/* One mount of a container whose disk usage series are exported. */
struct dmount {
	char *mount_point, *device, *volume;
};

/* A cgroup path already resolved to a container. */
struct cgkey {
	struct cgkey *next; /* hash chain */
	struct cgkey *sib;  /* the container's list, newest first */
	struct ctr *c;
	size_t len;
	char path[];
};

/* Resource paths of a container, relative to each hierarchy's mount;
 * NULL when the container has no cgroup of its own there. */
enum { CP_V2, CP_CPU, CP_CPUACCT, CP_MEMORY, CP_BLKIO, CP_COUNT };

#define PSI_COUNT 6 /* cpu, memory, io x some, full */

struct ctr {
	struct ctr *next; /* hash chain by id */
	char *id;         /* container_id (METRICS.md) */
	char *app_id;
	char *name;
	char *image;
	const char *runtime; /* static string */
	char rt_id[CG_ID_LEN + 1];
	uint32_t kind;          /* CG_KIND_* */
	uint32_t cg_runtime;    /* CG_RT_* */
	uint32_t has_user_uid, user_uid;
	uint32_t metrics;       /* 1: export resource metrics for it */
	uint32_t pending_meta;  /* identity is a fallback; retry metadata */
	uint32_t sandbox;       /* a pod's pause container */
	uint32_t info_done;     /* container_info and zero counters exported */
	char systemd_type[32];
	char triggered_by[META_NAME_MAX];
	char *paths[CP_COUNT];
	uint64_t inos[CP_COUNT]; /* inode of each path's directory */
	/* Bumped when a restart brings a new cgroup (new path or same path
	 * recreated): its counters start from zero, so each mono carries its
	 * old total over (a restart's new cgroup may already exceed it). */
	uint32_t cg_gen;
	struct cgkey *keys;
	uint32_t nkeys;
	uint32_t nproc;
	uint32_t ever_had_procs;
	uint64_t first_seen_ns;
	uint64_t empty_since_ns;
	uint64_t app_types;         /* bit per pd_cg_app_type_index */
	uint64_t app_types_done;    /* bits already exported */
	uint64_t delay_ns;          /* sum of its processes' run-queue wait growth */
	uint64_t blkio_ns;          /* sum of their block I/O wait growth */
	uint32_t oom_deferred;      /* OOM kills seen while its name was pending */
	struct mono cpu_usage, cpu_throttled;
	struct mono psi[PSI_COUNT];
	struct devstat *devs;       /* grown on demand, at most PT_MAX_DEVS */
	uint32_t ndevs;
	uint32_t mark;              /* scratch for sweeps */
	uint32_t sample_pid;        /* a live process, set by the timer's walk */
	struct dmount *dm;          /* disk usage series exported, at most PT_MAX_MOUNTS */
	uint32_t ndm;
	uint64_t dm_next_ns;        /* next disk usage refresh */
};

struct pentry {
	uint32_t pid; /* 0 = empty slot */
	uint32_t ppid;
	struct ctr *c;
	/* last (highest) readings, in the unit of `src`: taskstats ns, or
	 * schedstat ns and /proc/PID/stat USER_HZ ticks */
	uint64_t cpu_delay;
	uint64_t blkio_delay;
	uint64_t sample_ns;    /* CLOCK_MONOTONIC of the readings */
	uint64_t etime_us;     /* taskstats ac_etime of the readings */
	uint32_t epoch;        /* last /proc rescan that saw it */
	uint8_t sampled;       /* PS_* */
	uint8_t src;           /* PD_SRC_* of the readings */
	uint8_t oom_counted;
	char comm[16];
};

/* pentry.sampled */
#define PS_CPU 1u    /* cpu_delay holds a reading */
#define PS_BLKIO 2u  /* blkio_delay holds a reading */
#define PS_REBASE 4u /* the source changed: the next readings are baselines only */
/* pentry.src */
#define PD_SRC_NONE 0u
#define PD_SRC_SCHEDSTAT 1u /* /proc/PID/schedstat + stat: the main thread only */
#define PD_SRC_TASKSTATS 2u /* taskstats TGID query: every thread */

struct rootless_db {
	uint32_t uid;
	uint32_t used;
	struct meta_podman_db db;
};

struct devname {
	uint32_t major, minor;
	char name[32];
};

struct metrics {
	zt_metric *info, *restarts, *oom, *app_type, *cpu_limit, *cpu_usage, *cpu_throttled, *cpu_delay,
		*disk_delay, *psi[3], *mem_limit, *mem_rss, *mem_cache, *disk_reads, *disk_writes, *disk_rbytes,
		*disk_wbytes, *disk_size, *disk_used, *disk_reserved;
};

/* cgroup id (the kernel's v2 id an exec event carries) -> container id,
 * learnt at execs that could be resolved; for processes gone before their
 * exec event is handled. Direct-mapped. */
#define PD_CGCACHE 512
struct cgcache_entry {
	uint64_t cgid;
	char id[256];
};

struct pstate {
	const struct zt_host *host;
	zt_instance *inst;
	struct cgcache_entry *cgcache;
	/* config */
	uint64_t interval_ns, ttl_ns;
	uint32_t include_root;
	char *proc_root, *cgroup_root, *podman_storage, *docker_root, *kubelet_log_dir;
	/* hierarchy mounts: v2 root and each v1 controller's, NULL if absent */
	char *mounts[CP_COUNT];
	int v2_fd; /* the v2 mount, for cgroup ids to paths (-1: none) */
	/* pid table: open addressing, power-of-two capacity */
	struct pentry *procs;
	size_t pcap, pcount;
	/* containers by id, cgroup paths -> containers */
	struct ctr **ctab;
	size_t ccap, ccount;
	struct cgkey **ktab;
	size_t kcap, kcount;
	/* runtime metadata caches */
	struct meta_podman_db podman;
	struct rootless_db rootless[PT_ROOTLESS_DBS];
	uint32_t rootless_turn;
	struct meta_kubelet_index kubelet;
	struct devname devnames[64];
	uint32_t ndevnames;
	struct metrics m;
	uint64_t timer_id;
	uint64_t last_rescan_ns;
	uint32_t epoch;
	long clk_tck;
	uint32_t delayacct; /* kernel.task_delayacct is on: blkio ticks mean something */
	uint32_t enable_delayacct;
	/* taskstats generic netlink: socket, family, last sequence number */
	int ts_fd;
	uint16_t ts_family;
	uint32_t ts_seq;
	uint32_t ts_use;      /* this tick samples through taskstats */
	uint32_t ts_timeouts; /* consecutive unanswered queries this tick */
	uint64_t glitches;    /* implausible delay readings not counted */
	uint32_t warned_procs, warned_ctrs, warned_mounts;
	struct ctr **scratch; /* PT_MAX_CONTAINERS pointers for the timer's walk */
};

/* ---- process.c */
struct pentry *pd_proc_find(struct pstate *s, uint32_t pid);
/* Forgets pid (its container loses a process); tells the core. */
void pd_proc_exit(struct pstate *s, uint32_t pid);
/* Reads pid's cgroup and comm from /proc and tracks it (rescan). */
void pd_proc_discover(struct pstate *s, uint32_t pid);
/* Adds what p waited since its last reading to its container: taskstats
 * on the timer when available, else /proc/PID/schedstat and stat (and
 * those at exit, when a zombie still answers). -ENOENT when it is gone. */
int pd_proc_sample(struct pstate *s, struct pentry *p, int at_exit);
/* Taskstats socket and kernel.task_delayacct at init; the sampling source
 * of this tick (timer). */
void pd_delay_init(struct pstate *s);
void pd_delay_tick(struct pstate *s);
void pd_delay_fini(struct pstate *s);

/* ---- ident.c */
int pd_ctr_tables_init(struct pstate *s);
void pd_ctr_tables_free(struct pstate *s);
/*
 * The container of a process from its parsed /proc/PID/cgroup: a cached
 * cgroup path, else classified and named from runtime metadata. NULL when
 * the tables are full (then *fallback_id holds the id to report).
 */
struct ctr *pd_ctr_resolve(struct pstate *s, const struct cg_proc_paths *pp, char *fallback_id, size_t fblen);
struct ctr *pd_ctr_find(struct pstate *s, const char *id);
/* A process joined / left c. Joining refreshes c's resource paths from pp
 * (may be NULL) when c had no process, and counts a restart. */
void pd_ctr_join(struct pstate *s, struct ctr *c, const struct cg_proc_paths *pp);
/* Finds the cgroup hierarchies under cgroup_root (s->mounts). */
void pd_mounts_detect(struct pstate *s);
/* The directory of c's cgroup in hierarchy h, or -ENOENT. */
int pd_ctr_dir(const struct pstate *s, const struct ctr *c, int h, char *buf, size_t buflen);
void pd_ctr_leave(struct pstate *s, struct ctr *c);
/* Exports container_info and the zero counters once. */
void pd_ctr_announce(struct pstate *s, struct ctr *c);
/* Counts an OOM kill in c (deferred while its name is pending). */
void pd_ctr_oom(struct pstate *s, struct ctr *c);
/* Adds an application type seen in c. */
void pd_ctr_app_type(struct pstate *s, struct ctr *c, const char *type);
/* Retries metadata of a pending container; may merge it into another. */
void pd_ctr_retry_meta(struct pstate *s, struct ctr *c, uint64_t now);
/* Removes c's series and entity and frees it (no process may point at it). */
void pd_ctr_forget(struct pstate *s, struct ctr *c);
/* Label values "container_id, app_id" + extra. */
void pd_ctr_labels(const struct ctr *c, struct zt_str *v);

/* ---- collect.c */
int pd_metrics_register(struct pstate *s);
void pd_on_timer(void *arg);
void pd_rescan(struct pstate *s);
/* Forgets c's disk usage series list (its series were removed). */
void pd_disk_forget(struct ctr *c);

#endif
