/* SPDX-License-Identifier: Apache-2.0 */
/* Request/response pairing (core/l7_pair.c): FIFO and by id, statements and
 * attributes kept with the request (small ones inline, large ones on the
 * heap) across the ring's growth and compaction, expiry and eviction. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "l7_pair.h"

#define NREC 64
static struct got {
	uint32_t status, flags, role;
	uint64_t id, start, end;
	char method[L7_METHOD_MAX + 1], stmt[L7_STATEMENT_MAX + 1], akey[64], aval[L7_ATTR_VALUE_MAX + 1];
	uint32_t attrs;
} got[NREC];
static size_t ngot;

static void cp(char *dst, size_t cap, struct zt_str s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	memcpy(dst, s.ptr, n);
	dst[n] = 0;
}

static void out(void *ctx, const struct l7_record *r)
{
	(void)ctx;
	assert_true(ngot < NREC);
	struct got *g = &got[ngot++];
	memset(g, 0, sizeof(*g));
	g->status = r->status;
	g->flags = r->flags;
	g->role = r->role;
	g->id = r->id;
	g->start = r->start_ns;
	g->end = r->end_ns;
	g->attrs = r->attr_count;
	cp(g->method, sizeof(g->method), r->method);
	cp(g->stmt, sizeof(g->stmt), r->statement);
	if (r->attr_count) {
		cp(g->akey, sizeof(g->akey), r->attrs[0].key);
		cp(g->aval, sizeof(g->aval), r->attrs[0].value);
	}
}

static int setup(void **state)
{
	(void)state;
	ngot = 0;
	return 0;
}

/* A request whose statement is `len` bytes of a pattern that encodes i. */
static int request(struct l7_pairer *p, uint64_t i, size_t len, struct l7_pair_stats *st)
{
	static char stmt[2000], val[300];
	for (size_t k = 0; k < len && k < sizeof(stmt); k++)
		stmt[k] = (char)('a' + (i + k) % 26);
	snprintf(val, sizeof(val), "v%llu", (unsigned long long)i);
	struct zt_attr a = { ZT_STR("db.operation"), { val, strlen(val) } };
	struct zt_frame f = {
		.struct_size = sizeof(f), .type = ZT_FRAME_REQUEST, .pairing = ZT_PAIR_FIFO,
		.start_ns = 1000 + i, .end_ns = 1000 + i, .size = 10,
		.method = ZT_STR("QUERY"), .statement = { stmt, len }, .attrs = &a, .attr_count = 1,
	};
	int rc = l7_pair_frame(p, ZT_DIR_EGRESS, &f, out, NULL, st);
	assert_true(rc == 0 || rc == -ENOSPC);
	return rc;
}

static void response(struct l7_pairer *p, uint64_t ts, uint32_t status, struct l7_pair_stats *st)
{
	struct zt_frame f = {
		.struct_size = sizeof(f), .type = ZT_FRAME_RESPONSE, .pairing = ZT_PAIR_FIFO,
		.start_ns = ts, .end_ns = ts, .size = 5, .status = status,
	};
	assert_int_equal(l7_pair_frame(p, ZT_DIR_INGRESS, &f, out, NULL, st), 0);
}

static void check_stmt(const struct got *g, uint64_t i, size_t len)
{
	size_t n = len < L7_STATEMENT_MAX ? len : L7_STATEMENT_MAX;
	assert_int_equal(strlen(g->stmt), n);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(g->stmt[k], (char)('a' + (i + k) % 26));
	char val[32];
	snprintf(val, sizeof(val), "v%llu", (unsigned long long)i);
	assert_int_equal(g->attrs, 1);
	assert_string_equal(g->akey, "db.operation");
	assert_string_equal(g->aval, val);
}

/* 40 requests in flight (the ring grows from 4 several times), short and
 * long statements mixed; answers in order carry each request's own text. */
static void test_fifo_growth_and_blobs(void **state)
{
	(void)state;
	struct l7_pairer p;
	struct l7_pair_stats st = { 0 };
	static const size_t lens[] = { 0, 5, 150, 191, 192, 400, 1500 };
	assert_int_equal(l7_pair_init(&p, 64, 1000000000ull), 0);
	for (uint64_t i = 0; i < 40; i++)
		request(&p, i, lens[i % 7], &st);
	assert_int_equal(l7_pair_pending(&p), 40);
	for (uint64_t i = 0; i < 40; i++)
		response(&p, 5000 + i, i % 3 ? ZT_STATUS_OK : ZT_STATUS_FAILED, &st);
	assert_int_equal(ngot, 40);
	for (uint64_t i = 0; i < 40; i++) {
		assert_int_equal(got[i].start, 1000 + i);
		assert_int_equal(got[i].end, 5000 + i);
		assert_int_equal(got[i].status, i % 3 ? ZT_STATUS_OK : ZT_STATUS_FAILED);
		assert_int_equal(got[i].role, ZT_ROLE_CLIENT);
		assert_string_equal(got[i].method, "QUERY");
		check_stmt(&got[i], i, lens[i % 7]);
	}
	/* one response too many (no early window here: unmatched at once) */
	response(&p, 9999, ZT_STATUS_OK, &st);
	assert_int_equal(st.unmatched_responses, 1);
	assert_int_equal(ngot, 40);
	l7_pair_free(&p, &st);
	assert_int_equal(st.unmatched_responses, 1);
	assert_int_equal(st.unanswered_at_close, 0);
}

/* At max_pending the oldest request gives way (a record with status
 * unknown), the ring compacts around answered holes, and the rest expire
 * after the timeout with their own statements. */
static void test_evict_compact_expire(void **state)
{
	(void)state;
	struct l7_pairer p;
	struct l7_pair_stats st = { 0 };
	assert_int_equal(l7_pair_init(&p, 8, 100), 0);
	for (uint64_t i = 0; i < 8; i++)
		request(&p, i, i % 2 ? 300 : 20, &st);
	assert_int_equal(request(&p, 8, 300, &st), -ENOSPC); /* evicts 0 */
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].flags, L7_REC_TIMEOUT);
	assert_int_equal(got[0].status, ZT_STATUS_UNKNOWN);
	check_stmt(&got[0], 0, 20);
	assert_int_equal(l7_pair_pending(&p), 8);
	l7_pair_expire(&p, 1000 + 100 + 5, out, NULL, &st); /* 1..5 are older than 100 ns */
	assert_int_equal(ngot, 6);
	for (uint64_t i = 1; i <= 5; i++)
		check_stmt(&got[i], i, i % 2 ? 300 : 20);
	request(&p, 9, 20, &st);
	request(&p, 10, 300, &st);
	response(&p, 2000, ZT_STATUS_OK, &st); /* answers 6 */
	assert_int_equal(ngot, 7);
	check_stmt(&got[6], 6, 20);
	l7_pair_free(&p, &st);
	assert_int_equal(st.unanswered_at_close, 4); /* 7 8 9 10 */
}

/* Pairing by id: answers out of order find their requests. */
static void test_by_id(void **state)
{
	(void)state;
	struct l7_pairer p;
	struct l7_pair_stats st = { 0 };
	assert_int_equal(l7_pair_init(&p, 0, 0), 0);
	for (uint64_t i = 0; i < 20; i++) {
		struct zt_frame f = { .struct_size = sizeof(f), .type = ZT_FRAME_REQUEST, .pairing = ZT_PAIR_ID,
				      .id = 100 + i, .start_ns = i + 1, .method = ZT_STR("A") };
		assert_int_equal(l7_pair_frame(&p, ZT_DIR_INGRESS, &f, out, NULL, &st), 0);
	}
	for (uint64_t i = 20; i-- > 0;) {
		struct zt_frame f = { .struct_size = sizeof(f), .type = ZT_FRAME_RESPONSE, .pairing = ZT_PAIR_ID,
				      .id = 100 + i, .start_ns = 1000 + i, .status = ZT_STATUS_OK };
		assert_int_equal(l7_pair_frame(&p, ZT_DIR_EGRESS, &f, out, NULL, &st), 0);
		assert_int_equal(got[ngot - 1].id, 100 + i);
		assert_int_equal(got[ngot - 1].start, i + 1);
		assert_int_equal(got[ngot - 1].role, ZT_ROLE_SERVER);
	}
	assert_int_equal(ngot, 20);
	assert_int_equal(l7_pair_pending(&p), 0);
	l7_pair_free(&p, &st);
}

/* A response before its request (a client that reads on another thread
 * than it writes): the request that follows within the window takes it;
 * one that comes later does not, and the early response is unmatched. */
static void test_early_response(void **state)
{
	(void)state;
	struct l7_pairer p;
	struct l7_pair_stats st = { 0 };
	assert_int_equal(l7_pair_init(&p, 0, 1000000000ull), 0);
	l7_pair_early_window(&p, L7_EARLY_WINDOW_NS);
	response(&p, 5000, ZT_STATUS_FAILED, &st); /* the answer, read at 5000 */
	assert_int_equal(ngot, 0);
	assert_int_equal(st.unmatched_responses, 0);
	request(&p, 4900 + 200000, 30, &st); /* its request's tracepoint, 0.2 ms later */
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].status, ZT_STATUS_FAILED);
	assert_true(got[0].end < got[0].start); /* no latency to tell */
	check_stmt(&got[0], 4900 + 200000, 30);
	assert_int_equal(l7_pair_pending(&p), 0);

	/* an orphan: nothing takes it within the window */
	response(&p, 10000000, ZT_STATUS_OK, &st);
	request(&p, 10000000 + 2 * L7_EARLY_WINDOW_NS, 5, &st);
	assert_int_equal(ngot, 1);
	assert_int_equal(l7_pair_pending(&p), 1);
	l7_pair_expire(&p, 10000000 + 3 * L7_EARLY_WINDOW_NS, out, NULL, &st);
	assert_int_equal(st.unmatched_responses, 1);
	/* the normal order still works after it */
	response(&p, 10000000 + 3 * L7_EARLY_WINDOW_NS, ZT_STATUS_OK, &st);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1].status, ZT_STATUS_OK);
	assert_true(got[1].end > got[1].start);
	/* more early answers than room: the extra one is unmatched at once,
	 * and what waits is counted at close */
	response(&p, 20000000, ZT_STATUS_OK, &st);
	response(&p, 20000001, ZT_STATUS_OK, &st);
	response(&p, 20000002, ZT_STATUS_OK, &st);
	assert_int_equal(st.unmatched_responses, 2);
	l7_pair_free(&p, &st);
	assert_int_equal(st.unmatched_responses, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fifo_growth_and_blobs, setup),
		cmocka_unit_test_setup(test_evict_compact_expire, setup),
		cmocka_unit_test_setup(test_by_id, setup),
		cmocka_unit_test_setup(test_early_response, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
