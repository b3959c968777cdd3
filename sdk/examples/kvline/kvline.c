// SPDX-License-Identifier: Apache-2.0
/*
 * kvline: the example protocol plugin of docs/plugin-abi.md ("Writing a
 * protocol plugin"). A toy text protocol, one line per message:
 *
 *   request:  GET <key>\n | SET <key> <value>\n | DEL <key>\n
 *   response: OK[ <value>]\n | ERR <reason>\n
 *
 * Responses come in request order (so the core pairs them FIFO). The
 * plugin claims connections with a kernel rule (a request verb at offset
 * 0 on port 7379), parses lines as they arrive, emits one REQUEST frame per
 * request and one RESPONSE frame per response; the core makes the records
 * and the container_kvline_requests_* metric families from them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zerotap/zerotap.h>

#define MAX_LINE 512 /* longer lines are garbage for this protocol */

struct kvline {
	const struct zt_host *host;
	zt_instance *inst;
	struct zt_detect_rule rules[3];
};

/* Per connection: only the handle frames are emitted on. */
struct kvline_conn {
	zt_conn *conn;
};

static const struct zt_config_field config[] = {
	{ "port", ZT_CFG_INT, 0, "7379", "Server port the kernel rules claim connections on.", 1, 65535 },
	ZT_CFG_END,
};

static void rule(struct zt_detect_rule *r, const char *verb, uint16_t port)
{
	memset(r, 0, sizeof(*r));
	r->struct_size = sizeof(*r);
	r->verdict = ZT_RULE_CLAIM;
	r->direction = ZT_RULE_DIR_ANY; /* client writes requests, server reads them */
	r->len = (uint16_t)strlen(verb);
	memcpy(r->pattern, verb, r->len); /* mask all zero: compare every byte */
	r->port = port;
}

static int kv_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct kvline *k = calloc(1, sizeof(*k));
	int64_t port = 7379;
	if (!k)
		return -ENOMEM;
	k->host = host;
	k->inst = inst;
	host->config_int(inst, "port", &port);
	rule(&k->rules[0], "GET ", (uint16_t)port);
	rule(&k->rules[1], "SET ", (uint16_t)port);
	rule(&k->rules[2], "DEL ", (uint16_t)port);
	*state = k;
	return 0;
}

static void kv_fini(void *state)
{
	free(state);
}

static size_t kv_rules(void *state, const struct zt_detect_rule **rules)
{
	struct kvline *k = state;
	*rules = k->rules;
	return 3;
}

static int kv_open(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state)
{
	struct kvline_conn *c = calloc(1, sizeof(*c));
	(void)state;
	(void)ci;
	if (!c)
		return -ENOMEM;
	c->conn = conn;
	*conn_state = c;
	return 0;
}

static void kv_close(void *state, void *conn_state)
{
	(void)state;
	free(conn_state);
}

static int starts(const uint8_t *p, size_t n, const char *word)
{
	size_t w = strlen(word);
	return n >= w && !memcmp(p, word, w);
}

/* One complete line [p, p + n) (without its '\n'). */
static int emit_line(struct kvline *k, struct kvline_conn *c, const struct zt_chunk *ch, const uint8_t *p,
		     size_t n)
{
	struct zt_frame f = { .struct_size = sizeof(f), .pairing = ZT_PAIR_FIFO };
	f.start_ns = ch->first_ts_ns;
	f.end_ns = ch->ts_ns;
	f.size = n + 1;
	if (starts(p, n, "GET ") || starts(p, n, "SET ") || starts(p, n, "DEL ")) {
		f.type = ZT_FRAME_REQUEST;
		f.method = (struct zt_str){ (const char *)p, 3 };
		f.resource = ZT_STR("kv"); /* never the key itself: it is a value, not a template */
	} else if (starts(p, n, "OK")) {
		f.type = ZT_FRAME_RESPONSE;
		f.status = ZT_STATUS_OK;
	} else if (starts(p, n, "ERR")) {
		f.type = ZT_FRAME_RESPONSE;
		f.status = ZT_STATUS_FAILED;
		f.error = (struct zt_str){ (const char *)p + 3, n > 3 ? n - 3 : 0 };
	} else {
		return -1;
	}
	k->host->frame_emit(c->conn, &f);
	return 0;
}

static uint32_t kv_parse(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *ch, uint64_t *consumed)
{
	struct kvline *k = state;
	struct kvline_conn *c = conn_state;
	size_t pos = 0;
	(void)conn;

	/* After lost bytes, wait for a message that starts a line. */
	if ((ch->flags & ZT_CHUNK_GAP) && !(ch->flags & ZT_CHUNK_MSG_START)) {
		*consumed = ch->avail;
		return ZT_PARSE_OK;
	}
	while (pos < ch->len) {
		const uint8_t *nl = memchr(ch->data + pos, '\n', ch->len - pos);
		if (!nl) {
			if (ch->len - pos > MAX_LINE)
				return ZT_PARSE_INVALID;
			*consumed = pos;
			return ZT_PARSE_NEED_MORE; /* the rest of the line is still to come */
		}
		size_t n = (size_t)(nl - (ch->data + pos));
		if (n && ch->data[pos + n - 1] == '\r')
			n--;
		if (emit_line(k, c, ch, ch->data + pos, n))
			return ZT_PARSE_INVALID;
		pos = (size_t)(nl - ch->data) + 1;
	}
	*consumed = pos;
	return ZT_PARSE_OK;
}

static const struct zt_protocol_ops ops = {
	.hdr = ZT_OPS_HEADER(struct zt_protocol_ops, ZT_KIND_PROTOCOL),
	.metric_stem = "kvline_requests",
	.transports = ZT_TRANSPORT_TCP,
	.capture_bytes = 256,
	.init = kv_init,
	.fini = kv_fini,
	.rules = kv_rules,
	.conn_open = kv_open,
	.conn_close = kv_close,
	.parse = kv_parse,
};

ZT_PLUGIN_DEFINE(kvline, ZT_KIND_PROTOCOL, "1.0.0", "Apache-2.0", "Example: a line-based key-value protocol",
		 config, &ops);
