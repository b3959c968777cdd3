/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peer classification for traffic cost: every remote address is one of
 * same host, same zone, other zone, or internet, from a configurable map of
 * CIDRs to zones and the node's own zone. Lookups are longest-prefix
 * matches over a small binary trie (IPv4 is held as IPv4-mapped IPv6).
 */
#ifndef ZT_CORE_NETCLASS_H
#define ZT_CORE_NETCLASS_H

#include <stdint.h>
#include "sockdiag.h"

#define NETCLASS_SAME_HOST 0
#define NETCLASS_SAME_ZONE 1
#define NETCLASS_OTHER_ZONE 2
#define NETCLASS_INTERNET 3
#define NETCLASS_UNKNOWN_ZONE 4 /* private address with no zone mapped */

struct netclass;

int netclass_new(const char *node_zone, struct netclass **out);
void netclass_free(struct netclass *nc);
/* Adds "10.0.0.0/8" (or an IPv6 CIDR) -> zone. -EINVAL for a bad CIDR. */
int netclass_add_cidr(struct netclass *nc, const char *cidr, const char *zone);
/* Marks an address as the node's own (from getifaddrs), so peers on it are same host. */
int netclass_add_local(struct netclass *nc, const struct zt_addr *a);
/* Re-reads the node's local addresses (loopback ranges are always local). */
int netclass_refresh_local(struct netclass *nc);
/* One of NETCLASS_*; zone (may be NULL) receives the peer's zone name or "". */
int netclass_classify(const struct netclass *nc, const struct zt_addr *peer, const char **zone);
const char *netclass_name(int cls); /* "same_host", "same_zone", "other_zone", "internet", "unknown" */
/* Parses "1.2.3.4" or "2001:db8::1" into an address. */
int zt_addr_parse(const char *s, struct zt_addr *out);

#endif
