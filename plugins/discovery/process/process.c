/* SPDX-License-Identifier: Apache-2.0 */
/*
 * process: discovery of processes and their containers.
 *
 * This file holds the plugin's entry, its config, the pid table and the
 * handling of the kernel's process events. Per event it reads at most
 * /proc/PID/cgroup (and /proc/PID/cmdline for java-like runtimes); the
 * full /proc walk happens at start and on the slow rescan timer only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/taskstats.h>

#include <zerotap/plugin.h>

#include "state.h"
#include "stats.h"

/* /proc/PID/cgroup of a process in a deep k8s hierarchy with every v1
 * controller is ~2.5 KB; longer content is cut and its last line dropped
 * as malformed. */
#define CGROUP_BUF 8192

/* ------------------------------------------------------------ pid table */

static size_t phash(uint32_t pid, size_t cap)
{
	return (size_t)((pid * 2654435761u) & (uint32_t)(cap - 1));
}

struct pentry *pd_proc_find(struct pstate *s, uint32_t pid)
{
	size_t i;

	if (!pid || !s->procs)
		return NULL;
	for (i = phash(pid, s->pcap); s->procs[i].pid; i = (i + 1) & (s->pcap - 1))
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static int proc_grow(struct pstate *s)
{
	size_t ncap = s->pcap ? s->pcap * 2 : 4096;
	struct pentry *nv = calloc(ncap, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	for (size_t i = 0; i < s->pcap; i++) {
		size_t j;
		if (!s->procs[i].pid)
			continue;
		for (j = phash(s->procs[i].pid, ncap); nv[j].pid; j = (j + 1) & (ncap - 1))
			;
		nv[j] = s->procs[i];
	}
	free(s->procs);
	s->procs = nv;
	s->pcap = ncap;
	return 0;
}

/* Entries move when the table grows: never keep a pentry pointer across a
 * call that may insert. NULL when the table is at its bound. */
static struct pentry *proc_insert(struct pstate *s, uint32_t pid)
{
	struct pentry *p = pd_proc_find(s, pid);
	size_t i;

	if (p)
		return p;
	if (s->pcount >= PT_MAX_PROCS) {
		if (!s->warned_procs++)
			s->host->log(s->inst, ZT_LOG_WARN, "process table full (%u): new processes are not tracked",
				     PT_MAX_PROCS);
		return NULL;
	}
	if ((s->pcount + 1) * 4 > s->pcap * 3 && proc_grow(s))
		return NULL;
	for (i = phash(pid, s->pcap); s->procs[i].pid; i = (i + 1) & (s->pcap - 1))
		;
	memset(&s->procs[i], 0, sizeof(s->procs[i]));
	s->procs[i].pid = pid;
	s->pcount++;
	return &s->procs[i];
}

/* Backward-shift deletion keeps linear probing correct without tombstones. */
static void proc_delete(struct pstate *s, struct pentry *p)
{
	size_t mask = s->pcap - 1, i = (size_t)(p - s->procs), j = i;

	memset(&s->procs[i], 0, sizeof(s->procs[i]));
	s->pcount--;
	for (;;) {
		size_t k;
		j = (j + 1) & mask;
		if (!s->procs[j].pid)
			return;
		k = phash(s->procs[j].pid, s->pcap);
		/* move j into the hole at i unless its home k lies in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			s->procs[i] = s->procs[j];
			memset(&s->procs[j], 0, sizeof(s->procs[j]));
			i = j;
		}
	}
}

/* ------------------------------------------------------------- /proc I/O */

static int proc_file(struct pstate *s, uint32_t pid, const char *name, char *buf, size_t cap, size_t *len)
{
	char path[512];

	if ((size_t)snprintf(path, sizeof(path), "%s/%u/%s", s->proc_root, pid, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return pd_st_read(path, buf, cap, len);
}

/* comm as a C string, cut to what the kernel keeps (15 bytes) */
static void comm_cstr(char cm[16], const char *comm, size_t len)
{
	if (!comm)
		len = 0;
	if (len > 15)
		len = 15;
	if (len)
		memcpy(cm, comm, len);
	cm[len] = 0;
}

static void tell_core(struct pstate *s, uint32_t pid, uint32_t ppid, const char *comm, const char *cid,
		      const char *app_id)
{
	struct zt_process_info pi = { .struct_size = sizeof(pi), .pid = pid, .ppid = ppid };

	pi.comm = (struct zt_str){ comm, strlen(comm) };
	pi.container_id = (struct zt_str){ cid, strlen(cid) };
	pi.app_id = (struct zt_str){ app_id, strlen(app_id) };
	s->host->process_set(s->inst, &pi);
}

/* Tracks pid in c (or, when the container table was full, only reports
 * fallback_id to the core). */
static void attach(struct pstate *s, uint32_t pid, uint32_t ppid, const char *comm, size_t comm_len, struct ctr *c,
		   const struct cg_proc_paths *pp, const char *fallback_id)
{
	struct pentry *p = proc_insert(s, pid);
	char cm[16];

	comm_cstr(cm, comm, comm_len);
	if (p) {
		if (p->c != c) {
			/* join first: c's restart logic must not see a transient
			 * state of the old container */
			if (c)
				pd_ctr_join(s, c, pp);
			if (p->c)
				pd_ctr_leave(s, p->c);
			p->c = c;
		}
		p->ppid = ppid;
		memcpy(p->comm, cm, sizeof(cm));
	}
	if (c)
		tell_core(s, pid, ppid, cm, c->id, c->app_id);
	else
		tell_core(s, pid, ppid, cm, fallback_id, fallback_id);
}

/* Application type from comm, with the cmdline for shared runtimes. */
static void detect_app(struct pstate *s, uint32_t pid, struct ctr *c, const char *comm, size_t comm_len)
{
	char cmd[4096];
	size_t n = 0;
	const char *t;

	if (!c)
		return;
	if (pd_cg_app_type_needs_cmdline(comm, comm_len) && proc_file(s, pid, "cmdline", cmd, sizeof(cmd), &n))
		n = 0;
	t = pd_cg_app_type(comm, comm_len, n ? cmd : NULL, n);
	if (t)
		pd_ctr_app_type(s, c, t);
	/* Without runtime metadata the pod's pause container is only known
	 * by its process: it is infrastructure, not an application. */
	if (c->kind == CG_KIND_K8S && c->pending_meta && comm_len == 5 && !memcmp(comm, "pause", 5))
		c->sandbox = 1;
}

static int is_zombie(struct pstate *s, uint32_t pid)
{
	char stat[512];
	size_t len;
	const char *rp;
	if (proc_file(s, pid, "stat", stat, sizeof(stat) - 1, &len))
		return 1; /* gone (reaped) is no better */
	stat[len] = 0;
	rp = strrchr(stat, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Resolves pid's container from /proc/PID/cgroup. 0, or a negative errno
 * when the process is gone (or its file unreadable). */
static int resolve_pid(struct pstate *s, uint32_t pid, struct cg_proc_paths *pp, char *buf, struct ctr **c,
		       char *fallback, size_t fblen)
{
	size_t len;
	int err = proc_file(s, pid, "cgroup", buf, CGROUP_BUF, &len);

	if (err)
		return err;
	err = pd_cg_parse_proc_cgroup(buf, len, pp);
	if (err)
		return err;
	/* A zombie's cgroup file reads "/" in every hierarchy: that says
	 * nothing about where it ran, so let the caller fall back. */
	if (is_zombie(s, pid))
		return -ESRCH;
	*c = pd_ctr_resolve(s, pp, fallback, fblen);
	return 0;
}

void pd_proc_discover(struct pstate *s, uint32_t pid)
{
	char buf[CGROUP_BUF], stat[1024], fallback[PT_ID_MAX];
	struct cg_proc_paths pp;
	struct st_pidstat ps;
	struct ctr *c = NULL;
	size_t len;

	if (proc_file(s, pid, "stat", stat, sizeof(stat), &len) || pd_st_parse_pid_stat(stat, len, &ps))
		return;
	if (ps.flags & ST_PF_KTHREAD)
		return; /* kernel threads belong to no container */
	if (resolve_pid(s, pid, &pp, buf, &c, fallback, sizeof(fallback)))
		return;
	attach(s, pid, ps.ppid, ps.comm, strlen(ps.comm), c, &pp, fallback);
	detect_app(s, pid, c, ps.comm, strlen(ps.comm));
}

void pd_proc_exit(struct pstate *s, uint32_t pid)
{
	struct pentry *p = pd_proc_find(s, pid);
	struct ctr *c;

	if (!p)
		return;
	c = p->c;
	/* The last run-delay since the previous tick, while the zombie still
	 * answers; a reaped pid just fails the read. */
	if (c && c->metrics)
		pd_proc_sample(s, p, 1);
	proc_delete(s, p);
	if (c)
		pd_ctr_leave(s, c);
	s->host->process_remove(s->inst, pid);
}

/* ---------------------------------------------------------- delays */

/* A reply is ~450 bytes; the kernel answers within the send, so the wait
 * only matters when something is wrong. */
#define TS_BUF 8192
#define TS_WAIT_MS 10
#define TS_MAX_TIMEOUTS 3

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sends req and reads datagrams until the one answering seq, for at most
 * TS_WAIT_MS. With fam set it is a family lookup, else a taskstats query. */
static int ts_call(struct pstate *s, const void *req, int len, uint32_t seq, struct st_taskstats *out, uint16_t *fam)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t buf[TS_BUF] __attribute__((aligned(8)));
	uint64_t deadline = mono_ns() + TS_WAIT_MS * 1000000ull;
	int err;

	if (sendto(s->ts_fd, req, (size_t)len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(s->ts_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (r < 0) {
			struct pollfd pfd = { .fd = s->ts_fd, .events = POLLIN };
			uint64_t now = mono_ns();
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno; /* ENOBUFS: an answer was dropped */
			if (now >= deadline)
				return -ETIMEDOUT;
			poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
			continue;
		}
		if ((size_t)r > sizeof(buf) || from.nl_pid != 0)
			continue; /* cut, or not from the kernel */
		err = fam ? pd_st_genl_family_reply(buf, (size_t)r, seq, fam)
			  : pd_st_taskstats_reply(buf, (size_t)r, s->ts_family, seq, out);
		if (err != -ENOMSG)
			return err;
	}
}

static int ts_query(struct pstate *s, uint32_t tgid, struct st_taskstats *out)
{
	uint8_t req[64];
	uint32_t seq = ++s->ts_seq;
	int len = pd_st_taskstats_request(req, sizeof(req), s->ts_family, seq, tgid);
	int err = len < 0 ? len : ts_call(s, req, len, seq, out, NULL);

	return err ? err : out->tgid != tgid ? -EBADMSG : 0;
}

/* Taskstats answers about pids of our own pid namespace: usable only when
 * proc_root is that namespace's procfs (its "self" is us). */
static int same_pid_ns(struct pstate *s)
{
	char path[512], link[32];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/self", s->proc_root);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = 0;
	return strtoul(link, NULL, 10) == (unsigned long)getpid();
}

static int ts_open(struct pstate *s)
{
	uint8_t req[64];
	struct st_taskstats self;
	uint32_t seq = ++s->ts_seq;
	int len, err;

	if (!same_pid_ns(s))
		return -EXDEV;
	s->ts_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->ts_fd < 0)
		return -errno;
	len = pd_st_genl_family_request(req, sizeof(req), seq, TASKSTATS_GENL_NAME);
	err = len < 0 ? len : ts_call(s, req, len, seq, NULL, &s->ts_family);
	/* queries need CAP_NET_ADMIN: ask about ourselves once */
	if (!err)
		err = ts_query(s, (uint32_t)getpid(), &self);
	if (err) {
		close(s->ts_fd);
		s->ts_fd = -1;
	}
	return err;
}

static int read_delayacct(struct pstate *s, uint64_t *v)
{
	char path[512], buf[32];
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/sys/kernel/task_delayacct", s->proc_root);
	err = pd_st_read(path, buf, sizeof(buf), &len);
	return err ? err : pd_st_parse_u64(buf, v);
}

void pd_delay_init(struct pstate *s)
{
	char path[512];
	uint64_t v;
	int err, fd;

	s->ts_fd = -1;
	/* Off by default since Linux 5.14; without it taskstats delays stay
	 * zero and /proc/PID/stat has no block I/O delay. */
	if (s->enable_delayacct && !read_delayacct(s, &v) && v == 0) {
		snprintf(path, sizeof(path), "%s/sys/kernel/task_delayacct", s->proc_root);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		err = fd < 0 ? -errno : write(fd, "1\n", 2) == 2 ? 0 : -errno;
		if (fd >= 0)
			close(fd);
		s->host->log(s->inst, err ? ZT_LOG_WARN : ZT_LOG_INFO, "kernel.task_delayacct is 0: %s%s",
			     err ? "cannot set it to 1: " : "set to 1 (enable_delayacct)", err ? strerror(-err) : "");
	}
	err = ts_open(s);
	if (err)
		s->host->log(s->inst, ZT_LOG_INFO,
			     "taskstats unavailable (%s): delays from /proc/PID/schedstat and stat, main thread only",
			     err == -EXDEV ? "proc_root is not this pid namespace's procfs" : strerror(-err));
}

void pd_delay_fini(struct pstate *s)
{
	if (s->ts_fd >= 0)
		close(s->ts_fd);
	s->ts_fd = -1;
}

void pd_delay_tick(struct pstate *s)
{
	uint64_t v;
	uint32_t use;

	s->delayacct = !read_delayacct(s, &v) && v;
	/* with delay accounting off taskstats reports zeros: schedstat still
	 * has the run-queue wait */
	use = s->ts_fd >= 0 && s->delayacct;
	if (use != s->ts_use && s->ts_fd >= 0)
		s->host->log(s->inst, ZT_LOG_INFO, "delays from %s (kernel.task_delayacct %s)",
			     use ? "taskstats" : "/proc/PID/schedstat", use ? "on" : "off");
	s->ts_use = use;
	s->ts_timeouts = 0;
}

/*
 * Adds what a process waited since its previous reading *last to *sum, in
 * ns (mul / div convert the source's unit). A new entry contributes
 * everything it waited so far; later only growth counts, so the sum stays
 * monotonic when processes exit (their last reading stays in the total).
 * A reading below *last is ignored and its regrowth not counted again: a
 * zombie's taskstats are zero, and a thread group's sum may count an
 * exiting thread twice for a moment. With room_ns (not UINT64_MAX), a
 * growth that cannot be real only moves the baseline.
 */
static void credit(struct pstate *s, struct pentry *p, uint8_t bit, uint64_t v, uint64_t *last, uint64_t *sum,
		   uint64_t mul, uint64_t div, uint64_t room_ns, uint64_t now)
{
	uint64_t d;

	if (!(p->sampled & bit)) {
		d = p->sampled & PS_REBASE ? 0 : v;
		p->sampled |= bit;
	} else if (v > *last) {
		d = v - *last;
	} else {
		return;
	}
	*last = v;
	d = d * mul / div;
	if (room_ns != UINT64_MAX && !pd_st_delay_plausible(d, room_ns, now)) {
		if (!s->glitches++)
			s->host->log(s->inst, ZT_LOG_WARN,
				     "pid %u: block I/O delay grew by %.0f s (room %.0f s, uptime %.0f s): a kernel "
				     "accounting glitch, not counted (logged once)",
				     p->pid, (double)d / 1e9, (double)room_ns / 1e9, (double)now / 1e9);
		return;
	}
	*sum += d;
}

/* Readings of another source are not comparable: start over from a
 * baseline (one interval of delay is not counted). */
static void set_source(struct pentry *p, uint8_t src)
{
	if (p->src == src)
		return;
	if (p->sampled)
		p->sampled = PS_REBASE;
	p->src = src;
}

static int sample_taskstats(struct pstate *s, struct pentry *p)
{
	struct st_taskstats ts;
	uint64_t now, room = UINT64_MAX;
	int err;

	if (s->ts_timeouts >= TS_MAX_TIMEOUTS)
		return 0; /* the socket is stuck: next tick */
	set_source(p, PD_SRC_TASKSTATS);
	err = ts_query(s, p->pid, &ts);
	if (err == -ESRCH)
		return -ENOENT;
	if (err == -ETIMEDOUT)
		s->ts_timeouts++;
	if (err == -EPERM) { /* CAP_NET_ADMIN dropped: schedstat from now on */
		s->host->log(s->inst, ZT_LOG_WARN, "taskstats: %s: delays from /proc/PID/schedstat", strerror(-err));
		pd_delay_fini(s);
		s->ts_use = 0;
	}
	if (err)
		return 0; /* counters are cumulative: the next tick catches up */
	s->ts_timeouts = 0;
	now = mono_ns();
	/* thread time the block I/O wait could have taken: the live threads'
	 * ages (new process), or their growth plus the window */
	if (ts.etime_us != UINT64_MAX && !(p->sampled & PS_BLKIO))
		room = ts.etime_us * 1000;
	else if (ts.etime_us != UINT64_MAX && p->etime_us != UINT64_MAX)
		room = (ts.etime_us > p->etime_us ? (ts.etime_us - p->etime_us) * 1000 : 0) + (now - p->sample_ns);
	credit(s, p, PS_CPU, ts.cpu_delay_ns, &p->cpu_delay, &p->c->delay_ns, 1, 1, UINT64_MAX, now);
	credit(s, p, PS_BLKIO, ts.blkio_delay_ns, &p->blkio_delay, &p->c->blkio_ns, 1, 1, room, now);
	p->sample_ns = now;
	p->etime_us = ts.etime_us;
	return 0;
}

/* The main thread's block I/O delay from /proc/PID/stat (USER_HZ), in the
 * readings' unit: ticks, or ns when it is credited against taskstats. */
static void stat_blkio(struct pstate *s, struct pentry *p, const struct st_pidstat *ps, uint64_t now, int in_ns)
{
	struct timespec bt;
	uint64_t hz = (uint64_t)s->clk_tck, room, start_ns = ps->starttime * 1000000000ull / hz;
	uint64_t v = in_ns ? ps->blkio_ticks * 1000000000ull / hz : ps->blkio_ticks;

	if (p->sampled & PS_BLKIO) {
		room = now - p->sample_ns;
	} else {
		clock_gettime(CLOCK_BOOTTIME, &bt); /* starttime counts from boot */
		room = (uint64_t)bt.tv_sec * 1000000000ull + (uint64_t)bt.tv_nsec;
		room = room > start_ns ? room - start_ns : 0;
	}
	credit(s, p, PS_BLKIO, v, &p->blkio_delay, &p->c->blkio_ns, in_ns ? 1 : 1000000000ull, in_ns ? 1 : hz, room, now);
}

int pd_proc_sample(struct pstate *s, struct pentry *p, int at_exit)
{
	char buf[1024];
	size_t len;
	uint64_t v, now = mono_ns();
	struct st_pidstat ps;
	int err, ts_domain = s->ts_use == 1 && p->src == PD_SRC_TASKSTATS;

	if (s->ts_use == 1 && !at_exit)
		return sample_taskstats(s, p);
	/* At exit the netlink socket is not used (no per-event queries). The
	 * zombie's schedstat and stat hold its main thread's waits, which for
	 * the common single-threaded process are the thread group's: they are
	 * credited against the taskstats readings too (never below them), so a
	 * process that lived less than a tick is counted as well. */
	if (!ts_domain)
		set_source(p, PD_SRC_SCHEDSTAT);
	err = proc_file(s, p->pid, "schedstat", buf, sizeof(buf), &len);
	if (err == -ENOENT || err == -ESRCH)
		return -ENOENT;
	if (!err && !pd_st_parse_schedstat(buf, &v))
		credit(s, p, PS_CPU, v, &p->cpu_delay, &p->c->delay_ns, 1, 1, UINT64_MAX, now);
	if (s->delayacct) {
		err = proc_file(s, p->pid, "stat", buf, sizeof(buf), &len);
		if (err == -ENOENT || err == -ESRCH)
			return -ENOENT;
		if (!err && !pd_st_parse_pid_stat(buf, len, &ps) && ps.has_blkio)
			stat_blkio(s, p, &ps, now, ts_domain);
	}
	p->sample_ns = now;
	return 0;
}

/* --------------------------------------------------------------- events */

#define PD_FILEID_KERNFS 0xfe /* the handle type of cgroupfs: the 8-byte id */

/* The container of a v2 cgroup id: the cgroup's directory, opened by its
 * id (the kernfs node id is its file handle), then its path below the
 * mount. NULL when the cgroup is gone or there is no v2 mount. */
static struct ctr *ctr_of_cgroup_id(struct pstate *s, uint64_t cgid, char *fallback, size_t fblen)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = PD_FILEID_KERNFS } };
	char link[64], path[CGROUP_BUF];
	struct cg_proc_paths pp = { .lines = 1 };
	size_t ml;
	ssize_t n;
	int fd;

	if (s->v2_fd < 0 || !cgid || !s->mounts[CP_V2])
		return NULL;
	memcpy(h.fh.f_handle, &cgid, sizeof(cgid));
	fd = open_by_handle_at(s->v2_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	ml = strlen(s->mounts[CP_V2]);
	if (n <= 0 || (size_t)n < ml || (size_t)n - ml > CG_PATH_MAX || memcmp(path, s->mounts[CP_V2], ml))
		return NULL; /* (longer paths: malformed, as in /proc/PID/cgroup) */
	/* the v2 line of /proc/PID/cgroup, as it would have read */
	pp.v2 = (size_t)n == ml ? (struct cg_slice){ "/", 1 } : (struct cg_slice){ path + ml, (size_t)n - ml };
	return pd_ctr_resolve(s, &pp, fallback, fblen);
}

static void on_exec(struct pstate *s, const struct zt_process_event *ev)
{
	char buf[CGROUP_BUF], fallback[PT_ID_MAX];
	struct cg_proc_paths pp;
	struct ctr *c = NULL;

	/* exec does not change the cgroup, but runc's init moves into the
	 * container's cgroup just before it execs the entrypoint, so this is
	 * the moment to look. A process already gone will send EXIT. */
	struct cgcache_entry *ce = s->cgcache && ev->cgroup_id ? &s->cgcache[ev->cgroup_id % PD_CGCACHE] : NULL;
	if (resolve_pid(s, ev->pid, &pp, buf, &c, fallback, sizeof(fallback))) {
		/* Already exited: it ran in the cgroup its exec event names, if a
		 * process seen there before tells which container that is; else
		 * where its fork put it, else beside its parent (which is wrong
		 * when it moved between fork and exec: a short-lived command
		 * started into a cgroup). */
		struct pentry *self = pd_proc_find(s, ev->pid), *parent = pd_proc_find(s, ev->ppid);
		struct ctr *known = ce && ce->cgid == ev->cgroup_id ? pd_ctr_find(s, ce->id) : NULL;
		if (!known && ev->cgroup_id) {
			/* the first process of its cgroup: the cgroup by its id. The
			 * core learns where the process ran (its connections and
			 * requests are attributed); the container's process count
			 * and restarts are left to processes seen alive. */
			struct ctr *c2 = ctr_of_cgroup_id(s, ev->cgroup_id, fallback, sizeof(fallback));
			if (c2 && c2->id) {
				char cm[16];
				comm_cstr(cm, ev->comm.ptr, ev->comm.len);
				/* (not cached: the cache names containers whose paths
				 * a live process gave) */
				tell_core(s, ev->pid, ev->ppid, cm, c2->id, c2->app_id);
				return;
			}
		}
		if (!known)
			known = self && self->c ? self->c : parent ? parent->c : NULL;
		if (known)
			attach(s, ev->pid, ev->ppid, ev->comm.ptr ? ev->comm.ptr : "", ev->comm.ptr ? ev->comm.len : 0,
			       known, NULL, NULL);
		return;
	}
	if (ce && c && c->id) {
		ce->cgid = ev->cgroup_id;
		snprintf(ce->id, sizeof(ce->id), "%s", c->id);
	}
	attach(s, ev->pid, ev->ppid, ev->comm.ptr ? ev->comm.ptr : "", ev->comm.ptr ? ev->comm.len : 0, c, &pp,
	       fallback);
	detect_app(s, ev->pid, c, ev->comm.ptr ? ev->comm.ptr : "", ev->comm.ptr ? ev->comm.len : 0);
}

static void on_fork(struct pstate *s, const struct zt_process_event *ev)
{
	char buf[CGROUP_BUF], fallback[PT_ID_MAX];
	struct cg_proc_paths pp;
	struct ctr *c = NULL;
	struct pentry *parent;
	const char *comm = ev->comm.ptr ? ev->comm.ptr : "";

	/* kthreadd's children are kernel threads */
	if (ev->ppid == 2 || ev->pid == 2)
		return;
	if (!resolve_pid(s, ev->pid, &pp, buf, &c, fallback, sizeof(fallback))) {
		attach(s, ev->pid, ev->ppid, comm, ev->comm.len, c, &pp, fallback);
		return;
	}
	/* The child is gone or unreadable: it was born in its parent's cgroup. */
	parent = pd_proc_find(s, ev->ppid);
	if (parent && parent->c)
		attach(s, ev->pid, ev->ppid, comm, ev->comm.len, parent->c, NULL, NULL);
}

/* The kernel names the victim task, which may be any thread: find its
 * process through /proc/<tid>/status (threads are not listed in /proc but
 * their entries answer). */
static struct pentry *oom_victim(struct pstate *s, uint32_t tid)
{
	char buf[2048];
	size_t len;
	uint64_t tgid;
	struct pentry *p = pd_proc_find(s, tid);
	const char *t;

	if (p)
		return p;
	if (proc_file(s, tid, "status", buf, sizeof(buf), &len))
		return NULL;
	t = strstr(buf, "\nTgid:");
	if (!t)
		return NULL;
	tgid = strtoull(t + 6, NULL, 10); /* "Tgid:\t123" */
	if (!tgid || tgid > UINT32_MAX)
		return NULL;
	p = pd_proc_find(s, (uint32_t)tgid);
	if (!p) {
		pd_proc_discover(s, (uint32_t)tgid);
		p = pd_proc_find(s, (uint32_t)tgid);
	}
	return p;
}

static void on_oom(struct pstate *s, uint32_t tid)
{
	struct pentry *p = oom_victim(s, tid);

	/* Several threads of one victim may each be marked: count the
	 * process once. */
	if (!p || !p->c || p->oom_counted)
		return;
	p->oom_counted = 1;
	pd_ctr_oom(s, p->c);
}

static void pr_event(void *state, const struct zt_process_event *ev)
{
	struct pstate *s = state;

	if (!s || !ev || !ev->pid)
		return;
	switch (ev->type) {
	case ZT_PROC_EXEC:
		on_exec(s, ev);
		break;
	case ZT_PROC_FORK:
		on_fork(s, ev);
		break;
	case ZT_PROC_EXIT:
		pd_proc_exit(s, ev->pid);
		break;
	case ZT_PROC_OOM:
		on_oom(s, ev->pid);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ lifecycle */

static void pr_free(struct pstate *s)
{
	if (!s)
		return;
	/* Timers are removed by the core when the instance stops. Entities and
	 * series stay: a restarted instance sets them again. */
	free(s->cgcache);
	if (s->v2_fd >= 0)
		close(s->v2_fd);
	pd_delay_fini(s);
	pd_ctr_tables_free(s);
	free(s->procs);
	pd_meta_podman_free(&s->podman);
	for (size_t i = 0; i < PT_ROOTLESS_DBS; i++)
		pd_meta_podman_free(&s->rootless[i].db);
	pd_meta_kubelet_free(&s->kubelet);
	for (size_t i = 0; i < CP_COUNT; i++)
		free(s->mounts[i]);
	free(s->proc_root);
	free(s->cgroup_root);
	free(s->podman_storage);
	free(s->docker_root);
	free(s->kubelet_log_dir);
	free(s);
}

static int cfg_string(struct pstate *s, const char *key, char **out)
{
	struct zt_str v;
	int err = s->host->config_string(s->inst, key, &v);

	if (err)
		return err;
	/* trailing slashes would double up when paths are joined */
	while (v.len > 1 && v.ptr[v.len - 1] == '/')
		v.len--;
	*out = strndup(v.ptr, v.len);
	return *out ? 0 : -ENOMEM;
}

static int read_config(struct pstate *s)
{
	int64_t interval, ttl;
	int err;

	if ((err = s->host->config_int(s->inst, "interval_ms", &interval)) ||
	    (err = s->host->config_int(s->inst, "container_ttl_ms", &ttl)) ||
	    (err = s->host->config_bool(s->inst, "include_root_cgroup", &s->include_root)) ||
	    (err = s->host->config_bool(s->inst, "enable_delayacct", &s->enable_delayacct)) ||
	    (err = cfg_string(s, "proc_root", &s->proc_root)) ||
	    (err = cfg_string(s, "cgroup_root", &s->cgroup_root)) ||
	    (err = cfg_string(s, "podman_storage", &s->podman_storage)) ||
	    (err = cfg_string(s, "docker_root", &s->docker_root)) ||
	    (err = cfg_string(s, "kubelet_log_dir", &s->kubelet_log_dir)))
		return err;
	if (interval <= 0 || ttl < 0)
		return -EINVAL; /* the schema's bounds already refuse these */
	s->interval_ns = (uint64_t)interval * 1000000ull;
	s->ttl_ns = (uint64_t)ttl * 1000000ull;
	return 0;
}

static int pr_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct pstate *s;
	int err;

	if (!host || !state)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s)
		s->cgcache = calloc(PD_CGCACHE, sizeof(*s->cgcache)); /* NULL: no cache, not an error */
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->inst = inst;
	s->ts_fd = -1;
	s->v2_fd = -1;
	s->ts_use = UINT32_MAX; /* the first tick logs the source */
	s->clk_tck = sysconf(_SC_CLK_TCK);
	if (s->clk_tck <= 0)
		s->clk_tck = 100; /* USER_HZ on every Linux architecture */
	err = read_config(s);
	if (err) {
		host->log(inst, ZT_LOG_ERROR, "config: %s", strerror(-err));
		goto fail;
	}
	err = proc_grow(s);
	if (err)
		goto fail;
	err = pd_ctr_tables_init(s);
	if (err)
		goto fail;
	pd_mounts_detect(s);
	if (s->mounts[CP_V2])
		s->v2_fd = open(s->mounts[CP_V2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pd_delay_init(s);
	err = pd_metrics_register(s);
	if (err) {
		host->log(inst, ZT_LOG_ERROR, "metric registration: %s", strerror(-err));
		goto fail;
	}
	/* Processes that predate the agent get no exec event. */
	pd_rescan(s);
	err = host->timer_add(inst, s->interval_ns, pd_on_timer, s, &s->timer_id);
	if (err) {
		host->log(inst, ZT_LOG_ERROR, "timer: %s", strerror(-err));
		goto fail;
	}
	host->log(inst, ZT_LOG_INFO, "%zu processes in %zu containers found", s->pcount, s->ccount);
	*state = s;
	return 0;
fail:
	pr_free(s);
	return err;
}

static void pr_fini(void *state)
{
	struct pstate *s = state;

	if (s && s->timer_id)
		s->host->timer_cancel(s->inst, s->timer_id);
	pr_free(s);
}

static const struct zt_config_field pr_config[] = {
	{ "interval_ms", ZT_CFG_INT, 0, "5000",
	  "How often resource metrics are refreshed from cgroupfs and /proc, in milliseconds.", 100, 3600000 },
	{ "container_ttl_ms", ZT_CFG_INT, 0, "600000",
	  "A container with no process for this long is forgotten: its series and entity are removed.", 0,
	  604800000 },
	{ "include_root_cgroup", ZT_CFG_BOOL, 0, "false",
	  "Export container metrics for the root cgroup \"/\" (processes in no container) too.", 0, -1 },
	{ "enable_delayacct", ZT_CFG_BOOL, 0, "true",
	  "Set kernel.task_delayacct to 1 at start when it is 0: without it the kernel does not count block I/O "
	  "delays and taskstats reports no delays.",
	  0, -1 },
	{ "proc_root", ZT_CFG_STRING, 0, "\"/proc\"", "Where procfs is mounted (the host's, to see every process).",
	  0, -1 },
	{ "cgroup_root", ZT_CFG_STRING, 0, "\"/sys/fs/cgroup\"",
	  "Where cgroupfs is mounted: cgroup v2, or v1 controllers with v2 under unified/ (hybrid).", 0, -1 },
	{ "podman_storage", ZT_CFG_STRING, 0, "\"/var/lib/containers/storage\"",
	  "Root podman's containers/storage directory (containers.json gives names and images).", 0, -1 },
	{ "docker_root", ZT_CFG_STRING, 0, "\"/var/lib/docker\"",
	  "Docker's data root (containers/<id>/config.v2.json gives names and images).", 0, -1 },
	{ "kubelet_log_dir", ZT_CFG_STRING, 0, "\"/var/log/containers\"",
	  "The kubelet's log symlink directory: <pod>_<namespace>_<container>-<id>.log names k8s containers.", 0,
	  -1 },
	ZT_CFG_END,
};

static const struct zt_discovery_ops pr_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_discovery_ops, ZT_KIND_DISCOVERY),
	.init = pr_init,
	.fini = pr_fini,
	.on_process_event = pr_event,
};

ZT_PLUGIN_DEFINE(process, ZT_KIND_DISCOVERY, "0.1.0", "Apache-2.0",
		 "Processes and their containers (docker, podman, k8s, systemd) with container resource metrics",
		 pr_config, &pr_ops)
