/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request/response pairing of one connection: frames from a protocol
 * plugin in, records out. FIFO (HTTP/1, Redis, Postgres) or by id (DNS,
 * HTTP/2 streams, Kafka correlation ids); requests that wait longer than
 * the protocol's timeout, or that no longer fit, expire as records with
 * status unknown.
 *
 * Pure code, shared by the agent and the test mock host.
 */
#ifndef ZT_CORE_L7_PAIR_H
#define ZT_CORE_L7_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include <zerotap/protocol.h>

#define L7_METHOD_MAX 32
#define L7_RESOURCE_MAX 128
#define L7_STATUS_MAX 32
#define L7_STATEMENT_MAX 1024
#define L7_ERROR_MAX 256
#define L7_ATTR_MAX 16
#define L7_ATTR_KEY_MAX 64
#define L7_ATTR_VALUE_MAX 256

/* Record flags. */
#define L7_REC_TIMEOUT 1u /* no response within the timeout (or evicted): end_ns is 0 */
#define L7_REC_ONEWAY 2u  /* a request that gets no answer by design */

struct l7_record {
	uint32_t role;   /* ZT_ROLE_CLIENT (the process sent the request) or ZT_ROLE_SERVER */
	uint32_t status; /* ZT_STATUS_* */
	uint32_t flags;  /* L7_REC_* */
	uint32_t attr_count;
	uint64_t id;
	uint64_t start_ns; /* request's first byte */
	uint64_t end_ns;   /* response's last byte; 0 without a response */
	uint64_t req_size, resp_size;
	struct zt_str method, resource, statement, status_label, error;
	struct zt_attr attrs[2 * L7_ATTR_MAX];
};

typedef void (*l7_record_fn)(void *ctx, const struct l7_record *r);

struct l7_pending; /* one unanswered request */
struct l7_early;   /* a response seen before its request (see l7_pair_frame) */

struct l7_pairer {
	struct l7_pending *q; /* ring of cap slots, grown on demand up to max */
	uint32_t head, len, max, cap;
	uint64_t timeout_ns;
	struct l7_early *early; /* L7_EARLY_MAX, allocated at the first one */
	uint64_t early_window_ns; /* 0: a response with no request is unmatched at once */
};

/*
 * A response may reach the core before its request: a client whose reads
 * and writes run on two threads (Go's net/http) can read the answer
 * before the tracepoint at the end of its write syscall fires. Such a
 * response waits (at most L7_EARLY_MAX per connection); a request that
 * comes within L7_EARLY_WINDOW_NS of its end takes it. The record then has
 * no latency (the request's timestamp is later than the answer's).
 */
#define L7_EARLY_MAX 2
#define L7_EARLY_WINDOW_NS 1000000ull /* the agent's window (l7_pair_early_window) */

struct l7_pair_stats {
	uint64_t requests, responses;
	uint64_t unmatched_responses; /* a response with no request waiting */
	uint64_t expired_requests;    /* no response in time, or evicted by newer ones */
	uint64_t unanswered_at_close; /* still waiting when the connection closed */
	uint64_t bad_frames;          /* frame_emit refused a frame */
};

/* max_pending 0 = 1024, timeout_ns 0 = 30 s. */
int l7_pair_init(struct l7_pairer *p, uint32_t max_pending, uint64_t timeout_ns);
/* Turns on holding early responses (see above) for window_ns; off after
 * init. The agent turns it on; the mock host leaves it off (its plugin
 * tests use synthetic timestamps a few ns apart). */
void l7_pair_early_window(struct l7_pairer *p, uint64_t window_ns);
/* Drops what is pending (counted in unanswered_at_close). */
void l7_pair_free(struct l7_pairer *p, struct l7_pair_stats *st);
/*
 * One frame that came in direction `dir` (ZT_DIR_*). Calls `out` for each
 * record completed (the response's, and any request evicted for room).
 * Returns 0, -EINVAL (malformed frame) or -ENOSPC (evicted the oldest).
 */
int l7_pair_frame(struct l7_pairer *p, uint32_t dir, const struct zt_frame *f, l7_record_fn out, void *ctx,
		  struct l7_pair_stats *st);
/* Expires requests older than the timeout at `now_ns`. */
void l7_pair_expire(struct l7_pairer *p, uint64_t now_ns, l7_record_fn out, void *ctx, struct l7_pair_stats *st);
/* Requests waiting now. */
uint32_t l7_pair_pending(const struct l7_pairer *p);

#endif
