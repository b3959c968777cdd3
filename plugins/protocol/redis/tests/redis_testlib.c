// SPDX-License-Identifier: Apache-2.0
#include "redis_testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void append(char **s, size_t *cap, const char *add)
{
	size_t have = *s ? strlen(*s) : 0, n = strlen(add);
	if (have + n + 1 > *cap) {
		*cap = (have + n + 1) * 2;
		*s = realloc(*s, *cap);
		if (!*s)
			abort();
		if (!have)
			(*s)[0] = 0;
	}
	memcpy(*s + have, add, n + 1);
}

int golden_load(const char *path, struct golden *g)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0, mcap = 0, ecap = 0;
	ssize_t n;
	int err = 0;

	memset(g, 0, sizeof(*g));
	if (!f)
		return -errno;
	while ((n = getline(&line, &lcap, f)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n || line[0] == '#')
			continue;
		if (!strncmp(line, "expect ", 7)) { /* "expect OP STATUS [xN]" */
			char *x = strstr(line + 7, " x");
			unsigned rep = 1;
			if (x && sscanf(x, " x%u", &rep) == 1)
				*x = 0;
			for (unsigned k = 0; k < rep; k++) {
				append(&g->expect, &ecap, line + 7);
				append(&g->expect, &ecap, "\n");
			}
			continue;
		}
		if (sscanf(line, "@events %u", &g->events) == 1)
			continue;
		if (n < 2 || (line[0] != 'c' && line[0] != 's') || line[1] != ' ' || (n - 2) % 2) {
			fprintf(stderr, "%s: bad line: %.40s\n", path, line);
			err = -EINVAL;
			break;
		}
		if (g->n == mcap) {
			mcap = mcap ? 2 * mcap : 64;
			g->m = realloc(g->m, mcap * sizeof(*g->m));
			if (!g->m)
				abort();
		}
		struct mock_msg *m = &g->m[g->n++];
		m->from_client = line[0] == 'c';
		m->len = (size_t)(n - 2) / 2;
		m->data = malloc(m->len + 1);
		if (!m->data)
			abort();
		for (size_t i = 0; i < m->len; i++) {
			int hi = hexv(line[2 + 2 * i]), lo = hexv(line[3 + 2 * i]);
			if (hi < 0 || lo < 0) {
				err = -EINVAL;
				break;
			}
			m->data[i] = (uint8_t)(hi * 16 + lo);
		}
	}
	free(line);
	fclose(f);
	if (!g->expect)
		append(&g->expect, &ecap, "");
	if (err)
		golden_free(g);
	return err;
}

void golden_free(struct golden *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->m[i].data);
	free(g->m);
	free(g->expect);
	memset(g, 0, sizeof(*g));
}

char *records_text(size_t first)
{
	char *s = NULL;
	size_t cap = 0;
	append(&s, &cap, "");
	for (size_t k = first; k < mock_record_count(); k++) {
		const struct mock_record *rec = mock_record_get(k);
		char line[256];
		const char *st = rec->status == ZT_STATUS_OK ? "ok" : rec->status == ZT_STATUS_FAILED ? "failed" : "unknown";
		snprintf(line, sizeof(line), "%s %s\n", rec->method[0] ? rec->method : "-", st);
		append(&s, &cap, line);
	}
	return s;
}

int golden_replay(struct mock_plugin *p, const struct golden *g, const struct replay *o, struct replay_out *r)
{
	const struct zt_protocol_ops *ops = mock_plugin_protocol_ops(p);
	struct zt_conn_info ci = mock_conn_info(o->role, 6379);
	struct mock_conn *c;
	size_t first = mock_record_count(), ffirst = mock_frame_count();
	size_t piece_max = o->capture ? o->capture : (ops->capture_bytes ? ops->capture_bytes : 1024);
	uint64_t ts = 1000000;
	unsigned seed = o->seed;
	int err;

	memset(r, 0, sizeof(*r));
	if ((err = mock_conn_open(p, &ci, &c)))
		return err;
	mock_conn_replay(c, o->role, g->m, g->n, o->chunking, o->capture, piece_max, seed, &ts);
	r->st = mock_conn_stats(c);
	mock_conn_close(c);
	r->text = records_text(first);
	for (size_t k = first; k < mock_record_count(); k++) {
		const struct mock_record *rec = mock_record_get(k);
		r->records++;
		if (rec->end_ns < rec->start_ns)
			r->bad_times++;
		if (rec->role != o->role)
			r->wrong_role++;
	}
	for (size_t k = ffirst; k < mock_frame_count(); k++)
		r->events += mock_frame_get(k)->type == ZT_FRAME_EVENT;
	return 0;
}
