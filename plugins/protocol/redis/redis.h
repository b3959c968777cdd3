/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis plugin internals: the incremental RESP2/RESP3 reader (redis_resp.c)
 * and the command naming and statement sanitizing (redis_cmd.c), shared by
 * the plugin (redis.c), its tests and its fuzzer.
 */
#ifndef ZT_PLUGIN_REDIS_H
#define ZT_PLUGIN_REDIS_H

#include <stddef.h>
#include <stdint.h>

/* Limits (README.md, "Limits"). */
#define RESP_DEPTH_MAX 16      /* nested aggregates; deeper is garbage */
#define RESP_LINE_MAX 8192     /* a type line or an inline command without its LF */
#define RESP_COUNT_MAX (1ll << 32) /* elements of one aggregate */
#define RESP_BULK_MAX (1ll << 40)  /* bytes of one bulk value (Redis itself caps at 512 MB by default) */
#define RESP_WORD_MAX 32       /* bytes kept of the first two elements (command, subcommand, push kind) */
#define RESP_ERR_MAX 32        /* bytes kept of an error's code (its first word) */

/* What the reader saw of the top-level value it just finished. */
struct resp_value {
	uint8_t type;       /* first byte: + - : $ * _ , # ! = ( % ~ > |, or 'i' for an inline command */
	uint8_t null;       /* $-1, *-1 or _ */
	uint8_t lost;       /* the value's end was not captured: only its start is known */
	uint8_t reserved;
	uint64_t count;     /* aggregate: declared elements (pairs count once for %); inline: words */
	uint64_t size;      /* bytes on the wire, from its first byte */
	uint64_t start_ns;
	char word[2][RESP_WORD_MAX]; /* first two elements (bulk or simple strings), or an inline command's words */
	uint8_t word_len[2];
	uint8_t word_ok[2]; /* 1: complete and shorter than RESP_WORD_MAX */
	int64_t last_int;   /* the last integer element directly inside the value */
	char err[RESP_ERR_MAX]; /* - and !: the error code (first word) */
	uint8_t err_len;
};

/* Reader state of one direction. */
struct resp_reader {
	uint32_t depth;
	uint32_t inline_ok;  /* inline commands allowed (request direction) */
	struct {
		uint8_t type;
		uint8_t attr; /* an attribute: its end does not count as an element */
		int64_t left;
	} lv[RESP_DEPTH_MAX];
	uint64_t body_left;  /* bulk bytes (with CRLF) still to come */
	uint64_t body_len;   /* the bulk's declared length */
	uint64_t body_seen;
	uint64_t line_bytes; /* bytes of the line being read, with its CRLF */
	int32_t body_word;   /* 0/1: this bulk is word[i]; 2: the error text; -1: nothing kept */
	uint8_t body_type;
	uint8_t elem1_type;  /* type of the current element directly inside the top value */
	uint8_t in_value;
	uint8_t reserved;
	struct resp_value v;
};

/* Callbacks, all on the parse() thread. ctx is the reader's owner. */
struct resp_ops {
	/* A top-level value ended (or its end was lost: v->lost). */
	void (*value)(void *ctx, const struct resp_value *v, uint64_t end_ns);
	/* An element directly inside a top-level aggregate ended (EXEC's replies). */
	void (*element)(void *ctx, const struct resp_value *top, uint8_t type, uint64_t end_ns);
	/* A top-level aggregate started (count known): lets the owner prepare for its elements. */
	void (*begin)(void *ctx, const struct resp_value *v);
};

/* Reader results. */
#define RESP_OK 0       /* *consumed bytes done */
#define RESP_MORE 1     /* a line is incomplete: keep the bytes from *consumed on */
#define RESP_BAD 2      /* not RESP */
#define RESP_LOST 3     /* the bytes needed next were not captured (or not seen): resync */

void resp_reset(struct resp_reader *r);
/*
 * Reads values from p[0..len) of a stream that has `avail` >= len bytes
 * from p[0] (the rest not captured). first_ns: time of p[0], ts_ns: of the
 * rest. *consumed may exceed len (a bulk body skipped without being seen).
 */
int resp_read(struct resp_reader *r, const uint8_t *p, size_t len, uint64_t avail, uint64_t first_ns,
	      uint64_t ts_ns, const struct resp_ops *ops, void *ctx, uint64_t *consumed);

/* ---------------------------------------------------------------- commands */

/* Command kinds that steer pairing. */
enum redis_kind {
	RK_NORMAL = 0,
	RK_SUBSCRIBE,    /* SUBSCRIBE PSUBSCRIBE SSUBSCRIBE: one confirmation per argument */
	RK_UNSUBSCRIBE,  /* UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE: per argument, or per subscription */
	RK_MULTI,
	RK_EXEC,
	RK_DISCARD,
	RK_HELLO,
	RK_RESET,
};

struct redis_cmd {
	char op[2 * RESP_WORD_MAX + 2]; /* db.operation: "GET", "CONFIG GET" */
	size_t op_len;
	uint32_t words;    /* words of op (1 or 2) */
	uint32_t kind;     /* enum redis_kind */
	uint32_t confirm;  /* pub/sub kind index (redis_push_kind) of the confirmations it gets */
	uint64_t args;     /* arguments after the command name */
	int32_t hello;     /* RK_HELLO: protocol version asked for, 0 none */
};

/*
 * Names the command of a request value (array of bulks or inline words).
 * Returns 0, or -1 when the first word is not a plausible command name.
 */
int redis_cmd_of(const struct resp_value *v, struct redis_cmd *c);
/* "SET ? ?", "CONFIG GET ?", "MSET ? ? ... (+12 ?)": at most `max` bytes into out; returns the length. */
size_t redis_statement(const struct redis_cmd *c, char *out, size_t max);

/* Pub/sub push kinds, from the first element of a push or RESP2 array. */
enum redis_push_kind {
	RP_NONE = 0,
	RP_MESSAGE,      /* message pmessage smessage: data, never an answer */
	RP_SUBSCRIBE,
	RP_PSUBSCRIBE,
	RP_SSUBSCRIBE,
	RP_UNSUBSCRIBE,
	RP_PUNSUBSCRIBE,
	RP_SUNSUBSCRIBE,
};
uint32_t redis_push_kind(const char *w, size_t n);

#endif
