/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conntrack: the ctnetlink requests byte by byte (walked with a parser of
 * this file's own, not the module's), the reply parser against crafted
 * kernel answers and against lies, then a live socket (root: an entry that
 * does not exist is -ENOENT, the count query answers) and the resolver's
 * cases that need no NAT rule (loopback, no conntrack object). The NAT
 * lookups themselves are tested with real DNAT rules in
 * tests/integration/tcp_nat.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "conntrack.h"
#include "netclass.h"
#include "registry.h"

#define CT_TYPE(msg) ((uint16_t)((NFNL_SUBSYS_CTNETLINK << 8) | (msg)))

static struct ct_tuple tuple(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct ct_tuple t = { .sport = sport, .dport = dport, .proto = IPPROTO_TCP };
	assert_int_equal(zt_addr_parse(src, &t.src), 0);
	assert_int_equal(zt_addr_parse(dst, &t.dst), 0);
	return t;
}

/* ---- an independent reader for the requests ---- */

struct attr {
	uint16_t type; /* with flags */
	const uint8_t *d;
	size_t len;
};

/* Splits [p, p + len) into attributes; every one must fit exactly. */
static int attrs(const uint8_t *p, size_t len, struct attr *out, int max)
{
	int n = 0;
	size_t off = 0;
	while (off < len) {
		struct nlattr h;
		assert_true(len - off >= sizeof(h));
		memcpy(&h, p + off, sizeof(h));
		assert_true(h.nla_len >= NLA_HDRLEN && h.nla_len <= len - off);
		assert_true(n < max);
		out[n++] = (struct attr){ h.nla_type, p + off + NLA_HDRLEN, h.nla_len - NLA_HDRLEN };
		off += NLA_ALIGN(h.nla_len);
	}
	assert_int_equal(off, len);
	return n;
}

static void check_get(const uint8_t *b, int len, uint32_t seq, int family, const struct ct_tuple *t)
{
	struct nlmsghdr h;
	struct nfgenmsg g;
	struct attr top[4], tup[4], ip[4], pr[4];
	size_t alen = family == AF_INET ? 4 : 16;
	uint16_t port;

	assert_true(len > 0);
	memcpy(&h, b, sizeof(h));
	assert_int_equal(h.nlmsg_len, len);
	assert_int_equal(h.nlmsg_type, CT_TYPE(IPCTNL_MSG_CT_GET));
	assert_int_equal(h.nlmsg_flags, NLM_F_REQUEST); /* no dump, no ack */
	assert_int_equal(h.nlmsg_seq, seq);
	memcpy(&g, b + NLMSG_HDRLEN, sizeof(g));
	assert_int_equal(g.nfgen_family, family);
	assert_int_equal(g.version, NFNETLINK_V0);
	assert_int_equal(g.res_id, 0);

	assert_int_equal(attrs(b + NLMSG_HDRLEN + 4, (size_t)len - NLMSG_HDRLEN - 4, top, 4), 1);
	assert_int_equal(top[0].type, CTA_TUPLE_ORIG | NLA_F_NESTED);
	assert_int_equal(attrs(top[0].d, top[0].len, tup, 4), 2);
	assert_int_equal(tup[0].type, CTA_TUPLE_IP | NLA_F_NESTED);
	assert_int_equal(tup[1].type, CTA_TUPLE_PROTO | NLA_F_NESTED);

	assert_int_equal(attrs(tup[0].d, tup[0].len, ip, 4), 2);
	assert_int_equal(ip[0].type, family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC);
	assert_int_equal(ip[1].type, family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST);
	assert_int_equal(ip[0].len, alen);
	assert_int_equal(ip[1].len, alen);
	assert_memory_equal(ip[0].d, t->src.a + 16 - alen, alen);
	assert_memory_equal(ip[1].d, t->dst.a + 16 - alen, alen);

	assert_int_equal(attrs(tup[1].d, tup[1].len, pr, 4), 3);
	assert_int_equal(pr[0].type, CTA_PROTO_NUM);
	assert_int_equal(pr[0].len, 1);
	assert_int_equal(pr[0].d[0], IPPROTO_TCP);
	assert_int_equal(pr[1].type, CTA_PROTO_SRC_PORT);
	assert_int_equal(pr[1].len, 2);
	memcpy(&port, pr[1].d, 2);
	assert_int_equal(ntohs(port), t->sport);
	assert_int_equal(pr[2].type, CTA_PROTO_DST_PORT);
	memcpy(&port, pr[2].d, 2);
	assert_int_equal(ntohs(port), t->dport);
}

static void test_build_get_v4(void **state)
{
	uint8_t b[CT_REQ_MAX];
	struct ct_tuple t = tuple("10.1.2.3", 40000, "10.96.0.10", 53);
	int len = ct_build_get(b, sizeof(b), 77, &t);
	check_get(b, len, 77, AF_INET, &t);
	/* 16 + 4 + orig(4 + ip(4 + 8 + 8) + proto(4 + 8 + 8 + 8)) */
	assert_int_equal(len, 72);
}

static void test_build_get_v6(void **state)
{
	uint8_t b[CT_REQ_MAX];
	struct ct_tuple t = tuple("fd00::1", 1, "2001:db8::5", 65535);
	int len = ct_build_get(b, sizeof(b), 0xfffffffeu, &t);
	check_get(b, len, 0xfffffffeu, AF_INET6, &t);
	assert_int_equal(len, 96); /* ip(4 + 20 + 20) */
	assert_true(len <= CT_REQ_MAX);
}

static void test_build_limits(void **state)
{
	uint8_t b[CT_REQ_MAX];
	struct ct_tuple mixed = tuple("10.0.0.1", 1, "2001:db8::5", 2), t = tuple("10.0.0.1", 1, "10.0.0.2", 2);
	struct nlmsghdr h;

	assert_int_equal(ct_build_get(b, sizeof(b), 1, &mixed), -EINVAL);
	for (size_t n = 0; n < 72; n++)
		assert_int_equal(ct_build_get(b, n, 1, &t), -ENOSPC);
	assert_int_equal(ct_build_get(b, 72, 1, &t), 72);

	assert_int_equal(ct_build_stats(b, sizeof(b), 9), NLMSG_HDRLEN + 4);
	memcpy(&h, b, sizeof(h));
	assert_int_equal(h.nlmsg_len, NLMSG_HDRLEN + 4);
	assert_int_equal(h.nlmsg_type, CT_TYPE(IPCTNL_MSG_CT_GET_STATS));
	assert_int_equal(h.nlmsg_flags, NLM_F_REQUEST);
	assert_int_equal(h.nlmsg_seq, 9);
	assert_int_equal(b[NLMSG_HDRLEN], AF_UNSPEC);
	assert_int_equal(ct_build_stats(b, NLMSG_HDRLEN + 3, 9), -ENOSPC);
}

/* ---- crafted answers ---- */

struct nlbuf {
	uint8_t b[4096];
	size_t len, msg;
	size_t nest[8];
	int depth;
};

static void nb_put(struct nlbuf *nb, const void *p, size_t n)
{
	assert_true(nb->len + n <= sizeof(nb->b));
	if (n)
		memcpy(nb->b + nb->len, p, n);
	nb->len += n;
}

static void nb_align(struct nlbuf *nb)
{
	static const uint8_t z[4];
	nb_put(nb, z, NLA_ALIGN(nb->len) - nb->len);
}

static void nb_begin(struct nlbuf *nb, uint16_t type, uint32_t seq, uint8_t family)
{
	struct nlmsghdr h = { .nlmsg_len = 0, .nlmsg_type = type, .nlmsg_seq = seq, .nlmsg_pid = 4242 };
	nb_align(nb);
	nb->msg = nb->len;
	nb_put(nb, &h, sizeof(h));
	if ((type >> 8) == NFNL_SUBSYS_CTNETLINK) {
		struct nfgenmsg g = { family, NFNETLINK_V0, 0 };
		nb_put(nb, &g, sizeof(g));
	}
}

static void nb_end(struct nlbuf *nb)
{
	uint32_t len = (uint32_t)(nb->len - nb->msg);
	memcpy(nb->b + nb->msg, &len, 4);
}

static void nb_attr(struct nlbuf *nb, uint16_t type, const void *p, size_t n)
{
	struct nlattr h = { (uint16_t)(NLA_HDRLEN + n), type };
	nb_put(nb, &h, sizeof(h));
	nb_put(nb, p, n);
	nb_align(nb);
}

static void nb_nest(struct nlbuf *nb, uint16_t type)
{
	nb->nest[nb->depth++] = nb->len;
	nb_attr(nb, type | NLA_F_NESTED, NULL, 0);
}

static void nb_unnest(struct nlbuf *nb)
{
	size_t at = nb->nest[--nb->depth];
	uint16_t len = (uint16_t)(nb->len - at);
	memcpy(nb->b + at, &len, 2);
}

static void nb_be16(struct nlbuf *nb, uint16_t type, uint16_t v)
{
	v = htons(v);
	nb_attr(nb, type, &v, 2);
}

static void nb_be32(struct nlbuf *nb, uint16_t type, uint32_t v)
{
	v = htonl(v);
	nb_attr(nb, type, &v, 4);
}

/* A tuple the way the kernel writes it (ctnetlink_dump_tuples). */
static void nb_tuple(struct nlbuf *nb, uint16_t type, const struct ct_tuple *t, int v4)
{
	nb_nest(nb, type);
	nb_nest(nb, CTA_TUPLE_IP);
	if (v4) {
		nb_attr(nb, CTA_IP_V4_SRC | NLA_F_NET_BYTEORDER, &t->src.a[12], 4);
		nb_attr(nb, CTA_IP_V4_DST | NLA_F_NET_BYTEORDER, &t->dst.a[12], 4);
	} else {
		nb_attr(nb, CTA_IP_V6_SRC, t->src.a, 16);
		nb_attr(nb, CTA_IP_V6_DST, t->dst.a, 16);
	}
	nb_unnest(nb);
	nb_nest(nb, CTA_TUPLE_PROTO);
	nb_attr(nb, CTA_PROTO_NUM, &t->proto, 1);
	nb_be16(nb, CTA_PROTO_SRC_PORT, t->sport);
	nb_be16(nb, CTA_PROTO_DST_PORT, t->dport);
	nb_unnest(nb);
	nb_be16(nb, CTA_TUPLE_ZONE, 0);
	nb_unnest(nb);
}

/* An IPCTNL_MSG_CT_NEW answer with the attributes a 6.x kernel sends around the tuples. */
static void nb_entry(struct nlbuf *nb, uint32_t seq, const struct ct_tuple *o, const struct ct_tuple *r, int v4)
{
	nb_begin(nb, CT_TYPE(IPCTNL_MSG_CT_NEW), seq, v4 ? AF_INET : AF_INET6);
	nb_tuple(nb, CTA_TUPLE_ORIG, o, v4);
	nb_tuple(nb, CTA_TUPLE_REPLY, r, v4);
	nb_be32(nb, CTA_STATUS, 0x1be);
	nb_be32(nb, CTA_TIMEOUT, 431999);
	nb_nest(nb, CTA_PROTOINFO);
	nb_nest(nb, CTA_PROTOINFO_TCP);
	uint8_t st = 3;
	nb_attr(nb, CTA_PROTOINFO_TCP_STATE, &st, 1);
	nb_unnest(nb);
	nb_unnest(nb);
	nb_be32(nb, CTA_USE, 1);
	nb_be32(nb, CTA_ID, 0xdeadbeef);
	nb_end(nb);
}

static void nb_error(struct nlbuf *nb, uint32_t seq, int32_t err)
{
	struct nlmsghdr req = { 0 };
	nb_begin(nb, NLMSG_ERROR, seq, 0);
	nb_put(nb, &err, 4);
	nb_put(nb, &req, sizeof(req)); /* the request's header comes back */
	nb_end(nb);
}

static void assert_tuple_equal(const struct ct_tuple *a, const struct ct_tuple *b)
{
	assert_memory_equal(&a->src, &b->src, sizeof(a->src));
	assert_memory_equal(&a->dst, &b->dst, sizeof(a->dst));
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->proto, b->proto);
}

static void test_parse_entry_v4(void **state)
{
	struct nlbuf nb = { .len = 0 };
	/* ClusterIP 10.96.0.10:80 -> pod 10.244.1.7:8080 */
	struct ct_tuple o = tuple("10.244.0.5", 41000, "10.96.0.10", 80);
	struct ct_tuple r = tuple("10.244.1.7", 8080, "10.244.0.5", 41000);
	struct ct_answer a;
	char s[64];

	nb_entry(&nb, 5, &o, &r, 1);
	assert_int_equal(ct_parse(nb.b, nb.len, 5, &a), 1);
	assert_int_equal(a.kind, CT_ANS_ENTRY);
	assert_tuple_equal(&a.orig, &o);
	assert_tuple_equal(&a.reply, &r);
	assert_true(ct_translated(&a));
	zt_addr_port_format(&a.reply.src, a.reply.sport, s, sizeof(s));
	assert_string_equal(s, "10.244.1.7:8080");

	/* Not NATed: the reply comes from the original destination. SNAT
	 * (masquerade) only changes the reply's destination. */
	struct ct_tuple snat = tuple("10.96.0.10", 80, "192.168.0.1", 61000);
	nb.len = 0;
	nb_entry(&nb, 6, &o, &snat, 1);
	assert_int_equal(ct_parse(nb.b, nb.len, 6, &a), 1);
	assert_false(ct_translated(&a));

	/* Only the port translated (a docker published port on the same ip). */
	struct ct_tuple port_only = tuple("10.96.0.10", 8080, "10.244.0.5", 41000);
	nb.len = 0;
	nb_entry(&nb, 7, &o, &port_only, 1);
	assert_int_equal(ct_parse(nb.b, nb.len, 7, &a), 1);
	assert_true(ct_translated(&a));
}

static void test_parse_entry_v6(void **state)
{
	struct nlbuf nb = { .len = 0 };
	struct ct_tuple o = tuple("fd00:1::5", 41000, "fd00:96::a", 443);
	struct ct_tuple r = tuple("fd00:2::7", 8443, "fd00:1::5", 41000);
	struct ct_answer a;
	char s[64];

	nb_entry(&nb, 1, &o, &r, 0);
	assert_int_equal(ct_parse(nb.b, nb.len, 1, &a), 1);
	assert_tuple_equal(&a.orig, &o);
	assert_tuple_equal(&a.reply, &r);
	zt_addr_port_format(&a.reply.src, a.reply.sport, s, sizeof(s));
	assert_string_equal(s, "[fd00:2::7]:8443");
}

static void test_parse_errors_and_stale(void **state)
{
	struct nlbuf nb = { .len = 0 };
	struct ct_tuple o = tuple("10.0.0.1", 1, "10.0.0.2", 2), r = tuple("10.0.0.3", 3, "10.0.0.1", 1);
	struct ct_answer a;

	nb_error(&nb, 3, -ENOENT);
	assert_int_equal(ct_parse(nb.b, nb.len, 3, &a), -ENOENT);
	assert_int_equal(ct_parse(nb.b, nb.len, 4, &a), 0); /* not ours */

	/* A late answer to request 2, then ours (3) in the same datagram. */
	nb.len = 0;
	nb_entry(&nb, 2, &r, &o, 1);
	nb_entry(&nb, 3, &o, &r, 1);
	assert_int_equal(ct_parse(nb.b, nb.len, 3, &a), 1);
	assert_tuple_equal(&a.orig, &o);

	/* NLMSG_DONE / NOOP carry no answer */
	nb.len = 0;
	nb_begin(&nb, NLMSG_DONE, 3, 0);
	nb_put(&nb, "\0\0\0\0", 4);
	nb_end(&nb);
	nb_begin(&nb, NLMSG_NOOP, 3, 0);
	nb_end(&nb);
	assert_int_equal(ct_parse(nb.b, nb.len, 3, &a), 0);

	/* an ack (error 0) and a positive "errno" are not answers */
	nb.len = 0;
	nb_error(&nb, 3, 0);
	assert_int_equal(ct_parse(nb.b, nb.len, 3, &a), -EBADMSG);
	nb.len = 0;
	nb_error(&nb, 3, 5);
	assert_int_equal(ct_parse(nb.b, nb.len, 3, &a), -EBADMSG);

	assert_int_equal(ct_parse(nb.b, 0, 3, &a), 0);
}

static void test_parse_stats(void **state)
{
	struct nlbuf nb = { .len = 0 };
	struct ct_answer a;

	nb_begin(&nb, CT_TYPE(IPCTNL_MSG_CT_GET_STATS), 8, AF_UNSPEC);
	nb_be32(&nb, CTA_STATS_GLOBAL_ENTRIES, 123456);
	nb_be32(&nb, CTA_STATS_GLOBAL_MAX_ENTRIES, 262144);
	nb_end(&nb);
	assert_int_equal(ct_parse(nb.b, nb.len, 8, &a), 1);
	assert_int_equal(a.kind, CT_ANS_STATS);
	assert_int_equal(a.entries, 123456);

	/* without the entries attribute */
	nb.len = 0;
	nb_begin(&nb, CT_TYPE(IPCTNL_MSG_CT_GET_STATS), 8, AF_UNSPEC);
	nb_be32(&nb, CTA_STATS_GLOBAL_MAX_ENTRIES, 262144);
	nb_end(&nb);
	assert_int_equal(ct_parse(nb.b, nb.len, 8, &a), -EBADMSG);
}

static void test_parse_lies(void **state)
{
	struct nlbuf nb = { .len = 0 };
	struct ct_tuple o = tuple("10.0.0.1", 1, "10.0.0.2", 2), r = tuple("10.0.0.3", 3, "10.0.0.1", 1);
	struct ct_answer a;
	uint8_t copy[4096];
	uint32_t len32;

	nb_entry(&nb, 1, &o, &r, 1);
	/* every cut of a valid answer: never a crash, never a made-up answer */
	for (size_t n = 0; n < nb.len; n++) {
		uint8_t *b = malloc(n ? n : 1); /* exact size, for valgrind/ASan */
		memcpy(b, nb.b, n);
		assert_true(ct_parse(b, n, 1, &a) <= 0);
		free(b);
	}
	/* nlmsg_len past the buffer, or below the header */
	memcpy(copy, nb.b, nb.len);
	len32 = (uint32_t)nb.len + 4;
	memcpy(copy, &len32, 4);
	assert_int_equal(ct_parse(copy, nb.len, 1, &a), -EBADMSG);
	len32 = 8;
	memcpy(copy, &len32, 4);
	assert_int_equal(ct_parse(copy, nb.len, 1, &a), -EBADMSG);

	/* an attribute longer than its message */
	memcpy(copy, nb.b, nb.len);
	uint16_t big = 4000;
	memcpy(copy + NLMSG_HDRLEN + 4, &big, 2);
	assert_int_equal(ct_parse(copy, nb.len, 1, &a), -EBADMSG);
	/* an attribute shorter than its own header */
	uint16_t tiny = 2;
	memcpy(copy + NLMSG_HDRLEN + 4, &tiny, 2);
	assert_int_equal(ct_parse(copy, nb.len, 1, &a), -EBADMSG);

	/* no reply tuple */
	nb.len = 0;
	nb_begin(&nb, CT_TYPE(IPCTNL_MSG_CT_NEW), 1, AF_INET);
	nb_tuple(&nb, CTA_TUPLE_ORIG, &o, 1);
	nb_end(&nb);
	assert_int_equal(ct_parse(nb.b, nb.len, 1, &a), -EBADMSG);

	/* a tuple without its destination address */
	nb.len = 0;
	nb_begin(&nb, CT_TYPE(IPCTNL_MSG_CT_NEW), 1, AF_INET);
	nb_tuple(&nb, CTA_TUPLE_ORIG, &o, 1);
	nb_nest(&nb, CTA_TUPLE_REPLY);
	nb_nest(&nb, CTA_TUPLE_IP);
	nb_attr(&nb, CTA_IP_V4_SRC, &r.src.a[12], 4);
	nb_unnest(&nb);
	nb_nest(&nb, CTA_TUPLE_PROTO);
	nb_attr(&nb, CTA_PROTO_NUM, &r.proto, 1);
	nb_unnest(&nb);
	nb_unnest(&nb);
	nb_end(&nb);
	assert_int_equal(ct_parse(nb.b, nb.len, 1, &a), -EBADMSG);

	/* an address attribute too short for its family */
	nb.len = 0;
	nb_begin(&nb, CT_TYPE(IPCTNL_MSG_CT_NEW), 1, AF_INET);
	nb_nest(&nb, CTA_TUPLE_ORIG);
	nb_nest(&nb, CTA_TUPLE_IP);
	nb_attr(&nb, CTA_IP_V4_SRC, "\1\2", 2);
	nb_attr(&nb, CTA_IP_V4_DST, "\1\2", 2);
	nb_unnest(&nb);
	nb_unnest(&nb);
	nb_tuple(&nb, CTA_TUPLE_REPLY, &r, 1);
	nb_end(&nb);
	assert_int_equal(ct_parse(nb.b, nb.len, 1, &a), -EBADMSG);

	/* a message too short for its nfgenmsg */
	nb.len = 0;
	nb_begin(&nb, NLMSG_NOOP, 1, 0);
	nb_end(&nb);
	uint16_t t = CT_TYPE(IPCTNL_MSG_CT_NEW);
	memcpy(nb.b + 4, &t, 2);
	assert_int_equal(ct_parse(nb.b, nb.len, 1, &a), -EBADMSG);

	/* an unaligned buffer parses the same */
	nb.len = 0;
	nb_entry(&nb, 1, &o, &r, 1);
	memcpy(copy + 1, nb.b, nb.len);
	assert_int_equal(ct_parse(copy + 1, nb.len, 1, &a), 1);
	assert_tuple_equal(&a.reply, &r);
}

/* ---- the kernel ---- */

static void test_live(void **state)
{
	struct ct_sock *cs;
	struct ct_answer a;
	uint32_t n = 0;
	int err;

	if (access("/proc/sys/net/netfilter/nf_conntrack_max", F_OK)) {
		skip(); /* no nf_conntrack: the agent would not ask either */
		return;
	}
	err = ct_sock_open(&cs);
	if (err == -EPROTONOSUPPORT || err == -EPERM || err == -EACCES) {
		skip();
		return;
	}
	assert_int_equal(err, 0);
	err = ct_sock_count(cs, &n);
	if (err == -EPERM) { /* not CAP_NET_ADMIN */
		ct_sock_close(cs);
		skip();
		return;
	}
	assert_int_equal(err, 0);
	/* TEST-NET addresses nobody here talks to */
	struct ct_tuple t = tuple("192.0.2.1", 1, "198.51.100.1", 2);
	assert_int_equal(ct_sock_get(cs, &t, &a), -ENOENT);
	struct ct_tuple t6 = tuple("2001:db8::1", 1, "2001:db8::2", 2);
	assert_int_equal(ct_sock_get(cs, &t6, &a), -ENOENT);
	/* and again: the socket stays usable after error answers */
	assert_int_equal(ct_sock_count(cs, &n), 0);
	ct_sock_close(cs);
	ct_sock_close(NULL);
}

static void test_resolver_without_nat(void **state)
{
	struct registry *reg;
	struct conntrack *ct;
	struct zt_addr s, d;
	char out[64];
	double v;

	assert_int_equal(registry_new(1000, &reg), 0);
	assert_int_equal(conntrack_new(reg, &ct), 0);

	/* No conntrack object: the destination itself (out untouched). */
	assert_int_equal(zt_addr_parse("10.0.0.1", &s), 0);
	assert_int_equal(zt_addr_parse("10.96.0.1", &d), 0);
	strcpy(out, "untouched");
	assert_int_equal(conntrack_actual_dst(NULL, 1, 1, 0, &s, 1000, &d, 443, out, sizeof(out)), 0);
	assert_string_equal(out, "untouched");

	/* Loopback is never looked up. */
	assert_int_equal(zt_addr_parse("127.0.0.1", &s), 0);
	assert_int_equal(zt_addr_parse("127.1.2.3", &d), 0);
	assert_int_equal(conntrack_actual_dst(ct, 1, 1, 0, &s, 1000, &d, 80, out, sizeof(out)), 0);
	assert_string_equal(out, "untouched");
	assert_int_equal(zt_addr_parse("::1", &s), 0);
	assert_int_equal(zt_addr_parse("::1", &d), 0);
	assert_int_equal(conntrack_actual_dst(ct, 1, 1, 0, &s, 1000, &d, 8443, out, sizeof(out)), 0);
	assert_string_equal(out, "untouched");
	conntrack_tick(ct);
	assert_int_equal(registry_get(registry_find(reg, "zerotap_conntrack_lookups_total"),
				      ZT_LV(ZT_STR("skipped_loopback")), &v, NULL),
			 0);
	assert_true(v == 2);

	/* A TEST-NET destination from the agent's own namespace: whatever the
	 * host's conntrack state, the answer is the destination itself. */
	assert_int_equal(zt_addr_parse("192.0.2.1", &s), 0);
	assert_int_equal(zt_addr_parse("198.51.100.7", &d), 0);
	struct stat st;
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_int_equal(conntrack_actual_dst(ct, (uint32_t)st.st_ino, (uint32_t)getpid(), 0, &s, 1000, &d, 80, out,
					      sizeof(out)),
			 0);
	assert_string_equal(out, "untouched");
	conntrack_free(ct);
	registry_free(reg);
}

static double lookups(struct registry *reg, const char *result)
{
	double v = 0;
	struct zt_str lv = { result, strlen(result) };
	registry_get(registry_find(reg, "zerotap_conntrack_lookups_total"), &lv, &v, NULL);
	return v;
}

static double gauge(struct registry *reg, const char *name)
{
	double v = -1;
	assert_int_equal(registry_get(registry_find(reg, name), NULL, &v, NULL), 0);
	return v;
}

/*
 * Root only: a process in a network namespace of its own makes a "connection"
 * there. The resolver opens a ctnetlink socket inside that namespace (to
 * read its entry count: 0, so no lookup), keeps it while the namespace is in
 * use, and closes it at the first tick after the TCP table released the
 * namespace, unless a new connection came in between.
 */
static void test_resolver_namespaces(void **state)
{
	struct registry *reg;
	struct conntrack *ct;
	struct zt_addr s, d;
	struct stat st;
	char out[64], path[64], b;
	int up[2], hold[2];
	pid_t child;
	struct timespec now;

	if (geteuid() || access("/proc/sys/net/netfilter/nf_conntrack_max", F_OK)) {
		skip();
		return;
	}
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(hold), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		close(up[0]);
		close(hold[1]);
		b = unshare(CLONE_NEWNET) ? 'e' : 'k';
		if (write(up[1], &b, 1) != 1)
			_exit(1);
		(void)!read(hold[0], &b, 1); /* until the parent closes it */
		_exit(0);
	}
	close(up[1]);
	close(hold[0]);
	assert_int_equal(read(up[0], &b, 1), 1);
	assert_int_equal(b, 'k');
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	assert_int_equal(stat(path, &st), 0);

	assert_int_equal(registry_new(1000, &reg), 0);
	assert_int_equal(conntrack_new(reg, &ct), 0);
	assert_int_equal(zt_addr_parse("192.0.2.10", &s), 0);
	assert_int_equal(zt_addr_parse("198.51.100.20", &d), 0);
	strcpy(out, "untouched");
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	assert_int_equal(conntrack_actual_dst(ct, (uint32_t)st.st_ino, (uint32_t)child, ts, &s, 40000, &d, 80, out,
					      sizeof(out)),
			 0);
	assert_string_equal(out, "untouched");
	conntrack_tick(ct);
	assert_true(gauge(reg, "zerotap_conntrack_sockets") == 2); /* ours and the child's namespace */
	assert_true(lookups(reg, "failed") == 0);

	/* released, but a new connection came before the tick: kept */
	conntrack_ns_release(ct, (uint32_t)st.st_ino);
	assert_int_equal(conntrack_actual_dst(ct, (uint32_t)st.st_ino, (uint32_t)child, ts, &s, 40001, &d, 80, out,
					      sizeof(out)),
			 0);
	conntrack_tick(ct);
	assert_true(gauge(reg, "zerotap_conntrack_sockets") == 2);
	/* released for good */
	conntrack_ns_release(ct, (uint32_t)st.st_ino);
	conntrack_tick(ct);
	assert_true(gauge(reg, "zerotap_conntrack_sockets") == 1);
	/* the agent's own namespace is never released */
	struct stat self;
	assert_int_equal(stat("/proc/self/ns/net", &self), 0);
	conntrack_ns_release(ct, (uint32_t)self.st_ino);
	conntrack_tick(ct);
	assert_true(gauge(reg, "zerotap_conntrack_sockets") == 1);

	/* a namespace that cannot be entered (its process is gone): the
	 * destination; not a failure, that namespace is just not asked */
	close(hold[1]);
	assert_int_equal(waitpid(child, NULL, 0), child);
	double before = lookups(reg, "skipped_netns_gone") + lookups(reg, "not_found");
	assert_int_equal(conntrack_actual_dst(ct, (uint32_t)st.st_ino, (uint32_t)child, ts, &s, 40002, &d, 80, out,
					      sizeof(out)),
			 0);
	assert_string_equal(out, "untouched");
	conntrack_tick(ct);
	assert_true(lookups(reg, "failed") == 0);
	/* skipped_netns_gone, or not_found when the host's own table is in use */
	assert_true(lookups(reg, "skipped_netns_gone") + lookups(reg, "not_found") == before + 1);
	close(up[0]);
	conntrack_free(ct);
	registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_get_v4),
		cmocka_unit_test(test_build_get_v6),
		cmocka_unit_test(test_build_limits),
		cmocka_unit_test(test_parse_entry_v4),
		cmocka_unit_test(test_parse_entry_v6),
		cmocka_unit_test(test_parse_errors_and_stale),
		cmocka_unit_test(test_parse_stats),
		cmocka_unit_test(test_parse_lies),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_resolver_without_nat),
		cmocka_unit_test(test_resolver_namespaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
