/* SPDX-License-Identifier: Apache-2.0 */
/* Between the parts of the mock host; not for tests. */
#ifndef ZT_TESTS_MOCK_INTERNAL_H
#define ZT_TESTS_MOCK_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#include "mock_host.h"

/* Grows *arr (of elem-size items, *n used) by one zeroed slot. */
static inline void *mock__grow_one(void *arr_p, size_t *n, size_t elem)
{
	void **arr = arr_p;
	char *p = realloc(*arr, (*n + 1) * elem);

	if (!p)
		return NULL;
	memset(p + *n * elem, 0, elem);
	*arr = p;
	return p + (*n)++ * elem;
}

static inline void mock__drop_one(void *arr, size_t *n, size_t elem, size_t i)
{
	char *p = arr;

	memmove(p + i * elem, p + (i + 1) * elem, (*n - i - 1) * elem);
	(*n)--;
}

/* mock_host.c */
int mock__frame_emit(struct zt_conn *conn, const struct zt_frame *f);
void mock__proto_reset(void);
void mock__log(zt_instance *inst, uint32_t level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* mock_config.c: instances and the config accessors. */
int mock__config_string(zt_instance *inst, const char *key, struct zt_str *out);
int mock__config_int(zt_instance *inst, const char *key, int64_t *out);
int mock__config_double(zt_instance *inst, const char *key, double *out);
int mock__config_bool(zt_instance *inst, const char *key, uint32_t *out);
int mock__config_list_string(zt_instance *inst, const char *key, size_t index, struct zt_str *out);
int mock__config_json(zt_instance *inst, const char *key, struct zt_str *out);
void mock__config_reset(void);

/* mock_loop.c: timers, fd watches, entity tables, call counters. */
int mock__timer_add(zt_instance *inst, uint64_t interval_ns, zt_timer_cb cb, void *arg, uint64_t *id);
void mock__timer_cancel(zt_instance *inst, uint64_t id);
int mock__fd_watch(zt_instance *inst, int fd, uint32_t events, zt_fd_cb cb, void *arg);
void mock__fd_unwatch(zt_instance *inst, int fd);
int mock__process_set(zt_instance *inst, const struct zt_process_info *p);
void mock__process_remove(zt_instance *inst, uint32_t pid);
int mock__process_container(uint32_t pid, char *buf, size_t buflen);
int mock__container_set(zt_instance *inst, const struct zt_container_info *c);
void mock__container_remove(zt_instance *inst, struct zt_str container_id);
/* What the core does when an instance stops: its timers and watches go. */
void mock__drop_instance_hooks(zt_instance *inst);
void mock__count_collect(void);
void mock__loop_reset(void);

/* mock_metrics.c: the registry behind the metric calls. */
int mock__metric_register(zt_instance *inst, const struct zt_metric_desc *desc, zt_metric **out);
void mock__metric_add(zt_metric *m, const struct zt_str *values, double delta);
void mock__metric_set(zt_metric *m, const struct zt_str *values, double value);
void mock__metric_observe(zt_metric *m, const struct zt_str *values, double value);
void mock__metric_remove(zt_metric *m, const struct zt_str *values);
void mock__metric_remove_matching(struct zt_str label, struct zt_str value);
int mock__metrics_collect(const struct zt_collect_visitor *v, void *ctx);
void mock__metrics_reset(void);

#endif
