/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's process-wide context: owned by main(), reached by the host
 * table's functions through the instance handle. */
#ifndef ZT_CORE_AGENT_H
#define ZT_CORE_AGENT_H

#include <zerotap/plugin.h>

struct zt_config;
struct registry;
struct loop;
struct entities;
struct features;
struct l7_mod;
struct plugin_module;

struct agent {
	const char *config_path;
	struct zt_config *cfg;
	struct registry *reg;
	struct loop *loop;
	struct entities *ents;
	struct features *features;
	struct l7_mod *l7;              /* L7 pipeline; NULL until a protocol instance starts */
	struct plugin_module *modules;  /* every module tried, loaded or not */
	struct zt_instance *instances;  /* configured instances, config order */
	char machine_id[64];
	char system_uuid[64];
	char hostname[256];
	char az[64];
	char region[64];
	uint64_t start_ns;
};

extern struct agent *g_agent;

#endif
