/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One connection's byte streams as a protocol plugin sees them: turns the
 * kernel's per-message captures (first N bytes + full length + stream
 * offset) into parse() calls with the plugin's unconsumed bytes kept,
 * skips the plugin asked for (bodies of known length), and gaps flagged
 * where bytes were lost or never captured.
 *
 * Pure code (no BPF, no I/O): the agent and the test mock host share it,
 * so a plugin's unit tests drive the very logic that runs in the agent.
 */
#ifndef ZT_CORE_L7_STREAM_H
#define ZT_CORE_L7_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <zerotap/protocol.h>

/* Bytes kept for a plugin per direction (parse() docs promise 16 KiB). */
#define L7_STREAM_KEEP_MAX (16 * 1024)

struct l7_dir {
	uint64_t seen;      /* end offset of the last message that arrived */
	uint64_t skip_to;   /* stream bytes before this offset are skipped */
	uint64_t buf_off;   /* stream offset of buf[0] */
	uint64_t buf_ts;    /* time of the message that delivered buf[0] */
	uint8_t *buf;
	size_t len, cap;
	uint64_t gap;       /* bytes lost since the last parse() of this direction */
	uint32_t gap_pending;
	uint32_t started;   /* a message arrived: `seen` is meaningful */
};

struct l7_stream {
	struct l7_dir d[2]; /* ZT_DIR_EGRESS, ZT_DIR_INGRESS */
};

/* One message (read or write) as the kernel reported it. */
struct l7_msg {
	uint32_t dir;       /* ZT_DIR_* */
	uint32_t flags;     /* L7_MSG_* */
	uint64_t offset;    /* stream offset of the message's first byte */
	uint64_t len;       /* its full length */
	const uint8_t *data;
	size_t cap_len;     /* captured prefix, <= len */
	uint64_t ts_ns;
	uint16_t peer_family, peer_port;
	uint8_t peer_addr[16];
};

#define L7_MSG_RESET 1u /* the kernel lost this connection's state: offsets restart here */

struct l7_stream_stats {
	uint64_t parse_calls;
	uint64_t parse_errors;  /* ZT_PARSE_INVALID */
	uint64_t resyncs;       /* parse() calls carrying ZT_CHUNK_GAP */
	uint64_t lost_bytes;    /* bytes that reached no parse() call (not captured, lost, dropped) */
	uint64_t keep_overflows; /* kept bytes beyond L7_STREAM_KEEP_MAX dropped */
};

typedef uint32_t (*l7_parse_fn)(void *ctx, const struct zt_chunk *c, uint64_t *consumed);

void l7_stream_init(struct l7_stream *s);
void l7_stream_free(struct l7_stream *s);
/*
 * Hands one message to the parser: zero or more parse() calls. Returns
 * ZT_PARSE_OK, or ZT_PARSE_IGNORED / ZT_PARSE_END_OF_STREAM when the parser
 * gave up on the connection (the caller stops capture and closes it).
 */
uint32_t l7_stream_feed(struct l7_stream *s, const struct l7_msg *m, l7_parse_fn parse, void *ctx,
			struct l7_stream_stats *st);

#endif
