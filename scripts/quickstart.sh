#!/usr/bin/env bash
# zerotap quick start on Debian 12, as root.
#
#   bash scripts/quickstart.sh run    install build deps, build, install under
#                                     /usr/local, run the agent in the foreground
#                                     (metrics on http://127.0.0.1:9105/metrics)
#   bash scripts/quickstart.sh test   install build + test deps, build, run every
#                                     test (unit and root integration) with ctest
#
# Safe to run again: packages already installed are not fetched, the build
# directory is reused. Environment: ZT_BUILD_DIR (default build),
# ZT_PREFIX (default /usr/local), ZT_JOBS (default 2), ZT_CTEST_ARGS (extra
# ctest arguments, e.g. "-L unit").
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${ZT_BUILD_DIR:-build}
PREFIX=${ZT_PREFIX:-/usr/local}
JOBS=${ZT_JOBS:-2}

BUILD_DEPS=(cmake gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libjansson-dev
	libmicrohttpd-dev libcmocka-dev pkg-config make)
TEST_DEPS=(podman runc conmon fuse-overlayfs uidmap containernetworking-plugins busybox-static
	prometheus curl iproute2 valgrind nftables nginx wrk hey tshark unbound dnsmasq bind9-dnsutils dnsperf libbpf-tools
	postgresql-15 postgresql-client-15 mariadb-server mariadb-client redis-server redis-tools memcached libmemcached-tools
	sysbench python3-psycopg2 python3-pymysql python3-redis python3-pymemcache)

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'quickstart: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,9s/^# \{0,1\}//p' "$0"
	exit 2
}

# Installs what is missing; apt's chatter goes to a log that is shown only
# if apt fails (its errors on stderr always show).
install_packages() {
	local missing=() p log
	for p in "$@"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
	done
	if [ ${#missing[@]} = 0 ]; then
		say "all ${#@} packages already installed"
		return 0
	fi
	say "installing ${#missing[@]} packages: ${missing[*]}"
	log=$(mktemp /tmp/zerotap-apt.XXXXXX)
	if ! apt-get -q update >"$log" 2>&1 ||
		! apt-get -q -y --no-install-recommends -o Dpkg::Use-Pty=0 install "${missing[@]}" >>"$log" 2>&1; then
		grep -E '^(E|W):|rror' "$log" >&2 || tail -n 40 "$log" >&2
		rm -f "$log"
		die "apt-get failed"
	fi
	rm -f "$log"
}

build() {
	say "configuring $BUILD (prefix $PREFIX)"
	mkdir -p "$BUILD"
	cmake -S . -B "$BUILD" -DCMAKE_INSTALL_PREFIX="$PREFIX" >"$BUILD/quickstart-configure.log" 2>&1 ||
		{ cat "$BUILD/quickstart-configure.log" >&2; die "cmake configure failed"; }
	say "building with $JOBS jobs"
	cmake --build "$BUILD" -j"$JOBS" || die "build failed"
}

mode=${1:-}
case "$mode" in
run | test) ;;
-h | --help | help) usage ;;
*)
	printf 'quickstart: expected "run" or "test"\n' >&2
	usage
	;;
esac
[ "$(id -u)" = 0 ] || die "run me as root (the agent loads BPF programs; the tests start containers)"
command -v apt-get >/dev/null || die "this script is for Debian 12 (apt-get not found)"

if [ "$mode" = run ]; then
	install_packages "${BUILD_DEPS[@]}"
	build
	say "installing under $PREFIX"
	cmake --install "$BUILD" >"$BUILD/quickstart-install.log" 2>&1 ||
		{ cat "$BUILD/quickstart-install.log" >&2; die "install failed"; }
	CONFIG=$PREFIX/etc/zerotap/zerotap.json
	[ -f "$CONFIG" ] || die "$CONFIG was not installed"
	say "running $PREFIX/sbin/zerotap --config $CONFIG (metrics: http://127.0.0.1:9105/metrics, Ctrl-C stops)"
	exec "$PREFIX/sbin/zerotap" --config "$CONFIG"
fi

# ------------------------------------------------------------------- test
install_packages "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"
build
say "running the tests (ctest --test-dir $BUILD)"
log=$(mktemp /tmp/zerotap-ctest.XXXXXX)
rc=0
# shellcheck disable=SC2086 # ZT_CTEST_ARGS is a list of words
ctest --test-dir "$BUILD" --output-on-failure ${ZT_CTEST_ARGS:-} </dev/null 2>&1 | tee "$log" || rc=$?
# "100% tests passed, 0 tests failed out of 12" / "75% tests passed, 3 tests failed out of 12"
summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
skipped=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$log" || true)
rm -f "$log"
if [ -z "$summary" ]; then
	echo "0 passed, 1 failed"
	die "ctest ran no tests or did not finish (exit $rc)"
fi
failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
passed=$((total - failed - skipped))
[ "$skipped" = 0 ] || say "$skipped tests skipped"
echo "$passed passed, $failed failed"
if [ "$failed" != 0 ] || [ "$rc" != 0 ]; then
	exit 1
fi
