// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle: exec, new processes (not threads), group exit with the
 * exit status, and OOM victims. Low-rate events; they travel in their own
 * ring so that payload floods cannot starve them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "proc_event.h"
#include "ringwake.h"

#define CLONE_THREAD 0x00010000
#define SIGNAL_GROUP_EXIT 0x00000004
/* Wake the reader only once this much is queued; otherwise it drains on its timer. */
#define WAKEUP_SHIFT 16 /* a wakeup per 64 KiB of backlog growth */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} lifecycle_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ZT_DROP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 k = ZT_DROP_LIFECYCLE;
	__u64 *v = bpf_map_lookup_elem(&drops, &k);
	if (v)
		*v += 1;
}

static __always_inline struct zt_pev *reserve(__u32 type, __u32 pid)
{
	struct zt_pev *e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return NULL;
	}
	e->type = type;
	e->pid = pid;
	e->ppid = 0;
	e->exit_code = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	return e;
}

static __always_inline void submit(struct zt_pev *e)
{
	bpf_ringbuf_submit(e, zt_rb_wake_reserved(&lifecycle_rb, sizeof(*e), WAKEUP_SHIFT));
}

SEC("tracepoint/sched/sched_process_exec")
int zt_proc_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct zt_pev *e = reserve(ZT_PEV_EXEC, tgid);
	if (!e)
		return 0;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

SEC("tracepoint/task/task_newtask")
int zt_proc_newtask(struct trace_event_raw_task_newtask *ctx)
{
	/* Threads are not processes: skip them before touching the ring. */
	if (ctx->clone_flags & CLONE_THREAD)
		return 0;
	struct zt_pev *e = reserve(ZT_PEV_FORK, ctx->pid);
	if (!e)
		return 0;
	e->ppid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int zt_proc_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	int group_dead;

	if (bpf_core_field_exists(ctx->group_dead))
		group_dead = BPF_CORE_READ(ctx, group_dead);
	else
		group_dead = BPF_CORE_READ(t, signal, live.counter) == 0;
	if (!group_dead)
		return 0;

	struct zt_pev *e = reserve(ZT_PEV_EXIT, tgid);
	if (!e)
		return 0;
	int code = BPF_CORE_READ(t, exit_code);
	if (BPF_CORE_READ(t, signal, flags) & SIGNAL_GROUP_EXIT)
		code = BPF_CORE_READ(t, signal, group_exit_code);
	e->exit_code = code;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

SEC("tracepoint/oom/mark_victim")
int zt_proc_oom(struct trace_event_raw_mark_victim *ctx)
{
	struct zt_pev *e = reserve(ZT_PEV_OOM, ctx->pid);
	if (!e)
		return 0;
	/* The victim is not the current task: its cgroup id is resolved by
	 * user space from its pid, which stays valid until it is reaped. */
	e->cgroup_id = 0;
	e->comm[0] = 0;
	/* OOM kills are rare and urgent: wake the reader now. */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}
