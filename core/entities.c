/* SPDX-License-Identifier: Apache-2.0 */
#include "entities.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096 /* power of two; chains stay short for tens of thousands of pids */

struct proc_ent {
	uint32_t pid;
	char *container_id;
	char *app_id;
	char comm[16];
	struct proc_ent *next;
};

struct cont_ent {
	char *id;
	char *name;
	char *image;
	char *runtime;
	struct cont_ent *next;
};

struct entities {
	pthread_mutex_t lock;
	struct proc_ent *procs[BUCKETS];
	struct cont_ent *conts[BUCKETS];
	size_t nprocs, nconts;
	struct proc_ent *recent[ENTITIES_RECENT]; /* removed processes, a ring */
	unsigned recent_next;
};

static char *dup_str(struct zt_str s)
{
	char *p = malloc(s.len + 1);
	if (!p)
		return NULL;
	if (s.len)
		memcpy(p, s.ptr, s.len);
	p[s.len] = 0;
	return p;
}

static uint32_t str_hash(struct zt_str s)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.ptr[i]) * 16777619u;
	return h & (BUCKETS - 1);
}

int entities_new(struct entities **out)
{
	struct entities *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	*out = e;
	return 0;
}

static void proc_free(struct proc_ent *p)
{
	free(p->container_id);
	free(p->app_id);
	free(p);
}

static void cont_free(struct cont_ent *c)
{
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->runtime);
	free(c);
}

void entities_free(struct entities *e)
{
	if (!e)
		return;
	for (int i = 0; i < BUCKETS; i++) {
		for (struct proc_ent *p = e->procs[i], *n; p; p = n) {
			n = p->next;
			proc_free(p);
		}
		for (struct cont_ent *c = e->conts[i], *n; c; c = n) {
			n = c->next;
			cont_free(c);
		}
	}
	for (int i = 0; i < ENTITIES_RECENT; i++)
		if (e->recent[i])
			proc_free(e->recent[i]);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

int entities_process_set(struct entities *e, const struct zt_process_info *in)
{
	struct zt_process_info p = { 0 };
	struct proc_ent *n;
	if (!in || in->struct_size < offsetof(struct zt_process_info, app_id))
		return -EINVAL;
	memcpy(&p, in, in->struct_size < sizeof(p) ? in->struct_size : sizeof(p));
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->pid = p.pid;
	n->container_id = dup_str(p.container_id);
	n->app_id = dup_str(p.app_id);
	if (!n->container_id || !n->app_id) {
		proc_free(n);
		return -ENOMEM;
	}
	size_t cl = p.comm.len < sizeof(n->comm) - 1 ? p.comm.len : sizeof(n->comm) - 1;
	if (cl)
		memcpy(n->comm, p.comm.ptr, cl);
	pthread_mutex_lock(&e->lock);
	struct proc_ent **pp = &e->procs[p.pid & (BUCKETS - 1)];
	while (*pp && (*pp)->pid != p.pid)
		pp = &(*pp)->next;
	if (*pp) {
		n->next = (*pp)->next;
		proc_free(*pp);
	} else {
		n->next = NULL;
		e->nprocs++;
	}
	*pp = n;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

void entities_process_remove(struct entities *e, uint32_t pid)
{
	pthread_mutex_lock(&e->lock);
	struct proc_ent **pp = &e->procs[pid & (BUCKETS - 1)];
	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	if (*pp) {
		struct proc_ent *d = *pp;
		*pp = d->next;
		e->nprocs--;
		d->next = NULL;
		if (e->recent[e->recent_next])
			proc_free(e->recent[e->recent_next]);
		e->recent[e->recent_next] = d;
		e->recent_next = (e->recent_next + 1) % ENTITIES_RECENT;
	}
	pthread_mutex_unlock(&e->lock);
}

int entities_process_container(struct entities *e, uint32_t pid, char *buf, size_t buflen)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&e->lock);
	for (struct proc_ent *p = e->procs[pid & (BUCKETS - 1)]; p; p = p->next) {
		if (p->pid != pid)
			continue;
		size_t len = strlen(p->container_id);
		if (buf && buflen) {
			size_t c = len < buflen - 1 ? len : buflen - 1;
			memcpy(buf, p->container_id, c);
			buf[c] = 0;
		}
		ret = (int)len;
		break;
	}
	pthread_mutex_unlock(&e->lock);
	return ret;
}

static void copy_out(char *buf, size_t buflen, const char *s)
{
	size_t len = strlen(s);
	if (!buf || !buflen)
		return;
	if (len > buflen - 1)
		len = buflen - 1;
	memcpy(buf, s, len);
	buf[len] = 0;
}

int entities_process_ident(struct entities *e, uint32_t pid, char *cid, size_t cidlen, char *app, size_t applen)
{
	const struct proc_ent *found = NULL;
	pthread_mutex_lock(&e->lock);
	for (struct proc_ent *p = e->procs[pid & (BUCKETS - 1)]; p && !found; p = p->next)
		if (p->pid == pid)
			found = p;
	/* newest first: a reused pid resolves to its latest owner */
	for (unsigned i = 1; i <= ENTITIES_RECENT && !found; i++) {
		const struct proc_ent *p = e->recent[(e->recent_next + ENTITIES_RECENT - i) % ENTITIES_RECENT];
		if (!p)
			break;
		if (p->pid == pid)
			found = p;
	}
	if (found) {
		copy_out(cid, cidlen, found->container_id);
		copy_out(app, applen, found->app_id);
	}
	pthread_mutex_unlock(&e->lock);
	return found ? 0 : -ENOENT;
}

int entities_container_set(struct entities *e, const struct zt_container_info *in)
{
	struct zt_container_info c = { 0 };
	struct cont_ent *n;
	if (!in || in->struct_size < offsetof(struct zt_container_info, runtime))
		return -EINVAL;
	memcpy(&c, in, in->struct_size < sizeof(c) ? in->struct_size : sizeof(c));
	if (!c.container_id.len)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->id = dup_str(c.container_id);
	n->name = dup_str(c.name);
	n->image = dup_str(c.image);
	n->runtime = dup_str(c.runtime);
	if (!n->id || !n->name || !n->image || !n->runtime) {
		cont_free(n);
		return -ENOMEM;
	}
	pthread_mutex_lock(&e->lock);
	struct cont_ent **pp = &e->conts[str_hash(c.container_id)];
	while (*pp && strcmp((*pp)->id, n->id))
		pp = &(*pp)->next;
	if (*pp) {
		n->next = (*pp)->next;
		cont_free(*pp);
	} else {
		e->nconts++;
	}
	*pp = n;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

void entities_container_remove(struct entities *e, struct zt_str id)
{
	pthread_mutex_lock(&e->lock);
	struct cont_ent **pp = &e->conts[str_hash(id)];
	while (*pp && (strlen((*pp)->id) != id.len || memcmp((*pp)->id, id.ptr, id.len)))
		pp = &(*pp)->next;
	if (*pp) {
		struct cont_ent *d = *pp;
		*pp = d->next;
		cont_free(d);
		e->nconts--;
	}
	pthread_mutex_unlock(&e->lock);
}

size_t entities_process_count(struct entities *e)
{
	pthread_mutex_lock(&e->lock);
	size_t n = e->nprocs;
	pthread_mutex_unlock(&e->lock);
	return n;
}

size_t entities_container_count(struct entities *e)
{
	pthread_mutex_lock(&e->lock);
	size_t n = e->nconts;
	pthread_mutex_unlock(&e->lock);
	return n;
}
