#!/bin/sh
# Builds and runs the TCP/network core tests without CMake:
#   test_sockdiag  netlink parser on crafted buffers, plus a live loopback
#                  dump (needs no privileges; IPv6 is skipped without ::1)
#   test_netclass  CIDR trie and peer classes
#   test_conntrack ctnetlink requests and answers on crafted buffers, plus a
#                  live socket and namespace check (those parts need root)
# Usage: tests/unit/build_test_net.sh [--valgrind] [extra gcc flags], e.g.
# "-fsanitize=address,undefined" for a sanitizer run.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}
vg=
if [ "${1:-}" = "--valgrind" ]; then
	vg="valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99"
	shift
fi
cflags="-std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"

# shellcheck disable=SC2086
gcc $cflags "$@" -I "$root/core" "$root/tests/unit/test_sockdiag.c" "$root/core/sockdiag.c" \
	-lcmocka -o "$out/zt_test_sockdiag"
# shellcheck disable=SC2086
gcc $cflags "$@" -I "$root/core" "$root/tests/unit/test_netclass.c" "$root/core/netclass.c" \
	"$root/core/sockdiag.c" -lcmocka -o "$out/zt_test_netclass"
# shellcheck disable=SC2086
gcc $cflags "$@" -I "$root/core" -I "$root/sdk/include" "$root/tests/unit/test_conntrack.c" "$root/core/conntrack.c" \
	"$root/core/netns.c" "$root/core/log.c" "$root/core/registry.c" "$root/core/sockdiag.c" "$root/core/netclass.c" \
	-lcmocka -lpthread -lm -o "$out/zt_test_conntrack"
$vg "$out/zt_test_sockdiag"
$vg "$out/zt_test_netclass"
$vg "$out/zt_test_conntrack"
