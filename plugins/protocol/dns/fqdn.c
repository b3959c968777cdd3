// SPDX-License-Identifier: Apache-2.0
#include "fqdn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t pair_hash(const uint8_t *ip, uint32_t v6, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t n = v6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		h = (h ^ ip[i]) * 0x100000001b3ull;
	h = (h ^ (v6 ? 6 : 4)) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
	return h;
}

int fqdn_init(struct fqdn_table *t, uint32_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	if (!max)
		return 0;
	t->nbuckets = 64;
	while (t->nbuckets < max && t->nbuckets < (1u << 20))
		t->nbuckets <<= 1;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void fqdn_free(struct fqdn_table *t)
{
	struct fqdn_entry *e = t->oldest;

	while (e) {
		struct fqdn_entry *n = e->newer;
		free(e);
		e = n;
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static void unlink_lru(struct fqdn_table *t, struct fqdn_entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	e->older = e->newer = NULL;
}

static void push_newest(struct fqdn_table *t, struct fqdn_entry *e)
{
	e->older = t->newest;
	e->newer = NULL;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
}

static void drop_entry(struct fqdn_table *t, struct fqdn_entry *e, fqdn_drop_fn drop, void *ctx)
{
	struct fqdn_entry **pp = &t->buckets[e->hash & (t->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	unlink_lru(t, e);
	t->count--;
	if (drop)
		drop(ctx, e);
	free(e);
}

int fqdn_note(struct fqdn_table *t, const uint8_t *ip, uint32_t v6, const char *name, size_t len, uint64_t now_ns,
	      fqdn_drop_fn drop, void *ctx)
{
	uint64_t h;
	struct fqdn_entry *e;
	size_t n = v6 ? 16 : 4;

	if (!t->max)
		return 0;
	if (len > UINT16_MAX)
		len = UINT16_MAX;
	h = pair_hash(ip, v6, name, len);
	for (e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->v6 == !!v6 && e->len == len && !memcmp(e->ip, ip, n) && !memcmp(e->name, name, len)) {
			e->seen_ns = now_ns;
			unlink_lru(t, e);
			push_newest(t, e);
			return 0;
		}
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	if (t->count >= t->max) {
		t->evicted++;
		drop_entry(t, t->oldest, drop, ctx);
	}
	e->hash = h;
	e->seen_ns = now_ns;
	e->v6 = !!v6;
	memcpy(e->ip, ip, n);
	e->len = (uint16_t)len;
	memcpy(e->name, name, len);
	e->hnext = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = e;
	push_newest(t, e);
	t->count++;
	return 1;
}

void fqdn_expire(struct fqdn_table *t, uint64_t before_ns, fqdn_drop_fn drop, void *ctx)
{
	while (t->oldest && t->oldest->seen_ns < before_ns)
		drop_entry(t, t->oldest, drop, ctx);
}

void fqdn_ip_text(const struct fqdn_entry *e, char *buf, size_t buflen)
{
	if (!inet_ntop(e->v6 ? AF_INET6 : AF_INET, e->ip, buf, (socklen_t)buflen) && buflen)
		buf[0] = 0;
}
