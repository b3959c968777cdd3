/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the DNS wire parser (dns_wire.c) and the ip_to_fqdn table
 * (fqdn.c): names, compression, bounds, sections, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns_testlib.h"
#include "dns_wire.h"
#include "fqdn.h"

static int name_at(const struct dnsb *b, size_t off, size_t cap, char *text, size_t textcap, size_t *end)
{
	size_t tl;
	uint32_t cut;
	return dns_name(b->buf, cap, b->len, off, end, text, textcap, &tl, &cut, NULL);
}

static void test_name_plain(void **state)
{
	struct dnsb b = { .len = 0 };
	char t[300];
	size_t end;
	uint64_t h1, h2;

	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_name(&b, "WWW.Example.COM");
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_OK);
	assert_string_equal(t, "www.example.com");
	assert_int_equal(end, b.len);
	/* the hash ignores case */
	assert_int_equal(dns_name(b.buf, b.len, b.len, 12, &end, NULL, 0, NULL, NULL, &h1), DNS_OK);
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_name(&b, "www.example.com");
	assert_int_equal(dns_name(b.buf, b.len, b.len, 12, &end, NULL, 0, NULL, NULL, &h2), DNS_OK);
	assert_true(h1 == h2);
	/* the root */
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_name(&b, "");
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_OK);
	assert_string_equal(t, ".");
	assert_int_equal(end, 13);
}

static void test_name_escapes(void **state)
{
	struct dnsb b = { .len = 0 };
	static const uint8_t label[] = { 'a', '.', 'B', '\\', ' ', 0xff, 0 };
	char t[300];
	size_t end, tl;
	uint32_t cut;

	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_u8(&b, sizeof(label));
	b_bytes(&b, label, sizeof(label));
	b_name(&b, "test");
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_OK);
	assert_string_equal(t, "a\\.b\\\\\\032\\255\\000.test");
	/* cut only at whole characters */
	assert_int_equal(dns_name(b.buf, b.len, b.len, 12, &end, t, 6, &tl, &cut, NULL), DNS_OK);
	assert_string_equal(t, "a\\.b");
	assert_int_equal(tl, 4);
	assert_int_equal(cut, 1);
	assert_int_equal(end, b.len); /* the end is right even when the text is cut */
}

static void test_name_pointers(void **state)
{
	struct dnsb b = { .len = 0 };
	char t[300];
	size_t end, p2, p3;

	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_name(&b, "a.test"); /* 12 */
	p2 = b.len;
	b_u8(&b, 3);
	b_bytes(&b, "www", 3);
	b_ptr(&b, 12);
	assert_int_equal(name_at(&b, p2, b.len, t, sizeof(t), &end), DNS_OK);
	assert_string_equal(t, "www.a.test");
	assert_int_equal(end, p2 + 6); /* right after the pointer */
	/* a pointer to a pointer */
	p3 = b.len;
	b_u8(&b, 2);
	b_bytes(&b, "v6", 2);
	b_ptr(&b, (uint16_t)p2);
	assert_int_equal(name_at(&b, p3, b.len, t, sizeof(t), &end), DNS_OK);
	assert_string_equal(t, "v6.www.a.test");
}

static void test_name_loops(void **state)
{
	struct dnsb b = { .len = 0 };
	size_t end, p;
	char t[64];

	/* a pointer to itself */
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_ptr(&b, 12);
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_BAD);
	/* a forward pointer */
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_ptr(&b, 14);
	b_name(&b, "x");
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_BAD);
	/* a name whose pointer goes back into itself */
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_u8(&b, 1);
	b_u8(&b, 'a');
	b_u8(&b, 1);
	b_u8(&b, 'b');
	b_ptr(&b, 14);
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_BAD);
	/* two names pointing at each other: 12 -> 20 is forward, so the
	 * walk from 20 -> 12 -> 20 stops at the second jump */
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_u8(&b, 1);
	b_u8(&b, 'a');
	b_ptr(&b, 16); /* 12: a -> @16 */
	p = b.len;     /* 16 */
	b_u8(&b, 1);
	b_u8(&b, 'b');
	b_ptr(&b, 12); /* 16: b -> @12 */
	assert_int_equal(name_at(&b, p, b.len, t, sizeof(t), &end), DNS_BAD);
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_BAD);
	/* the extended label types 0x40 and 0x80 */
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_u8(&b, 0x41);
	b_u8(&b, 0);
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_BAD);
	b.buf[12] = 0x81;
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_BAD);
}

static void test_name_lengths(void **state)
{
	struct dnsb b = { .len = 0 };
	char l63[64], t[1100], name[300];
	size_t end;

	memset(l63, 'x', 63);
	l63[63] = 0;
	/* 3 x 63 + 61: 64 + 64 + 64 + 62 + 1 = 255 wire bytes: the limit */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_name(&b, name);
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_OK);
	assert_int_equal(strlen(t), 253);
	/* one more byte is too long */
	snprintf(name, sizeof(name), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_name(&b, name);
	assert_int_equal(name_at(&b, 12, b.len, t, sizeof(t), &end), DNS_BAD);
	/* ... also when the length comes from pointers */
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	snprintf(name, sizeof(name), "%s.%s", l63, l63);
	b_name(&b, name);
	{
		size_t p = b.len;
		b_u8(&b, 63);
		b_bytes(&b, l63, 63);
		b_u8(&b, 63);
		b_bytes(&b, l63, 63);
		b_ptr(&b, 12);
		assert_int_equal(name_at(&b, p, b.len, t, sizeof(t), &end), DNS_BAD);
	}
}

static void test_name_truncated(void **state)
{
	struct dnsb b = { .len = 0 };
	char t[64];
	size_t end;

	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_name(&b, "abc.test");
	/* cut by the capture: short; cut by the message: bad */
	for (size_t cap = 12; cap < b.len; cap++) {
		assert_int_equal(name_at(&b, 12, cap, t, sizeof(t), &end), DNS_SHORT);
		assert_int_equal(dns_name(b.buf, cap, cap, 12, &end, t, sizeof(t), NULL, NULL, NULL), DNS_BAD);
	}
	/* a pointer's second byte missing */
	b_reset(&b);
	b_hdr(&b, 1, 0, 1, 0, 0, 0);
	b_u8(&b, 0xc0);
	assert_int_equal(dns_name(b.buf, b.len, b.len, 12, &end, t, sizeof(t), NULL, NULL, NULL), DNS_BAD);
}

static void test_header_sane(void **state)
{
	struct dnsb b = { .len = 0 };
	uint8_t q[512];
	size_t n = make_query(q, 7, "a.test", 1);

	assert_true(dns_header_sane(q, n));
	assert_false(dns_header_sane(q, 11));
	q[2] = 3 << 3; /* opcode 3: unassigned */
	assert_false(dns_header_sane(q, n));
	q[2] = 7 << 3;
	assert_false(dns_header_sane(q, n));
	q[2] = 4 << 3; /* NOTIFY */
	assert_true(dns_header_sane(q, n));
	/* more records than the length can hold */
	b_hdr(&b, 1, 0x8180, 1, 0xffff, 0, 0);
	b_name(&b, "a.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	assert_false(dns_header_sane(b.buf, b.len));
	assert_false(dns_header_sane(b.buf, 65535));
	b.buf[6] = 0;
	b.buf[7] = 1; /* one record: needs 11 bytes past the question */
	assert_false(dns_header_sane(b.buf, b.len));
	assert_true(dns_header_sane(b.buf, b.len + 11));
	/* too many questions */
	b.buf[7] = 0;
	b.buf[5] = DNS_MAX_QUESTIONS + 1;
	assert_false(dns_header_sane(b.buf, 4096));
}

static void test_parse_query(void **state)
{
	uint8_t q[512];
	size_t n = make_query(q, 0xbeef, "Mail.Test", 15);
	struct dns_msg m;

	assert_int_equal(dns_parse(q, n, n, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_int_equal(m.id, 0xbeef);
	assert_false(m.flags & DNS_QR);
	assert_int_equal(m.has_question, 1);
	assert_int_equal(m.qtype, 15);
	assert_int_equal(m.qclass, 1);
	assert_string_equal(m.qname, "mail.test");
	assert_int_equal(m.qname_len, 9);
	/* the question cut by the capture */
	assert_int_equal(dns_parse(q, 15, n, DNS_PARSE_ANSWERS, &m), DNS_SHORT);
	assert_int_equal(m.has_question, 0);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(dns_parse(q, n - 2, n, DNS_PARSE_ANSWERS, &m), DNS_SHORT);
	/* ... by the message */
	assert_int_equal(dns_parse(q, n - 2, n - 2, DNS_PARSE_ANSWERS, &m), DNS_BAD);
	assert_int_equal(dns_parse(q, 11, 11, 0, &m), DNS_BAD);
	assert_int_equal(dns_parse(q, 5, n, 0, &m), DNS_SHORT);
}

static void test_parse_answers(void **state)
{
	static const char *const ips[] = { "127.0.0.2", "::1", "10.1.2.3" };
	uint8_t r[1024];
	size_t n = make_answer(r, 9, "a.test", 1, 0, ips, 3);
	struct dns_msg m;
	uint8_t want4[4] = { 127, 0, 0, 2 };

	assert_int_equal(dns_parse(r, n, n, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_true(m.flags & DNS_QR);
	assert_int_equal(m.naddrs, 3);
	assert_memory_equal(m.addrs[0].ip, want4, 4);
	assert_int_equal(m.addrs[0].v6, 0);
	assert_int_equal(m.addrs[1].v6, 1);
	assert_int_equal(m.addrs[1].ip[15], 1);
	/* without DNS_PARSE_ANSWERS the section is not read */
	assert_int_equal(dns_parse(r, n, n, 0, &m), DNS_OK);
	assert_int_equal(m.naddrs, 0);
	/* the capture ends inside the second record: one address, short */
	assert_int_equal(dns_parse(r, n - 20, n, DNS_PARSE_ANSWERS, &m), DNS_SHORT);
	assert_int_equal(m.naddrs, 1);
	assert_int_equal(m.answers_short, 1);
	/* rdlength past the end of the message */
	r[n - 5] = 0xff;
	r[n - 6] = 0xff; /* the last record's rdlength (4 bytes of rdata follow it) */
	assert_int_equal(dns_parse(r, n, n, DNS_PARSE_ANSWERS, &m), DNS_BAD);
}

static void test_parse_cname_chain(void **state)
{
	struct dnsb b = { .len = 0 };
	struct dns_msg m;
	uint16_t www, web;

	/* alias.dm -> www.dm -> web.dm A, with the A record first: the
	 * chain is followed whatever the order */
	b_hdr(&b, 5, F_RESP, 1, 3, 0, 0);
	b_name(&b, "alias.dm");
	b_u16(&b, 1);
	b_u16(&b, 1);
	web = (uint16_t)b.len;
	b_name(&b, "web.dm");
	b_u16(&b, 1);
	b_u16(&b, 1);
	b_u32(&b, 60);
	b_u16(&b, 4);
	b_u32(&b, 0x7f000007);
	www = b_rr_cname(&b, 12, "www.dm");
	b_ptr(&b, www); /* www.dm CNAME web.dm (a pointer to the first record's owner) */
	b_u16(&b, 5);
	b_u16(&b, 1);
	b_u32(&b, 60);
	b_u16(&b, 2);
	b_ptr(&b, web);
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_int_equal(m.naddrs, 1);
	assert_int_equal(m.addrs[0].ip[3], 7);
	assert_string_equal(m.qname, "alias.dm");

	/* an A owned by an unrelated name is not ours */
	b_reset(&b);
	b_hdr(&b, 5, F_RESP, 1, 2, 0, 0);
	b_name(&b, "a.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	{
		size_t o = b.len;
		b_name(&b, "evil.example");
		b_u16(&b, 1);
		b_u16(&b, 1);
		b_u32(&b, 60);
		b_u16(&b, 4);
		b_u32(&b, 0x01020304);
		b_rr_a(&b, (uint16_t)o, "5.6.7.8"); /* also evil.example's */
	}
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_int_equal(m.naddrs, 0);

	/* a CNAME loop (a -> b -> a) ends */
	b_reset(&b);
	b_hdr(&b, 5, F_RESP, 1, 3, 0, 0);
	b_name(&b, "a.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	www = b_rr_cname(&b, 12, "b.test");
	b_rr_cname(&b, www, "a.test");
	b_rr_a(&b, www, "127.0.0.3");
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_int_equal(m.naddrs, 1);

	/* a CNAME whose target runs past its rdata */
	b_reset(&b);
	b_hdr(&b, 5, F_RESP, 1, 1, 0, 0);
	b_name(&b, "a.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	b_ptr(&b, 12);
	b_u16(&b, 5);
	b_u16(&b, 1);
	b_u32(&b, 60);
	b_u16(&b, 2);
	b_name(&b, "longer");
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_BAD);
}

static void test_parse_many_answers(void **state)
{
	struct dnsb b = { .len = 0 };
	struct dns_msg m;

	b_hdr(&b, 5, F_RESP, 1, 100, 0, 0);
	b_name(&b, "big.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	for (int i = 0; i < 100; i++)
		b_rr_a(&b, 12, "127.0.1.1");
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_int_equal(m.naddrs, DNS_MAX_ADDRS);
}

static void test_parse_questions(void **state)
{
	struct dnsb b = { .len = 0 };
	struct dns_msg m;

	/* qdcount 0: no question, fine */
	b_hdr(&b, 1, F_RESP | 1, 0, 0, 0, 0);
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_int_equal(m.has_question, 0);
	/* qdcount 2 with one question: a query only needs the first */
	b_reset(&b);
	b_hdr(&b, 1, F_QUERY, 2, 0, 0, 0);
	b_name(&b, "a.test");
	b_u16(&b, 1);
	b_u16(&b, 1);
	b_u8(&b, 0);
	b_u16(&b, 1);
	b_u16(&b, 1);
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_string_equal(m.qname, "a.test");
	/* an answer with two questions: the second is skipped to reach the records */
	b.buf[2] = 0x81;
	b.buf[3] = 0x80;
	b.buf[7] = 1;
	b_rr_a(&b, 12, "1.2.3.4");
	assert_int_equal(dns_parse(b.buf, b.len, b.len, DNS_PARSE_ANSWERS, &m), DNS_OK);
	assert_int_equal(m.naddrs, 1);
}

static void test_validate_full(void **state)
{
	static const char *const ips[] = { "127.0.0.2" };
	uint8_t r[1024];
	size_t n = make_answer(r, 9, "a.test", 1, 0, ips, 1);

	assert_true(dns_validate_full(r, n));
	assert_false(dns_validate_full(r, n - 1));
	r[n] = 0;
	assert_false(dns_validate_full(r, n + 1)); /* trailing bytes */
	n = make_query(r, 1, "a.test", 1);
	assert_true(dns_validate_full(r, n));
	assert_false(dns_validate_full(r, 11));
}

static void test_names_tables(void **state)
{
	assert_string_equal(dns_type_name(1), "TypeA");
	assert_string_equal(dns_type_name(28), "TypeAAAA");
	assert_string_equal(dns_type_name(15), "TypeMX");
	assert_string_equal(dns_type_name(65), "TypeHTTPS");
	assert_string_equal(dns_type_name(0), "TypeOther");
	assert_string_equal(dns_type_name(65535), "TypeOther");
	assert_string_equal(dns_rcode_status(0), "ok");
	assert_string_equal(dns_rcode_status(1), "format_error");
	assert_string_equal(dns_rcode_status(2), "servfail");
	assert_string_equal(dns_rcode_status(3), "nxdomain");
	assert_string_equal(dns_rcode_status(4), "not_implemented");
	assert_string_equal(dns_rcode_status(5), "refused");
	assert_string_equal(dns_rcode_status(9), "other");
	assert_string_equal(dns_rcode_status(15), "other");
	assert_string_equal(dns_rcode_error(3), "NXDOMAIN");
	assert_string_equal(dns_rcode_error(9), "NOTAUTH");
	assert_string_equal(dns_rcode_error(15), "RCODE_OTHER");
}

/* ------------------------------------------------------------- fqdn */

static int ndropped;
static char dropped[8][300];

static void on_drop(void *ctx, const struct fqdn_entry *e)
{
	char ip[64];
	fqdn_ip_text(e, ip, sizeof(ip));
	if (ndropped < 8)
		snprintf(dropped[ndropped], sizeof(dropped[0]), "%s %s", ip, e->name);
	ndropped++;
}

static void test_fqdn_table(void **state)
{
	struct fqdn_table t;
	uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 }, c6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	char ip[64];

	ndropped = 0;
	assert_int_equal(fqdn_init(&t, 2), 0);
	assert_int_equal(fqdn_note(&t, a, 0, "a.test", 6, 100, on_drop, NULL), 1);
	assert_int_equal(fqdn_note(&t, a, 0, "a.test", 6, 200, on_drop, NULL), 0); /* refresh */
	assert_int_equal(fqdn_note(&t, b, 0, "b.test", 6, 150, on_drop, NULL), 1);
	assert_int_equal(t.count, 2);
	/* full: the pair noted longest ago (a, refreshed before b came) goes */
	assert_int_equal(fqdn_note(&t, c6, 1, "c.test", 6, 300, on_drop, NULL), 1);
	assert_int_equal(ndropped, 1);
	assert_string_equal(dropped[0], "10.0.0.1 a.test");
	assert_int_equal(t.evicted, 1);
	fqdn_ip_text(t.newest, ip, sizeof(ip));
	assert_string_equal(ip, "2001:db8::1");
	/* the same ip for another name is another pair */
	assert_int_equal(fqdn_note(&t, a, 0, "alias.test", 10, 310, on_drop, NULL), 1);
	assert_int_equal(ndropped, 2);
	assert_string_equal(dropped[1], "10.0.0.2 b.test");
	/* expiry */
	fqdn_expire(&t, 305, on_drop, NULL);
	assert_int_equal(ndropped, 3);
	assert_string_equal(dropped[2], "2001:db8::1 c.test");
	assert_int_equal(t.count, 1);
	fqdn_free(&t);
	/* max 0: nothing is kept */
	assert_int_equal(fqdn_init(&t, 0), 0);
	assert_int_equal(fqdn_note(&t, a, 0, "a.test", 6, 1, on_drop, NULL), 0);
	assert_int_equal(t.count, 0);
	fqdn_free(&t);
}

static void test_fqdn_many(void **state)
{
	struct fqdn_table t;

	ndropped = 0;
	assert_int_equal(fqdn_init(&t, 1000), 0);
	for (uint32_t i = 0; i < 5000; i++) {
		uint8_t ip[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		assert_int_equal(fqdn_note(&t, ip, 0, "n.test", 6, i, on_drop, NULL), 1);
	}
	assert_int_equal(t.count, 1000);
	assert_int_equal(t.evicted, 4000);
	assert_int_equal(t.oldest->seen_ns, 4000);
	fqdn_expire(&t, UINT64_MAX, NULL, NULL);
	assert_int_equal(t.count, 0);
	assert_null(t.oldest);
	assert_null(t.newest);
	fqdn_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_plain),
		cmocka_unit_test(test_name_escapes),
		cmocka_unit_test(test_name_pointers),
		cmocka_unit_test(test_name_loops),
		cmocka_unit_test(test_name_lengths),
		cmocka_unit_test(test_name_truncated),
		cmocka_unit_test(test_header_sane),
		cmocka_unit_test(test_parse_query),
		cmocka_unit_test(test_parse_answers),
		cmocka_unit_test(test_parse_cname_chain),
		cmocka_unit_test(test_parse_many_answers),
		cmocka_unit_test(test_parse_questions),
		cmocka_unit_test(test_validate_full),
		cmocka_unit_test(test_names_tables),
		cmocka_unit_test(test_fqdn_table),
		cmocka_unit_test(test_fqdn_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
