#!/usr/bin/env bash
# RTT from the kernel's smoothed RTT, checked against `ss -ti` for the same
# connection, IPv4 and IPv6. Two network namespaces joined by a veth; the
# client's side is shaped with tbf (4 Mbit/s) and the server reads with a
# 16 KiB receive buffer: one bulk flow (cubic) is held by the receive
# window to a constant amount in flight, well below the tbf's queue limit
# (no drops), so it keeps a steady queue in the tbf and the RTT sits at
# about 30 ms instead of the veth's microseconds, steady to a few percent. Several times during the flow: `ss -ti` rtt, a scrape, `ss
# -ti` again; container_net_latency_seconds{destination_ip} and
# zerotap_container_net_tcp_rtt_seconds{destination} must be within 10% of
# the mean of the two ss readings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"

RATE=4mbit
RCVBUF=16384   # server's SO_RCVBUF: bounds the flow's window, so the queue
SAMPLES=6
TOL=10         # percent
POLL_MS=200    # the agent's sock_diag poll

PROM=$(zt_free_port)
read -r P < <(zt_tcp_ports 1) || zt_fail "no free port"

zt_tcp_cgroup "zt-$ZT_TEST-$$"
ID=$ZT_TCP_CG_ID
zt_tcp_netns_pair "t$$" $((20 + $$ % 200))
zt_tcp_in_ns "$NS_A" tc qdisc add dev "$DEV_A" root tbf rate "$RATE" burst 16kb latency 100ms ||
	zt_fail "tc qdisc add tbf"
zt_log "$(zt_tcp_in_ns "$NS_A" tc qdisc show dev "$DEV_A")"
ZT_TCP_SERVER_OPTS="--rcvbuf $RCVBUF" zt_tcp_server "$T/server.log" "$NS_B" "drain,$B4,$P" "drain,$B6,$P"

ZT_TCP_AGENT_KEYS="\"tcp_poll_interval_ms\": $POLL_MS"
zt_tcp_config "$T/zerotap.json" "$PROM"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_tcp_client "$NS_A"
zt_wait_until 15 "a series with container_id=\"$ID\"" zt_tcp_agent_knows_client "$PROM"
zt_ok "client pid $ZT_TCP_CLIENT_PID in netns $NS_A, container_id=\"$ID\" known (${ZT_WAITED_MS} ms)"

ss_rtt_ms() { # LPORT : the socket's smoothed RTT in ms, as ss prints it
	zt_tcp_in_ns "$NS_A" ss -Htin state established "( sport = :$1 )" |
		grep -oE '(^| )rtt:[0-9.]+/' | head -n 1 | sed -E 's/.*rtt:([0-9.]+)\//\1/'
}
pct() { awk -v a="$1" -v r="$2" 'BEGIN { d = (a - r) / r * 100; printf "%+.1f\n", d }'; }
within() { awk -v p="$1" -v t="$TOL" 'BEGIN { if (p < 0) p = -p; exit !(p <= t) }'; }

TABLE=()
run_family() { # ADDR DEST
	local addr=$1 d=$2 lport i s1 s2 ref lat rtt plat prtt
	zt_tcp_cmd 30 stream "$addr" "$P" cubic
	lport=$(zt_tcp_field lport)
	local held=$ZT_TCP_ID
	sleep 3 # slow start over, the queue in the tbf filling
	# The agent reports the RTT of its last poll (every POLL_MS): compare
	# only once the kernel's RTT is steady. The queue takes longer to
	# settle for some flows (IPv6 rose 12 -> 45 ms over 2 s once).
	steady() {
		local a b
		a=$(ss_rtt_ms "$lport") && sleep 1 && b=$(ss_rtt_ms "$lport") && [ -n "$a" ] && [ -n "$b" ] &&
			awk -v a="$a" -v b="$b" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; exit !(d <= 0.03) }'
	}
	zt_wait_until 20 "ss rtt of sport $lport steady within 3% over 1 s" steady
	# The series appear after the agent's first poll of this connection.
	have_series() {
		zt_scrape "$PROM" && metric_value container_net_latency_seconds "container_id=\"$ID\"" "destination_ip=\"$addr\"" >/dev/null
	}
	if ! (zt_wait_until 10 "container_net_latency_seconds{destination_ip=\"$addr\"}" have_series) >/dev/null 2>&1; then
		zt_fail_later "no container_net_latency_seconds{container_id=\"$ID\",destination_ip=\"$addr\"} during a 3 s flow; the agent has: $(zt_series container_net_latency_seconds "container_id=\"$ID\"" | head -n 3 | tr '\n' ' ')"
	fi
	for ((i = 1; i <= SAMPLES; i++)); do
		local try
		for ((try = 0; try < 5; try++)); do
			s1=$(ss_rtt_ms "$lport")
			zt_scrape "$PROM" || zt_fail "scrape failed"
			s2=$(ss_rtt_ms "$lport")
			[ -n "$s1" ] && [ -n "$s2" ] || zt_fail "ss shows no rtt for sport $lport"
			# a sample is a fair reference when the RTT did not move
			# during it (the agent's value may be POLL_MS old)
			awk -v a="$s1" -v b="$s2" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; exit !(d <= 0.03) }' && break
			zt_log "$d sample $i: ss rtt moved $s1 -> $s2 ms during the scrape; again"
			sleep 0.5
		done
		ref=$(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.3f\n", (a + b) / 2 }')
		lat=$(metric_value container_net_latency_seconds "container_id=\"$ID\"" "destination_ip=\"$addr\"") || lat=
		rtt=$(metric_value zerotap_container_net_tcp_rtt_seconds "container_id=\"$ID\"" "destination=\"$d\"") || rtt=
		lat=${lat:+$(awk -v v="$lat" 'BEGIN { printf "%.3f\n", v * 1000 }')}
		rtt=${rtt:+$(awk -v v="$rtt" 'BEGIN { printf "%.3f\n", v * 1000 }')}
		plat=${lat:+$(pct "$lat" "$ref")}
		prtt=${rtt:+$(pct "$rtt" "$ref")}
		TABLE+=("| $d | $i | $s1 | $s2 | ${lat:--} | ${plat:--} | ${rtt:--} | ${prtt:--} |")
		zt_num_ge "$ref" 10 || zt_fail "ss rtt $ref ms: the shaping did not make the RTT non-trivial"
		if [ -z "$lat" ] || ! within "$plat"; then
			zt_fail_later "$d sample $i: container_net_latency_seconds = ${lat:-none} ms, ss rtt $s1 / $s2 ms (limit ±$TOL%)"
		fi
		if [ -z "$rtt" ] || ! within "$prtt"; then
			zt_fail_later "$d sample $i: zerotap_container_net_tcp_rtt_seconds = ${rtt:-none} ms, ss rtt $s1 / $s2 ms (limit ±$TOL%)"
		fi
		sleep 0.7
	done
	zt_tcp_release 30 "$held"
	zt_log "stream to $d: sent $(zt_tcp_field sent) bytes"
}
run_family "$B4" "$B4:$P"
run_family "$B6" "[$B6]:$P"

echo
echo "| destination | sample | ss rtt before (ms) | ss rtt after (ms) | container_net_latency_seconds (ms) | diff | zerotap_container_net_tcp_rtt_seconds (ms) | diff |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${TABLE[@]}"
echo
zt_agent_alive || zt_fail "agent died"
zt_pass
