/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin descriptor, config schema, component ops tables and the macro that
 * defines a plugin's one exported symbol.
 *
 * A plugin source file ends with
 *
 *     ZT_PLUGIN_DEFINE(myname, ZT_KIND_EXPORTER, "1.0.0", "Apache-2.0",
 *                      "one-line description", my_config_fields, &my_ops);
 *
 * Built as a shared object this defines the only exported symbol,
 * zt_plugin_entry_v1(). Built into the agent (ZT_PLUGIN_BUILTIN defined by
 * the build) it defines zt_builtin_entry_myname() instead; the source is
 * the same.
 */
#ifndef ZEROTAP_PLUGIN_H
#define ZEROTAP_PLUGIN_H

#include <zerotap/abi.h>
#include <zerotap/host.h>
#include <zerotap/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- config */

/* Config value types (uint32_t). */
#define ZT_CFG_STRING 1u
#define ZT_CFG_INT 2u
#define ZT_CFG_DOUBLE 3u
#define ZT_CFG_BOOL 4u
#define ZT_CFG_STRING_LIST 5u
#define ZT_CFG_OBJECT 6u /* any JSON object; read with config_json */

/* Config field flags (uint32_t bit mask). */
#define ZT_CFG_F_REQUIRED 1u /* must be present; default ignored */
#define ZT_CFG_F_SECRET 2u   /* never logged or shown with its value */

/*
 * One key of a plugin's config schema. The core refuses keys the schema
 * does not declare and values of the wrong type, with file:line:column.
 * The array ends with an entry whose key is NULL. Since minor 0.
 */
struct zt_config_field {
	const char *key;
	uint32_t type;           /* ZT_CFG_* */
	uint32_t flags;          /* ZT_CFG_F_* */
	const char *default_json; /* default as JSON text ("10", "\"x\"", "[]"); NULL = none */
	const char *doc;          /* one or two sentences for --describe-plugin and docs */
	int64_t min;              /* ZT_CFG_INT bounds, inclusive; min > max = unbounded */
	int64_t max;
};

#define ZT_CFG_END { NULL, 0, 0, NULL, NULL, 0, 0 }

/* ------------------------------------------------------------ descriptor */

struct zt_plugin_desc {
	uint32_t magic;       /* ZT_PLUGIN_MAGIC */
	uint32_t struct_size; /* sizeof(struct zt_plugin_desc) as built */
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t kind;        /* ZT_KIND_* */
	const char *name;     /* unique; [a-z0-9_]{1,32} (a C identifier: ZT_PLUGIN_DEFINE pastes it) */
	const char *version;
	const char *license;
	const char *description;
	const char *origin;   /* homepage or vendor */
	const struct zt_config_field *config; /* NULL-key terminated, may be NULL */
	const struct zt_ops_header *ops;      /* the kind's ops table */
};

/* ------------------------------------------------------------- discovery */

/* Process event types (uint32_t). */
#define ZT_PROC_EXEC 1u   /* a process image was exec'd */
#define ZT_PROC_FORK 2u   /* a new process (not a thread) was created */
#define ZT_PROC_EXIT 3u   /* the last thread of a process exited */
#define ZT_PROC_OOM 4u    /* the OOM killer chose this process */

/* Kernel process lifecycle event, delivered to discovery plugins. Since minor 0. */
struct zt_process_event {
	uint32_t struct_size;
	uint32_t type;       /* ZT_PROC_* */
	uint32_t pid;        /* tgid */
	uint32_t ppid;       /* parent tgid (EXEC, FORK) */
	int32_t exit_code;   /* EXIT: wait(2)-style status (code << 8 | signal) */
	uint32_t reserved;
	uint64_t ts_ns;      /* CLOCK_MONOTONIC */
	uint64_t cgroup_id;  /* v2 cgroup id (0 when unknown) */
	struct zt_str comm;
};

/*
 * Discovery component: tells the core about processes and containers
 * (host->process_set, container_set) and exports what it learns as metrics.
 */
struct zt_discovery_ops {
	struct zt_ops_header hdr;
	/*
	 * Required, since minor 0. Called once per instance, on the dispatch
	 * thread, at start-up and again after a config change (SIGHUP) that
	 * touched this instance. May read files (/proc, cgroupfs); must not
	 * wait on other programs or the network. `host` and `inst` stay valid
	 * until fini returns; keep them in *state, which the plugin owns and
	 * the core passes back. Returns 0 or a negative errno (the instance is
	 * then listed as failed; fini is not called).
	 */
	int (*init)(const struct zt_host *host, zt_instance *inst, void **state);
	/*
	 * Required, since minor 0. Dispatch thread. Frees everything init
	 * allocated. Timers and fd watches left behind are removed by the
	 * core right after fini returns.
	 */
	void (*fini)(void *state);
	/*
	 * Optional, since minor 0. Dispatch thread, in kernel order, one call
	 * at a time per instance. `ev` and its strings are borrowed for the
	 * call. Must be cheap: it runs for every exec, fork and exit on the
	 * node.
	 */
	void (*on_process_event)(void *state, const struct zt_process_event *ev);
};

/* -------------------------------------------------------------- exporter */

/*
 * Exporter component: ships the core's metrics somewhere. The same exporter
 * plugin can run as several instances (two endpoints, say).
 */
struct zt_exporter_ops {
	struct zt_ops_header hdr;
	/*
	 * Required, since minor 0. Dispatch thread. Starts whatever the exporter
	 * needs (an HTTP server thread, a push timer). It may create threads of
	 * its own and call host->metrics_collect from them; it must never make
	 * the dispatch thread wait on a client or the network. Returns 0 or a
	 * negative errno.
	 */
	int (*init)(const struct zt_host *host, zt_instance *inst, void **state);
	/*
	 * Required, since minor 0. Dispatch thread. Stops and joins the
	 * exporter's threads, then frees its state; after it returns no
	 * thread of the plugin may call the host.
	 */
	void (*fini)(void *state);
};

/* ----------------------------------------------------------------- entry */

#define ZT_ENTRY_SYMBOL "zt_plugin_entry_v1"
typedef const struct zt_plugin_desc *(*zt_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define ZT_EXPORT __attribute__((visibility("default")))
#else
#define ZT_EXPORT
#endif

#define ZT__CAT2(a, b) a##b
#define ZT__CAT(a, b) ZT__CAT2(a, b)

#define ZT__DESC(id, kind_, version_, license_, description_, config_, ops_) \
	static const struct zt_plugin_desc ZT__CAT(zt__desc_, id) = {             \
		.magic = ZT_PLUGIN_MAGIC,                                             \
		.struct_size = sizeof(struct zt_plugin_desc),                         \
		.abi_major = ZT_ABI_MAJOR,                                            \
		.abi_minor = ZT_ABI_MINOR,                                            \
		.kind = (kind_),                                                      \
		.name = #id,                                                          \
		.version = (version_),                                                \
		.license = (license_),                                                \
		.description = (description_),                                       \
		.origin = "zerotap",                                                  \
		.config = (config_),                                                  \
		.ops = &(ops_)->hdr,                                                  \
	}

#ifdef ZT_PLUGIN_BUILTIN
#define ZT_PLUGIN_DEFINE(id, kind_, version_, license_, description_, config_, ops_) \
	ZT__DESC(id, kind_, version_, license_, description_, config_, ops_);          \
	const struct zt_plugin_desc *ZT__CAT(zt_builtin_entry_, id)(void);             \
	const struct zt_plugin_desc *ZT__CAT(zt_builtin_entry_, id)(void)              \
	{                                                                              \
		return &ZT__CAT(zt__desc_, id);                                            \
	}
#else
#define ZT_PLUGIN_DEFINE(id, kind_, version_, license_, description_, config_, ops_) \
	ZT__DESC(id, kind_, version_, license_, description_, config_, ops_);          \
	ZT_EXPORT const struct zt_plugin_desc *zt_plugin_entry_v1(void);               \
	ZT_EXPORT const struct zt_plugin_desc *zt_plugin_entry_v1(void)                \
	{                                                                              \
		return &ZT__CAT(zt__desc_, id);                                            \
	}
#endif

#ifdef __cplusplus
}
#endif
#endif
