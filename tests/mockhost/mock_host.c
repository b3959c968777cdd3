/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mock host, part 1: the host table itself, log capture, clocks, node
 * labels and the plugin loader (descriptor checks, init, fini). Config is
 * in mock_config.c, the event loop and entities in mock_loop.c, metrics in
 * mock_metrics.c; each part has its own lock.
 *
 * Plugin callbacks (init, fini, timers, fd watches) are always called
 * without a lock held, because they call back into the host.
 */
#define _GNU_SOURCE
#include "mock_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

struct node_label {
	char *name;
	char *value;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct node_label *labels;
static size_t nlabels;
static int labels_set; /* defaults installed lazily, again after reset */
static uint64_t fixed_mono, fixed_wall;
static char *logbuf;
static size_t loglen, logcap;

/* ------------------------------------------------------------------ log */

static const char *level_name(uint32_t level)
{
	static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	return level < 4 ? names[level] : "LOG";
}

void mock__log(zt_instance *inst, uint32_t level, const char *fmt, ...)
{
	char *msg = NULL, *line = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = asprintf(&line, "%s %s: %s\n", level_name(level), inst ? mock_instance_name(inst) : "-", msg);
	free(msg);
	if (n < 0)
		return;
	if (getenv("MOCK_HOST_LOG"))
		fputs(line, stderr);
	pthread_mutex_lock(&lock);
	if (loglen + (size_t)n + 1 > logcap) {
		size_t ncap = (loglen + (size_t)n + 1) * 2;
		char *p = realloc(logbuf, ncap);
		if (p) {
			logbuf = p;
			logcap = ncap;
		}
	}
	if (loglen + (size_t)n + 1 <= logcap) {
		memcpy(logbuf + loglen, line, (size_t)n + 1);
		loglen += (size_t)n;
	}
	pthread_mutex_unlock(&lock);
	free(line);
}

int mock_log_contains(const char *needle)
{
	pthread_mutex_lock(&lock);
	int found = logbuf && strstr(logbuf, needle) != NULL;
	pthread_mutex_unlock(&lock);
	return found;
}

int mock_log_after(const char *needle, char *out, size_t outlen)
{
	int err = -ENOENT;

	pthread_mutex_lock(&lock);
	const char *p = logbuf ? strstr(logbuf, needle) : NULL;
	if (p && outlen) {
		p += strlen(needle);
		size_t n = strcspn(p, "\n");
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, p, n);
		out[n] = 0;
		err = 0;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

size_t mock_log_count(uint32_t level)
{
	char prefix[16];
	size_t count = 0;

	snprintf(prefix, sizeof(prefix), "%s ", level_name(level));
	pthread_mutex_lock(&lock);
	for (const char *p = logbuf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			count++;
	pthread_mutex_unlock(&lock);
	return count;
}

char *mock_log_dup(void)
{
	pthread_mutex_lock(&lock);
	char *s = strdup(logbuf ? logbuf : "");
	pthread_mutex_unlock(&lock);
	return s;
}

void mock_log_clear(void)
{
	pthread_mutex_lock(&lock);
	loglen = 0;
	if (logbuf)
		logbuf[0] = 0;
	pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------- clock */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t host_now_ns(void)
{
	pthread_mutex_lock(&lock);
	uint64_t v = fixed_mono;
	pthread_mutex_unlock(&lock);
	return v ? v : clock_ns(CLOCK_MONOTONIC);
}

static uint64_t host_wall_ns(void)
{
	pthread_mutex_lock(&lock);
	uint64_t v = fixed_wall;
	pthread_mutex_unlock(&lock);
	return v ? v : clock_ns(CLOCK_REALTIME);
}

void mock_set_clock(uint64_t mono_ns, uint64_t wall_ns)
{
	pthread_mutex_lock(&lock);
	fixed_mono = mono_ns;
	fixed_wall = wall_ns;
	pthread_mutex_unlock(&lock);
}

/* ----------------------------------------------------------- node labels */

static int set_label_locked(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < nlabels && strcmp(labels[i].name, name); i++)
		;
	if (!value) {
		if (i < nlabels) {
			free(labels[i].name);
			free(labels[i].value);
			mock__drop_one(labels, &nlabels, sizeof(*labels), i);
		}
		return 0;
	}
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	if (i == nlabels) {
		char *n = strdup(name);
		struct node_label *l = n ? mock__grow_one(&labels, &nlabels, sizeof(*labels)) : NULL;
		if (!l) {
			free(n);
			free(v);
			return -ENOMEM;
		}
		l->name = n;
	}
	free(labels[i].value);
	labels[i].value = v;
	return 0;
}

static void default_labels_locked(void)
{
	if (labels_set)
		return;
	labels_set = 1;
	set_label_locked("machine_id", "0123456789abcdef0123456789abcdef");
	set_label_locked("system_uuid", "00000000-0000-4000-8000-000000000001");
	set_label_locked("hostname", "mock-host");
}

int mock_set_node_label(const char *name, const char *value)
{
	pthread_mutex_lock(&lock);
	default_labels_locked();
	int err = set_label_locked(name, value);
	pthread_mutex_unlock(&lock);
	return err;
}

/* The pointer stays valid until the label changes or mock_reset(), which
 * is what a test can promise for the duration of a callback. */
static int host_node_label(const char *name, struct zt_str *out)
{
	int err = -ENOENT;

	pthread_mutex_lock(&lock);
	default_labels_locked();
	for (size_t i = 0; i < nlabels; i++)
		if (!strcmp(labels[i].name, name)) {
			out->ptr = labels[i].value;
			out->len = strlen(labels[i].value);
			err = 0;
		}
	pthread_mutex_unlock(&lock);
	return err;
}

/* ------------------------------------------------------------ host table */

static const struct zt_host the_host = {
	.struct_size = sizeof(struct zt_host),
	.abi_major = ZT_ABI_MAJOR,
	.abi_minor = ZT_ABI_MINOR,
	.log = mock__log,
	.now_ns = host_now_ns,
	.wall_ns = host_wall_ns,
	.config_string = mock__config_string,
	.config_int = mock__config_int,
	.config_double = mock__config_double,
	.config_bool = mock__config_bool,
	.config_list_string = mock__config_list_string,
	.config_json = mock__config_json,
	.metric_register = mock__metric_register,
	.metric_add = mock__metric_add,
	.metric_set = mock__metric_set,
	.metric_observe = mock__metric_observe,
	.metric_remove = mock__metric_remove,
	.metric_remove_matching = mock__metric_remove_matching,
	.metrics_collect = mock__metrics_collect,
	.timer_add = mock__timer_add,
	.timer_cancel = mock__timer_cancel,
	.fd_watch = mock__fd_watch,
	.fd_unwatch = mock__fd_unwatch,
	.process_set = mock__process_set,
	.process_remove = mock__process_remove,
	.process_container = mock__process_container,
	.container_set = mock__container_set,
	.container_remove = mock__container_remove,
	.node_label = host_node_label,
	.frame_emit = mock__frame_emit,
};

const struct zt_host *mock_host(void)
{
	return &the_host;
}

void mock_reset(void)
{
	mock__metrics_reset();
	mock__loop_reset();
	mock__config_reset();
	mock__proto_reset();
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nlabels; i++) {
		free(labels[i].name);
		free(labels[i].value);
	}
	free(labels);
	labels = NULL;
	nlabels = 0;
	labels_set = 0;
	fixed_mono = fixed_wall = 0;
	free(logbuf);
	logbuf = NULL;
	loglen = logcap = 0;
	pthread_mutex_unlock(&lock);
}

/* --------------------------------------------------------------- plugins */

/* The ops table copied into a zeroed struct of the mock's size, the way
 * the core treats a plugin built against an older minor. */
union any_ops {
	struct zt_ops_header hdr;
	struct zt_exporter_ops exporter;
	struct zt_discovery_ops discovery;
	struct zt_protocol_ops protocol;
};

static int load_ops(const struct zt_plugin_desc *d, union any_ops *ops)
{
	static const char *const kinds[] = { "?", "protocol", "discovery", "exporter" };
	const struct zt_ops_header *h = d->ops;
	const char *kind = d->kind <= 3 ? kinds[d->kind] : "?";
	size_t own = d->kind == ZT_KIND_EXPORTER    ? sizeof(ops->exporter)
		     : d->kind == ZT_KIND_PROTOCOL ? sizeof(ops->protocol)
						   : sizeof(ops->discovery);

	memset(ops, 0, sizeof(*ops));
	if (!h || h->magic != ZT_OPS_MAGIC || h->kind != d->kind || h->abi_major != ZT_ABI_MAJOR ||
	    h->abi_minor > ZT_ABI_MINOR || h->struct_size < sizeof(*h)) {
		mock__log(NULL, ZT_LOG_ERROR, "%s '%s': bad ops table header", kind, d->name);
		return -EINVAL;
	}
	memcpy(ops, h, h->struct_size < own ? h->struct_size : own);
	if (d->kind == ZT_KIND_PROTOCOL) {
		const struct zt_protocol_ops *o = &ops->protocol;
		const char *missing = !o->init ? "init" : !o->fini ? "fini" : !o->conn_open ? "conn_open"
			: !o->conn_close ? "conn_close" : !o->parse ? "parse" : NULL;
		if (missing) {
			mock__log(NULL, ZT_LOG_ERROR, "%s '%s': required callback '%s' missing", kind, d->name, missing);
			return -EINVAL;
		}
		return 0;
	}
	void *init = d->kind == ZT_KIND_EXPORTER ? (void *)ops->exporter.init : (void *)ops->discovery.init;
	void *fini = d->kind == ZT_KIND_EXPORTER ? (void *)ops->exporter.fini : (void *)ops->discovery.fini;
	if (!init || !fini) {
		mock__log(NULL, ZT_LOG_ERROR, "%s '%s': required callback '%s' missing", kind, d->name,
			 init ? "fini" : "init");
		return -EINVAL;
	}
	return 0;
}

static int valid_plugin_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 32)
		return 0;
	/* The core's rule; plugin.h also mentions '-', but the name is a C
	 * identifier in ZT_PLUGIN_DEFINE, so it can never hold one. */
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int mock_plugin_check(const struct zt_plugin_desc *d)
{
	union any_ops ops;

	if (!d || d->magic != ZT_PLUGIN_MAGIC || d->struct_size < offsetof(struct zt_plugin_desc, ops) + sizeof(d->ops)) {
		mock__log(NULL, ZT_LOG_ERROR, "plugin descriptor: bad magic or size");
		return -EINVAL;
	}
	if (d->abi_major != ZT_ABI_MAJOR || d->abi_minor > ZT_ABI_MINOR) {
		mock__log(NULL, ZT_LOG_ERROR, "plugin '%s': ABI %u.%u, host has %u.%u", d->name ? d->name : "?",
			 d->abi_major, d->abi_minor, ZT_ABI_MAJOR, ZT_ABI_MINOR);
		return -EINVAL;
	}
	if (d->kind < ZT_KIND_PROTOCOL || d->kind > ZT_KIND_EXPORTER || !valid_plugin_name(d->name)) {
		mock__log(NULL, ZT_LOG_ERROR, "plugin '%s': bad kind or name", d->name ? d->name : "?");
		return -EINVAL;
	}
	for (const struct zt_config_field *f = d->config; f && f->key; f++) {
		if (f->type < ZT_CFG_STRING || f->type > ZT_CFG_OBJECT || !f->doc) {
			mock__log(NULL, ZT_LOG_ERROR, "plugin '%s': config key '%s' lacks a type or doc", d->name, f->key);
			return -EINVAL;
		}
		for (const struct zt_config_field *g = d->config; g < f; g++)
			if (!strcmp(g->key, f->key)) {
				mock__log(NULL, ZT_LOG_ERROR, "plugin '%s': config key '%s' declared twice", d->name,
					  f->key);
				return -EINVAL;
			}
	}
	return load_ops(d, &ops);
}

/* The public handle plus the ops copy the mock calls through. */
struct plugin_priv {
	struct mock_plugin pub; /* first: the handle tests hold points here */
	union any_ops ops;
};

int mock_plugin_start(zt_plugin_entry_fn entry, const char *instance_name, const char *config_json,
		      struct mock_plugin **out)
{
	const struct zt_plugin_desc *d = entry ? entry() : NULL;
	struct plugin_priv *p = NULL;
	int err;

	err = mock_plugin_check(d);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	load_ops(d, &p->ops);
	p->pub.desc = d;
	err = mock_instance_create(instance_name ? instance_name : d->name, config_json, d->config, &p->pub.inst);
	if (err)
		goto fail;
	err = d->kind == ZT_KIND_EXPORTER   ? p->ops.exporter.init(&the_host, p->pub.inst, &p->pub.state)
	      : d->kind == ZT_KIND_PROTOCOL ? p->ops.protocol.init(&the_host, p->pub.inst, &p->pub.state)
					    : p->ops.discovery.init(&the_host, p->pub.inst, &p->pub.state);
	if (err)
		goto fail;
	*out = &p->pub;
	return 0;
fail:
	if (p->pub.inst)
		mock__drop_instance_hooks(p->pub.inst);
	free(p);
	return err;
}

void mock_plugin_stop(struct mock_plugin *pub)
{
	struct plugin_priv *p = (struct plugin_priv *)pub;

	if (!p)
		return;
	if (pub->desc->kind == ZT_KIND_EXPORTER)
		p->ops.exporter.fini(pub->state);
	else if (pub->desc->kind == ZT_KIND_PROTOCOL)
		p->ops.protocol.fini(pub->state);
	else
		p->ops.discovery.fini(pub->state);
	mock__drop_instance_hooks(pub->inst);
	free(p);
}

void mock_plugin_process_event(struct mock_plugin *pub, const struct zt_process_event *ev)
{
	struct plugin_priv *p = (struct plugin_priv *)pub;

	if (p && pub->desc->kind == ZT_KIND_DISCOVERY && p->ops.discovery.on_process_event)
		p->ops.discovery.on_process_event(pub->state, ev);
}

const struct zt_protocol_ops *mock_plugin_protocol_ops(struct mock_plugin *pub)
{
	struct plugin_priv *p = (struct plugin_priv *)pub;
	return p && pub->desc->kind == ZT_KIND_PROTOCOL ? &p->ops.protocol : NULL;
}
