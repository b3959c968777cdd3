#!/usr/bin/env bash
# Retransmits, exactly as the kernel counts them. Two network namespaces
# joined by a veth; in the server's namespace an nft table drops the first
# SYN of every connection (one SYN retransmission each, deterministic) and
# then a random 20% of the client's packets (`numgen random mod 10 < 2`).
# Each connection sends a known amount, waits until all of it is
# acknowledged, and holds still: the drop rules go away, `ss -ti` in the
# client's namespace reads the socket's total_retrans (tcpi_total_retrans),
# and only then does the client close (so no retransmission can follow the
# reading). The agent's container_net_tcp_retransmits_total delta for the
# destination must equal that figure after each connection. A bpftrace
# count of the tcp:tcp_retransmit_skb tracepoint is printed next to it when
# bpftrace is installed (for information: that tracepoint fires once per
# retransmitted skb, which may carry several segments, and also for tail
# loss probes, which total_retrans does not count).
# The same bytes check the traffic-cost classes: the agent's zone is
# "zone-a", the v4 peer's /24 is mapped to "zone-b" (other_zone) and the v6
# peer's /64 to "zone-a" (same_zone).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"

C4=3 C6=2            # connections per family
UP=2000000           # bytes each connection sends
LOSS=2               # tenths of the client's packets dropped

PROM=$(zt_free_port)
read -r P < <(zt_tcp_ports 1) || zt_fail "no free port"

zt_tcp_cgroup "zt-$ZT_TEST-$$"
ID=$ZT_TCP_CG_ID
zt_tcp_netns_pair "r$$" $((20 + $$ % 200))
zt_tcp_server "$T/server.log" "$NS_B" "drain,$B4,$P" "drain,$B6,$P"

loss_on() {
	zt_tcp_in_ns "$NS_B" nft -f - <<EOF || zt_fail "nft loss rules"
table inet zt_loss {
  set synseen { type inet_service; size 65536; }
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport $P tcp flags & (syn | ack) == syn tcp sport != @synseen add @synseen { tcp sport } counter drop
    tcp dport $P numgen random mod 10 < $LOSS counter drop
  }
}
EOF
}
loss_off() { # sets DROPS to "first-SYN drops/random drops"
	DROPS=$(zt_tcp_in_ns "$NS_B" nft list table inet zt_loss | grep -oE 'packets [0-9]+' | awk '{ print $2 }' | paste -sd/)
	zt_tcp_in_ns "$NS_B" nft delete table inet zt_loss || zt_fail "nft delete table"
}

BT=
if command -v bpftrace >/dev/null; then
	zt_bg "$T/bpftrace.out" timeout -s INT 600 bpftrace -e "
tracepoint:tcp:tcp_retransmit_skb /args->dport == $P/ { @hits[args->sport] = count(); }
BEGIN { printf(\"ATTACHED\\n\"); }"
	BT=$ZT_BG_PID
	zt_wait_until 30 "bpftrace attached" grep -q ATTACHED "$T/bpftrace.out"
fi

ZT_TCP_AGENT_KEYS="\"tcp_poll_interval_ms\": 200, \"az\": \"zone-a\",
    \"zones\": { \"${B4%.*}.0/24\": \"zone-b\", \"${B6%::*}::/64\": \"zone-a\" }"
zt_tcp_config "$T/zerotap.json" "$PROM"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_tcp_client "$NS_A"
zt_wait_until 15 "a series with container_id=\"$ID\"" zt_tcp_agent_knows_client "$PROM"
zt_ok "client pid $ZT_TCP_CLIENT_PID in netns $NS_A, container_id=\"$ID\" known (${ZT_WAITED_MS} ms)"

val() { zt_tcp_val "$1" "container_id=\"$ID\"" "destination=\"$2\""; }
D4="$B4:$P" D6="[$B6]:$P"
zt_scrape "$PROM" || zt_fail "scrape failed"
declare -A BASE SUM SENT_SUM
cls() { zt_tcp_val zerotap_container_net_bytes_total "container_id=\"$ID\"" "peer_class=\"$1\"" "direction=\"$2\""; }
for c in same_zone other_zone; do for dir in sent received; do BASE[$c,$dir]=$(cls $c $dir); done; done
for d in "$D4" "$D6"; do
	for f in retransmits_total successful_connects_total bytes_sent_total connection_time_seconds_total; do
		BASE[$f,$d]=$(val "container_net_tcp_$f" "$d")
	done
	SUM[$d]=0
	SENT_SUM[$d]=0
done
delta() { zt_tcp_sub "$(val "container_net_tcp_$1" "$2")" "${BASE[$1,$2]}"; }
delta_is() { zt_scrape "$PROM" && [ "$(delta "$1" "$2")" = "$3" ]; }

ROWS=()
run_conn() { # ADDR DEST
	local addr=$1 d=$2 lport info live tr br hold_ms connect_ms agent
	loss_on
	zt_tcp_cmd 180 bulk "$addr" "$P" "$UP" -
	lport=$(zt_tcp_field lport)
	hold_ms=$(zt_tcp_field ms)
	connect_ms=$(zt_tcp_field connect_ms)
	[ "$(zt_tcp_field outq)" = 0 ] || zt_fail "not everything was acknowledged: $ZT_TCP_REPLY"
	loss_off
	# The socket holds still now: nothing unacknowledged, no rule dropping.
	info=$(zt_tcp_in_ns "$NS_A" ss -Htin state established "( sport = :$lport )")
	[ -n "$info" ] || zt_fail "ss shows no established socket with sport $lport in $NS_A"
	tr=$(grep -oE '(^| )retrans:[0-9]+/[0-9]+' <<<"$info" | head -n 1 | cut -d/ -f2)
	tr=${tr:-0}
	br=$(grep -oE 'bytes_retrans:[0-9]+' <<<"$info" | cut -d: -f2)
	# While it is open, the agent's polls (sock_diag in the client's
	# namespace) must already show the socket's counters...
	live=ok
	if ! (zt_wait_until 5 "live retransmits" delta_is retransmits_total "$d" $((SUM[$d] + tr))) >/dev/null 2>&1; then
		live="$(delta retransmits_total "$d")≠$((SUM[$d] + tr))"
		zt_fail_later "$d sport $lport, still open: agent's retransmits_total delta $(delta retransmits_total "$d"), expected $((SUM[$d] + tr)) from its polls"
	fi
	SENT_SUM[$d]=$((SENT_SUM[$d] + UP))
	if ! (zt_wait_until 5 "live bytes" delta_is bytes_sent_total "$d" "${SENT_SUM[$d]}") >/dev/null 2>&1; then
		zt_fail_later "$d sport $lport, still open: agent's bytes_sent_total delta $(delta bytes_sent_total "$d"), expected ${SENT_SUM[$d]} from its polls"
	fi
	# ... and the close must add nothing more.
	zt_tcp_release 30 "$ZT_TCP_ID"
	SUM[$d]=$((SUM[$d] + tr))
	if (zt_wait_until 10 "retransmits_total{$d} delta ${SUM[$d]}" delta_is retransmits_total "$d" "${SUM[$d]}") >/dev/null 2>&1; then
		zt_ok "$d sport $lport: ss total_retrans $tr; agent's retransmits_total delta ${SUM[$d]} (sum so far) while open (from polls: $live) and after close"
	else
		zt_fail_later "$d sport $lport: ss total_retrans $tr, sum so far ${SUM[$d]}, agent's retransmits_total delta $(delta retransmits_total "$d")"
	fi
	agent=$(delta retransmits_total "$d")
	ROWS+=("$d|$lport|$connect_ms|$hold_ms|$DROPS|$tr|${br:-0}|$agent")
}

for ((i = 0; i < C4; i++)); do run_conn "$B4" "$D4"; done
for ((i = 0; i < C6; i++)); do run_conn "$B6" "$D6"; done

# ---------------------------------------------------------- settled
sleep 2
zt_scrape "$PROM" || zt_fail "scrape failed"
for d in "$D4" "$D6"; do
	n=$C4
	[ "$d" = "$D6" ] && n=$C6
	got=$(delta retransmits_total "$d")
	[ "$got" = "${SUM[$d]}" ] || zt_fail_later "settled: retransmits_total{destination=\"$d\"} delta $got, kernel total_retrans sum ${SUM[$d]}"
	((SUM[$d] >= n)) || zt_fail "only ${SUM[$d]} retransmits over $n connections to $d: the loss rules did not bite"
	got=$(delta successful_connects_total "$d")
	[ "$got" = "$n" ] || zt_fail_later "successful_connects_total{destination=\"$d\"} delta $got, expected $n"
	got=$(delta bytes_sent_total "$d")
	[ "$got" = "$((n * UP))" ] || zt_fail_later "bytes_sent_total{destination=\"$d\"} delta $got, expected $((n * UP)) (retransmitted bytes are not payload)"
	# every connect waited for one SYN retransmission (>= 1 s initial RTO)
	ct=$(delta connection_time_seconds_total "$d")
	if zt_num_ge "$ct" "$n" && zt_num_gt $((n * 10)) "$ct"; then
		zt_ok "connection_time_seconds_total{destination=\"$d\"} delta $ct s for $n connects whose first SYN was dropped"
	else
		zt_fail_later "connection_time_seconds_total{destination=\"$d\"} delta $ct s for $n connects whose first SYN was dropped, expected >= $n s"
	fi
done

# Traffic cost: every byte went to the v4 peer (other zone) or the v6 peer
# (same zone); nothing came back but ACKs.
for c in other_zone:$((C4 * UP)) same_zone:$((C6 * UP)); do
	for dir in sent received; do
		want=${c#*:}
		[ "$dir" = received ] && want=0
		got=$(zt_tcp_sub "$(cls "${c%%:*}" $dir)" "${BASE[${c%%:*},$dir]}")
		if [ "$got" = "$want" ]; then
			zt_ok "zerotap_container_net_bytes_total{peer_class=\"${c%%:*}\",direction=\"$dir\"} delta $got"
		else
			zt_fail_later "zerotap_container_net_bytes_total{peer_class=\"${c%%:*}\",direction=\"$dir\"} delta $got, expected $want"
		fi
	done
done

declare -A HITS
if [ -n "$BT" ]; then
	kill -INT "$BT"
	for ((i = 0; i < 100; i++)); do zt_proc_alive "$BT" || break; sleep 0.05; done
	zt_reap "$BT"
	while read -r sp n; do HITS[$sp]=$n; done < <(sed -nE 's/^@hits\[([0-9]+)\]: ([0-9]+)$/\1 \2/p' "$T/bpftrace.out")
fi

echo
echo "| destination | client port | connect ms | send+ack ms | nft drops (first SYN / random) | ss total_retrans | ss bytes_retrans | tracepoint hits | agent retransmits_total (cumulative) |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in "${ROWS[@]}"; do
	IFS='|' read -r d lp cm hm dr tr br ag <<<"$r"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$d" "$lp" "$cm" "$hm" "$dr" "$tr" "$br" "${HITS[$lp]:--}" "$ag"
done
echo
zt_agent_alive || zt_fail "agent died"
zt_pass
