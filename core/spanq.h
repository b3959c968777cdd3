/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The span queue: records from the L7 pipeline, copied, waiting for the
 * span exporters (OTLP, to come). Bounded: when full, a new record is
 * counted as dropped and not copied, so capture never waits on export and
 * an undrained queue costs one comparison per record.
 */
#ifndef ZT_CORE_SPANQ_H
#define ZT_CORE_SPANQ_H

#include <stddef.h>
#include <stdint.h>

#include "l7_pair.h"

struct span {
	char protocol[40];
	char container_id[256];
	char destination[64];
	uint32_t role, status, flags;
	uint64_t start_ns, end_ns, request_size, response_size;
	char method[L7_METHOD_MAX + 1];
	char resource[L7_RESOURCE_MAX + 1];
	char status_label[L7_STATUS_MAX + 1];
	char statement[256];
	char error[128];
};

struct spanq;

struct spanq *spanq_new(size_t capacity);
void spanq_free(struct spanq *q);
void spanq_push(struct spanq *q, const char *protocol, const char *container_id, const char *destination,
		const struct l7_record *r);
/* Takes the oldest span; 0, or -ENOENT when empty. */
int spanq_pop(struct spanq *q, struct span *out);
size_t spanq_length(const struct spanq *q);
uint64_t spanq_dropped(const struct spanq *q);

#endif
