#!/bin/sh
# Builds and runs the process discovery plugin's tests without CMake:
#   test_cgroup   pure parsers and metadata files (tests/unit/test_cgroup.c)
#   test_process  the plugin against tests/mockhost on a fake /proc and
#                 cgroup tree (plugins/discovery/process/tests/test_process.c)
# Usage: tests/unit/build_test_cgroup.sh [extra gcc flags], e.g.
# "-fsanitize=address,undefined" for a sanitizer run.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}
p=$root/plugins/discovery/process
m=$root/tests/mockhost
cflags="-std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"
plugin_parsers="$p/cgroup.c $p/meta.c $p/stats.c"

# shellcheck disable=SC2086
gcc $cflags "$@" -I "$p" -I "$root/sdk/include" \
	"$root/tests/unit/test_cgroup.c" $plugin_parsers \
	-lcmocka -ljansson -o "$out/zt_test_cgroup"
# shellcheck disable=SC2086
gcc $cflags "$@" -DZT_PLUGIN_BUILTIN -I "$p" -I "$root/sdk/include" -I "$m" \
	"$p/tests/test_process.c" "$p/process.c" "$p/ident.c" "$p/collect.c" $plugin_parsers \
	"$m/mock_host.c" "$m/mock_config.c" "$m/mock_loop.c" "$m/mock_metrics.c" \
	-lcmocka -ljansson -lpthread -lm -o "$out/zt_test_process"
ZT_SOURCE_DIR=$root "$out/zt_test_cgroup"
ZT_SOURCE_DIR=$root "$out/zt_test_process"
