#!/usr/bin/env bash
# TCP connects and bytes, counted exactly, with libbpf-tools tcplife and
# tcpstates watching the same connections in the same run:
#   - N successful connects to a Python listener on 127.0.0.1 (half with a
#     blocking connect(), half non-blocking), N6 to ::1;
#   - M refused connects (a closed port) on 127.0.0.1, M6 on ::1;
#   - K connects that time out: a peer inside a network namespace the test
#     creates, blackholed by an nft drop rule (half polled, half with
#     SO_SNDTIMEO), K6 over IPv6;
#   - transfers of known size both ways (different sizes up and down, so a
#     swap shows), IPv4 and IPv6; one held connection for the
#     active_connections gauge;
#   - a connection opened before the agent started (adopted: it shows as
#     active, is not a new connect, and only the bytes sent after the start
#     count);
#   - a short-lived process, new to the agent, that connects and exits at
#     once;
#   - the server's side of the same connections (zerotap inbound families)
#     and the bytes by peer class (same_host for loopback).
# The client runs in a cgroup of its own, and so does the server, so their
# container_ids ("/<cgroup>") are known and nobody else adds to them. The
# programs print their own counts; the agent's deltas must equal them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"

N=50 N6=20 M=20 M6=10 K=10 K6=4 ONE=5
UP4=1000000 DOWN4=1500000 UP6=700000 DOWN6=300000 HELD=4096 PRE0=3000 PRE1=5000
TMO=0.5 # connect timeout towards the blackholed peer, seconds

PROM=$(zt_free_port)
read -r P_OK P_CLOSED P_X P_ACT P_BH P_PRE P_ONE P_NEW < <(zt_tcp_ports 8) || zt_fail "no free ports"
zt_log "ports: listener $P_OK, closed $P_CLOSED, transfer $P_X, held $P_ACT, blackholed $P_BH, pre-existing $P_PRE, short-lived $P_ONE; metrics $PROM"

# ------------------------------------------------------------ the set-up
zt_tcp_netns_pair "c$$" $((20 + $$ % 200))
# The blackhole: whatever reaches the peer's port is dropped (no RST).
zt_tcp_in_ns "$NS_B" nft -f - <<EOF || zt_fail "nft blackhole rule"
table inet zt_blackhole {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport $P_BH counter drop
  }
}
EOF

zt_tcp_cgroup "zt-$ZT_TEST-$$-srv"
SRV=$ZT_TCP_CG_ID
ZT_TCP_SERVER_IN_CG=1 zt_tcp_server "$T/server.log" - drain,127.0.0.1,$P_OK drain,::1,$P_OK \
	"reply:$DOWN4,127.0.0.1,$P_X" "reply:$DOWN6,::1,$P_X" drain,127.0.0.1,$P_ACT \
	drain,127.0.0.1,$P_PRE drain,127.0.0.1,$P_ONE drain,127.0.0.1,$P_NEW
zt_tcp_cgroup "zt-$ZT_TEST-$$"
ID=$ZT_TCP_CG_ID

zt_tcp_client -   # on 127.0.0.1 / ::1
CL=("$ZT_TCP_CTL" "$ZT_TCP_CLIENT_LOG" "$ZT_TCP_CLIENT_PID")
zt_tcp_client "$NS_A" # next to the blackholed peer, same cgroup
CN=("$ZT_TCP_CTL" "$ZT_TCP_CLIENT_LOG" "$ZT_TCP_CLIENT_PID")
zt_log "clients: pid ${CL[2]} (root netns), pid ${CN[2]} (netns $NS_A), both in cgroup $ID; server pid $ZT_TCP_SERVER_PID in cgroup $SRV"

# A connection from before the agent: PRE0 bytes sent, then held open.
zt_tcp_use "${CL[@]}"
zt_tcp_cmd 30 bulk 127.0.0.1 "$P_PRE" "$PRE0" -
PRE_ID=$ZT_TCP_ID

zt_tcp_reference_start tcplife
zt_tcp_reference_start tcpstates

ZT_TCP_AGENT_KEYS='"tcp_poll_interval_ms": 500'
zt_tcp_config "$T/zerotap.json" "$PROM"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 15 "a series with container_id=\"$ID\"" zt_tcp_agent_knows_client "$PROM"
zt_ok "the agent knows container_id=\"$ID\" (${ZT_WAITED_MS} ms)"

D_OK4="127.0.0.1:$P_OK" D_OK6="[::1]:$P_OK"
D_CL4="127.0.0.1:$P_CLOSED" D_CL6="[::1]:$P_CLOSED"
D_X4="127.0.0.1:$P_X" D_X6="[::1]:$P_X"
D_ACT="127.0.0.1:$P_ACT" D_PRE="127.0.0.1:$P_PRE" D_ONE="127.0.0.1:$P_ONE" D_NEW="127.0.0.1:$P_NEW"
D_BH4="$B4:$P_BH" D_BH6="[$B6]:$P_BH"
DESTS=("$D_OK4" "$D_OK6" "$D_CL4" "$D_CL6" "$D_BH4" "$D_BH6" "$D_X4" "$D_X6" "$D_ACT" "$D_PRE" "$D_ONE")
OUT_FAMS=(successful_connects_total failed_connects_total bytes_sent_total bytes_received_total)
IN_FAMS=(inbound_connects_total inbound_bytes_sent_total inbound_bytes_received_total)
IN_DESTS=("$D_OK4|127.0.0.1" "$D_OK6|::1" "$D_X4|127.0.0.1" "$D_X6|::1" "$D_ACT|127.0.0.1" "$D_PRE|127.0.0.1" "$D_ONE|127.0.0.1" "$D_NEW|127.0.0.1")

# Every tracked series is a key "FAMILY|MATCHER ..." (label values have no
# spaces). BASE: its value after the agent started; EXP: the delta it must
# reach. Counters nobody touches must stay at delta 0.
declare -A BASE EXP
KEYS=()
kout() { echo "container_net_tcp_$1|container_id=\"$ID\" destination=\"$2\""; }
kin() { echo "zerotap_container_net_tcp_$1|container_id=\"$SRV\" listen_addr=\"${2%%|*}\" client_ip=\"${2#*|}\""; }
kcls() { echo "zerotap_container_net_bytes_total|container_id=\"$1\" peer_class=\"same_host\" direction=\"$2\""; }
for d in "${DESTS[@]}"; do for f in "${OUT_FAMS[@]}"; do KEYS+=("$(kout "$f" "$d")"); done; done
for d in "${IN_DESTS[@]}"; do for f in "${IN_FAMS[@]}"; do KEYS+=("$(kin "$f" "$d")"); done; done
for c in "$ID" "$SRV"; do for dir in sent received; do KEYS+=("$(kcls "$c" "$dir")"); done; done
kval() { local k=$1; zt_tcp_val "${k%%|*}" ${k#*|}; }
kdelta() { zt_tcp_sub "$(kval "$1")" "${BASE[$1]}"; }

zt_scrape "$PROM" || zt_fail "scrape failed"
for k in "${KEYS[@]}"; do
	BASE[$k]=$(kval "$k")
	EXP[$k]=0
done

kdelta_is() { zt_scrape "$PROM" && [ "$(kdelta "$1")" = "$2" ]; }
# expect KEY N : the delta of KEY must become exactly N (checked again, with
# all the others, at the end).
expect() {
	local k=$1 n=$2
	EXP[$k]=$n
	if (zt_wait_until 10 "$k delta $n" kdelta_is "$k" "$n") >/dev/null 2>&1; then
		zt_ok "${k%%|*}{${k#*|}} delta = $n"
	else
		zt_fail_later "${k%%|*}{${k#*|}} delta is $(kdelta "$k"), expected $n"
	fi
}
expect_add() { local k=$1; expect "$k" $((EXP[$k] + $2)); }

gauge_is() { # FAMILY MATCHERS... VALUE
	local v=${*: -1}
	zt_scrape "$PROM" && [ "$(zt_tcp_val "${@:1:$#-1}")" = "$v" ]
}
expect_gauge() { # WHAT VALUE FAMILY MATCHERS...
	local what=$1 v=$2
	shift 2
	if (zt_wait_until 10 "$what" gauge_is "$@" "$v") >/dev/null 2>&1; then
		zt_ok "$what: $1 = $v"
	else
		zt_fail_later "$what: $1{${*:2}} is '$(zt_tcp_val "$@")', expected $v"
	fi
}

check_client() { # FIELD=VALUE... against the last reply
	local kv
	for kv in "$@"; do
		[ "$(zt_tcp_field "${kv%%=*}")" = "${kv#*=}" ] || zt_fail "client reply '$ZT_TCP_REPLY' does not say $kv"
	done
}

# ------------------------------------------------- the adopted connection
expect_gauge "adopted connection open" 1 container_net_tcp_active_connections "container_id=\"$ID\"" "destination=\"$D_PRE\""
expect_gauge "adopted connection, server side" 1 zerotap_container_net_tcp_inbound_active_connections \
	"container_id=\"$SRV\"" "listen_addr=\"$D_PRE\"" "client_ip=\"127.0.0.1\""
zt_tcp_send_more 30 "$PRE_ID" "$PRE1"
check_client sent="$PRE1" outq=0
expect_add "$(kout bytes_sent_total "$D_PRE")" "$PRE1"
expect_add "$(kin inbound_bytes_received_total "$D_PRE|127.0.0.1")" "$PRE1"
zt_tcp_release 30 "$PRE_ID"
expect_gauge "adopted connection closed" 0 container_net_tcp_active_connections "container_id=\"$ID\"" "destination=\"$D_PRE\""

# -------------------------------------------------------- successful connects
zt_tcp_cmd 60 connect 127.0.0.1 "$P_OK" $((N / 2)) block 5
check_client ok=$((N / 2)) other=0
zt_log "client: $ZT_TCP_REPLY"
expect "$(kout successful_connects_total "$D_OK4")" $((N / 2))
zt_tcp_cmd 60 connect 127.0.0.1 "$P_OK" $((N - N / 2)) nonblock 5
check_client ok=$((N - N / 2)) other=0
zt_log "client: $ZT_TCP_REPLY"
expect "$(kout successful_connects_total "$D_OK4")" "$N"
zt_tcp_cmd 60 connect ::1 "$P_OK" "$N6" block 5
check_client ok="$N6" other=0
expect "$(kout successful_connects_total "$D_OK6")" "$N6"
expect "$(kin inbound_connects_total "$D_OK4|127.0.0.1")" "$N"
expect "$(kin inbound_connects_total "$D_OK6|::1")" "$N6"

# ---------------------------------------------------------- refused connects
zt_tcp_cmd 60 connect 127.0.0.1 "$P_CLOSED" $((M / 2)) block 5
check_client refused=$((M / 2)) other=0
expect "$(kout failed_connects_total "$D_CL4")" $((M / 2))
zt_tcp_cmd 60 connect 127.0.0.1 "$P_CLOSED" $((M - M / 2)) nonblock 5
check_client refused=$((M - M / 2)) other=0
expect "$(kout failed_connects_total "$D_CL4")" "$M"
zt_tcp_cmd 60 connect ::1 "$P_CLOSED" "$M6" nonblock 5
check_client refused="$M6" other=0
expect "$(kout failed_connects_total "$D_CL6")" "$M6"

# ------------------------------------------------------ connects that time out
zt_tcp_use "${CN[@]}"
zt_tcp_cmd 60 connect "$B4" "$P_BH" $((K / 2)) nonblock "$TMO"
check_client timeout=$((K / 2)) other=0
zt_log "client: $ZT_TCP_REPLY"
expect "$(kout failed_connects_total "$D_BH4")" $((K / 2))
zt_tcp_cmd 60 connect "$B4" "$P_BH" $((K - K / 2)) sndtimeo "$TMO"
check_client timeout=$((K - K / 2)) other=0
zt_log "client: $ZT_TCP_REPLY"
expect "$(kout failed_connects_total "$D_BH4")" "$K"
zt_tcp_cmd 60 connect "$B6" "$P_BH" "$K6" nonblock "$TMO"
check_client timeout="$K6" other=0
expect "$(kout failed_connects_total "$D_BH6")" "$K6"
dropped=$(zt_tcp_in_ns "$NS_B" nft list table inet zt_blackhole | grep -oE 'packets [0-9]+' | awk '{ print $2 }')
zt_log "nft blackhole dropped $dropped SYNs"
((dropped >= K + K6)) || zt_fail "nft dropped only $dropped packets, expected at least $((K + K6))"

# ----------------------------------------------------------------- bytes
zt_tcp_use "${CL[@]}"
zt_tcp_cmd 60 xfer 127.0.0.1 "$P_X" "$UP4" "$DOWN4"
check_client sent="$UP4" recv="$DOWN4"
zt_log "client: $ZT_TCP_REPLY"
zt_tcp_cmd 60 xfer ::1 "$P_X" "$UP6" "$DOWN6"
check_client sent="$UP6" recv="$DOWN6"
zt_log "client: $ZT_TCP_REPLY"
expect "$(kout successful_connects_total "$D_X4")" 1
expect "$(kout successful_connects_total "$D_X6")" 1
expect "$(kout bytes_sent_total "$D_X4")" "$UP4"
expect "$(kout bytes_received_total "$D_X4")" "$DOWN4"
expect "$(kout bytes_sent_total "$D_X6")" "$UP6"
expect "$(kout bytes_received_total "$D_X6")" "$DOWN6"
expect "$(kin inbound_connects_total "$D_X4|127.0.0.1")" 1
expect "$(kin inbound_connects_total "$D_X6|::1")" 1
expect "$(kin inbound_bytes_received_total "$D_X4|127.0.0.1")" "$UP4"
expect "$(kin inbound_bytes_sent_total "$D_X4|127.0.0.1")" "$DOWN4"
expect "$(kin inbound_bytes_received_total "$D_X6|::1")" "$UP6"
expect "$(kin inbound_bytes_sent_total "$D_X6|::1")" "$DOWN6"

# --------------------------------------------------- one held connection
zt_tcp_cmd 30 bulk 127.0.0.1 "$P_ACT" "$HELD" -
held=$ZT_TCP_ID
expect_gauge "one connection open" 1 container_net_tcp_active_connections "container_id=\"$ID\"" "destination=\"$D_ACT\""
expect_gauge "one connection open, server side" 1 zerotap_container_net_tcp_inbound_active_connections \
	"container_id=\"$SRV\"" "listen_addr=\"$D_ACT\"" "client_ip=\"127.0.0.1\""
zt_tcp_release 30 "$held"
expect_gauge "after close" 0 container_net_tcp_active_connections "container_id=\"$ID\"" "destination=\"$D_ACT\""
expect_gauge "after close, server side" 0 zerotap_container_net_tcp_inbound_active_connections \
	"container_id=\"$SRV\"" "listen_addr=\"$D_ACT\"" "client_ip=\"127.0.0.1\""
expect "$(kout successful_connects_total "$D_ACT")" 1
expect "$(kout bytes_sent_total "$D_ACT")" "$HELD"
expect "$(kin inbound_connects_total "$D_ACT|127.0.0.1")" 1
expect "$(kin inbound_bytes_received_total "$D_ACT|127.0.0.1")" "$HELD"

# ------------------------------------------- a short-lived, unknown process
zt_tcp_oneshot "$T/oneshot.log" 127.0.0.1 "$P_ONE" "$ONE"
check_client ok="$ONE"
zt_log "short-lived client: $ZT_TCP_REPLY (exited)"
expect "$(kout successful_connects_total "$D_ONE")" "$ONE"
expect "$(kin inbound_connects_total "$D_ONE|127.0.0.1")" "$ONE"

# ------------------------- the first process of a new cgroup, gone at once
# Each of these cgroups is new and its only process moves in, execs bash,
# connects once and exits within a few ms: gone before the agent reads its
# exec event, in a cgroup no process was resolved in before. The exec
# event's cgroup id names the container (opened by id on cgroupfs); its
# parent's cgroup (this shell's) would be wrong.
NNEW=3
for i in $(seq $NNEW); do
	zt_tcp_cgroup "zt-$ZT_TEST-$$-new$i"
	NEWID[i]=$ZT_TCP_CG_ID
	(zt_tcp_cg_exec bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_NEW") || zt_fail "connect to $D_NEW from cgroup $i failed"
done
for i in $(seq $NNEW); do
	k="container_net_tcp_successful_connects_total|container_id=\"${NEWID[i]}\" destination=\"$D_NEW\""
	KEYS+=("$k")
	BASE[$k]=0 # a new container
	expect "$k" 1
done
expect "$(kin inbound_connects_total "$D_NEW|127.0.0.1")" $NNEW

# ------------------------------------------------------- bytes by peer class
# Every byte above went over loopback: same_host, both containers.
expect "$(kcls "$ID" sent)" $((PRE1 + UP4 + UP6 + HELD))
expect "$(kcls "$ID" received)" $((DOWN4 + DOWN6))
expect "$(kcls "$SRV" sent)" $((DOWN4 + DOWN6))
expect "$(kcls "$SRV" received)" $((PRE1 + UP4 + UP6 + HELD))

# ------------------------------------------ everything, once more, settled
sleep 2
zt_tcp_reference_stop tcplife
zt_tcp_reference_stop tcpstates
zt_scrape "$PROM" || zt_fail "scrape failed"
cp "$ZT_LAST_SCRAPE" "$T/final.prom"
settled_bad=0
for k in "${KEYS[@]}"; do
	got=$(kdelta "$k")
	if [ "$got" != "${EXP[$k]}" ]; then
		zt_fail_later "settled: ${k%%|*}{${k#*|}} delta is $got, expected ${EXP[$k]}"
		settled_bad=$((settled_bad + 1))
	fi
done
for d in "${DESTS[@]}"; do
	a=$(zt_tcp_val container_net_tcp_active_connections "container_id=\"$ID\"" "destination=\"$d\"")
	[ "$a" = 0 ] || zt_fail_later "settled: active_connections{destination=\"$d\"} = $a, expected 0"
done
((settled_bad)) || zt_ok "settled, 2 s later: all ${#KEYS[@]} tracked series at their expected deltas (untouched ones at 0)"

# actual_destination: no NAT here, so it equals destination.
while read -r line; do
	[ -n "$line" ] || continue
	dst=$(zt_label_value "$line" destination) || continue
	act=$(zt_label_value "$line" actual_destination) || { zt_fail_later "no actual_destination label: $line"; continue; }
	[ "$dst" = "$act" ] || zt_fail_later "actual_destination \"$act\" != destination \"$dst\" without NAT: $line"
done < <(zt_series container_net_tcp_successful_connects_total "container_id=\"$ID\"")

# Connection time: sum of connect() durations. Loopback connects take
# microseconds; refused and timed-out connects are not successful ones.
ct=$(zt_tcp_val container_net_tcp_connection_time_seconds_total "container_id=\"$ID\"" "destination=\"$D_OK4\"")
if zt_num_gt "$ct" 0 && zt_num_gt 1 "$ct"; then
	zt_ok "connection_time_seconds_total{destination=\"$D_OK4\"} = $ct s for $N loopback connects"
else
	zt_fail_later "connection_time_seconds_total{destination=\"$D_OK4\"} = $ct s for $N loopback connects, expected 0 < x < 1"
fi

# ------------------------------------------------------ the BPF references
# tcplife: one line per closed session; client sessions carry the client's
# PID (tcplife takes it at SYN_SENT). TX_KB/RX_KB are bytes / 1024, printed
# with two decimals (so about ±5 bytes).
tl_count() { awk -v pid="$1" -v a="$2" -v p="$3" '$1 == pid && $5 == a && $6 == p { n++ } END { print n + 0 }' "$T/tcplife.out"; }
tl_bytes() { # PID ADDR PORT COLUMN(7 tx, 8 rx)
	awk -v pid="$1" -v a="$2" -v p="$3" -v c="$4" '$1 == pid && $5 == a && $6 == p { s += $c } END { printf "%.0f\n", s * 1024 }' "$T/tcplife.out"
}
# tcpstates: SYN_SENT -> ESTABLISHED / CLOSE transitions towards ADDR:PORT.
ts_count() { awk -v a="$1" -v p="$2" -v to="$3" '$7 == a && $8 == p && $9 == "SYN_SENT" && $11 == to { n++ } END { print n + 0 }' "$T/tcpstates.out"; }

addr_of() { local d=${1%:*}; d=${d#[}; echo "${d%]}"; }
port_of() { echo "${1##*:}"; }

TABLE=$T/comparison.md
{
	echo "| destination | client did | agent connects ok / failed | tcplife sessions | tcpstates SYN_SENT→ESTABLISHED / →CLOSE | client bytes sent / received | agent bytes sent / received | tcplife TX / RX (bytes, from KB) |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$TABLE"
row() { # DEST PID SESSIONS WHAT CLIENT_SENT CLIENT_RECV
	local d=$1 pid=$2 want=$3 what=$4 a p ok fl bs br tls tsok tscl tlx tlr
	a=$(addr_of "$d")
	p=$(port_of "$d")
	ok=$(kdelta "$(kout successful_connects_total "$d")")
	fl=$(kdelta "$(kout failed_connects_total "$d")")
	bs=$(kdelta "$(kout bytes_sent_total "$d")")
	br=$(kdelta "$(kout bytes_received_total "$d")")
	tls=$(tl_count "$pid" "$a" "$p")
	tlx=$(tl_bytes "$pid" "$a" "$p" 7)
	tlr=$(tl_bytes "$pid" "$a" "$p" 8)
	tsok=$(ts_count "$a" "$p" ESTABLISHED)
	tscl=$(ts_count "$a" "$p" CLOSE)
	printf '| %s | %s | %s / %s | %s | %s / %s | %s / %s | %s / %s | %s / %s |\n' \
		"$d" "$what" "$ok" "$fl" "$tls" "$tsok" "$tscl" "$5" "$6" "$bs" "$br" "$tlx" "$tlr" >>"$TABLE"
	# the references are not what is tested, but a difference is worth a line
	[ "$tls" = "$want" ] || zt_log "note: tcplife shows $tls sessions for $d, the client made $want"
}
ONE_PID=$(grep -o 'pid=[0-9]*' "$T/oneshot.log" | cut -d= -f2)
row "$D_OK4" "${CL[2]}" "$N" "$((N / 2)) blocking + $((N - N / 2)) non-blocking connects" 0 0
row "$D_OK6" "${CL[2]}" "$N6" "$N6 connects" 0 0
row "$D_CL4" "${CL[2]}" "$M" "$((M / 2)) + $((M - M / 2)) refused (closed port)" 0 0
row "$D_CL6" "${CL[2]}" "$M6" "$M6 refused" 0 0
row "$D_BH4" "${CN[2]}" "$K" "$((K / 2)) + $((K - K / 2)) timed out (${TMO} s, nft drop)" 0 0
row "$D_BH6" "${CN[2]}" "$K6" "$K6 timed out" 0 0
row "$D_X4" "${CL[2]}" 1 "1 transfer" "$UP4" "$DOWN4"
row "$D_X6" "${CL[2]}" 1 "1 transfer" "$UP6" "$DOWN6"
row "$D_ACT" "${CL[2]}" 1 "1 held connection" "$HELD" 0
row "$D_PRE" "${CL[2]}" 1 "opened before the agent ($PRE0 B), then $PRE1 B" "$PRE1" 0
row "$D_ONE" "$ONE_PID" "$ONE" "$ONE connects by a process that then exits" 0 0
echo
cat "$TABLE"
echo
echo "(tcplife and tcpstates only know connections that changed state while they ran: the pre-existing one is opened before they start.)"
echo

# --------------------------------------------------------- exposition lint
if command -v promtool >/dev/null; then
	awk '/^# (HELP|TYPE) / { keep = ($3 ~ /^(zerotap_)?container_net_/) } !/^#/ { n = $0; sub(/[{ ].*/, "", n); keep = (n ~ /^(zerotap_)?container_net_/) } keep' \
		"$T/final.prom" >"$T/net.prom"
	if promtool check metrics <"$T/net.prom" >"$T/promtool.out" 2>&1; then
		zt_ok "promtool check metrics: the $(grep -c '^# TYPE' "$T/net.prom") container_net families are clean"
	else
		zt_fail_later "promtool check metrics: $(head -n 5 "$T/promtool.out" | tr '\n' ' ')"
	fi
fi

zt_agent_alive || zt_fail "agent died"
zt_pass
