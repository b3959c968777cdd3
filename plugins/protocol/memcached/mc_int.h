/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcached plugin internals, shared by memcached.c (ops, detection, the
 * request queue, frames), mc_text.c (text and meta commands) and
 * mc_binary.c (the binary protocol).
 */
#ifndef ZT_MEMCACHED_INT_H
#define ZT_MEMCACHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include <zerotap/plugin.h>

/*
 * Per read/write the kernel copies this much. Command lines, reply lines
 * and binary headers are short; values are skipped by their declared
 * length, never read. 2 KiB also holds a pipeline of ~50 binary GETKQ
 * requests, or a multi-get line of ~50 typical keys, in one write.
 */
#define MC_CAPTURE 2048
#define MC_LINE_MAX 8192          /* a longer line (without its end in sight) is not memcached */
#define MC_DATA_MAX (1ull << 30)  /* memcached's item size limit (-I) is at most 1 GiB */
#define MC_KEY_MAX 250            /* memcached's KEY_MAX_LENGTH */
#define MC_QUEUE_MAX 1024         /* unanswered requests remembered per connection */
#define MC_STMT_KEYS 8            /* keys written as "?" in a statement; more become "..." */
#define MC_STMT_MAX 128

/* What a queued request waits for. */
enum {
	EXP_LINE,    /* one reply line */
	EXP_VALUES,  /* VALUE blocks, then END (get, gets, gat, gats) */
	EXP_STATS,   /* STAT/ITEM/... lines, then END; or one line */
	EXP_META,    /* one meta reply (VA + data, HD, EN, NF, NS, EX, ME) */
	EXP_MN,      /* mn: MN */
	EXP_BINARY,  /* binary: a response with the same opcode and opaque */
};

/* Pending-entry flags. */
#define PE_QUIET 1u  /* may get no reply at all (meta q flag, binary quiet opcodes) */
#define PE_SILENT 2u /* no frame: a barrier (noop, mn) or quit */

struct mc_pending {
	uint64_t seq;      /* the frames' pairing id; 0 for PE_SILENT */
	uint32_t opaque;   /* binary */
	uint8_t expect;    /* EXP_* */
	uint8_t op;        /* binary opcode; text: the meta command (MC_META_*) */
	uint8_t flags;     /* PE_* */
	uint8_t reserved;
};

#define MC_META_GET 1
#define MC_META_SET 2
#define MC_META_DEL 3
#define MC_META_ARITH 4

/* The requests sent and not yet answered, oldest first (a ring that grows). */
struct mc_queue {
	struct mc_pending *e;
	uint32_t head, len, cap;
};

enum { KIND_UNKNOWN, KIND_REQUESTS, KIND_RESPONSES };
enum { MODE_UNKNOWN, MODE_TEXT, MODE_BINARY };

struct mc_dir {
	uint32_t kind;     /* KIND_* once seen */
	uint32_t hunt;     /* lost our place: wait for a message start that parses */
	/* a multi-part response in progress (VALUE ... END, STAT ... END, binary STAT) */
	uint32_t in_multi;
	uint32_t reserved;
	uint64_t multi_size;
	/* a value that goes on in later messages: its bytes still to come */
	uint64_t skip_left;
	/* hunting: a message start whose line is not complete yet, kept by the core */
	uint64_t cand_off;
	uint32_t cand;
	uint32_t reserved2;
};

struct mc_conn {
	const struct zt_host *host;
	zt_conn *conn;
	uint32_t mode;
	uint32_t role;
	struct mc_dir d[2];
	struct mc_queue q;
	uint64_t next_seq;
};

/* One parse() call. */
struct mc_ctx {
	struct mc_conn *mc;
	struct mc_dir *d;
	const struct zt_chunk *c;
	uint64_t avail;
};

/* What a request frame says (memcached.c makes the frame). */
struct mc_req {
	const char *method;   /* db.operation */
	const char *stmt;     /* sanitized statement */
	size_t stmt_len;
	uint64_t size;
	uint64_t start_ns;
	uint32_t batch;       /* keys of a multi-key get; 0 or 1: none */
	uint32_t expect;      /* EXP_* */
	uint32_t flags;       /* PE_* */
	uint32_t opaque;
	uint8_t op;
};

/* What a response frame says. */
struct mc_resp {
	uint32_t status;     /* ZT_STATUS_OK / FAILED */
	const char *code;    /* db.response.status_code */
	size_t code_len;
	const char *error;   /* failures: the error line or status name */
	size_t error_len;
	uint64_t size;
};

/* memcached.c */
int mc_request(struct mc_ctx *x, const struct mc_req *r);
void mc_oneway(struct mc_ctx *x, const struct mc_req *r);
void mc_answer(struct mc_ctx *x, const struct mc_pending *p, const struct mc_resp *r);
void mc_unmatched(struct mc_ctx *x, const struct mc_resp *r);
void mc_settle(struct mc_ctx *x, uint32_t n);
void mc_queue_clear(struct mc_queue *q);
struct mc_pending *mc_queue_at(struct mc_queue *q, uint32_t i);
void mc_queue_drop(struct mc_queue *q, uint32_t i);

/* mc_text.c */
uint32_t mc_text_parse(struct mc_ctx *x, uint64_t *consumed);
int mc_text_is_request(const uint8_t *p, size_t n, uint64_t avail); /* detect(): 1 yes, 0 no, -1 maybe */

/* mc_binary.c */
uint32_t mc_binary_parse(struct mc_ctx *x, uint64_t *consumed);
int mc_binary_header_ok(const uint8_t *p, size_t n, uint8_t magic);

/* Stops at cap; returns the new length. */
size_t mc_put(char *buf, size_t len, size_t cap, const char *s, size_t n);

#endif
