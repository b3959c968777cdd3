// SPDX-License-Identifier: Apache-2.0
/*
 * Records to metrics. The core pairs each query with its answer and hands
 * the record to dns_on_record(); the DNS families (per-type, per-domain,
 * status from the rcode) are made here because the core's generic L7
 * families have no domain. Also the per-container domain cap and the
 * ip_to_fqdn table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

#define OTHER_DOMAIN "~other"

static const char *const l_req[] = { "container_id", "app_id", "request_type", "domain", "status" };
static const char *const l_dur[] = { "container_id", "app_id" };
static const char *const l_timeout[] = { "container_id", "app_id", "request_type", "domain" };
static const char *const l_in_req[] = { "container_id", "app_id", "request_type", "status" };
static const char *const l_fqdn[] = { "ip", "fqdn" };

static const struct {
	const char *name, *help;
	uint32_t type;
	const char *const *labels;
	uint32_t nlabels;
	uint32_t inbound; /* registered only with inbound on */
} families[M_COUNT] = {
	[M_REQ] = { "container_dns_requests_total", "DNS queries the container sent, by type, domain and status",
		    ZT_METRIC_COUNTER, l_req, 5, 0 },
	[M_DUR] = { "container_dns_requests_duration_seconds_total",
		    "Time from a DNS query the container sent to its answer", ZT_METRIC_HISTOGRAM, l_dur, 2, 0 },
	[M_TIMEOUT] = { "zerotap_container_dns_timeouts_total",
			"DNS queries the container sent that got no answer in time", ZT_METRIC_COUNTER, l_timeout, 4,
			0 },
	[M_IN_REQ] = { "zerotap_container_dns_inbound_requests_total",
		       "DNS queries the container answered as a server, by type and status", ZT_METRIC_COUNTER, l_in_req,
		       4, 1 },
	[M_IN_DUR] = { "zerotap_container_dns_inbound_requests_duration_seconds_total",
		       "Time the container took to answer DNS queries as a server", ZT_METRIC_HISTOGRAM, l_dur, 2, 1 },
	[M_FQDN] = { "ip_to_fqdn", "1 for each address a DNS answer gave for a name", ZT_METRIC_GAUGE, l_fqdn, 2, 0 },
	[M_FQDN_EVICT] = { "zerotap_dns_ip_to_fqdn_evicted_total",
			   "ip_to_fqdn pairs dropped to stay within ip_to_fqdn_max_entries", ZT_METRIC_COUNTER, NULL,
			   0, 0 },
};

static uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static struct zt_str zs(const char *s, size_t n)
{
	return (struct zt_str){ s, n };
}

static struct zt_str zcs(const char *s)
{
	return (struct zt_str){ s, strlen(s) };
}

static void drop_fqdn(void *ctx, const struct fqdn_entry *e)
{
	struct dns_state *st = ctx;
	char ip[64];
	struct zt_str v[2];

	fqdn_ip_text(e, ip, sizeof(ip));
	v[0] = zcs(ip);
	v[1] = zs(e->name, e->len);
	st->host->metric_remove(st->m[M_FQDN], v);
}

static void sweep(void *arg)
{
	struct dns_state *st = arg;
	uint64_t now = st->host->now_ns();

	if (st->fqdn.max && now > st->fqdn_expiry_ns)
		fqdn_expire(&st->fqdn, now - st->fqdn_expiry_ns, drop_fqdn, st);
	for (uint32_t b = 0; b < DNS_CONT_BUCKETS; b++)
		for (struct dns_cont **pp = &st->conts[b]; *pp;) {
			struct dns_cont *c = *pp;
			if (!c->refs && c->last_ns + DNS_CONT_IDLE_NS <= now) {
				*pp = c->next;
				free(c->domains);
				free(c);
			} else {
				pp = &c->next;
			}
		}
}

int dns_metrics_init(struct dns_state *st)
{
	const struct zt_host *h = st->host;
	int err;

	for (int i = 0; i < M_COUNT; i++) {
		if (families[i].inbound && !st->inbound)
			continue;
		struct zt_metric_desc d = {
			.struct_size = sizeof(d),
			.type = families[i].type,
			.name = families[i].name,
			.help = families[i].help,
			.labels = families[i].labels,
			.label_count = families[i].nlabels,
		};
		if (i == M_FQDN) {
			if (!st->fqdn.max)
				continue;
			d.max_series = st->fqdn.max + 1; /* the plugin's own cap binds first */
		}
		err = h->metric_register(st->inst, &d, &st->m[i]);
		if (err) {
			h->log(st->inst, ZT_LOG_ERROR, "registering %s: %s", d.name, strerror(-err));
			return err;
		}
	}
	err = h->timer_add(st->inst, DNS_SWEEP_NS, sweep, st, &st->timer_id);
	if (err) {
		h->log(st->inst, ZT_LOG_ERROR, "timer: %s", strerror(-err));
		return err;
	}
	st->timer_on = 1;
	return 0;
}

void dns_metrics_fini(struct dns_state *st)
{
	if (st->timer_on)
		st->host->timer_cancel(st->inst, st->timer_id);
	st->timer_on = 0;
	for (uint32_t b = 0; b < DNS_CONT_BUCKETS; b++) {
		struct dns_cont *c = st->conts[b];
		while (c) {
			struct dns_cont *n = c->next;
			free(c->domains);
			free(c);
			c = n;
		}
		st->conts[b] = NULL;
	}
	/* The gauges go with the table: a restarted instance (config reload)
	 * starts empty and could never expire them. Counters stay. */
	if (st->m[M_FQDN])
		fqdn_expire(&st->fqdn, UINT64_MAX, drop_fqdn, st);
	fqdn_free(&st->fqdn);
}

struct dns_cont *dns_cont_get(struct dns_state *st, struct zt_str id, struct zt_str app)
{
	size_t n = id.ptr ? (id.len < 1024 ? id.len : 1024) : 0; /* longer than any container id format */
	size_t an = app.ptr ? (app.len < 1024 ? app.len : 1024) : 0;
	uint64_t h = hash_bytes(id.ptr, n);
	struct dns_cont **head = &st->conts[h & (DNS_CONT_BUCKETS - 1)], *c;

	for (c = *head; c; c = c->next)
		if (c->hash == h && c->idlen == n && !memcmp(c->id, id.ptr, n))
			break;
	if (!c) {
		c = calloc(1, sizeof(*c) + n + 1 + an + 1);
		if (!c)
			return NULL;
		c->hash = h;
		c->idlen = n;
		if (n)
			memcpy(c->id, id.ptr, n);
		c->app = c->id + n + 1;
		c->applen = an;
		if (an)
			memcpy((char *)c->app, app.ptr, an);
		c->next = *head;
		*head = c;
	}
	c->refs++;
	c->last_ns = st->host->now_ns();
	return c;
}

void dns_cont_put(struct dns_state *st, struct dns_cont *c)
{
	if (!c)
		return;
	c->refs--;
	c->last_ns = st->host->now_ns();
}

/* The domain as the container's label: itself while the container has
 * fewer than max_domains, else "~other" (unless it already has its own). */
static struct zt_str domain_label(struct dns_state *st, struct dns_cont *c, struct zt_str d)
{
	uint64_t h;
	uint32_t i;

	if (!d.len)
		return ZT_STR("~unknown");
	h = hash_bytes(d.ptr, d.len) | 1; /* 0 marks a free slot */
	if (!c->domains) {
		uint32_t cap = 16;
		while (cap < 2 * st->max_domains)
			cap <<= 1;
		c->domains = calloc(cap, sizeof(*c->domains));
		if (!c->domains)
			return ZT_STR(OTHER_DOMAIN);
		c->dcap = cap;
	}
	for (i = (uint32_t)(h >> 7) & (c->dcap - 1); c->domains[i]; i = (i + 1) & (c->dcap - 1))
		if (c->domains[i] == h)
			return d;
	if (c->ndomains >= st->max_domains)
		return ZT_STR(OTHER_DOMAIN);
	c->domains[i] = h;
	c->ndomains++;
	return d;
}

/* A query that got no answer: in the timeout family (client) or as
 * status "timeout" of the inbound family (server). */
static void count_timeout(struct dns_state *st, struct dns_cont *c, uint32_t role, struct zt_str type,
			  struct zt_str domain)
{
	struct zt_str v[4];

	v[0] = zs(c->id, c->idlen);
	v[1] = zs(c->app, c->applen);
	v[2] = type;
	if (role == ZT_ROLE_CLIENT) {
		v[3] = domain_label(st, c, domain);
		st->host->metric_add(st->m[M_TIMEOUT], v, 1);
	} else if (role == ZT_ROLE_SERVER && st->inbound) {
		v[3] = ZT_STR("timeout");
		st->host->metric_add(st->m[M_IN_REQ], v, 1);
	}
}

void dns_count_unanswered(struct dns_state *st, struct dns_conn *cs)
{
	for (uint32_t i = 0; cs->cont && i < DNS_PEND; i++) {
		const struct dns_pend *p = &cs->pend[i];
		const char *t = p->has_question ? dns_type_name(p->qtype) : "TypeUnknown";

		if (p->used)
			count_timeout(st, cs->cont, p->dir == ZT_DIR_EGRESS ? ZT_ROLE_CLIENT : ZT_ROLE_SERVER, zcs(t),
				      zs(p->domain, p->dlen));
	}
}

void dns_on_record(void *state, void *conn_state, const struct zt_record *r)
{
	struct dns_state *st = state;
	struct dns_conn *cs = conn_state;
	const struct zt_host *h = st->host;
	struct dns_cont *c = cs ? cs->cont : NULL;
	struct zt_str v[5], type, status;
	int timeout = !!(r->flags & ZT_RECORD_TIMEOUT);

	if (!c || (r->flags & ZT_RECORD_ONEWAY))
		return;
	c->last_ns = h->now_ns();
	type = r->method.len ? r->method : ZT_STR("TypeUnknown");
	if (timeout) {
		dns_pend_forget(cs, r->id); /* counted here, not again at close */
		count_timeout(st, c, r->role, type, r->resource);
		return;
	}
	status = r->status_label.len ? r->status_label
		 : r->status == ZT_STATUS_OK ? ZT_STR("ok")
		 : r->status == ZT_STATUS_FAILED ? ZT_STR("failed") : ZT_STR("unknown");
	v[0] = zs(c->id, c->idlen);
	v[1] = zs(c->app, c->applen);
	v[2] = type;
	if (r->role == ZT_ROLE_CLIENT) {
		v[3] = domain_label(st, c, r->resource);
		v[4] = status;
		h->metric_add(st->m[M_REQ], v, 1);
		if (r->end_ns >= r->start_ns)
			h->metric_observe(st->m[M_DUR], v, (double)(r->end_ns - r->start_ns) / 1e9);
	} else if (r->role == ZT_ROLE_SERVER && st->inbound) {
		v[3] = status;
		h->metric_add(st->m[M_IN_REQ], v, 1);
		if (r->end_ns >= r->start_ns)
			h->metric_observe(st->m[M_IN_DUR], v, (double)(r->end_ns - r->start_ns) / 1e9);
	}
}

void dns_note_answers(struct dns_state *st, const struct dns_msg *m)
{
	uint64_t now;
	size_t len;

	if (!st->fqdn.max || !m->naddrs || !m->has_question || !m->qname_len || !strcmp(m->qname, "."))
		return;
	now = st->host->now_ns();
	len = m->qname_len;
	for (uint32_t i = 0; i < m->naddrs; i++) {
		uint64_t before = st->fqdn.evicted;
		int r = fqdn_note(&st->fqdn, m->addrs[i].ip, m->addrs[i].v6, m->qname, len, now, drop_fqdn, st);
		if (st->fqdn.evicted != before)
			st->host->metric_add(st->m[M_FQDN_EVICT], NULL, (double)(st->fqdn.evicted - before));
		if (r == 1) {
			char ip[64];
			struct zt_str v[2];
			fqdn_ip_text(st->fqdn.newest, ip, sizeof(ip));
			v[0] = zcs(ip);
			v[1] = zs(m->qname, len);
			st->host->metric_set(st->m[M_FQDN], v, 1);
		}
	}
}
