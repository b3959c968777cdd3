/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a cgroup path to a container: classification (cgroup.c), naming from
 * runtime metadata (meta.c), the container table and the cache of cgroup
 * paths already resolved, so an exec in a known container costs one hash
 * lookup after its /proc/PID/cgroup read; where each cgroup hierarchy is
 * mounted, restarts and OOM kills.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define CTAB_BUCKETS 1024u
#define KTAB_BUCKETS 2048u

static const char *const unit_dirs[] = { "/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system",
					 "/lib/systemd/system", NULL };

/* What a cgroup path resolves to before it becomes a container entry. */
struct ident {
	char id[PT_ID_MAX];
	char app_id[PT_ID_MAX];
	struct meta_info mi;
	const char *runtime;
	uint32_t metrics, pending, sandbox;
};

static uint32_t fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

int pd_ctr_tables_init(struct pstate *s)
{
	s->ccap = CTAB_BUCKETS;
	s->kcap = KTAB_BUCKETS;
	s->ctab = calloc(s->ccap, sizeof(*s->ctab));
	s->ktab = calloc(s->kcap, sizeof(*s->ktab));
	s->scratch = calloc(PT_MAX_CONTAINERS, sizeof(*s->scratch));
	if (!s->ctab || !s->ktab || !s->scratch)
		return -ENOMEM; /* pd_ctr_tables_free releases what was allocated */
	return 0;
}

static void ctr_free(struct ctr *c)
{
	free(c->id);
	free(c->app_id);
	free(c->name);
	free(c->image);
	for (size_t i = 0; i < CP_COUNT; i++)
		free(c->paths[i]);
	free(c->devs);
	pd_disk_forget(c);
	free(c);
}

void pd_ctr_tables_free(struct pstate *s)
{
	for (size_t i = 0; s->ktab && i < s->kcap; i++) {
		struct cgkey *k = s->ktab[i], *n;
		for (; k; k = n) {
			n = k->next;
			free(k);
		}
	}
	for (size_t i = 0; s->ctab && i < s->ccap; i++) {
		struct ctr *c = s->ctab[i], *n;
		for (; c; c = n) {
			n = c->next;
			ctr_free(c);
		}
	}
	free(s->ktab);
	free(s->ctab);
	free(s->scratch);
	s->ktab = NULL;
	s->ctab = NULL;
	s->scratch = NULL;
	s->kcount = s->ccount = 0;
}

static struct ctr *ctr_find(struct pstate *s, const char *id)
{
	struct ctr *c = s->ctab[fnv(id, strlen(id)) & (s->ccap - 1)];
	while (c && strcmp(c->id, id))
		c = c->next;
	return c;
}

struct ctr *pd_ctr_find(struct pstate *s, const char *id)
{
	return s->ccap ? ctr_find(s, id) : NULL;
}

static void ctr_link(struct pstate *s, struct ctr *c)
{
	size_t b = fnv(c->id, strlen(c->id)) & (s->ccap - 1);
	c->next = s->ctab[b];
	s->ctab[b] = c;
	s->ccount++;
}

static void ctr_unlink(struct pstate *s, struct ctr *c)
{
	struct ctr **pp = &s->ctab[fnv(c->id, strlen(c->id)) & (s->ccap - 1)];
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = c->next;
		s->ccount--;
	}
}

/* ------------------------------------------------------- cgroup path cache */

static struct cgkey *key_find(struct pstate *s, const char *p, size_t n)
{
	struct cgkey *k = s->ktab[fnv(p, n) & (s->kcap - 1)];
	while (k && !(k->len == n && !memcmp(k->path, p, n)))
		k = k->next;
	return k;
}

static void key_unlink(struct pstate *s, struct cgkey *k)
{
	struct cgkey **pp = &s->ktab[fnv(k->path, k->len) & (s->kcap - 1)];
	while (*pp && *pp != k)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = k->next;
		s->kcount--;
	}
}

/* Old cgroups of a restarted container are gone: keep the newest few. */
static void trim_keys(struct pstate *s, struct ctr *c)
{
	struct cgkey **pp;

	while (c->nkeys > PT_CGKEYS_PER_CTR) {
		for (pp = &c->keys; (*pp)->sib; pp = &(*pp)->sib)
			;
		key_unlink(s, *pp);
		free(*pp);
		*pp = NULL;
		c->nkeys--;
	}
}

/* Caches path -> c. A failure only costs a metadata lookup next time. */
static void key_add(struct pstate *s, struct ctr *c, const char *p, size_t n)
{
	struct cgkey *k;
	size_t b;

	if (s->kcount >= PT_MAX_CGKEYS)
		return;
	k = malloc(sizeof(*k) + n + 1);
	if (!k)
		return;
	memcpy(k->path, p, n);
	k->path[n] = 0;
	k->len = n;
	k->c = c;
	b = fnv(p, n) & (s->kcap - 1);
	k->next = s->ktab[b];
	s->ktab[b] = k;
	s->kcount++;
	k->sib = c->keys;
	c->keys = k;
	c->nkeys++;
	trim_keys(s, c);
}

/* ------------------------------------------------------------- identify */

/* Names are display-only: a long path is cut rather than refused. */
static void copy_trunc(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void set_k8s(struct ident *o, const struct meta_info *mi)
{
	size_t wl = pd_cg_k8s_workload(mi->k8s_pod, strlen(mi->k8s_pod));

	snprintf(o->id, sizeof(o->id), "/k8s/%s/%s/%s", mi->k8s_ns, mi->k8s_pod, mi->k8s_container);
	snprintf(o->app_id, sizeof(o->app_id), "/k8s/%s/%.*s", mi->k8s_ns, (int)wl, mi->k8s_pod);
	snprintf(o->mi.name, sizeof(o->mi.name), "%s", mi->k8s_container);
	o->sandbox = mi->is_sandbox;
}

/* The podman storage that holds a container: root's, or for rootless
 * containers (under user-<uid>.slice) the user's own. */
static struct meta_podman_db *podman_db(struct pstate *s, const struct cg_ident *ci)
{
	char home[1024], storage[2048];
	struct rootless_db *r = NULL;
	size_t i;

	if (!ci->has_user_uid || ci->user_uid == 0) {
		pd_meta_podman_refresh(&s->podman, s->podman_storage);
		return &s->podman;
	}
	for (i = 0; i < PT_ROOTLESS_DBS; i++)
		if (s->rootless[i].used && s->rootless[i].uid == ci->user_uid)
			r = &s->rootless[i];
	if (!r) {
		/* a small fixed set: reuse slots in turn when more users run podman */
		r = &s->rootless[s->rootless_turn++ % PT_ROOTLESS_DBS];
		pd_meta_podman_free(&r->db);
		r->uid = ci->user_uid;
		r->used = 1;
	}
	if (pd_meta_passwd_home("/etc/passwd", ci->user_uid, home, sizeof(home)))
		return &r->db;
	snprintf(storage, sizeof(storage), "%s/.local/share/containers/storage", home);
	pd_meta_podman_refresh(&r->db, storage);
	return &r->db;
}

static const char *k8s_runtime(uint32_t rt)
{
	switch (rt) {
	case CG_RT_CRIO:
		return "crio";
	case CG_RT_DOCKER:
		return "docker";
	default:
		return "containerd";
	}
}

static void identify(struct pstate *s, const char *path, size_t len, const struct cg_ident *ci, struct ident *o)
{
	struct meta_info mi;

	memset(o, 0, sizeof(*o));
	o->metrics = 1;
	o->runtime = "cgroup";
	switch (ci->kind) {
	case CG_KIND_ROOT:
		o->metrics = s->include_root;
		/* fallthrough */
	case CG_KIND_PLAIN:
	case CG_KIND_HELPER:
	case CG_KIND_SYSTEMD:
		if (ci->kind == CG_KIND_HELPER)
			o->metrics = 0; /* conmon: runtime overhead, not an application */
		if (ci->kind == CG_KIND_SYSTEMD)
			o->runtime = "systemd";
		if (pd_cg_plain_container_id(path, len, ci, o->id, sizeof(o->id)) < 0)
			snprintf(o->id, sizeof(o->id), "/");
		copy_trunc(o->mi.name, sizeof(o->mi.name), ci->kind == CG_KIND_SYSTEMD ? ci->unit : o->id);
		break;
	case CG_KIND_DOCKER:
		o->runtime = "docker";
		if (!pd_meta_docker_read(s->docker_root, ci->id, &mi)) {
			o->mi = mi;
			if (mi.is_k8s)
				set_k8s(o, &mi);
			else
				snprintf(o->id, sizeof(o->id), "/docker/%s", mi.name);
		} else {
			snprintf(o->id, sizeof(o->id), "/docker/%s", ci->id);
		}
		break;
	case CG_KIND_PODMAN:
		o->runtime = "podman";
		if (!pd_meta_podman_lookup(podman_db(s, ci), ci->id, &mi)) {
			o->mi = mi;
			snprintf(o->id, sizeof(o->id), "/podman/%s", mi.name);
		} else {
			snprintf(o->id, sizeof(o->id), "/podman/%s", ci->id);
		}
		break;
	case CG_KIND_K8S:
		o->runtime = k8s_runtime(ci->runtime);
		/* cgroupfs kubelets give bare ids: dockershim has a config.v2.json */
		if ((ci->runtime == CG_RT_DOCKER || ci->runtime == CG_RT_UNKNOWN) &&
		    !pd_meta_docker_read(s->docker_root, ci->id, &mi) && mi.is_k8s) {
			o->runtime = "docker";
			snprintf(o->mi.image, sizeof(o->mi.image), "%s", mi.image);
			set_k8s(o, &mi);
			break;
		}
		pd_meta_kubelet_refresh(&s->kubelet, s->kubelet_log_dir);
		if (!pd_meta_kubelet_lookup(&s->kubelet, ci->id, &mi)) {
			set_k8s(o, &mi);
			break;
		}
		/* The kubelet links the log after starting the container: keep
		 * the runtime id for now and retry from the timer. */
		snprintf(o->id, sizeof(o->id), "/%s/%s", o->runtime, ci->id);
		o->pending = 1;
		break;
	default:
		snprintf(o->id, sizeof(o->id), "/");
		break;
	}
	if (!o->app_id[0])
		snprintf(o->app_id, sizeof(o->app_id), "%s", o->id);
}

static void announce_entity(struct pstate *s, struct ctr *c)
{
	struct zt_container_info ci = { .struct_size = sizeof(ci) };

	ci.container_id = (struct zt_str){ c->id, strlen(c->id) };
	ci.name = (struct zt_str){ c->name, strlen(c->name) };
	ci.image = (struct zt_str){ c->image, strlen(c->image) };
	ci.runtime = (struct zt_str){ c->runtime, strlen(c->runtime) };
	s->host->container_set(s->inst, &ci);
}

/* Replaces c's naming with o's. 0 or -ENOMEM (c unchanged). */
static int ctr_set_names(struct ctr *c, const struct ident *o)
{
	char *id = strdup(o->id), *app = strdup(o->app_id), *name = strdup(o->mi.name), *img = strdup(o->mi.image);

	if (!id || !app || !name || !img) {
		free(id);
		free(app);
		free(name);
		free(img);
		return -ENOMEM;
	}
	free(c->id);
	free(c->app_id);
	free(c->name);
	free(c->image);
	c->id = id;
	c->app_id = app;
	c->name = name;
	c->image = img;
	c->runtime = o->runtime;
	c->metrics = o->metrics;
	c->pending_meta = o->pending;
	c->sandbox = o->sandbox;
	return 0;
}

static struct ctr *ctr_new(struct pstate *s, const struct ident *o, const struct cg_ident *ci)
{
	struct ctr *c;

	if (s->ccount >= PT_MAX_CONTAINERS) {
		if (!s->warned_ctrs++)
			s->host->log(s->inst, ZT_LOG_WARN, "container table full (%u): new containers are not tracked",
				     PT_MAX_CONTAINERS);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (ctr_set_names(c, o)) {
		free(c);
		return NULL;
	}
	c->kind = ci->kind;
	c->cg_runtime = ci->runtime;
	c->has_user_uid = ci->has_user_uid;
	c->user_uid = ci->user_uid;
	memcpy(c->rt_id, ci->id, sizeof(c->rt_id));
	c->first_seen_ns = s->host->now_ns();
	c->empty_since_ns = c->first_seen_ns;
	if (ci->kind == CG_KIND_SYSTEMD) {
		struct meta_unit mu;
		pd_meta_unit_read(unit_dirs, ci->unit, &mu);
		memcpy(c->systemd_type, mu.type, sizeof(c->systemd_type));
		memcpy(c->triggered_by, mu.triggered_by, sizeof(c->triggered_by));
	}
	ctr_link(s, c);
	announce_entity(s, c);
	return c;
}

struct ctr *pd_ctr_resolve(struct pstate *s, const struct cg_proc_paths *pp, char *fallback_id, size_t fblen)
{
	struct cg_slice idp;
	struct cg_ident ci;
	struct cgkey *k;
	struct ident *o;
	struct ctr *c;

	snprintf(fallback_id, fblen, "/");
	if (pd_cg_identity_path(pp, &idp))
		return NULL;
	k = key_find(s, idp.p, idp.n);
	if (k)
		return k->c;
	if (pd_cg_classify(idp.p, idp.n, &ci))
		return NULL;
	/* ~5 KB: keep it off the dispatch thread's stack */
	o = malloc(sizeof(*o));
	if (!o)
		return NULL;
	identify(s, idp.p, idp.n, &ci, o);
	c = ctr_find(s, o->id);
	if (!c)
		c = ctr_new(s, o, &ci);
	if (c)
		key_add(s, c, idp.p, idp.n);
	else
		snprintf(fallback_id, fblen, "%s", o->id);
	free(o);
	return c;
}

/* ---------------------------------------------------------- membership */

/* A controller path, cut to the container's own cgroup. A non-root
 * container whose process sits in the root of a hierarchy has no cgroup
 * there: reading the root's files would report the whole machine. */
/* ------------------------------------------------------ hierarchy mounts */

static char *try_mount(const char *root, const char *const *names, const char *marker)
{
	char path[4096];
	for (size_t i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", root, names[i], marker);
		if (!access(path, F_OK)) {
			snprintf(path, sizeof(path), "%s/%s", root, names[i]);
			return strdup(path);
		}
	}
	return NULL;
}

void pd_mounts_detect(struct pstate *s)
{
	static const char *const v2[] = { ".", "unified", NULL };
	static const char *const cpu[] = { "cpu", "cpu,cpuacct", "cpuacct,cpu", NULL };
	static const char *const cpuacct[] = { "cpuacct", "cpu,cpuacct", "cpuacct,cpu", NULL };
	static const char *const memory[] = { "memory", NULL };
	static const char *const blkio[] = { "blkio", NULL };

	/* cgroup.controllers exists only in a v2 hierarchy: at the root in
	 * unified mode, under unified/ in hybrid mode. */
	s->mounts[CP_V2] = try_mount(s->cgroup_root, v2, "cgroup.controllers");
	s->mounts[CP_CPU] = try_mount(s->cgroup_root, cpu, "cpu.shares");
	s->mounts[CP_CPUACCT] = try_mount(s->cgroup_root, cpuacct, "cpuacct.usage");
	s->mounts[CP_MEMORY] = try_mount(s->cgroup_root, memory, "memory.stat");
	s->mounts[CP_BLKIO] = try_mount(s->cgroup_root, blkio, "blkio.throttle.io_service_bytes");
	s->host->log(s->inst, ZT_LOG_DEBUG, "cgroup v2 at %s; v1 cpu %s, cpuacct %s, memory %s, blkio %s",
		     s->mounts[CP_V2] ? s->mounts[CP_V2] : "-", s->mounts[CP_CPU] ? s->mounts[CP_CPU] : "-",
		     s->mounts[CP_CPUACCT] ? s->mounts[CP_CPUACCT] : "-",
		     s->mounts[CP_MEMORY] ? s->mounts[CP_MEMORY] : "-", s->mounts[CP_BLKIO] ? s->mounts[CP_BLKIO] : "-");
}

static char *stat_path(const struct ctr *c, const struct cg_slice *sl)
{
	struct cg_ident ci;

	if (!sl->p || pd_cg_classify(sl->p, sl->n, &ci))
		return NULL;
	if (ci.kind == CG_KIND_ROOT && c->kind != CG_KIND_ROOT)
		return NULL;
	return strndup(sl->p, ci.base_len);
}

int pd_ctr_dir(const struct pstate *s, const struct ctr *c, int h, char *buf, size_t buflen)
{
	const char *p = c->paths[h];

	if (!s->mounts[h] || !p)
		return -ENOENT;
	if (!strcmp(p, "/"))
		p = "";
	if ((size_t)snprintf(buf, buflen, "%s%s", s->mounts[h], p) >= buflen)
		return -ENAMETOOLONG;
	return 0;
}

static void set_paths(struct pstate *s, struct ctr *c, const struct cg_proc_paths *pp)
{
	const struct cg_slice *sl[CP_COUNT] = {
		[CP_V2] = &pp->v2, [CP_CPU] = &pp->cpu, [CP_CPUACCT] = &pp->cpuacct,
		[CP_MEMORY] = &pp->memory, [CP_BLKIO] = &pp->blkio,
	};
	char dir[4096];
	int changed = 0;

	for (size_t i = 0; i < CP_COUNT; i++) {
		char *np = stat_path(c, sl[i]);
		struct stat st;
		uint64_t ino = 0;
		if (np && (!c->paths[i] || strcmp(np, c->paths[i])))
			changed = 1;
		free(c->paths[i]);
		c->paths[i] = np;
		if (!pd_ctr_dir(s, c, (int)i, dir, sizeof(dir)) && !stat(dir, &st))
			ino = st.st_ino;
		if (ino && c->inos[i] && ino != c->inos[i])
			changed = 1;
		c->inos[i] = ino;
	}
	if (changed)
		c->cg_gen++;
}

void pd_ctr_labels(const struct ctr *c, struct zt_str *v)
{
	v[0] = (struct zt_str){ c->id, strlen(c->id) };
	v[1] = (struct zt_str){ c->app_id, strlen(c->app_id) };
}

void pd_ctr_announce(struct pstate *s, struct ctr *c)
{
	struct zt_str lv[5];

	if (c->info_done)
		return;
	pd_ctr_labels(c, lv);
	lv[2] = (struct zt_str){ c->image, strlen(c->image) };
	lv[3] = (struct zt_str){ c->triggered_by, strlen(c->triggered_by) };
	lv[4] = (struct zt_str){ c->systemd_type, strlen(c->systemd_type) };
	s->host->metric_set(s->m.info, lv, 1);
	/* counters exist from the start, so their first increase is a rate */
	s->host->metric_add(s->m.restarts, lv, 0);
	s->host->metric_add(s->m.oom, lv, (double)c->oom_deferred);
	c->oom_deferred = 0;
	c->info_done = 1;
}

void pd_ctr_join(struct pstate *s, struct ctr *c, const struct cg_proc_paths *pp)
{
	if (c->nproc == 0) {
		/* all its processes had exited and now it runs again: podman
		 * restart, rm + run with the same name, a k8s container restart */
		if (c->ever_had_procs && c->metrics && !c->sandbox && !c->pending_meta) {
			struct zt_str lv[2];
			pd_ctr_announce(s, c);
			pd_ctr_labels(c, lv);
			s->host->metric_add(s->m.restarts, lv, 1);
		}
		/* a restarted container may live in a new cgroup */
		if (pp)
			set_paths(s, c, pp);
		c->ever_had_procs = 1;
	}
	c->nproc++;
}

void pd_ctr_leave(struct pstate *s, struct ctr *c)
{
	if (c->nproc && --c->nproc == 0)
		c->empty_since_ns = s->host->now_ns();
}

void pd_ctr_oom(struct pstate *s, struct ctr *c)
{
	struct zt_str lv[2];

	if (!c->metrics || c->sandbox)
		return;
	if (c->pending_meta) {
		/* its series would be dropped when it gets its real name */
		c->oom_deferred++;
		return;
	}
	pd_ctr_announce(s, c);
	pd_ctr_labels(c, lv);
	s->host->metric_add(s->m.oom, lv, 1);
}

void pd_ctr_app_type(struct pstate *s, struct ctr *c, const char *type)
{
	int i = pd_cg_app_type_index(type);
	if (i >= 0)
		c->app_types |= 1ull << i;
}

static void drop_keys(struct pstate *s, struct ctr *c)
{
	struct cgkey *k = c->keys, *n;
	for (; k; k = n) {
		n = k->sib;
		key_unlink(s, k);
		free(k);
	}
	c->keys = NULL;
	c->nkeys = 0;
}

static void drop_exported(struct pstate *s, struct ctr *c)
{
	struct zt_str id = { c->id, strlen(c->id) };

	if (c->info_done)
		s->host->metric_remove_matching(ZT_STR("container_id"), id);
	s->host->container_remove(s->inst, id);
	pd_disk_forget(c); /* its disk usage series went with the rest */
	c->info_done = 0;
	c->app_types_done = 0;
}

void pd_ctr_forget(struct pstate *s, struct ctr *c)
{
	drop_exported(s, c);
	drop_keys(s, c);
	ctr_unlink(s, c);
	ctr_free(c);
}

/* Every process of `from` now belongs to `to`; tells the core. */
static void move_procs(struct pstate *s, struct ctr *from, struct ctr *to)
{
	for (size_t i = 0; i < s->pcap; i++) {
		struct pentry *p = &s->procs[i];
		if (!p->pid || p->c != from)
			continue;
		if (to != from) {
			pd_ctr_join(s, to, NULL);
			pd_ctr_leave(s, from);
			p->c = to;
		}
		struct zt_process_info pi = { .struct_size = sizeof(pi), .pid = p->pid, .ppid = p->ppid };
		pi.comm = (struct zt_str){ p->comm, strlen(p->comm) };
		pi.container_id = (struct zt_str){ to->id, strlen(to->id) };
		pi.app_id = (struct zt_str){ to->app_id, strlen(to->app_id) };
		s->host->process_set(s->inst, &pi);
	}
}

void pd_ctr_retry_meta(struct pstate *s, struct ctr *c, uint64_t now)
{
	struct cg_ident ci;
	struct ident *o;
	struct ctr *t;

	if (!c->pending_meta)
		return;
	if (now - c->first_seen_ns > PT_META_RETRY_NS || !c->keys) {
		c->pending_meta = 0; /* give up: the runtime id stays its name */
		return;
	}
	if (pd_cg_classify(c->keys->path, c->keys->len, &ci))
		return;
	o = malloc(sizeof(*o));
	if (!o)
		return;
	identify(s, c->keys->path, c->keys->len, &ci, o);
	if (o->pending)
		goto out;
	t = ctr_find(s, o->id);
	drop_exported(s, c);
	if (t && t != c) {
		/* A known container under its new runtime id (k8s restart):
		 * one container, one more restart. */
		struct cgkey *k;
		uint32_t running = c->nproc;
		move_procs(s, c, t);
		/* what its processes waited while it was unnamed */
		t->delay_ns += c->delay_ns;
		t->blkio_ns += c->blkio_ns;
		while (c->keys) {
			k = c->keys;
			c->keys = k->sib;
			c->nkeys--;
			k->c = t;
			k->sib = t->keys;
			t->keys = k;
			t->nkeys++;
		}
		trim_keys(s, t);
		if (c->oom_deferred && t->metrics && !t->sandbox) {
			struct zt_str lv[2];
			pd_ctr_announce(s, t);
			pd_ctr_labels(t, lv);
			s->host->metric_add(s->m.oom, lv, (double)c->oom_deferred);
		}
		/* the processes moved in live in c's (newer) cgroup */
		if (running) {
			for (size_t i = 0; i < CP_COUNT; i++) {
				free(t->paths[i]);
				t->paths[i] = c->paths[i];
				t->inos[i] = c->inos[i];
				c->paths[i] = NULL;
			}
			t->cg_gen++;
		}
		ctr_unlink(s, c);
		ctr_free(c);
		goto out;
	}
	ctr_unlink(s, c);
	if (ctr_set_names(c, o)) {
		ctr_link(s, c); /* keep the fallback name; retried next tick */
		announce_entity(s, c);
		goto out;
	}
	ctr_link(s, c);
	announce_entity(s, c);
	move_procs(s, c, c);
out:
	free(o);
}
