/* SPDX-License-Identifier: Apache-2.0 */
/* The span queue (core/spanq.c): order, bounded copies, drops when full. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "spanq.h"

static struct l7_record rec(uint64_t start, const char *method)
{
	struct l7_record r = { .role = ZT_ROLE_CLIENT, .status = ZT_STATUS_OK, .start_ns = start,
			       .end_ns = start + 5, .req_size = 10, .resp_size = 20 };
	r.method = (struct zt_str){ method, strlen(method) };
	return r;
}

/* first in, first out; every field copied, so the caller's buffers can go */
static void test_fifo_copy(void **state)
{
	(void)state;
	struct spanq *q = spanq_new(4);
	struct span s;
	char method[8] = "GET";
	assert_non_null(q);
	assert_int_equal(spanq_pop(q, &s), -ENOENT);
	for (uint64_t i = 1; i <= 3; i++) {
		struct l7_record r = rec(i * 100, method);
		r.status_label = (struct zt_str){ "404", 3 };
		spanq_push(q, "http", "/ctr", "10.0.0.1:80", &r);
	}
	memcpy(method, "XXX", 3);
	assert_int_equal(spanq_length(q), 3);
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(spanq_pop(q, &s), 0);
		assert_int_equal(s.start_ns, i * 100);
		assert_int_equal(s.end_ns, i * 100 + 5);
		assert_int_equal(s.request_size, 10);
		assert_int_equal(s.response_size, 20);
		assert_int_equal(s.role, ZT_ROLE_CLIENT);
		assert_string_equal(s.method, "GET");
		assert_string_equal(s.status_label, "404");
		assert_string_equal(s.protocol, "http");
		assert_string_equal(s.container_id, "/ctr");
		assert_string_equal(s.destination, "10.0.0.1:80");
	}
	assert_int_equal(spanq_pop(q, &s), -ENOENT);
	assert_int_equal(spanq_dropped(q), 0);
	spanq_free(q);
}

/* full: the new records are dropped and counted, the queued ones stay;
 * after a pop there is room again, and the ring wraps */
static void test_full_drops_new(void **state)
{
	(void)state;
	struct spanq *q = spanq_new(3);
	struct span s;
	for (uint64_t i = 1; i <= 5; i++) {
		struct l7_record r = rec(i, "GET");
		spanq_push(q, "http", "", "", &r);
	}
	assert_int_equal(spanq_length(q), 3);
	assert_int_equal(spanq_dropped(q), 2);
	assert_int_equal(spanq_pop(q, &s), 0);
	assert_int_equal(s.start_ns, 1);
	struct l7_record r = rec(6, "GET");
	spanq_push(q, "http", "", "", &r);
	assert_int_equal(spanq_dropped(q), 2);
	uint64_t want[] = { 2, 3, 6 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(spanq_pop(q, &s), 0);
		assert_int_equal(s.start_ns, want[i]);
	}
	assert_int_equal(spanq_length(q), 0);
	spanq_free(q);
}

/* strings longer than a span's fields are cut, still terminated */
static void test_long_strings(void **state)
{
	(void)state;
	struct spanq *q = spanq_new(2);
	struct span s;
	char big[1024];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	struct l7_record r = rec(1, big);
	r.statement = (struct zt_str){ big, sizeof(big) - 1 };
	r.error = (struct zt_str){ big, sizeof(big) - 1 };
	spanq_push(q, big, big, big, &r);
	assert_int_equal(spanq_pop(q, &s), 0);
	assert_int_equal(strlen(s.protocol), sizeof(s.protocol) - 1);
	assert_int_equal(strlen(s.container_id), sizeof(s.container_id) - 1);
	assert_int_equal(strlen(s.destination), sizeof(s.destination) - 1);
	assert_int_equal(strlen(s.method), sizeof(s.method) - 1);
	assert_int_equal(strlen(s.statement), sizeof(s.statement) - 1);
	assert_int_equal(strlen(s.error), sizeof(s.error) - 1);
	spanq_push(NULL, "http", "", "", &r); /* no queue: nothing happens */
	spanq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_copy),
		cmocka_unit_test(test_full_drops_new),
		cmocka_unit_test(test_long_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
