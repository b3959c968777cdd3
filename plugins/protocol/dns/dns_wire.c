// SPDX-License-Identifier: Apache-2.0
#include "dns_wire.h"

#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the bytes [pos, pos + n) are: all visible, cut by the capture, or
 * past the message's end. */
static int avail(size_t pos, size_t n, size_t cap, size_t len)
{
	if (pos + n <= cap && pos + n <= len)
		return DNS_OK;
	return pos + n <= len ? DNS_SHORT : DNS_BAD;
}

int dns_header_sane(const uint8_t *h, size_t len)
{
	uint32_t op, qd, records;

	if (len < DNS_HEADER_LEN)
		return 0;
	op = DNS_OPCODE(be16(h + 2));
	/* QUERY, IQUERY (obsolete), STATUS, NOTIFY, UPDATE, DSO; 3 is unassigned */
	if (op == 3 || op > 6)
		return 0;
	qd = be16(h + 4);
	records = (uint32_t)be16(h + 6) + be16(h + 8) + be16(h + 10);
	if (qd > DNS_MAX_QUESTIONS)
		return 0;
	/* a question takes at least 5 bytes (root name, type, class), a record 11 */
	return (uint64_t)DNS_HEADER_LEN + 5ull * qd + 11ull * records <= len;
}

/* Appends n bytes unless the text is already cut or they do not fit whole. */
static void put(char *text, size_t textcap, size_t *tl, const char *s, size_t n, uint32_t *cut)
{
	if (!text || *cut)
		return;
	if (*tl + n + 1 > textcap) {
		*cut = 1;
		return;
	}
	memcpy(text + *tl, s, n);
	*tl += n;
}

static void put_label(char *text, size_t textcap, size_t *tl, const uint8_t *l, size_t n, uint32_t *cut)
{
	for (size_t i = 0; i < n && !*cut; i++) {
		uint8_t c = l[i];
		char esc[4];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c == '.' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(text, textcap, tl, esc, 2, cut);
		} else if (c < 0x21 || c > 0x7e) {
			esc[0] = '\\';
			esc[1] = (char)('0' + c / 100);
			esc[2] = (char)('0' + c / 10 % 10);
			esc[3] = (char)('0' + c % 10);
			put(text, textcap, tl, esc, 4, cut);
		} else {
			put(text, textcap, tl, (const char *)&c, 1, cut);
		}
	}
}

int dns_name(const uint8_t *msg, size_t cap, size_t len, size_t off, size_t *end, char *text, size_t textcap,
	     size_t *textlen, uint32_t *truncated, uint64_t *hash)
{
	size_t pos = off, limit = off, tl = 0, wire = 0;
	uint64_t h = FNV_OFFSET;
	uint32_t cut = 0, jumped = 0;
	int rc;

	if (text && !textcap)
		text = NULL;
	for (;;) {
		uint8_t l;

		if ((rc = avail(pos, 1, cap, len)))
			return rc;
		l = msg[pos];
		if (l == 0) {
			if (!jumped)
				*end = pos + 1;
			break;
		}
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if ((rc = avail(pos, 2, cap, len)))
				return rc;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			/*
			 * Compression points at a prior occurrence (RFC 1035
			 * 4.1.4). Demanding that every jump land strictly before
			 * the previous one (or before the name's start) makes
			 * loops impossible and bounds the walk by the offset.
			 */
			if (target >= limit)
				return DNS_BAD;
			if (!jumped)
				*end = pos + 2;
			jumped = 1;
			limit = pos = target;
			continue;
		}
		if (l & 0xc0) /* 0x40 and 0x80: extended label types, obsolete */
			return DNS_BAD;
		wire += 1u + l;
		if (wire + 1 > DNS_NAME_WIRE_MAX)
			return DNS_BAD;
		if ((rc = avail(pos + 1, l, cap, len)))
			return rc;
		h = (h ^ l) * FNV_PRIME;
		for (size_t i = 0; i < l; i++) {
			uint8_t c = msg[pos + 1 + i];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			h = (h ^ c) * FNV_PRIME;
		}
		if (tl)
			put(text, textcap, &tl, ".", 1, &cut);
		put_label(text, textcap, &tl, msg + pos + 1, l, &cut);
		pos += 1u + l;
	}
	h = (h ^ 0) * FNV_PRIME;
	if (!wire)
		put(text, textcap, &tl, ".", 1, &cut);
	if (text)
		text[tl] = 0;
	if (textlen)
		*textlen = tl;
	if (truncated)
		*truncated = cut;
	if (hash)
		*hash = h;
	return DNS_OK;
}

struct cand {
	uint64_t owner;
	struct dns_addr a;
};

static int in_chain(const uint64_t *chain, uint32_t n, uint64_t h)
{
	for (uint32_t i = 0; i < n; i++)
		if (chain[i] == h)
			return 1;
	return 0;
}

/* The answer section from pos: A/AAAA owned by the question's name or its
 * CNAME chain. */
static int parse_answers(const uint8_t *msg, size_t cap, size_t len, size_t pos, struct dns_msg *out)
{
	uint64_t chain[DNS_CHAIN_MAX + 1], cn_owner[DNS_MAX_CNAMES], cn_target[DNS_MAX_CNAMES];
	struct cand cand[DNS_MAX_ADDRS];
	uint32_t nchain = 1, ncn = 0, ncand = 0, n = out->ancount < DNS_MAX_RRS ? out->ancount : DNS_MAX_RRS;
	int rc = DNS_OK;

	chain[0] = out->qhash;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t owner;
		uint16_t type, klass, rdlen;
		size_t end;

		if ((rc = dns_name(msg, cap, len, pos, &end, NULL, 0, NULL, NULL, &owner)))
			break;
		pos = end;
		if ((rc = avail(pos, 10, cap, len)))
			break;
		type = be16(msg + pos);
		klass = be16(msg + pos + 2);
		rdlen = be16(msg + pos + 8);
		pos += 10;
		if ((rc = avail(pos, rdlen, cap, len)))
			break;
		if (klass == DNS_CLASS_IN) {
			if (((type == DNS_TYPE_A && rdlen == 4) || (type == DNS_TYPE_AAAA && rdlen == 16)) &&
			    ncand < DNS_MAX_ADDRS) {
				memset(&cand[ncand], 0, sizeof(cand[ncand]));
				cand[ncand].owner = owner;
				cand[ncand].a.v6 = type == DNS_TYPE_AAAA;
				memcpy(cand[ncand].a.ip, msg + pos, rdlen);
				ncand++;
			} else if (type == DNS_TYPE_CNAME) {
				uint64_t target;
				size_t tend;
				/* the target is visible: rdata is, and pointers only go back */
				if (dns_name(msg, pos + rdlen, pos + rdlen, pos, &tend, NULL, 0, NULL, NULL, &target) ||
				    tend != pos + rdlen)
					return DNS_BAD;
				if (ncn < DNS_MAX_CNAMES) {
					cn_owner[ncn] = owner;
					cn_target[ncn++] = target;
				}
			}
		}
		pos += rdlen;
	}
	if (rc == DNS_BAD)
		return rc;
	if (rc == DNS_SHORT)
		out->answers_short = 1;
	/* Follow the chain from the question, whatever order the records came in. */
	for (uint32_t grew = 1; grew && nchain <= DNS_CHAIN_MAX;) {
		grew = 0;
		for (uint32_t i = 0; i < ncn && nchain <= DNS_CHAIN_MAX; i++)
			if (in_chain(chain, nchain, cn_owner[i]) && !in_chain(chain, nchain, cn_target[i])) {
				chain[nchain++] = cn_target[i];
				grew = 1;
			}
	}
	for (uint32_t i = 0; i < ncand; i++)
		if (in_chain(chain, nchain, cand[i].owner))
			out->addrs[out->naddrs++] = cand[i].a;
	return rc;
}

int dns_parse(const uint8_t *msg, size_t cap, size_t len, uint32_t what, struct dns_msg *out)
{
	size_t pos = DNS_HEADER_LEN, end;
	uint32_t cut;
	int rc;

	memset(out, 0, offsetof(struct dns_msg, addrs));
	out->answers_short = 0;
	if (len < DNS_HEADER_LEN)
		return DNS_BAD;
	if (cap > len)
		cap = len;
	if (cap < DNS_HEADER_LEN)
		return DNS_SHORT;
	out->id = be16(msg);
	out->flags = be16(msg + 2);
	out->qdcount = be16(msg + 4);
	out->ancount = be16(msg + 6);
	out->nscount = be16(msg + 8);
	out->arcount = be16(msg + 10);
	if (!dns_header_sane(msg, len))
		return DNS_BAD;
	if (!out->qdcount)
		return DNS_OK;
	rc = dns_name(msg, cap, len, pos, &end, out->qname, sizeof(out->qname), &out->qname_len, &cut, &out->qhash);
	if (rc)
		return rc;
	pos = end;
	if ((rc = avail(pos, 4, cap, len)))
		return rc;
	out->qtype = be16(msg + pos);
	out->qclass = be16(msg + pos + 2);
	out->has_question = 1;
	pos += 4;
	/* Answers only matter in a NOERROR response; error responses often
	 * echo a header that does not fit what follows (FORMERR) */
	if (!(what & DNS_PARSE_ANSWERS) || !(out->flags & DNS_QR) || DNS_RCODE(out->flags))
		return DNS_OK;
	for (uint32_t i = 1; i < out->qdcount; i++) {
		if ((rc = dns_name(msg, cap, len, pos, &end, NULL, 0, NULL, NULL, NULL)) ||
		    (rc = avail(end, 4, cap, len))) {
			out->answers_short = rc == DNS_SHORT;
			return rc;
		}
		pos = end + 4;
	}
	return parse_answers(msg, cap, len, pos, out);
}

int dns_validate_full(const uint8_t *msg, size_t len)
{
	size_t pos = DNS_HEADER_LEN, end;
	uint32_t records;

	if (!dns_header_sane(msg, len))
		return 0;
	records = (uint32_t)be16(msg + 6) + be16(msg + 8) + be16(msg + 10);
	for (uint32_t i = 0; i < be16(msg + 4); i++) {
		if (dns_name(msg, len, len, pos, &end, NULL, 0, NULL, NULL, NULL) || end + 4 > len)
			return 0;
		pos = end + 4;
	}
	for (uint32_t i = 0; i < records; i++) {
		if (dns_name(msg, len, len, pos, &end, NULL, 0, NULL, NULL, NULL) || end + 10 > len)
			return 0;
		pos = end + 10 + be16(msg + end + 8);
		if (pos > len)
			return 0;
	}
	return pos == len;
}

/* Query types by number, named the way coroot-node-agent names them
 * ("Type" + the RFC mnemonic). A bounded set: anything else is TypeOther. */
static const struct {
	uint16_t type;
	const char *name;
} types[] = {
	{ 1, "TypeA" },       { 2, "TypeNS" },      { 5, "TypeCNAME" }, { 6, "TypeSOA" },     { 11, "TypeWKS" },
	{ 12, "TypePTR" },    { 13, "TypeHINFO" },  { 14, "TypeMINFO" }, { 15, "TypeMX" },     { 16, "TypeTXT" },
	{ 28, "TypeAAAA" },   { 33, "TypeSRV" },    { 35, "TypeNAPTR" }, { 41, "TypeOPT" },    { 43, "TypeDS" },
	{ 48, "TypeDNSKEY" }, { 64, "TypeSVCB" },   { 65, "TypeHTTPS" }, { 252, "TypeAXFR" },  { 255, "TypeALL" },
	{ 257, "TypeCAA" },
};

const char *dns_type_name(uint16_t qtype)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == qtype)
			return types[i].name;
	return "TypeOther";
}

static const char *const rcode_status[] = { "ok", "format_error", "servfail",
					    "nxdomain", "not_implemented", "refused" };
static const char *const rcode_error[] = { "", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };

const char *dns_rcode_status(uint32_t rcode)
{
	return rcode < 6 ? rcode_status[rcode] : "other";
}

const char *dns_rcode_error(uint32_t rcode)
{
	static const char *const more[] = { "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI" };
	if (rcode < 6)
		return rcode_error[rcode];
	return rcode < 12 ? more[rcode - 6] : "RCODE_OTHER";
}
