/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers for the kernel's resource files: cgroup v1 and v2 controller
 * files, PSI, /proc/PID/stat and /proc/PID/schedstat, block device uevent.
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

#endif
