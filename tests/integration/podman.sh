#!/usr/bin/env bash
# Real containers (podman + runc, cgroups as the machine has them):
# discovery of a running container with its resource series, a restart
# counted exactly once, and a real OOM kill counted exactly once.
source "$(dirname "$0")/lib.sh"

WEB=zt-web
OOM=zt-oom
WEB_ID=/podman/$WEB
OOM_ID=/podman/$OOM

zt_podman_image
PORT=$(zt_free_port)
# A long container TTL: the exited OOM container's series must stay visible.
zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PORT")" \
	"$(zt_inst_process '"container_ttl_ms": 120000')" "$(zt_inst_node)"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PORT"
MID=$(zt_machine_id)

# ---------------------------------------------------------------- discovery
t0=$(zt_now_ms)
zt_podman_run "$WEB" --network none "$ZT_IMAGE" sleep 300
zt_log "started container $WEB"

web_discovered() {
	zt_scrape "$PORT" || return 1
	[ -n "$(zt_series container_info "container_id=\"$WEB_ID\"" "image=\"$ZT_IMAGE\"")" ] &&
		[ -n "$(zt_series container_resources_cpu_usage_seconds_total "container_id=\"$WEB_ID\"")" ] &&
		[ -n "$(zt_series container_resources_memory_rss_bytes "container_id=\"$WEB_ID\"")" ]
}
zt_wait_until 10 "container_info/cpu/rss series of $WEB_ID" web_discovered
zt_ok "$WEB_ID discovered $(zt_since_ms "$t0") ms after podman run: container_info, cpu and rss series present"

info=$(zt_series container_info "container_id=\"$WEB_ID\"")
[ "$(printf '%s\n' "$info" | wc -l)" = 1 ] || zt_fail "expected exactly 1 container_info series for $WEB_ID, got: $info"
[ "$(metric_value container_info "container_id=\"$WEB_ID\"")" = 1 ] || zt_fail "container_info value is not 1: $info"
for fam in container_info container_resources_cpu_usage_seconds_total container_resources_memory_rss_bytes; do
	line=$(zt_series "$fam" "container_id=\"$WEB_ID\"" | head -n 1)
	mid=$(zt_label_value "$line" machine_id) || zt_fail "$fam has no machine_id label: $line"
	[ -z "$MID" ] || [ "$mid" = "$MID" ] || zt_fail "$fam machine_id=\"$mid\", /etc/machine-id says $MID"
	app=$(zt_label_value "$line" app_id) || zt_fail "$fam has no app_id label: $line"
	[ -n "$app" ] || zt_fail "$fam has an empty app_id: $line"
	zt_ok "$fam{container_id=\"$WEB_ID\"} machine_id=\"$mid\" app_id=\"$app\""
done
cpu=$(metric_value container_resources_cpu_usage_seconds_total "container_id=\"$WEB_ID\"")
rss=$(metric_value container_resources_memory_rss_bytes "container_id=\"$WEB_ID\"")
zt_num_ge "$cpu" 0 || zt_fail "cpu usage $cpu < 0"
zt_num_gt "$rss" 0 || zt_fail "rss of a running sleep is $rss"
zt_ok "$WEB_ID cpu_usage_seconds_total=$cpu rss_bytes=$rss"
if r=$(metric_value container_restarts_total "container_id=\"$WEB_ID\""); then
	[ "$r" = 0 ] || zt_fail "container_restarts_total{$WEB_ID} is $r before any restart"
fi

# ------------------------------------------------------------------ restart
t0=$(zt_now_ms)
timeout 60 "${ZT_PODMAN[@]}" restart -t 1 "$WEB" >"$T/restart.log" 2>&1 || { cat "$T/restart.log"; zt_fail "podman restart $WEB failed"; }
zt_log "podman restart -t 1 $WEB took $(zt_since_ms "$t0") ms"
restarts_is() { zt_scrape "$PORT" && [ "$(metric_value container_restarts_total "container_id=\"$WEB_ID\"")" = "$1" ]; }
zt_wait_until 15 "container_restarts_total{container_id=\"$WEB_ID\"} == 1" restarts_is 1
zt_ok "container_restarts_total{container_id=\"$WEB_ID\"} = 1, $(zt_since_ms "$t0") ms after the restart began"
sleep 3
zt_scrape "$PORT" || zt_fail "scrape failed"
r=$(metric_value container_restarts_total "container_id=\"$WEB_ID\"") || zt_fail "restart series disappeared"
[ "$r" = 1 ] || zt_fail "container_restarts_total{$WEB_ID} = $r 3 s later, expected to stay 1"
zt_ok "container_restarts_total{container_id=\"$WEB_ID\"} still 1 after 3 s"
[ -n "$(zt_series container_info "container_id=\"$WEB_ID\"")" ] || zt_fail "container_info of $WEB_ID gone after the restart"

# ---------------------------------------------------------------------- OOM
t0=$(zt_now_ms)
zt_podman_run "$OOM" --network none --memory 16m --memory-swap 16m "$ZT_IMAGE" \
	sh -c 'sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1'
code=$(timeout 60 "${ZT_PODMAN[@]}" wait "$OOM") || zt_fail "podman wait $OOM failed"
state=$(timeout 30 "${ZT_PODMAN[@]}" inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' "$OOM")
zt_log "$OOM exited with $code after $(zt_since_ms "$t0") ms; inspect: OOMKilled ExitCode = $state"
case "$state" in
"true "* | *" 137") ;;
*) zt_fail "$OOM was not OOM killed (OOMKilled/ExitCode: $state)" ;;
esac
oom_is() { zt_scrape "$PORT" && [ "$(metric_value container_oom_kills_total "container_id=\"$OOM_ID\"")" = "$1" ]; }
zt_wait_until 10 "container_oom_kills_total{container_id=\"$OOM_ID\"} == 1" oom_is 1
zt_ok "container_oom_kills_total{container_id=\"$OOM_ID\"} = 1, ${ZT_WAITED_MS} ms after the container exited"
for i in 1 2; do
	sleep 2
	zt_scrape "$PORT" || zt_fail "scrape failed"
	v=$(metric_value container_oom_kills_total "container_id=\"$OOM_ID\"") || zt_fail "OOM series disappeared after $((i * 2)) s"
	[ "$v" = 1 ] || zt_fail "container_oom_kills_total{$OOM_ID} = $v after $((i * 2)) s, expected to stay 1"
done
zt_ok "container_oom_kills_total{container_id=\"$OOM_ID\"} still 1 after 4 s"
if v=$(metric_value container_oom_kills_total "container_id=\"$WEB_ID\""); then
	[ "$v" = 0 ] || zt_fail "container_oom_kills_total{$WEB_ID} = $v, but nothing in $WEB was OOM killed"
fi
zt_agent_alive || zt_fail "agent died"
zt_pass
