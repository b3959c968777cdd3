/* SPDX-License-Identifier: Apache-2.0 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct timer {
	uint64_t id;
	const void *owner;
	uint64_t interval;
	uint64_t due;
	loop_timer_cb cb;
	void *arg;
	int dead;
	struct timer *next;
};

struct watch {
	int fd;
	const void *owner;
	loop_fd_cb cb;
	void *arg;
	int dead;
	struct watch *next;
};

struct loop {
	int epfd;
	int wakefd; /* loop_stop() from a signal handler or another thread */
	volatile int stop;
	uint64_t next_id;
	struct timer *timers;
	struct watch *watches;
	int in_dispatch;
};

uint64_t loop_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };
	int err = -ENOMEM;
	if (!l)
		return err;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wakefd < 0) {
		err = -errno;
		goto fail;
	}
	ev.data.ptr = NULL; /* NULL marks the wake fd */
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev)) {
		err = -errno;
		goto fail;
	}
	*out = l;
	return 0;
fail:
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	free(l);
	return err;
}

static void reap(struct loop *l)
{
	for (struct timer **t = &l->timers; *t;) {
		if ((*t)->dead) {
			struct timer *d = *t;
			*t = d->next;
			free(d);
		} else {
			t = &(*t)->next;
		}
	}
	for (struct watch **w = &l->watches; *w;) {
		if ((*w)->dead) {
			struct watch *d = *w;
			*w = d->next;
			free(d);
		} else {
			w = &(*w)->next;
		}
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (struct timer *t = l->timers; t; t = t->next)
		t->dead = 1;
	for (struct watch *w = l->watches; w; w = w->next)
		w->dead = 1;
	reap(l);
	close(l->epfd);
	close(l->wakefd);
	free(l);
}

int loop_timer_add(struct loop *l, const void *owner, uint64_t interval_ns, loop_timer_cb cb, void *arg, uint64_t *id)
{
	if (!cb || interval_ns < 1000000) /* 1 ms floor: a timer is not a busy loop */
		return -EINVAL;
	struct timer *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->id = ++l->next_id;
	t->owner = owner;
	t->interval = interval_ns;
	t->due = loop_now_ns() + interval_ns;
	t->cb = cb;
	t->arg = arg;
	t->next = l->timers;
	l->timers = t;
	if (id)
		*id = t->id;
	return 0;
}

void loop_timer_cancel(struct loop *l, uint64_t id)
{
	for (struct timer *t = l->timers; t; t = t->next)
		if (t->id == id)
			t->dead = 1;
}

int loop_fd_add(struct loop *l, const void *owner, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	struct watch *w;
	struct epoll_event ev = { 0 };
	if (fd < 0 || !cb)
		return -EINVAL;
	for (w = l->watches; w; w = w->next)
		if (w->fd == fd && !w->dead)
			return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->owner = owner;
	w->cb = cb;
	w->arg = arg;
	ev.events = events;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;
		free(w);
		return err;
	}
	w->next = l->watches;
	l->watches = w;
	return 0;
}

static void watch_kill(struct loop *l, struct watch *w)
{
	if (w->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = 1;
}

void loop_fd_remove(struct loop *l, int fd)
{
	for (struct watch *w = l->watches; w; w = w->next)
		if (w->fd == fd)
			watch_kill(l, w);
	if (!l->in_dispatch)
		reap(l);
}

void loop_remove_owner(struct loop *l, const void *owner)
{
	for (struct timer *t = l->timers; t; t = t->next)
		if (t->owner == owner)
			t->dead = 1;
	for (struct watch *w = l->watches; w; w = w->next)
		if (w->owner == owner)
			watch_kill(l, w);
	if (!l->in_dispatch)
		reap(l);
}

void loop_stop(struct loop *l)
{
	uint64_t one = 1;
	l->stop = 1;
	/* async-signal-safe */
	if (write(l->wakefd, &one, sizeof(one)) < 0) {
	}
}

static int next_timeout_ms(struct loop *l, uint64_t now)
{
	uint64_t best = UINT64_MAX;
	for (struct timer *t = l->timers; t; t = t->next)
		if (!t->dead && t->due < best)
			best = t->due;
	if (best == UINT64_MAX)
		return 1000;
	if (best <= now)
		return 0;
	uint64_t ms = (best - now + 999999) / 1000000;
	return ms > 1000 ? 1000 : (int)ms;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[32];
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 32, next_timeout_ms(l, loop_now_ns()));
		if (n < 0 && errno != EINTR)
			return -errno;
		l->in_dispatch = 1;
		for (int i = 0; i < n && !l->stop; i++) {
			struct watch *w = evs[i].data.ptr;
			if (!w) {
				uint64_t v;
				if (read(l->wakefd, &v, sizeof(v)) < 0) {
				}
				continue;
			}
			if (!w->dead)
				w->cb(w->arg, w->fd, evs[i].events);
		}
		uint64_t now = loop_now_ns();
		for (struct timer *t = l->timers; t && !l->stop; t = t->next) {
			if (t->dead || t->due > now)
				continue;
			/* Skip missed periods instead of firing a burst. */
			t->due += t->interval;
			if (t->due <= now)
				t->due = now + t->interval;
			t->cb(t->arg);
		}
		l->in_dispatch = 0;
		reap(l);
	}
	return 0;
}
