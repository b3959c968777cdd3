#!/bin/sh
# Builds and runs the config unit test without CMake.
# Usage: tests/unit/build_test_config.sh [--valgrind]   (from anywhere)
set -eu
cd "$(dirname "$0")/../.."
out="${TMPDIR:-/tmp}/zt_test_config"
gcc -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-I core -I sdk/include core/config.c core/jsonpos.c tests/unit/test_config.c \
	-ljansson -lcmocka -o "$out"
if [ "${1:-}" = "--valgrind" ]; then
	exec valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--error-exitcode=99 "$out"
fi
exec "$out"
