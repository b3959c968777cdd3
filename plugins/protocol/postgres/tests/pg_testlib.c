// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "pg_testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int golden_load(const char *path, struct golden *g)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0, ecap = 4096, elen = 0, scap = 0;
	ssize_t l;

	memset(g, 0, sizeof(*g));
	if (!f)
		return -errno;
	g->expect = calloc(1, ecap);
	while ((l = getline(&line, &lcap, f)) > 0) {
		int conn, off = 0;
		char dir;
		unsigned long long us;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "expect ", 7)) {
			size_t k = strlen(line + 7);
			while (elen + k + 1 > ecap)
				g->expect = realloc(g->expect, ecap *= 2);
			memcpy(g->expect + elen, line + 7, k + 1);
			elen += k;
			continue;
		}
		if (sscanf(line, "%d %c %llu %n", &conn, &dir, &us, &off) != 3 || (dir != 'c' && dir != 's'))
			return -EINVAL;
		if (g->n == scap)
			g->s = realloc(g->s, (scap = scap ? scap * 2 : 64) * sizeof(*g->s));
		struct gseg *s = &g->s[g->n++];
		const char *h = line + off;
		size_t hl = strcspn(h, "\n");
		s->conn = conn;
		s->from_client = dir == 'c';
		s->us = us;
		s->len = hl / 2;
		s->data = malloc(s->len + 1);
		for (size_t i = 0; i < s->len; i++)
			s->data[i] = (uint8_t)(hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]));
		if (conn + 1 > g->nconns)
			g->nconns = conn + 1;
	}
	free(line);
	fclose(f);
	return 0;
}

void golden_free(struct golden *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->s[i].data);
	free(g->s);
	free(g->expect);
	memset(g, 0, sizeof(*g));
}

static void add_stats(struct mock_l7_stats *a, const struct mock_l7_stats *b)
{
	a->parse_errors += b->parse_errors;
	a->resyncs += b->resyncs;
	a->lost_bytes += b->lost_bytes;
	a->requests += b->requests;
	a->responses += b->responses;
	a->unmatched_responses += b->unmatched_responses;
	a->expired_requests += b->expired_requests;
	a->unanswered_at_close += b->unanswered_at_close;
	a->bad_frames += b->bad_frames;
}

/* Sends n bytes of one direction cut as o says. */
static void send_cut(struct mock_conn *c, uint32_t dir, const uint8_t *d, size_t n, const struct replay_opts *o,
		     unsigned *rnd, uint64_t ts)
{
	size_t cap = o->capture ? o->capture : 4096;
	size_t i = 0;
	while (i < n) {
		size_t k = n - i;
		if (o->chunking == CHUNK_BYTES)
			k = 1;
		else if (o->chunking == CHUNK_RANDOM)
			k = 1 + rand_r(rnd) % (k < 300 ? k : 300);
		mock_conn_message_cap(c, dir, d + i, k, cap, ts);
		i += k;
	}
}

int golden_replay(struct mock_plugin *p, const struct golden *g, const struct replay_opts *o, char **text,
		  struct mock_l7_stats *st)
{
	size_t tcap = 4096, tlen = 0;
	unsigned rnd = o->seed;

	*text = calloc(1, tcap);
	memset(st, 0, sizeof(*st));
	for (int conn = 0; conn < g->nconns; conn++) {
		struct zt_conn_info ci = mock_conn_info(o->info_role, 5432);
		struct mock_conn *c;
		size_t first = mock_record_count();
		if (mock_conn_open(p, &ci, &c))
			return -1;
		/* consecutive segments of one direction are joined, then cut again */
		for (size_t i = 0; i < g->n;) {
			if (g->s[i].conn != conn) {
				i++;
				continue;
			}
			int fc = g->s[i].from_client;
			size_t j = i, len = 0;
			uint8_t *buf;
			if (o->chunking == CHUNK_WHOLE) {
				j = i + 1;
				len = g->s[i].len;
				buf = malloc(len);
				memcpy(buf, g->s[i].data, len);
			} else {
				for (; j < g->n && (g->s[j].conn != conn || g->s[j].from_client == fc); j++)
					if (g->s[j].conn == conn)
						len += g->s[j].len;
				buf = malloc(len ? len : 1);
				len = 0;
				for (size_t k = i; k < j; k++)
					if (g->s[k].conn == conn) {
						memcpy(buf + len, g->s[k].data, g->s[k].len);
						len += g->s[k].len;
					}
			}
			uint32_t dir = (fc == (o->role == ZT_ROLE_CLIENT)) ? ZT_DIR_EGRESS : ZT_DIR_INGRESS;
			send_cut(c, dir, buf, len, o, &rnd, 1000000 + g->s[i].us * 1000);
			free(buf);
			i = j;
		}
		struct mock_l7_stats s = mock_conn_stats(c);
		mock_conn_close(c);
		add_stats(st, &s);
		for (size_t r = first; r < mock_record_count(); r++) {
			const struct mock_record *rec = mock_record_get(r);
			const char *code = mock_record_attr(rec, "db.response.status_code");
			const char *stn = rec->status == ZT_STATUS_OK ? "ok" : rec->status == ZT_STATUS_FAILED ? "failed"
														  : "unknown";
			char line[256];
			int k = snprintf(line, sizeof(line), "%d %s %s %s\n", conn, rec->method, stn, code ? code : "-");
			if (rec->role != o->role || rec->end_ns < rec->start_ns)
				k = snprintf(line, sizeof(line), "%d BAD role %u or times\n", conn, rec->role);
			while (tlen + (size_t)k + 1 > tcap)
				*text = realloc(*text, tcap *= 2);
			memcpy(*text + tlen, line, (size_t)k + 1);
			tlen += (size_t)k;
		}
	}
	return 0;
}

size_t pgm(uint8_t *buf, size_t n, char type, const void *body, size_t blen)
{
	uint32_t l = (uint32_t)blen + 4;
	buf[n] = (uint8_t)type;
	buf[n + 1] = (uint8_t)(l >> 24);
	buf[n + 2] = (uint8_t)(l >> 16);
	buf[n + 3] = (uint8_t)(l >> 8);
	buf[n + 4] = (uint8_t)l;
	if (blen)
		memcpy(buf + n + 5, body, blen);
	return n + 5 + blen;
}

size_t pgm_str(uint8_t *buf, size_t n, char type, const char *s)
{
	return pgm(buf, n, type, s, strlen(s) + 1);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t pgm_startup(uint8_t *buf, size_t n, const char *user, const char *db)
{
	size_t o = n + 8;
	o += (size_t)sprintf((char *)buf + o, "user") + 1;
	o += (size_t)sprintf((char *)buf + o, "%s", user) + 1;
	if (db) {
		o += (size_t)sprintf((char *)buf + o, "database") + 1;
		o += (size_t)sprintf((char *)buf + o, "%s", db) + 1;
	}
	buf[o++] = 0;
	put32(buf + n, (uint32_t)(o - n));
	put32(buf + n + 4, 0x00030000);
	return o;
}

size_t pgm_code(uint8_t *buf, size_t n, uint32_t code)
{
	put32(buf + n, code == 80877102u ? 16 : 8);
	put32(buf + n + 4, code);
	if (code == 80877102u) {
		put32(buf + n + 8, 1234);
		put32(buf + n + 12, 5678);
		return n + 16;
	}
	return n + 8;
}

size_t pgm_parse(uint8_t *buf, size_t n, const char *name, const char *query)
{
	uint8_t b[4096];
	size_t l = 0;
	l += (size_t)sprintf((char *)b, "%s", name) + 1;
	l += (size_t)sprintf((char *)b + l, "%s", query) + 1;
	b[l++] = 0;
	b[l++] = 0;
	return pgm(buf, n, 'P', b, l);
}

size_t pgm_bind(uint8_t *buf, size_t n, const char *portal, const char *stmt)
{
	uint8_t b[512];
	size_t l = 0;
	l += (size_t)sprintf((char *)b, "%s", portal) + 1;
	l += (size_t)sprintf((char *)b + l, "%s", stmt) + 1;
	memset(b + l, 0, 6); /* no formats, no parameters, no result formats */
	l += 6;
	return pgm(buf, n, 'B', b, l);
}

size_t pgm_exec(uint8_t *buf, size_t n, const char *portal)
{
	uint8_t b[256];
	size_t l = (size_t)sprintf((char *)b, "%s", portal) + 1;
	memset(b + l, 0, 4);
	return pgm(buf, n, 'E', b, l + 4);
}

size_t pgm_error(uint8_t *buf, size_t n, const char *code)
{
	uint8_t b[256];
	size_t l = (size_t)sprintf((char *)b, "SERROR") + 1;
	l += (size_t)sprintf((char *)b + l, "C%s", code) + 1;
	l += (size_t)sprintf((char *)b + l, "Msomething failed") + 1;
	b[l++] = 0;
	return pgm(buf, n, 'E', b, l);
}

size_t pgm_ready(uint8_t *buf, size_t n)
{
	return pgm(buf, n, 'Z', "I", 1);
}

size_t pgm_complete(uint8_t *buf, size_t n, const char *tag)
{
	return pgm_str(buf, n, 'C', tag);
}
