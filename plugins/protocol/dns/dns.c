/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS protocol plugin: queries and answers over UDP and TCP (RFC 1035,
 * RFC 7766 for the TCP length prefix) turned into request/response frames
 * paired by message id, and, from the paired records, the DNS families of
 * METRICS.md plus ip_to_fqdn from A/AAAA answers.
 *
 * Framing: a UDP read or write is one message. On TCP every message has a
 * 2-byte length prefix; a segment may carry several messages or part of
 * one. The plugin keeps no bytes itself: what it does not consume the core
 * hands back with the next chunk.
 *
 * Pairing: ZT_PAIR_ID with id = question hash | peer key | message id
 * (pair_id()). On TCP, and on a connected UDP socket, the peer is the
 * connection's, so the key is 0. An unconnected UDP socket (a server's, or
 * a resolver talking to several upstreams) tells each datagram's peer in
 * the chunk; the key is a hash of that address and the port, so two
 * servers answering the same id cannot be mixed. A few recent queries per
 * connection are remembered, so an answer whose peer the kernel did not
 * report, or that carries no question, still finds its query, and a UDP
 * retransmission of a query still waiting is not counted twice.
 *
 * See README.md for the wire notes, status mapping, families and limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

static const struct zt_config_field dns_config[] = {
	{ "ports", ZT_CFG_STRING_LIST, 0, "[\"53\"]",
	  "Server ports that carry DNS (UDP and TCP), as strings; detection rules are made for each (at most 8).", 0,
	  -1 },
	{ "max_domains_per_container", ZT_CFG_INT, 0, "50",
	  "Distinct domain label values per container; queries for further domains are counted under \"~other\".", 1,
	  100000 },
	{ "inbound", ZT_CFG_BOOL, 0, "true",
	  "Count queries that a container answers as a DNS server (zerotap_container_dns_inbound_* families).", 0, -1 },
	{ "ip_to_fqdn_max_entries", ZT_CFG_INT, 0, "10000",
	  "At most this many (ip, fqdn) pairs in ip_to_fqdn; the pair seen longest ago gives way. 0 disables the family.",
	  0, 1000000 },
	{ "ip_to_fqdn_expiry_s", ZT_CFG_INT, 0, "3600",
	  "An ip_to_fqdn pair no answer repeated for this many seconds is dropped.", 60, 604800 },
	{ "detect_any_port", ZT_CFG_BOOL, 0, "false",
	  "Also claim connections on other ports whose first message is a complete, well-formed DNS query or answer.",
	  0, -1 },
	ZT_CFG_END,
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* --------------------------------------------------------------- config */

static int read_ports(struct dns_state *st)
{
	const struct zt_host *h = st->host;

	for (size_t i = 0;; i++) {
		struct zt_str s;
		char buf[8];
		char *end;
		long v;
		int err = h->config_list_string(st->inst, "ports", i, &s);

		if (err == -ERANGE)
			break;
		if (err)
			return err;
		if (st->nports == DNS_MAX_PORTS) {
			h->log(st->inst, ZT_LOG_ERROR, "ports: at most %d", DNS_MAX_PORTS);
			return -EINVAL;
		}
		if (!s.len || s.len >= sizeof(buf)) {
			h->log(st->inst, ZT_LOG_ERROR, "ports[%zu]: not a port number", i);
			return -EINVAL;
		}
		memcpy(buf, s.ptr, s.len);
		buf[s.len] = 0;
		v = strtol(buf, &end, 10);
		if (*end || v < 1 || v > 65535) {
			h->log(st->inst, ZT_LOG_ERROR, "ports[%zu]: \"%s\" is not a port number", i, buf);
			return -EINVAL;
		}
		st->ports[st->nports++] = (uint16_t)v;
	}
	return 0;
}

/*
 * Per port: UDP and TCP rules that claim a message with a plausible header
 * (opcode QUERY, one question) in the kernel, and a rule that asks detect()
 * about anything else on the port (a TCP length prefix written apart from
 * its message, say).
 */
static void make_rules(struct dns_state *st)
{
	static const uint8_t pat[4] = { 0x00, 0x00, 0x00, 0x01 };  /* flags, qdcount = 1 */
	static const uint8_t mask[4] = { 0x78, 0x00, 0xff, 0xff }; /* opcode bits only; any QR, rcode */

	for (uint32_t i = 0; i < st->nports; i++) {
		struct zt_detect_rule *r = &st->rules[st->nrules];

		memset(r, 0, 3 * sizeof(*r));
		for (int k = 0; k < 3; k++) {
			r[k].struct_size = sizeof(*r);
			r[k].port = st->ports[i];
		}
		r[0].verdict = ZT_RULE_CLAIM;
		r[0].transports = ZT_TRANSPORT_UDP;
		r[0].offset = 2;
		r[0].len = 4;
		r[0].min_len = DNS_HEADER_LEN + 5;
		memcpy(r[0].pattern, pat, 4);
		memcpy(r[0].mask, mask, 4);
		r[1] = r[0];
		r[1].transports = ZT_TRANSPORT_TCP;
		r[1].offset = 4;
		r[1].min_len = 2 + DNS_HEADER_LEN + 5;
		r[2].verdict = ZT_RULE_ASK;
		r[2].transports = ZT_TRANSPORT_UDP | ZT_TRANSPORT_TCP;
		r[2].min_len = 2;
		st->nrules += 3;
	}
}

static void dns_destroy(struct dns_state *st)
{
	if (!st)
		return;
	dns_metrics_fini(st);
	free(st);
}

static int dns_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct dns_state *st = calloc(1, sizeof(*st));
	int64_t maxd = 0, fmax = 0, fexp = 0;
	uint32_t inbound = 0, any = 0;
	int err;

	if (!st)
		return -ENOMEM;
	st->host = host;
	st->inst = inst;
	if ((err = host->config_int(inst, "max_domains_per_container", &maxd)) ||
	    (err = host->config_int(inst, "ip_to_fqdn_max_entries", &fmax)) ||
	    (err = host->config_int(inst, "ip_to_fqdn_expiry_s", &fexp)) ||
	    (err = host->config_bool(inst, "inbound", &inbound)) ||
	    (err = host->config_bool(inst, "detect_any_port", &any)) || (err = read_ports(st)))
		goto fail;
	st->max_domains = (uint32_t)maxd;
	st->inbound = inbound;
	st->detect_any_port = any;
	st->fqdn_expiry_ns = (uint64_t)fexp * 1000000000ull;
	if ((err = fqdn_init(&st->fqdn, (uint32_t)fmax)))
		goto fail;
	make_rules(st);
	if ((err = dns_metrics_init(st)))
		goto fail;
	*state = st;
	return 0;
fail:
	dns_destroy(st);
	return err;
}

static void dns_fini(void *state)
{
	dns_destroy(state);
}

static size_t dns_rules(void *state, const struct zt_detect_rule **rules)
{
	struct dns_state *st = state;
	*rules = st->rules;
	return st->nrules;
}

/* ------------------------------------------------------------ detection */

static int is_port(const struct dns_state *st, uint16_t p)
{
	for (uint32_t i = 0; p && i < st->nports; i++)
		if (st->ports[i] == p)
			return 1;
	return 0;
}

/* Is the server side of this connection on a DNS port? */
static int on_dns_port(const struct dns_state *st, const struct zt_conn_info *ci, const struct zt_chunk *c)
{
	int remote = is_port(st, ci->remote_port) || (c->peer_family && is_port(st, c->peer_port));

	if (ci->role == ZT_ROLE_CLIENT)
		return remote;
	if (ci->role == ZT_ROLE_SERVER)
		return is_port(st, ci->local_port);
	return remote || is_port(st, ci->local_port);
}

/*
 * On a DNS port a plausible header (and, when visible, a question that
 * parses) is enough. Elsewhere (detect_any_port) only a complete message
 * whose every section ends exactly at its length: one query with at most
 * an OPT record, or an answer.
 */
static uint32_t dns_detect(void *state, const struct zt_conn_info *ci, const struct zt_chunk *c)
{
	struct dns_state *st = state;
	int port = on_dns_port(st, ci, c);
	const uint8_t *m = c->data;
	size_t cap = c->len;
	uint64_t len = c->avail;
	struct dns_msg msg;

	if (!port && !st->detect_any_port)
		return ZT_DETECT_NO;
	if (!(c->flags & ZT_CHUNK_MSG_START))
		return ZT_DETECT_NO;
	if (ci->transport == ZT_TRANSPORT_TCP) {
		if (cap < 2)
			return c->avail > cap ? ZT_DETECT_NO : ZT_DETECT_MAYBE;
		len = be16(m);
		m += 2;
		cap -= 2;
		if (len < DNS_HEADER_LEN + 5)
			return ZT_DETECT_NO;
		if (cap < DNS_HEADER_LEN) /* a prefix written apart from its message: enough on a DNS port */
			return port && c->avail == c->len ? ZT_DETECT_YES : ZT_DETECT_NO;
	}
	if (len > 65535 || cap < DNS_HEADER_LEN || !dns_header_sane(m, len))
		return ZT_DETECT_NO;
	if (port)
		return dns_parse(m, cap, len, 0, &msg) == DNS_BAD ? ZT_DETECT_NO : ZT_DETECT_YES;
	if (cap < len)
		return ci->transport == ZT_TRANSPORT_TCP && c->avail == c->len ? ZT_DETECT_MAYBE : ZT_DETECT_NO;
	if (DNS_OPCODE(be16(m + 2)) != DNS_OPCODE_QUERY || be16(m + 4) != 1 || !dns_validate_full(m, len))
		return ZT_DETECT_NO;
	if (!(be16(m + 2) & DNS_QR) && (be16(m + 6) || be16(m + 8) || be16(m + 10) > 1))
		return ZT_DETECT_NO;
	return ZT_DETECT_YES;
}

/* ---------------------------------------------------------- connections */

static int dns_conn_open(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state)
{
	struct dns_state *st = state;
	struct dns_conn *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return -ENOMEM;
	cs->st = st;
	cs->transport = ci->transport;
	cs->family = ci->family;
	cs->remote_port = ci->remote_port;
	memcpy(cs->remote_addr, ci->remote_addr, 16);
	/* app_id arrived after container_id in zt_conn_info: older hosts lack it */
	struct zt_str app = ci->struct_size >= offsetof(struct zt_conn_info, app_id) + sizeof(ci->app_id) && ci->app_id.len
				    ? ci->app_id
				    : ci->container_id;
	cs->cont = dns_cont_get(st, ci->container_id, app);
	if (!cs->cont) {
		free(cs);
		return -ENOMEM;
	}
	*conn_state = cs;
	return 0;
}

static void dns_conn_close(void *state, void *conn_state)
{
	struct dns_conn *cs = conn_state;

	if (!cs)
		return;
	dns_count_unanswered(state, cs);
	dns_cont_put(state, cs->cont);
	free(cs);
}

/* -------------------------------------------------------------- pairing */

/* 32 bits: a 16-bit hash of the datagram's peer address, its port; 0 for
 * the connection's own peer (TCP, connected UDP) or an unknown one. */
static uint64_t peer_key(const struct dns_conn *cs, const struct zt_chunk *c)
{
	uint64_t h = 0xcbf29ce484222325ull;

	if (cs->transport != ZT_TRANSPORT_UDP || !c->peer_family || !c->peer_port)
		return 0;
	if (c->peer_port == cs->remote_port && !memcmp(c->peer_addr, cs->remote_addr, 16))
		return 0;
	for (int i = 0; i < 16; i++)
		h = (h ^ c->peer_addr[i]) * 0x100000001b3ull;
	h ^= h >> 32;
	return ((h ^ h >> 16) & 0xffff) << 16 | c->peer_port;
}

/* Of the question's name, type and class; 0 = no question seen. */
static uint64_t question_hash(const struct dns_msg *m)
{
	uint64_t h;

	if (!m->has_question)
		return 0;
	h = m->qhash ^ ((uint64_t)m->qtype << 48 | m->qclass);
	return h ? h : 1;
}

/*
 * The pairing id: message id (bits 0-15), peer key (16-47), 16 bits of
 * the question (48-63), so that two pending queries that share an id (a
 * wrapped or colliding id) are still told apart by what they ask.
 */
static uint64_t pair_id(uint64_t peer, uint64_t qhash, uint16_t id)
{
	uint64_t q = 0;

	if (qhash) {
		q = (qhash ^ qhash >> 16 ^ qhash >> 32 ^ qhash >> 48) & 0xffff;
		q = q ? q : 1;
	}
	return q << 48 | (peer & 0xffffffffull) << 16 | id;
}

/*
 * A query: remembers it and returns 1, or returns 0 when it retransmits a
 * UDP query still waiting (same id, peer and question within the timeout).
 * What is remembered also lets conn_close count the queries the client
 * gave up on (dns_count_unanswered).
 */
static int note_query(struct dns_conn *cs, uint32_t dir, uint64_t peer, const struct dns_msg *m, uint64_t ts,
		      const char *domain, size_t dl)
{
	uint64_t qh = question_hash(m);
	struct dns_pend *p;
	uint32_t slot = DNS_PEND;

	for (uint32_t i = 0; i < DNS_PEND; i++) {
		p = &cs->pend[i];
		if (p->used && p->ts_ns + DNS_TIMEOUT_NS < ts)
			p->used = 0; /* the core has expired it by now */
		if (!p->used) {
			if (slot == DNS_PEND)
				slot = i;
			continue;
		}
		if (cs->transport == ZT_TRANSPORT_UDP && p->id == m->id && p->dir == dir && p->peer == peer &&
		    p->qhash == qh)
			return 0;
	}
	if (slot == DNS_PEND) { /* full: the oldest gives way */
		slot = 0;
		for (uint32_t i = 1; i < DNS_PEND; i++)
			if (cs->pend[i].ts_ns < cs->pend[slot].ts_ns)
				slot = i;
	}
	p = &cs->pend[slot];
	p->used = 1;
	p->id = m->id;
	p->dir = (uint8_t)dir;
	p->peer = peer;
	p->qhash = qh;
	p->ts_ns = ts;
	p->qtype = m->qtype;
	p->has_question = m->has_question ? 1 : 0;
	p->dlen = (uint8_t)(dl < DNS_DOMAIN_MAX ? dl : DNS_DOMAIN_MAX);
	memcpy(p->domain, domain, p->dlen);
	return 1;
}

void dns_pend_forget(struct dns_conn *cs, uint64_t id)
{
	for (uint32_t i = 0; i < DNS_PEND; i++) {
		struct dns_pend *p = &cs->pend[i];
		if (p->used && pair_id(p->peer, p->qhash, p->id) == id) {
			p->used = 0;
			return;
		}
	}
}

/* An answer: the pairing id of the query it answers. */
static uint64_t match_answer(struct dns_conn *cs, uint32_t dir, uint64_t peer, const struct dns_msg *m)
{
	uint64_t qh = question_hash(m);
	struct dns_pend *best = NULL;

	for (uint32_t i = 0; i < DNS_PEND; i++) {
		struct dns_pend *p = &cs->pend[i];
		if (!p->used || p->id != m->id || p->dir == dir)
			continue;
		if (qh && p->qhash && qh != p->qhash)
			continue; /* same id, another question */
		if (p->peer == peer) {
			best = p;
			break;
		}
		if (!p->peer || !peer) /* one side's peer unknown */
			best = best ? best : p;
	}
	if (!best)
		return pair_id(peer, qh, m->id);
	best->used = 0;
	return pair_id(best->peer, best->qhash, m->id);
}

/* --------------------------------------------------------------- frames */

/*
 * One DNS message of `len` bytes, `cap` of them visible at msg, that took
 * `wire` bytes on the wire. 0, or -1 when it is not DNS.
 */
static int on_message(struct dns_conn *cs, zt_conn *conn, const struct zt_chunk *c, const uint8_t *msg, size_t cap,
		      size_t len, uint64_t wire, uint64_t start_ns)
{
	struct dns_state *st = cs->st;
	struct dns_msg m;
	struct zt_frame f = { .struct_size = sizeof(f), .pairing = ZT_PAIR_ID };
	struct zt_attr attr;
	char domain[DNS_DOMAIN_MAX + 1];
	uint64_t peer = peer_key(cs, c);
	int rc = dns_parse(msg, cap, len, DNS_PARSE_ANSWERS, &m);

	if (rc == DNS_BAD)
		return -1;
	if (cap < DNS_HEADER_LEN) /* not even the header was captured */
		return 0;
	if (DNS_OPCODE(m.flags) != DNS_OPCODE_QUERY)
		return 0; /* NOTIFY, UPDATE, STATUS, DSO: not lookups; left out */
	f.start_ns = start_ns;
	f.end_ns = c->ts_ns;
	f.size = wire;
	if (!(m.flags & DNS_QR)) {
		size_t dl = 0;

		if (!m.qdcount)
			return 0; /* no question (a bare cookie refresh): nothing to count */
		if (m.has_question) {
			if (m.qname_len <= DNS_DOMAIN_MAX) {
				memcpy(domain, m.qname, m.qname_len);
				dl = m.qname_len;
			} else { /* re-read, cut at a whole character */
				size_t end;
				dns_name(msg, cap, len, DNS_HEADER_LEN, &end, domain, sizeof(domain), &dl, NULL, NULL);
			}
		}
		if (!note_query(cs, c->direction, peer, &m, c->ts_ns, domain, dl))
			return 0;
		f.type = ZT_FRAME_REQUEST;
		f.id = pair_id(peer, question_hash(&m), m.id);
		if (m.has_question) {
			f.method = (struct zt_str){ dns_type_name(m.qtype), strlen(dns_type_name(m.qtype)) };
			f.resource = (struct zt_str){ domain, dl };
			attr.key = ZT_STR("dns.question.name");
			attr.value = f.resource;
			f.attrs = &attr;
			f.attr_count = 1;
		}
	} else {
		uint32_t rcode = DNS_RCODE(m.flags);
		const char *label = dns_rcode_status(rcode);

		f.type = ZT_FRAME_RESPONSE;
		f.id = match_answer(cs, c->direction, peer, &m);
		f.status = rcode ? ZT_STATUS_FAILED : ZT_STATUS_OK;
		f.status_label = (struct zt_str){ label, strlen(label) };
		if (rcode)
			f.error = (struct zt_str){ dns_rcode_error(rcode), strlen(dns_rcode_error(rcode)) };
		else
			dns_note_answers(st, &m);
	}
	st->host->frame_emit(conn, &f);
	return 0;
}

static uint32_t parse_udp(struct dns_conn *cs, zt_conn *conn, const struct zt_chunk *c, uint64_t *consumed)
{
	/* One datagram per message: whatever was not captured is skipped with it. */
	*consumed = c->avail > c->len ? c->avail : c->len;
	if (!(c->flags & ZT_CHUNK_MSG_START) || c->avail > 65535 ||
	    on_message(cs, conn, c, c->data, c->len, (size_t)c->avail, c->avail, c->first_ts_ns))
		return ZT_PARSE_INVALID;
	return ZT_PARSE_OK;
}

/* Does a TCP message start at p (cap bytes visible)? Only asked after a gap. */
static int tcp_plausible(const uint8_t *p, size_t cap)
{
	uint16_t mlen;

	if (cap < 2 + DNS_HEADER_LEN)
		return 1; /* cannot tell yet */
	mlen = be16(p);
	return mlen >= DNS_HEADER_LEN + 5 && dns_header_sane(p + 2, mlen) && be16(p + 6) >= 1;
}

static uint32_t parse_tcp(struct dns_conn *cs, zt_conn *conn, const struct zt_chunk *c, uint64_t *consumed)
{
	uint32_t dir = c->direction & 1;
	size_t pos = 0;

	*consumed = 0;
	if (c->flags & ZT_CHUNK_GAP) {
		/* Bytes were lost: only a write boundary can start a message. */
		cs->unsynced[dir] = 1;
		if (!(c->flags & ZT_CHUNK_MSG_START))
			goto invalid;
	}
	if (cs->unsynced[dir]) {
		if (!tcp_plausible(c->data, c->len))
			goto invalid;
		if (c->len >= 2 + DNS_HEADER_LEN)
			cs->unsynced[dir] = 0;
	}
	while (c->len - pos >= 2) {
		const uint8_t *p = c->data + pos;
		size_t mlen = be16(p), have = c->len - pos - 2, total = 2 + mlen;
		uint64_t start = pos ? c->ts_ns : c->first_ts_ns;

		if (mlen < DNS_HEADER_LEN)
			goto invalid;
		if (have >= mlen) {
			if (on_message(cs, conn, c, p + 2, mlen, mlen, total, start))
				goto invalid;
			pos += total;
			cs->bad_streak = 0;
			continue;
		}
		/* The message goes on past what we have. Small and still coming
		 * whole: wait for it. Not all captured, or large: take what is
		 * here (header, question, first answers) and skip the rest. */
		if (c->avail == c->len && total <= DNS_TCP_WAIT_MAX)
			break;
		if (have < DNS_HEADER_LEN && c->avail == c->len)
			break;
		if (on_message(cs, conn, c, p + 2, have, mlen, total, start))
			goto invalid;
		cs->bad_streak = 0;
		*consumed = pos + total;
		return ZT_PARSE_OK;
	}
	*consumed = pos;
	if (pos == c->len)
		return ZT_PARSE_OK;
	if (c->avail > c->len) { /* a prefix cut by the capture: its message cannot be followed */
		*consumed = c->avail;
		cs->unsynced[dir] = 1;
		return ZT_PARSE_OK;
	}
	return ZT_PARSE_NEED_MORE;
invalid:
	cs->unsynced[dir] = 1;
	return ++cs->bad_streak >= DNS_TCP_BAD_STREAK ? ZT_PARSE_IGNORED : ZT_PARSE_INVALID;
}

static uint32_t dns_parse_cb(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *c,
			     uint64_t *consumed)
{
	struct dns_conn *cs = conn_state;

	if (cs->transport == ZT_TRANSPORT_UDP)
		return parse_udp(cs, conn, c, consumed);
	return parse_tcp(cs, conn, c, consumed);
}

static const struct zt_protocol_ops dns_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_protocol_ops, ZT_KIND_PROTOCOL),
	.metric_stem = NULL, /* the core makes no generic families: dns_on_record does */
	.transports = ZT_TRANSPORT_UDP | ZT_TRANSPORT_TCP,
	.capture_bytes = 1024,
	.request_timeout_ns = DNS_TIMEOUT_NS,
	.max_pending = 1024,
	.init = dns_init,
	.fini = dns_fini,
	.rules = dns_rules,
	.detect = dns_detect,
	.conn_open = dns_conn_open,
	.conn_close = dns_conn_close,
	.parse = dns_parse_cb,
	.on_record = dns_on_record,
};

ZT_PLUGIN_DEFINE(dns, ZT_KIND_PROTOCOL, "0.1.0", "Apache-2.0",
		 "DNS over UDP and TCP: queries by type, domain and status; ip_to_fqdn from answers", dns_config,
		 &dns_ops);
