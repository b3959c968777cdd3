/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS plugin over TCP (length prefixes, pipelining, split and cut
 * messages, mid-stream joins, garbage) and hostile UDP input, through
 * tests/mockhost; also the pending-request bug in core/l7_pair.c.
 */
#include "test_dns_common.h"

/* ---------------------------------------------------------------- TCP */

static void test_tcp_pipelined(void **state)
{
	static const char *const ips[] = { "127.0.0.3" };
	uint8_t w[1024], r1[512], r2[512], m[512];
	size_t wn = 0, r1n, r2n, n;
	struct mock_conn *c;

	start(NULL);
	c = open_tcp(ZT_ROLE_CLIENT);
	/* glibc with use-vc: both queries in one write */
	n = make_query(m, 0x2880, "both.test", 1);
	wn += tcp_frame(w + wn, m, n);
	n = make_query(m, 0xeb86, "both.test", 28);
	wn += tcp_frame(w + wn, m, n);
	assert_int_equal(mock_conn_message(c, ZT_DIR_EGRESS, w, wn, T0), ZT_PARSE_OK);
	assert_int_equal(mock_conn_stats(c).requests, 2);
	/* the answers out of order, the second fed one byte at a time */
	n = make_answer(m, 0xeb86, "both.test", 28, 0, NULL, 0);
	r1n = tcp_frame(r1, m, n);
	n = make_answer(m, 0x2880, "both.test", 1, 0, ips, 1);
	r2n = tcp_frame(r2, m, n);
	mock_conn_message(c, ZT_DIR_INGRESS, r1, r1n, T0 + MS);
	for (size_t i = 0; i < r2n; i++)
		mock_conn_message(c, ZT_DIR_INGRESS, r2 + i, 1, T0 + 2 * MS + i);
	assert_int_equal(mock_record_count(), 2);
	assert_string_equal(mock_record_get(0)->method, "TypeAAAA");
	assert_string_equal(mock_record_get(1)->method, "TypeA");
	assert_int_equal(mock_record_get(1)->start_ns, T0);
	assert_int_equal(mock_record_get(1)->end_ns, T0 + 2 * MS + r2n - 1);
	assert_int_equal(mock_metric_value("ip_to_fqdn", "127.0.0.3", "both.test", NULL), 1);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

static void test_tcp_capture_cut(void **state)
{
	static const char *ips[40];
	char buf[40][24];
	uint8_t m[2048], f[2048], q[512], fq[512];
	size_t n, fn, qn;
	struct mock_conn *c;

	for (int i = 0; i < 40; i++) {
		snprintf(buf[i], sizeof(buf[i]), "127.0.1.%d", i + 1);
		ips[i] = buf[i];
	}
	start(NULL);
	c = open_tcp(ZT_ROLE_CLIENT);
	qn = make_query(q, 1, "big.test", 1);
	mock_conn_message(c, ZT_DIR_EGRESS, fq, tcp_frame(fq, q, qn), T0);
	n = make_answer(m, 1, "big.test", 1, 0, ips, 40);
	fn = tcp_frame(f, m, n);
	/* only the first 100 bytes of the 668-byte answer are captured */
	mock_conn_message_cap(c, ZT_DIR_INGRESS, f, fn, 100, T0 + MS);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 4);
	/* the next message is parsed normally */
	qn = make_query(q, 2, "a.test", 1);
	mock_conn_message(c, ZT_DIR_EGRESS, fq, tcp_frame(fq, q, qn), T0 + 2 * MS);
	n = make_answer(m, 2, "a.test", 1, 3, NULL, 0);
	mock_conn_message(c, ZT_DIR_INGRESS, f, tcp_frame(f, m, n), T0 + 3 * MS);
	assert_int_equal(mock_record_count(), 2);
	assert_string_equal(last_record()->status_label, "nxdomain");
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	assert_int_equal(mock_conn_stats(c).resyncs, 0);
	mock_conn_close(c);
}

/* A message larger than DNS_TCP_WAIT_MAX, written in small pieces: parsed
 * from its beginning and skipped, never kept whole. */
static void test_tcp_large_message(void **state)
{
	struct dnsb b = { .len = 0 };
	uint8_t q[512], fq[512], *f;
	size_t qn = make_query(q, 77, "huge.test", 16);
	struct mock_conn *c;

	start(NULL);
	c = open_tcp(ZT_ROLE_CLIENT);
	mock_conn_message(c, ZT_DIR_EGRESS, fq, tcp_frame(fq, q, qn), T0);
	b_hdr(&b, 77, F_RESP, 1, 1, 0, 0);
	b_name(&b, "huge.test");
	b_u16(&b, 16);
	b_u16(&b, 1);
	b_ptr(&b, 12);
	b_u16(&b, 16);
	b_u16(&b, 1);
	b_u32(&b, 60);
	b_u16(&b, 7000);
	for (int i = 0; i < 7000; i++)
		b_u8(&b, 'x');
	f = malloc(b.len + 2);
	tcp_frame(f, b.buf, b.len);
	for (size_t i = 0; i < b.len + 2; i += 500)
		mock_conn_message(c, ZT_DIR_INGRESS, f + i, b.len + 2 - i < 500 ? b.len + 2 - i : 500, T0 + MS);
	assert_int_equal(mock_record_count(), 1);
	assert_string_equal(last_record()->method, "TypeTXT");
	assert_int_equal(mock_conn_stats(c).keep_overflows, 0);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	/* and the stream goes on */
	qn = make_query(q, 78, "next.test", 1);
	mock_conn_message(c, ZT_DIR_EGRESS, fq, tcp_frame(fq, q, qn), T0 + 2 * MS);
	qn = make_answer(q, 78, "next.test", 1, 0, NULL, 0);
	mock_conn_message(c, ZT_DIR_INGRESS, fq, tcp_frame(fq, q, qn), T0 + 3 * MS);
	assert_int_equal(mock_record_count(), 2);
	free(f);
	mock_conn_close(c);
}

static void test_tcp_midstream_join(void **state)
{
	uint8_t q[512], fq[512], a[512], fa[512];
	size_t qn, an, fqn, fan;
	struct mock_conn *c;

	start(NULL);
	c = open_tcp(ZT_ROLE_CLIENT);
	/* the agent starts in the middle of a message: the first bytes it
	 * sees are the tail of an answer */
	mock_conn_lose(c, ZT_DIR_INGRESS, 1000);
	mock_conn_lose(c, ZT_DIR_EGRESS, 500);
	an = make_answer(a, 3, "old.test", 1, 0, NULL, 0);
	fan = tcp_frame(fa, a, an);
	assert_int_equal(mock_conn_message(c, ZT_DIR_INGRESS, fa + 9, fan - 9, T0), ZT_PARSE_OK);
	assert_int_equal(mock_conn_stats(c).parse_errors, 1);
	/* then whole messages: in sync again */
	qn = make_query(q, 4, "new.test", 1);
	fqn = tcp_frame(fq, q, qn);
	mock_conn_message(c, ZT_DIR_EGRESS, fq, fqn, T0 + MS);
	an = make_answer(a, 4, "new.test", 1, 0, NULL, 0);
	fan = tcp_frame(fa, a, an);
	mock_conn_message(c, ZT_DIR_INGRESS, fa, fan, T0 + 2 * MS);
	assert_int_equal(mock_record_count(), 1);
	assert_string_equal(last_record()->resource, "new.test");
	/* bytes lost in the middle of a query: the rest of that write is
	 * dropped, the next message start recovers */
	mock_conn_message(c, ZT_DIR_EGRESS, fq, 5, T0 + 3 * MS);
	mock_conn_lose(c, ZT_DIR_EGRESS, 3);
	mock_conn_message(c, ZT_DIR_EGRESS, fq + 8, fqn - 8, T0 + 3 * MS);
	q[0] = 0;
	q[1] = 5;
	fqn = tcp_frame(fq, q, qn);
	mock_conn_message(c, ZT_DIR_EGRESS, fq, fqn, T0 + 4 * MS);
	a[0] = 0;
	a[1] = 5;
	fan = tcp_frame(fa, a, an);
	mock_conn_message(c, ZT_DIR_INGRESS, fa, fan, T0 + 5 * MS);
	assert_int_equal(mock_record_count(), 2);
	assert_int_equal(last_record()->id & 0xffff, 5);
	assert_int_equal(mock_conn_stats(c).stopped, 0);
	mock_conn_close(c);
}

static void test_tcp_garbage(void **state)
{
	uint8_t g[64];
	struct mock_conn *c;
	uint32_t r = ZT_PARSE_OK;
	int i;

	start(NULL);
	c = open_tcp(ZT_ROLE_CLIENT);
	/* a length prefix too short for a header */
	g[0] = 0;
	g[1] = 3;
	memset(g + 2, 0, 3);
	assert_int_equal(mock_conn_message(c, ZT_DIR_EGRESS, g, 5, T0), ZT_PARSE_OK);
	assert_int_equal(mock_conn_stats(c).parse_errors, 1);
	/* HTTP on port 53: given up after a few writes */
	for (i = 0; i < 20 && r == ZT_PARSE_OK; i++)
		r = mock_conn_message(c, ZT_DIR_EGRESS, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, T0 + (uint64_t)i);
	assert_int_equal(r, ZT_PARSE_IGNORED);
	assert_true(i <= 8);
	mock_conn_close(c);
}

/* ------------------------------------------------------------ hostile */

static void test_hostile_udp(void **state)
{
	struct dnsb b = { .len = 0 };
	struct mock_conn *c;
	uint8_t q[512], junk[300];
	size_t qn = make_query(q, 1, "a.test", 1);
	uint64_t errs = 0;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	/* a pointer loop in the question */
	b_hdr(&b, 1, F_QUERY, 1, 0, 0, 0);
	b_ptr(&b, 12);
	b_u16(&b, 1);
	b_u16(&b, 1);
	mock_conn_message(c, ZT_DIR_EGRESS, b.buf, b.len, T0);
	assert_int_equal(mock_conn_stats(c).parse_errors, ++errs);
	/* an answer claiming 65535 records in 40 bytes */
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0);
	b_reset(&b);
	b_hdr(&b, 1, F_RESP, 1, 0xffff, 0xffff, 0xffff);
	b_name(&b, "a.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	b_rr_a(&b, 12, "1.2.3.4");
	mock_conn_message(c, ZT_DIR_INGRESS, b.buf, b.len, T0 + MS);
	assert_int_equal(mock_conn_stats(c).parse_errors, ++errs);
	/* a loop in an answer's owner */
	b_reset(&b);
	b_hdr(&b, 1, F_RESP, 1, 1, 0, 0);
	b_name(&b, "a.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	b_ptr(&b, (uint16_t)b.len);
	b_u16(&b, 1);
	b_u16(&b, 1);
	b_u32(&b, 1);
	b_u16(&b, 4);
	b_u32(&b, 0x01020304);
	mock_conn_message(c, ZT_DIR_INGRESS, b.buf, b.len, T0 + MS);
	assert_int_equal(mock_conn_stats(c).parse_errors, ++errs);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 0);
	/* too short, empty, random */
	mock_conn_message(c, ZT_DIR_INGRESS, q, 11, T0 + MS);
	assert_int_equal(mock_conn_stats(c).parse_errors, ++errs);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7919 + 13);
	junk[2] = 0x81; /* opcode 0, QR */
	mock_conn_message(c, ZT_DIR_INGRESS, junk, sizeof(junk), T0 + MS);
	/* the original query is still waiting: nothing paired with garbage */
	assert_int_equal(mock_record_count(), 0);
	/* a UDP socket is never given up on */
	assert_int_equal(mock_conn_stats(c).stopped, 0);
	{
		static const char *const ips[] = { "127.0.0.2" };
		uint8_t a[512];
		size_t an = make_answer(a, 1, "a.test", 1, 0, ips, 1);
		mock_conn_message(c, ZT_DIR_INGRESS, a, an, T0 + 2 * MS);
		assert_int_equal(mock_record_count(), 1);
	}
	mock_conn_close(c);
}

/* core/l7_pair.c: answered requests leave holes in the ring; with one old
 * request still waiting at the head, the holes must not count as waiting
 * requests and push the old one out before its timeout. */
static void test_pending_holes(void **state)
{
	struct zt_conn_info ci = udp_info(ZT_ROLE_SERVER);
	uint8_t peer[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 9 };
	uint8_t q[512], a[512];
	size_t qn, an;
	struct mock_conn *c;

	start(NULL);
	ci.remote_port = 0;
	memset(ci.remote_addr, 0, 16);
	assert_int_equal(mock_conn_open(P, &ci, &c), 0);
	qn = make_query(q, 0xffff, "slow.test", 1);
	mock_conn_datagram(c, ZT_DIR_INGRESS, q, qn, 0, 4, 1, peer, T0);
	for (uint32_t i = 0; i < 1500; i++) {
		qn = make_query(q, (uint16_t)i, "fast.test", 1);
		an = make_answer(a, (uint16_t)i, "fast.test", 1, 0, NULL, 0);
		mock_conn_datagram(c, ZT_DIR_INGRESS, q, qn, 0, 4, 2, peer, T0 + i * 1000);
		mock_conn_datagram(c, ZT_DIR_EGRESS, a, an, 0, 4, 2, peer, T0 + i * 1000 + 500);
	}
	assert_int_equal(mock_conn_stats(c).expired_requests, 0);
	assert_int_equal(mock_conn_stats(c).pending, 1);
	assert_int_equal(mock_record_count(), 1500);
	mock_conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_tcp_pipelined, teardown),
		cmocka_unit_test_teardown(test_tcp_capture_cut, teardown),
		cmocka_unit_test_teardown(test_tcp_large_message, teardown),
		cmocka_unit_test_teardown(test_tcp_midstream_join, teardown),
		cmocka_unit_test_teardown(test_tcp_garbage, teardown),
		cmocka_unit_test_teardown(test_hostile_udp, teardown),
		cmocka_unit_test_teardown(test_pending_holes, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
