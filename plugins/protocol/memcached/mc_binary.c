/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The binary protocol: every request and response is a 24-byte header
 * (magic 0x80 / 0x81, opcode, key length, extras length, data type,
 * vbucket or status, total body length, opaque, CAS) and a body of extras,
 * key and value. Only the header is read; bodies are skipped by their
 * length. Replies are matched to requests by opcode and opaque, so quiet
 * requests that were answered by silence are told apart from the ones a
 * reply belongs to.
 */
#include <stdio.h>
#include <string.h>

#include "mc_int.h"

#define OP_QUIT 0x07
#define OP_NOOP 0x0a
#define OP_STAT 0x10
#define OP_QUITQ 0x17
#define OP_MAX 0x24

struct opinfo {
	const char *name; /* as in the protocol's documentation, lower case */
	const char *base; /* db.operation: the text protocol's command */
	uint8_t quiet;
	uint8_t has_key;
};

static const struct opinfo opinfo[OP_MAX + 1] = {
	[0x00] = { "get", "get", 0, 1 },
	[0x01] = { "set", "set", 0, 1 },
	[0x02] = { "add", "add", 0, 1 },
	[0x03] = { "replace", "replace", 0, 1 },
	[0x04] = { "delete", "delete", 0, 1 },
	[0x05] = { "increment", "incr", 0, 1 },
	[0x06] = { "decrement", "decr", 0, 1 },
	[0x07] = { "quit", "quit", 0, 0 },
	[0x08] = { "flush", "flush_all", 0, 0 },
	[0x09] = { "getq", "get", 1, 1 },
	[0x0a] = { "noop", "noop", 0, 0 },
	[0x0b] = { "version", "version", 0, 0 },
	[0x0c] = { "getk", "get", 0, 1 },
	[0x0d] = { "getkq", "get", 1, 1 },
	[0x0e] = { "append", "append", 0, 1 },
	[0x0f] = { "prepend", "prepend", 0, 1 },
	[0x10] = { "stat", "stats", 0, 0 },
	[0x11] = { "setq", "set", 1, 1 },
	[0x12] = { "addq", "add", 1, 1 },
	[0x13] = { "replaceq", "replace", 1, 1 },
	[0x14] = { "deleteq", "delete", 1, 1 },
	[0x15] = { "incrementq", "incr", 1, 1 },
	[0x16] = { "decrementq", "decr", 1, 1 },
	[0x17] = { "quitq", "quit", 1, 0 },
	[0x18] = { "flushq", "flush_all", 1, 0 },
	[0x19] = { "appendq", "append", 1, 1 },
	[0x1a] = { "prependq", "prepend", 1, 1 },
	[0x1b] = { "verbosity", "verbosity", 0, 0 },
	[0x1c] = { "touch", "touch", 0, 1 },
	[0x1d] = { "gat", "gat", 0, 1 },
	[0x1e] = { "gatq", "gat", 1, 1 },
	[0x20] = { "sasl_list_mechs", "sasl_list_mechs", 0, 0 },
	[0x21] = { "sasl_auth", "sasl_auth", 0, 0 },
	[0x22] = { "sasl_step", "sasl_step", 0, 0 },
	[0x23] = { "gatk", "gat", 0, 1 },
	[0x24] = { "gatkq", "gat", 1, 1 },
};

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int mc_binary_header_ok(const uint8_t *p, size_t n, uint8_t magic)
{
	if (n < 24 || p[0] != magic || p[1] > OP_MAX || !opinfo[p[1]].name)
		return 0;
	uint32_t klen = be16(p + 2), elen = p[4], blen = be32(p + 8);
	if (p[5] != 0 || klen > MC_KEY_MAX || elen > 32 || (uint64_t)klen + elen > blen || blen > MC_DATA_MAX + 1024)
		return 0;
	if (magic == 0x80 && opinfo[p[1]].has_key && !klen)
		return 0; /* a keyed command without a key is answered "invalid arguments": not a client's */
	return 1;
}

/* The status is one of the answers memcached gives for an outcome that is not a failure. */
static int status_ok(uint32_t st)
{
	/* success, key not found (a miss), key exists (cas), item not stored (add/replace), auth continue */
	return st == 0x00 || st == 0x01 || st == 0x02 || st == 0x05 || st == 0x21;
}

static const char *status_name(uint32_t st)
{
	switch (st) {
	case 0x03: return "value too large";
	case 0x04: return "invalid arguments";
	case 0x06: return "non-numeric value";
	case 0x07: return "vbucket belongs to another server";
	case 0x08: return "authentication error";
	case 0x20: return "authentication error";
	case 0x81: return "unknown command";
	case 0x82: return "out of memory";
	case 0x83: return "not supported";
	case 0x84: return "internal error";
	case 0x85: return "busy";
	case 0x86: return "temporary failure";
	}
	return "error";
}

static void request(struct mc_ctx *x, const uint8_t *p, uint64_t total)
{
	const struct opinfo *oi = &opinfo[p[1]];
	char stmt[32];
	size_t sl = mc_put(stmt, 0, sizeof(stmt), oi->name, strlen(oi->name));

	if (p[1] == OP_QUITQ)
		return; /* no reply, no query: the connection ends */
	if (be16(p + 2))
		sl = mc_put(stmt, sl, sizeof(stmt), " ?", 2);
	struct mc_req r = {
		.method = oi->base,
		.stmt = stmt,
		.stmt_len = sl,
		.size = total,
		.start_ns = x->c->first_ts_ns,
		.expect = EXP_BINARY,
		.flags = (oi->quiet ? PE_QUIET : 0) | (p[1] == OP_NOOP || p[1] == OP_QUIT ? PE_SILENT : 0),
		.opaque = be32(p + 12),
		.op = p[1],
	};
	mc_request(x, &r);
}

static void response(struct mc_ctx *x, const uint8_t *p, uint64_t total)
{
	uint32_t st = be16(p + 6), opaque = be32(p + 12), op = p[1];
	struct mc_dir *d = x->d;
	char code[8];

	if (op == OP_STAT && st == 0 && be16(p + 2)) { /* one statistic; an empty key ends the list */
		d->in_multi = 1;
		d->multi_size += total;
		return;
	}
	snprintf(code, sizeof(code), "0x%04x", st & 0xffff);
	const char *err = status_ok(st) ? NULL : status_name(st);
	struct mc_resp r = {
		.status = status_ok(st) ? ZT_STATUS_OK : ZT_STATUS_FAILED,
		.code = code,
		.code_len = strlen(code),
		.error = err,
		.error_len = err ? strlen(err) : 0,
		.size = total + (d->in_multi ? d->multi_size : 0),
	};
	d->in_multi = 0;
	d->multi_size = 0;

	struct mc_queue *q = &x->mc->q;
	for (uint32_t i = 0; i < q->len; i++) {
		const struct mc_pending *e = mc_queue_at(q, i);
		if (e->expect == EXP_BINARY && e->op == op && e->opaque == opaque) {
			mc_settle(x, i);
			struct mc_pending m = *mc_queue_at(q, 0);
			mc_queue_drop(q, 0);
			mc_answer(x, &m, &r);
			return;
		}
	}
	if (op != OP_NOOP && op != OP_QUIT)
		mc_unmatched(x, &r);
}

uint32_t mc_binary_parse(struct mc_ctx *x, uint64_t *consumed)
{
	const struct zt_chunk *c = x->c;
	struct mc_dir *d = x->d;
	const uint8_t *p = c->data;

	if (d->hunt && !(c->flags & ZT_CHUNK_MSG_START)) {
		*consumed = x->avail; /* only a message's first byte can start a header again */
		return ZT_PARSE_OK;
	}
	if (d->skip_left) { /* a body that goes on in this message */
		uint64_t k = d->skip_left;
		if (k >= x->avail) {
			d->skip_left -= x->avail;
			*consumed = x->avail;
			return ZT_PARSE_OK;
		}
		d->skip_left = 0;
		if (k <= c->len) {
			*consumed = k;
			return ZT_PARSE_OK;
		}
		d->hunt = 1; /* the next header was not captured */
		*consumed = x->avail;
		return ZT_PARSE_OK;
	}
	if (c->len < 24) {
		if (x->avail > c->len) { /* the header is cut by the capture */
			d->hunt = 1;
			*consumed = x->avail;
			return ZT_PARSE_OK;
		}
		return ZT_PARSE_NEED_MORE;
	}
	uint8_t magic = d->kind == KIND_REQUESTS ? 0x80 : d->kind == KIND_RESPONSES ? 0x81 : p[0];
	if (!mc_binary_header_ok(p, c->len, magic)) {
		if (d->hunt) { /* a value's bytes after lost ones, most likely */
			*consumed = x->avail;
			return ZT_PARSE_OK;
		}
		d->hunt = 1;
		return ZT_PARSE_INVALID;
	}
	d->hunt = 0;
	d->kind = magic == 0x80 ? KIND_REQUESTS : KIND_RESPONSES;
	uint64_t total = 24ull + be32(p + 8);
	if (magic == 0x80)
		request(x, p, total);
	else
		response(x, p, total);
	if (total <= c->len || total == x->avail) {
		*consumed = total; /* may go past the capture: the core skips the body */
		return ZT_PARSE_OK;
	}
	/* The body ends in bytes not captured. The headers behind it in this
	 * message are lost: resynchronize on the next message. Quiet requests
	 * they answered are settled by the next reply seen. */
	*consumed = x->avail;
	if (total < x->avail)
		d->hunt = 1;
	else
		d->skip_left = total - x->avail;
	return ZT_PARSE_OK;
}
