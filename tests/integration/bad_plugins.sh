#!/usr/bin/env bash
# Broken third-party plugins never take the agent down: each is refused with
# its reason (log, zerotap_plugin_info, --list-plugins), the good ones run,
# and a broken plugin marked "required" stops the agent at start.
source "$(dirname "$0")/lib.sh"

for f in good bad_magic other_major newer_minor missing_fini dup_good liar; do
	[ -f "$ZT_FIXTURE_DIR/$f.so" ] || zt_fail "ABI fixture $ZT_FIXTURE_DIR/$f.so not built"
done
[ -f "$ZT_PLUGIN_DIR/prometheus.so" ] || zt_fail "$ZT_PLUGIN_DIR/prometheus.so not built"

PD=$T/plugins
mkdir -p "$PD" "$T/elsewhere"
for f in good bad_magic other_major newer_minor missing_fini dup_good liar; do
	install -m 0644 "$ZT_FIXTURE_DIR/$f.so" "$PD/$f.so"
done
install -m 0644 "$ZT_PLUGIN_DIR/prometheus.so" "$PD/prometheus.so"
install -m 0644 "$ZT_FIXTURE_DIR/good.so" "$PD/writable.so"
chmod 0666 "$PD/writable.so"
install -m 0644 "$ZT_FIXTURE_DIR/good.so" "$T/elsewhere/good.so"

# instance -> a fixed substring its refusal reason must contain
declare -A REASON=(
	[bad_magic]="bad descriptor magic 0xdeadbeef"
	[other_major]="ABI major 2"
	[newer_minor]="built for ABI 1.2, newer than"
	[missing_fini]="required callback 'fini' missing"
	[dup_good]="declares plugin 'good', but 'dup_good' was asked for"
	[liar]="declares plugin 'someone_else', but 'liar' was asked for"
	[writable]="writable by group or others (mode 0666)"
	[good_copy]="already loaded from"
)
BAD=(bad_magic other_major newer_minor missing_fini dup_good liar writable good_copy)

inst() { # NAME [REQUIRED] [PLUGIN PATH]
	local extra=""
	[ -z "${3:-}" ] || extra=", \"plugin\": \"$3\", \"path\": \"$4\""
	printf '    "%s": { "enabled": true, "required": %s%s }' "$1" "${2:-false}" "$extra"
}

PORT=$(zt_free_port)
ZT_PLUGIN_DIR_OVERRIDE=$PD zt_config "$T/zerotap.json" "$(inst good)" \
	"$(inst bad_magic)" "$(inst other_major)" "$(inst newer_minor)" "$(inst missing_fini)" \
	"$(inst dup_good)" "$(inst liar)" "$(inst writable)" "$(inst good_copy false good "$T/elsewhere/good.so")" \
	"$(zt_inst_prometheus "$PORT")"

# ------------------------------------------------------------ --list-plugins
rc=0
timeout 20 "$ZT_AGENT" --config "$T/zerotap.json" --list-plugins >"$T/list.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$T/list.txt"; zt_fail "--list-plugins exit $rc"; }
for i in "${BAD[@]}"; do
	line=$(grep -E "^$i +" "$T/list.txt" | grep -v ' invalid ' | tail -n 1) || true
	[ -n "$line" ] || { cat "$T/list.txt"; zt_fail "--list-plugins has no instance line for $i"; }
	[[ $line == *failed* ]] || zt_fail "--list-plugins: instance $i not 'failed': $line"
	[[ $line == *"${REASON[$i]}"* ]] || zt_fail "--list-plugins: instance $i lacks reason '${REASON[$i]}': $line"
done
grep -E '^good +good +(loadable|running)' "$T/list.txt" >/dev/null || { cat "$T/list.txt"; zt_fail "--list-plugins: instance good is not loadable"; }
for m in bad_magic other_major newer_minor missing_fini writable; do
	line=$(grep -E "^$m +- +- +invalid " "$T/list.txt" | head -n 1) || true
	[[ $line == *"${REASON[$m]}"* ]] ||
		{ cat "$T/list.txt"; zt_fail "--list-plugins: module $m not listed invalid with '${REASON[$m]}'"; }
done
zt_ok "--list-plugins exit 0: good loadable, ${#BAD[@]} instances failed with their reasons, 5 modules invalid"
sed 's/^/    | /' "$T/list.txt"

# ------------------------------------------------------------------ running
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PORT"
sleep 3 # two self-metric refreshes; the agent must still be up
zt_agent_alive || zt_fail "agent exited with broken plugins configured"
zt_scrape "$PORT" || zt_fail "scrape failed"

v=$(metric_value zerotap_plugin_info 'instance="good"' 'status="running"') || zt_fail "no running zerotap_plugin_info for good"
[ "$v" = 1 ] || zt_fail "zerotap_plugin_info{instance=good,status=running} = $v"
v=$(metric_value zerotap_plugin_info 'instance="prometheus"' 'status="running"' 'kind="exporter"') ||
	zt_fail "no running zerotap_plugin_info for prometheus"
[ "$v" = 1 ] || zt_fail "zerotap_plugin_info{instance=prometheus} = $v"
v=$(metric_value zerotap_fixture_up 'fixture="good"') || zt_fail "the good fixture's metric zerotap_fixture_up is missing"
[ "$v" = 1 ] || zt_fail "zerotap_fixture_up{fixture=good} = $v"
zt_ok "good (discovery) and prometheus (exporter) running = 1; zerotap_fixture_up{fixture=\"good\"} = 1"
for i in "${BAD[@]}"; do
	line=$(zt_series zerotap_plugin_info "instance=\"$i\"")
	[ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] || zt_fail "expected one zerotap_plugin_info series for $i, got: $line"
	[[ $line == *'status="failed"'* ]] || zt_fail "$i is not status=failed: $line"
	[[ $line == *"${REASON[$i]}"* ]] || zt_fail "$i reason lacks '${REASON[$i]}': $line"
	[ "$(metric_value zerotap_plugin_info "instance=\"$i\"")" = 0 ] || zt_fail "$i value is not 0: $line"
	zt_ok "zerotap_plugin_info{instance=\"$i\",status=\"failed\"} = 0, reason=\"$(zt_label_value "$line" reason)\""
	grep -qF "instance '$i'" "$ZT_AGENT_LOG" || zt_fail "the log does not mention instance '$i'"
done
n=$(metric_count zerotap_plugin_info)
[ "$n" = $((${#BAD[@]} + 2)) ] || zt_fail "zerotap_plugin_info has $n series, expected $((${#BAD[@]} + 2))"
zt_ok "zerotap_plugin_info has exactly $n series; the agent served metrics with $((${#BAD[@]})) broken instances"

zt_stop_agent TERM 5000
[ "$ZT_STOP_RC" = 0 ] || zt_fail "exit code $ZT_STOP_RC after SIGTERM"

# ----------------------------------------------------------------- required
for i in bad_magic missing_fini; do
	ZT_PLUGIN_DIR_OVERRIDE=$PD zt_config "$T/required-$i.json" "$(inst good)" "$(inst "$i" true)" \
		"$(zt_inst_prometheus "$PORT")"
	zt_start_agent "$T/required-$i.json"
	t0=$(zt_now_ms)
	zt_wait_until 10 "the agent to exit with a failed required instance" zt_proc_dead "$ZT_AGENT_PID"
	zt_reap "$ZT_AGENT_PID"
	rc=$ZT_REAP_RC
	[ "$rc" != 0 ] || zt_fail "agent exited 0 with required instance $i broken"
	grep -qF "${REASON[$i]}" "$ZT_AGENT_LOG" || zt_fail "log of the required-$i run lacks '${REASON[$i]}'"
	zt_ok "required broken '$i' -> exit $rc after $(zt_since_ms "$t0") ms, log: $(grep -F "${REASON[$i]}" "$ZT_AGENT_LOG" | head -n 1)"
done
zt_pass
