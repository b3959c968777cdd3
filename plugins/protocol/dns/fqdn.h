/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The (ip, fqdn) pairs behind the ip_to_fqdn gauge: a hash table with a
 * least-recently-seen list, at most `max` entries. A new pair past the cap
 * evicts the pair seen longest ago; pairs not seen for a while are expired
 * by the plugin's timer. Every pair that leaves the table is handed to a
 * callback, so its series can be removed with it. Pure code, no host.
 */
#ifndef ZT_DNS_FQDN_H
#define ZT_DNS_FQDN_H

#include <stddef.h>
#include <stdint.h>

struct fqdn_entry {
	struct fqdn_entry *hnext;        /* hash chain */
	struct fqdn_entry *older, *newer; /* LRU list */
	uint64_t hash;
	uint64_t seen_ns;
	uint8_t ip[16];
	uint8_t v6;
	uint16_t len;
	char name[]; /* NUL-terminated */
};

struct fqdn_table {
	struct fqdn_entry **buckets;
	uint32_t nbuckets; /* power of two */
	uint32_t count, max;
	struct fqdn_entry *oldest, *newest;
	uint64_t evicted; /* pushed out by the cap */
};

typedef void (*fqdn_drop_fn)(void *ctx, const struct fqdn_entry *e);

/* max 0: the table stays empty. 0 or -ENOMEM. */
int fqdn_init(struct fqdn_table *t, uint32_t max);
/* Frees every entry without callbacks. */
void fqdn_free(struct fqdn_table *t);
/*
 * ip (4 or 16 bytes by v6) answered for name: refreshes the pair, or adds
 * it (evicting the oldest through drop when full). Returns 1 when the pair
 * is new (the caller sets its gauge), 0 when it was known, -ENOMEM.
 */
int fqdn_note(struct fqdn_table *t, const uint8_t *ip, uint32_t v6, const char *name, size_t len, uint64_t now_ns,
	      fqdn_drop_fn drop, void *ctx);
/* Drops the pairs last seen before `before_ns`, through drop. */
void fqdn_expire(struct fqdn_table *t, uint64_t before_ns, fqdn_drop_fn drop, void *ctx);
/* "a.b.c.d" or the RFC 5952 form of an IPv6 address. */
void fqdn_ip_text(const struct fqdn_entry *e, char *buf, size_t buflen);

#endif
