/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metric registry: families of counters, gauges and histograms with
 * label sets, a per-family cardinality cap with an overflow series, and a
 * consistent snapshot for exporters. Thread-safe (one mutex); updates are
 * O(labels) and a snapshot is a flat copy, so exporters never hold the
 * lock while they format.
 */
#ifndef ZT_CORE_REGISTRY_H
#define ZT_CORE_REGISTRY_H

#include <zerotap/host.h>

struct registry;

int registry_new(uint32_t default_max_series, struct registry **out);
void registry_free(struct registry *r);
void registry_set_default_max_series(struct registry *r, uint32_t max);
/* Labels prepended to every series of every snapshot (machine_id, ...). Copied. */
int registry_set_const_labels(struct registry *r, const char *const *names, const char *const *values, uint32_t n);

/* Same semantics as zt_host.metric_register. */
int registry_register(struct registry *r, const struct zt_metric_desc *d, zt_metric **out);
zt_metric *registry_find(struct registry *r, const char *name);
void registry_add(zt_metric *m, const struct zt_str *values, double delta);
void registry_set(zt_metric *m, const struct zt_str *values, double value);
void registry_observe(zt_metric *m, const struct zt_str *values, double value);
void registry_remove(zt_metric *m, const struct zt_str *values);
void registry_remove_matching(struct registry *r, struct zt_str label, struct zt_str value);
/* Every series of the family is dropped (a plugin restarted with other labels, say). */
void registry_clear(zt_metric *m);

/*
 * Cached series, for callers that update the same label set again and
 * again (a connection's request counter): the first update looks the
 * series up by its values, later ones reuse it while no series of the
 * family was removed since. The caller keeps one ref per label set and
 * zeroes it (or uses another) when its values change; values are read
 * only on a miss. A zeroed ref is valid input.
 */
struct registry_ref {
	const zt_metric *m;
	void *series;
	uint64_t gen;
};
void registry_add_ref(zt_metric *m, struct registry_ref *ref, const struct zt_str *values, double delta);
void registry_observe_ref(zt_metric *m, struct registry_ref *ref, const struct zt_str *values, double value);
void registry_set_ref(zt_metric *m, struct registry_ref *ref, const struct zt_str *values, double value);

/* Walk a snapshot. Returns the first non-zero visitor result, or 0. */
int registry_collect(struct registry *r, const struct zt_collect_visitor *v, void *ctx);

/* Introspection for tests and self-metrics. */
size_t registry_series_count(zt_metric *m);
uint64_t registry_overflowed(zt_metric *m);
int registry_get(zt_metric *m, const struct zt_str *values, double *value, uint64_t *count);

/* Convenience: label values from C strings. */
#define ZT_LV(...) ((const struct zt_str[]){ __VA_ARGS__ })



/* Calls cb for every family that has sent updates to its overflow series. */
void registry_foreach_overflowed(struct registry *r, void (*cb)(void *ctx, const char *family, uint64_t n), void *ctx);
#endif
