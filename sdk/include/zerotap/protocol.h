/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The protocol component (since ABI minor 1): a plugin that turns the bytes
 * a process reads and writes on one TCP connection or UDP socket into
 * request and response frames. The core pairs the frames into records and
 * turns records into metrics and spans; a protocol plugin never sees a
 * metric it did not register itself.
 *
 * The path of one connection:
 *
 *   kernel: the first messages of a connection nobody has claimed are
 *           matched against every enabled plugin's detection rules
 *           (struct zt_detect_rule, plain data the core loads into a BPF
 *           map). A rule with ZT_RULE_CLAIM claims the connection in the
 *           kernel, with no user-space round trip.
 *   detect: what the rules leave open goes to the plugins' detect()
 *           callbacks, one chunk at a time, until one says ZT_DETECT_YES or
 *           all say ZT_DETECT_NO. The verdict is written back into the
 *           kernel's policy map: a connection no plugin claims stops
 *           producing payload events.
 *   open:   conn_open() once the connection is claimed by this plugin.
 *   parse:  parse() with the captured bytes of each direction, in stream
 *           order, as they arrive. It reports what it found through
 *           host->frame_emit().
 *   close:  conn_close() when the socket is closed, the plugin gave up
 *           (IGNORED / END_OF_STREAM), or the agent stops.
 *
 * Threading: every callback of one plugin instance runs on the core's
 * dispatch thread, one at a time, and must not block. Per-connection state
 * needs no locking.
 *
 * Ownership: chunks, conn infos and their bytes are borrowed for the call.
 * Frames (and every string they point to) are copied by frame_emit before it
 * returns. What conn_open allocates, conn_close frees.
 *
 * A walkthrough is in docs/plugin-abi.md, "Writing a protocol plugin".
 */
#ifndef ZEROTAP_PROTOCOL_H
#define ZEROTAP_PROTOCOL_H

#include <zerotap/abi.h>
#include <zerotap/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handle of one connection, for host->frame_emit(). */
typedef struct zt_conn zt_conn;

/* Transports (uint32_t bit mask). */
#define ZT_TRANSPORT_TCP 1u
#define ZT_TRANSPORT_UDP 2u

/* Direction of bytes, as seen by the traced process (uint32_t). */
#define ZT_DIR_EGRESS 0u  /* the process wrote them (send, write, ...) */
#define ZT_DIR_INGRESS 1u /* the process read them (recv, read, ...) */

/* The process's role on a connection, when the core knows it (uint32_t). */
#define ZT_ROLE_UNKNOWN 0u
#define ZT_ROLE_CLIENT 1u /* it connected (or, for UDP, sent first) */
#define ZT_ROLE_SERVER 2u /* it accepted */

/* ------------------------------------------------------------ detection */

#define ZT_RULE_PATTERN_MAX 16 /* bytes compared per rule */
#define ZT_RULE_WINDOW 64      /* offset + len must fit in a message's first 64 bytes */

/* Rule verdicts (uint32_t). */
#define ZT_RULE_CLAIM 1u /* a match claims the connection in the kernel */
#define ZT_RULE_ASK 2u   /* a match only makes this plugin's detect() be asked first */

/* Rule directions (uint32_t). */
#define ZT_RULE_DIR_ANY 0u
#define ZT_RULE_DIR_EGRESS 1u  /* the message was written by the traced process */
#define ZT_RULE_DIR_INGRESS 2u /* the message was read by the traced process */

/*
 * A detection rule, evaluated in the kernel against each of the first few
 * messages (one read or write) of a connection nobody claimed yet:
 *
 *   (msg[offset + i] & mask[i]) == (pattern[i] & mask[i])  for i < len
 *   and min_len <= message length <= max_len (0 = no bound)
 *   and the direction, transport and port (0 = any) agree.
 *
 * `port` is the server's port: the remote port on a connection the
 * process connected, the local one on an accepted connection, either one
 * when the role is unknown. A rule with len 0 matches on the other
 * conditions alone (port-only rules, e.g. DNS on port 53). The core loads
 * at most 256 rules from all plugins together; a plugin's rules are
 * checked in the order given. Since minor 1.
 */
struct zt_detect_rule {
	uint32_t struct_size;
	uint32_t verdict;    /* ZT_RULE_CLAIM or ZT_RULE_ASK */
	uint32_t direction;  /* ZT_RULE_DIR_* */
	uint32_t transports; /* ZT_TRANSPORT_* mask; 0 = the plugin's transports */
	uint16_t offset;
	uint16_t len;        /* <= ZT_RULE_PATTERN_MAX */
	uint16_t port;
	uint16_t reserved;
	uint32_t min_len;
	uint32_t max_len;
	uint8_t pattern[ZT_RULE_PATTERN_MAX];
	uint8_t mask[ZT_RULE_PATTERN_MAX]; /* all zero = 0xff for the first len bytes */
};

/* detect() results (uint32_t). */
#define ZT_DETECT_NO 0u    /* not this protocol: never asked again for this connection */
#define ZT_DETECT_YES 1u   /* claim it; the chunk is then also given to parse() */
#define ZT_DETECT_MAYBE 2u /* cannot tell yet: ask again with the next chunk */

/* ---------------------------------------------------------- connections */

/* What the core knows of a connection. Since minor 1. */
struct zt_conn_info {
	uint32_t struct_size;
	uint32_t transport; /* ZT_TRANSPORT_TCP or ZT_TRANSPORT_UDP */
	uint32_t role;      /* ZT_ROLE_*: TCP from the core's connection table; UNKNOWN for UDP
			     * or when not known. A plugin that can tell better may ignore it */
	uint32_t pid;       /* tgid of the process that owns the socket */
	uint64_t conn_id;   /* unique per connection for the agent's lifetime */
	uint16_t family;    /* 4 or 6 */
	uint16_t local_port;
	uint16_t remote_port; /* 0 for an unconnected UDP socket */
	uint16_t reserved;
	uint8_t local_addr[16];  /* IPv6, or IPv4-mapped IPv6 (::ffff:a.b.c.d) */
	uint8_t remote_addr[16];
	struct zt_str container_id; /* METRICS.md format; empty when unknown */
	struct zt_str app_id;       /* the app_id label of that container (k8s: its workload); empty when unknown */
};

/* Chunk flags (uint32_t bit mask). */
#define ZT_CHUNK_GAP 1u       /* bytes of this direction were lost right before data[0] */
#define ZT_CHUNK_MSG_START 2u /* data[0] is the first byte of a read or write */

/*
 * Captured bytes of one direction. The kernel sends the first
 * capture_bytes of each message (one read or write) plus the message's
 * full length, so a parser always knows how many bytes exist even where it
 * did not see them: the stream has `avail` bytes from data[0], of which
 * the first `len` are in data. Bytes the plugin did not consume in an
 * earlier call come first in data (the core keeps them for it, see
 * parse()). Since minor 1.
 */
struct zt_chunk {
	uint32_t struct_size;
	uint32_t direction;   /* ZT_DIR_* */
	uint32_t flags;       /* ZT_CHUNK_* */
	uint32_t reserved;
	uint64_t first_ts_ns; /* CLOCK_MONOTONIC time of the syscall that delivered data[0] */
	uint64_t ts_ns;       /* ... and of the one that delivered the last byte */
	uint64_t offset;      /* stream offset of data[0] in this direction */
	uint64_t gap;         /* with ZT_CHUNK_GAP: how many bytes were lost (0 = unknown) */
	const uint8_t *data;
	size_t len;
	uint64_t avail;       /* >= len: stream bytes that exist from data[0] on */
	/* UDP only: the peer of this datagram when the socket is unconnected
	 * (sendto/recvfrom addresses); family 0 when unknown. */
	uint16_t peer_family;
	uint16_t peer_port;
	uint32_t reserved2;
	uint8_t peer_addr[16];
};

/* ---------------------------------------------------------------- parse */

/* parse() results (uint32_t). */
#define ZT_PARSE_OK 0u        /* *consumed bytes are done; if some are left, call again at once */
#define ZT_PARSE_NEED_MORE 1u /* *consumed bytes are done; the rest is an incomplete frame: keep it and call
			       * again with it and more data */
#define ZT_PARSE_INVALID 2u   /* the bytes make no sense here: the core counts a parse error, drops this
			       * chunk and the next call carries ZT_CHUNK_GAP (resynchronize) */
#define ZT_PARSE_IGNORED 3u   /* not this protocol after all, or nothing more worth seeing: capture stops */
#define ZT_PARSE_END_OF_STREAM 4u /* the stream left this protocol (HTTP Upgrade, STARTTLS, COPY to a
				   * tunnel, ...): capture stops, records already emitted stay */

/* Frame types (uint32_t). */
#define ZT_FRAME_REQUEST 1u
#define ZT_FRAME_RESPONSE 2u
#define ZT_FRAME_ONEWAY 3u /* a request that gets no answer by design (noreply, QUIT): a record at once */
#define ZT_FRAME_EVENT 4u  /* a message that is not a request or its answer (pub/sub push): not counted
			    * as a request; only the plugin's own metrics see it */

/* Pairing of a response to its request (uint32_t). */
#define ZT_PAIR_FIFO 1u /* the oldest unanswered request of the connection (HTTP/1, Redis, Postgres) */
#define ZT_PAIR_ID 2u   /* the unanswered request with the same id (DNS id, HTTP/2 stream, Kafka
			 * correlation id) */

/* Request outcome (uint32_t). */
#define ZT_STATUS_UNKNOWN 0u
#define ZT_STATUS_OK 1u
#define ZT_STATUS_FAILED 2u

/* A span attribute, named after the OpenTelemetry semantic conventions
 * (db.system, db.operation, http.route, ...). Since minor 1. */
struct zt_attr {
	struct zt_str key;
	struct zt_str value;
};

/*
 * One frame found by parse(), handed to host->frame_emit(). The core keeps
 * a request until its response arrives (or request_timeout_ns passes), then
 * makes one record of the two: method, resource, statement and attributes
 * from the request; status, status_label, error and attributes from the
 * response; latency = response end_ns - request start_ns. Which side is
 * the client follows from the directions: a request the process wrote
 * makes it the client (outbound metrics), one it read the server (inbound).
 *
 * Strings are copied, truncated to: method 32 bytes, resource 128,
 * status_label 32, statement 1024, error 256, 16 attributes of 64 + 256.
 * Of all these, only status_label becomes a metric label, so it must come
 * from a small fixed set (HTTP "200", "404"; "ok", "failed"). Never put raw
 * values (query literals, keys, paths with ids) in any field: resource is a
 * bounded template, statement is sanitized (literals replaced). Since
 * minor 1.
 */
struct zt_frame {
	uint32_t struct_size;
	uint32_t type;     /* ZT_FRAME_* */
	uint32_t pairing;  /* ZT_PAIR_* (RESPONSE; REQUEST with ZT_PAIR_ID stores its id) */
	uint32_t status;   /* RESPONSE, ONEWAY: ZT_STATUS_* */
	uint64_t id;       /* ZT_PAIR_ID: stream or correlation id */
	uint64_t start_ns; /* time of the frame's first byte (zt_chunk.first_ts_ns or ts_ns) */
	uint64_t end_ns;   /* time of its last byte */
	uint64_t size;     /* the frame's bytes on the wire (header + body) */
	struct zt_str method;       /* REQUEST/ONEWAY: "GET", "SELECT", "get", "A" */
	struct zt_str resource;     /* REQUEST/ONEWAY: a bounded template: "/users/{id}", a table, a topic */
	struct zt_str statement;    /* REQUEST/ONEWAY: sanitized query text, for spans only */
	struct zt_str status_label; /* RESPONSE/ONEWAY: the metric's status value; empty = "ok" / "failed" /
				     * "unknown" from status */
	struct zt_str error;        /* RESPONSE: error class or message, for spans */
	const struct zt_attr *attrs;
	uint32_t attr_count;
	uint32_t flags; /* ZT_FRAME_F_* */
};

/* Frame flags (uint32_t bit mask). */
/*
 * RESPONSE only: the plugin found the response's end while parsing the
 * request's own direction (the other side's next request shows that the
 * previous answer is complete, when its last bytes were not captured), so
 * it pairs with a request of the direction being parsed. Cores that
 * predate the flag ignore it and count the response as unmatched.
 */
#define ZT_FRAME_F_PEER_DIR 1u

/* Record flags (uint32_t bit mask). */
#define ZT_RECORD_TIMEOUT 1u /* no response came in time (or the request was evicted): end_ns is 0 */
#define ZT_RECORD_ONEWAY 2u  /* a ZT_FRAME_ONEWAY request */

/*
 * A request paired with its response by the core. Handed to the plugin's
 * on_record (and, later, to span exporters). Strings are borrowed for the
 * call. Since minor 1.
 */
struct zt_record {
	uint32_t struct_size;
	uint32_t role;   /* ZT_ROLE_CLIENT: the process sent the request; ZT_ROLE_SERVER: it answered */
	uint32_t status; /* ZT_STATUS_* (ZT_STATUS_UNKNOWN with ZT_RECORD_TIMEOUT) */
	uint32_t flags;  /* ZT_RECORD_* */
	uint64_t id;
	uint64_t start_ns; /* the request's first byte */
	uint64_t end_ns;   /* the response's last byte; 0 without a response */
	uint64_t request_size, response_size;
	struct zt_str method, resource, statement, status_label, error;
	const struct zt_attr *attrs; /* the request's, then the response's */
	uint32_t attr_count;
	uint32_t reserved;
};

/* ------------------------------------------------------------- the ops */

struct zt_protocol_ops {
	struct zt_ops_header hdr;

	/* ---- data: read once, when the instance starts ---- */

	/* Metric families made by the core from this protocol's records, per
	 * METRICS.md: "http_requests" gives container_http_requests_total
	 * {destination, actual_destination, status},
	 * container_http_requests_duration_seconds_total (histogram) and the
	 * container_http_inbound_requests_* pair. NULL: the core makes none
	 * and the plugin registers its own (DNS does). */
	const char *metric_stem;
	uint32_t transports;     /* ZT_TRANSPORT_* this protocol runs on */
	uint32_t capture_bytes;  /* payload prefix wanted per message; 0 = 1024; at most 4096 */
	uint64_t request_timeout_ns; /* unanswered requests expire after this; 0 = 30 s */
	uint32_t max_pending;    /* unanswered requests kept per connection; 0 = 1024; older ones expire */
	uint32_t reserved;

	/* ---- callbacks ---- */

	/*
	 * Required. Dispatch thread, at start-up and after a config change
	 * (SIGHUP) that touched this instance. Reads the config, registers
	 * any metrics of its own. Returns 0 or a negative errno.
	 */
	int (*init)(const struct zt_host *host, zt_instance *inst, void **state);
	/* Required. Dispatch thread. Every open connection has been closed
	 * (conn_close) before fini is called. */
	void (*fini)(void *state);
	/*
	 * Optional. Dispatch thread, right after init. Points *rules at the
	 * instance's detection rules (which may depend on its config) and
	 * returns how many; they must stay valid until fini. None: only
	 * detect() can claim connections for this plugin.
	 */
	size_t (*rules)(void *state, const struct zt_detect_rule **rules);
	/*
	 * Optional. Dispatch thread. A chunk of an unclaimed connection (at
	 * most the first capture of a few messages per direction, as they
	 * arrive). Must be cheap and must not keep state: it is asked once per
	 * chunk, and a later chunk may come with the earlier ones.
	 */
	uint32_t (*detect)(void *state, const struct zt_conn_info *ci, const struct zt_chunk *c);
	/*
	 * Required. Dispatch thread. A connection this plugin claimed. Sets
	 * *conn_state (may be NULL) and may keep `conn` for frame_emit until
	 * conn_close. Returns 0, or a negative errno to leave the connection
	 * alone (its capture stops).
	 */
	int (*conn_open)(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state);
	/* Required. Dispatch thread. Frees what conn_open allocated. */
	void (*conn_close)(void *state, void *conn_state);
	/*
	 * Required. Dispatch thread. Bytes of one direction, in stream order
	 * per direction, the two directions interleaved in the order the
	 * process did its reads and writes.
	 *
	 * Sets *consumed to the number of stream bytes from data[0] it is done
	 * with. *consumed may exceed c->len: the core then skips that many
	 * stream bytes in total, including bytes not captured (a body of
	 * known length) and bytes yet to come. Bytes from *consumed to len are
	 * kept (up to 16 KiB per direction) and come first in the next chunk.
	 *
	 * With ZT_CHUNK_GAP, bytes were lost before data[0] (a full ring, or
	 * skipped uncaptured bytes the plugin did not account for): drop any
	 * partial frame of this direction and resynchronize (typically on
	 * ZT_CHUNK_MSG_START with a recognizable header).
	 */
	uint32_t (*parse)(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *c, uint64_t *consumed);
	/*
	 * Optional. Dispatch thread, from within frame_emit (or when a request
	 * expires): each record the core paired on one of this plugin's
	 * connections, after the core updated its own metrics (metric_stem).
	 * For plugins whose metrics the core does not make (DNS: per-domain
	 * and per-type labels), or which want per-record metrics of their own.
	 * A TCP connection with both ends on this host is parsed once, on its
	 * client side (agent.l7_local_once): the server side's conn_state then
	 * gets no more parse() calls, and receives here, with the server role,
	 * the records made on the client side.
	 */
	void (*on_record)(void *state, void *conn_state, const struct zt_record *r);
};

#ifdef __cplusplus
}
#endif
#endif
