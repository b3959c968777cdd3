#!/usr/bin/env bash
# Start-up time and kernel features, BPF programs attached while running and
# gone after SIGTERM / SIGINT (exit 0 within 1 s), and --check-config.
source "$(dirname "$0")/lib.sh"

command -v bpftool >/dev/null || zt_fail "bpftool is not installed"

# Program names the proc feature loads (the kernel keeps 15 characters).
mapfile -t EXPECTED < <(grep -oE '^int (zt_proc_[a-z0-9_]+)' "$ZT_SOURCE_DIR/bpf/proc.bpf.c" |
	awk '{ print substr($2, 1, 15) }' | sort -u)
[ "${#EXPECTED[@]}" -ge 1 ] || zt_fail "no zt_proc_* programs found in bpf/proc.bpf.c"

# "ID NAME PIDS" for every loaded program whose name starts with zt_proc_.
zt_proc_progs() {
	bpftool prog list 2>/dev/null | awk '
	function flush() { if (id != "" && name ~ /^zt_proc_/) print id, name, pids }
	/^[0-9]+: / {
		flush()
		id = $1; sub(":", "", id); name = ""; pids = "-"
		for (i = 1; i < NF; i++) if ($i == "name") name = $(i + 1)
		next
	}
	/^[ \t]+pids / { pids = ""; for (i = 2; i <= NF; i++) pids = pids $i; next }
	END { flush() }'
}

PORT=$(zt_free_port)
zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PORT")" "$(zt_inst_process)" "$(zt_inst_node)"

run_and_stop() { # SIGNAL
	local sig=$1 baseline new names ms feat up total id pid_owned=0
	baseline=$(zt_proc_progs | awk '{ print $1 }' | sort)
	[ -z "$baseline" ] || zt_log "note: zt_proc_* programs already loaded by someone else: $(echo $baseline)"
	zt_start_agent "$T/zerotap.json"
	zt_wait_metrics "$PORT"
	zt_wait_until 5 "the 'started in' log line" grep -q 'started in' "$ZT_AGENT_LOG"

	# ---- start-up line
	ms=$(sed -nE 's/.*started in ([0-9]+(\.[0-9]+)?) ms.*/\1/p' "$ZT_AGENT_LOG" | head -n 1)
	[ -n "$ms" ] || zt_fail "no 'started in X ms' in the log"
	zt_num_ge 1000 "$ms" || zt_fail "start-up took $ms ms (> 1000)"
	feat=$(grep -oE '[0-9]+/[0-9]+ kernel features (up|attached)' "$ZT_AGENT_LOG" | head -n 1)
	[ -n "$feat" ] || zt_fail "no 'n/n kernel features up|attached' in the log"
	up=${feat%%/*}
	total=${feat#*/}
	total=${total%% *}
	[ "$total" -ge 1 ] && [ "$up" = "$total" ] || zt_fail "kernel features: $feat (expected all of them up)"
	zt_ok "[$sig run] log: started in $ms ms (<= 1000), $feat"

	# ---- programs while running
	new=$(zt_proc_progs | awk -v base=" $(echo $baseline) " 'index(base, " " $1 " ") == 0')
	[ -n "$new" ] || zt_fail "bpftool prog list shows no new zt_proc_* program while the agent runs"
	names=$(printf '%s\n' "$new" | awk '{ print $2 }' | sort -u)
	for n in "${EXPECTED[@]}"; do
		printf '%s\n' "$names" | grep -qx "$n" || zt_fail "program $n not loaded (loaded: $(echo $names))"
	done
	if printf '%s\n' "$new" | awk '{ print $3 }' | grep -q '('; then
		# bpftool can tell the owner: every new program must be ours.
		printf '%s\n' "$new" | awk -v p="($ZT_AGENT_PID)" 'index($3, p) == 0 { bad = 1 } END { exit bad }' ||
			zt_fail "zt_proc_* programs owned by another process: $new"
		pid_owned=1
	fi
	zt_ok "[$sig run] bpftool: $(printf '%s\n' "$new" | wc -l) zt_proc_* programs ($(echo $names))$([ $pid_owned = 1 ] && echo ", all held by pid $ZT_AGENT_PID")"

	# ---- every configured instance runs
	zt_scrape "$PORT" || zt_fail "scrape failed"
	for i in prometheus process node; do
		[ "$(metric_value zerotap_plugin_info "instance=\"$i\"" 'status="running"')" = 1 ] ||
			zt_fail "instance $i is not running: $(zt_series zerotap_plugin_info "instance=\"$i\"")"
	done

	# ---- stop
	zt_stop_agent "$sig" 5000
	[ "$ZT_STOP_RC" = 0 ] || zt_fail "exit code $ZT_STOP_RC after SIG$sig"
	((ZT_STOP_MS <= 1000)) || zt_fail "exit took $ZT_STOP_MS ms after SIG$sig (> 1000)"
	grep -q 'shutting down' "$ZT_AGENT_LOG" || zt_fail "no 'shutting down' line in the log"
	zt_ok "[$sig run] SIG$sig -> exit code 0 in $ZT_STOP_MS ms"

	# ---- programs after exit: ours are gone (the kernel frees them with the last fd)
	for id in $(printf '%s\n' "$new" | awk '{ print $1 }'); do
		zt_wait_until 2 "program id $id unloaded" sh -c "! bpftool prog show id $id >/dev/null 2>&1"
	done
	left=$(zt_proc_progs | awk -v base=" $(echo $baseline) " 'index(base, " " $1 " ") == 0')
	[ -z "$left" ] || zt_fail "zt_proc_* programs left after exit: $left"
	if [ -z "$baseline" ]; then
		[ -z "$(zt_proc_progs)" ] || zt_fail "bpftool prog list still has zt_proc_* programs: $(zt_proc_progs)"
	fi
	zt_ok "[$sig run] after exit bpftool prog list has none of the agent's zt_proc_* programs"
	! curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$PORT/metrics" || zt_fail "metrics port still answers after exit"
}

run_and_stop TERM
run_and_stop INT

# ------------------------------------------------------------- --check-config
# The shipped default config, unchanged, with plugin_dir from a drop-in.
mkdir -p "$T/default/conf.d"
cp "$ZT_SOURCE_DIR/etc/zerotap.json" "$T/default/zerotap.json"
printf '{ "agent": { "plugin_dir": "%s" } }\n' "$ZT_PLUGIN_DIR" >"$T/default/conf.d/10-plugin-dir.json"
rc=0
timeout 20 "$ZT_AGENT" --config "$T/default/zerotap.json" --check-config >"$T/check.out" 2>"$T/check.err" || rc=$?
[ "$rc" = 0 ] || { cat "$T/check.out" "$T/check.err"; zt_fail "--check-config on etc/zerotap.json: exit $rc"; }
grep -q 'OK' "$T/check.out" || zt_fail "--check-config printed no OK: $(cat "$T/check.out")"
zt_ok "--check-config etc/zerotap.json (+ conf.d plugin_dir) -> exit 0: $(head -n 1 "$T/check.out")"

# An unknown agent key: exit 1, FILE:LINE:COL of the key.
cat >"$T/bad-key.json" <<EOF
{
  "agent": {
    "plugin_dir": "$ZT_PLUGIN_DIR",
    "bogus_key": 1
  },
  "plugins": {}
}
EOF
rc=0
timeout 20 "$ZT_AGENT" --config "$T/bad-key.json" --check-config >"$T/check2.out" 2>"$T/check2.err" || rc=$?
[ "$rc" = 1 ] || zt_fail "--check-config with an unknown agent key: exit $rc, expected 1"
grep -qF "$T/bad-key.json:4:5:" "$T/check2.err" ||
	zt_fail "stderr lacks '$T/bad-key.json:4:5:': $(cat "$T/check2.err")"
zt_ok "unknown agent key -> exit 1, stderr: $(head -n 1 "$T/check2.err")"

# An unknown key inside a plugin's config section (the plugin's schema).
cat >"$T/bad-plugin-key.json" <<EOF
{
  "agent": { "plugin_dir": "$ZT_PLUGIN_DIR" },
  "plugins": {
    "prometheus": {
      "enabled": true,
      "config": { "listn": "127.0.0.1:$PORT" }
    }
  }
}
EOF
col=$(awk 'NR == 6 { print index($0, "\"listn\"") }' "$T/bad-plugin-key.json")
rc=0
timeout 20 "$ZT_AGENT" --config "$T/bad-plugin-key.json" --check-config >"$T/check3.out" 2>"$T/check3.err" || rc=$?
[ "$rc" = 1 ] || zt_fail "--check-config with an unknown prometheus key: exit $rc, expected 1"
grep -qF "$T/bad-plugin-key.json:6:$col:" "$T/check3.err" ||
	zt_fail "stderr lacks '$T/bad-plugin-key.json:6:$col:': $(cat "$T/check3.err")"
zt_ok "unknown prometheus config key -> exit 1, stderr: $(head -n 1 "$T/check3.err")"
zt_pass
