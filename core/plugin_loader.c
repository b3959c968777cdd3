/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding, checking and adopting plugin modules. Everything a third-party
 * file can get wrong is refused here with a reason precise enough to fix it,
 * and a refused module never takes the agent down.
 */
#include "plugin_host.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "config.h"
#include "log.h"

struct builtin_plugin {
	const char *name;
	zt_plugin_entry_fn entry;
};
extern const struct builtin_plugin zt_builtin_plugins[];

/* Required callbacks per kind, by name, so a refusal can name the missing one. */
struct required_cb {
	uint32_t kind;
	const char *name;
	size_t offset;
};

static const struct required_cb required_cbs[] = {
	{ ZT_KIND_DISCOVERY, "init", offsetof(struct zt_discovery_ops, init) },
	{ ZT_KIND_DISCOVERY, "fini", offsetof(struct zt_discovery_ops, fini) },
	{ ZT_KIND_EXPORTER, "init", offsetof(struct zt_exporter_ops, init) },
	{ ZT_KIND_EXPORTER, "fini", offsetof(struct zt_exporter_ops, fini) },
	{ ZT_KIND_PROTOCOL, "init", offsetof(struct zt_protocol_ops, init) },
	{ ZT_KIND_PROTOCOL, "fini", offsetof(struct zt_protocol_ops, fini) },
	{ ZT_KIND_PROTOCOL, "conn_open", offsetof(struct zt_protocol_ops, conn_open) },
	{ ZT_KIND_PROTOCOL, "conn_close", offsetof(struct zt_protocol_ops, conn_close) },
	{ ZT_KIND_PROTOCOL, "parse", offsetof(struct zt_protocol_ops, parse) },
};

const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case ZT_KIND_PROTOCOL:
		return "protocol";
	case ZT_KIND_DISCOVERY:
		return "discovery";
	case ZT_KIND_EXPORTER:
		return "exporter";
	default:
		return "unknown";
	}
}

static size_t ops_size_for(uint32_t kind)
{
	switch (kind) {
	case ZT_KIND_DISCOVERY:
		return sizeof(struct zt_discovery_ops);
	case ZT_KIND_EXPORTER:
		return sizeof(struct zt_exporter_ops);
	case ZT_KIND_PROTOCOL:
		return sizeof(struct zt_protocol_ops);
	default:
		return 0;
	}
}

static int fail(struct plugin_module *mod, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct plugin_module *mod, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(mod->reason, sizeof(mod->reason), fmt, ap);
	va_end(ap);
	mod->failed = 1;
	return err;
}

static int valid_plugin_name(const char *s)
{
	size_t n = 0;
	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n >= 1 && n <= 32;
}

/* True when bytes [from, to) of p are all zero: a larger struct from a
 * newer build is acceptable only if what we don't know is unused. */
static int tail_zero(const void *p, size_t from, size_t to)
{
	const unsigned char *b = p;
	for (size_t i = from; i < to; i++)
		if (b[i])
			return 0;
	return 1;
}

static int check_schema(struct plugin_module *mod, const struct zt_config_field *f)
{
	for (size_t i = 0; f && f[i].key; i++) {
		if (i >= 256)
			return fail(mod, -EINVAL, "plugin '%s': config schema has no terminating entry", mod->name);
		if (f[i].type < ZT_CFG_STRING || f[i].type > ZT_CFG_OBJECT)
			return fail(mod, -EINVAL, "plugin '%s': config key '%s' has unknown type %u", mod->name,
				    f[i].key, f[i].type);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f[i].key, f[j].key))
				return fail(mod, -EINVAL, "plugin '%s': config key '%s' declared twice", mod->name,
					    f[i].key);
	}
	return 0;
}

int plugin_module_adopt(struct plugin_module *mod, const struct zt_plugin_desc *d, const char *expect)
{
	const struct zt_ops_header *oh;
	size_t min_desc = offsetof(struct zt_plugin_desc, ops) + sizeof(d->ops);
	size_t host_ops, n;

	if (!d)
		return fail(mod, -EINVAL, "entry function returned no descriptor");
	if (d->magic != ZT_PLUGIN_MAGIC)
		return fail(mod, -EINVAL, "bad descriptor magic 0x%08x (expected 0x%08x): not a zerotap plugin",
			    d->magic, ZT_PLUGIN_MAGIC);
	if (d->abi_major != ZT_ABI_MAJOR)
		return fail(mod, -EPROTO, "built for ABI %u.%u, this agent speaks ABI major %u", d->abi_major,
			    d->abi_minor, ZT_ABI_MAJOR);
	if (d->abi_minor > ZT_ABI_MINOR)
		return fail(mod, -EPROTO, "built for ABI %u.%u, newer than this agent's %u.%u: upgrade the agent",
			    d->abi_major, d->abi_minor, ZT_ABI_MAJOR, ZT_ABI_MINOR);
	if (d->struct_size < min_desc)
		return fail(mod, -EINVAL, "descriptor struct_size %u is smaller than the minimum %zu", d->struct_size,
			    min_desc);
	if (d->struct_size > sizeof(mod->desc) && !tail_zero(d, sizeof(mod->desc), d->struct_size))
		return fail(mod, -EINVAL, "descriptor has %u bytes, unknown non-zero fields past %zu", d->struct_size,
			    sizeof(mod->desc));
	memset(&mod->desc, 0, sizeof(mod->desc));
	memcpy(&mod->desc, d, d->struct_size < sizeof(mod->desc) ? d->struct_size : sizeof(mod->desc));

	if (!valid_plugin_name(mod->desc.name))
		return fail(mod, -EINVAL, "plugin name is missing or not [a-z0-9_]{1,32}");
	if (expect && strcmp(expect, mod->desc.name))
		return fail(mod, -EINVAL, "file declares plugin '%s', but '%s' was asked for", mod->desc.name, expect);
	free(mod->name);
	mod->name = strdup(mod->desc.name);
	if (!mod->name)
		return fail(mod, -ENOMEM, "out of memory");

	host_ops = ops_size_for(mod->desc.kind);
	if (!host_ops)
		return fail(mod, -EOPNOTSUPP, "plugin '%s': component kind %u (%s) is not supported by this agent",
			    mod->name, mod->desc.kind, kind_name(mod->desc.kind));
	oh = mod->desc.ops;
	if (!oh)
		return fail(mod, -EINVAL, "plugin '%s': no ops table", mod->name);
	if (oh->magic != ZT_OPS_MAGIC)
		return fail(mod, -EINVAL, "plugin '%s': bad ops magic 0x%08x", mod->name, oh->magic);
	if (oh->kind != mod->desc.kind)
		return fail(mod, -EINVAL, "plugin '%s': ops table is for kind %s, descriptor says %s", mod->name,
			    kind_name(oh->kind), kind_name(mod->desc.kind));
	if (oh->abi_major != ZT_ABI_MAJOR || oh->abi_minor > ZT_ABI_MINOR)
		return fail(mod, -EPROTO, "plugin '%s': ops table built for ABI %u.%u, agent has %u.%u", mod->name,
			    oh->abi_major, oh->abi_minor, ZT_ABI_MAJOR, ZT_ABI_MINOR);
	if (oh->struct_size < sizeof(*oh))
		return fail(mod, -EINVAL, "plugin '%s': ops struct_size %u too small", mod->name, oh->struct_size);
	if (oh->struct_size > host_ops && !tail_zero(oh, host_ops, oh->struct_size))
		return fail(mod, -EINVAL, "plugin '%s': ops table has unknown non-zero callbacks past %zu bytes",
			    mod->name, host_ops);
	memset(&mod->ops, 0, sizeof(mod->ops));
	n = oh->struct_size < host_ops ? oh->struct_size : host_ops;
	memcpy(&mod->ops, oh, n);

	for (size_t i = 0; i < sizeof(required_cbs) / sizeof(required_cbs[0]); i++) {
		const struct required_cb *r = &required_cbs[i];
		void *fn;
		if (r->kind != mod->desc.kind)
			continue;
		memcpy(&fn, (const char *)&mod->ops + r->offset, sizeof(fn));
		if (!fn)
			return fail(mod, -EINVAL, "%s '%s': required callback '%s' missing", kind_name(r->kind),
				    mod->name, r->name);
	}
	return check_schema(mod, mod->desc.config);
}

static int check_file(struct plugin_module *mod, const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return fail(mod, -errno, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode) && stat(path, &st))
		return fail(mod, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(mod, -EINVAL, "%s: not a regular file", path);
	/* The agent is privileged: a file others can write is someone else's code. */
	if (st.st_uid != 0)
		return fail(mod, -EPERM, "%s: owned by uid %u, plugins must be owned by root", path, st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail(mod, -EPERM, "%s: writable by group or others (mode %04o), refusing to load", path,
			    st.st_mode & 07777);
	return 0;
}

static int load_shared(struct plugin_module *mod, const char *path, const char *expect)
{
	zt_plugin_entry_fn entry;
	int err = check_file(mod, path);
	if (err)
		return err;
	mod->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!mod->dl)
		return fail(mod, -ENOEXEC, "dlopen: %s", dlerror());
	*(void **)&entry = dlsym(mod->dl, ZT_ENTRY_SYMBOL);
	if (!entry) {
		/* Say which ABI the file was built for, if it is a zerotap plugin at all. */
		for (int v = 0; v < 10; v++) {
			char sym[32];
			snprintf(sym, sizeof(sym), "zt_plugin_entry_v%d", v);
			if (v != ZT_ABI_MAJOR && dlsym(mod->dl, sym))
				return fail(mod, -EPROTO, "%s: built for ABI major %d (exports %s), this agent needs %s",
					    path, v, sym, ZT_ENTRY_SYMBOL);
		}
		return fail(mod, -ENOEXEC, "%s: no %s symbol: not a zerotap plugin", path, ZT_ENTRY_SYMBOL);
	}
	return plugin_module_adopt(mod, entry(), expect);
}

static struct plugin_module *module_new(struct agent *a, const char *name, const char *path)
{
	struct plugin_module *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->name = strdup(name);
	m->path = strdup(path);
	if (!m->name || !m->path) {
		free(m->name);
		free(m->path);
		free(m);
		return NULL;
	}
	m->next = a->modules;
	a->modules = m;
	return m;
}

static const struct builtin_plugin *builtin_find(const char *name)
{
	for (const struct builtin_plugin *b = zt_builtin_plugins; b->name; b++)
		if (!strcmp(b->name, name))
			return b;
	return NULL;
}

int plugin_module_get(struct agent *a, const char *name, const char *path, struct plugin_module **out)
{
	char buf[PATH_MAX];
	char real[PATH_MAX];
	const struct builtin_plugin *b = path ? NULL : builtin_find(name);
	struct plugin_module *m;
	int err;

	if (b) {
		snprintf(real, sizeof(real), "builtin");
	} else {
		if (!path) {
			if (!valid_plugin_name(name)) {
				m = module_new(a, name, "-");
				if (!m)
					return -ENOMEM;
				*out = m;
				return fail(m, -EINVAL, "plugin name '%s' is not [a-z0-9_]{1,32}", name);
			}
			snprintf(buf, sizeof(buf), "%s/%s.so", a->cfg->plugin_dir, name);
			path = buf;
		}
		if (!realpath(path, real))
			snprintf(real, sizeof(real), "%s", path);
	}
	for (m = a->modules; m; m = m->next) {
		if (!strcmp(m->path, real) && !strcmp(m->name, name)) {
			*out = m;
			return m->failed ? -ENOEXEC : 0;
		}
	}
	m = module_new(a, name, real);
	if (!m)
		return -ENOMEM;
	*out = m;
	if (b)
		err = plugin_module_adopt(m, b->entry(), name);
	else
		err = load_shared(m, real, name);
	if (err)
		return err;
	/* Unique names: one plugin name, one file. */
	for (struct plugin_module *o = a->modules; o; o = o->next) {
		if (o != m && !o->failed && !strcmp(o->name, m->name))
			return fail(m, -EEXIST, "plugin '%s' is already loaded from %s; refusing a second copy from %s",
				    m->name, o->path, m->path);
	}
	log_msg(ZT_LOG_DEBUG, NULL, "plugin '%s' %s (ABI %u.%u) loaded from %s", m->name, m->desc.version,
		m->desc.abi_major, m->desc.abi_minor, m->path);
	return 0;
}

void plugins_free_modules(struct agent *a)
{
	struct plugin_module *m = a->modules, *n;
	for (; m; m = n) {
		n = m->next;
		if (m->dl)
			dlclose(m->dl);
		free(m->name);
		free(m->path);
		free(m);
	}
	a->modules = NULL;
}

static const char *type_name(uint32_t t)
{
	static const char *const names[] = { "?", "string", "int", "double", "bool", "string list", "object" };
	return t <= ZT_CFG_OBJECT ? names[t] : "?";
}

static const char *status_name(int s)
{
	return s == INST_RUNNING ? "running" : s == INST_FAILED ? "failed" : "disabled";
}

/* Every built-in plugin, every *.so in the plugin dir, and every configured
 * instance, with whether it loads and why not. */
int plugins_list(struct agent *a, FILE *out)
{
	struct plugin_module *m;
	DIR *d;
	struct dirent *de;

	for (const struct builtin_plugin *b = zt_builtin_plugins; b->name; b++)
		plugin_module_get(a, b->name, NULL, &m);
	d = opendir(a->cfg->plugin_dir);
	if (d) {
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			char name[64], path[PATH_MAX];
			if (l < 4 || l - 3 >= sizeof(name) || strcmp(de->d_name + l - 3, ".so"))
				continue;
			memcpy(name, de->d_name, l - 3);
			name[l - 3] = 0;
			snprintf(path, sizeof(path), "%s/%s", a->cfg->plugin_dir, de->d_name);
			plugin_module_get(a, name, path, &m);
		}
		closedir(d);
	} else {
		fprintf(out, "# plugin_dir %s: %s\n", a->cfg->plugin_dir, strerror(errno));
	}
	fprintf(out, "%-14s %-10s %-9s %-8s %s\n", "PLUGIN", "KIND", "VERSION", "STATUS", "FROM / REASON");
	for (m = a->modules; m; m = m->next) {
		if (m->failed && !strncmp(m->reason, m->path, strlen(m->path)))
			fprintf(out, "%-14s %-10s %-9s %-8s %s\n", m->name, "-", "-", "invalid", m->reason);
		else if (m->failed)
			fprintf(out, "%-14s %-10s %-9s %-8s %s: %s\n", m->name, "-", "-", "invalid", m->path, m->reason);
		else
			fprintf(out, "%-14s %-10s %-9s %-8s %s\n", m->name, kind_name(m->desc.kind),
				m->desc.version ? m->desc.version : "-", "ok", m->path);
	}
	fprintf(out, "\n%-14s %-14s %-9s %s\n", "INSTANCE", "PLUGIN", "STATUS", "REASON");
	for (size_t i = 0; i < a->cfg->n_inst; i++) {
		const struct cfg_instance *ci = &a->cfg->inst[i];
		const char *status = "disabled", *reason = "not enabled in the config";
		const struct zt_instance *in = NULL;
		for (in = a->instances; in && strcmp(in->name, ci->name); in = in->next)
			;
		if (in) {
			status = status_name(in->status);
			reason = in->reason;
		} else if (ci->enabled) {
			int err = plugin_module_get(a, ci->plugin, ci->path, &m);
			status = err ? "failed" : "loadable";
			reason = err ? m->reason : "";
		}
		fprintf(out, "%-14s %-14s %-9s %s\n", ci->name, ci->plugin, status, reason);
	}
	return 0;
}

int plugins_describe(struct agent *a, const char *name, FILE *out)
{
	struct plugin_module *m;
	int err = plugin_module_get(a, name, NULL, &m);
	if (err) {
		fprintf(out, "plugin '%s': %s\n", name, m ? m->reason : strerror(-err));
		return err;
	}
	fprintf(out, "plugin:      %s\nkind:        %s\nversion:     %s\nlicense:     %s\norigin:      %s\n"
		     "abi:         %u.%u\nfrom:        %s\ndescription: %s\n\nconfig keys:\n",
		m->name, kind_name(m->desc.kind), m->desc.version ? m->desc.version : "-",
		m->desc.license ? m->desc.license : "-", m->desc.origin ? m->desc.origin : "-", m->desc.abi_major,
		m->desc.abi_minor, m->path, m->desc.description ? m->desc.description : "-");
	for (const struct zt_config_field *f = m->desc.config; f && f->key; f++) {
		fprintf(out, "  %-22s %-11s default %s%s%s\n", f->key, type_name(f->type),
			f->default_json ? f->default_json : "(none)", (f->flags & ZT_CFG_F_REQUIRED) ? ", required" : "",
			(f->flags & ZT_CFG_F_SECRET) ? ", secret" : "");
		if (f->type == ZT_CFG_INT && f->min <= f->max)
			fprintf(out, "  %-22s range [%lld, %lld]\n", "", (long long)f->min, (long long)f->max);
		if (f->doc)
			fprintf(out, "  %-22s %s\n", "", f->doc);
	}
	return 0;
}
