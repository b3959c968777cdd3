/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sock_diag for the TCP table: the periodic poll of live connections and
 * the start-up adoption of connections and listeners that existed before
 * the agent.
 *
 * sock_diag answers for the network namespace its socket was created in,
 * and containers usually have their own. So each namespace that holds
 * tracked connections gets its own sock_diag socket, created after
 * setns(2) into it (through /proc/PID/ns/net of a process that owns one of
 * its connections) and a setns back. Only the dispatch thread moves, and
 * only for the socket() call; the socket keeps its namespace afterwards.
 * It is closed when the namespace's last connection goes, so the agent
 * never keeps a dead namespace alive.
 */
#define _GNU_SOURCE
#include "tcp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

#define LIVE_STATES TCP_LIVE_STATES
#define LISTEN_STATE (1u << 10)
/* Dumps a connection may be missing from before it counts as closed (its
 * CLOSE event was lost): a connection opened between a dump and its event
 * misses one at most. */
#define MAX_MISSES 3

/* ------------------------------------------------------------ namespaces */

int tcp_ns_self(struct tcp_mod *t)
{
	struct stat st;
	t->self_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->self_ns_fd < 0 || fstat(t->self_ns_fd, &st))
		return -errno;
	t->self_ns = (uint32_t)st.st_ino;
	return 0;
}

static struct tcp_ns *ns_find(struct tcp_mod *t, uint32_t inum)
{
	for (size_t i = 0; i < t->nns; i++)
		if (t->ns[i].inum == inum)
			return &t->ns[i];
	return NULL;
}

void tcp_ns_ref(struct tcp_mod *t, uint32_t inum, uint32_t tgid)
{
	struct tcp_ns *ns = ns_find(t, inum);
	if (!ns) {
		if (t->nns == t->cap_ns) {
			size_t cap = t->cap_ns ? t->cap_ns * 2 : 8;
			struct tcp_ns *n = realloc(t->ns, cap * sizeof(*n));
			if (!n)
				return; /* its connections are not polled; CLOSE still counts them */
			t->ns = n;
			t->cap_ns = cap;
		}
		ns = &t->ns[t->nns++];
		memset(ns, 0, sizeof(*ns));
		ns->inum = inum;
	}
	ns->conns++;
	ns->tgid = tgid; /* the newest owner is the likeliest to still be alive */
}

void tcp_ns_unref(struct tcp_mod *t, uint32_t inum)
{
	struct tcp_ns *ns = ns_find(t, inum);
	if (!ns || --ns->conns)
		return;
	sockdiag_close(ns->sd);
	conntrack_ns_release(t->ct, inum);
	*ns = t->ns[--t->nns];
}

void tcp_ns_close_all(struct tcp_mod *t)
{
	for (size_t i = 0; i < t->nns; i++)
		sockdiag_close(t->ns[i].sd);
	free(t->ns);
	t->ns = NULL;
	t->nns = t->cap_ns = 0;
	if (t->self_ns_fd >= 0)
		close(t->self_ns_fd);
	t->self_ns_fd = -1;
}

static int diag_open_cb(void *arg)
{
	return sockdiag_open(arg);
}

/* A sock_diag socket inside namespace inum, entered through tgid. */
static int open_in_ns(struct tcp_mod *t, uint32_t inum, uint32_t tgid, struct sockdiag **out)
{
	if (inum == t->self_ns)
		return sockdiag_open(out);
	return netns_run(t->self_ns_fd, inum, tgid, diag_open_cb, out);
}

/* The namespace's socket, reopened through another owner if the last one died. */
static struct sockdiag *ns_diag(struct tcp_mod *t, struct tcp_ns *ns)
{
	if (ns->sd || !open_in_ns(t, ns->inum, ns->tgid, &ns->sd))
		return ns->sd;
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct tcp_conn *c = &t->c[i];
		if (c->used && c->netns == ns->inum && c->tgid != ns->tgid &&
		    !open_in_ns(t, ns->inum, c->tgid, &ns->sd)) {
			ns->tgid = c->tgid;
			break;
		}
	}
	return ns->sd;
}

/* ------------------------------------------------------------------ poll */

struct poll_ctx {
	struct tcp_mod *t;
	uint32_t inum;
};

static int poll_cb(void *arg, const struct sockdiag_sock *s)
{
	struct poll_ctx *p = arg;
	int idx = tcp_conn_find_tuple(p->t, p->inum, &s->saddr, s->sport, &s->daddr, s->dport);
	if (idx >= 0)
		tcp_conn_observe(p->t, (uint32_t)idx, s);
	return 0;
}

void tcp_poll(struct tcp_mod *t)
{
	t->round++;
	for (size_t i = 0; i < t->nns; i++) {
		struct tcp_ns *ns = &t->ns[i];
		struct poll_ctx p = { t, ns->inum };
		struct sockdiag *sd = ns_diag(t, ns);
		int err;

		if (!sd)
			continue;
		err = sockdiag_dump_tcp(sd, LIVE_STATES, poll_cb, &p);
		if (!err)
			ns->dumped = t->round;
		else
			log_msg(ZT_LOG_DEBUG, NULL, "tcp: sock_diag dump of netns %u: %s", ns->inum, strerror(-err));
	}
	/* Only a whole dump proves a connection gone. */
	for (uint32_t i = 0; i < t->cap; i++) {
		struct tcp_conn *c = &t->c[i];
		struct tcp_ns *ns;
		if (!c->used || c->seen == t->round)
			continue;
		ns = ns_find(t, c->netns);
		if (ns && ns->dumped == t->round && ++c->misses >= MAX_MISSES)
			tcp_conn_expire(t, i);
	}
}

/* -------------------------------------------------------------- adoption */

/* Socket inode -> first (tgid, fd) holding it; open addressing. */
struct inode_map {
	struct im_ent {
		uint32_t inode, tgid;
		int32_t fd;
	} *e;
	size_t cap, n;
};

struct netns_ent {
	uint32_t inum, tgid;
};

struct scan_ctx {
	struct tcp_mod *t;
	struct inode_map im;
	struct netns_ent *ns;
	size_t nns, cap_ns;
	uint32_t last_tgid;
	int err;
	/* the namespace being dumped */
	uint32_t inum;
	uint16_t *ports; /* its listening ports */
	size_t nports, cap_ports;
};

static struct im_ent *im_slot(const struct inode_map *m, uint32_t inode)
{
	size_t i = (inode * 2654435761u) & (m->cap - 1);
	while (m->e[i].inode && m->e[i].inode != inode)
		i = (i + 1) & (m->cap - 1);
	return &m->e[i];
}

static int im_put(struct inode_map *m, uint32_t inode, uint32_t tgid, int fd)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct inode_map g = { calloc(m->cap ? m->cap * 2 : 1024, sizeof(*g.e)), m->cap ? m->cap * 2 : 1024, 0 };
		if (!g.e)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].inode)
				*im_slot(&g, m->e[i].inode) = m->e[i];
		g.n = m->n;
		free(m->e);
		*m = g;
	}
	struct im_ent *e = im_slot(m, inode);
	if (!e->inode) {
		*e = (struct im_ent){ inode, tgid, fd };
		m->n++;
	}
	return 0;
}

static const struct im_ent *im_get(const struct inode_map *m, uint32_t inode)
{
	const struct im_ent *e;
	if (!m->cap || !inode)
		return NULL;
	e = im_slot(m, inode);
	return e->inode ? e : NULL;
}

/* Every socket descriptor of every process; each process's namespace once. */
static int scan_cb(void *arg, uint32_t inode, uint32_t tgid, int fd)
{
	struct scan_ctx *x = arg;
	char path[64];
	struct stat st;

	x->err = im_put(&x->im, inode, tgid, fd);
	if (x->err)
		return x->err;
	if (tgid == x->last_tgid)
		return 0;
	x->last_tgid = tgid;
	snprintf(path, sizeof(path), "/proc/%u/ns/net", tgid);
	if (stat(path, &st))
		return 0;
	for (size_t i = 0; i < x->nns; i++)
		if (x->ns[i].inum == (uint32_t)st.st_ino)
			return 0;
	if (x->nns == x->cap_ns) {
		size_t cap = x->cap_ns ? x->cap_ns * 2 : 16;
		struct netns_ent *n = realloc(x->ns, cap * sizeof(*n));
		if (!n)
			return x->err = -ENOMEM;
		x->ns = n;
		x->cap_ns = cap;
	}
	x->ns[x->nns++] = (struct netns_ent){ (uint32_t)st.st_ino, tgid };
	return 0;
}

static int listener_cb(void *arg, const struct sockdiag_sock *s)
{
	struct scan_ctx *x = arg;
	const struct im_ent *e = im_get(&x->im, s->inode);
	struct tcp_ctr *ctr;

	if (x->nports == x->cap_ports) {
		size_t cap = x->cap_ports ? x->cap_ports * 2 : 64;
		uint16_t *n = realloc(x->ports, cap * sizeof(*n));
		if (!n)
			return x->err = -ENOMEM;
		x->ports = n;
		x->cap_ports = cap;
	}
	x->ports[x->nports++] = s->sport;
	if (!e)
		return 0;
	/* already reported by a LISTEN event since the probes attached */
	for (const struct tcp_listener *l = x->t->listeners; l; l = l->next)
		if (l->netns == x->inum && l->port == s->sport && !memcmp(&l->addr, &s->saddr, sizeof(s->saddr)))
			return 0;
	ctr = tcp_attribute(x->t, e->tgid);
	if (ctr)
		tcp_listener_add(x->t, ctr, 0, x->inum, e->tgid, &s->saddr, s->sport);
	return 0;
}

static int conn_cb(void *arg, const struct sockdiag_sock *s)
{
	struct scan_ctx *x = arg;
	const struct im_ent *e = im_get(&x->im, s->inode);
	struct tcp_ctr *ctr;
	uint8_t role = ZT_TCP_CLIENT;
	int err;

	if (!e || tcp_conn_find_tuple(x->t, x->inum, &s->saddr, s->sport, &s->daddr, s->dport) >= 0)
		return 0; /* no process holds it, or the probes already track it */
	for (size_t i = 0; i < x->nports; i++)
		if (x->ports[i] == s->sport)
			role = ZT_TCP_SERVER;
	ctr = tcp_attribute(x->t, e->tgid);
	if (!ctr) {
		x->t->untracked[UT_UNATTRIBUTED]++;
		return 0;
	}
	err = tcp_conn_adopt(x->t, ctr, e->tgid, e->fd, role, x->inum, s);
	if (err == -ENOSPC)
		x->t->untracked[UT_TABLE_FULL]++;
	return err == -ENOMEM ? err : 0;
}

/*
 * Runs once, after the probes attached and the ring was drained: what the
 * probes reported is in the table already and is skipped by 4-tuple; a
 * connection whose event is still in flight is adopted now and replaced by
 * its event (tcp.c, on_open).
 */
void tcp_adopt_existing(struct tcp_mod *t)
{
	struct scan_ctx x = { .t = t };
	size_t before = t->n;
	int err;

	/* closes of untracked sockets are looked up in `adopt` from now on */
	if (t->k.adopt_live)
		*t->k.adopt_live = 1;
	err = sockdiag_scan_socket_inodes("/proc", scan_cb, &x);
	for (size_t i = 0; !err && i < x.nns; i++) {
		struct sockdiag *sd = NULL;
		x.inum = x.ns[i].inum;
		x.nports = 0;
		if (open_in_ns(t, x.inum, x.ns[i].tgid, &sd))
			continue; /* the process left; its namespace may have too */
		err = sockdiag_dump_tcp(sd, LISTEN_STATE, listener_cb, &x);
		if (!err)
			err = sockdiag_dump_tcp(sd, LIVE_STATES, conn_cb, &x);
		sockdiag_close(sd);
		if (err && err != -ENOMEM) {
			log_msg(ZT_LOG_WARN, NULL, "tcp: start-up dump of netns %u: %s", x.inum, strerror(-err));
			err = 0;
		}
	}
	if (err)
		log_msg(ZT_LOG_WARN, NULL, "tcp: start-up scan incomplete: %s", strerror(-err));
	log_msg(ZT_LOG_INFO, NULL, "tcp: adopted %zu existing connections in %zu network namespaces",
		t->n - before, x.nns);
	if (t->n == before && t->k.adopt_live)
		*t->k.adopt_live = 0;
	free(x.im.e);
	free(x.ns);
	free(x.ports);
}
