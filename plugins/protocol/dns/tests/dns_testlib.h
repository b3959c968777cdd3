/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the DNS plugin's tests: a message builder and the
 * golden-file reader (format in testdata/README.md). */
#ifndef ZT_DNS_TESTLIB_H
#define ZT_DNS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

/* ---- building messages ---- */

struct dnsb {
	uint8_t buf[8192];
	size_t len;
};

void b_reset(struct dnsb *b);
void b_u8(struct dnsb *b, uint8_t v);
void b_u16(struct dnsb *b, uint16_t v);
void b_u32(struct dnsb *b, uint32_t v);
void b_bytes(struct dnsb *b, const void *p, size_t n);
void b_hdr(struct dnsb *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar);
/* "a.b.c" as labels plus the root byte ("" = the root) */
void b_name(struct dnsb *b, const char *dotted);
void b_ptr(struct dnsb *b, uint16_t off);
/* An RR whose owner is a pointer to `owner_off`. */
void b_rr_a(struct dnsb *b, uint16_t owner_off, const char *ipv4);
void b_rr_aaaa(struct dnsb *b, uint16_t owner_off, const char *ipv6);
/* A CNAME at `owner_off` to a new name; returns the target's offset. */
uint16_t b_rr_cname(struct dnsb *b, uint16_t owner_off, const char *target);

#define F_QUERY 0x0100u /* RD */
#define F_RESP 0x8180u  /* QR RD RA */

/* A query for name/type: header + question. */
size_t make_query(uint8_t *out, uint16_t id, const char *name, uint16_t qtype);
/* An answer: header (rcode), question, then one A (or AAAA when the
 * address has a ':') per address, owners pointing at the question. */
size_t make_answer(uint8_t *out, uint16_t id, const char *name, uint16_t qtype, uint32_t rcode, const char *const *ips,
		   size_t nips);
/* 2-byte length prefix + message. */
size_t tcp_frame(uint8_t *out, const uint8_t *msg, size_t len);

/* ---- golden files ---- */

struct gevent {
	uint64_t t_ns;
	uint32_t tcp;
	uint8_t src[16], dst[16]; /* IPv6 or IPv4-mapped */
	uint16_t sfam, sport, dport;
	uint8_t *data;
	size_t len;
};

struct golden {
	char name[128];
	uint16_t ports[8];
	size_t nports;
	struct gevent *ev;
	size_t nev;
	char **expect;  /* "TypeA a.test ok" in answer order */
	size_t nexpect;
	char **timeout; /* "TypeA y.broken" */
	size_t ntimeout;
	char **fqdn;    /* "127.0.0.2 a.test" */
	size_t nfqdn;
	size_t nunmatched;
};

/* 0, or -1 with a message on stderr. */
int golden_load(const char *path, struct golden *g);
void golden_free(struct golden *g);
int golden_is_server_port(const struct golden *g, uint16_t port);

/* The directory of the plugin's sources, from $ZT_SOURCE_DIR. */
const char *dns_src_dir(void);

#endif
