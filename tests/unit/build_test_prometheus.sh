#!/bin/sh
# Builds and runs, without CMake, tests/mockhost/test_mock_host (the mock
# host's self-test), plugins/discovery/node/test_node and
# tests/unit/test_prometheus (plugins against the mock host), each then
# again under valgrind (skip
# that with VALGRIND=0). Binaries go to $OUT (default: a fresh temporary
# directory). Needs gcc, pkg-config and the cmocka, jansson, libmicrohttpd
# and zlib development files; promtool is optional.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/zt-test-prometheus.XXXXXX)}
mkdir -p "$OUT"

MOCK="$ROOT/tests/mockhost/mock_host.c $ROOT/tests/mockhost/mock_config.c
  $ROOT/tests/mockhost/mock_loop.c $ROOT/tests/mockhost/mock_metrics.c"

# build_and_run <name> <pkg-config modules> <sources...>
# -DZT_PLUGIN_BUILTIN: plugins define zt_builtin_entry_<name>() for the
# test to call, exactly as when they are linked into the agent.
build_and_run() {
  name=$1 pkgs=$2
  shift 2
  # shellcheck disable=SC2046,SC2086
  gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
    -DZT_PLUGIN_BUILTIN \
    -I"$ROOT/sdk/include" -I"$ROOT/tests/mockhost" \
    "$@" -o "$OUT/$name" $(pkg-config --cflags --libs $pkgs) -lm -lpthread
  echo "== $OUT/$name"
  "$OUT/$name"
  if [ "${VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
    echo "== valgrind $OUT/$name"
    valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
      --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 "$OUT/$name"
  fi
}

# shellcheck disable=SC2086
build_and_run test_mock_host "cmocka jansson" "$ROOT/tests/mockhost/test_mock_host.c" $MOCK
# shellcheck disable=SC2086
build_and_run test_node "cmocka jansson" "$ROOT/plugins/discovery/node/test_node.c" $MOCK \
  "$ROOT/plugins/discovery/node/node.c"
# shellcheck disable=SC2086
build_and_run test_prometheus "cmocka jansson libmicrohttpd zlib" \
  "$ROOT/tests/unit/test_prometheus.c" $MOCK \
  "$ROOT/exporters/prometheus/prometheus.c" "$ROOT/exporters/prometheus/expo.c" \
  "$ROOT/plugins/discovery/node/node.c"
