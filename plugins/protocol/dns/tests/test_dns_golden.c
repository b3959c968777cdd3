/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden tests: real DNS exchanges captured on loopback (dig, glibc's
 * resolver, python, dnsperf against unbound and dnsmasq; see
 * testdata/README.md) replayed through the plugin and the core's stream
 * and pairing code (tests/mockhost), from the client's side and from the
 * server's, under every chunking:
 *
 *   whole     each captured segment / datagram is one read or write
 *   bytes     TCP segments fed one byte per write
 *   random    TCP segments cut at random points (several seeds)
 *   merged    consecutive TCP segments of one direction in one write
 *   smallcap  every message captured only to its first 64 bytes
 *
 * The records must be the ones tshark's DNS dissector saw (the `expect`
 * and `timeout` lines), with no parse error; the metrics must count them;
 * ip_to_fqdn must hold the `fqdn` pairs (full captures).
 */
#define _GNU_SOURCE
#include <dirent.h>
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

enum { V_CLIENT, V_CLIENT_UNCONNECTED, V_SERVER, V_COUNT };
enum { CH_WHOLE, CH_BYTES, CH_RANDOM, CH_MERGED, CH_SMALLCAP, CH_COUNT };
static const char *const view_names[] = { "client", "client-unconnected", "server" };
static const char *const ch_names[] = { "whole", "bytes", "random", "merged", "smallcap" };

#define CID "/system.slice/golden.service"
#define MAX_CONNS 256
#define BASE_NS 1000000000ull

struct rconn {
	uint32_t tcp;
	uint8_t addr[16];
	uint16_t port;
	struct mock_conn *mc;
	uint16_t peer_fam, peer_port;
	uint8_t peer[16];
	/* merged chunking: bytes of one direction not fed yet */
	uint8_t *pend;
	size_t npend;
	uint32_t pend_dir;
	uint64_t pend_ts;
};

struct replay {
	const struct golden *g;
	int view, ch;
	unsigned seed;
	struct rconn conns[MAX_CONNS];
	size_t nconns;
	uint64_t last_ns;
};

static void feed(struct replay *r, struct rconn *c, uint32_t dir, const uint8_t *d, size_t n, uint64_t ts)
{
	size_t cap = r->ch == CH_SMALLCAP ? 64 : 0;

	if (c->peer_fam)
		mock_conn_datagram(c->mc, dir, d, n, cap, c->peer_fam, c->peer_port, c->peer, ts);
	else
		mock_conn_message_cap(c->mc, dir, d, n, cap, ts);
}

static void flush(struct replay *r, struct rconn *c)
{
	if (c->npend)
		feed(r, c, c->pend_dir, c->pend, c->npend, c->pend_ts);
	c->npend = 0;
}

/* The replay's connection for an event: per client socket, except the
 * server view of UDP, where one socket serves every client. */
static struct rconn *conn_for(struct replay *r, const struct gevent *e, int to_server)
{
	int server_udp = r->view == V_SERVER && !e->tcp;
	const uint8_t *kaddr = server_udp == !!to_server ? e->dst : e->src;
	uint16_t kport = server_udp == !!to_server ? e->dport : e->sport;
	struct rconn *c;

	for (size_t i = 0; i < r->nconns; i++) {
		c = &r->conns[i];
		if (c->tcp == e->tcp && c->port == kport && !memcmp(c->addr, kaddr, 16))
			return c;
	}
	assert_true(r->nconns < MAX_CONNS);
	c = &r->conns[r->nconns++];
	memset(c, 0, sizeof(*c));
	c->tcp = e->tcp;
	c->port = kport;
	memcpy(c->addr, kaddr, 16);
	return c;
}

static struct mock_plugin *plugin;

static struct rconn *open_conn(struct replay *r, const struct gevent *e, int to_server)
{
	struct rconn *c = conn_for(r, e, to_server);
	if (!c->mc) {
		struct zt_conn_info ci;
		const uint8_t *caddr = to_server ? e->src : e->dst, *saddr = to_server ? e->dst : e->src;
		uint16_t cport = to_server ? e->sport : e->dport, sport = to_server ? e->dport : e->sport;
		int server_udp = r->view == V_SERVER && !e->tcp;

		ci = mock_conn_info(r->view == V_SERVER ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT, sport);
		ci.transport = e->tcp ? ZT_TRANSPORT_TCP : ZT_TRANSPORT_UDP;
		ci.family = e->sfam;
		ci.container_id = ZT_STR(CID);
		ci.app_id = ci.container_id;
		if (r->view == V_SERVER) {
			memcpy(ci.local_addr, saddr, 16);
			ci.local_port = sport;
			memcpy(ci.remote_addr, server_udp ? (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" : caddr,
			       16);
			ci.remote_port = server_udp ? 0 : cport;
		} else {
			int unconnected = r->view == V_CLIENT_UNCONNECTED && !e->tcp;
			memcpy(ci.local_addr, caddr, 16);
			ci.local_port = cport;
			memcpy(ci.remote_addr, unconnected ? (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" : saddr,
			       16);
			ci.remote_port = unconnected ? 0 : sport;
		}
		assert_int_equal(mock_conn_open(plugin, &ci, &c->mc), 0);
	}
	return c;
}

static void play_event(struct replay *r, const struct gevent *e)
{
	int to_server = golden_is_server_port(r->g, e->dport);
	struct rconn *c = open_conn(r, e, to_server);
	uint32_t dir = (r->view == V_SERVER) == !!to_server ? ZT_DIR_INGRESS : ZT_DIR_EGRESS;
	uint64_t ts = BASE_NS + e->t_ns;

	r->last_ns = ts;
	c->peer_fam = 0;
	if (!e->tcp && (r->view == V_SERVER || r->view == V_CLIENT_UNCONNECTED)) {
		/* the datagram's peer, as recvfrom/sendto report it */
		int peer_is_src = (r->view == V_SERVER) == !!to_server;
		c->peer_fam = e->sfam;
		c->peer_port = peer_is_src ? e->sport : e->dport;
		memcpy(c->peer, peer_is_src ? e->src : e->dst, 16);
	}
	if (!e->tcp || r->ch == CH_WHOLE || r->ch == CH_SMALLCAP) {
		feed(r, c, dir, e->data, e->len, ts);
		return;
	}
	if (r->ch == CH_BYTES) {
		for (size_t i = 0; i < e->len; i++)
			feed(r, c, dir, e->data + i, 1, ts);
		return;
	}
	if (r->ch == CH_RANDOM) {
		for (size_t i = 0; i < e->len;) {
			size_t n = 1 + (size_t)rand_r(&r->seed) % (e->len - i < 40 ? e->len - i : 40);
			feed(r, c, dir, e->data + i, n, ts);
			i += n;
		}
		return;
	}
	/* merged: hold bytes until the other direction speaks */
	if (c->npend && c->pend_dir != dir)
		flush(r, c);
	c->pend = realloc(c->pend, c->npend + e->len);
	assert_non_null(c->pend);
	memcpy(c->pend + c->npend, e->data, e->len);
	c->npend += e->len;
	c->pend_dir = dir;
	c->pend_ts = ts;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Counts of the lines equal to `line` in a list. */
static size_t count_of(char **list, size_t n, const char *line)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += !strcmp(list[i], line);
	return k;
}

static void check_metrics(struct replay *r)
{
	const struct golden *g = r->g;
	uint64_t hist = 0;

	for (size_t i = 0; i < g->nexpect; i++) {
		char type[64], dom[256], status[64];
		assert_int_equal(sscanf(g->expect[i], "%63s %255s %63s", type, dom, status), 3);
		if (r->view == V_SERVER)
			continue;
		assert_int_equal((size_t)mock_metric_value("container_dns_requests_total", CID, CID, type, dom, status,
							  NULL),
				 count_of(g->expect, g->nexpect, g->expect[i]));
	}
	if (r->view == V_SERVER) {
		/* inbound: by type and status; timeouts as status "timeout" */
		for (size_t i = 0; i < g->nexpect; i++) {
			char type[64], dom[256], status[64], want[160];
			size_t n = 0;
			sscanf(g->expect[i], "%63s %255s %63s", type, dom, status);
			for (size_t k = 0; k < g->nexpect; k++) {
				char t2[64], d2[256], s2[64];
				sscanf(g->expect[k], "%63s %255s %63s", t2, d2, s2);
				n += !strcmp(t2, type) && !strcmp(s2, status);
			}
			snprintf(want, sizeof(want), "%s %s", type, status);
			assert_int_equal((size_t)mock_metric_value("zerotap_container_dns_inbound_requests_total", CID, CID,
								  type, status, NULL),
					 n);
		}
		hist = mock_metric_hist_count("zerotap_container_dns_inbound_requests_duration_seconds_total", CID, CID,
					      NULL);
		assert_int_equal(hist, g->nexpect);
		return;
	}
	for (size_t i = 0; i < g->ntimeout; i++) {
		char type[64], dom[256];
		assert_int_equal(sscanf(g->timeout[i], "%63s %255s", type, dom), 2);
		assert_int_equal((size_t)mock_metric_value("zerotap_container_dns_timeouts_total", CID, CID, type, dom,
							  NULL),
				 count_of(g->timeout, g->ntimeout, g->timeout[i]));
	}
	hist = mock_metric_hist_count("container_dns_requests_duration_seconds_total", CID, CID, NULL);
	assert_int_equal(hist, g->nexpect);
}

static void check_fqdn(const struct golden *g)
{
	for (size_t i = 0; i < g->nfqdn; i++) {
		char ip[64], name[256];
		assert_int_equal(sscanf(g->fqdn[i], "%63s %255s", ip, name), 2);
		if (mock_metric_value("ip_to_fqdn", ip, name, NULL) != 1)
			fail_msg("ip_to_fqdn{ip=%s, fqdn=%s} missing", ip, name);
	}
	assert_int_equal(mock_metric_series_count("ip_to_fqdn"), (long)g->nfqdn);
}

static void replay_one(const struct golden *g, int view, int ch, unsigned seed)
{
	struct replay *r = calloc(1, sizeof(*r));
	char cfg[256], **timeouts = NULL;
	size_t nexp = 0, nto = 0, pos;
	uint64_t unmatched = 0;

	assert_non_null(r);
	r->g = g;
	r->view = view;
	r->ch = ch;
	r->seed = seed;
	pos = (size_t)snprintf(cfg, sizeof(cfg), "{\"ports\":[");
	for (size_t i = 0; i < g->nports; i++)
		pos += (size_t)snprintf(cfg + pos, sizeof(cfg) - pos, "%s\"%u\"", i ? "," : "", g->ports[i]);
	snprintf(cfg + pos, sizeof(cfg) - pos, "]}");
	assert_int_equal(mock_plugin_start(zt_builtin_entry_dns, NULL, cfg, &plugin), 0);

	for (size_t i = 0; i < g->nev; i++) {
		const struct gevent *e = &g->ev[i];
		int to_server = golden_is_server_port(g, e->dport);
		/* merged: the other side of a connection speaking flushes what
		 * its peer wrote (the server reads it before answering) */
		if (ch == CH_MERGED)
			for (size_t k = 0; k < r->nconns; k++) {
				struct rconn *c = &r->conns[k];
				uint32_t dir = (view == V_SERVER) == !!to_server ? ZT_DIR_INGRESS : ZT_DIR_EGRESS;
				if (c->npend && (c->pend_dir != dir || !e->tcp || !c->tcp))
					flush(r, c);
			}
		play_event(r, e);
	}
	for (size_t k = 0; k < r->nconns; k++)
		flush(r, &r->conns[k]);
	for (size_t k = 0; k < r->nconns; k++) {
		struct mock_l7_stats s = mock_conn_stats(r->conns[k].mc);
		if (s.parse_errors || s.stopped)
			fail_msg("%s %s %s seed %u: conn %zu: %llu parse errors, stopped %u", g->name, view_names[view],
				 ch_names[ch], seed, k, (unsigned long long)s.parse_errors, s.stopped);
		mock_conn_expire(r->conns[k].mc, r->last_ns + 3600 * BASE_NS);
		unmatched += mock_conn_stats(r->conns[k].mc).unmatched_responses;
	}
	assert_int_equal(unmatched, g->nunmatched);

	for (size_t i = 0; i < mock_record_count(); i++) {
		const struct mock_record *rec = mock_record_get(i);
		char line[512];

		assert_int_equal(rec->role, view == V_SERVER ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT);
		if (rec->flags & ZT_RECORD_TIMEOUT) {
			snprintf(line, sizeof(line), "%s %s", rec->method, rec->resource);
			timeouts = realloc(timeouts, (nto + 1) * sizeof(*timeouts));
			timeouts[nto++] = strdup(line);
			continue;
		}
		snprintf(line, sizeof(line), "%s %s %s", rec->method, rec->resource, rec->status_label);
		if (nexp >= g->nexpect || strcmp(line, g->expect[nexp]))
			fail_msg("%s %s %s seed %u: record %zu is \"%s\", expected \"%s\"", g->name, view_names[view],
				 ch_names[ch], seed, nexp, line, nexp < g->nexpect ? g->expect[nexp] : "(none)");
		assert_true(rec->end_ns >= rec->start_ns);
		nexp++;
	}
	if (nexp != g->nexpect)
		fail_msg("%s %s %s: %zu records, expected %zu", g->name, view_names[view], ch_names[ch], nexp,
			 g->nexpect);
	assert_int_equal(nto, g->ntimeout);
	if (nto) {
		char **want = calloc(nto, sizeof(*want));
		memcpy(want, g->timeout, nto * sizeof(*want));
		qsort(want, nto, sizeof(*want), cmp_str);
		qsort(timeouts, nto, sizeof(*timeouts), cmp_str);
		for (size_t i = 0; i < nto; i++)
			assert_string_equal(timeouts[i], want[i]);
		free(want);
	}
	check_metrics(r);
	if (ch != CH_SMALLCAP)
		check_fqdn(g);

	for (size_t i = 0; i < nto; i++)
		free(timeouts[i]);
	free(timeouts);
	for (size_t k = 0; k < r->nconns; k++) {
		mock_conn_close(r->conns[k].mc);
		free(r->conns[k].pend);
	}
	free(r);
	mock_plugin_stop(plugin);
	plugin = NULL;
	mock_reset();
}

static void test_golden(void **state)
{
	const char *path = *state;
	struct golden g;

	assert_int_equal(golden_load(path, &g), 0);
	assert_true(g.nev > 0);
	for (int v = 0; v < V_COUNT; v++)
		for (int ch = 0; ch < CH_COUNT; ch++) {
			unsigned seeds = ch == CH_RANDOM ? 8 : 1;
			for (unsigned s = 1; s <= seeds; s++)
				replay_one(&g, v, ch, s);
		}
	golden_free(&g);
}

static int teardown(void **state)
{
	if (plugin)
		mock_plugin_stop(plugin);
	plugin = NULL;
	mock_reset();
	return 0;
}

int main(void)
{
	char dir[4200];
	struct dirent **names;
	struct CMUnitTest *tests;
	size_t n = 0;
	int k;

	snprintf(dir, sizeof(dir), "%s/testdata", dns_src_dir());
	k = scandir(dir, &names, NULL, alphasort);
	if (k < 0) {
		perror(dir);
		return 1;
	}
	tests = calloc((size_t)k, sizeof(*tests));
	for (int i = 0; i < k; i++) {
		size_t l = strlen(names[i]->d_name);
		if (l > 4 && !strcmp(names[i]->d_name + l - 4, ".txt")) {
			char *path, *name = strdup(names[i]->d_name);
			if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
				return 1;
			tests[n].name = name;
			tests[n].test_func = test_golden;
			tests[n].teardown_func = teardown;
			tests[n].initial_state = path;
			n++;
		}
		free(names[i]);
	}
	free(names);
	if (n < 10) {
		fprintf(stderr, "%s: only %zu golden files\n", dir, n);
		return 1;
	}
	return _cmocka_run_group_tests("dns_golden", tests, n, NULL, NULL);
}
