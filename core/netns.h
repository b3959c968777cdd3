/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a little code inside another network namespace. Netlink sockets
 * (sock_diag, ctnetlink) answer for the namespace they were created in,
 * so the agent creates them after setns(2) into the target and keeps them
 * there: only the calling thread moves, and only for the creation.
 */
#ifndef ZT_CORE_NETNS_H
#define ZT_CORE_NETNS_H

#include <stdint.h>

/*
 * Calls fn(arg) with the calling thread in network namespace `inum`,
 * entered through /proc/<tgid>/ns/net (checked to still be `inum`: the pid
 * may have been reused), then returns to `self_fd` (an open
 * /proc/thread-self/ns/net of the caller's own namespace). Returns fn's
 * result, or -errno when the namespace cannot be entered (-ESRCH: tgid is
 * gone or now elsewhere).
 */
int netns_run(int self_fd, uint32_t inum, uint32_t tgid, int (*fn)(void *arg), void *arg);

#endif
