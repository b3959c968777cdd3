/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * When a BPF program wakes the agent's ring consumer.
 *
 * The agent drains its rings on a short timer; a wakeup is only for a
 * backlog that grows fast. Waking on every record once the backlog is
 * above a watermark (the obvious rule) turns, under load, into one
 * irq_work and one inter-processor interrupt per record on the traced
 * thread until the consumer catches up. Instead wake when the backlog
 * crosses a multiple of the step: once per step of growth, whatever the
 * rate, and racing producers on other CPUs cannot all miss it for long
 * (the next multiple is crossed by someone).
 *
 * ZT_RB_WAKE_SHIFT: log2 of the step, bytes.
 */
#ifndef ZT_RINGWAKE_H
#define ZT_RINGWAKE_H

/* Before output of a record of `size` bytes: the flags for it. */
static __always_inline __u64 zt_rb_wake_before(void *rb, __u64 size, __u32 shift)
{
	__u64 avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	return (avail >> shift) != ((avail + size) >> shift) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* After reserve (the backlog counts the reserved record), before submit. */
static __always_inline __u64 zt_rb_wake_reserved(void *rb, __u64 size, __u32 shift)
{
	__u64 avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	return avail >= size && ((avail - size) >> shift) != (avail >> shift) ? BPF_RB_FORCE_WAKEUP :
										  BPF_RB_NO_WAKEUP;
}
#endif
