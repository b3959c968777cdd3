/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host API table: everything a plugin may ask of the core.
 *
 * A plugin links nothing from the core. It receives a pointer to this table
 * in its init callback and calls through it. The table starts with its own
 * size: before calling a function added after minor 0, test it with
 * ZT_HOST_HAS(host, member). Functions are only appended.
 *
 * Threading: unless a function says otherwise it may be called from any
 * callback on any thread. Metric updates are internally locked.
 */
#ifndef ZEROTAP_HOST_H
#define ZEROTAP_HOST_H

#include <zerotap/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handle of one configured plugin instance. */
typedef struct zt_instance zt_instance;
/* Opaque handle of one registered metric family. */
typedef struct zt_metric zt_metric;
/* Protocol plugins: see zerotap/protocol.h. */
struct zt_conn;
struct zt_frame;

/* Metric types (uint32_t). */
#define ZT_METRIC_COUNTER 1u
#define ZT_METRIC_GAUGE 2u
#define ZT_METRIC_HISTOGRAM 3u

/* Description of a metric family. Since minor 0. */
struct zt_metric_desc {
	uint32_t struct_size;
	uint32_t type;               /* ZT_METRIC_* */
	const char *name;            /* Prometheus family name (NUL-terminated) */
	const char *help;            /* one line */
	const char *const *labels;   /* label names, label_count of them */
	uint32_t label_count;
	uint32_t max_series;         /* cardinality cap; 0 = the core's default */
	const double *buckets;       /* histogram upper bounds, ascending; NULL = Prometheus defaults */
	uint32_t bucket_count;
	uint32_t reserved;
};

/* One series of a snapshot, as handed to an exporter. Since minor 0. */
struct zt_series_view {
	uint32_t struct_size;
	uint32_t label_count;
	const struct zt_str *label_names;  /* includes the node's constant labels */
	const struct zt_str *label_values;
	double value;                      /* counter / gauge value */
	/* histograms: */
	uint32_t bucket_count;             /* finite buckets; +Inf is `count` */
	uint32_t reserved;
	const double *bucket_bounds;
	const uint64_t *bucket_cumulative; /* cumulative counts per bound */
	double sum;
	uint64_t count;
};

/* One family of a snapshot. Since minor 0. */
struct zt_family_view {
	uint32_t struct_size;
	uint32_t type; /* ZT_METRIC_* */
	struct zt_str name;
	struct zt_str help;
	uint32_t series_count;
	uint32_t reserved;
};

/*
 * Visitor over a consistent snapshot of the registry. The core copies the
 * registry under its lock, releases the lock and then calls the visitor, so
 * a slow exporter never blocks capture. All pointers are valid only during
 * the callback. A callback returning non-zero stops the walk.
 */
struct zt_collect_visitor {
	uint32_t struct_size;
	uint32_t reserved;
	int (*family)(void *ctx, const struct zt_family_view *f);
	int (*series)(void *ctx, const struct zt_family_view *f, const struct zt_series_view *s);
};

/* What a discovery plugin tells the core about a process. Since minor 0. */
struct zt_process_info {
	uint32_t struct_size;
	uint32_t pid;          /* tgid */
	uint32_t ppid;
	uint32_t reserved;
	struct zt_str comm;
	struct zt_str container_id; /* METRICS.md format, e.g. /podman/web */
	struct zt_str app_id;
};

/* What a discovery plugin tells the core about a container. Since minor 0. */
struct zt_container_info {
	uint32_t struct_size;
	uint32_t reserved;
	struct zt_str container_id;
	struct zt_str name;
	struct zt_str image;
	struct zt_str runtime; /* docker, containerd, crio, podman, systemd, cgroup */
};

/* fd watch events (uint32_t bit mask). */
#define ZT_FD_READ 1u
#define ZT_FD_WRITE 4u

typedef void (*zt_timer_cb)(void *arg);
typedef void (*zt_fd_cb)(void *arg, int fd, uint32_t events);

struct zt_host {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;

	/* ---- since minor 0 ---- */

	/* Logging with the instance name prefixed. Any thread. */
	void (*log)(zt_instance *inst, uint32_t level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds. */
	uint64_t (*now_ns)(void);
	uint64_t (*wall_ns)(void);

	/*
	 * Typed config accessors. The core validated the instance's config
	 * against the plugin's schema, so a declared key always has a value
	 * (its default when absent). Return 0, -ENOENT for an undeclared key,
	 * -EINVAL for a type mismatch. Strings are borrowed until the
	 * instance's fini callback returns.
	 */
	int (*config_string)(zt_instance *inst, const char *key, struct zt_str *out);
	int (*config_int)(zt_instance *inst, const char *key, int64_t *out);
	int (*config_double)(zt_instance *inst, const char *key, double *out);
	int (*config_bool)(zt_instance *inst, const char *key, uint32_t *out);
	/* ZT_CFG_STRING_LIST: element `index`; -ERANGE past the end. */
	int (*config_list_string)(zt_instance *inst, const char *key, size_t index, struct zt_str *out);
	/* ZT_CFG_OBJECT and any other key: its value serialized as compact JSON. */
	int (*config_json)(zt_instance *inst, const char *key, struct zt_str *out);

	/*
	 * Metric registry. Registering a family that exists with the same
	 * type and labels returns it (so a restarted plugin keeps its
	 * counters); another definition under the same name is -EEXIST.
	 * Label values are copied. A series beyond the family's cap goes into
	 * the family's overflow series (every label "~overflow").
	 */
	int (*metric_register)(zt_instance *inst, const struct zt_metric_desc *desc, zt_metric **out);
	void (*metric_add)(zt_metric *m, const struct zt_str *values, double delta);
	void (*metric_set)(zt_metric *m, const struct zt_str *values, double value);
	void (*metric_observe)(zt_metric *m, const struct zt_str *values, double value);
	/* Drop one series. */
	void (*metric_remove)(zt_metric *m, const struct zt_str *values);
	/* Drop every series, in every family, whose label `label` equals `value`. */
	void (*metric_remove_matching)(struct zt_str label, struct zt_str value);
	/* Walk a consistent snapshot of every family. Exporter threads. */
	int (*metrics_collect)(const struct zt_collect_visitor *v, void *ctx);

	/*
	 * Event loop. Callbacks run on the core's dispatch thread and must
	 * not block. Timers and watches are removed automatically when the
	 * instance stops.
	 */
	int (*timer_add)(zt_instance *inst, uint64_t interval_ns, zt_timer_cb cb, void *arg, uint64_t *id);
	void (*timer_cancel)(zt_instance *inst, uint64_t id);
	int (*fd_watch)(zt_instance *inst, int fd, uint32_t events, zt_fd_cb cb, void *arg);
	void (*fd_unwatch)(zt_instance *inst, int fd);

	/* Entity table (the core merges what every discovery plugin says). */
	int (*process_set)(zt_instance *inst, const struct zt_process_info *p);
	void (*process_remove)(zt_instance *inst, uint32_t pid);
	/* Copies the process's container id into buf; returns its length or -ENOENT. */
	int (*process_container)(uint32_t pid, char *buf, size_t buflen);
	int (*container_set)(zt_instance *inst, const struct zt_container_info *c);
	void (*container_remove)(zt_instance *inst, struct zt_str container_id);

	/* The node's identity (machine_id, system_uuid, hostname, az, region). */
	int (*node_label)(const char *name, struct zt_str *out);

	/* ---- since minor 1 ---- */

	/*
	 * Protocol plugins (zerotap/protocol.h): a frame found on `conn`
	 * (struct zt_conn, the handle conn_open received). Dispatch thread,
	 * from within parse() of that connection. Copies the frame and its
	 * strings. Returns 0, -EINVAL for a malformed frame (counted, logged
	 * once) or -ENOSPC when the connection has too many unanswered
	 * requests (the oldest one expired to make room).
	 */
	int (*frame_emit)(struct zt_conn *conn, const struct zt_frame *f);
};

#define ZT_HOST_HAS(host, member)                                             \
	((host)->struct_size >= offsetof(struct zt_host, member) + sizeof((host)->member) && \
	 (host)->member != NULL)

#ifdef __cplusplus
}
#endif
#endif
