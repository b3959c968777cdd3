/* SPDX-License-Identifier: Apache-2.0 */
/* Process lifecycle records shared by bpf/proc.bpf.c and core/feature_proc.c.
 * Fixed-width types only: this header is compiled for both sides. */
#ifndef ZT_BPF_SHARED_PROC_EVENT_H
#define ZT_BPF_SHARED_PROC_EVENT_H

#define ZT_PEV_EXEC 1
#define ZT_PEV_FORK 2
#define ZT_PEV_EXIT 3
#define ZT_PEV_OOM 4

struct zt_pev {
	__u32 type;
	__u32 pid;       /* tgid */
	__u32 ppid;
	__s32 exit_code;
	__u64 ts_ns;
	__u64 cgroup_id;
	char comm[16];
};

/* Indices of the per-CPU drop counter array (one slot per ring). */
#define ZT_DROP_LIFECYCLE 0
#define ZT_DROP_SLOTS 4

#endif
