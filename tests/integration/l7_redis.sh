#!/usr/bin/env bash
# Redis through the whole pipeline, against a real redis-server 7.0 and real
# clients, with tshark's RESP dissector and the server's own INFO
# commandstats decoding the same traffic:
#   - redis-cli: good commands, an unknown command, WRONGTYPE, MULTI/EXEC
#     with an EXEC-time error, RESP3 (-3: HELLO 3 first), and a subscriber
#     receiving NPUB messages (pushes, not requests: it counts 1 SUBSCRIBE);
#   - python3-redis: 400 SET/GET, WRONGTYPE and unknown-command errors, a
#     50-command pipeline and a MULTI/EXEC transaction (its own ok/failed);
#   - redis-benchmark -t set,get with -P 1 and -P 16 (16 commands per write,
#     16 replies per read): agent = 2 x -n + its 2 CONFIG GETs = the
#     server's commandstats for the phase;
#   - redis-benchmark DEBUG SLEEP 0.005 for latency (agent mean within 10 %).
# Every client's cgroup is compared exactly (outbound, per status); the
# server's cgroup (inbound) is compared with tshark's count of commands.
NBEN=4000
NPUB=25
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
# Both sides parsed, each by itself: the server side's parser is what runs
# for clients on other hosts (by default a connection with both ends here
# is parsed once, on its client side: agent.l7_local_once, checked by l7_http).
ZT_CFG_AGENT_EXTRA='"l7_local_once": false'

for c in redis-server redis-cli redis-benchmark tshark; do command -v $c >/dev/null || zt_skip "$c is not installed"; done
/usr/bin/python3 -c 'import redis' 2>/dev/null || zt_skip "python3-redis is not installed"
[ -f "$ZT_PLUGIN_DIR/redis.so" ] || zt_fail "redis plugin not built"
PROM=$(zt_free_port)
read -r P < <(zt_tcp_ports 1) || zt_fail "no free port"

incg() { # LOG PROCS_VAR CMD... : CMD in a cgroup, under a shell that lingers (see l7_http.sh)
	local log=$1 var=$2[@] procs
	shift 2
	procs="${!var}"
	zt_bg "$log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=($procs); zt_tcp_cg_exec bash -c '\"\$@\"; rc=\$?; sleep 0.5; exit \$rc' _ \"\$@\"" _ "$@"
}
# a short client, waited for
run_in() { # NAME PROCS_VAR CMD...
	local name=$1
	shift
	incg "$T/$name.out" "$@"
	local pid=$ZT_BG_PID
	zt_wait_until 60 "$name done" zt_proc_dead "$pid"
}
cgroup() { # VAR_PREFIX NAME
	zt_tcp_cgroup "zt-$ZT_TEST-$$-$2"
	eval "$1=\$ZT_TCP_CG_ID; $1_PROCS=(\"\${ZT_TCP_CG_PROCS[@]}\")"
}

# ---------------------------------------------------------------- server
mkdir -p "$T/redis"
cgroup SRV srv
# exec'ed by the shell that moved into the cgroup: its PID is the server's, which the cleanup stops
indirect() { # LOG PROCS_VAR CMD...
	local log=$1 var=$2[@] procs
	shift 2
	procs="${!var}"
	zt_bg "$log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=($procs); zt_tcp_cg_exec \"\$@\"" _ "$@"
}
indirect "$T/redis.out" SRV_PROCS redis-server --bind 127.0.0.1 --port "$P" --save '' --appendonly no --dir "$T/redis" \
	--enable-debug-command local --logfile "$T/redis/redis.log"
ZT_LOGS+=("$T/redis/redis.log")
zt_wait_until 10 "redis up" bash -c "redis-cli -p $P ping 2>/dev/null | grep -q PONG"

zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PROM")" "$(zt_inst_process)" \
	"    \"redis\": { \"enabled\": true, \"required\": true, \"config\": { \"port\": $P } }"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 10 "l7 feature up" bash -c "curl -sf http://127.0.0.1:$PROM/metrics | grep -q '^zerotap_feature_up{.*feature=\"l7\".*} 1'"

tshark -i lo -B 128 -f "tcp port $P" -w "$T/cap.pcapng" >"$T/tshark.out" 2>&1 &
TSH=$!
ZT_PIDS+=("$TSH")
zt_wait_until 10 "tshark capturing" grep -q "Capturing on" "$T/tshark.out"
sleep 0.5

declare -A want_ok want_failed
expect() { want_ok[$1]=$((${want_ok[$1]:-0} + $2)); want_failed[$1]=$((${want_failed[$1]:-0} + $3)); }

# ---------------------------------------------------------------- redis-cli
cgroup CLI cli
R=(redis-cli -p "$P")
# One redis-cli process per script (commands from stdin, one connection;
# redis-cli then starts with COMMAND DOCS): few short-lived processes, so
# every one is attributed to its cgroup.
cli_script() { # NAME [redis-cli options] < script
	local name=$1
	shift
	cat >"$T/$name.in"
	run_in "$name" CLI_PROCS bash -c "${R[*]} $* <'$T/$name.in'"
}
printf '%s\n' 'SET cli:k secret' 'GET cli:k' 'RPUSH cli:l a b' 'GET cli:l' 'NOSUCHCMD arg' 'CONFIG GET maxmemory' | cli_script basic
grep -q WRONGTYPE "$T/basic.out" || zt_fail "redis-cli GET on a list: no WRONGTYPE: $(cat "$T/basic.out")"
grep -q "unknown command" "$T/basic.out" || zt_fail "redis-cli NOSUCHCMD: $(cat "$T/basic.out")"
expect "$CLI" 5 2
# MULTI/EXEC with an EXEC-time error
printf '%s\n' MULTI 'SET cli:a 1' 'INCR cli:a' 'LPUSH cli:a x' EXEC | cli_script multi
grep -q WRONGTYPE "$T/multi.out" || zt_fail "MULTI/EXEC: no WRONGTYPE in EXEC's reply: $(cat "$T/multi.out")"
expect "$CLI" 5 1
# RESP3 (HELLO 3 first): a map, a set, a double, a WRONGTYPE
printf '%s\n' 'HSET cli:h a 1 b 2' 'HGETALL cli:h' 'SADD cli:s x y' 'SMEMBERS cli:s' 'ZADD cli:z 1.5 m' 'ZSCORE cli:z m' \
	'GET cli:s' | cli_script resp3 -3
grep -q WRONGTYPE "$T/resp3.out" || zt_fail "RESP3 GET on a set: $(cat "$T/resp3.out")"
expect "$CLI" 8 1

# pub/sub: one subscriber, NPUB messages
cgroup SUB sub
indirect "$T/sub.out" SUB_PROCS stdbuf -oL redis-cli -p "$P" SUBSCRIBE zt:news
SUBPID=$ZT_BG_PID
zt_wait_until 10 "subscribed" grep -qx zt:news "$T/sub.out"
for i in $(seq "$NPUB"); do echo "PUBLISH zt:news msg-$i"; done | cli_script pub
expect "$CLI" $((NPUB + 1)) 0
zt_wait_until 10 "subscriber got $NPUB messages" bash -c "[ \$(grep -c '^msg-' '$T/sub.out') = $NPUB ]"
expect "$SUB" 1 0

# ---------------------------------------------------------------- python3-redis
cgroup PY py
run_in py PY_PROCS /usr/bin/python3 "$ZT_SOURCE_DIR/tests/integration/py/redisclient.py" "$P"
grep -q DONE "$T/py.out" || zt_fail "python client: $(cat "$T/py.out")"
expect "$PY" "$(awk '$1 == "ok" { print $2 }' "$T/py.out")" "$(awk '$1 == "failed" { print $2 }' "$T/py.out")"

# ---------------------------------------------------------------- redis-benchmark
cgroup ADM adm
cmdstats() { # prints "set+get+config|get calls" of the phase, then resets the stats
	redis-cli -p "$P" INFO commandstats | tr -d '\r' |
		awk -F'[:=,]' '/^cmdstat_(set|get|config\|get):/ { n += $3 } END { print n + 0 }'
}
bench() { # NAME PIPELINE CLIENTS
	local name=$1
	run_in adm-$name ADM_PROCS redis-cli -p "$P" CONFIG RESETSTAT
	cgroup BEN_$name "ben$name"
	run_in "ben$name" "BEN_${name}_PROCS" redis-benchmark -p "$P" -n "$NBEN" -c "$3" -P "$2" -t set,get -q
	local cg; eval "cg=\$BEN_$name"
	STATS[$name]=$(cmdstats)
	expect "$cg" $((2 * NBEN + 2)) 0
	zt_log "redis-benchmark -P $2: $(tr '\r' '\n' <"$T/ben$name.out" | grep -E 'requests per second' | tr '\n' ' ')"
}
declare -A STATS
bench p1 1 4
bench p16 16 2

# latency: a command that takes 5 ms in the server
cgroup LAT lat
run_in lat LAT_PROCS redis-benchmark -p "$P" -n 200 -c 2 --csv DEBUG SLEEP 0.005
expect "$LAT" 202 0

# ---------------------------------------------------------------- tshark
sleep 1
kill -INT "$TSH"
wait "$TSH" 2>/dev/null || true
TSH_CMDS=$(tshark -r "$T/cap.pcapng" -d "tcp.port==$P,resp" -Y "tcp.dstport == $P && resp" -T fields \
	-e resp.array.length 2>/dev/null | tr ',' '\n' | grep -c . || true)
zt_log "tshark: $TSH_CMDS commands sent to the server ($(grep -o '[0-9]* packets dropped[^)]*' "$T/tshark.out" || echo 'no drop report'))"

# ---------------------------------------------------------------- compare
dest="127.0.0.1:$P"
agent_out() { metric_value container_redis_queries_total container_id=\""$1"\" destination=\""$dest"\" status=\""$2"\" || echo 0; }
agent_in_total() {
	zt_series container_redis_inbound_queries_total container_id=\""$SRV"\" | awk '{ n += $NF } END { print n + 0 }'
}
settled() {
	zt_scrape "$PROM" >/dev/null
	local cg
	for cg in "${!want_ok[@]}"; do
		[ "$(agent_out "$cg" ok)" = "${want_ok[$cg]}" ] || return 1
		[ "$(agent_out "$cg" failed)" = "${want_failed[$cg]}" ] || return 1
	done
}
( zt_wait_until 15 "agent counts settle" settled ) || true
zt_scrape "$PROM" >/dev/null
zt_series container_redis_queries_total
zt_series container_redis_inbound_queries_total
for cg in "${!want_ok[@]}"; do
	for st in ok failed; do
		eval "w=\${want_$st[\$cg]}"
		got=$(agent_out "$cg" $st)
		if [ "$got" = "$w" ]; then
			zt_ok "${cg##*/} $st: agent $got = client $w"
		else
			zt_fail_later "${cg##*/} $st: agent $got, client $w"
		fi
	done
done
for name in p1 p16; do
	eval "cg=\$BEN_$name"
	got=$(agent_out "$cg" ok)
	[ "$got" = "${STATS[$name]}" ] && zt_ok "redis-benchmark -P ${name#p}: agent $got = INFO commandstats ${STATS[$name]}" ||
		zt_fail_later "redis-benchmark -P ${name#p}: agent $got, INFO commandstats ${STATS[$name]}"
done
# inbound: every command the server read, whoever sent it (the checks above
# included), is what tshark decoded; the unknown label must be absent
uk=$(metric_value container_redis_inbound_queries_total container_id=\""$SRV"\" status=\"unknown\" || echo 0)
[ "$uk" = 0 ] || zt_fail_later "inbound: $uk requests with status unknown"
got=$(agent_in_total)
[ "$got" = "$TSH_CMDS" ] && zt_ok "inbound: agent $got = tshark $TSH_CMDS" || zt_fail_later "inbound: agent $got, tshark $TSH_CMDS"

# ---------------------------------------------------------------- latency
n=$(metric_value container_redis_queries_duration_seconds_total_count container_id=\""$LAT"\")
sum=$(metric_value container_redis_queries_duration_seconds_total_sum container_id=\""$LAT"\")
cavg=$(awk -F'","' '/DEBUG/ { gsub(/"/, "", $3); print $3 }' "$T/lat.out")
aavg=$(awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.3f", s / (n - 2) * 1000 }')
zt_log "latency: agent mean $aavg ms over DEBUG SLEEP, redis-benchmark mean $cavg ms ($n records incl. 2 CONFIG GET)"
awk -v a="$aavg" -v w="$cavg" 'BEGIN { d = a - w; if (d < 0) d = -d; exit !(w > 0 && d <= 0.1 * w) }' ||
	zt_fail_later "agent mean latency $aavg ms is not within 10 % of redis-benchmark's $cavg ms"

perr=$(metric_value zerotap_l7_parse_errors_total protocol=\"redis\" || echo 0)
lost=$(metric_value zerotap_ringbuf_lost_events_total ring=\"l7\" || echo 0)
[ "$lost" = 0 ] || zt_fail_later "$lost l7 events lost"
[ "$perr" = 0 ] || zt_fail_later "$perr redis parse errors"
zt_pass
