/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dispatch thread's event loop: one epoll over ring buffers, plugin fd
 * watches and the signalfd, plus interval timers. Every callback runs on
 * the loop's thread; nothing here is thread-safe except loop_stop().
 */
#ifndef ZT_CORE_LOOP_H
#define ZT_CORE_LOOP_H

#include <stdint.h>

struct loop;
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_fd_cb)(void *arg, int fd, uint32_t events);

int loop_new(struct loop **out);
void loop_free(struct loop *l);

/* owner groups timers and watches so they can be dropped together. */
int loop_timer_add(struct loop *l, const void *owner, uint64_t interval_ns, loop_timer_cb cb, void *arg, uint64_t *id);
void loop_timer_cancel(struct loop *l, uint64_t id);
int loop_fd_add(struct loop *l, const void *owner, int fd, uint32_t events, loop_fd_cb cb, void *arg);
void loop_fd_remove(struct loop *l, int fd);
void loop_remove_owner(struct loop *l, const void *owner);

/* Runs until loop_stop(). Returns 0 or a negative errno. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

uint64_t loop_now_ns(void);

#endif
