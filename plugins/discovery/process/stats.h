/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers for the kernel's resource files: cgroup v1 and v2 controller
 * files, PSI, /proc/PID/stat and /proc/PID/schedstat, block device uevent,
 * /proc/PID/mountinfo, and the taskstats generic netlink messages.
 * Pure functions over a buffer (plus one small reader), unit-tested.
 */
#ifndef ZT_PROCESS_STATS_H
#define ZT_PROCESS_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Reads a small kernel file into buf (NUL-terminated, truncated at cap-1).
 * 0 or a negative errno. */
int pd_st_read(const char *path, char *buf, size_t cap, size_t *len);

/* One unsigned decimal, optional trailing whitespace ("16777216\n"). */
int pd_st_parse_u64(const char *buf, uint64_t *out);
/* One signed decimal ("-1\n" in cpu.cfs_quota_us). */
int pd_st_parse_i64(const char *buf, int64_t *out);

/* "key value" lines (cpu.stat, memory.stat): the value of key. 0 or -ENOENT. */
int pd_st_kv_get(const char *buf, size_t len, const char *key, uint64_t *out);

/* v2 cpu.max "quota period" -> cores; -ENOENT for "max" (no limit). */
int pd_st_cpu_max(const char *buf, double *cores);
/* v1 cfs quota/period -> cores; -ENOENT when quota < 0 (no limit). */
int pd_st_cfs_cores(int64_t quota_us, int64_t period_us, double *cores);

/* v1 memory.limit_in_bytes at or above this means "no limit" (the kernel
 * reports PAGE_COUNTER_MAX pages, rounded down to the page size). */
#define ST_MEM_UNLIMITED (1ull << 62)

/* PSI "some ... total=N" / "full ... total=N" lines, in microseconds. */
struct st_psi {
	uint64_t some_us, full_us;
	uint32_t has_some, has_full;
};
int pd_st_parse_psi(const char *buf, size_t len, struct st_psi *out);

/* /proc/PID/schedstat: "run_ns delay_ns timeslices" -> delay_ns. */
int pd_st_parse_schedstat(const char *buf, uint64_t *delay_ns);

/* The fields of /proc/PID/stat that discovery needs. comm may hold spaces
 * and ')': it ends at the last ')'. */
#define ST_PF_KTHREAD 0x00200000u
struct st_pidstat {
	uint32_t ppid;
	uint32_t flags;
	char comm[16];
	uint64_t starttime;   /* field 22: USER_HZ ticks after boot */
	uint64_t blkio_ticks; /* delayacct_blkio_ticks (field 42) */
	uint32_t has_blkio;
};
int pd_st_parse_pid_stat(const char *buf, size_t len, struct st_pidstat *out);

/* Per-device I/O of one cgroup. */
struct st_dev_io {
	uint32_t major, minor;
	uint64_t rbytes, wbytes, rios, wios;
};
/* v1 blkio.throttle.io_service_bytes[_recursive] ("8:0 Read 4096") and
 * io_serviced: merged by device into v (at most max, *n in/out). Pass
 * is_ios 1 for the io_serviced file. */
int pd_st_parse_blkio(const char *buf, size_t len, int is_ios, struct st_dev_io *v, size_t max, size_t *n);
/* v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"). */
int pd_st_parse_io_stat(const char *buf, size_t len, struct st_dev_io *v, size_t max, size_t *n);

/* DEVNAME= of a /sys/dev/block/MAJ:MIN/uevent file. 0 or -ENOENT. */
int pd_st_uevent_devname(const char *buf, size_t len, char *out, size_t outlen);

/* ------------------------------------------------------------ mountinfo */

#define ST_MNT_PATH 1024
#define ST_MNT_TYPE 64

/* One line of /proc/PID/mountinfo, octal escapes (\040 ...) decoded. */
struct st_mount {
	uint32_t major, minor;
	char root[ST_MNT_PATH];        /* the mounted directory within its filesystem: "/" or a bind's source */
	char mount_point[ST_MNT_PATH]; /* in the process's mount namespace */
	char fstype[ST_MNT_TYPE];      /* "ext4", "fuse.sshfs" */
	char source[ST_MNT_PATH];      /* "/dev/vda", "overlay", "server:/export" */
	char upperdir[ST_MNT_PATH];    /* overlay's upperdir= super option, else "" */
};

/*
 * "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
 * (without the newline): any number of optional fields before "-". 0,
 * -EINVAL when malformed, -ENAMETOOLONG when a field does not fit.
 */
int pd_st_parse_mountinfo(const char *line, size_t len, struct st_mount *m);

/* What a mount is, for disk usage. */
#define ST_MNT_SKIP 0   /* pseudo or in-memory filesystem */
#define ST_MNT_DISK 1   /* on a block device (major != 0) */
#define ST_MNT_ANON 2   /* a disk filesystem with anonymous device numbers (btrfs, zfs): named by its source */
#define ST_MNT_OVERLAY 3 /* overlay with an upper layer: the upper layer's filesystem */
#define ST_MNT_REMOTE 4 /* network or FUSE: statvfs may block on it, never touch it */
int pd_st_mount_class(const struct st_mount *m);

/* 1 when path is dir or below it ("/a/b" is under "/a" and "/", not "/ab"). */
int pd_st_path_under(const char *path, const char *dir);

/* A mount of the host's mount table (pid 1's mountinfo), strings owned by
 * the caller. */
struct st_hmount {
	uint32_t major, minor;
	int cls; /* ST_MNT_* */
	const char *root, *mount_point, *source;
};

/* The host mount that holds path: the longest mount point above it, the
 * later one of equal mount points (it is on top). NULL when none. */
const struct st_hmount *pd_st_hmount_of(const struct st_hmount *hm, size_t n, const char *path);

/*
 * Where the directory `root` of filesystem major:minor is on the host: the
 * host mount of that filesystem with the shortest root above it (the most
 * canonical path: the filesystem's own mount rather than a bind of part of
 * it; the earliest of equals), its mount point + the rest. 0, -ENOENT when
 * the host does not mount that part of it, -ENAMETOOLONG.
 */
int pd_st_host_path(const struct st_hmount *hm, size_t n, uint32_t major, uint32_t minor, const char *root, char *out,
		    size_t outlen);

/* ------------------------------------------------------ taskstats netlink */

/* What the plugin takes from struct taskstats (linux/taskstats.h). */
struct st_taskstats {
	uint32_t tgid;
	uint16_t version;
	uint64_t cpu_delay_ns;   /* cpu_delay_total: run-queue wait, every thread */
	uint64_t blkio_delay_ns; /* blkio_delay_total: synchronous block I/O wait */
	uint64_t etime_us;       /* ac_etime: the live threads' ages summed; UINT64_MAX if absent */
};

/* Requests into buf: CTRL_CMD_GETFAMILY by name, and TASKSTATS_CMD_GET with
 * TASKSTATS_CMD_ATTR_TGID. Return the length, or -ENOSPC. */
int pd_st_genl_family_request(void *buf, size_t cap, uint32_t seq, const char *name);
int pd_st_taskstats_request(void *buf, size_t cap, uint16_t family, uint32_t seq, uint32_t tgid);

/*
 * One received datagram. 0 with the answer to request `seq`; -ENOMSG when
 * it holds none (a late answer to an earlier request: read again); the
 * kernel's negative errno from an NLMSG_ERROR (-ESRCH: no such process);
 * -EBADMSG when malformed (lengths past the buffer, missing attributes, a
 * struct taskstats too short to hold the delays).
 */
int pd_st_genl_family_reply(const void *buf, size_t len, uint32_t seq, uint16_t *family);
int pd_st_taskstats_reply(const void *buf, size_t len, uint16_t family, uint32_t seq, struct st_taskstats *out);

/*
 * Whether a delay counter's growth `delta_ns` can be real, given `room_ns`,
 * the thread time it could have been spent in (the window times the
 * threads, or a new process's age), and the uptime. The 6.18 test kernel
 * now and then adds the whole uptime to a task's block I/O delay (its
 * start stamp is zero): a growth past the room (plus 10 s of slack for
 * waits that began earlier) that is also at least half the uptime is that.
 */
#define ST_DELAY_SLACK_NS (10ull * 1000000000ull)
int pd_st_delay_plausible(uint64_t delta_ns, uint64_t room_ns, uint64_t uptime_ns);

#endif
