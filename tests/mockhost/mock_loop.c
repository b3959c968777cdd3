/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mock host, part 3: timers and fd watches (recorded, fired by the test)
 * and the process and container tables discovery plugins fill.
 */
#define _GNU_SOURCE
#include "mock_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

struct timer {
	uint64_t id;
	zt_instance *inst;
	uint64_t interval;
	zt_timer_cb cb;
	void *arg;
};

struct watch {
	zt_instance *inst;
	int fd;
	uint32_t events;
	zt_fd_cb cb;
	void *arg;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct timer *timers;
static size_t ntimers;
static uint64_t next_timer_id = 1;
static struct watch *watches;
static size_t nwatches;
static struct mock_process *procs;
static size_t nprocs;
static struct mock_container *conts;
static size_t nconts;
static struct mock_calls calls;

/* ------------------------------------------------------------ event loop */

int mock__timer_add(zt_instance *inst, uint64_t interval_ns, zt_timer_cb cb, void *arg, uint64_t *id)
{
	struct timer *t;

	if (!inst || !cb || interval_ns < 1000000) /* the core's 1 ms floor */
		return -EINVAL;
	pthread_mutex_lock(&lock);
	t = mock__grow_one(&timers, &ntimers, sizeof(*timers));
	if (t) {
		*t = (struct timer){ next_timer_id++, inst, interval_ns, cb, arg };
		if (id)
			*id = t->id;
	}
	pthread_mutex_unlock(&lock);
	return t ? 0 : -ENOMEM;
}

void mock__timer_cancel(zt_instance *inst, uint64_t id)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < ntimers; i++)
		if (timers[i].id == id && timers[i].inst == inst) {
			mock__drop_one(timers, &ntimers, sizeof(*timers), i);
			break;
		}
	pthread_mutex_unlock(&lock);
}

size_t mock_timer_count(zt_instance *inst)
{
	size_t n = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < ntimers; i++)
		n += !inst || timers[i].inst == inst;
	pthread_mutex_unlock(&lock);
	return n;
}

uint64_t mock_timer_interval(zt_instance *inst, size_t idx)
{
	uint64_t v = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < ntimers; i++)
		if ((!inst || timers[i].inst == inst) && idx-- == 0) {
			v = timers[i].interval;
			break;
		}
	pthread_mutex_unlock(&lock);
	return v;
}

int mock_fire_timers(void)
{
	uint64_t last;
	int fired = 0;

	pthread_mutex_lock(&lock);
	last = next_timer_id; /* timers added by the callbacks wait for the next round */
	pthread_mutex_unlock(&lock);
	for (uint64_t id = 1; id < last; id++) {
		zt_timer_cb cb = NULL;
		void *arg = NULL;
		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < ntimers; i++)
			if (timers[i].id == id) {
				cb = timers[i].cb;
				arg = timers[i].arg;
			}
		pthread_mutex_unlock(&lock);
		if (cb) {
			cb(arg);
			fired++;
		}
	}
	return fired;
}

int mock__fd_watch(zt_instance *inst, int fd, uint32_t events, zt_fd_cb cb, void *arg)
{
	int err = -ENOMEM;

	if (!inst || fd < 0 || !cb)
		return -EINVAL;
	if (fcntl(fd, F_GETFD) < 0) /* epoll_ctl would refuse it in the core */
		return -errno;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nwatches; i++)
		if (watches[i].fd == fd) {
			err = -EEXIST;
			goto out;
		}
	struct watch *w = mock__grow_one(&watches, &nwatches, sizeof(*watches));
	if (w) {
		*w = (struct watch){ inst, fd, events, cb, arg };
		err = 0;
	}
out:
	pthread_mutex_unlock(&lock);
	return err;
}

void mock__fd_unwatch(zt_instance *inst, int fd)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nwatches; i++)
		if (watches[i].fd == fd && watches[i].inst == inst) {
			mock__drop_one(watches, &nwatches, sizeof(*watches), i);
			break;
		}
	pthread_mutex_unlock(&lock);
}

size_t mock_fd_watch_count(zt_instance *inst)
{
	size_t n = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nwatches; i++)
		n += !inst || watches[i].inst == inst;
	pthread_mutex_unlock(&lock);
	return n;
}

int mock_fd_watched(int fd, uint32_t *events)
{
	int found = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nwatches && !found; i++)
		if (watches[i].fd == fd) {
			found = 1;
			if (events)
				*events = watches[i].events;
		}
	pthread_mutex_unlock(&lock);
	return found;
}

int mock_fire_fd(int fd, uint32_t events)
{
	zt_fd_cb cb = NULL;
	void *arg = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nwatches; i++)
		if (watches[i].fd == fd) {
			cb = watches[i].cb;
			arg = watches[i].arg;
		}
	pthread_mutex_unlock(&lock);
	if (!cb)
		return -ENOENT;
	cb(arg, fd, events);
	return 0;
}

/* -------------------------------------------------------------- entities */

static char *dup_str(struct zt_str s)
{
	return strndup(s.ptr ? s.ptr : "", s.len);
}

static void process_clear(struct mock_process *p)
{
	free(p->comm);
	free(p->container_id);
	free(p->app_id);
}

static void container_clear(struct mock_container *c)
{
	free(c->container_id);
	free(c->name);
	free(c->image);
	free(c->runtime);
}

/* Copies what the caller's struct holds into a zeroed one of ours, as the
 * core does with every sized struct. 0 or -EINVAL when it is too short. */
static int copy_sized(void *dst, size_t dst_size, const void *src, uint32_t src_size, size_t min)
{
	memset(dst, 0, dst_size);
	if (!src || src_size < min)
		return -EINVAL;
	memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
	return 0;
}

int mock__process_set(zt_instance *inst, const struct zt_process_info *in)
{
	struct mock_process np = { 0 }, *slot = NULL;
	struct zt_process_info pi;
	size_t i;

	pthread_mutex_lock(&lock);
	calls.process_set++;
	pthread_mutex_unlock(&lock);
	if (copy_sized(&pi, sizeof(pi), in, in ? in->struct_size : 0, offsetof(struct zt_process_info, app_id)))
		return -EINVAL;
	np.pid = pi.pid;
	np.ppid = pi.ppid;
	np.inst = inst;
	np.comm = dup_str(pi.comm);
	np.container_id = dup_str(pi.container_id);
	np.app_id = dup_str(pi.app_id);
	if (!np.comm || !np.container_id || !np.app_id)
		goto fail;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nprocs && procs[i].pid != pi.pid; i++)
		;
	slot = i < nprocs ? &procs[i] : mock__grow_one(&procs, &nprocs, sizeof(*procs));
	if (slot) {
		process_clear(slot);
		*slot = np;
	}
	pthread_mutex_unlock(&lock);
	if (slot)
		return 0;
fail:
	process_clear(&np);
	return -ENOMEM;
}

void mock__process_remove(zt_instance *inst, uint32_t pid)
{
	pthread_mutex_lock(&lock);
	calls.process_remove++;
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == pid) {
			process_clear(&procs[i]);
			mock__drop_one(procs, &nprocs, sizeof(*procs), i);
			break;
		}
	pthread_mutex_unlock(&lock);
}

/* Like the core (and snprintf): a short buffer gets a truncated,
 * NUL-terminated id, and the return value is the full length. */
int mock__process_container(uint32_t pid, char *buf, size_t buflen)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == pid) {
			size_t n = strlen(procs[i].container_id);
			if (buf && buflen) {
				size_t c = n < buflen - 1 ? n : buflen - 1;
				memcpy(buf, procs[i].container_id, c);
				buf[c] = 0;
			}
			ret = (int)n;
		}
	pthread_mutex_unlock(&lock);
	return ret;
}

int mock__container_set(zt_instance *inst, const struct zt_container_info *in)
{
	struct mock_container nc = { 0 }, *slot = NULL;
	struct zt_container_info ci;
	size_t i;

	pthread_mutex_lock(&lock);
	calls.container_set++;
	pthread_mutex_unlock(&lock);
	if (copy_sized(&ci, sizeof(ci), in, in ? in->struct_size : 0, offsetof(struct zt_container_info, runtime)) ||
	    !ci.container_id.len)
		return -EINVAL;
	nc.inst = inst;
	nc.container_id = dup_str(ci.container_id);
	nc.name = dup_str(ci.name);
	nc.image = dup_str(ci.image);
	nc.runtime = dup_str(ci.runtime);
	if (!nc.container_id || !nc.name || !nc.image || !nc.runtime)
		goto fail;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nconts && strcmp(conts[i].container_id, nc.container_id); i++)
		;
	slot = i < nconts ? &conts[i] : mock__grow_one(&conts, &nconts, sizeof(*conts));
	if (slot) {
		container_clear(slot);
		*slot = nc;
	}
	pthread_mutex_unlock(&lock);
	if (slot)
		return 0;
fail:
	container_clear(&nc);
	return -ENOMEM;
}

void mock__container_remove(zt_instance *inst, struct zt_str id)
{
	pthread_mutex_lock(&lock);
	calls.container_remove++;
	for (size_t i = 0; i < nconts; i++)
		if (strlen(conts[i].container_id) == id.len && !memcmp(conts[i].container_id, id.ptr, id.len)) {
			container_clear(&conts[i]);
			mock__drop_one(conts, &nconts, sizeof(*conts), i);
			break;
		}
	pthread_mutex_unlock(&lock);
}

const struct mock_process *mock_process_get(uint32_t pid)
{
	const struct mock_process *p = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nprocs && !p; i++)
		if (procs[i].pid == pid)
			p = &procs[i];
	pthread_mutex_unlock(&lock);
	return p;
}

const struct mock_container *mock_container_get(const char *id)
{
	const struct mock_container *c = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nconts && !c; i++)
		if (!strcmp(conts[i].container_id, id))
			c = &conts[i];
	pthread_mutex_unlock(&lock);
	return c;
}

size_t mock_process_count(void)
{
	pthread_mutex_lock(&lock);
	size_t n = nprocs;
	pthread_mutex_unlock(&lock);
	return n;
}

size_t mock_container_count(void)
{
	pthread_mutex_lock(&lock);
	size_t n = nconts;
	pthread_mutex_unlock(&lock);
	return n;
}

struct mock_calls mock_calls(void)
{
	pthread_mutex_lock(&lock);
	struct mock_calls c = calls;
	pthread_mutex_unlock(&lock);
	return c;
}

void mock__count_collect(void)
{
	pthread_mutex_lock(&lock);
	calls.metrics_collect++;
	pthread_mutex_unlock(&lock);
}

void mock__drop_instance_hooks(zt_instance *inst)
{
	pthread_mutex_lock(&lock);
	for (size_t i = ntimers; i-- > 0;)
		if (timers[i].inst == inst)
			mock__drop_one(timers, &ntimers, sizeof(*timers), i);
	for (size_t i = nwatches; i-- > 0;)
		if (watches[i].inst == inst)
			mock__drop_one(watches, &nwatches, sizeof(*watches), i);
	pthread_mutex_unlock(&lock);
}

void mock__loop_reset(void)
{
	pthread_mutex_lock(&lock);
	free(timers);
	timers = NULL;
	ntimers = 0;
	next_timer_id = 1;
	free(watches);
	watches = NULL;
	nwatches = 0;
	for (size_t i = 0; i < nprocs; i++)
		process_clear(&procs[i]);
	free(procs);
	procs = NULL;
	nprocs = 0;
	for (size_t i = 0; i < nconts; i++)
		container_clear(&conts[i]);
	free(conts);
	conts = NULL;
	nconts = 0;
	memset(&calls, 0, sizeof(calls));
	pthread_mutex_unlock(&lock);
}
