// SPDX-License-Identifier: Apache-2.0
#include "mc_testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static char *read_line(gzFile f, char **buf, size_t *cap)
{
	size_t n = 0;
	if (!*buf) {
		*cap = 1 << 16;
		if (!(*buf = malloc(*cap)))
			return NULL;
	}
	for (;;) {
		if (!gzgets(f, *buf + n, (int)(*cap - n)))
			break;
		n += strlen(*buf + n);
		if (n && (*buf)[n - 1] == '\n')
			break;
		if (n + 1 >= *cap) {
			char *b = realloc(*buf, *cap * 2);
			if (!b)
				return NULL;
			*buf = b;
			*cap *= 2;
		}
	}
	if (!n)
		return NULL;
	if ((*buf)[n - 1] == '\n')
		(*buf)[--n] = 0;
	return *buf;
}

static int add_msg(struct golden_conn *c, int from_client, const char *hex)
{
	size_t hl = strlen(hex);
	if (hl % 2)
		return -EINVAL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct mock_msg *m = realloc(c->m, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		c->m = m;
		c->cap = cap;
	}
	struct mock_msg *m = &c->m[c->n];
	m->from_client = from_client;
	m->len = hl / 2;
	if (!(m->data = malloc(m->len ? m->len : 1)))
		return -ENOMEM;
	for (size_t i = 0; i < m->len; i++) {
		int a = hexv(hex[2 * i]), b = hexv(hex[2 * i + 1]);
		if (a < 0 || b < 0) {
			free(m->data);
			return -EINVAL;
		}
		m->data[i] = (uint8_t)(a * 16 + b);
	}
	c->n++;
	return 0;
}

int golden_load(const char *path, struct golden *g)
{
	gzFile f = gzopen(path, "rb");
	char *buf = NULL, *line;
	size_t cap = 0;
	int err = 0;

	memset(g, 0, sizeof(*g));
	if (!f)
		return errno ? -errno : -ENOENT;
	while ((line = read_line(f, &buf, &cap))) {
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(line, "client", 6)) {
			snprintf(g->client, sizeof(g->client), "%s", line + 6);
		} else if (!strncmp(line, "server", 6)) {
			snprintf(g->server, sizeof(g->server), "%s", line + 6);
		} else if (!strcmp(line, "conn")) {
			struct golden_conn *c = realloc(g->c, (g->n + 1) * sizeof(*c));
			if (!c) {
				err = -ENOMEM;
				break;
			}
			g->c = c;
			memset(&g->c[g->n++], 0, sizeof(*c));
		} else if ((line[0] == 'c' || line[0] == 's') && line[1] == ' ' && g->n) {
			if ((err = add_msg(&g->c[g->n - 1], line[0] == 'c', line + 2)))
				break;
		} else {
			fprintf(stderr, "%s: bad line: %.40s\n", path, line);
			err = -EINVAL;
			break;
		}
	}
	free(buf);
	gzclose(f);
	if (err)
		golden_free(g);
	return err;
}

void golden_free(struct golden *g)
{
	for (size_t i = 0; i < g->n; i++) {
		for (size_t k = 0; k < g->c[i].n; k++)
			free(g->c[i].m[k].data);
		free(g->c[i].m);
	}
	free(g->c);
	memset(g, 0, sizeof(*g));
}

static void append(struct replay_sum *r, size_t *cap, const char *line)
{
	size_t n = strlen(line), have = r->text ? strlen(r->text) : 0;
	if (have + n + 1 > *cap) {
		*cap = (have + n + 1) * 2;
		if (!(r->text = realloc(r->text, *cap)))
			abort();
		if (!have)
			r->text[0] = 0;
	}
	memcpy(r->text + have, line, n + 1);
}

static void replay_conn(struct mock_plugin *p, const struct golden_conn *gc, const struct replay *o,
			struct replay_sum *r)
{
	const struct zt_protocol_ops *ops = mock_plugin_protocol_ops(p);
	struct zt_conn_info ci = mock_conn_info(o->role, 11211);
	struct mock_conn *c;
	size_t piece_max = o->capture ? o->capture : ops->capture_bytes;
	uint64_t ts = 1000000;
	unsigned seed = o->seed;

	if (mock_conn_open(p, &ci, &c))
		abort();
	mock_conn_replay(c, o->role, gc->m, gc->n, o->chunking, o->capture, piece_max, seed, &ts);
	struct mock_l7_stats st = mock_conn_stats(c);
	mock_conn_close(c);
	r->st.parse_errors += st.parse_errors;
	r->st.unmatched_responses += st.unmatched_responses;
	r->st.pending += st.pending;
	r->st.expired_requests += st.expired_requests;
	r->st.unanswered_at_close += st.unanswered_at_close;
	r->st.bad_frames += st.bad_frames;
	r->st.lost_bytes += st.lost_bytes;
	r->st.resyncs += st.resyncs;
}

static int is(const char *m, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(m, *set))
			return 1;
	return 0;
}

int replay_golden(struct mock_plugin *p, const struct golden *g, const struct replay *o, struct replay_sum *r)
{
	static const char *const storage[] = { "set", "add", "replace", "append", "prepend", "cas", "ms", NULL };
	static const char *const gets[] = { "get", "gets", "mg", NULL };
	static const char *const touches[] = { "touch", "gat", "gats", NULL };
	size_t first = mock_record_count(), cap = 0;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < g->n; i++)
		replay_conn(p, &g->c[i], o, r);
	append(r, &cap, "");
	for (size_t k = first; k < mock_record_count(); k++) {
		const struct mock_record *rec = mock_record_get(k);
		const char *st = rec->status == ZT_STATUS_OK ? "ok" : rec->status == ZT_STATUS_FAILED ? "failed" : "unknown";
		const char *batch = mock_record_attr(rec, "db.operation.batch.size");
		char line[2400];
		snprintf(line, sizeof(line), "%s %s%s %.2100s | %llu %llu\n", rec->method, st,
			 (rec->flags & 2) ? " oneway" : "", rec->statement, (unsigned long long)rec->req_size,
			 (unsigned long long)rec->resp_size);
		append(r, &cap, line);
		r->records++;
		r->oneway += !!(rec->flags & 2);
		r->ok += rec->status == ZT_STATUS_OK;
		r->failed += rec->status == ZT_STATUS_FAILED;
		r->unknown += rec->status == ZT_STATUS_UNKNOWN;
		if (is(rec->method, storage) && rec->status != ZT_STATUS_FAILED)
			r->storage_ok++;
		if (is(rec->method, gets))
			r->get_keys += batch ? strtoul(batch, NULL, 10) : 1;
		if (is(rec->method, touches))
			r->touch++;
		if (rec->end_ns && rec->end_ns < rec->start_ns)
			r->bad_times++;
		if (rec->role != o->role)
			r->wrong_role++;
	}
	return 0;
}

void replay_sum_free(struct replay_sum *r)
{
	free(r->text);
	r->text = NULL;
}

long counts_get(const char *line, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = line; (p = strstr(p, name)); p += n)
		if ((p == line || p[-1] == ' ') && p[n] == ' ')
			return strtol(p + n + 1, NULL, 10);
	return -1;
}
