#!/usr/bin/env bash
# memcached through the whole pipeline, against a real memcached 1.6 and
# real clients, with tshark decoding the same traffic:
#   - raw text commands one per write (every storage, retrieval and admin
#     command, misses, two noreply commands, ERROR and CLIENT_ERRORs);
#   - meta commands, the quiet ones closed by mn;
#   - pymemcache: set/get/get_many/delete/incr, misses, noreply, a
#     CLIENT_ERROR (incr of text) and a SERVER_ERROR (a 2 MiB value);
#   - memcslap in text mode (--test get) and with --binary (--test mget:
#     quiet GETKQ pipelines closed by NOOP);
#   - 300 timed gets of a 512 KB value, for latency.
# The python clients count their own queries, noreply commands and
# failures; memcslap's counts come from the server's stats counters moved
# by its run (cmd_get + cmd_set). The agent's outbound counts per status
# (each client's cgroup) must equal them exactly; its inbound counts
# (memcached's cgroup) must equal their sum and tshark's count of requests
# on the wire; its mean latency must be within 10 % of the client's.
NSLAP=200
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
# Both sides parsed, each by itself: the server side's parser is what runs
# for clients on other hosts (by default a connection with both ends here
# is parsed once, on its client side: agent.l7_local_once, checked by l7_http).
ZT_CFG_AGENT_EXTRA='"l7_local_once": false'

for c in memcached memcslap tshark; do command -v $c >/dev/null || zt_skip "$c is not installed"; done
/usr/bin/python3 -c 'import pymemcache' 2>/dev/null || zt_skip "python3-pymemcache is not installed"
[ -f "$ZT_PLUGIN_DIR/memcached.so" ] || zt_fail "memcached plugin not built"
MCC=$ZT_SOURCE_DIR/plugins/protocol/memcached/testdata/mcclient.py
PROM=$(zt_free_port)
read -r P P2 < <(zt_tcp_ports 2) || zt_fail "no free ports"

incg() { # LOG PROCS_VAR CMD... : CMD in the cgroup whose cgroup.procs files are in PROCS_VAR (see l7_http.sh)
	local log=$1 var=$2[@] procs
	shift 2
	procs="${!var}"
	zt_bg "$log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=($procs); zt_tcp_cg_exec bash -c '\"\$@\"; rc=\$?; sleep 0.5; exit \$rc' _ \"\$@\"" _ "$@"
}
mcstats() { # the server's own counters
	printf 'stats\r\nquit\r\n' | (exec 3<>/dev/tcp/127.0.0.1/$P; cat >&3; timeout 2 cat <&3) | tr -d '\r' |
		awk '$1 == "STAT" { print $2, $3 }'
}
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

zt_tcp_cgroup "zt-$ZT_TEST-$$-srv"
SRV=$ZT_TCP_CG_ID
# exec'ed in its cgroup (no shell left around it), so the PID recorded is memcached's own and cleanup stops it
zt_bg "$T/memcached.out" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=(${ZT_TCP_CG_PROCS[*]}); zt_tcp_cg_exec memcached -u root -l 127.0.0.1 -p $P -U 0 -m 64"
zt_wait_until 10 "memcached up" bash -c "(exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null"
# a second server on a port with no kernel rule: its connections are
# claimed by detect() in user space, and the claim must reach the kernel
# before the connection's probe messages run out (every query counted)
zt_tcp_cgroup "zt-$ZT_TEST-$$-srv2"
SRV2=$ZT_TCP_CG_ID
zt_bg "$T/memcached2.out" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=(${ZT_TCP_CG_PROCS[*]}); zt_tcp_cg_exec memcached -u root -l 127.0.0.1 -p $P2 -U 0 -m 64"
zt_wait_until 10 "memcached 2 up" bash -c "(exec 3<>/dev/tcp/127.0.0.1/$P2) 2>/dev/null"

zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PROM")" "$(zt_inst_process)" \
	"    \"memcached\": { \"enabled\": true, \"required\": true, \"config\": { \"port\": $P } }"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 10 "l7 feature up" bash -c "curl -sf http://127.0.0.1:$PROM/metrics | grep -q '^zerotap_feature_up{.*feature=\"l7\".*} 1'"

tshark -i lo -B 128 -f "tcp port $P" -w "$T/cap.pcapng" >"$T/tshark.out" 2>&1 &
TSH=$!
ZT_PIDS+=("$TSH")
zt_wait_until 10 "tshark capturing" grep -q "Capturing on" "$T/tshark.out"
sleep 0.5

# ---------------------------------------------------------------- clients
declare -A WANT_OK WANT_FAILED CG
newcg() { # NAME: a cgroup for one client kind
	zt_tcp_cgroup "zt-$ZT_TEST-$$-$1"
	CG[$1]=$ZT_TCP_CG_ID
	eval "CGP_$1=(\"\${ZT_TCP_CG_PROCS[@]}\")"
}
for k in text meta pymemcache; do
	newcg $k
	incg "$T/$k.out" "CGP_$k" /usr/bin/python3 "$MCC" $k "$P"
	zt_wait_until 60 "$k client done" grep -q DONE "$T/$k.out"
	q=$(awk '$1 == "queries" { print $2 }' "$T/$k.out")
	nr=$(awk '$1 == "noreply" { print $2 }' "$T/$k.out")
	nf=$(awk '$1 == "failed" { print $2 }' "$T/$k.out")
	WANT_OK[$k]=$((q - nf + nr))
	WANT_FAILED[$k]=$nf
	zt_log "$k: client counted $q queries ($nf failed) and $nr noreply"
done
newcg det
incg "$T/det.out" CGP_det /usr/bin/python3 "$MCC" meta "$P2"
zt_wait_until 60 "detect() client done" grep -q DONE "$T/det.out"
DET_Q=$(awk '$1 == "queries" { print $2 }' "$T/det.out")
DET_NR=$(awk '$1 == "noreply" { print $2 }' "$T/det.out")
DET_F=$(awk '$1 == "failed" { print $2 }' "$T/det.out")
DET_OK=$((DET_Q - DET_F + DET_NR))
for k in slaptext slapbin; do
	newcg $k
	mcstats >"$T/$k.before"
	args=(--servers=127.0.0.1:$P --concurrency=2 --execute-number=$NSLAP --test=get)
	# --binary --test get: single GETs (mget pipelines of 200 keys in one 9 KB write lie mostly past the
	# 2 KiB capture; the golden tests cover GETKQ/NOOP pipelines that fit)
	[ $k = slapbin ] && args+=(--binary)
	incg "$T/$k.out" "CGP_$k" memcslap "${args[@]}"
	SPID=$ZT_BG_PID
	zt_wait_until 60 "$k done" zt_proc_dead "$SPID"
	mcstats >"$T/$k.after"
	g=$(($(stat_of "$T/$k.after" cmd_get) - $(stat_of "$T/$k.before" cmd_get)))
	s=$(($(stat_of "$T/$k.after" cmd_set) - $(stat_of "$T/$k.before" cmd_set)))
	WANT_OK[$k]=$((g + s))
	WANT_FAILED[$k]=0
	zt_log "$k: server counted cmd_get $g cmd_set $s ($(grep -c 'Time to' "$T/$k.out") timing lines from memcslap)"
	[ "$g" -gt 0 ] && [ "$s" -gt 0 ] || zt_fail "$k: memcslap did nothing: $(cat "$T/$k.out")"
done
newcg lat
incg "$T/lat.out" CGP_lat /usr/bin/python3 "$MCC" latency "$P" 300
zt_wait_until 60 "latency client done" grep -q DONE "$T/lat.out"

sleep 1
kill -INT "$TSH"
wait "$TSH" 2>/dev/null || true

# ---------------------------------------------------------------- tshark
# binary requests on the wire (magic 0x80) other than NOOP and QUIT: only
# memcslap --binary speaks binary here
D="-d tcp.port==$P,memcache"
tbin=$(tshark -r "$T/cap.pcapng" $D -T fields -e memcache.magic -e memcache.opcode 2>/dev/null |
	awk -F'\t' '{ n = split($1, m, ","); split($2, o, ","); for (i = 1; i <= n; i++) if (m[i] == 128 && o[i] != 10 && o[i] != 7) c++ } END { print c + 0 }')
lat_total=$(awk '$1 == "queries" { print $2 }' "$T/lat.out")
zt_log "tshark: $tbin binary requests ($(grep -o '[0-9]* packets dropped[^)]*' "$T/tshark.out" || echo 'no drop report'))"

# ---------------------------------------------------------------- compare
dest="127.0.0.1:$P"
out() { metric_value container_memcached_queries_total container_id=\""$1"\" destination=\""$dest"\" status=\""$2"\" || echo 0; }
inb() { metric_value container_memcached_inbound_queries_total container_id=\""$SRV"\" status=\""$1"\" || echo 0; }
sum_ok=$lat_total
sum_failed=0
for k in "${!WANT_OK[@]}"; do
	sum_ok=$((sum_ok + WANT_OK[$k]))
	sum_failed=$((sum_failed + WANT_FAILED[$k]))
done
settled() {
	zt_scrape "$PROM" >/dev/null
	local k
	for k in "${!WANT_OK[@]}"; do
		[ "$(out "${CG[$k]}" ok)" = "${WANT_OK[$k]}" ] || return 1
		[ "$(out "${CG[$k]}" failed)" = "${WANT_FAILED[$k]}" ] || return 1
	done
	[ "$(inb ok)" = "$sum_ok" ] && [ "$(inb failed)" = "$sum_failed" ]
}
if ! ( zt_wait_until 10 "agent counts settle" settled ); then
	# what the agent says it could not pair, skipped or lost
	zt_scrape "$PROM" >/dev/null
	for f in zerotap_l7_unmatched_requests_total zerotap_l7_unmatched_responses_total zerotap_l7_resyncs_total \
		zerotap_l7_lost_bytes_total zerotap_l7_parse_errors_total zerotap_ringbuf_lost_events_total \
		zerotap_l7_unattributed_records_total zerotap_l7_kernel_total; do
		zt_series $f
	done
fi
zt_scrape "$PROM" >/dev/null
zt_series container_memcached_inbound_queries_total container_id=\""$SRV"\"
for k in "${!WANT_OK[@]}"; do
	for st in ok failed; do
		got=$(out "${CG[$k]}" $st)
		if [ $st = ok ]; then w=${WANT_OK[$k]}; else w=${WANT_FAILED[$k]}; fi
		[ "$got" = "$w" ] || zt_fail_later "$k outbound $st: agent $got, client/server $w"
	done
	zt_log "$k: agent ok $(out "${CG[$k]}" ok) failed $(out "${CG[$k]}" failed), expected ${WANT_OK[$k]} / ${WANT_FAILED[$k]}"
done
iok=$(inb ok)
ifl=$(inb failed)
[ "$iok" = "$sum_ok" ] || zt_fail_later "inbound ok: agent $iok, clients $sum_ok"
[ "$ifl" = "$sum_failed" ] || zt_fail_later "inbound failed: agent $ifl, clients $sum_failed"
bout=$(($(out "${CG[slapbin]}" ok) + $(out "${CG[slapbin]}" failed)))
[ "$bout" = "$tbin" ] || zt_fail_later "binary: agent $bout, tshark $tbin"
zt_ok "outbound = clients; inbound ok $iok failed $ifl = clients ($sum_ok / $sum_failed); binary agent $bout = tshark $tbin"

# ---------------------------------------------------------------- detect()
dest2="127.0.0.1:$P2"
dok=$(metric_value container_memcached_queries_total container_id=\""${CG[det]}"\" destination=\""$dest2"\" status=\"ok\" || echo 0)
dfl=$(metric_value container_memcached_queries_total container_id=\""${CG[det]}"\" destination=\""$dest2"\" status=\"failed\" || echo 0)
diok=$(metric_value container_memcached_inbound_queries_total container_id=\""$SRV2"\" status=\"ok\" || echo 0)
ndet=$(metric_value zerotap_l7_detections_total protocol=\"memcached\" by=\"detect\" || echo 0)
[ "$dok" = "$DET_OK" ] && [ "$dfl" = "$DET_F" ] ||
	zt_fail_later "port without a rule (detect()): agent ok $dok failed $dfl, client $DET_OK / $DET_F"
[ "$diok" = "$DET_OK" ] || zt_fail_later "port without a rule (detect()): server side ok $diok, client $DET_OK"
zt_num_ge "$ndet" 2 || zt_fail_later "zerotap_l7_detections_total{by=\"detect\"} = $ndet: the second server's connections were not claimed by detect()"
zt_ok "detect() path: agent ok $dok failed $dfl (server side $diok) = client $DET_OK / $DET_F; $ndet detect() claims"

# ---------------------------------------------------------------- latency
n=$(metric_value container_memcached_queries_duration_seconds_total_count container_id=\""${CG[lat]}"\")
sum=$(metric_value container_memcached_queries_duration_seconds_total_sum container_id=\""${CG[lat]}"\")
[ "$n" = "$lat_total" ] || zt_fail_later "latency client: agent $n queries, client $lat_total"
# the client's mean is over its 300 gets; the agent's includes the one set
cmean=$(awk '$1 == "mean_ms" { print $2 }' "$T/lat.out")
amean=$(awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.4f", s / n * 1000 }')
zt_log "latency: agent mean $amean ms over $n, client mean $cmean ms over $((lat_total - 1)) gets"
awk -v a="$amean" -v c="$cmean" 'BEGIN { d = a - c; if (d < 0) d = -d; exit !(d <= 0.1 * c) }' ||
	zt_fail_later "agent mean latency $amean ms is not within 10 % of the client's $cmean ms"

perr=$(metric_value zerotap_l7_parse_errors_total protocol=\"memcached\" || echo 0)
lost=$(metric_value zerotap_ringbuf_lost_events_total ring=\"l7\" || echo 0)
[ "$lost" = 0 ] || zt_fail_later "$lost l7 events lost"
zt_log "parse errors $perr"
zt_pass
