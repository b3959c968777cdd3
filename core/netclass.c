/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peer classification: loopback and the node's own addresses, then the
 * configured CIDR -> zone map (longest prefix wins), then ranges that are
 * private by definition (no price without a mapping), then the internet.
 *
 * The map is a one-bit-per-level binary trie. IPv4 and IPv6 prefixes live
 * under separate roots so that an IPv6 prefix such as ::/0 never claims
 * IPv4 peers (which share the IPv4-mapped representation) and 0.0.0.0/0
 * never claims IPv6 peers. Nodes sit in one growable array addressed by
 * index: one allocation to grow, one to free, and no pointers to fix up.
 * A config map of a few hundred CIDRs costs a few thousand nodes; lookups
 * are at most 32 or 128 steps, with no allocation.
 *
 * Not thread-safe: classify reads what add_* and refresh_local write.
 */
#define _GNU_SOURCE
#include "netclass.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NC_NONE 0u            /* child index 0 is the root: never a child */
#define NC_MAX_NODES (1u << 24) /* ~200 MB of nodes: a config gone wrong */
#define NC_ZONE_MAX 255       /* a zone name is a label, not a document */

/* Where a local address came from: manual entries survive a refresh. */
#define LOCAL_MANUAL 1u
#define LOCAL_IFADDR 2u

struct nc_node {
	uint32_t child[2];
	uint32_t zone; /* index + 1 into zones; 0: no prefix ends here */
};

struct nc_local {
	struct zt_addr addr;
	uint32_t src; /* LOCAL_* bits */
};

struct netclass {
	char *node_zone; /* "" when unknown */
	struct nc_node *nodes;
	uint32_t nnodes, cap;
	uint32_t root[2]; /* [0] IPv4 (32-bit keys), [1] IPv6 (128-bit keys) */
	char **zones;     /* interned: each distinct name once */
	uint32_t nzones, zcap;
	struct nc_local *locals; /* sorted by address, for bsearch */
	size_t nlocals, lcap;
};

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Bit i (0 = most significant) of a key held in bytes. */
static inline unsigned key_bit(const uint8_t *key, unsigned i)
{
	return (key[i >> 3] >> (7 - (i & 7))) & 1u;
}

static int prefix_match(const uint8_t *a, const uint8_t *p, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, p, full) != 0)
		return 0;
	if (!rest)
		return 1;
	return ((a[full] ^ p[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int node_new(struct netclass *nc, uint32_t *out)
{
	if (nc->nnodes == nc->cap) {
		uint32_t cap = nc->cap ? nc->cap * 2 : 64;
		struct nc_node *n;

		if (cap > NC_MAX_NODES)
			return -ENOSPC;
		n = realloc(nc->nodes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		nc->nodes = n;
		nc->cap = cap;
	}
	memset(&nc->nodes[nc->nnodes], 0, sizeof(nc->nodes[0]));
	*out = nc->nnodes++;
	return 0;
}

static int zone_intern(struct netclass *nc, const char *zone, uint32_t *out)
{
	uint32_t i;

	for (i = 0; i < nc->nzones; i++) {
		if (strcmp(nc->zones[i], zone) == 0) {
			*out = i + 1;
			return 0;
		}
	}
	if (nc->nzones == nc->zcap) {
		uint32_t cap = nc->zcap ? nc->zcap * 2 : 8;
		char **z = realloc(nc->zones, cap * sizeof(*z));
		if (!z)
			return -ENOMEM;
		nc->zones = z;
		nc->zcap = cap;
	}
	nc->zones[nc->nzones] = strdup(zone);
	if (!nc->zones[nc->nzones])
		return -ENOMEM;
	*out = ++nc->nzones;
	return 0;
}

int netclass_new(const char *node_zone, struct netclass **out)
{
	struct netclass *nc;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (node_zone && strlen(node_zone) > NC_ZONE_MAX)
		return -EINVAL;
	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	nc->node_zone = strdup(node_zone ? node_zone : "");
	if (!nc->node_zone) {
		err = -ENOMEM;
		goto err_free;
	}
	err = node_new(nc, &nc->root[0]);
	if (!err)
		err = node_new(nc, &nc->root[1]);
	if (err)
		goto err_free;
	*out = nc;
	return 0;

err_free:
	netclass_free(nc);
	return err;
}

void netclass_free(struct netclass *nc)
{
	uint32_t i;

	if (!nc)
		return;
	for (i = 0; i < nc->nzones; i++)
		free(nc->zones[i]);
	free(nc->zones);
	free(nc->nodes);
	free(nc->locals);
	free(nc->node_zone);
	free(nc);
}

int zt_addr_parse(const char *s, struct zt_addr *out)
{
	struct in_addr v4;

	if (!s || !out)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &v4) == 1) {
		memset(out, 0, sizeof(*out));
		memcpy(out->a, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(&out->a[12], &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1)
		return 0;
	return -EINVAL;
}

/* Strict decimal prefix length: digits only, no sign, no spaces. */
static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	int digits = 0;

	for (; *s; s++) {
		if (*s < '0' || *s > '9' || ++digits > 3)
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (!digits || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Text -> (trie, key, bits). An IPv6 CIDR inside ::ffff:0:0/96 with at
 * least those 96 bits is an IPv4 CIDR in disguise and goes to the IPv4
 * trie, where IPv4 peers will look. Host bits are cleared, not refused:
 * "10.1.2.3/8" in a config means 10.0.0.0/8 to anyone reading it.
 */
static int parse_cidr(const char *cidr, unsigned *fam, uint8_t key[16], unsigned *bits)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	size_t hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	struct zt_addr a;
	unsigned i, max;

	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (zt_addr_parse(host, &a))
		return -EINVAL;
	/* The text decides the family: "::ffff:1.2.3.4" is written as IPv6. */
	max = strchr(host, ':') ? 128 : 32;
	if (slash) {
		if (parse_prefix(slash + 1, max, bits))
			return -EINVAL;
	} else {
		*bits = max;
	}
	memset(key, 0, 16);
	if (max == 32) {
		*fam = 0;
		memcpy(key, &a.a[12], 4);
	} else if (*bits >= 96 && zt_addr_is_v4(&a)) {
		*fam = 0;
		*bits -= 96;
		memcpy(key, &a.a[12], 4);
	} else {
		*fam = 1;
		memcpy(key, a.a, 16);
	}
	for (i = *bits; i < 128; i++)
		key[i >> 3] &= (uint8_t) ~(0x80u >> (i & 7));
	return 0;
}

int netclass_add_cidr(struct netclass *nc, const char *cidr, const char *zone)
{
	uint8_t key[16];
	unsigned fam, bits, i;
	uint32_t cur, zid;
	int err;

	if (!nc || !cidr || !zone || !*zone || strlen(zone) > NC_ZONE_MAX)
		return -EINVAL;
	err = parse_cidr(cidr, &fam, key, &bits);
	if (err)
		return err;
	err = zone_intern(nc, zone, &zid);
	if (err)
		return err;
	cur = nc->root[fam];
	for (i = 0; i < bits; i++) {
		unsigned b = key_bit(key, i);
		uint32_t next = nc->nodes[cur].child[b];

		if (next == NC_NONE) {
			/* Nodes left by a failure here are harmless: no
			 * prefix ends on them, so lookups pass through. */
			err = node_new(nc, &next);
			if (err)
				return err;
			nc->nodes[cur].child[b] = next;
		}
		cur = next;
	}
	/* The same CIDR twice with different zones is a config mistake that
	 * "last one wins" would hide. */
	if (nc->nodes[cur].zone && nc->nodes[cur].zone != zid)
		return -EEXIST;
	nc->nodes[cur].zone = zid;
	return 0;
}

/* Longest prefix match; returns the zone index + 1, or 0. */
static uint32_t trie_lookup(const struct netclass *nc, const struct zt_addr *a)
{
	const uint8_t *key = zt_addr_is_v4(a) ? &a->a[12] : a->a;
	unsigned fam = zt_addr_is_v4(a) ? 0 : 1, bits = fam ? 128 : 32, i;
	uint32_t cur = nc->root[fam], best = nc->nodes[cur].zone;

	for (i = 0; i < bits; i++) {
		cur = nc->nodes[cur].child[key_bit(key, i)];
		if (cur == NC_NONE)
			break;
		if (nc->nodes[cur].zone)
			best = nc->nodes[cur].zone;
	}
	return best;
}

static int local_cmp(const void *k, const void *e)
{
	return memcmp(k, &((const struct nc_local *)e)->addr, sizeof(struct zt_addr));
}

static int local_add(struct netclass *nc, const struct zt_addr *a, uint32_t src)
{
	size_t lo = 0, hi = nc->nlocals;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(a, &nc->locals[mid].addr, sizeof(*a));

		if (c == 0) {
			nc->locals[mid].src |= src;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (nc->nlocals == nc->lcap) {
		size_t cap = nc->lcap ? nc->lcap * 2 : 16;
		struct nc_local *l = realloc(nc->locals, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		nc->locals = l;
		nc->lcap = cap;
	}
	memmove(&nc->locals[lo + 1], &nc->locals[lo], (nc->nlocals - lo) * sizeof(*nc->locals));
	nc->locals[lo].addr = *a;
	nc->locals[lo].src = src;
	nc->nlocals++;
	return 0;
}

int netclass_add_local(struct netclass *nc, const struct zt_addr *a)
{
	if (!nc || !a)
		return -EINVAL;
	return local_add(nc, a, LOCAL_MANUAL);
}

/* Drops what the last refresh found, keeping netclass_add_local entries. */
static void locals_drop_ifaddr(struct netclass *nc)
{
	size_t i, j = 0;

	for (i = 0; i < nc->nlocals; i++) {
		nc->locals[i].src &= ~LOCAL_IFADDR;
		if (nc->locals[i].src)
			nc->locals[j++] = nc->locals[i];
	}
	nc->nlocals = j;
}

int netclass_refresh_local(struct netclass *nc)
{
	struct ifaddrs *ifa = NULL, *i;
	int err = 0;

	if (!nc)
		return -EINVAL;
	/* On failure the previous set stays: stale beats empty, since an
	 * empty set would price the node's own traffic as remote. */
	if (getifaddrs(&ifa) < 0)
		return -errno;
	locals_drop_ifaddr(nc);
	for (i = ifa; i && !err; i = i->ifa_next) {
		struct zt_addr a;

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
			memset(&a, 0, sizeof(a));
			memcpy(a.a, v4_mapped_prefix, sizeof(v4_mapped_prefix));
			memcpy(&a.a[12], &sin->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)i->ifa_addr;
			memcpy(a.a, &sin6->sin6_addr, 16);
		} else {
			continue;
		}
		err = local_add(nc, &a, LOCAL_IFADDR);
	}
	freeifaddrs(ifa);
	return err;
}

struct special_range {
	uint8_t p[16];
	unsigned bits;
};

/* Private or link-scoped by definition: a peer here is near, but which
 * zone it sits in is only known from the configured map. */
#define V4(a, b, c, d) { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d }
static const struct special_range unknown_ranges[] = {
	{ V4(10, 0, 0, 0), 96 + 8 },      /* RFC 1918 */
	{ V4(172, 16, 0, 0), 96 + 12 },   /* RFC 1918 */
	{ V4(192, 168, 0, 0), 96 + 16 },  /* RFC 1918 */
	{ V4(100, 64, 0, 0), 96 + 10 },   /* RFC 6598 carrier-grade NAT */
	{ V4(169, 254, 0, 0), 96 + 16 },  /* link-local */
	{ { 0xfc }, 7 },                  /* unique local */
	{ { 0xfe, 0x80 }, 10 },           /* link-local */
};
static const struct special_range loopback_ranges[] = {
	{ V4(127, 0, 0, 0), 96 + 8 },
	{ { [15] = 1 }, 128 },            /* ::1 */
};
#undef V4

static int in_ranges(const struct zt_addr *a, const struct special_range *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix_match(a->a, r[i].p, r[i].bits))
			return 1;
	return 0;
}

int netclass_classify(const struct netclass *nc, const struct zt_addr *peer, const char **zone)
{
	uint32_t zid;

	if (zone)
		*zone = "";
	if (!nc || !peer)
		return -EINVAL;
	if (in_ranges(peer, loopback_ranges, sizeof(loopback_ranges) / sizeof(loopback_ranges[0])) ||
	    (nc->nlocals && bsearch(peer, nc->locals, nc->nlocals, sizeof(*nc->locals), local_cmp))) {
		if (zone)
			*zone = nc->node_zone;
		return NETCLASS_SAME_HOST;
	}
	zid = trie_lookup(nc, peer);
	if (zid) {
		const char *z = nc->zones[zid - 1];
		if (zone)
			*zone = z;
		/* An unknown node zone equals nothing: without it no peer
		 * can be proven near, and "other" is what gets priced. */
		return nc->node_zone[0] && strcmp(z, nc->node_zone) == 0 ? NETCLASS_SAME_ZONE
									 : NETCLASS_OTHER_ZONE;
	}
	if (in_ranges(peer, unknown_ranges, sizeof(unknown_ranges) / sizeof(unknown_ranges[0])))
		return NETCLASS_UNKNOWN_ZONE;
	return NETCLASS_INTERNET;
}

const char *netclass_name(int cls)
{
	switch (cls) {
	case NETCLASS_SAME_HOST:
		return "same_host";
	case NETCLASS_SAME_ZONE:
		return "same_zone";
	case NETCLASS_OTHER_ZONE:
		return "other_zone";
	case NETCLASS_INTERNET:
		return "internet";
	case NETCLASS_UNKNOWN_ZONE:
		return "unknown";
	default:
		return "invalid";
	}
}
