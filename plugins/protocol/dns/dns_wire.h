/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS wire format (RFC 1035 section 4, RFC 3596 for AAAA): pure parsing of
 * one message, no I/O and no allocation. Everything is bounded: names by
 * their 255-byte wire limit and strictly backward compression pointers,
 * sections by the message length and fixed record counts.
 *
 * A message may be captured only in part: `cap` bytes are visible of a
 * message `len` bytes long. Running into the invisible part is not an
 * error (DNS_SHORT: what was found so far is kept); running past `len` is
 * (DNS_BAD).
 */
#ifndef ZT_DNS_WIRE_H
#define ZT_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
#define DNS_NAME_WIRE_MAX 255 /* RFC 1035 3.1 */
#define DNS_MAX_QUESTIONS 8   /* more is refused by every server; treated as garbage */
#define DNS_MAX_RRS 256       /* answer records looked at per message */
#define DNS_MAX_ADDRS 64      /* A/AAAA answers kept per message */
#define DNS_MAX_CNAMES 16     /* CNAME records kept per message */
#define DNS_CHAIN_MAX 8       /* CNAME hops followed from the question */
#define DNS_DOMAIN_MAX 128    /* domain label values (the core's resource limit) */
#define DNS_FQDN_MAX 253      /* ip_to_fqdn label values */

/* dns_parse() and dns_name() results. */
#define DNS_OK 0
#define DNS_SHORT 1 /* ran into bytes not captured: what was found is kept */
#define DNS_BAD (-1)

/* Header flags. */
#define DNS_QR 0x8000u
#define DNS_TC 0x0200u
#define DNS_OPCODE(f) (((f) >> 11) & 0xfu)
#define DNS_RCODE(f) ((f) & 0xfu)
#define DNS_OPCODE_QUERY 0

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

struct dns_addr {
	uint8_t ip[16]; /* IPv4 in the first 4 bytes when !v6 */
	uint8_t v6;
};

struct dns_msg {
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
	/* the first question */
	uint32_t has_question;
	uint16_t qtype, qclass;
	uint64_t qhash;                 /* of the lowercased wire name */
	char qname[DNS_FQDN_MAX + 1];   /* presentation form, lowercased, no final dot ("." = root) */
	size_t qname_len;
	/* responses: A/AAAA answers owned by the question's name or its CNAME chain */
	uint32_t naddrs;
	struct dns_addr addrs[DNS_MAX_ADDRS];
	uint32_t answers_short; /* the answer section was not all captured */
};

/* What dns_parse() reads. */
#define DNS_PARSE_ANSWERS 1u /* responses: follow CNAMEs, collect A/AAAA */

/*
 * Header sanity for a message of `len` bytes (the full length, captured or
 * not) whose first 12 bytes are at h: a known opcode, at most
 * DNS_MAX_QUESTIONS questions, and record counts that fit the length
 * (each question takes at least 5 bytes, each record 11). 1 = plausible.
 */
int dns_header_sane(const uint8_t *h, size_t len);
/*
 * Parses the header, the first question and, with DNS_PARSE_ANSWERS, the
 * answer section of a NOERROR response. DNS_OK, DNS_SHORT (the message was not
 * all captured and parsing stopped there; has_question tells whether the
 * question was seen) or DNS_BAD (malformed).
 */
int dns_parse(const uint8_t *msg, size_t cap, size_t len, uint32_t what, struct dns_msg *out);
/*
 * The whole message fully captured, every section walked: 1 when it is
 * well formed and its records end exactly at len (heuristic detection on
 * ports not known to carry DNS), else 0.
 */
int dns_validate_full(const uint8_t *msg, size_t len);
/*
 * The name at `off`. *end: the offset right after it in place. text: its
 * presentation form, lowercased, labels joined by '.', bytes outside
 * [!-~] and '.' '\' inside labels escaped (\DDD, \. \\), no final dot, "."
 * for the root; cut at a whole character so it fits textcap - 1 (then
 * *truncated = 1), NUL-terminated. text may be NULL. hash: FNV-1a of the
 * lowercased wire labels (may be NULL). DNS_OK / DNS_SHORT / DNS_BAD.
 */
int dns_name(const uint8_t *msg, size_t cap, size_t len, size_t off, size_t *end, char *text, size_t textcap,
	     size_t *textlen, uint32_t *truncated, uint64_t *hash);

/* "TypeA", "TypeAAAA", ... for a query type; "TypeOther" outside the table. */
const char *dns_type_name(uint16_t qtype);
/* Metric status of a response code ("ok", "nxdomain", ...; "other" outside
 * RFC 1035's six), and its RFC mnemonic for span errors ("NXDOMAIN"). */
const char *dns_rcode_status(uint32_t rcode);
const char *dns_rcode_error(uint32_t rcode);

#endif
