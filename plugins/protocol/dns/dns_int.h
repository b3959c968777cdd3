/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS plugin's state, shared by dns.c (ABI, framing, frames) and
 * dns_metrics.c (records to metrics, containers, ip_to_fqdn). */
#ifndef ZT_DNS_INT_H
#define ZT_DNS_INT_H

#include <stdint.h>

#include <zerotap/plugin.h>

#include "dns_wire.h"
#include "fqdn.h"

#define DNS_MAX_PORTS 8
#define DNS_RULES_PER_PORT 3
#define DNS_PEND 16                 /* queries remembered per connection (ids, peers, retransmits) */
#define DNS_TCP_WAIT_MAX 4096       /* a TCP message up to this size is waited for whole */
#define DNS_TCP_BAD_STREAK 8        /* invalid TCP chunks in a row before giving up on a connection */
#define DNS_TIMEOUT_NS 10000000000ull
#define DNS_CONT_BUCKETS 256
#define DNS_CONT_IDLE_NS 3600000000000ull /* containers without connections forgotten after 1 h */
#define DNS_SWEEP_NS 60000000000ull

/* Metric families. */
enum {
	M_REQ,        /* container_dns_requests_total */
	M_DUR,        /* container_dns_requests_duration_seconds_total */
	M_TIMEOUT,    /* zerotap_container_dns_timeouts_total */
	M_IN_REQ,     /* zerotap_container_dns_inbound_requests_total */
	M_IN_DUR,     /* zerotap_container_dns_inbound_requests_duration_seconds_total */
	M_FQDN,       /* ip_to_fqdn */
	M_FQDN_EVICT, /* zerotap_dns_ip_to_fqdn_evicted_total */
	M_COUNT
};

/* A container seen on DNS connections, with the domains it may label. */
struct dns_cont {
	struct dns_cont *next;
	uint64_t hash;
	uint32_t refs;     /* open connections */
	uint32_t ndomains;
	uint32_t dcap;     /* slots in domains (power of two, 2x the cap) */
	uint32_t reserved;
	uint64_t last_ns;  /* last connection closed / record */
	uint64_t *domains; /* open addressing set of domain hashes; 0 = free */
	size_t idlen;
	const char *app;   /* the container's app_id, stored after id */
	size_t applen;
	char id[];
};

struct dns_state {
	const struct zt_host *host;
	zt_instance *inst;
	zt_metric *m[M_COUNT];
	uint32_t max_domains;
	uint32_t inbound;
	uint32_t detect_any_port;
	uint32_t nports;
	uint16_t ports[DNS_MAX_PORTS];
	struct zt_detect_rule rules[DNS_MAX_PORTS * DNS_RULES_PER_PORT];
	uint32_t nrules;
	uint64_t fqdn_expiry_ns;
	uint64_t timer_id;
	uint32_t timer_on;
	struct dns_cont *conts[DNS_CONT_BUCKETS];
	struct fqdn_table fqdn;
};

/* A query waiting for its answer, as the plugin remembers it. */
struct dns_pend {
	uint64_t peer;  /* peer key (UDP of an unconnected socket), 0 = the connection's peer */
	uint64_t qhash; /* question name and type */
	uint64_t ts_ns;
	uint16_t id;
	uint16_t qtype;
	uint8_t dir;
	uint8_t used;
	uint8_t has_question;
	uint8_t dlen;
	char domain[DNS_DOMAIN_MAX]; /* the request's resource */
};

struct dns_conn {
	struct dns_state *st;
	struct dns_cont *cont;
	uint32_t transport;
	uint16_t family;
	uint16_t remote_port;
	uint8_t remote_addr[16];
	uint32_t unsynced[2]; /* TCP: bytes were lost; wait for a plausible message start */
	uint32_t bad_streak;
	struct dns_pend pend[DNS_PEND];
};

/* dns_metrics.c */
int dns_metrics_init(struct dns_state *st);
void dns_metrics_fini(struct dns_state *st);
struct dns_cont *dns_cont_get(struct dns_state *st, struct zt_str id, struct zt_str app);
void dns_cont_put(struct dns_state *st, struct dns_cont *c);
void dns_on_record(void *state, void *conn_state, const struct zt_record *r);
/* A/AAAA answers of a NOERROR response, for ip_to_fqdn. */
void dns_note_answers(struct dns_state *st, const struct dns_msg *m);
/* conn_close: queries still waiting (the client gave up and closed its
 * socket before the core's timeout) counted as timeouts. */
void dns_count_unanswered(struct dns_state *st, struct dns_conn *cs);
/* dns.c: a query the core has expired (its timeout record came). */
void dns_pend_forget(struct dns_conn *cs, uint64_t id);

#endif
