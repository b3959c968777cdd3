#!/usr/bin/env bash
# A kernel that refuses the BPF programs: the agent runs without the
# capabilities BPF needs (as on a locked-down host), so loading the proc
# feature fails. Only that feature is lost: one log line, zerotap_feature_up
# {feature="proc"} 0, and the agent keeps serving every other family.
source "$(dirname "$0")/lib.sh"

PORT=$(zt_free_port)
zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PORT")" "$(zt_inst_process)" "$(zt_inst_node)"

# Root without any capability in its bounding set: bpf(2) and perf_event_open
# are refused as on a kernel that forbids them. exec keeps the PID.
printf '#!/bin/sh\nexec setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all --no-new-privs "%s" "$@"\n' \
	"$ZT_AGENT" >"$T/nocaps.sh"
chmod 755 "$T/nocaps.sh"

zt_start_agent "$T/zerotap.json" "$T/nocaps.sh"
zt_wait_metrics "$PORT"
zt_wait_until 5 "the 'started in' log line" grep -q 'started in' "$ZT_AGENT_LOG"
zt_wait_until 10 "node metrics" sh -c "curl -sf http://127.0.0.1:$PORT/metrics | grep -q '^node_resources_cpu_logical_cores'"
zt_scrape "$PORT" || zt_fail "scrape failed"

caps=$(awk '/^CapEff/ { print $2 }' "/proc/$ZT_AGENT_PID/status")
[ "$caps" = 0000000000000000 ] || zt_fail "the agent still has capabilities: CapEff=$caps"
zt_ok "agent runs with CapEff=$caps"

for f in proc tcp; do
	[ "$(metric_value zerotap_feature_up "feature=\"$f\"")" = 0 ] ||
		zt_fail "zerotap_feature_up{feature=\"$f\"} is not 0: $(zt_series zerotap_feature_up)"
	n=$(grep -c "feature '$f' disabled" "$ZT_AGENT_LOG" || true)
	[ "$n" = 1 ] || zt_fail "expected exactly 1 \"feature '$f' disabled\" log line, got $n"
done
grep -qE " 0/[0-9]+ kernel features" "$ZT_AGENT_LOG" || zt_fail "start-up line does not say 0/N kernel features"
zt_ok "features refused, zerotap_feature_up 0, one log line each: $(grep " disabled: " "$ZT_AGENT_LOG" | sed 's/^.*error  //' | tr '\n' ' ')"

for i in prometheus process node; do
	[ "$(metric_value zerotap_plugin_info "instance=\"$i\"" 'status="running"')" = 1 ] ||
		zt_fail "instance $i is not running: $(zt_series zerotap_plugin_info "instance=\"$i\"")"
done
cores=$(metric_value node_resources_cpu_logical_cores)
[ "$cores" = "$(nproc)" ] || zt_fail "node_resources_cpu_logical_cores=$cores, nproc=$(nproc)"
zt_ok "every plugin instance still runs; node_resources_cpu_logical_cores=$cores (= nproc)"

zt_stop_agent TERM 5000
[ "$ZT_STOP_RC" = 0 ] || zt_fail "exit code $ZT_STOP_RC after SIGTERM"
zt_ok "SIGTERM -> exit 0 in $ZT_STOP_MS ms"
zt_pass
