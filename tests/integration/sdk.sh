#!/usr/bin/env bash
# The SDK as a third party gets it: install into a private prefix (all of
# it, and one component alone), build the example plugin out of tree with
# CMake and with its Makefile against that prefix only, check it exports one
# symbol, and run the installed agent with it.
source "$(dirname "$0")/lib.sh"

command -v cmake >/dev/null || zt_fail "cmake missing"
PREFIX=$T/prefix

# ------------------------------------------------------------------ install
timeout 120 cmake --install "$ZT_BINARY_DIR" --prefix "$PREFIX" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; zt_fail "cmake --install --prefix failed"; }
[ -x "$PREFIX/sbin/zerotap" ] || zt_fail "no $PREFIX/sbin/zerotap"
PC=$(find "$PREFIX" -name zerotap-sdk.pc -type f | head -n 1)
[ -n "$PC" ] || zt_fail "zerotap-sdk.pc not installed"
PCDIR=$(dirname "$PC")
LIBDIR=$(dirname "$PCDIR")
PLUGDIR=$LIBDIR/zerotap/plugins
CMAKEDIR=$LIBDIR/cmake/zerotap-sdk
for f in "$PREFIX/include/zerotap/zerotap.h" "$PREFIX/include/zerotap/abi.h" "$PREFIX/include/zerotap/host.h" \
	"$PREFIX/include/zerotap/plugin.h" "$CMAKEDIR/zerotap-sdk-config.cmake" \
	"$CMAKEDIR/zerotap-sdk-config-version.cmake" "$PLUGDIR/prometheus.so"; do
	[ -f "$f" ] || zt_fail "not installed: $f"
done
zt_ok "full install into $PREFIX: $(find "$PREFIX" -type f | wc -l) files (agent, headers, .pc, CMake package, plugins $(cd "$PLUGDIR" && echo *.so))"

# One component: only the prometheus plugin.
timeout 120 cmake --install "$ZT_BINARY_DIR" --prefix "$T/prefix-prom" --component prometheus >"$T/install2.log" 2>&1 ||
	{ cat "$T/install2.log"; zt_fail "cmake --install --component prometheus failed"; }
files=$(cd "$T/prefix-prom" && find . \( -type f -o -type l \) | sed 's|^\./||')
[ "$files" = "${PLUGDIR#"$PREFIX"/}/prometheus.so" ] || zt_fail "--component prometheus installed: $(echo $files)"
zt_ok "cmake --install --component prometheus installs exactly $files"

# ------------------------------------------------------ the example sources
EX=$PREFIX/share/zerotap/sdk-examples/hello
[ -d "$EX" ] || zt_fail "the example is not installed ($EX)"
diff -r "$ZT_SOURCE_DIR/sdk/examples/hello" "$EX" >/dev/null || zt_fail "installed example differs from sdk/examples/hello"
cp -r "$EX" "$T/hello-cmake-src"
cp -r "$EX" "$T/hello-make"

# ---------------------------------------------------------- build with CMake
# Never the source or build tree: only the prefix is visible to the build.
timeout 120 cmake -S "$T/hello-cmake-src" -B "$T/hello-cmake" -DCMAKE_PREFIX_PATH="$PREFIX" \
	-DCMAKE_BUILD_TYPE=Release >"$T/hello-cmake.log" 2>&1 || { cat "$T/hello-cmake.log"; zt_fail "cmake configure of hello failed"; }
timeout 120 cmake --build "$T/hello-cmake" >>"$T/hello-cmake.log" 2>&1 || { cat "$T/hello-cmake.log"; zt_fail "cmake build of hello failed"; }
found=$(sed -n 's/^zerotap-sdk_DIR:[A-Z]*=//p' "$T/hello-cmake/CMakeCache.txt")
[ "$found" = "$CMAKEDIR" ] || zt_fail "find_package used $found, not $CMAKEDIR"
if grep -rqF -e "$ZT_SOURCE_DIR" -e "$ZT_BINARY_DIR" "$T/hello-cmake/CMakeFiles" "$T/hello-cmake/CMakeCache.txt" 2>/dev/null; then
	zt_fail "the CMake build of hello refers to the zerotap source or build tree"
fi
HELLO_CMAKE=$T/hello-cmake/hello.so
[ -f "$HELLO_CMAKE" ] || zt_fail "no hello.so from the CMake build"
zt_ok "hello built with CMake, find_package(zerotap-sdk) from $found"

# -------------------------------------------------------- build with make
inc=$(PKG_CONFIG_PATH=$PCDIR pkg-config --variable=includedir zerotap-sdk)
cflags=(CFLAGS="-O2 -Wall -Wextra")
if [ "$(realpath -m "$inc")" != "$PREFIX/include" ]; then
	zt_fail_later "zerotap-sdk.pc installed in $PREFIX says includedir=$inc: not relocatable, a build with PKG_CONFIG_PATH=$PCDIR uses another SDK's headers (or none)"
	# go on with the prefix's headers first, to check the rest
	cflags=(CFLAGS="-O2 -Wall -Wextra -I$PREFIX/include")
fi
# cc -H lists every header the compiler opened: the SDK's must come from the prefix.
timeout 120 env PKG_CONFIG_PATH="$PCDIR" make -C "$T/hello-make" CC="cc -H" "${cflags[@]}" >"$T/hello-make.log" 2>&1 ||
	{ cat "$T/hello-make.log"; zt_fail "make of hello failed"; }
hdrs=$(sed -nE 's/^\.+ (.*\/zerotap\/[a-z]+\.h)$/\1/p' "$T/hello-make.log" | while read -r h; do realpath -m "$h"; done | sort -u)
[ -n "$hdrs" ] || zt_fail "make: no zerotap header seen in cc -H output: $(cat "$T/hello-make.log")"
if printf '%s\n' "$hdrs" | grep -qv "^$PREFIX/include/zerotap/"; then
	zt_fail "make compiled hello with SDK headers from outside $PREFIX: $(echo $hdrs)"
fi
HELLO_MAKE=$T/hello-make/hello.so
[ -f "$HELLO_MAKE" ] || zt_fail "no hello.so from make"
zt_ok "hello built with make + pkg-config (PKG_CONFIG_PATH=$PCDIR), all $(printf '%s\n' "$hdrs" | wc -l) SDK headers from $PREFIX/include"

for so in "$HELLO_CMAKE" "$HELLO_MAKE"; do
	syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }')
	[ "$syms" = zt_plugin_entry_v1 ] || zt_fail "$so exports: $(echo $syms) (expected only zt_plugin_entry_v1)"
	if nm -D --undefined-only "$so" | grep -q ' zt_'; then zt_fail "$so needs zt_* symbols from the agent"; fi
	chmod 0644 "$so"
done
zt_ok "nm -D --defined-only: both hello.so export exactly zt_plugin_entry_v1"

# ------------------------------------------------ the installed agent runs it
"$PREFIX/sbin/zerotap" --version >"$T/version.txt" 2>&1 || zt_fail "installed agent --version failed"
n=0
for so in "$HELLO_CMAKE" "$HELLO_MAKE"; do
	n=$((n + 1))
	greet=sdk-test-$n
	PORT=$(zt_free_port)
	ZT_PLUGIN_DIR_OVERRIDE=$PLUGDIR zt_config "$T/hello-$n.json" "$(zt_inst_prometheus "$PORT")" \
		"$(printf '    "hello": { "enabled": true, "required": true, "path": "%s",\n      "config": { "interval_ms": 100, "greeting": "%s" } }' "$so" "$greet")"
	timeout 20 "$PREFIX/sbin/zerotap" --config "$T/hello-$n.json" --check-config >"$T/check-$n.txt" 2>&1 ||
		{ cat "$T/check-$n.txt"; zt_fail "--check-config with hello failed"; }
	zt_start_agent "$T/hello-$n.json" "$PREFIX/sbin/zerotap"
	zt_wait_metrics "$PORT"
	grep -q "example plugin started, greeting '$greet'" "$ZT_AGENT_LOG" || zt_fail "hello did not log its start"
	ticks() { zt_scrape "$PORT" && metric_value zerotap_example_ticks_total "greeting=\"$greet\""; }
	zt_wait_until 5 "zerotap_example_ticks_total{greeting=\"$greet\"}" eval "ticks >/dev/null"
	t1=$(ticks)
	e1=$(metric_value zerotap_example_execs_total "greeting=\"$greet\"") || e1=0
	for i in 1 2 3 4 5; do /bin/true; done
	sleep 1
	t2=$(ticks)
	e2=$(metric_value zerotap_example_execs_total "greeting=\"$greet\"") || zt_fail "no zerotap_example_execs_total"
	zt_num_ge "$t2" "$((t1 + 5))" || zt_fail "ticks went $t1 -> $t2 in 1 s at interval 100 ms"
	zt_num_ge "$e2" "$((e1 + 5))" || zt_fail "execs went $e1 -> $e2 after 5 execs of /bin/true"
	v=$(metric_value zerotap_plugin_info 'instance="hello"' 'status="running"' 'kind="discovery"') || zt_fail "hello not running"
	[ "$v" = 1 ] || zt_fail "zerotap_plugin_info{hello} = $v"
	zt_ok "installed agent + $(basename "$(dirname "$so")")/hello.so: ticks{greeting=\"$greet\"} $t1 -> $t2 in 1 s, execs $e1 -> $e2 after 5 execs"
	zt_stop_agent TERM 5000
	[ "$ZT_STOP_RC" = 0 ] || zt_fail "installed agent exit code $ZT_STOP_RC"
done
zt_pass
