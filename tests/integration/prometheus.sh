#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes the agent every second and answers
# queries for the agent's families; promtool lints the exposition.
source "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || zt_fail "prometheus is not installed"
command -v promtool >/dev/null || zt_fail "promtool is not installed"

PORT=$(zt_free_port)
PPORT=$(zt_free_port)
zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PORT")" "$(zt_inst_process)" "$(zt_inst_node)"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PORT"

# ------------------------------------------------------------ promtool lint
zt_scrape "$PORT" "$T/expo.txt" || zt_fail "scrape failed"
families=$(grep -c '^# TYPE ' "$T/expo.txt" || true)
samples=$(grep -vc '^#' "$T/expo.txt" || true)
lint_rc=0
promtool check metrics <"$T/expo.txt" >"$T/lint.txt" 2>&1 || lint_rc=$?
if [ "$lint_rc" != 0 ] || [ -s "$T/lint.txt" ]; then
	cat "$T/lint.txt"
	zt_fail "promtool check metrics: exit $lint_rc, $(wc -l <"$T/lint.txt") lines of complaints (above)"
fi
zt_ok "promtool check metrics: exit 0, no output, on $families families / $samples samples"
# The same through gzip, as Prometheus asks for it.
curl -sf --max-time 5 --compressed -o "$T/expo.gz.txt" "http://127.0.0.1:$PORT/metrics" || zt_fail "gzip scrape failed"
grep -q '^node_agent_info' "$T/expo.gz.txt" || zt_fail "gzip scrape has no node_agent_info"
promtool check metrics <"$T/expo.gz.txt" >"$T/lint2.txt" 2>&1 && [ ! -s "$T/lint2.txt" ] ||
	{ cat "$T/lint2.txt"; zt_fail "promtool check metrics on the gzip scrape complained"; }
zt_ok "gzip-encoded scrape decodes and lints clean too"

# --------------------------------------------------------------- prometheus
cat >"$T/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: zerotap
    static_configs: [ { targets: ['127.0.0.1:$PORT'] } ]
EOF
timeout 30 promtool check config "$T/prometheus.yml" >"$T/promtool-config.txt" 2>&1 ||
	{ cat "$T/promtool-config.txt"; zt_fail "promtool check config failed"; }
t0=$(zt_now_ms)
zt_bg "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn
PROM_PID=$ZT_BG_PID
prom_ready() {
	zt_proc_alive "$PROM_PID" || zt_fail "prometheus exited (see its log)"
	curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$PPORT/-/ready"
}
zt_wait_until 30 "prometheus ready on 127.0.0.1:$PPORT" prom_ready
zt_log "prometheus ready after ${ZT_WAITED_MS} ms"

# prom_query EXPR : the JSON answer of an instant query.
prom_query() {
	curl -sf --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1"
}
# prom_value EXPR : the value of the first result; fails when there is none.
prom_value() {
	local j
	j=$(prom_query "$1") || return 1
	[[ $j == *'"status":"success"'* ]] || return 1
	[[ $j == *'"value":['* ]] || return 1
	printf '%s\n' "$j" | sed -n 's/^[^]]*"value":\[[^,]*,"\([^"]*\)"\].*$/\1/p' | head -n 1
}

NPROC=$(nproc)
have_all() {
	local v c
	v=$(prom_value 'node_agent_info{job="zerotap"}') && [ "$v" = 1 ] || return 1
	if c=$(prom_value 'node_resources_cpu_logical_cores{job="zerotap"}') && [ -n "$c" ]; then
		[ "$c" = "$NPROC" ] || zt_fail "node_resources_cpu_logical_cores = $c through Prometheus, nproc = $NPROC"
		CORES=$c
		return 0
	fi
	c=$(prom_value 'count(container_resources_cpu_usage_seconds_total{job="zerotap"})') && [ -n "$c" ] || return 1
	CONTAINER_SERIES=$c
}
CORES="" CONTAINER_SERIES=""
zt_wait_until 30 "node_agent_info and (node_resources_cpu_logical_cores or container cpu) in Prometheus" have_all
zt_ok "Prometheus returned node_agent_info = 1 and $([ -n "$CORES" ] && echo "node_resources_cpu_logical_cores = $CORES (nproc $NPROC)" || echo "$CONTAINER_SERIES container_resources_cpu_usage_seconds_total series") $(zt_since_ms "$t0") ms after it started"

up=$(prom_value 'up{job="zerotap"}') || zt_fail "no up series for the agent"
[ "$up" = 1 ] || zt_fail "up{job=\"zerotap\"} = $up"
ver=$(prom_query 'node_agent_info{job="zerotap"}' | grep -o '"version":"[^"]*"' | head -n 1)
[ -n "$ver" ] || zt_fail "node_agent_info has no version label in Prometheus"
zt_ok "up{job=\"zerotap\"} = 1; node_agent_info $ver"
if c=$(prom_value 'count(container_resources_cpu_usage_seconds_total{job="zerotap"})'); then
	zt_log "Prometheus also has $c container_resources_cpu_usage_seconds_total series"
fi
# Prometheus' own view of the target: no scrape errors and a sample count.
targets=$(curl -sf --max-time 5 "http://127.0.0.1:$PPORT/api/v1/targets") || zt_fail "targets API failed"
[[ $targets == *'"health":"up"'* ]] || zt_fail "target health is not up: $targets"
[[ $targets == *'"lastError":""'* ]] || zt_fail "target reports a scrape error: $targets"
n=$(prom_value 'scrape_samples_scraped{job="zerotap"}') || zt_fail "no scrape_samples_scraped"
zt_num_gt "$n" 0 || zt_fail "scrape_samples_scraped = $n"
zt_ok "target health up, no lastError, scrape_samples_scraped = $n"
zt_agent_alive || zt_fail "agent died"
zt_pass
