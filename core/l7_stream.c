// SPDX-License-Identifier: Apache-2.0
#include "l7_stream.h"

#include <stdlib.h>
#include <string.h>

void l7_stream_init(struct l7_stream *s)
{
	memset(s, 0, sizeof(*s));
}

void l7_stream_free(struct l7_stream *s)
{
	for (int i = 0; i < 2; i++)
		free(s->d[i].buf);
	memset(s, 0, sizeof(*s));
}

static void lose(struct l7_dir *d, uint64_t n, struct l7_stream_stats *st)
{
	if (!n)
		return;
	d->gap_pending = 1;
	d->gap += n;
	st->lost_bytes += n;
}

static void drop_kept(struct l7_dir *d, struct l7_stream_stats *st)
{
	lose(d, d->len, st);
	d->len = 0;
}

/* Keeps n bytes at stream offset off (first delivered at ts) for the next call. */
static int keep(struct l7_dir *d, const uint8_t *p, size_t n, uint64_t off, uint64_t ts, struct l7_stream_stats *st)
{
	if (n > L7_STREAM_KEEP_MAX) {
		st->keep_overflows++;
		lose(d, n, st);
		d->len = 0;
		return -1;
	}
	if (d->cap < n) { /* p is never inside d->buf here: n <= d->len <= d->cap otherwise */
		size_t cap = d->cap ? d->cap : 512;
		while (cap < n)
			cap *= 2;
		uint8_t *b = malloc(cap);
		if (!b) {
			lose(d, n, st);
			d->len = 0;
			return -1;
		}
		memcpy(b, p, n);
		free(d->buf);
		d->buf = b;
		d->cap = cap;
	} else if (p != d->buf) {
		memmove(d->buf, p, n);
	}
	d->len = n;
	d->buf_off = off;
	d->buf_ts = ts;
	return 0;
}

uint32_t l7_stream_feed(struct l7_stream *s, const struct l7_msg *m, l7_parse_fn parse, void *ctx,
			struct l7_stream_stats *st)
{
	struct l7_dir *d = &s->d[m->dir & 1];
	uint64_t end = m->offset + m->len, cap_end = m->offset + (m->cap_len < m->len ? m->cap_len : m->len);
	uint64_t start = m->offset;

	if (!d->started || (m->flags & L7_MSG_RESET) || m->offset < d->seen) {
		/* First message we see, or the offsets restarted: whatever came
		 * before is unknown to the parser. */
		if (d->started || m->offset)
			d->gap_pending = 1;
		d->len = 0;
		d->seen = d->skip_to = m->offset;
		d->started = 1;
	}
	if (m->offset > d->seen) { /* messages lost on the way (ring full) */
		uint64_t lost = m->offset - d->seen;
		if (d->skip_to > d->seen) /* ... unless they were to be skipped anyway */
			lost -= (d->skip_to < m->offset ? d->skip_to : m->offset) - d->seen;
		if (lost)
			drop_kept(d, st);
		lose(d, lost, st);
	}
	d->seen = end;

	if (d->skip_to > start) {
		if (d->skip_to >= end)
			return ZT_PARSE_OK;
		start = d->skip_to;
	}
	if (start >= cap_end) { /* what is left of the message was not captured */
		drop_kept(d, st);
		lose(d, end - start, st);
		d->skip_to = end;
		return ZT_PARSE_OK;
	}

	const uint8_t *data = m->data + (start - m->offset);
	size_t n = (size_t)(cap_end - start);
	uint64_t tail = end - cap_end; /* bytes of this message the kernel did not copy */
	const uint8_t *p;
	size_t plen;
	uint64_t poff, first_ts;

	if (d->len && (d->gap_pending || d->buf_off + d->len != start))
		drop_kept(d, st);
	if (d->len) {
		if (d->len + n > L7_STREAM_KEEP_MAX) {
			st->keep_overflows++;
			drop_kept(d, st);
			goto direct;
		}
		if (d->cap < d->len + n) {
			size_t cap = d->cap;
			while (cap < d->len + n)
				cap *= 2;
			uint8_t *b = realloc(d->buf, cap);
			if (!b) {
				drop_kept(d, st);
				goto direct;
			}
			d->buf = b;
			d->cap = cap;
		}
		memcpy(d->buf + d->len, data, n);
		d->len += n;
		p = d->buf;
		plen = d->len;
		poff = d->buf_off;
		first_ts = d->buf_ts;
	} else {
	direct:
		p = data;
		plen = n;
		poff = start;
		first_ts = m->ts_ns;
	}

	for (;;) {
		struct zt_chunk c = {
			.struct_size = sizeof(c),
			.direction = m->dir,
			.flags = (d->gap_pending ? ZT_CHUNK_GAP : 0) | (poff == m->offset ? ZT_CHUNK_MSG_START : 0),
			.first_ts_ns = first_ts,
			.ts_ns = m->ts_ns,
			.offset = poff,
			.gap = d->gap_pending ? d->gap : 0,
			.data = p,
			.len = plen,
			.avail = plen + tail,
			.peer_family = m->peer_family,
			.peer_port = m->peer_port,
		};
		uint64_t consumed = 0;
		memcpy(c.peer_addr, m->peer_addr, 16);
		if (d->gap_pending)
			st->resyncs++;
		d->gap_pending = 0;
		d->gap = 0;
		st->parse_calls++;
		uint32_t r = parse(ctx, &c, &consumed);

		if (r == ZT_PARSE_IGNORED || r == ZT_PARSE_END_OF_STREAM) {
			d->len = 0;
			return r;
		}
		if (r == ZT_PARSE_INVALID) {
			st->parse_errors++;
			d->len = 0;
			lose(d, plen + tail, st);
			d->skip_to = end;
			return ZT_PARSE_OK;
		}
		if (consumed > plen) { /* skip: a body of known length, captured or not */
			d->len = 0;
			d->skip_to = poff + consumed;
			if (d->skip_to < end) { /* the skip ends inside bytes not captured */
				lose(d, end - d->skip_to, st);
				d->skip_to = end;
			}
			return ZT_PARSE_OK;
		}
		if (consumed) {
			p += consumed;
			plen -= (size_t)consumed;
			poff += consumed;
			if (poff >= start) /* what is left came with this message */
				first_ts = m->ts_ns;
		}
		if (r != ZT_PARSE_OK || !consumed || !plen)
			break;
	}
	if (plen && tail) {
		/* The parser wants what follows, but the kernel did not copy it. */
		d->len = 0;
		lose(d, plen + tail, st);
	} else if (plen) {
		keep(d, p, plen, poff, first_ts, st);
	} else {
		d->len = 0;
		lose(d, tail, st);
	}
	d->skip_to = end;
	return ZT_PARSE_OK;
}
