// SPDX-License-Identifier: Apache-2.0
#include "spanq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct spanq {
	struct span *v;
	size_t cap, head, len;
	uint64_t dropped;
};

struct spanq *spanq_new(size_t capacity)
{
	struct spanq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->cap = capacity ? capacity : 1;
	q->v = calloc(q->cap, sizeof(*q->v));
	if (!q->v) {
		free(q);
		return NULL;
	}
	return q;
}

void spanq_free(struct spanq *q)
{
	if (!q)
		return;
	free(q->v);
	free(q);
}

static void cp(char *dst, size_t cap, const char *p, size_t n)
{
	if (n > cap - 1)
		n = cap - 1;
	if (n)
		memcpy(dst, p, n);
	dst[n] = 0;
}

void spanq_push(struct spanq *q, const char *protocol, const char *container_id, const char *destination,
		const struct l7_record *r)
{
	struct span *s;
	if (!q)
		return;
	/* full: the new record gives way (as OpenTelemetry's batch processor
	 * does), which costs nothing while no exporter drains the queue */
	if (q->len == q->cap) {
		q->dropped++;
		return;
	}
	s = &q->v[(q->head + q->len) % q->cap];
	q->len++;
	cp(s->protocol, sizeof(s->protocol), protocol, strnlen(protocol, sizeof(s->protocol)));
	cp(s->container_id, sizeof(s->container_id), container_id, strnlen(container_id, sizeof(s->container_id)));
	cp(s->destination, sizeof(s->destination), destination, strnlen(destination, sizeof(s->destination)));
	s->role = r->role;
	s->status = r->status;
	s->flags = r->flags;
	s->start_ns = r->start_ns;
	s->end_ns = r->end_ns;
	s->request_size = r->req_size;
	s->response_size = r->resp_size;
	cp(s->method, sizeof(s->method), r->method.ptr, r->method.len);
	cp(s->resource, sizeof(s->resource), r->resource.ptr, r->resource.len);
	cp(s->status_label, sizeof(s->status_label), r->status_label.ptr, r->status_label.len);
	cp(s->statement, sizeof(s->statement), r->statement.ptr, r->statement.len);
	cp(s->error, sizeof(s->error), r->error.ptr, r->error.len);
}

int spanq_pop(struct spanq *q, struct span *out)
{
	if (!q || !q->len)
		return -ENOENT;
	*out = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return 0;
}

size_t spanq_length(const struct spanq *q)
{
	return q ? q->len : 0;
}

uint64_t spanq_dropped(const struct spanq *q)
{
	return q ? q->dropped : 0;
}
