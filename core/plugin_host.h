/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin host: finds, checks and loads plugin modules (built-in or
 * shared objects), runs configured instances, and implements the host API
 * table they call. See docs/plugin-abi.md for the rules enforced here.
 */
#ifndef ZT_CORE_PLUGIN_HOST_H
#define ZT_CORE_PLUGIN_HOST_H

#include <stdio.h>
#include <jansson.h>
#include <zerotap/plugin.h>

struct agent;
struct zt_config;

/* A plugin module as the host copied it: descriptor and ops tables in
 * zeroed structs of the host's sizes. */
struct plugin_module {
	char *name;
	char *path;           /* "builtin" for built-in plugins */
	void *dl;
	int failed;
	char reason[512];
	struct zt_plugin_desc desc;
	union {
		struct zt_ops_header hdr;
		struct zt_discovery_ops discovery;
		struct zt_exporter_ops exporter;
		struct zt_protocol_ops protocol;
	} ops;
	struct plugin_module *next;
};

/* Instance status values. */
#define INST_DISABLED 0
#define INST_RUNNING 1
#define INST_FAILED 2

struct zt_instance {
	struct agent *agent;
	char *name;
	char *plugin;
	char *path;
	char *canon;          /* config as written, canonical: change detection */
	int required;
	int status;
	char reason[512];
	struct plugin_module *mod;
	json_t *resolved;     /* validated config with defaults */
	void *state;
	struct zt_instance *next;
};

const struct zt_host *host_table(void);

/*
 * Loads (or finds, if already loaded) the module for plugin `name`:
 * built-in first, else `path`, else <plugin_dir>/<name>.so. On failure the
 * module is still returned (failed=1, reason set) so it can be listed, and
 * the return value is a negative errno.
 */
int plugin_module_get(struct agent *a, const char *name, const char *path, struct plugin_module **out);
/* Checks a descriptor and copies it with its ops into mod. For tests too. */
int plugin_module_adopt(struct plugin_module *mod, const struct zt_plugin_desc *d, const char *expect_name);

/* Starts every enabled instance of cfg. Returns -ENOEXEC if a required
 * instance failed. */
int plugins_start(struct agent *a);
/* Applies a new config: restarts instances whose config changed, starts new
 * ones, stops removed ones; the others keep their state. Takes ownership of
 * newcfg on success. */
int plugins_reload(struct agent *a, struct zt_config *newcfg);
void plugins_stop_all(struct agent *a);
void plugins_free_modules(struct agent *a);

void plugins_process_event(struct agent *a, const struct zt_process_event *ev);

/* CLI helpers. */
int plugins_list(struct agent *a, FILE *out);
int plugins_describe(struct agent *a, const char *name, FILE *out);
const char *kind_name(uint32_t kind);

#endif
