/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by test_dns.c and test_dns_tcp.c: the plugin started on the mock
 * host, connections, one query/answer exchange. */
#ifndef ZT_TEST_DNS_COMMON_H
#define ZT_TEST_DNS_COMMON_H

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns_testlib.h"
#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_dns(void);

#define MS 1000000ull
#define T0 (5 * 1000000000ull)
#define CID "/mock"
#define REQ "container_dns_requests_total"
#define DUR "container_dns_requests_duration_seconds_total"
#define TMO "zerotap_container_dns_timeouts_total"
#define INREQ "zerotap_container_dns_inbound_requests_total"
#define INDUR "zerotap_container_dns_inbound_requests_duration_seconds_total"

static struct mock_plugin *P;

static inline int teardown(void **state)
{
	if (P)
		mock_plugin_stop(P);
	P = NULL;
	mock_reset();
	return 0;
}

static inline void start(const char *cfg)
{
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, cfg, &P), 0);
}

static inline struct zt_conn_info udp_info(uint32_t role)
{
	struct zt_conn_info ci = mock_conn_info(role, 53);
	ci.transport = ZT_TRANSPORT_UDP;
	return ci;
}

static inline struct mock_conn *open_udp(uint32_t role)
{
	struct zt_conn_info ci = udp_info(role);
	struct mock_conn *c;
	assert_int_equal(mock_conn_open(P, &ci, &c), 0);
	return c;
}

static inline struct mock_conn *open_tcp(uint32_t role)
{
	struct zt_conn_info ci = mock_conn_info(role, 53);
	struct mock_conn *c;
	assert_int_equal(mock_conn_open(P, &ci, &c), 0);
	return c;
}

/* One query and its answer on a client UDP socket. */
static inline void exchange(struct mock_conn *c, uint16_t id, const char *name, uint16_t qtype, uint32_t rcode,
		     const char *const *ips, size_t nips, uint64_t t, uint64_t rtt)
{
	uint8_t q[512], r[4096];
	size_t qn = make_query(q, id, name, qtype), rn = make_answer(r, id, name, qtype, rcode, ips, nips);

	assert_int_equal(mock_conn_message(c, ZT_DIR_EGRESS, q, qn, t), ZT_PARSE_OK);
	assert_int_equal(mock_conn_message(c, ZT_DIR_INGRESS, r, rn, t + rtt), ZT_PARSE_OK);
}

static inline const struct mock_record *last_record(void)
{
	size_t n = mock_record_count();
	assert_true(n > 0);
	return mock_record_get(n - 1);
}

#endif
