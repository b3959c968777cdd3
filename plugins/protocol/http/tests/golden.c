// SPDX-License-Identifier: Apache-2.0
#include "golden.h"

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
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t golden_unescape(const char *in, size_t n, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '\\' || i + 1 >= n) {
			out[o++] = (uint8_t)in[i];
			continue;
		}
		char e = in[++i];
		if (e == 'r')
			out[o++] = '\r';
		else if (e == 'n')
			out[o++] = '\n';
		else if (e == 't')
			out[o++] = '\t';
		else if (e == 'x' && i + 2 < n && hexv(in[i + 1]) >= 0 && hexv(in[i + 2]) >= 0) {
			out[o++] = (uint8_t)(hexv(in[i + 1]) * 16 + hexv(in[i + 2]));
			i += 2;
		} else
			out[o++] = (uint8_t)e; /* "\\" and anything else: the character itself */
	}
	return o;
}

/* One line of any length; NULL at the end. */
static char *read_line(gzFile f, char **buf, size_t *cap, size_t *len)
{
	size_t n = 0;
	if (!*buf) {
		*cap = 4096;
		*buf = malloc(*cap);
		if (!*buf)
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
	*len = n;
	return *buf;
}

int golden_load(const char *path, struct golden_stream *s)
{
	gzFile f = gzopen(path, "rb");
	char *buf = NULL, *line;
	size_t cap = 0, len, mcap = 0;
	int err = 0;

	memset(s, 0, sizeof(*s));
	if (!f)
		return -errno ? -errno : -ENOENT;
	while ((line = read_line(f, &buf, &cap, &len))) {
		if (!len || line[0] == '#')
			continue;
		if (len < 2 || (line[0] != 'c' && line[0] != 's') || line[1] != ' ') {
			fprintf(stderr, "%s: bad line: %.40s\n", path, line);
			err = -EINVAL;
			break;
		}
		if (s->n == mcap) {
			mcap = mcap ? 2 * mcap : 64;
			struct mock_msg *m = realloc(s->m, mcap * sizeof(*m));
			if (!m) {
				err = -ENOMEM;
				break;
			}
			s->m = m;
		}
		struct mock_msg *m = &s->m[s->n];
		m->from_client = line[0] == 'c';
		m->data = malloc(len);
		if (!m->data) {
			err = -ENOMEM;
			break;
		}
		m->len = golden_unescape(line + 2, len - 2, m->data);
		s->n++;
	}
	free(buf);
	gzclose(f);
	if (err)
		golden_free(s);
	return err;
}

void golden_free(struct golden_stream *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->m[i].data);
	free(s->m);
	memset(s, 0, sizeof(*s));
}

static void append(struct replay_result *r, size_t *cap, const char *line)
{
	size_t n = strlen(line), have = r->text ? strlen(r->text) : 0;
	if (have + n + 1 > *cap) {
		*cap = (have + n + 1) * 2;
		r->text = realloc(r->text, *cap);
		if (!r->text)
			abort();
	}
	memcpy(r->text + have, line, n + 1);
}

int golden_replay(struct mock_plugin *p, const struct golden_stream *s, const struct replay_opts *o,
		  struct replay_result *r)
{
	const struct zt_protocol_ops *ops = mock_plugin_protocol_ops(p);
	struct zt_conn_info ci = mock_conn_info(o->role, 80);
	struct mock_conn *c;
	size_t first = mock_record_count(), cap = 0;
	size_t piece_max = o->capture ? o->capture : (ops->capture_bytes ? ops->capture_bytes : 1024);
	uint64_t ts = 1000000;
	unsigned seed = o->seed;
	int err;

	memset(r, 0, sizeof(*r));
	if ((err = mock_conn_open(p, &ci, &c)))
		return err;
	mock_conn_replay(c, o->role, s->m, s->n, o->chunking, o->capture, piece_max, seed, &ts);
	r->st = mock_conn_stats(c);
	mock_conn_close(c);
	for (size_t k = first; k < mock_record_count(); k++) {
		const struct mock_record *rec = mock_record_get(k);
		char line[512];
		snprintf(line, sizeof(line), "%s %s %s %llu %llu\n", rec->method[0] ? rec->method : "-",
			 rec->resource[0] ? rec->resource : "-", rec->status_label[0] ? rec->status_label : "-",
			 (unsigned long long)rec->req_size, (unsigned long long)rec->resp_size);
		append(r, &cap, line);
		r->records++;
		if (rec->end_ns < rec->start_ns)
			r->bad_times++;
		if (rec->role != o->role)
			r->wrong_role++;
	}
	if (!r->text)
		append(r, &cap, "");
	return 0;
}
