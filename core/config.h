/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration: a main JSON file plus drop-ins
 * <dir of main>/conf.d/NAME.json, read in name order (bytewise).
 *
 *   { "agent":   { "log_level": "info", "plugin_dir": "...", ... },
 *     "plugins": { "<instance>": { "plugin": "...", "enabled": true,
 *                                  "required": false, "path": "/abs/x.so",
 *                                  "config": { ... } } } }
 *
 * Every key is checked: unknown keys are refused, an agent key or a plugin
 * instance defined in two files is refused, so what runs is exactly what
 * is written. Errors read "FILE:LINE:COL: message" (1-based, the offending
 * key, or the value for type errors), "FILE: message" for I/O errors.
 * Content errors return -EINVAL.
 *
 * The agent is privileged and plugin names become file names, so plugin
 * and instance names are restricted to [a-z0-9_-]{1,64} and an explicit
 * "path" must be absolute.
 */
#ifndef ZEROTAP_CORE_CONFIG_H
#define ZEROTAP_CORE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <zerotap/plugin.h>

#ifndef ZT_DEFAULT_PLUGIN_DIR
#define ZT_DEFAULT_PLUGIN_DIR "/usr/local/lib/zerotap/plugins"
#endif

struct cfg_loc {
	const char *file; /* points into zt_config-owned storage */
	int line;
	int col;
};

struct cfg_instance {
	char *name;
	char *plugin;
	char *path;         /* NULL when absent */
	int enabled;
	int required;
	json_t *config;     /* the instance's "config" object as written (owned) */
	char *config_canon; /* canonical JSON of config (sorted keys, compact): change detection on reload */
	struct cfg_loc loc; /* where the instance key is */
	/* private */
	size_t file_idx;    /* which file defines it: positions of its config keys */
};

struct cfg_file;

struct zt_config {
	char *log_level;
	char *plugin_dir;
	int64_t max_series_per_family;
	char *az;
	char *region;
	int64_t drain_interval_ms;
	int bpf_stats; /* hold BPF_ENABLE_STATS: per-program run time and count */
	int64_t tcp_poll_interval_ms;    /* sock_diag poll of live TCP connections */
	int64_t max_peers_per_container; /* distinct peers per container and direction */
	int l7_local_once; /* a connection with both ends on this host is parsed on its client side only */
	/* "zones": CIDR -> zone name, in file order; every entry was accepted by
	 * netclass_add_cidr at load time. */
	char **zone_cidrs;
	char **zone_names;
	size_t n_zones;
	struct cfg_instance *inst; /* in file order, then in the order written */
	size_t n_inst;
	/* private */
	struct cfg_file *files;
	size_t n_files;
};

/* Loads main_path and its conf.d (a missing conf.d is fine). On error
 * returns a negative errno, *out is NULL and err holds the message. */
int config_load(const char *main_path, struct zt_config **out, char *err, size_t errlen);
void config_free(struct zt_config *cfg);
const struct cfg_instance *config_find(const struct zt_config *cfg, const char *instance);

/*
 * Validates ci->config against a plugin's schema (NULL = no keys): unknown
 * keys (with a suggestion when a declared key is close), wrong types,
 * INT out of [min, max], missing REQUIRED keys, and the schema's own
 * defaults (a plugin bug, reported as "plugin 'x': default of 'k' is not a
 * valid <type>" without a position). On success *resolved is a new object
 * with every declared key: the configured value (copied), else the
 * default, else JSON null. A DOUBLE accepts integers; an INT does not
 * accept reals. Values of SECRET keys never appear in messages.
 */
int config_validate_instance(const struct zt_config *cfg, const struct cfg_instance *ci,
			     const struct zt_config_field *schema, json_t **resolved, char *err, size_t errlen);

#endif
