// SPDX-License-Identifier: Apache-2.0
#include "my_testlib.h"

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

static int add_msg(struct golden *g, size_t *cap, int from_client, const char *hex)
{
	size_t hl = strlen(hex);
	if (hl % 2)
		return -EINVAL;
	if (g->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		struct mock_msg *m = realloc(g->m, *cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		g->m = m;
	}
	struct mock_msg *m = &g->m[g->n];
	m->from_client = from_client;
	m->len = hl / 2;
	m->data = malloc(m->len ? m->len : 1);
	if (!m->data)
		return -ENOMEM;
	for (size_t i = 0; i < m->len; i++) {
		int a = hexv(hex[2 * i]), b = hexv(hex[2 * i + 1]);
		if (a < 0 || b < 0) {
			free(m->data);
			return -EINVAL;
		}
		m->data[i] = (uint8_t)(a * 16 + b);
	}
	g->n++;
	return 0;
}

int golden_load(const char *path, struct golden *g)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0, mcap = 0;
	ssize_t l;
	int err = 0;

	memset(g, 0, sizeof(*g));
	if (!f)
		return -errno;
	while ((l = getline(&line, &lcap, f)) > 0) {
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (!l || line[0] == '#')
			continue;
		if ((line[0] == 'c' || line[0] == 's') && line[1] == ' ') {
			if ((err = add_msg(g, &mcap, line[0] == 'c', line + 2)))
				break;
		} else if (!strncmp(line, "expect ", 7)) {
			char **e = realloc(g->expect, (g->nexpect + 1) * sizeof(*e));
			if (!e || !(e[g->nexpect] = strdup(line + 7))) {
				err = -ENOMEM;
				if (e)
					g->expect = e;
				break;
			}
			g->expect = e;
			g->nexpect++;
		} else {
			fprintf(stderr, "%s: bad line: %.40s\n", path, line);
			err = -EINVAL;
			break;
		}
	}
	free(line);
	fclose(f);
	if (err)
		golden_free(g);
	return err;
}

void golden_free(struct golden *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->m[i].data);
	for (size_t i = 0; i < g->nexpect; i++)
		free(g->expect[i]);
	free(g->m);
	free(g->expect);
	memset(g, 0, sizeof(*g));
}

int golden_replay(struct mock_plugin *p, const struct golden *g, const struct replay_opts *o, struct replay_result *r)
{
	struct zt_conn_info ci = mock_conn_info(o->ci_role, o->port);
	struct mock_conn *c;
	unsigned seed = o->seed;
	uint64_t ts = 1000000;
	int err;

	memset(r, 0, sizeof(*r));
	r->first = mock_record_count();
	if (o->role == ZT_ROLE_SERVER) { /* the traced process accepted: ports swap */
		ci.local_port = o->port;
		ci.remote_port = 40000;
	}
	if ((err = mock_conn_open(p, &ci, &c)))
		return err;
	mock_conn_replay(c, o->role, g->m, g->n, o->chunking, o->capture, 3000, seed, &ts);
	r->st = mock_conn_stats(c);
	mock_conn_close(c);
	r->count = mock_record_count() - r->first;
	return 0;
}

size_t pkt(uint8_t *buf, size_t n, uint8_t seq, const void *payload, size_t len)
{
	buf[n] = (uint8_t)len;
	buf[n + 1] = (uint8_t)(len >> 8);
	buf[n + 2] = (uint8_t)(len >> 16);
	buf[n + 3] = seq;
	memcpy(buf + n + 4, payload, len);
	return n + 4 + len;
}
