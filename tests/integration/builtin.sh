#!/usr/bin/env bash
# One source, two packagings: the same plugin sources built into the agent
# (ZEROTAP_PLUGIN_<NAME>=BUILTIN) instead of as .so files. A second build
# tree with node and prometheus built in and no plugin directory at all must
# serve the same families, and --list-plugins must say "builtin".
source "$(dirname "$0")/lib.sh"

B=$T/build-builtin
zt_log "configuring $B (node, prometheus BUILTIN; process OFF; no tests)"
cmake -S "$ZT_SOURCE_DIR" -B "$B" -DZEROTAP_BUILD_TESTS=OFF -DZEROTAP_PLUGIN_NODE=BUILTIN \
	-DZEROTAP_PLUGIN_PROMETHEUS=BUILTIN -DZEROTAP_PLUGIN_PROCESS=OFF >"$T/configure.log" 2>&1 ||
	{ cat "$T/configure.log"; zt_fail "configure failed"; }
cmake --build "$B" -j2 --target zerotap >"$T/build.log" 2>&1 || { tail -n 40 "$T/build.log"; zt_fail "build failed"; }
[ ! -e "$B/plugins-out/node.so" ] || zt_fail "node.so was built although node is BUILTIN"
nm "$B/core/zerotap" | grep -q ' zt_builtin_entry_node$' || zt_fail "zt_builtin_entry_node is not in the agent"
nm "$B/core/zerotap" | grep -q ' zt_builtin_entry_prometheus$' || zt_fail "zt_builtin_entry_prometheus is not in the agent"
zt_ok "agent built with zt_builtin_entry_node and zt_builtin_entry_prometheus, no node.so"

PORT=$(zt_free_port)
ZT_PLUGIN_DIR_OVERRIDE=$T/empty-plugin-dir zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PORT")" "$(zt_inst_node)"
mkdir -p "$T/empty-plugin-dir"
"$B/core/zerotap" --config "$T/zerotap.json" --list-plugins >"$T/list.txt" 2>&1 || zt_fail "--list-plugins failed: $(cat "$T/list.txt")"
for p in node prometheus; do
	grep -qE "^$p +(discovery|exporter) +[^ ]+ +ok +builtin" "$T/list.txt" || zt_fail "--list-plugins does not show $p as builtin: $(cat "$T/list.txt")"
done
zt_ok "--list-plugins: node and prometheus are ok, builtin"

zt_start_agent "$T/zerotap.json" "$B/core/zerotap"
zt_wait_metrics "$PORT"
zt_wait_until 10 "node metrics" sh -c "curl -sf http://127.0.0.1:$PORT/metrics | grep -q '^node_resources_cpu_logical_cores'"
zt_scrape "$PORT" || zt_fail "scrape failed"
cores=$(metric_value node_resources_cpu_logical_cores)
[ "$cores" = "$(nproc)" ] || zt_fail "node_resources_cpu_logical_cores=$cores, nproc=$(nproc)"
zt_scrape "$PORT" "$T/s.txt" && promtool check metrics <"$T/s.txt" >"$T/promtool.txt" 2>&1 || zt_fail "promtool: $(cat "$T/promtool.txt")"
zt_ok "built-in node and prometheus serve metrics (logical cores $cores = nproc), promtool clean"
zt_stop_agent TERM 5000
[ "$ZT_STOP_RC" = 0 ] || zt_fail "exit code $ZT_STOP_RC"
zt_pass
