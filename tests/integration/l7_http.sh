#!/usr/bin/env bash
# HTTP/1.x through the whole pipeline, against real nginx, curl, wrk and a
# pipelining client, with tshark decoding the same traffic:
#   - curl on one keep-alive connection: 200s, 404s, 500s, HEADs, a 1 MiB
#     body (far larger than the capture), gzip'ed (chunked) responses;
#   - eight requests in one write (pipelining), 200 and 404 mixed, a 500
#     last (nginx closes the connection after it); their responses (~1.9
#     KiB) fit one read within the http plugin's 2 KiB capture;
#   - hey: a fixed number of requests on 4 keep-alive connections (a fixed
#     count, so no request is in flight when the client stops);
#   - wrk for 2 s on 2 connections, paced (its own count of completed requests);
#   - hey against a server that answers after 10 ms, every 10th request
#     after 50 ms, for latency: the agent's p50 and p99 (our
#     zerotap_container_l7_latency_seconds) and mean within 10 % of hey's.
# Every client prints the status codes it got. The agent's outbound counts
# per status (the clients' cgroups) and inbound counts (nginx's cgroup)
# must equal the clients' counts and tshark's count of responses exactly;
NLOAD=3000
NLAT=400
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
# Both sides parsed, each by itself: the server side's parser is what runs
# for clients on other hosts (by default a connection with both ends here
# is parsed once, on its client side: agent.l7_local_once, checked at the end).
ZT_CFG_AGENT_EXTRA='"l7_local_once": false, "bpf_stats": true'

for c in nginx curl wrk hey tshark; do command -v $c >/dev/null || zt_skip "$c is not installed"; done
[ -f "$ZT_PLUGIN_DIR/http.so" ] || zt_fail "http plugin not built"
PY=$ZT_SOURCE_DIR/tests/integration/py/httpclient.py
PROM=$(zt_free_port)
read -r P PS < <(zt_tcp_ports 2) || zt_fail "no free ports"

# ---------------------------------------------------------------- nginx
mkdir -p "$T/nginx/logs" "$T/www"
printf 'hello\n' >"$T/www/ok.html"
head -c 1048576 /dev/urandom >"$T/www/big.bin"
for i in $(seq 400); do echo "<p>line $i of a page that compresses well</p>"; done >"$T/www/page.html"
cat >"$T/nginx/nginx.conf" <<EOF
worker_processes 1;
user root;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $T/nginx/body; proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fcgi; uwsgi_temp_path $T/nginx/uwsgi; scgi_temp_path $T/nginx/scgi;
  types { application/octet-stream bin; }
  gzip on; gzip_min_length 1; gzip_types text/html;
  server {
    listen 127.0.0.1:$P;
    root $T/www;
    location = /err { return 500; }
  }
}
EOF
zt_tcp_cgroup "zt-$ZT_TEST-$$-ngx"
NGX=$ZT_TCP_CG_ID
NGX_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg() { # LOG PROCS_VAR CMD... : CMD in the cgroup whose cgroup.procs files are in PROCS_VAR
	local log=$1 var=$2[@] procs
	shift 2
	procs="${!var}" # one word
	# CMD runs as a child of a shell that moved into the cgroup first and
	# outlives it by a moment: the agent then finds CMD's container through
	# its parent even when CMD is gone before its exec event is read (see
	# the process plugin: a process that changes cgroup between fork and
	# exec and exits within a drain interval is not resolvable itself)
	zt_bg "$log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=($procs); zt_tcp_cg_exec bash -c '\"\$@\"; rc=\$?; sleep 0.5; exit \$rc' _ \"\$@\"" _ "$@"
}
# A server: CMD is the process zt_bg started (exec'd once in the cgroup),
# so the harness's cleanup stops the server itself, not a shell above it.
incg_srv() { # LOG PROCS_VAR CMD...
	local log=$1 var=$2[@] procs
	shift 2
	procs="${!var}"
	zt_bg "$log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=($procs); zt_tcp_cg_exec \"\$@\"" _ "$@"
}
incg_srv "$T/nginx.out" NGX_PROCS nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;'
zt_wait_until 10 "nginx up" curl -sf -o /dev/null "http://127.0.0.1:$P/ok.html"
zt_tcp_cgroup "zt-$ZT_TEST-$$-slow"
SLOW_PROCS=("${ZT_TCP_CG_PROCS[@]}")
SLOW=$ZT_TCP_CG_ID
incg_srv "$T/slow.out" SLOW_PROCS /usr/bin/python3 "$PY" slowserver "$PS" 10 10 50
zt_wait_until 10 "slow server up" grep -q LISTENING "$T/slow.out"

zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PROM")" "$(zt_inst_process)" \
	'    "http": { "enabled": true, "required": true }'
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 10 "l7 feature up" bash -c "curl -sf http://127.0.0.1:$PROM/metrics | grep -q '^zerotap_feature_up{.*feature=\"l7\".*} 1'"

tshark -i lo -B 128 -f "tcp port $P" -w "$T/cap.pcapng" >"$T/tshark.out" 2>&1 &
TSH=$!
ZT_PIDS+=("$TSH")
zt_wait_until 10 "tshark capturing" grep -q "Capturing on" "$T/tshark.out"
sleep 0.5

# ---------------------------------------------------------------- clients
zt_tcp_cgroup "zt-$ZT_TEST-$$-cli"
CLI=$ZT_TCP_CG_ID
CLI_PROCS=("${ZT_TCP_CG_PROCS[@]}")
U=http://127.0.0.1:$P
urls=()
for i in $(seq 20); do urls+=("$U/ok.html"); done
for i in $(seq 10); do urls+=("$U/missing$i"); done
for i in $(seq 5); do urls+=("$U/err"); done
for i in $(seq 3); do urls+=("$U/big.bin"); done
fmt=()
for u in "${urls[@]}"; do fmt+=(-o /dev/null -w '%{http_code}\n' "$u"); done
incg "$T/curl.out" CLI_PROCS curl -s "${fmt[@]}"
zt_wait_until 30 "curl done" bash -c "[ \$(grep -c . '$T/curl.out') -ge ${#urls[@]} ]"
hfmt=()
for i in $(seq 5); do hfmt+=(-I -o /dev/null -w '%{http_code}\n' "$U/ok.html"); done
incg "$T/head.out" CLI_PROCS curl -s "${hfmt[@]}"
gfmt=()
for i in $(seq 3); do gfmt+=(-o /dev/null -w '%{http_code}\n' "$U/page.html"); done
incg "$T/gzip.out" CLI_PROCS curl -s --compressed "${gfmt[@]}"
incg "$T/pipe.out" CLI_PROCS /usr/bin/python3 "$PY" pipeline "$P" /ok.html /x1 /ok.html /x2 /ok.html /ok.html /x3 /err
for f in head gzip; do zt_wait_until 30 "$f done" bash -c "grep -q . '$T/$f.out'"; done
zt_wait_until 30 "pipelining client done" grep -q DONE "$T/pipe.out"
incg "$T/hey.out" CLI_PROCS hey -n "$NLOAD" -c 4 "$U/ok.html"
WPID=$ZT_BG_PID
zt_wait_until 60 "hey done" zt_proc_dead "$WPID"

# wrk, on its own cgroup: it runs for a time, so its count is what it
# completed; requests in flight when it stops are answered by nginx
# (tshark and the inbound side count them) but not read by wrk
zt_tcp_cgroup "zt-$ZT_TEST-$$-wrk"
WRKC=$ZT_TCP_CG_ID
WRK_PROCS=("${ZT_TCP_CG_PROCS[@]}")
# (paced with a 1 ms delay per request, so tshark keeps up)
printf 'function delay()\n  return 1\nend\n' >"$T/pace.lua"
incg "$T/wrk.out" WRK_PROCS wrk -t1 -c2 -d2s -s "$T/pace.lua" "$U/ok.html"
WKPID=$ZT_BG_PID
zt_wait_until 30 "wrk done" zt_proc_dead "$WKPID"

zt_tcp_cgroup "zt-$ZT_TEST-$$-lat"
LAT=$ZT_TCP_CG_ID
LAT_PROCS=("${ZT_TCP_CG_PROCS[@]}")
# hey, not wrk: wrk corrects its latencies for coordinated omission
# (synthetic samples for slow answers), which moves its mean and middle
# percentiles away from what each request took on this bimodal server
incg "$T/heylat.out" LAT_PROCS hey -n "$NLAT" -c 2 "http://127.0.0.1:$PS/"
LPID=$ZT_BG_PID
zt_wait_until 30 "latency client done" zt_proc_dead "$LPID"

# ---------------------------------------------------------------- expected
WRK=$(awk '$1 == "[200]" { print $2 }' "$T/hey.out")
[ "$WRK" = "$NLOAD" ] || zt_fail "hey got ${WRK:-no} 200 responses of $NLOAD: $(grep -A3 'Status code' "$T/hey.out")"
declare -A want
while read -r code; do
	[ -n "$code" ] && want[$code]=$((${want[$code]:-0} + 1))
done < <(cat "$T/curl.out" "$T/head.out" "$T/gzip.out"; grep -v DONE "$T/pipe.out")
want[200]=$((${want[200]:-0} + WRK))
exp=""
for c in "${!want[@]}"; do exp+="$c=${want[$c]} "; done
zt_log "clients: $exp(hey $WRK)"

sleep 1
kill -INT "$TSH"
wait "$TSH" 2>/dev/null || true
declare -A tsh
while read -r code; do
	[ -n "$code" ] && tsh[$code]=$((${tsh[$code]:-0} + 1))
done < <(tshark -r "$T/cap.pcapng" -Y http.response -T fields -e http.response.code 2>/dev/null | tr ',' '\n')
texp=""
for c in "${!tsh[@]}"; do texp+="$c=${tsh[$c]} "; done
zt_log "tshark responses: $texp($(grep -o '[0-9]* packets dropped[^)]*' "$T/tshark.out" || echo 'no drop report'))"

# ---------------------------------------------------------------- compare
dest="127.0.0.1:$P"
agent_out() { metric_value container_http_requests_total container_id=\""$CLI"\" destination=\""$dest"\" status=\""$1"\" || echo 0; }
agent_in() { metric_value container_http_inbound_requests_total container_id=\""$NGX"\" status=\""$1"\" || echo 0; }
settled() {
	zt_scrape "$PROM" >/dev/null
	local c
	for c in "${!want[@]}"; do
		[ "$(agent_out "$c")" = "${want[$c]}" ] || return 1
	done
	for c in "${!tsh[@]}"; do
		[ "$(agent_in "$c")" = "${tsh[$c]}" ] || return 1
	done
}
if ! ( zt_wait_until 10 "agent counts settle" settled ); then
	# where did the records go: other containers, or none at all
	zt_scrape "$PROM" >/dev/null
	zt_series container_http_requests_total
	zt_series zerotap_l7_unattributed_records_total
	zt_series zerotap_l7_unmatched
fi
zt_scrape "$PROM" >/dev/null
zt_series container_http_requests_total container_id=\""$CLI"\"
zt_series container_http_inbound_requests_total container_id=\""$NGX"\"
for c in "${!want[@]}"; do
	got=$(agent_out "$c")
	[ "$got" = "${want[$c]}" ] || zt_fail_later "outbound status $c: agent $got, clients ${want[$c]}"
done
for c in "${!tsh[@]}"; do
	got=$(agent_in "$c")
	[ "$got" = "${tsh[$c]}" ] || zt_fail_later "inbound status $c: agent $got, tshark ${tsh[$c]}"
done
# what the clients read is what tshark saw nginx answer (wrk's last
# in-flight responses aside, which tshark and the inbound side both count)
for c in "${!want[@]}"; do
	[ "$c" = 200 ] && continue
	[ "${tsh[$c]:-0}" = "${want[$c]}" ] || zt_fail_later "status $c: tshark ${tsh[$c]:-0}, clients ${want[$c]}"
done
zt_ok "agent outbound = clients ($exp), inbound = tshark ($texp)"

wrkn=$(awk '/requests in/ { print $1 }' "$T/wrk.out")
wrka=$(metric_value container_http_requests_total container_id=\""$WRKC"\" destination=\""$dest"\" status=\"200\" || echo 0)
[ -n "$wrkn" ] && [ "$wrka" = "$wrkn" ] || zt_fail_later "wrk: agent $wrka requests with status 200, wrk ${wrkn:-none}"
zt_ok "wrk: agent $wrka = wrk $wrkn requests"

# per-probe run time and count (agent.bpf_stats): wrk alone (no
# pipelining) sent each request in a write of its own and read each
# answer, and nginx did the reverse, all on traced sockets
nreq=${wrkn:-0}
for prog in zt_l7_send zt_l7_recv; do
	runs=$(metric_value zerotap_bpf_prog_runs_total feature=\"l7\" program=\"$prog\" || echo 0)
	rt=$(metric_value zerotap_bpf_prog_run_time_seconds_total feature=\"l7\" program=\"$prog\" || echo 0)
	zt_num_ge "$runs" $((2 * nreq)) && zt_num_gt "$rt" 0 ||
		zt_fail_later "bpf stats of $prog: $runs runs, $rt s (at least $((2 * nreq)) runs expected)"
	zt_log "bpf stats: $prog $runs runs, $rt s"
done

# ---------------------------------------------------------------- latency
lreq=$(awk '$1 == "[200]" { print $2 }' "$T/heylat.out")
lat_count() { metric_value container_http_requests_duration_seconds_total_count container_id=\""$LAT"\" || echo 0; }
lat_settled() { zt_scrape "$PROM" >/dev/null && [ "$(lat_count)" = "${lreq:-none}" ]; }
if ! ( zt_wait_until 10 "latency client's requests counted" lat_settled ); then
	# where did they go: another container, unattributed, or never parsed
	zt_log "latency client: $(grep -A2 'Status code' "$T/heylat.out" | tr '\n' ' ')"
	zt_series container_http_requests_total
	zt_series container_http_inbound_requests_total container_id=\""$SLOW"\"
	zt_series zerotap_l7_unattributed_records_total
	zt_series zerotap_l7_connections
	zt_series zerotap_l7_unmatched
	zt_series zerotap_ringbuf_lost_events_total
	zt_series zerotap_l7_records_total
fi
sleep 1.2 # quantiles are published on the agent's 1 s tick
zt_scrape "$PROM" >/dev/null
n=$(lat_count)
sum=$(metric_value container_http_requests_duration_seconds_total_sum container_id=\""$LAT"\" || echo 0)
[ "$lreq" = "$NLAT" ] || zt_fail_later "latency client: hey got ${lreq:-no} 200 responses of $NLAT"
[ "$n" = "$lreq" ] || zt_fail_later "latency client: agent $n requests, hey $lreq"
# hey prints seconds: "Average:	0.0146 secs", "  50% in 0.0105 secs"
havg=$(awk '$1 == "Average:" { printf "%.3f", $2 * 1000; exit }' "$T/heylat.out")
aavg=$(awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.3f", (n > 0 ? s / n * 1000 : 0) }')
zt_log "latency: agent mean $aavg ms, hey mean $havg ms over $lreq requests"
awk -v a="$aavg" -v w="$havg" 'BEGIN { d = a - w; if (d < 0) d = -d; exit !(d <= 0.1 * w) }' ||
	zt_fail_later "agent mean latency $aavg ms is not within 10 % of hey's $havg ms"
hpct() { awk -v p="$1%" '$1 == p && $2 == "in" { printf "%.3f", $3 * 1000; exit }' "$T/heylat.out"; }
for q in 50 99; do
	w=$(hpct $q)
	a=$(metric_value zerotap_container_l7_latency_seconds container_id=\""$LAT"\" protocol=\"http\" role=\"client\" \
		percentile=\"$q\") || a=
	a=${a:+$(awk -v v="$a" 'BEGIN { printf "%.3f", v * 1000 }')}
	zt_log "latency p$q: agent ${a:-none} ms, hey ${w:-none} ms"
	[ -n "$w" ] && [ -n "$a" ] && awk -v a="$a" -v w="$w" 'BEGIN { d = a - w; if (d < 0) d = -d; exit !(d <= 0.1 * w) }' ||
		zt_fail_later "agent p$q latency ${a:-none} ms is not within 10 % of hey's ${w:-none} ms"
done
a50=$(metric_value zerotap_container_l7_latency_seconds container_id=\""$LAT"\" role=\"client\" percentile=\"50\")
a99=$(metric_value zerotap_container_l7_latency_seconds container_id=\""$LAT"\" role=\"client\" percentile=\"99\")
awk -v a="$a50" -v b="$a99" 'BEGIN { exit !(b > 3 * a) }' || zt_fail_later "p99 $a99 s is not well above p50 $a50 s: the slow tail is not seen"
# the server side of the same requests (the python server, its own container)
s50=$(metric_value zerotap_container_l7_latency_seconds container_id=\""$SLOW"\" role=\"server\" percentile=\"50\") || s50=
[ -n "$s50" ] && awk -v s="$s50" -v a="$a50" 'BEGIN { exit !(s <= a && s > 0.8 * a) }' ||
	zt_fail_later "server-side p50 ${s50:-none} s does not match the client's $a50 s (it must be a bit lower)"

perr=$(metric_value zerotap_l7_parse_errors_total protocol=\"http\" || echo 0)
lost=$(metric_value zerotap_ringbuf_lost_events_total ring=\"l7\" || echo 0)
[ "$lost" = 0 ] || zt_fail_later "$lost l7 events lost"
zt_log "parse errors $perr"

# ---------------------------------------------------------------- local once
# The default: a connection with both ends on this host is parsed on its
# client side only, nginx's side stops being captured, and its inbound
# records are the client side's. Fresh agent, clients that read every
# answer (no request in flight at their end): inbound = outbound = clients.
zt_stop_agent TERM 5000
unset ZT_CFG_AGENT_EXTRA
zt_config "$T/zerotap2.json" "$(zt_inst_prometheus "$PROM")" "$(zt_inst_process)" \
	'    "http": { "enabled": true, "required": true }'
zt_start_agent "$T/zerotap2.json"
zt_wait_metrics "$PROM"
zt_wait_until 10 "l7 feature up" bash -c "curl -sf http://127.0.0.1:$PROM/metrics | grep -q '^zerotap_feature_up{.*feature=\"l7\".*} 1'"
zt_tcp_cgroup "zt-$ZT_TEST-$$-once"
ONCE=$ZT_TCP_CG_ID
ONCE_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg "$T/once.curl" ONCE_PROCS curl -s "${fmt[@]}"
zt_wait_until 30 "curl done" bash -c "[ \$(grep -c . '$T/once.curl') -ge ${#urls[@]} ]"
incg "$T/once.pipe" ONCE_PROCS /usr/bin/python3 "$PY" pipeline "$P" /ok.html /x1 /ok.html /x2 /ok.html /ok.html /x3 /err
zt_wait_until 30 "pipelining client done" grep -q DONE "$T/once.pipe"
incg "$T/once.hey" ONCE_PROCS hey -n "$NLOAD" -c 4 "$U/ok.html"
OPID=$ZT_BG_PID
zt_wait_until 60 "hey done" zt_proc_dead "$OPID"
declare -A once
while read -r code; do
	[ -n "$code" ] && once[$code]=$((${once[$code]:-0} + 1))
done < <(cat "$T/once.curl"; grep -v DONE "$T/once.pipe")
h200=$(awk '$1 == "[200]" { print $2 }' "$T/once.hey")
[ "$h200" = "$NLOAD" ] || zt_fail "hey got ${h200:-no} 200 responses of $NLOAD"
once[200]=$((${once[200]:-0} + h200))
oexp=""
for c in "${!once[@]}"; do oexp+="$c=${once[$c]} "; done
once_out() { metric_value container_http_requests_total container_id=\""$ONCE"\" destination=\""$dest"\" status=\""$1"\" || echo 0; }
once_settled() {
	zt_scrape "$PROM" >/dev/null
	local c
	for c in "${!once[@]}"; do
		[ "$(once_out "$c")" = "${once[$c]}" ] && [ "$(agent_in "$c")" = "${once[$c]}" ] || return 1
	done
}
( zt_wait_until 10 "agent counts settle (local once)" once_settled ) || true
zt_scrape "$PROM" >/dev/null
zt_series container_http_inbound_requests_total container_id=\""$NGX"\"
for c in "${!once[@]}"; do
	[ "$(once_out "$c")" = "${once[$c]}" ] || zt_fail_later "local once: outbound status $c: agent $(once_out "$c"), clients ${once[$c]}"
	[ "$(agent_in "$c")" = "${once[$c]}" ] || zt_fail_later "local once: inbound status $c: agent $(agent_in "$c"), clients ${once[$c]}"
done
# curl's connection, the pipelining client's and hey's 4 (at least)
nonce=$(metric_value zerotap_l7_local_once_connections_total protocol=\"http\" || echo 0)
zt_num_ge "$nonce" 6 || zt_fail_later "zerotap_l7_local_once_connections_total = $nonce, want >= 6: nginx's side was parsed"
olost=$(metric_value zerotap_ringbuf_lost_events_total ring=\"l7\" || echo 0)
[ "$olost" = 0 ] || zt_fail_later "$olost l7 events lost (local once)"
zt_ok "local once: outbound = inbound = clients ($oexp), $nonce connections parsed on the client side only"

zt_pass
