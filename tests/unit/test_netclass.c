/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netclass: longest-prefix matches (nested, /0, host routes, the two
 * families kept apart), each class, and the CIDRs a config must refuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "netclass.h"

static int cls(const struct netclass *nc, const char *ip, const char **zone)
{
	struct zt_addr a;
	assert_int_equal(zt_addr_parse(ip, &a), 0);
	return netclass_classify(nc, &a, zone);
}

/* The zone the map gives ip, "" for none. */
static const char *zone_of(const struct netclass *nc, const char *ip)
{
	const char *z = NULL;
	cls(nc, ip, &z);
	assert_non_null(z);
	return z;
}

static int setup(void **state)
{
	struct netclass *nc;
	if (netclass_new("eu-1a", &nc))
		return -1;
	*state = nc;
	return 0;
}

static int teardown(void **state)
{
	netclass_free(*state);
	return 0;
}

static void test_lpm_nested(void **state)
{
	struct netclass *nc = *state;

	assert_int_equal(netclass_add_cidr(nc, "10.0.0.0/8", "z8"), 0);
	assert_int_equal(netclass_add_cidr(nc, "10.1.0.0/16", "z16"), 0);
	assert_int_equal(netclass_add_cidr(nc, "10.1.2.0/24", "z24"), 0);
	assert_int_equal(netclass_add_cidr(nc, "10.1.2.3", "z32"), 0); /* bare = /32 */

	assert_string_equal(zone_of(nc, "10.9.9.9"), "z8");
	assert_string_equal(zone_of(nc, "10.1.9.9"), "z16");
	assert_string_equal(zone_of(nc, "10.1.2.4"), "z24");
	assert_string_equal(zone_of(nc, "10.1.2.3"), "z32");
	assert_string_equal(zone_of(nc, "10.1.2.255"), "z24");
	assert_string_equal(zone_of(nc, "11.0.0.1"), "");
	/* Order of insertion does not matter: a shorter prefix added last
	 * does not hide the longer ones. */
	assert_int_equal(netclass_add_cidr(nc, "10.0.0.0/7", "z7"), 0);
	assert_string_equal(zone_of(nc, "10.1.2.3"), "z32");
	assert_string_equal(zone_of(nc, "11.0.0.1"), "z7");
	assert_string_equal(zone_of(nc, "12.0.0.1"), "");
}

static void test_lpm_edges(void **state)
{
	struct netclass *nc = *state;

	/* /0 per family, then host routes on the extreme addresses. */
	assert_int_equal(netclass_add_cidr(nc, "0.0.0.0/0", "all4"), 0);
	assert_int_equal(netclass_add_cidr(nc, "255.255.255.255/32", "top4"), 0);
	assert_int_equal(netclass_add_cidr(nc, "0.0.0.0/32", "zero4"), 0);
	assert_string_equal(zone_of(nc, "8.8.8.8"), "all4");
	assert_string_equal(zone_of(nc, "255.255.255.255"), "top4");
	assert_string_equal(zone_of(nc, "255.255.255.254"), "all4");
	assert_string_equal(zone_of(nc, "0.0.0.0"), "zero4");
	/* IPv4 /0 does not reach IPv6. */
	assert_string_equal(zone_of(nc, "2001:db8::1"), "");

	assert_int_equal(netclass_add_cidr(nc, "2001:db8::/32", "v6net"), 0);
	assert_int_equal(netclass_add_cidr(nc, "2001:db8::1/128", "v6host"), 0);
	assert_int_equal(netclass_add_cidr(nc, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "top6"), 0);
	assert_string_equal(zone_of(nc, "2001:db8::1"), "v6host");
	assert_string_equal(zone_of(nc, "2001:db8::2"), "v6net");
	assert_string_equal(zone_of(nc, "2001:db9::1"), "");
	assert_string_equal(zone_of(nc, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "top6");
	assert_string_equal(zone_of(nc, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), "");

	assert_int_equal(netclass_add_cidr(nc, "::/0", "all6"), 0);
	assert_string_equal(zone_of(nc, "2001:db9::1"), "all6");
	/* IPv6 /0 (which covers ::ffff:0:0/96 as bits) does not reach IPv4. */
	assert_string_equal(zone_of(nc, "8.8.8.8"), "all4");
}

static void test_v4_v6_isolation(void **state)
{
	struct netclass *nc = *state;

	/* Only IPv6 entries: no IPv4 peer matches, even ones whose mapped
	 * form falls under the prefix's bits. */
	assert_int_equal(netclass_add_cidr(nc, "::/8", "low6"), 0);
	assert_string_equal(zone_of(nc, "10.0.0.1"), "");
	assert_string_equal(zone_of(nc, "::2"), "low6");
	/* An IPv4-mapped CIDR written in IPv6 is an IPv4 CIDR. */
	assert_int_equal(netclass_add_cidr(nc, "::ffff:192.0.2.0/120", "mapped"), 0);
	assert_string_equal(zone_of(nc, "192.0.2.77"), "mapped");
	assert_string_equal(zone_of(nc, "::ffff:192.0.2.77"), "mapped");
	assert_string_equal(zone_of(nc, "192.0.3.1"), "");
}

static void test_host_bits_and_dups(void **state)
{
	struct netclass *nc = *state;

	/* Host bits are masked: this is 10.0.0.0/8. */
	assert_int_equal(netclass_add_cidr(nc, "10.1.2.3/8", "a"), 0);
	assert_string_equal(zone_of(nc, "10.200.0.1"), "a");
	assert_int_equal(netclass_add_cidr(nc, "10.0.0.0/8", "a"), 0); /* same again: fine */
	assert_int_equal(netclass_add_cidr(nc, "10.9.9.9/8", "b"), -EEXIST);
	assert_string_equal(zone_of(nc, "10.200.0.1"), "a");
	assert_int_equal(netclass_add_cidr(nc, "2001:db8:ffff::/33", "c"), 0);
	assert_string_equal(zone_of(nc, "2001:db8:8000::1"), "c");
	assert_string_equal(zone_of(nc, "2001:db8:7fff::1"), "");
}

static void test_bad_cidrs(void **state)
{
	struct netclass *nc = *state;
	static const char *bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/ 8", "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0/8/8", "10.0.0/8",
		"10.0.0.256/8", "10.0.0.0/0008", "::/129", "2001:db8::/1000",
		"2001:db8:::/32", "fe80::1%eth0/64", "example.com/8", "10.0.0.0/8x",
		"0x0a000000/8", "10.0.0.0/4294967304",
		"11111111111111111111111111111111111111111111111111111111111111/8",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (netclass_add_cidr(nc, bad[i], "z") != -EINVAL)
			fail_msg("accepted bad CIDR \"%s\"", bad[i]);
	}
	assert_int_equal(netclass_add_cidr(nc, "10.0.0.0/8", ""), -EINVAL);
	assert_int_equal(netclass_add_cidr(nc, "10.0.0.0/8", NULL), -EINVAL);
	assert_int_equal(netclass_add_cidr(nc, NULL, "z"), -EINVAL);
	/* Nothing above left a prefix behind. */
	assert_string_equal(zone_of(nc, "10.0.0.1"), "");
	assert_int_equal(cls(nc, "10.0.0.1", NULL), NETCLASS_UNKNOWN_ZONE);
}

static void test_classes(void **state)
{
	struct netclass *nc = *state;
	struct zt_addr a;
	const char *z;

	assert_int_equal(netclass_add_cidr(nc, "10.0.0.0/16", "eu-1a"), 0);
	assert_int_equal(netclass_add_cidr(nc, "10.1.0.0/16", "eu-1b"), 0);
	assert_int_equal(netclass_add_cidr(nc, "203.0.113.0/24", "eu-1b"), 0);
	assert_int_equal(netclass_add_cidr(nc, "fd00:1::/48", "eu-1a"), 0);

	assert_int_equal(cls(nc, "127.0.0.1", &z), NETCLASS_SAME_HOST);
	assert_string_equal(z, "eu-1a");
	assert_int_equal(cls(nc, "127.255.0.9", NULL), NETCLASS_SAME_HOST);
	assert_int_equal(cls(nc, "::1", NULL), NETCLASS_SAME_HOST);
	assert_int_equal(cls(nc, "::ffff:127.0.0.1", NULL), NETCLASS_SAME_HOST);

	assert_int_equal(cls(nc, "10.0.3.4", &z), NETCLASS_SAME_ZONE);
	assert_string_equal(z, "eu-1a");
	assert_int_equal(cls(nc, "fd00:1::5", NULL), NETCLASS_SAME_ZONE);
	assert_int_equal(cls(nc, "10.1.3.4", &z), NETCLASS_OTHER_ZONE);
	assert_string_equal(z, "eu-1b");
	/* A mapped public range is priced by its zone, not as internet. */
	assert_int_equal(cls(nc, "203.0.113.9", NULL), NETCLASS_OTHER_ZONE);

	/* Private and link ranges with no mapping: near, zone unknown. */
	static const char *unknown[] = {
		"10.2.0.1", "172.16.0.1", "172.31.255.255", "192.168.7.7", "100.64.0.1",
		"100.127.255.255", "169.254.169.254", "fc00::1", "fdff::1", "fe80::1",
		"febf::1",
	};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		if (cls(nc, unknown[i], &z) != NETCLASS_UNKNOWN_ZONE || strcmp(z, "") != 0)
			fail_msg("%s not unknown", unknown[i]);
	}
	/* Just outside those ranges: the internet. */
	static const char *internet[] = {
		"8.8.8.8", "172.15.255.255", "172.32.0.0", "192.169.0.1", "100.63.255.255",
		"100.128.0.0", "169.253.0.1", "2001:4860::8888", "fe00::1", "fec0::1",
		"11.0.0.1", "128.0.0.1",
	};
	for (size_t i = 0; i < sizeof(internet) / sizeof(internet[0]); i++) {
		if (cls(nc, internet[i], &z) != NETCLASS_INTERNET || strcmp(z, "") != 0)
			fail_msg("%s not internet", internet[i]);
	}

	/* Local addresses beat the map; a refresh keeps manual ones. */
	assert_int_equal(zt_addr_parse("10.1.9.9", &a), 0);
	assert_int_equal(netclass_add_local(nc, &a), 0);
	assert_int_equal(netclass_add_local(nc, &a), 0);
	assert_int_equal(cls(nc, "10.1.9.9", &z), NETCLASS_SAME_HOST);
	assert_string_equal(z, "eu-1a");
	assert_int_equal(netclass_refresh_local(nc), 0);
	assert_int_equal(netclass_refresh_local(nc), 0);
	assert_int_equal(cls(nc, "10.1.9.9", NULL), NETCLASS_SAME_HOST);
	assert_int_equal(cls(nc, "10.1.9.8", NULL), NETCLASS_OTHER_ZONE);

	assert_int_equal(netclass_classify(nc, NULL, &z), -EINVAL);
	assert_int_equal(netclass_classify(NULL, &a, NULL), -EINVAL);
}

/* Every address on this host's interfaces is same host after a refresh. */
static void test_refresh_local(void **state)
{
	struct netclass *nc = *state;
	struct ifaddrs *ifa, *i;
	int checked = 0;

	assert_int_equal(netclass_refresh_local(nc), 0);
	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i; i = i->ifa_next) {
		struct zt_addr a;
		memset(&a, 0, sizeof(a));
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a.a[10] = a.a[11] = 0xff;
			memcpy(&a.a[12], &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(a.a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		assert_int_equal(netclass_classify(nc, &a, NULL), NETCLASS_SAME_HOST);
		checked++;
	}
	freeifaddrs(ifa);
	assert_true(checked > 0); /* at least lo */
}

static void test_no_node_zone(void **state)
{
	struct netclass *nc;
	const char *z;

	assert_int_equal(netclass_new(NULL, &nc), 0);
	assert_int_equal(netclass_add_cidr(nc, "10.0.0.0/8", "eu-1a"), 0);
	/* Unknown node zone: a mapped peer cannot be proven same zone. */
	assert_int_equal(cls(nc, "10.0.0.1", &z), NETCLASS_OTHER_ZONE);
	assert_string_equal(z, "eu-1a");
	assert_int_equal(cls(nc, "127.0.0.1", &z), NETCLASS_SAME_HOST);
	assert_string_equal(z, "");
	netclass_free(nc);
	netclass_free(NULL);
	assert_int_equal(netclass_new("x", NULL), -EINVAL);
}

static void test_names_and_parse(void **state)
{
	struct zt_addr a;

	assert_string_equal(netclass_name(NETCLASS_SAME_HOST), "same_host");
	assert_string_equal(netclass_name(NETCLASS_SAME_ZONE), "same_zone");
	assert_string_equal(netclass_name(NETCLASS_OTHER_ZONE), "other_zone");
	assert_string_equal(netclass_name(NETCLASS_INTERNET), "internet");
	assert_string_equal(netclass_name(NETCLASS_UNKNOWN_ZONE), "unknown");
	assert_string_equal(netclass_name(99), "invalid");

	assert_int_equal(zt_addr_parse("1.2.3.4", &a), 0);
	assert_true(zt_addr_is_v4(&a));
	assert_int_equal(a.a[12], 1);
	assert_int_equal(a.a[15], 4);
	assert_int_equal(zt_addr_parse("2001:db8::1", &a), 0);
	assert_false(zt_addr_is_v4(&a));
	assert_int_equal(a.a[0], 0x20);
	assert_int_equal(a.a[15], 1);
	assert_int_equal(zt_addr_parse("1.2.3", &a), -EINVAL);
	assert_int_equal(zt_addr_parse("[::1]", &a), -EINVAL);
	assert_int_equal(zt_addr_parse("", &a), -EINVAL);
	assert_int_equal(zt_addr_parse(NULL, &a), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lpm_nested),
		T(test_lpm_edges),
		T(test_v4_v6_isolation),
		T(test_host_bits_and_dups),
		T(test_bad_cidrs),
		T(test_classes),
		T(test_refresh_local),
		cmocka_unit_test(test_no_node_zone),
		cmocka_unit_test(test_names_and_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
