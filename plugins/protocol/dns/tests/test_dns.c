/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS plugin against tests/mockhost, which runs it through the core's
 * own stream driver and pairing: descriptor and config, detection rules
 * and detect(), UDP framing, pairing by id, peer and question, the metric
 * families and their caps. TCP and hostile input: test_dns_tcp.c.
 */
#include "test_dns_common.h"

/* ------------------------------------------------------------ descriptor */

static void test_descriptor(void **state)
{
	const struct zt_plugin_desc *d = zt_builtin_entry_dns();
	const struct zt_protocol_ops *ops;

	assert_int_equal(mock_plugin_check(d), 0);
	assert_int_equal(d->kind, ZT_KIND_PROTOCOL);
	assert_string_equal(d->name, "dns");
	start(NULL);
	ops = mock_plugin_protocol_ops(P);
	assert_non_null(ops);
	assert_null(ops->metric_stem);
	assert_int_equal(ops->transports, ZT_TRANSPORT_UDP | ZT_TRANSPORT_TCP);
	assert_non_null(ops->on_record);
	assert_non_null(ops->detect);
	assert_non_null(ops->rules);
	/* families */
	assert_int_equal(mock_metric_type(REQ), ZT_METRIC_COUNTER);
	assert_int_equal(mock_metric_type(DUR), ZT_METRIC_HISTOGRAM);
	assert_int_equal(mock_metric_type(TMO), ZT_METRIC_COUNTER);
	assert_int_equal(mock_metric_type(INREQ), ZT_METRIC_COUNTER);
	assert_int_equal(mock_metric_type(INDUR), ZT_METRIC_HISTOGRAM);
	assert_int_equal(mock_metric_type("ip_to_fqdn"), ZT_METRIC_GAUGE);
	assert_int_equal(mock_timer_count(P->inst), 1);
}

static void test_config(void **state)
{
	struct mock_plugin *p = NULL;

	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, "{\"ports\":[\"0\"]}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, "{\"ports\":[\"53x\"]}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, "{\"ports\":[\"65536\"]}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, "{\"ports\":[\"\"]}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL,
					   "{\"ports\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}", &p),
			 -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, "{\"max_domains_per_container\":0}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, "{\"nope\":1}", &p), -EINVAL);
	assert_null(p);
	/* inbound off: no inbound families; ip_to_fqdn off: no ip_to_fqdn */
	start("{\"inbound\":false,\"ip_to_fqdn_max_entries\":0,\"ports\":[\"53\",\"5353\"]}");
	assert_int_equal(mock_metric_type(INREQ), 0);
	assert_int_equal(mock_metric_type("ip_to_fqdn"), 0);
	assert_int_equal(mock_metric_type(REQ), ZT_METRIC_COUNTER);
	{
		const struct zt_detect_rule *r;
		assert_int_equal(mock_plugin_protocol_ops(P)->rules(P->state, &r), 6);
		assert_int_equal(r[3].port, 5353);
	}
	/* a server answering: inbound off counts nothing */
	{
		struct mock_conn *c = open_udp(ZT_ROLE_SERVER);
		uint8_t q[512], a[512];
		static const char *const ips[] = { "127.0.0.2" };
		size_t qn = make_query(q, 1, "a.test", 1), an = make_answer(a, 1, "a.test", 1, 0, ips, 1);
		mock_conn_message(c, ZT_DIR_INGRESS, q, qn, T0);
		mock_conn_message(c, ZT_DIR_EGRESS, a, an, T0 + MS);
		assert_int_equal(mock_record_count(), 1);
		assert_int_equal(last_record()->role, ZT_ROLE_SERVER);
		assert_int_equal(mock_metric_series_count(REQ), 0);
		mock_conn_close(c);
	}
}

/* ------------------------------------------------------------- detection */

static void test_rules(void **state)
{
	struct zt_conn_info udp = udp_info(ZT_ROLE_CLIENT), tcp = mock_conn_info(ZT_ROLE_CLIENT, 53);
	struct zt_conn_info srv = udp_info(ZT_ROLE_SERVER), web = mock_conn_info(ZT_ROLE_CLIENT, 80);
	static const char *const ips[] = { "127.0.0.2" };
	uint8_t q[600], a[600], t[600];
	size_t qn, an, tn;

	start(NULL);
	qn = make_query(q, 1, "a.test", 1);
	an = make_answer(a, 1, "a.test", 1, 3, ips, 1);
	tn = tcp_frame(t, q, qn);
	assert_int_equal(mock_rules_match(P, &udp, ZT_DIR_EGRESS, q, qn), ZT_RULE_CLAIM);
	assert_int_equal(mock_rules_match(P, &udp, ZT_DIR_INGRESS, a, an), ZT_RULE_CLAIM);
	assert_int_equal(mock_rules_match(P, &srv, ZT_DIR_INGRESS, q, qn), ZT_RULE_CLAIM);
	assert_int_equal(mock_rules_match(P, &tcp, ZT_DIR_EGRESS, t, tn), ZT_RULE_CLAIM);
	/* the TCP length prefix written on its own: detect() decides */
	assert_int_equal(mock_rules_match(P, &tcp, ZT_DIR_EGRESS, t, 2), ZT_RULE_ASK);
	/* a message as TCP would carry it, without its prefix, on UDP: no claim, ask */
	assert_int_equal(mock_rules_match(P, &udp, ZT_DIR_EGRESS, t, tn), ZT_RULE_ASK);
	/* not port 53 */
	assert_int_equal(mock_rules_match(P, &web, ZT_DIR_EGRESS, t, tn), 0);
	/* too short for a header */
	assert_int_equal(mock_rules_match(P, &udp, ZT_DIR_EGRESS, q, 1), 0);
	/* opcode UPDATE: not claimed by the kernel, asked */
	q[2] = 5 << 3;
	assert_int_equal(mock_rules_match(P, &udp, ZT_DIR_EGRESS, q, qn), ZT_RULE_ASK);
}

static void test_detect(void **state)
{
	struct zt_conn_info udp = udp_info(ZT_ROLE_CLIENT), tcp = mock_conn_info(ZT_ROLE_CLIENT, 53);
	struct zt_conn_info other = mock_conn_info(ZT_ROLE_CLIENT, 5353), oudp = other;
	static const char *const ips[] = { "127.0.0.2" };
	uint8_t q[600], a[600], t[600], g[64];
	size_t qn, an, tn;

	oudp.transport = ZT_TRANSPORT_UDP;
	start(NULL);
	qn = make_query(q, 1, "a.test", 1);
	an = make_answer(a, 1, "a.test", 1, 0, ips, 1);
	tn = tcp_frame(t, q, qn);
	memset(g, 0xee, sizeof(g));
	assert_int_equal(mock_detect(P, &udp, ZT_DIR_EGRESS, q, qn), ZT_DETECT_YES);
	assert_int_equal(mock_detect(P, &udp, ZT_DIR_EGRESS, g, sizeof(g)), ZT_DETECT_NO);
	assert_int_equal(mock_detect(P, &udp, ZT_DIR_EGRESS, q, 5), ZT_DETECT_NO);
	assert_int_equal(mock_detect(P, &tcp, ZT_DIR_EGRESS, t, tn), ZT_DETECT_YES);
	assert_int_equal(mock_detect(P, &tcp, ZT_DIR_EGRESS, t, 2), ZT_DETECT_YES);
	assert_int_equal(mock_detect(P, &tcp, ZT_DIR_EGRESS, t, 1), ZT_DETECT_MAYBE);
	assert_int_equal(mock_detect(P, &tcp, ZT_DIR_EGRESS, g, sizeof(g)), ZT_DETECT_NO);
	/* other ports: only with detect_any_port */
	assert_int_equal(mock_detect(P, &oudp, ZT_DIR_EGRESS, q, qn), ZT_DETECT_NO);
	mock_plugin_stop(P);
	start("{\"detect_any_port\":true}");
	assert_int_equal(mock_detect(P, &oudp, ZT_DIR_EGRESS, q, qn), ZT_DETECT_YES);
	assert_int_equal(mock_detect(P, &oudp, ZT_DIR_INGRESS, a, an), ZT_DETECT_YES);
	assert_int_equal(mock_detect(P, &other, ZT_DIR_EGRESS, t, tn), ZT_DETECT_YES);
	assert_int_equal(mock_detect(P, &other, ZT_DIR_EGRESS, t, 2), ZT_DETECT_NO);
	assert_int_equal(mock_detect(P, &other, ZT_DIR_EGRESS, t, tn - 3), ZT_DETECT_MAYBE);
	assert_int_equal(mock_detect(P, &oudp, ZT_DIR_EGRESS, g, sizeof(g)), ZT_DETECT_NO);
	/* strict: trailing bytes, a query with answers, a second question */
	q[qn] = 0;
	assert_int_equal(mock_detect(P, &oudp, ZT_DIR_EGRESS, q, qn + 1), ZT_DETECT_NO);
	a[2] &= 0x7f; /* the answer, as a query */
	assert_int_equal(mock_detect(P, &oudp, ZT_DIR_EGRESS, a, an), ZT_DETECT_NO);
}

/* ---------------------------------------------------------------- UDP */

static void test_udp_exchange(void **state)
{
	static const char *const ips[] = { "127.0.0.2", "::1" };
	const struct mock_record *r;
	struct mock_conn *c;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	exchange(c, 0x7778, "A.Test", 1, 0, ips, 2, T0, 3 * MS);
	assert_int_equal(mock_record_count(), 1);
	r = last_record();
	assert_int_equal(r->role, ZT_ROLE_CLIENT);
	assert_int_equal(r->status, ZT_STATUS_OK);
	assert_string_equal(r->method, "TypeA");
	assert_string_equal(r->resource, "a.test");
	assert_string_equal(r->status_label, "ok");
	assert_string_equal(mock_record_attr(r, "dns.question.name"), "a.test");
	assert_int_equal(r->end_ns - r->start_ns, 3 * MS);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "a.test", "ok", NULL), 1);
	assert_int_equal(mock_metric_hist_count(DUR, CID, CID, NULL), 1);
	assert_int_equal(mock_metric_hist_bucket(DUR, 0.005, CID, CID, NULL), 1);
	assert_true(fabs(mock_metric_value(DUR, CID, CID, NULL) - 0.003) < 1e-9);
	assert_int_equal(mock_metric_value("ip_to_fqdn", "127.0.0.2", "a.test", NULL), 1);
	assert_int_equal(mock_metric_value("ip_to_fqdn", "::1", "a.test", NULL), 1);
	/* again: counted twice, ip_to_fqdn unchanged */
	exchange(c, 0x7779, "a.test", 1, 0, ips, 2, T0 + 10 * MS, MS);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "a.test", "ok", NULL), 2);
	assert_int_equal(mock_metric_hist_count(DUR, CID, CID, NULL), 2);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 2);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

static void test_status_mapping(void **state)
{
	static const struct {
		uint32_t rcode;
		const char *label, *error;
	} cases[] = {
		{ 0, "ok", "" },
		{ 1, "format_error", "FORMERR" },
		{ 2, "servfail", "SERVFAIL" },
		{ 3, "nxdomain", "NXDOMAIN" },
		{ 4, "not_implemented", "NOTIMP" },
		{ 5, "refused", "REFUSED" },
		{ 9, "other", "NOTAUTH" },
		{ 15, "other", "RCODE_OTHER" },
	};
	struct mock_conn *c;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mock_record *r;
		exchange(c, (uint16_t)(100 + i), "x.test", 28, cases[i].rcode, NULL, 0, T0 + i * MS, MS);
		r = last_record();
		assert_string_equal(r->status_label, cases[i].label);
		assert_string_equal(r->error, cases[i].error);
		assert_int_equal(r->status, cases[i].rcode ? ZT_STATUS_FAILED : ZT_STATUS_OK);
	}
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeAAAA", "x.test", "nxdomain", NULL), 1);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeAAAA", "x.test", "other", NULL), 2);
	mock_conn_close(c);
}

static void test_types_and_domains(void **state)
{
	struct mock_conn *c;
	char longname[300];
	const struct mock_record *r;
	struct dnsb b = { .len = 0 };

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	exchange(c, 1, "mail.test", 15, 0, NULL, 0, T0, MS);
	assert_string_equal(last_record()->method, "TypeMX");
	exchange(c, 2, "x.test", 999, 0, NULL, 0, T0, MS);
	assert_string_equal(last_record()->method, "TypeOther");
	exchange(c, 3, "", 2, 0, NULL, 0, T0, MS);
	assert_string_equal(last_record()->resource, ".");
	/* a long name: the label is cut to 128 bytes */
	memset(longname, 0, sizeof(longname));
	for (int i = 0; i < 4; i++)
		memcpy(longname + i * 50, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw.", 50);
	strcat(longname, "test");
	exchange(c, 4, longname, 1, 0, NULL, 0, T0, MS);
	r = last_record();
	assert_int_equal(strlen(r->resource), 128);
	assert_memory_equal(r->resource, longname, 128);
	/* odd bytes are escaped, never copied raw into a label */
	b_hdr(&b, 5, F_QUERY, 1, 0, 0, 0);
	b_u8(&b, 3);
	b_bytes(&b, "a\n\xc3", 3);
	b_name(&b, "test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	mock_conn_message(c, ZT_DIR_EGRESS, b.buf, b.len, T0);
	b.buf[2] = 0x81;
	b.buf[3] = 0x80;
	mock_conn_message(c, ZT_DIR_INGRESS, b.buf, b.len, T0 + MS);
	assert_string_equal(last_record()->resource, "a\\010\\195.test");
	mock_conn_close(c);
}

static void test_domain_cap(void **state)
{
	struct zt_conn_info ci = udp_info(ZT_ROLE_CLIENT);
	struct mock_conn *c, *c2;
	char name[64];

	start("{\"max_domains_per_container\":3}");
	c = open_udp(ZT_ROLE_CLIENT);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "d%d.test", i);
		exchange(c, (uint16_t)i, name, 1, 0, NULL, 0, T0, MS);
	}
	exchange(c, 10, "d1.test", 1, 0, NULL, 0, T0, MS); /* already has its own label */
	exchange(c, 11, "d4.test", 1, 3, NULL, 0, T0, MS);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "d0.test", "ok", NULL), 1);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "d1.test", "ok", NULL), 2);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "d2.test", "ok", NULL), 1);
	assert_false(mock_metric_exists(REQ, CID, CID, "TypeA", "d3.test", "ok", NULL));
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "~other", "ok", NULL), 2);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "~other", "nxdomain", NULL), 1);
	/* another container has its own budget */
	ci.container_id = ZT_STR("/docker/web");
	ci.app_id = ci.container_id;
	assert_int_equal(mock_conn_open(P, &ci, &c2), 0);
	exchange(c2, 1, "d3.test", 1, 0, NULL, 0, T0, MS);
	assert_int_equal(mock_metric_value(REQ, "/docker/web", "/docker/web", "TypeA", "d3.test", "ok", NULL), 1);
	/* a second socket of the first container shares its budget */
	mock_conn_close(c2);
	assert_int_equal(mock_conn_open(P, NULL, &c2), 0);
	mock_conn_close(c2);
	ci.container_id = ZT_STR(CID);
	ci.app_id = ci.container_id;
	assert_int_equal(mock_conn_open(P, &ci, &c2), 0);
	exchange(c2, 1, "d9.test", 1, 0, NULL, 0, T0, MS);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "~other", "ok", NULL), 3);
	assert_int_equal(mock_metric_hist_count(DUR, CID, CID, NULL), 8);
	mock_conn_close(c2);
	mock_conn_close(c);
}

static void test_timeouts_and_unmatched(void **state)
{
	struct mock_conn *c;
	uint8_t q[512], a[512];
	size_t n;
	struct mock_l7_stats s;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	n = make_query(q, 1, "slow.test", 1);
	mock_conn_message(c, ZT_DIR_EGRESS, q, n, T0);
	mock_conn_expire(c, T0 + 5000 * MS); /* not yet: the timeout is 10 s */
	assert_int_equal(mock_record_count(), 0);
	mock_conn_expire(c, T0 + 10000 * MS);
	assert_int_equal(mock_record_count(), 1);
	assert_true(last_record()->flags & ZT_RECORD_TIMEOUT);
	assert_int_equal(mock_metric_value(TMO, CID, CID, "TypeA", "slow.test", NULL), 1);
	assert_int_equal(mock_metric_series_count(REQ), 0);
	assert_int_equal(mock_metric_hist_count(DUR, CID, CID, NULL), 0);
	/* the late answer finds nothing */
	n = make_answer(a, 1, "slow.test", 1, 0, NULL, 0);
	mock_conn_message(c, ZT_DIR_INGRESS, a, n, T0 + 11000 * MS);
	s = mock_conn_stats(c);
	assert_int_equal(s.unmatched_responses, 1);
	assert_int_equal(s.expired_requests, 1);
	assert_int_equal(mock_record_count(), 1);
	mock_conn_close(c);
}

/* A client that gives up closes its socket, usually before the core's
 * timeout (glibc after its attempts, dig after each try): what is still
 * waiting then is counted as a timeout, once. */
static void test_closed_unanswered(void **state)
{
	uint8_t q[512];
	size_t qn = make_query(q, 1, "gone.test", 28);
	struct mock_conn *c;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0);
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0 + 5000 * MS); /* retransmitted */
	mock_conn_close(c);
	assert_int_equal(mock_record_count(), 0);
	assert_int_equal(mock_metric_value(TMO, CID, CID, "TypeAAAA", "gone.test", NULL), 1);
	/* expired by the core first, then closed: still once */
	c = open_udp(ZT_ROLE_CLIENT);
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0);
	mock_conn_expire(c, T0 + 10000 * MS);
	assert_int_equal(mock_record_count(), 1);
	mock_conn_close(c);
	assert_int_equal(mock_metric_value(TMO, CID, CID, "TypeAAAA", "gone.test", NULL), 2);
	/* answered, then closed: no timeout */
	c = open_udp(ZT_ROLE_CLIENT);
	exchange(c, 5, "gone.test", 28, 0, NULL, 0, T0, MS);
	mock_conn_close(c);
	assert_int_equal(mock_metric_value(TMO, CID, CID, "TypeAAAA", "gone.test", NULL), 2);
	/* a server's connection closed with a query unanswered */
	c = open_tcp(ZT_ROLE_SERVER);
	{
		uint8_t f[520];
		mock_conn_message(c, ZT_DIR_INGRESS, f, tcp_frame(f, q, qn), T0);
	}
	mock_conn_close(c);
	assert_int_equal(mock_metric_value(INREQ, CID, CID, "TypeAAAA", "timeout", NULL), 1);
}

static void test_udp_retransmit(void **state)
{
	struct mock_conn *c;
	uint8_t q[512], a[512];
	size_t qn = make_query(q, 42, "r.test", 1), an = make_answer(a, 42, "r.test", 1, 0, NULL, 0);

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0);
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0 + 2000 * MS); /* resent, same id */
	mock_conn_message(c, ZT_DIR_INGRESS, a, an, T0 + 2100 * MS);
	mock_conn_expire(c, T0 + 60000 * MS);
	assert_int_equal(mock_record_count(), 1);
	assert_int_equal(last_record()->end_ns - last_record()->start_ns, 2100 * MS);
	assert_int_equal(mock_conn_stats(c).requests, 1);
	/* after the timeout the same bytes are a new query */
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0 + 70000 * MS);
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0 + 90000 * MS);
	assert_int_equal(mock_conn_stats(c).requests, 3);
	mock_conn_close(c);
}

/* An unconnected socket talking to two servers that answer the same id,
 * in the opposite order: the peer keeps them apart. */
static void test_udp_peers(void **state)
{
	struct zt_conn_info ci = udp_info(ZT_ROLE_CLIENT);
	uint8_t s1[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 53 }, s2[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 54 };
	uint8_t q1[512], q2[512], a1[512], a2[512];
	size_t q1n = make_query(q1, 7, "one.test", 1), q2n = make_query(q2, 7, "one.test", 1);
	size_t a1n = make_answer(a1, 7, "one.test", 1, 0, NULL, 0), a2n = make_answer(a2, 7, "one.test", 1, 3, NULL, 0);
	struct mock_conn *c;

	start(NULL);
	ci.remote_port = 0;
	memset(ci.remote_addr, 0, 16);
	assert_int_equal(mock_conn_open(P, &ci, &c), 0);
	mock_conn_datagram(c, ZT_DIR_EGRESS, q1, q1n, 0, 4, 53, s1, T0);
	mock_conn_datagram(c, ZT_DIR_EGRESS, q2, q2n, 0, 4, 53, s2, T0 + MS);
	mock_conn_datagram(c, ZT_DIR_INGRESS, a2, a2n, 0, 4, 53, s2, T0 + 3 * MS); /* s2: NXDOMAIN after 2 ms */
	mock_conn_datagram(c, ZT_DIR_INGRESS, a1, a1n, 0, 4, 53, s1, T0 + 9 * MS); /* s1: ok after 9 ms */
	assert_int_equal(mock_record_count(), 2);
	assert_string_equal(mock_record_get(0)->status_label, "nxdomain");
	assert_int_equal(mock_record_get(0)->end_ns - mock_record_get(0)->start_ns, 2 * MS);
	assert_string_equal(mock_record_get(1)->status_label, "ok");
	assert_int_equal(mock_record_get(1)->end_ns - mock_record_get(1)->start_ns, 9 * MS);
	assert_int_equal(mock_conn_stats(c).requests, 2); /* not taken for a retransmission */
	/* an answer whose peer the kernel did not report still finds its query */
	mock_conn_datagram(c, ZT_DIR_EGRESS, q1, q1n, 0, 4, 53, s1, T0 + 20 * MS);
	mock_conn_message(c, ZT_DIR_INGRESS, a1, a1n, T0 + 25 * MS);
	assert_int_equal(mock_record_count(), 3);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 0);
	mock_conn_close(c);
}

/* Two queries pending with the same id (a wrapped or colliding id) are
 * told apart by their question; an answer without a question (FORMERR
 * often has none) still finds its query; more queries pending than the
 * plugin remembers still pair. */
static void test_same_id(void **state)
{
	uint8_t q1[512], q2[512], a1[512], a2[512];
	size_t q1n = make_query(q1, 9, "one.test", 1), q2n = make_query(q2, 9, "two.test", 1);
	size_t a1n = make_answer(a1, 9, "ONE.test", 1, 0, NULL, 0), a2n = make_answer(a2, 9, "two.test", 1, 3, NULL, 0);
	struct dnsb b = { .len = 0 };
	struct mock_conn *c;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	mock_conn_message(c, ZT_DIR_EGRESS, q1, q1n, T0);
	mock_conn_message(c, ZT_DIR_EGRESS, q2, q2n, T0 + MS);
	mock_conn_message(c, ZT_DIR_INGRESS, a2, a2n, T0 + 2 * MS);
	mock_conn_message(c, ZT_DIR_INGRESS, a1, a1n, T0 + 5 * MS);
	assert_int_equal(mock_record_count(), 2);
	assert_string_equal(mock_record_get(0)->resource, "two.test");
	assert_string_equal(mock_record_get(0)->status_label, "nxdomain");
	assert_string_equal(mock_record_get(1)->resource, "one.test");
	assert_string_equal(mock_record_get(1)->status_label, "ok");
	/* FORMERR without a question */
	mock_conn_message(c, ZT_DIR_EGRESS, q1, q1n, T0 + 10 * MS);
	b_hdr(&b, 9, F_RESP | 1, 0, 0, 0, 0);
	mock_conn_message(c, ZT_DIR_INGRESS, b.buf, b.len, T0 + 11 * MS);
	assert_int_equal(mock_record_count(), 3);
	assert_string_equal(last_record()->status_label, "format_error");
	assert_string_equal(last_record()->resource, "one.test");
	/* 40 queries pending at once (the plugin remembers 16), answered
	 * newest first */
	for (uint16_t i = 0; i < 40; i++) {
		char name[32];
		snprintf(name, sizeof(name), "n%u.test", i);
		mock_conn_message(c, ZT_DIR_EGRESS, q1, make_query(q1, (uint16_t)(100 + i), name, 28), T0 + 20 * MS);
	}
	for (uint16_t i = 40; i-- > 0;) {
		char name[32];
		snprintf(name, sizeof(name), "n%u.test", i);
		mock_conn_message(c, ZT_DIR_INGRESS, a1, make_answer(a1, (uint16_t)(100 + i), name, 28, 0, NULL, 0),
				  T0 + 30 * MS);
		assert_string_equal(last_record()->resource, name);
	}
	assert_int_equal(mock_record_count(), 43);
	assert_int_equal(mock_conn_stats(c).unmatched_responses, 0);
	assert_int_equal(mock_conn_stats(c).pending, 0);
	mock_conn_close(c);
}

/* A server's socket: every client on one connection, told apart by peer. */
static void test_udp_server(void **state)
{
	struct zt_conn_info ci = udp_info(ZT_ROLE_SERVER);
	uint8_t c1[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 7 }, c2[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 8 };
	uint8_t q[512], a[512], a3[512];
	size_t qn = make_query(q, 1, "srv.test", 28), an = make_answer(a, 1, "srv.test", 28, 0, NULL, 0);
	size_t a3n = make_answer(a3, 1, "srv.test", 28, 5, NULL, 0);
	struct mock_conn *c;

	start(NULL);
	ci.remote_port = 0;
	memset(ci.remote_addr, 0, 16);
	assert_int_equal(mock_conn_open(P, &ci, &c), 0);
	mock_conn_datagram(c, ZT_DIR_INGRESS, q, qn, 0, 4, 40000, c1, T0);
	mock_conn_datagram(c, ZT_DIR_INGRESS, q, qn, 0, 4, 40000, c2, T0 + MS);
	mock_conn_datagram(c, ZT_DIR_EGRESS, a3, a3n, 0, 4, 40000, c2, T0 + 2 * MS);
	mock_conn_datagram(c, ZT_DIR_EGRESS, a, an, 0, 4, 40000, c1, T0 + 5 * MS);
	mock_conn_datagram(c, ZT_DIR_INGRESS, q, qn, 0, 4, 40001, c1, T0 + 6 * MS); /* never answered */
	mock_conn_expire(c, T0 + 60000 * MS);
	assert_int_equal(mock_record_count(), 3);
	assert_int_equal(mock_record_get(0)->role, ZT_ROLE_SERVER);
	assert_int_equal(mock_metric_value(INREQ, CID, CID, "TypeAAAA", "refused", NULL), 1);
	assert_int_equal(mock_metric_value(INREQ, CID, CID, "TypeAAAA", "ok", NULL), 1);
	assert_int_equal(mock_metric_value(INREQ, CID, CID, "TypeAAAA", "timeout", NULL), 1);
	assert_int_equal(mock_metric_hist_count(INDUR, CID, CID, NULL), 2);
	/* the server side feeds no client family */
	assert_int_equal(mock_metric_series_count(REQ), 0);
	assert_int_equal(mock_metric_series_count(TMO), 0);
	mock_conn_close(c);
}

static void test_udp_capture_cut(void **state)
{
	static const char *const ips[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3" };
	uint8_t q[512], a[512];
	size_t qn = make_query(q, 9, "cut.test", 1), an = make_answer(a, 9, "cut.test", 1, 0, ips, 3);
	struct mock_conn *c;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	/* the answer captured up to the middle of its second address */
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0);
	mock_conn_message_cap(c, ZT_DIR_INGRESS, a, an, an - 20, T0 + MS);
	assert_int_equal(mock_record_count(), 1);
	assert_string_equal(last_record()->status_label, "ok");
	assert_int_equal(mock_metric_value("ip_to_fqdn", "10.0.0.1", "cut.test", NULL), 1);
	assert_false(mock_metric_exists("ip_to_fqdn", "10.0.0.2", "cut.test", NULL));
	/* only the header, or part of the question, captured: paired by id,
	 * with an unknown type and domain */
	mock_conn_message_cap(c, ZT_DIR_EGRESS, q, qn, 12, T0 + 2 * MS);
	mock_conn_message_cap(c, ZT_DIR_INGRESS, a, an, 12, T0 + 3 * MS);
	mock_conn_message_cap(c, ZT_DIR_EGRESS, q, qn, 16, T0 + 4 * MS);
	mock_conn_message_cap(c, ZT_DIR_INGRESS, a, an, 16, T0 + 5 * MS);
	assert_int_equal(mock_record_count(), 3);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeUnknown", "~unknown", "ok", NULL), 2);
	/* less than a header: nothing to pair */
	mock_conn_message_cap(c, ZT_DIR_EGRESS, q, qn, 11, T0 + 6 * MS);
	assert_int_equal(mock_conn_stats(c).requests, 3);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

static void test_not_counted(void **state)
{
	struct mock_conn *c;
	struct dnsb b = { .len = 0 };
	uint8_t q[512];
	size_t qn = make_query(q, 3, "zone.test", 6);

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	/* NOTIFY and its answer */
	q[2] = 4 << 3;
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0);
	q[2] |= 0x80;
	mock_conn_message(c, ZT_DIR_INGRESS, q, qn, T0 + MS);
	/* a query without a question (a cookie refresh) */
	b_hdr(&b, 4, F_QUERY, 0, 0, 0, 0);
	mock_conn_message(c, ZT_DIR_EGRESS, b.buf, b.len, T0);
	assert_int_equal(mock_frame_count(), 0);
	assert_int_equal(mock_conn_stats(c).parse_errors, 0);
	mock_conn_close(c);
}

static void test_cname_fqdn(void **state)
{
	struct dnsb b = { .len = 0 };
	uint8_t q[512];
	size_t qn = make_query(q, 5, "Alias.DM", 1);
	struct mock_conn *c;
	uint16_t www, web;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	b_hdr(&b, 5, F_RESP, 1, 3, 0, 0);
	b_name(&b, "alias.dm");
	b_u16(&b, 1);
	b_u16(&b, 1);
	www = b_rr_cname(&b, 12, "www.dm");
	web = b_rr_cname(&b, www, "web.dm");
	b_rr_a(&b, web, "127.0.0.7");
	mock_conn_message(c, ZT_DIR_EGRESS, q, qn, T0);
	mock_conn_message(c, ZT_DIR_INGRESS, b.buf, b.len, T0 + MS);
	assert_int_equal(mock_metric_value("ip_to_fqdn", "127.0.0.7", "alias.dm", NULL), 1);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 1);
	mock_conn_close(c);
}

static void test_fqdn_cap_and_expiry(void **state)
{
	static const char *const ip1[] = { "10.0.0.1" }, *const ip2[] = { "10.0.0.2" }, *const ip3[] = { "10.0.0.3" };
	struct mock_conn *c;

	start("{\"ip_to_fqdn_max_entries\":2,\"ip_to_fqdn_expiry_s\":60}");
	c = open_udp(ZT_ROLE_CLIENT);
	mock_set_clock(T0, T0);
	exchange(c, 1, "one.test", 1, 0, ip1, 1, T0, MS);
	mock_set_clock(T0 + 10 * 1000 * MS, T0);
	exchange(c, 2, "two.test", 1, 0, ip2, 1, T0, MS);
	mock_set_clock(T0 + 20 * 1000 * MS, T0);
	exchange(c, 3, "three.test", 1, 0, ip3, 1, T0, MS);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 2);
	assert_false(mock_metric_exists("ip_to_fqdn", "10.0.0.1", "one.test", NULL));
	assert_int_equal(mock_metric_value("zerotap_dns_ip_to_fqdn_evicted_total", NULL), 1);
	/* 65 s after "two" was seen: it expires at the next sweep, "three" stays */
	mock_set_clock(T0 + 75 * 1000 * MS, T0);
	assert_int_equal(mock_fire_timers(), 1);
	assert_false(mock_metric_exists("ip_to_fqdn", "10.0.0.2", "two.test", NULL));
	assert_int_equal(mock_metric_value("ip_to_fqdn", "10.0.0.3", "three.test", NULL), 1);
	mock_conn_close(c);
	/* containers without connections are forgotten after an hour */
	mock_set_clock(T0 + 7200 * 1000 * MS, T0);
	assert_int_equal(mock_fire_timers(), 1);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 0);
}

/* A restarted instance (config reload) keeps its counters but takes its
 * ip_to_fqdn gauges with it: the new table could never expire them. */
static void test_restart(void **state)
{
	static const char *const ips[] = { "10.0.0.1" };
	struct mock_conn *c;

	start(NULL);
	c = open_udp(ZT_ROLE_CLIENT);
	exchange(c, 1, "one.test", 1, 0, ips, 1, T0, MS);
	mock_conn_close(c);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 1);
	mock_plugin_stop(P);
	start(NULL);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 0);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "one.test", "ok", NULL), 1);
	c = open_udp(ZT_ROLE_CLIENT);
	exchange(c, 2, "one.test", 1, 0, ips, 1, T0, MS);
	assert_int_equal(mock_metric_value(REQ, CID, CID, "TypeA", "one.test", "ok", NULL), 2);
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), 1);
	mock_conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_descriptor, teardown),
		cmocka_unit_test_teardown(test_config, teardown),
		cmocka_unit_test_teardown(test_rules, teardown),
		cmocka_unit_test_teardown(test_detect, teardown),
		cmocka_unit_test_teardown(test_udp_exchange, teardown),
		cmocka_unit_test_teardown(test_status_mapping, teardown),
		cmocka_unit_test_teardown(test_types_and_domains, teardown),
		cmocka_unit_test_teardown(test_domain_cap, teardown),
		cmocka_unit_test_teardown(test_timeouts_and_unmatched, teardown),
		cmocka_unit_test_teardown(test_closed_unanswered, teardown),
		cmocka_unit_test_teardown(test_udp_retransmit, teardown),
		cmocka_unit_test_teardown(test_udp_peers, teardown),
		cmocka_unit_test_teardown(test_same_id, teardown),
		cmocka_unit_test_teardown(test_udp_server, teardown),
		cmocka_unit_test_teardown(test_udp_capture_cut, teardown),
		cmocka_unit_test_teardown(test_not_counted, teardown),
		cmocka_unit_test_teardown(test_cname_fqdn, teardown),
		cmocka_unit_test_teardown(test_fqdn_cap_and_expiry, teardown),
		cmocka_unit_test_teardown(test_restart, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
