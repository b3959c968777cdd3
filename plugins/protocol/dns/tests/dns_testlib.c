// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "dns_testlib.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void b_reset(struct dnsb *b)
{
	b->len = 0;
}

void b_u8(struct dnsb *b, uint8_t v)
{
	if (b->len < sizeof(b->buf))
		b->buf[b->len++] = v;
}

void b_u16(struct dnsb *b, uint16_t v)
{
	b_u8(b, (uint8_t)(v >> 8));
	b_u8(b, (uint8_t)v);
}

void b_u32(struct dnsb *b, uint32_t v)
{
	b_u16(b, (uint16_t)(v >> 16));
	b_u16(b, (uint16_t)v);
}

void b_bytes(struct dnsb *b, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b_u8(b, ((const uint8_t *)p)[i]);
}

void b_hdr(struct dnsb *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	b_u16(b, id);
	b_u16(b, flags);
	b_u16(b, qd);
	b_u16(b, an);
	b_u16(b, ns);
	b_u16(b, ar);
}

void b_name(struct dnsb *b, const char *dotted)
{
	const char *p = dotted;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		b_u8(b, (uint8_t)n);
		b_bytes(b, p, n);
		p += n;
		if (*p == '.')
			p++;
	}
	b_u8(b, 0);
}

void b_ptr(struct dnsb *b, uint16_t off)
{
	b_u16(b, (uint16_t)(0xc000 | off));
}

void b_rr_a(struct dnsb *b, uint16_t owner_off, const char *ipv4)
{
	uint8_t a[4];
	inet_pton(AF_INET, ipv4, a);
	b_ptr(b, owner_off);
	b_u16(b, 1);
	b_u16(b, 1);
	b_u32(b, 60);
	b_u16(b, 4);
	b_bytes(b, a, 4);
}

void b_rr_aaaa(struct dnsb *b, uint16_t owner_off, const char *ipv6)
{
	uint8_t a[16];
	inet_pton(AF_INET6, ipv6, a);
	b_ptr(b, owner_off);
	b_u16(b, 28);
	b_u16(b, 1);
	b_u32(b, 60);
	b_u16(b, 16);
	b_bytes(b, a, 16);
}

uint16_t b_rr_cname(struct dnsb *b, uint16_t owner_off, const char *target)
{
	size_t lenpos;
	uint16_t off;

	b_ptr(b, owner_off);
	b_u16(b, 5);
	b_u16(b, 1);
	b_u32(b, 60);
	lenpos = b->len;
	b_u16(b, 0);
	off = (uint16_t)b->len;
	b_name(b, target);
	b->buf[lenpos] = (uint8_t)((b->len - off) >> 8);
	b->buf[lenpos + 1] = (uint8_t)(b->len - off);
	return off;
}

size_t make_query(uint8_t *out, uint16_t id, const char *name, uint16_t qtype)
{
	struct dnsb b = { .len = 0 };
	b_hdr(&b, id, F_QUERY, 1, 0, 0, 0);
	b_name(&b, name);
	b_u16(&b, qtype);
	b_u16(&b, 1);
	memcpy(out, b.buf, b.len);
	return b.len;
}

size_t make_answer(uint8_t *out, uint16_t id, const char *name, uint16_t qtype, uint32_t rcode, const char *const *ips,
		   size_t nips)
{
	struct dnsb b = { .len = 0 };
	b_hdr(&b, id, (uint16_t)(F_RESP | rcode), 1, (uint16_t)nips, 0, 0);
	b_name(&b, name);
	b_u16(&b, qtype);
	b_u16(&b, 1);
	for (size_t i = 0; i < nips; i++) {
		if (strchr(ips[i], ':'))
			b_rr_aaaa(&b, 12, ips[i]);
		else
			b_rr_a(&b, 12, ips[i]);
	}
	memcpy(out, b.buf, b.len);
	return b.len;
}

size_t tcp_frame(uint8_t *out, const uint8_t *msg, size_t len)
{
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memmove(out + 2, msg, len);
	return len + 2;
}

/* ------------------------------------------------------------- golden */

static int parse_ip(const char *s, uint8_t out[16], uint16_t *fam)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET6, s, out) == 1) {
		*fam = 6;
		return 0;
	}
	out[10] = out[11] = 0xff;
	*fam = 4;
	return inet_pton(AF_INET, s, out + 12) == 1 ? 0 : -1;
}

static int push(char ***arr, size_t *n, const char *s)
{
	char **a = realloc(*arr, (*n + 1) * sizeof(*a));
	if (!a)
		return -1;
	*arr = a;
	a[*n] = strdup(s);
	return a[(*n)++] ? 0 : -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int golden_load(const char *path, struct golden *g)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	const char *base = strrchr(path, '/');

	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", base ? base + 1 : path);
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", path);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		char proto[8], src[64], dst[64], *hex;
		unsigned long long us;
		unsigned sp, dp;
		int off = 0;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n || line[0] == '#')
			continue;
		if (!strncmp(line, "ports ", 6)) {
			for (char *p = line + 6; *p && g->nports < 8;) {
				g->ports[g->nports++] = (uint16_t)strtoul(p, &p, 10);
				if (*p == ',')
					p++;
			}
		} else if (!strncmp(line, "expect ", 7)) {
			push(&g->expect, &g->nexpect, line + 7);
		} else if (!strncmp(line, "timeout ", 8)) {
			push(&g->timeout, &g->ntimeout, line + 8);
		} else if (!strncmp(line, "fqdn ", 5)) {
			push(&g->fqdn, &g->nfqdn, line + 5);
		} else if (!strncmp(line, "unmatched ", 10)) {
			g->nunmatched++;
		} else if (sscanf(line, "%llu %7s %63s %u %63s %u %n", &us, proto, src, &sp, dst, &dp, &off) == 6 && off) {
			struct gevent *e, *ev = realloc(g->ev, (g->nev + 1) * sizeof(*ev));
			uint16_t dfam;
			size_t hl;

			if (!ev)
				goto fail;
			g->ev = ev;
			e = &ev[g->nev];
			memset(e, 0, sizeof(*e));
			e->t_ns = us * 1000ull;
			e->tcp = !strcmp(proto, "tcp");
			e->sport = (uint16_t)sp;
			e->dport = (uint16_t)dp;
			hex = line + off;
			hl = strlen(hex);
			if (parse_ip(src, e->src, &e->sfam) || parse_ip(dst, e->dst, &dfam) || hl % 2) {
				fprintf(stderr, "%s:%d: bad event line\n", path, lineno);
				goto fail;
			}
			e->len = hl / 2;
			e->data = malloc(e->len ? e->len : 1);
			if (!e->data)
				goto fail;
			for (size_t i = 0; i < e->len; i++) {
				int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
				if (hi < 0 || lo < 0) {
					fprintf(stderr, "%s:%d: bad hex\n", path, lineno);
					free(e->data);
					goto fail;
				}
				e->data[i] = (uint8_t)(hi << 4 | lo);
			}
			g->nev++;
		} else {
			fprintf(stderr, "%s:%d: unknown line\n", path, lineno);
			goto fail;
		}
	}
	free(line);
	fclose(f);
	if (!g->nports) {
		fprintf(stderr, "%s: no ports line\n", path);
		golden_free(g);
		return -1;
	}
	return 0;
fail:
	free(line);
	fclose(f);
	golden_free(g);
	return -1;
}

static void free_list(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

void golden_free(struct golden *g)
{
	for (size_t i = 0; i < g->nev; i++)
		free(g->ev[i].data);
	free(g->ev);
	free_list(g->expect, g->nexpect);
	free_list(g->timeout, g->ntimeout);
	free_list(g->fqdn, g->nfqdn);
	memset(g, 0, sizeof(*g));
}

int golden_is_server_port(const struct golden *g, uint16_t port)
{
	for (size_t i = 0; i < g->nports; i++)
		if (g->ports[i] == port)
			return 1;
	return 0;
}

const char *dns_src_dir(void)
{
	static char dir[4096];
	const char *s = getenv("ZT_SOURCE_DIR");

	snprintf(dir, sizeof(dir), "%s/plugins/protocol/dns", s ? s : ".");
	return dir;
}
