// SPDX-License-Identifier: Apache-2.0
/* mock_host: protocol plugins, through the core's stream/pairing/rules code. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l7_pair.h"
#include "l7_rules.h"
#include "l7_stream.h"
#include "mock_host.h"
#include "mock_internal.h"

struct zt_conn { /* the handle plugins get */
	struct mock_conn *mc;
};

struct mock_conn {
	struct zt_conn handle;
	struct mock_plugin *p;
	const struct zt_protocol_ops *ops;
	struct zt_conn_info ci;
	void *cs;
	struct l7_stream stream;
	struct l7_pairer pair;
	struct l7_stream_stats sst;
	struct l7_pair_stats pst;
	uint64_t off[2];
	uint32_t cur_dir;
	uint32_t stopped;
};

static struct mock_frame *frames;
static size_t nframes, capframes;
static struct mock_record *records;
static size_t nrecords, caprecords;
static uint64_t next_conn_id = 1;

static void cpy(char *dst, size_t cap, struct zt_str s)
{
	size_t n = s.ptr ? (s.len < cap - 1 ? s.len : cap - 1) : 0;
	if (n)
		memcpy(dst, s.ptr, n);
	dst[n] = 0;
}

void mock__proto_reset(void)
{
	free(frames);
	free(records);
	frames = NULL;
	records = NULL;
	nframes = capframes = nrecords = caprecords = 0;
}

void mock_frames_clear(void)
{
	mock__proto_reset();
}

static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return arr;
	size_t c = *cap ? *cap * 2 : 64;
	void *a = realloc(arr, c * elem);
	if (!a) {
		fprintf(stderr, "mock_proto: out of memory\n");
		abort();
	}
	*cap = c;
	return a;
}

static void on_record(void *ctx, const struct l7_record *r)
{
	struct mock_conn *c = ctx;
	if (c->ops->on_record) {
		struct zt_record zr = {
			.struct_size = sizeof(zr),
			.role = r->role,
			.status = r->status,
			.flags = r->flags,
			.id = r->id,
			.start_ns = r->start_ns,
			.end_ns = r->end_ns,
			.request_size = r->req_size,
			.response_size = r->resp_size,
			.method = r->method,
			.resource = r->resource,
			.statement = r->statement,
			.status_label = r->status_label,
			.error = r->error,
			.attrs = r->attrs,
			.attr_count = r->attr_count,
		};
		c->ops->on_record(c->p->state, c->cs, &zr);
	}
	records = grow(records, &caprecords, nrecords, sizeof(*records));
	struct mock_record *m = &records[nrecords++];
	memset(m, 0, sizeof(*m));
	m->conn_id = c->ci.conn_id;
	m->role = r->role;
	m->status = r->status;
	m->flags = r->flags;
	m->id = r->id;
	m->start_ns = r->start_ns;
	m->end_ns = r->end_ns;
	m->req_size = r->req_size;
	m->resp_size = r->resp_size;
	cpy(m->method, sizeof(m->method), r->method);
	cpy(m->resource, sizeof(m->resource), r->resource);
	cpy(m->statement, sizeof(m->statement), r->statement);
	cpy(m->status_label, sizeof(m->status_label), r->status_label);
	cpy(m->error, sizeof(m->error), r->error);
	for (uint32_t i = 0; i < r->attr_count && i < 32; i++) {
		cpy(m->attr_key[i], sizeof(m->attr_key[i]), r->attrs[i].key);
		cpy(m->attr_value[i], sizeof(m->attr_value[i]), r->attrs[i].value);
		m->attr_count++;
	}
}

int mock__frame_emit(struct zt_conn *conn, const struct zt_frame *fin)
{
	struct zt_frame f = { 0 };
	if (!conn || !fin || fin->struct_size < offsetof(struct zt_frame, attrs)) {
		mock__log(NULL, ZT_LOG_ERROR, "frame_emit: bad frame");
		return -EINVAL;
	}
	memcpy(&f, fin, fin->struct_size < sizeof(f) ? fin->struct_size : sizeof(f));
	struct mock_conn *c = conn->mc;
	frames = grow(frames, &capframes, nframes, sizeof(*frames));
	struct mock_frame *m = &frames[nframes++];
	memset(m, 0, sizeof(*m));
	m->conn_id = c->ci.conn_id;
	m->dir = c->cur_dir;
	m->type = f.type;
	m->pairing = f.pairing;
	m->status = f.status;
	m->id = f.id;
	m->start_ns = f.start_ns;
	m->end_ns = f.end_ns;
	m->size = f.size;
	cpy(m->method, sizeof(m->method), f.method);
	cpy(m->resource, sizeof(m->resource), f.resource);
	cpy(m->statement, sizeof(m->statement), f.statement);
	cpy(m->status_label, sizeof(m->status_label), f.status_label);
	cpy(m->error, sizeof(m->error), f.error);
	for (uint32_t i = 0; f.attrs && i < f.attr_count && i < 16; i++) {
		cpy(m->attr_key[i], sizeof(m->attr_key[i]), f.attrs[i].key);
		cpy(m->attr_value[i], sizeof(m->attr_value[i]), f.attrs[i].value);
		m->attr_count++;
	}
	return l7_pair_frame(&c->pair, c->cur_dir, &f, on_record, c, &c->pst);
}

size_t mock_frame_count(void)
{
	return nframes;
}

const struct mock_frame *mock_frame_get(size_t i)
{
	return i < nframes ? &frames[i] : NULL;
}

size_t mock_record_count(void)
{
	return nrecords;
}

const struct mock_record *mock_record_get(size_t i)
{
	return i < nrecords ? &records[i] : NULL;
}

const char *mock_record_attr(const struct mock_record *r, const char *key)
{
	for (uint32_t i = 0; r && i < r->attr_count; i++)
		if (!strcmp(r->attr_key[i], key))
			return r->attr_value[i];
	return NULL;
}

struct zt_conn_info mock_conn_info(uint32_t role, uint16_t port)
{
	struct zt_conn_info ci = {
		.struct_size = sizeof(ci),
		.transport = ZT_TRANSPORT_TCP,
		.role = role,
		.pid = 4242,
		.family = 4,
		.container_id = ZT_STR("/mock"),
		.app_id = ZT_STR("/mock"),
	};
	static const uint8_t a[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
	static const uint8_t b[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2 };
	if (role == ZT_ROLE_SERVER) {
		memcpy(ci.local_addr, b, 16);
		memcpy(ci.remote_addr, a, 16);
		ci.local_port = port;
		ci.remote_port = 40000;
	} else {
		memcpy(ci.local_addr, a, 16);
		memcpy(ci.remote_addr, b, 16);
		ci.local_port = 40000;
		ci.remote_port = port;
	}
	return ci;
}

int mock_conn_open(struct mock_plugin *p, const struct zt_conn_info *ci, struct mock_conn **out)
{
	const struct zt_protocol_ops *ops = mock_plugin_protocol_ops(p);
	struct mock_conn *c;
	int err;

	if (!ops)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->handle.mc = c;
	c->p = p;
	c->ops = ops;
	c->ci = ci ? *ci : mock_conn_info(ZT_ROLE_CLIENT, 80);
	c->ci.conn_id = next_conn_id++;
	l7_stream_init(&c->stream);
	l7_pair_init(&c->pair, ops->max_pending, ops->request_timeout_ns);
	err = ops->conn_open(p->state, &c->ci, &c->handle, &c->cs);
	if (err) {
		l7_pair_free(&c->pair, NULL);
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

static uint32_t parse_cb(void *ctx, const struct zt_chunk *ch, uint64_t *consumed)
{
	struct mock_conn *c = ctx;
	return c->ops->parse(c->p->state, c->cs, &c->handle, ch, consumed);
}

static uint32_t feed(struct mock_conn *c, uint32_t dir, const void *data, size_t len, size_t capture,
		     uint16_t peer_family, uint16_t peer_port, const uint8_t *peer_addr, uint64_t ts_ns)
{
	struct l7_msg m = { 0 };
	uint32_t r;

	dir &= 1;
	if (c->stopped)
		return c->stopped;
	if (!capture)
		capture = l7_capture_bytes(c->ops->capture_bytes);
	m.dir = dir;
	m.offset = c->off[dir];
	m.len = len;
	m.data = data;
	m.cap_len = len < capture ? len : capture;
	m.ts_ns = ts_ns;
	m.peer_family = peer_family;
	m.peer_port = peer_port;
	if (peer_addr)
		memcpy(m.peer_addr, peer_addr, 16);
	c->off[dir] += len;
	c->cur_dir = dir;
	r = l7_stream_feed(&c->stream, &m, parse_cb, c, &c->sst);
	if (r != ZT_PARSE_OK)
		c->stopped = r;
	return r;
}

uint32_t mock_conn_message_cap(struct mock_conn *c, uint32_t dir, const void *data, size_t len, size_t capture,
			       uint64_t ts_ns)
{
	return feed(c, dir, data, len, capture, 0, 0, NULL, ts_ns);
}

uint32_t mock_conn_datagram(struct mock_conn *c, uint32_t dir, const void *data, size_t len, size_t capture,
			    uint16_t peer_family, uint16_t peer_port, const uint8_t peer_addr[16], uint64_t ts_ns)
{
	return feed(c, dir, data, len, capture, peer_family, peer_port, peer_addr, ts_ns);
}

uint32_t mock_conn_message(struct mock_conn *c, uint32_t dir, const void *data, size_t len, uint64_t ts_ns)
{
	return mock_conn_message_cap(c, dir, data, len, 0, ts_ns);
}

void mock_conn_lose(struct mock_conn *c, uint32_t dir, uint64_t n)
{
	c->off[dir & 1] += n;
}

void mock_conn_expire(struct mock_conn *c, uint64_t now_ns)
{
	l7_pair_expire(&c->pair, now_ns, on_record, c, &c->pst);
}

struct mock_l7_stats mock_conn_stats(const struct mock_conn *c)
{
	struct mock_l7_stats s = {
		.parse_calls = c->sst.parse_calls,
		.parse_errors = c->sst.parse_errors,
		.resyncs = c->sst.resyncs,
		.lost_bytes = c->sst.lost_bytes,
		.keep_overflows = c->sst.keep_overflows,
		.requests = c->pst.requests,
		.responses = c->pst.responses,
		.unmatched_responses = c->pst.unmatched_responses,
		.expired_requests = c->pst.expired_requests,
		.unanswered_at_close = c->pst.unanswered_at_close,
		.bad_frames = c->pst.bad_frames,
		.pending = l7_pair_pending(&c->pair),
		.stopped = c->stopped,
	};
	return s;
}

void mock_conn_close(struct mock_conn *c)
{
	if (!c)
		return;
	c->ops->conn_close(c->p->state, c->cs);
	l7_pair_free(&c->pair, &c->pst);
	l7_stream_free(&c->stream);
	free(c);
}

uint32_t mock_detect(struct mock_plugin *p, const struct zt_conn_info *ci, uint32_t dir, const void *data,
		     size_t len)
{
	const struct zt_protocol_ops *ops = mock_plugin_protocol_ops(p);
	struct zt_conn_info def = mock_conn_info(ZT_ROLE_CLIENT, 80);
	if (!ops || !ops->detect)
		return ZT_DETECT_NO;
	size_t cap = l7_capture_bytes(ops->capture_bytes);
	struct zt_chunk c = {
		.struct_size = sizeof(c),
		.direction = dir,
		.flags = ZT_CHUNK_MSG_START,
		.data = data,
		.len = len < ZT_L7_PROBE_BYTES ? len : ZT_L7_PROBE_BYTES,
		.avail = len,
	};
	(void)cap;
	return ops->detect(p->state, ci ? ci : &def, &c);
}

int mock_rules_match(struct mock_plugin *p, const struct zt_conn_info *ci, uint32_t dir, const void *data,
		     size_t len)
{
	const struct zt_protocol_ops *ops = mock_plugin_protocol_ops(p);
	struct zt_conn_info def = mock_conn_info(ZT_ROLE_CLIENT, 80);
	const struct zt_detect_rule *rules = NULL;
	uint8_t win[ZT_L7_WINDOW] = { 0 };
	size_t n;

	if (!ops || !ops->rules)
		return 0;
	if (!ci)
		ci = &def;
	memcpy(win, data, len < sizeof(win) ? len : sizeof(win));
	n = ops->rules(p->state, &rules);
	for (size_t i = 0; i < n; i++) {
		struct zt_l7_rule k;
		char err[256];
		if (l7_rule_compile(&rules[i], 1, ops->capture_bytes, ops->transports, &k, err, sizeof(err))) {
			mock__log(NULL, ZT_LOG_ERROR, "rule %zu: %s", i, err);
			return -EINVAL;
		}
		if (zt_l7_rule_match(&k, win, (uint32_t)len, (uint8_t)dir,
				     ci->transport == ZT_TRANSPORT_UDP ? ZT_L7_UDP : ZT_L7_TCP, ci->local_port,
				     ci->remote_port, (uint8_t)ci->role))
			return k.verdict;
	}
	return 0;
}

void mock_conn_replay(struct mock_conn *c, uint32_t role, const struct mock_msg *m, size_t n, uint32_t chunking,
		      size_t capture, size_t piece_max, unsigned seed, uint64_t *ts)
{
	for (size_t i = 0; i < n;) {
		/* a run of messages of one direction */
		size_t j = i, total = 0;
		while (j < n && m[j].from_client == m[i].from_client)
			total += m[j++].len;
		uint32_t dir = (m[i].from_client == (role == ZT_ROLE_CLIENT)) ? ZT_DIR_EGRESS : ZT_DIR_INGRESS;
		if (chunking == MOCK_CHUNK_WHOLE) {
			for (; i < j; i++)
				mock_conn_message_cap(c, dir, m[i].data, m[i].len, capture, *ts += 1000);
			continue;
		}
		uint8_t *run = malloc(total ? total : 1);
		size_t off = 0;
		if (!run)
			abort();
		for (; i < j; i++) {
			memcpy(run + off, m[i].data, m[i].len);
			off += m[i].len;
		}
		for (off = 0; off < total;) {
			size_t k = 1;
			if (chunking == MOCK_CHUNK_RANDOM) {
				seed = seed * 1103515245u + 12345u;
				unsigned x = (seed >> 8) & 0xffffff;
				k = x % 3 == 0 ? 1 + x / 3 % 16 : 1 + x / 3 % piece_max;
			}
			if (k > total - off)
				k = total - off;
			mock_conn_message_cap(c, dir, run + off, k, capture, *ts += 1000);
			off += k;
		}
		free(run);
	}
}
