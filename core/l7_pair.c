// SPDX-License-Identifier: Apache-2.0
#include "l7_pair.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct l7_pending {
	uint64_t id, start_ns, end_ns, size;
	uint32_t dir, pairing, used, attr_count;
	uint16_t method_len, resource_len;
	char method[L7_METHOD_MAX], resource[L7_RESOURCE_MAX];
	/* statement, then attribute keys and values: in `inl` when they fit
	 * (most requests: no malloc), else in `heap`. Never a pointer into
	 * the entry itself: the ring moves entries when it grows. */
	char *heap;
	char inl[192];
	size_t stmt_len;
	struct {
		uint32_t koff, voff;
		uint16_t klen, vlen;
	} attr[L7_ATTR_MAX];
};

struct l7_early {
	uint32_t used, dir, pairing, status;
	uint64_t id, start_ns, end_ns, size;
	uint16_t slen, elen;
	char status_label[L7_STATUS_MAX];
	char error[64];
};

static size_t cut(const struct zt_str *s, size_t max)
{
	if (!s->ptr)
		return 0;
	return s->len < max ? s->len : max;
}

/* s cut to max bytes, copied to dst (not terminated); its length */
static uint16_t put(char *dst, const struct zt_str *s, size_t max)
{
	size_t n = cut(s, max);
	if (n)
		memcpy(dst, s->ptr, n);
	return (uint16_t)n;
}

static struct zt_str str(const char *p, size_t n)
{
	return (struct zt_str){ n ? p : "", n };
}

int l7_pair_init(struct l7_pairer *p, uint32_t max_pending, uint64_t timeout_ns)
{
	memset(p, 0, sizeof(*p));
	p->max = max_pending ? max_pending : 1024;
	p->timeout_ns = timeout_ns ? timeout_ns : 30000000000ull;
	return 0;
}

void l7_pair_early_window(struct l7_pairer *p, uint64_t window_ns)
{
	p->early_window_ns = window_ns;
}

static struct l7_pending *slot(const struct l7_pairer *p, uint32_t i)
{
	return &p->q[(p->head + i) % p->cap];
}

/* Room for one more slot: the ring starts at 4 and doubles up to max, so a
 * connection pays for the requests that really wait on it. */
static int grow(struct l7_pairer *p)
{
	uint32_t cap = p->cap ? p->cap * 2 : 4;
	struct l7_pending *nq;
	if (cap > p->max)
		cap = p->max;
	if (cap <= p->cap)
		return 0;
	nq = calloc(cap, sizeof(*nq));
	if (!nq)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->len; i++)
		nq[i] = *slot(p, i);
	free(p->q);
	p->q = nq;
	p->head = 0;
	p->cap = cap;
	return 0;
}

static void release(struct l7_pending *q)
{
	free(q->heap);
	q->heap = NULL;
	q->used = 0;
}

/* Drops released slots at the head. */
static void trim(struct l7_pairer *p)
{
	while (p->len && !slot(p, 0)->used) {
		p->head = (p->head + 1) % p->cap;
		p->len--;
	}
}

void l7_pair_free(struct l7_pairer *p, struct l7_pair_stats *st)
{
	for (uint32_t i = 0; p->early && i < L7_EARLY_MAX; i++)
		if (p->early[i].used && st)
			st->unmatched_responses++;
	free(p->early);
	for (uint32_t i = 0; p->q && i < p->len; i++) {
		struct l7_pending *q = slot(p, i);
		if (q->used) {
			if (st)
				st->unanswered_at_close++;
			release(q);
		}
	}
	free(p->q);
	memset(p, 0, sizeof(*p));
}

uint32_t l7_pair_pending(const struct l7_pairer *p)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->len; i++)
		n += slot(p, i)->used ? 1 : 0;
	return n;
}

static const char *blob_of(const struct l7_pending *q)
{
	return q->heap ? q->heap : q->inl;
}

static void record_of(struct l7_record *r, const struct l7_pending *q, const struct zt_frame *resp)
{
	const char *blob = blob_of(q);
	/* all but the attribute array (1 KiB), of which attr_count are set */
	memset(r, 0, offsetof(struct l7_record, attrs));
	r->role = q->dir == ZT_DIR_EGRESS ? ZT_ROLE_CLIENT : ZT_ROLE_SERVER;
	r->id = q->id;
	r->start_ns = q->start_ns;
	r->req_size = q->size;
	r->method = str(q->method, q->method_len);
	r->resource = str(q->resource, q->resource_len);
	r->statement = str(blob, q->stmt_len);
	for (uint32_t i = 0; i < q->attr_count; i++) {
		r->attrs[r->attr_count].key = str(blob + q->attr[i].koff, q->attr[i].klen);
		r->attrs[r->attr_count++].value = str(blob + q->attr[i].voff, q->attr[i].vlen);
	}
	r->status_label = str("", 0);
	r->error = str("", 0);
	if (!resp) {
		r->status = ZT_STATUS_UNKNOWN;
		r->flags = L7_REC_TIMEOUT;
		return;
	}
	r->status = resp->status <= ZT_STATUS_FAILED ? resp->status : ZT_STATUS_UNKNOWN;
	r->end_ns = resp->end_ns ? resp->end_ns : resp->start_ns;
	r->resp_size = resp->size;
	r->status_label = str(resp->status_label.ptr, cut(&resp->status_label, L7_STATUS_MAX));
	r->error = str(resp->error.ptr, cut(&resp->error, L7_ERROR_MAX));
	for (uint32_t i = 0; resp->attrs && i < resp->attr_count && i < L7_ATTR_MAX; i++) {
		r->attrs[r->attr_count].key = str(resp->attrs[i].key.ptr, cut(&resp->attrs[i].key, L7_ATTR_KEY_MAX));
		r->attrs[r->attr_count++].value =
			str(resp->attrs[i].value.ptr, cut(&resp->attrs[i].value, L7_ATTR_VALUE_MAX));
	}
}

static void expire_one(struct l7_pairer *p, struct l7_pending *q, l7_record_fn out, void *ctx,
		       struct l7_pair_stats *st)
{
	struct l7_record r;
	record_of(&r, q, NULL);
	st->expired_requests++;
	if (out)
		out(ctx, &r);
	release(q);
	trim(p);
}

static int store(struct l7_pending *q, uint32_t dir, const struct zt_frame *f)
{
	size_t sl = cut(&f->statement, L7_STATEMENT_MAX), need = sl, off;
	uint32_t na = f->attrs ? (f->attr_count < L7_ATTR_MAX ? f->attr_count : L7_ATTR_MAX) : 0;

	char *blob;

	/* not the inline buffer: every byte of it is written before it is read */
	memset(q, 0, offsetof(struct l7_pending, inl));
	for (uint32_t i = 0; i < na; i++)
		need += cut(&f->attrs[i].key, L7_ATTR_KEY_MAX) + cut(&f->attrs[i].value, L7_ATTR_VALUE_MAX);
	blob = q->inl;
	if (need > sizeof(q->inl)) {
		q->heap = malloc(need);
		if (!q->heap)
			return -ENOMEM;
		blob = q->heap;
	}
	q->used = 1;
	q->dir = dir;
	q->pairing = f->pairing == ZT_PAIR_ID ? ZT_PAIR_ID : ZT_PAIR_FIFO;
	q->id = f->id;
	q->start_ns = f->start_ns;
	q->end_ns = f->end_ns;
	q->size = f->size;
	q->method_len = put(q->method, &f->method, L7_METHOD_MAX);
	q->resource_len = put(q->resource, &f->resource, L7_RESOURCE_MAX);
	if (sl)
		memcpy(blob, f->statement.ptr, sl);
	q->stmt_len = sl;
	off = sl;
	for (uint32_t i = 0; i < na; i++) {
		q->attr[i].koff = (uint32_t)off;
		q->attr[i].klen = put(blob + off, &f->attrs[i].key, L7_ATTR_KEY_MAX);
		off += q->attr[i].klen;
		q->attr[i].voff = (uint32_t)off;
		q->attr[i].vlen = put(blob + off, &f->attrs[i].value, L7_ATTR_VALUE_MAX);
		off += q->attr[i].vlen;
	}
	q->attr_count = na;
	return 0;
}

static void expire_early(struct l7_pairer *p, uint64_t now_ns, struct l7_pair_stats *st);

/* A response with no request waiting: kept for a moment (see l7_pair.h).
 * 1 if kept; 0 when there is no room (it is then unmatched). */
static int keep_early(struct l7_pairer *p, uint32_t dir, const struct zt_frame *f, struct l7_pair_stats *st)
{
	struct l7_early *e = NULL;
	if (!p->early_window_ns)
		return 0;
	expire_early(p, f->end_ns ? f->end_ns : f->start_ns, st); /* older ones found no request */
	if (!p->early && !(p->early = calloc(L7_EARLY_MAX, sizeof(*p->early))))
		return 0;
	for (uint32_t i = 0; i < L7_EARLY_MAX && !e; i++)
		if (!p->early[i].used)
			e = &p->early[i];
	if (!e)
		return 0;
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->dir = dir;
	e->pairing = f->pairing == ZT_PAIR_ID ? ZT_PAIR_ID : ZT_PAIR_FIFO;
	e->status = f->status;
	e->id = f->id;
	e->start_ns = f->start_ns;
	e->end_ns = f->end_ns ? f->end_ns : f->start_ns;
	e->size = f->size;
	e->slen = put(e->status_label, &f->status_label, sizeof(e->status_label));
	e->elen = put(e->error, &f->error, sizeof(e->error));
	return 1;
}

/* The request just stored (q) takes a response that came before it, if
 * one from the other direction ended at most L7_EARLY_WINDOW_NS before
 * the request's own timestamp. */
static void take_early(struct l7_pairer *p, struct l7_pending *q, l7_record_fn out, void *ctx)
{
	for (uint32_t i = 0; p->early && i < L7_EARLY_MAX; i++) {
		struct l7_early *e = &p->early[i];
		if (!e->used || e->dir == q->dir || e->pairing != q->pairing ||
		    (e->pairing == ZT_PAIR_ID && e->id != q->id) || e->end_ns + p->early_window_ns < q->start_ns)
			continue;
		struct zt_frame f = {
			.struct_size = sizeof(f), .type = ZT_FRAME_RESPONSE, .pairing = e->pairing, .id = e->id,
			.start_ns = e->start_ns, .end_ns = e->end_ns, .size = e->size, .status = e->status,
			.status_label = { e->status_label, e->slen }, .error = { e->error, e->elen },
		};
		struct l7_record r;
		record_of(&r, q, &f);
		e->used = 0;
		if (out)
			out(ctx, &r);
		release(q);
		trim(p);
		return;
	}
}

/* Early responses no request took in time are unmatched. */
static void expire_early(struct l7_pairer *p, uint64_t now_ns, struct l7_pair_stats *st)
{
	for (uint32_t i = 0; p->early && i < L7_EARLY_MAX; i++)
		if (p->early[i].used && p->early[i].end_ns + p->early_window_ns < now_ns) {
			p->early[i].used = 0;
			st->unmatched_responses++;
		}
}

int l7_pair_frame(struct l7_pairer *p, uint32_t dir, const struct zt_frame *f, l7_record_fn out, void *ctx,
		  struct l7_pair_stats *st)
{
	struct l7_record r;
	int rc = 0;

	if (!f || f->struct_size < offsetof(struct zt_frame, flags) ||
	    (f->type != ZT_FRAME_REQUEST && f->type != ZT_FRAME_RESPONSE && f->type != ZT_FRAME_ONEWAY &&
	     f->type != ZT_FRAME_EVENT)) {
		st->bad_frames++;
		return -EINVAL;
	}
	if (f->type == ZT_FRAME_EVENT)
		return 0;
	if (f->type == ZT_FRAME_ONEWAY) {
		struct l7_pending q;
		if (store(&q, dir, f))
			return -ENOMEM;
		record_of(&r, &q, NULL);
		r.flags = L7_REC_ONEWAY;
		r.status = f->status <= ZT_STATUS_FAILED ? f->status : ZT_STATUS_UNKNOWN;
		r.status_label = str(f->status_label.ptr, cut(&f->status_label, L7_STATUS_MAX));
		st->requests++;
		if (out)
			out(ctx, &r);
		release(&q);
		return 0;
	}
	if (f->type == ZT_FRAME_REQUEST) {
		/* Answered requests leave holes behind an older one still
		 * waiting; only max_pending waiting requests make it full. */
		if (p->len == p->max && l7_pair_pending(p) == p->max) { /* full: the oldest gives way */
			for (uint32_t i = 0; i < p->len; i++)
				if (slot(p, i)->used) {
					expire_one(p, slot(p, i), out, ctx, st);
					break;
				}
			trim(p);
			rc = -ENOSPC;
		}
		if (p->len == p->cap && grow(p))
			return -ENOMEM;
		if (p->len == p->cap) { /* at max, room only in holes: compact */
			struct l7_pending *nq = calloc(p->cap, sizeof(*nq));
			uint32_t n = 0;
			if (!nq)
				return -ENOMEM;
			for (uint32_t i = 0; i < p->len; i++)
				if (slot(p, i)->used)
					nq[n++] = *slot(p, i);
			free(p->q);
			p->q = nq;
			p->head = 0;
			p->len = n;
		}
		if (store(slot(p, p->len), dir, f))
			return -ENOMEM;
		p->len++;
		st->requests++;
		take_early(p, slot(p, p->len - 1), out, ctx);
		return rc;
	}
	/* response */
	if (f->flags & ZT_FRAME_F_PEER_DIR) /* found while parsing the request's direction */
		dir ^= 1;
	st->responses++;
	for (uint32_t i = 0; i < p->len; i++) {
		struct l7_pending *q = slot(p, i);
		if (!q->used || q->dir == dir)
			continue;
		if (f->pairing == ZT_PAIR_ID) {
			if (q->pairing != ZT_PAIR_ID || q->id != f->id)
				continue;
		} else if (q->pairing == ZT_PAIR_ID) {
			continue;
		}
		record_of(&r, q, f);
		if (out)
			out(ctx, &r);
		release(q);
		trim(p);
		return 0;
	}
	if (!keep_early(p, dir, f, st))
		st->unmatched_responses++;
	return 0;
}

void l7_pair_expire(struct l7_pairer *p, uint64_t now_ns, l7_record_fn out, void *ctx, struct l7_pair_stats *st)
{
	expire_early(p, now_ns, st);
	for (uint32_t i = 0; i < p->len; i++) {
		struct l7_pending *q = slot(p, i);
		if (q->used && q->start_ns + p->timeout_ns <= now_ns) {
			struct l7_record r;
			record_of(&r, q, NULL);
			st->expired_requests++;
			if (out)
				out(ctx, &r);
			release(q);
		}
	}
	trim(p);
}
