/* SPDX-License-Identifier: Apache-2.0 */
/* Plugin instances and the host API table they call. */
#include "plugin_host.h"
#include "l7.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "config.h"
#include "entities.h"
#include "log.h"
#include "loop.h"
#include "registry.h"

struct agent *g_agent;

/* ------------------------------------------------------------ host table */

static void h_log(zt_instance *inst, uint32_t level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, inst ? inst->name : "plugin", fmt, ap);
	va_end(ap);
}

static uint64_t h_now(void)
{
	return loop_now_ns();
}

static uint64_t h_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static json_t *cfg_value(zt_instance *inst, const char *key)
{
	if (!inst || !inst->resolved || !key)
		return NULL;
	return json_object_get(inst->resolved, key);
}

static int h_cfg_string(zt_instance *inst, const char *key, struct zt_str *out)
{
	json_t *v = cfg_value(inst, key);
	if (!v)
		return -ENOENT;
	if (!json_is_string(v))
		return -EINVAL;
	out->ptr = json_string_value(v);
	out->len = json_string_length(v);
	return 0;
}

static int h_cfg_int(zt_instance *inst, const char *key, int64_t *out)
{
	json_t *v = cfg_value(inst, key);
	if (!v)
		return -ENOENT;
	if (!json_is_integer(v))
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

static int h_cfg_double(zt_instance *inst, const char *key, double *out)
{
	json_t *v = cfg_value(inst, key);
	if (!v)
		return -ENOENT;
	if (!json_is_number(v))
		return -EINVAL;
	*out = json_number_value(v);
	return 0;
}

static int h_cfg_bool(zt_instance *inst, const char *key, uint32_t *out)
{
	json_t *v = cfg_value(inst, key);
	if (!v)
		return -ENOENT;
	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v) ? 1 : 0;
	return 0;
}

static int h_cfg_list_string(zt_instance *inst, const char *key, size_t index, struct zt_str *out)
{
	json_t *v = cfg_value(inst, key), *e;
	if (!v)
		return -ENOENT;
	if (!json_is_array(v))
		return -EINVAL;
	if (index >= json_array_size(v))
		return -ERANGE;
	e = json_array_get(v, index);
	if (!json_is_string(e))
		return -EINVAL;
	out->ptr = json_string_value(e);
	out->len = json_string_length(e);
	return 0;
}

/* Serialized values live as hidden keys of the resolved object, so the
 * string stays valid until the instance stops, as the header promises. */
static int h_cfg_json(zt_instance *inst, const char *key, struct zt_str *out)
{
	char cache_key[256];
	json_t *v = cfg_value(inst, key), *c;
	char *s;
	if (!v)
		return -ENOENT;
	snprintf(cache_key, sizeof(cache_key), "\x01json:%s", key);
	c = json_object_get(inst->resolved, cache_key);
	if (!c) {
		s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		if (!s)
			return -ENOMEM;
		c = json_string(s);
		free(s);
		if (!c || json_object_set_new(inst->resolved, cache_key, c))
			return -ENOMEM;
	}
	out->ptr = json_string_value(c);
	out->len = json_string_length(c);
	return 0;
}

static int h_metric_register(zt_instance *inst, const struct zt_metric_desc *d, zt_metric **out)
{
	int err = registry_register(g_agent->reg, d, out);
	if (err)
		log_msg(ZT_LOG_WARN, inst ? inst->name : NULL, "metric '%s' not registered: %s",
			d && d->name ? d->name : "?", strerror(-err));
	return err;
}

static void h_metric_remove_matching(struct zt_str label, struct zt_str value)
{
	registry_remove_matching(g_agent->reg, label, value);
}

static int h_metrics_collect(const struct zt_collect_visitor *v, void *ctx)
{
	return registry_collect(g_agent->reg, v, ctx);
}

static int h_timer_add(zt_instance *inst, uint64_t interval_ns, zt_timer_cb cb, void *arg, uint64_t *id)
{
	return loop_timer_add(g_agent->loop, inst, interval_ns, cb, arg, id);
}

static void h_timer_cancel(zt_instance *inst, uint64_t id)
{
	loop_timer_cancel(g_agent->loop, id);
}

static int h_fd_watch(zt_instance *inst, int fd, uint32_t events, zt_fd_cb cb, void *arg)
{
	return loop_fd_add(g_agent->loop, inst, fd, events, cb, arg);
}

static void h_fd_unwatch(zt_instance *inst, int fd)
{
	loop_fd_remove(g_agent->loop, fd);
}

static int h_process_set(zt_instance *inst, const struct zt_process_info *p)
{
	return entities_process_set(g_agent->ents, p);
}

static void h_process_remove(zt_instance *inst, uint32_t pid)
{
	entities_process_remove(g_agent->ents, pid);
}

static int h_process_container(uint32_t pid, char *buf, size_t buflen)
{
	return entities_process_container(g_agent->ents, pid, buf, buflen);
}

static int h_container_set(zt_instance *inst, const struct zt_container_info *c)
{
	return entities_container_set(g_agent->ents, c);
}

static void h_container_remove(zt_instance *inst, struct zt_str id)
{
	entities_container_remove(g_agent->ents, id);
}

static int h_node_label(const char *name, struct zt_str *out)
{
	const char *v = NULL;
	if (!name)
		return -EINVAL;
	if (!strcmp(name, "machine_id"))
		v = g_agent->machine_id;
	else if (!strcmp(name, "system_uuid"))
		v = g_agent->system_uuid;
	else if (!strcmp(name, "hostname"))
		v = g_agent->hostname;
	else if (!strcmp(name, "az"))
		v = g_agent->az;
	else if (!strcmp(name, "region"))
		v = g_agent->region;
	if (!v)
		return -ENOENT;
	out->ptr = v;
	out->len = strlen(v);
	return 0;
}

static const struct zt_host host = {
	.struct_size = sizeof(struct zt_host),
	.abi_major = ZT_ABI_MAJOR,
	.abi_minor = ZT_ABI_MINOR,
	.log = h_log,
	.now_ns = h_now,
	.wall_ns = h_wall,
	.config_string = h_cfg_string,
	.config_int = h_cfg_int,
	.config_double = h_cfg_double,
	.config_bool = h_cfg_bool,
	.config_list_string = h_cfg_list_string,
	.config_json = h_cfg_json,
	.metric_register = h_metric_register,
	.metric_add = registry_add,
	.metric_set = registry_set,
	.metric_observe = registry_observe,
	.metric_remove = registry_remove,
	.metric_remove_matching = h_metric_remove_matching,
	.metrics_collect = h_metrics_collect,
	.timer_add = h_timer_add,
	.timer_cancel = h_timer_cancel,
	.fd_watch = h_fd_watch,
	.fd_unwatch = h_fd_unwatch,
	.process_set = h_process_set,
	.process_remove = h_process_remove,
	.process_container = h_process_container,
	.container_set = h_container_set,
	.container_remove = h_container_remove,
	.node_label = h_node_label,
	.frame_emit = l7_frame_emit,
};

const struct zt_host *host_table(void)
{
	return &host;
}

/* ------------------------------------------------------------- instances */

static void instance_free(struct zt_instance *in)
{
	if (!in)
		return;
	json_decref(in->resolved);
	free(in->name);
	free(in->plugin);
	free(in->path);
	free(in->canon);
	free(in);
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static struct zt_instance *instance_new(struct agent *a, const struct cfg_instance *ci)
{
	struct zt_instance *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->agent = a;
	in->required = ci->required;
	if (dup_or_null(&in->name, ci->name) || dup_or_null(&in->plugin, ci->plugin) ||
	    dup_or_null(&in->path, ci->path) || dup_or_null(&in->canon, ci->config_canon)) {
		instance_free(in);
		return NULL;
	}
	return in;
}

static void instance_stop(struct zt_instance *in)
{
	if (in->status != INST_RUNNING)
		return;
	if (in->mod->desc.kind == ZT_KIND_DISCOVERY) {
		in->mod->ops.discovery.fini(in->state);
	} else if (in->mod->desc.kind == ZT_KIND_EXPORTER) {
		in->mod->ops.exporter.fini(in->state);
	} else if (in->mod->desc.kind == ZT_KIND_PROTOCOL) {
		l7_protocol_remove(in->agent, in);
		in->mod->ops.protocol.fini(in->state);
	}
	/* Whatever the plugin forgot to cancel must not call into freed state. */
	loop_remove_owner(in->agent->loop, in);
	in->state = NULL;
	in->status = INST_DISABLED;
	snprintf(in->reason, sizeof(in->reason), "stopped");
}

static void instance_start(struct agent *a, struct zt_instance *in, const struct cfg_instance *ci)
{
	char err[512];
	int rc = plugin_module_get(a, in->plugin, in->path, &in->mod);
	if (rc) {
		in->status = INST_FAILED;
		snprintf(in->reason, sizeof(in->reason), "%s", in->mod ? in->mod->reason : strerror(-rc));
		goto out;
	}
	rc = config_validate_instance(a->cfg, ci, in->mod->desc.config, &in->resolved, err, sizeof(err));
	if (rc) {
		in->status = INST_FAILED;
		snprintf(in->reason, sizeof(in->reason), "%s", err);
		goto out;
	}
	if (in->mod->desc.kind == ZT_KIND_DISCOVERY) {
		rc = in->mod->ops.discovery.init(&host, in, &in->state);
	} else if (in->mod->desc.kind == ZT_KIND_PROTOCOL) {
		rc = in->mod->ops.protocol.init(&host, in, &in->state);
		if (!rc) {
			rc = l7_protocol_add(a, in, in->name, &in->mod->ops.protocol, in->state);
			if (rc)
				in->mod->ops.protocol.fini(in->state);
		}
	} else {
		rc = in->mod->ops.exporter.init(&host, in, &in->state);
	}
	if (rc) {
		loop_remove_owner(a->loop, in);
		in->status = INST_FAILED;
		snprintf(in->reason, sizeof(in->reason), "init failed: %s", strerror(rc < 0 ? -rc : rc));
		goto out;
	}
	in->status = INST_RUNNING;
	snprintf(in->reason, sizeof(in->reason), "%s", "");
out:
	if (in->status == INST_RUNNING)
		log_msg(ZT_LOG_INFO, NULL, "instance '%s' (%s %s) started", in->name, kind_name(in->mod->desc.kind),
			in->plugin);
	else
		log_msg(in->required ? ZT_LOG_ERROR : ZT_LOG_WARN, NULL, "instance '%s' (plugin '%s') failed: %s",
			in->name, in->plugin, in->reason);
}

static void append(struct agent *a, struct zt_instance *in)
{
	struct zt_instance **pp = &a->instances;
	while (*pp)
		pp = &(*pp)->next;
	*pp = in;
}

int plugins_start(struct agent *a)
{
	int fatal = 0;
	/* Discovery before exporters: the first scrape should see entities. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < a->cfg->n_inst; i++) {
			const struct cfg_instance *ci = &a->cfg->inst[i];
			struct plugin_module *m;
			int is_exporter;
			if (!ci->enabled)
				continue;
			/* Unknown or broken modules start in the first pass, to fail early. */
			is_exporter = !plugin_module_get(a, ci->plugin, ci->path, &m) && m->desc.kind == ZT_KIND_EXPORTER;
			if (is_exporter != pass)
				continue;
			struct zt_instance *in = instance_new(a, ci);
			if (!in)
				return -ENOMEM;
			append(a, in);
			instance_start(a, in, ci);
			if (in->status != INST_RUNNING && in->required)
				fatal = 1;
		}
	}
	return fatal ? -ENOEXEC : 0;
}

static int same_str(const char *x, const char *y)
{
	return (!x && !y) || (x && y && !strcmp(x, y));
}

int plugins_reload(struct agent *a, struct zt_config *newcfg)
{
	struct zt_config *old = a->cfg;
	struct zt_instance *keep = NULL, **kt = &keep;
	int restarted = 0, started = 0, stopped = 0, kept = 0;

	a->cfg = newcfg;
	/* Stop what is gone or changed; keep the rest untouched. */
	for (struct zt_instance *in = a->instances, *next; in; in = next) {
		const struct cfg_instance *ci = config_find(newcfg, in->name);
		next = in->next;
		in->next = NULL;
		if (ci && ci->enabled && in->status == INST_RUNNING && same_str(ci->plugin, in->plugin) &&
		    same_str(ci->path, in->path) && same_str(ci->config_canon, in->canon) &&
		    in->required == ci->required) {
			*kt = in;
			kt = &in->next;
			kept++;
			continue;
		}
		if (in->status == INST_RUNNING) {
			instance_stop(in);
			if (ci && ci->enabled)
				restarted++;
			else
				stopped++;
		}
		instance_free(in);
	}
	a->instances = keep;
	for (size_t i = 0; i < newcfg->n_inst; i++) {
		const struct cfg_instance *ci = &newcfg->inst[i];
		struct zt_instance *in;
		if (!ci->enabled)
			continue;
		for (in = a->instances; in && strcmp(in->name, ci->name); in = in->next)
			;
		if (in)
			continue;
		in = instance_new(a, ci);
		if (!in)
			continue;
		append(a, in);
		instance_start(a, in, ci);
		started++;
	}
	log_msg(ZT_LOG_INFO, NULL, "config reloaded: %d kept, %d restarted, %d started, %d stopped", kept, restarted,
		started - restarted, stopped);
	config_free(old);
	return 0;
}

void plugins_stop_all(struct agent *a)
{
	/* Exporters first, so nobody scrapes a half-stopped agent. */
	for (int pass = 1; pass >= 0; pass--)
		for (struct zt_instance *in = a->instances; in; in = in->next)
			if (in->status == INST_RUNNING && (in->mod->desc.kind == ZT_KIND_EXPORTER) == pass)
				instance_stop(in);
	for (struct zt_instance *in = a->instances, *n; in; in = n) {
		n = in->next;
		instance_free(in);
	}
	a->instances = NULL;
}

void plugins_process_event(struct agent *a, const struct zt_process_event *ev)
{
	for (struct zt_instance *in = a->instances; in; in = in->next)
		if (in->status == INST_RUNNING && in->mod->desc.kind == ZT_KIND_DISCOVERY &&
		    in->mod->ops.discovery.on_process_event)
			in->mod->ops.discovery.on_process_event(in->state, ev);
}
