#!/usr/bin/env bash
# actual_destination through real DNAT (core/conntrack.c), counted exactly:
#   - a "server" network namespace joined to the host by a veth, with
#     test-only addresses (10.231.X.0/24, fd7a:e7a0:X::/64), a Python
#     listener in it, and nft dnat rules in the host namespace mapping
#     virtual IPs to it (table ip/ip6 zt_nat_test: output for the host's own
#     sockets, prerouting for forwarded ones);
#   - a client in the host namespace: N4 connects to VIP4:VPORT, N6 to
#     [VIP6]:VPORT, one transfer of known size through VIP4:XPORT, and NP
#     connects straight to the server (no NAT: actual_destination must equal
#     destination);
#   - a "container": a second namespace whose default route is the host (per
#     device forwarding on the two host veths only), in a cgroup of its own.
#     NC connects to VIP4 (the entry is in the host namespace; the
#     container's own conntrack is idle and skipped), then an nft output
#     dnat inside the container itself and NO connects to its virtual IP
#     (the entry is in the container's namespace), then NC2 more to VIP4
#     (the container's table is now in use but has no NAT for them: the
#     host's entry must still win), and NP2 straight connects.
# Each series is checked exactly, and so is the absence of any other
# actual_destination for the same destination (a missed lookup would leave
# one equal to the VIP). The clients' own counts and the server's log are
# the reference. All nft tables, namespaces (with their veths, addresses
# and routes) and cgroups are removed on exit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"

N4=30 N6=10 NP=7 NC=20 NO=15 NC2=6 NP2=4
UP=300000 DOWN=200000
VPORT=80 XPORT=81 # virtual ports
P=8080 PX=8081    # the server's real ports (its own namespace: always free)

PROM=$(zt_free_port)
X=$((220 + $$ % 18))
Y=$((X + 18))
NS_S=zt-nat$$-s
NS_C=zt-nat$$-c
DEV_S=ztn${X}s
DEV_C=ztn${X}c
H4=10.231.$X.1 S4=10.231.$X.2 VIP4=10.231.$X.100
H6=fd7a:e7a0:$X::1 S6=fd7a:e7a0:$X::2 VIP6=fd7a:e7a0:$X::100
HC4=10.231.$Y.1 C4=10.231.$Y.2 VIPC=10.231.$Y.200
NAT_TABLES=()

zt_nat_exit() {
	local rc=$? t
	set +e
	for t in "${NAT_TABLES[@]}"; do
		nft delete table $t 2>/dev/null || zt_log "cleanup: nft delete table $t failed"
	done
	(exit "$rc")
	zt_tcp_exit
}
trap zt_nat_exit EXIT

for net in 10.231.$X.0/24 10.231.$Y.0/24 fd7a:e7a0:$X::/64; do
	[ -z "$(ip route show "$net" 2>/dev/null)" ] && [ -z "$(ip -6 route show "$net" 2>/dev/null)" ] ||
		zt_skip "$net is already routed on this host"
done
[ -r /proc/sys/net/netfilter/nf_conntrack_max ] || zt_skip "no nf_conntrack in this kernel"

# ------------------------------------------------------------ the set-up
# host <-> server namespace
for n in "$NS_S" "$NS_C"; do
	ip netns del "$n" 2>/dev/null || true
	ip netns add "$n" && ZT_TCP_NETNS+=("$n") || zt_fail "ip netns add $n"
	ip -n "$n" link set lo up
done
ip link add "$DEV_S" type veth peer name eth0 netns "$NS_S" || zt_fail "veth $DEV_S"
ip link add "$DEV_C" type veth peer name eth0 netns "$NS_C" || zt_fail "veth $DEV_C"
ip addr add "$H4/24" dev "$DEV_S"
ip addr add "$H6/64" dev "$DEV_S" nodad
ip addr add "$HC4/24" dev "$DEV_C"
ip link set "$DEV_S" up
ip link set "$DEV_C" up
ip -n "$NS_S" addr add "$S4/24" dev eth0
ip -n "$NS_S" addr add "$S6/64" dev eth0 nodad
ip -n "$NS_S" link set eth0 up
ip -n "$NS_S" route add default via "$H4"
ip -n "$NS_C" addr add "$C4/24" dev eth0
ip -n "$NS_C" link set eth0 up
ip -n "$NS_C" route add default via "$HC4"
# Forwarding between the two test veths only (IPv4 honours it per device);
# the settings go with the devices.
sysctl -qw "net.ipv4.conf.$DEV_S.forwarding=1" "net.ipv4.conf.$DEV_C.forwarding=1" ||
	zt_fail "per-device forwarding"
zt_log "host $DEV_S $H4 $H6 <-> $NS_S $S4 $S6; host $DEV_C $HC4 <-> $NS_C $C4 (default via host)"

for t in "ip zt_nat_test" "ip6 zt_nat_test"; do nft delete table $t 2>/dev/null || true; done
NAT_TABLES=("ip zt_nat_test" "ip6 zt_nat_test")
nft -f - <<EOF || zt_fail "nft dnat rules"
table ip zt_nat_test {
  chain out {
    type nat hook output priority -100; policy accept;
    ip daddr $VIP4 tcp dport $VPORT counter dnat to $S4:$P
    ip daddr $VIP4 tcp dport $XPORT counter dnat to $S4:$PX
  }
  chain pre {
    type nat hook prerouting priority -100; policy accept;
    ip daddr $VIP4 tcp dport $VPORT counter dnat to $S4:$P
  }
}
table ip6 zt_nat_test {
  chain out {
    type nat hook output priority -100; policy accept;
    ip6 daddr $VIP6 tcp dport $VPORT counter dnat to [$S6]:$P
  }
}
EOF

zt_tcp_server "$T/server.log" "$NS_S" "drain,$S4,$P" "drain,$S6,$P" "reply:$DOWN,$S4,$PX"

zt_tcp_cgroup "zt-$ZT_TEST-$$-host"
ID_H=$ZT_TCP_CG_ID
zt_tcp_client -
CH=("$ZT_TCP_CTL" "$ZT_TCP_CLIENT_LOG" "$ZT_TCP_CLIENT_PID")
zt_tcp_cgroup "zt-$ZT_TEST-$$-ctr"
ID_C=$ZT_TCP_CG_ID
zt_tcp_client "$NS_C"
CC=("$ZT_TCP_CTL" "$ZT_TCP_CLIENT_LOG" "$ZT_TCP_CLIENT_PID")
zt_log "clients: pid ${CH[2]} (host netns, cgroup $ID_H), pid ${CC[2]} (netns $NS_C, cgroup $ID_C); server pid $ZT_TCP_SERVER_PID"

ZT_TCP_AGENT_KEYS='"tcp_poll_interval_ms": 500'
zt_tcp_config "$T/zerotap.json" "$PROM"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
knows_both() { zt_scrape "$PROM" && grep -qF "container_id=\"$ID_H\"" "$ZT_LAST_SCRAPE" && grep -qF "container_id=\"$ID_C\"" "$ZT_LAST_SCRAPE"; }
zt_wait_until 15 "series with container_id $ID_H and $ID_C" knows_both
zt_ok "the agent knows both clients (${ZT_WAITED_MS} ms)"

lk() { zt_tcp_val zerotap_conntrack_lookups_total "result=\"$1\""; }
zt_scrape "$PROM"
for r in translated not_translated not_found failed skipped_loopback skipped_idle skipped_unavailable skipped_netns_gone; do
	printf -v "LK0_$r" '%s' "$(lk "$r")"
done

# conn ID DEST ACTUAL FAMILY : the value of one outbound series
conn() { zt_tcp_val "container_net_tcp_$4" "container_id=\"$1\"" "destination=\"$2\"" "actual_destination=\"$3\""; }
conn_is() { zt_scrape "$PROM" && [ "$(conn "$@")" = "${*: -1}" ]; }
# expect ID DEST ACTUAL FAMILY VALUE
expect() {
	local id=$1 d=$2 act=$3 fam=$4 v=$5
	if (zt_wait_until 10 "$fam{$d -> $act} = $v" conn_is "$id" "$d" "$act" "$fam" "$v") >/dev/null 2>&1; then
		zt_ok "$fam{container_id=\"$id\", destination=\"$d\", actual_destination=\"$act\"} = $v"
	else
		zt_fail_later "$fam{container_id=\"$id\", destination=\"$d\", actual_destination=\"$act\"} is $(conn "$id" "$d" "$act" "$fam"), expected $v"
	fi
}
# only_actual ID DEST ACTUAL : no other actual_destination for DEST
only_actual() {
	local id=$1 d=$2 act=$3 line a n=0
	while read -r line; do
		[ -n "$line" ] || continue
		n=$((n + 1))
		a=$(zt_label_value "$line" actual_destination)
		[ "$a" = "$act" ] || zt_fail_later "container $id, destination $d: a series with actual_destination=\"$a\" (expected only \"$act\"): $line"
	done < <(zt_series container_net_tcp_successful_connects_total "container_id=\"$id\"" "destination=\"$d\"")
	[ "$n" = 1 ] && zt_ok "container $id: every connect to $d has actual_destination $act"
}
check_client() { # FIELD=VALUE... against the last reply
	local kv
	for kv in "$@"; do
		[ "$(zt_tcp_field "${kv%%=*}")" = "${kv#*=}" ] || zt_fail "client reply '$ZT_TCP_REPLY' does not say $kv"
	done
}

D4="$VIP4:$VPORT" A4="$S4:$P"
D6="[$VIP6]:$VPORT" A6="[$S6]:$P"
DX="$VIP4:$XPORT" AX="$S4:$PX"
DC="$VIPC:$VPORT"

# ------------------------------------------------- the host's own sockets
zt_tcp_use "${CH[@]}"
zt_tcp_cmd 60 connect "$VIP4" "$VPORT" "$N4" block 5
check_client ok="$N4" other=0
zt_log "host client, $D4: $ZT_TCP_REPLY"
zt_tcp_cmd 60 connect "$VIP6" "$VPORT" "$N6" block 5
check_client ok="$N6" other=0
zt_log "host client, $D6: $ZT_TCP_REPLY"
zt_tcp_cmd 60 connect "$S4" "$P" "$NP" nonblock 5
check_client ok="$NP" other=0
zt_tcp_cmd 60 xfer "$VIP4" "$XPORT" "$UP" "$DOWN"
check_client sent="$UP" recv="$DOWN"
zt_log "host client, $DX: $ZT_TCP_REPLY"

expect "$ID_H" "$D4" "$A4" successful_connects_total "$N4"
expect "$ID_H" "$D6" "$A6" successful_connects_total "$N6"
expect "$ID_H" "$S4:$P" "$S4:$P" successful_connects_total "$NP"
expect "$ID_H" "$DX" "$AX" successful_connects_total 1
expect "$ID_H" "$DX" "$AX" bytes_sent_total "$UP"
expect "$ID_H" "$DX" "$AX" bytes_received_total "$DOWN"
expect "$ID_H" "$DX" "$AX" active_connections 0

# ---------------------------------------------- a container: host's NAT
zt_tcp_use "${CC[@]}"
zt_tcp_cmd 60 connect "$VIP4" "$VPORT" "$NC" block 5
check_client ok="$NC" other=0
zt_log "container client, $D4 (NAT on the host): $ZT_TCP_REPLY"
expect "$ID_C" "$D4" "$A4" successful_connects_total "$NC"

# ------------------------------------ a container: NAT in its own netns
zt_tcp_in_ns "$NS_C" nft -f - <<EOF || zt_fail "nft dnat inside $NS_C"
table ip zt_nat_ctr {
  chain out {
    type nat hook output priority -100; policy accept;
    ip daddr $VIPC tcp dport $VPORT counter dnat to $S4:$P
  }
}
EOF
zt_tcp_cmd 60 connect "$VIPC" "$VPORT" "$NO" block 5
check_client ok="$NO" other=0
zt_log "container client, $DC (NAT in its own namespace): $ZT_TCP_REPLY"
expect "$ID_C" "$DC" "$A4" successful_connects_total "$NO"

# The container's table is in use now, without NAT for VIP4: the host's
# entry still gives the answer.
zt_tcp_cmd 60 connect "$VIP4" "$VPORT" "$NC2" nonblock 5
check_client ok="$NC2" other=0
expect "$ID_C" "$D4" "$A4" successful_connects_total $((NC + NC2))
zt_tcp_cmd 60 connect "$S4" "$P" "$NP2" block 5
check_client ok="$NP2" other=0
expect "$ID_C" "$S4:$P" "$S4:$P" successful_connects_total "$NP2"

# ------------------------------------------------------ settled, exactly
sleep 1.5
zt_scrape "$PROM" || zt_fail "scrape failed"
cp "$ZT_LAST_SCRAPE" "$T/final.prom"
settled() {
	local got
	got=$(conn "$@")
	[ "$got" = "${*: -1}" ] || zt_fail_later "settled: $4{container_id=\"$1\", destination=\"$2\", actual_destination=\"$3\"} = $got, expected ${*: -1}"
}
settled "$ID_H" "$D4" "$A4" successful_connects_total "$N4"
settled "$ID_H" "$D6" "$A6" successful_connects_total "$N6"
settled "$ID_H" "$S4:$P" "$S4:$P" successful_connects_total "$NP"
settled "$ID_H" "$DX" "$AX" bytes_sent_total "$UP"
settled "$ID_H" "$DX" "$AX" bytes_received_total "$DOWN"
settled "$ID_C" "$D4" "$A4" successful_connects_total $((NC + NC2))
settled "$ID_C" "$DC" "$A4" successful_connects_total "$NO"
settled "$ID_C" "$S4:$P" "$S4:$P" successful_connects_total "$NP2"
only_actual "$ID_H" "$D4" "$A4"
only_actual "$ID_H" "$D6" "$A6"
only_actual "$ID_H" "$DX" "$AX"
only_actual "$ID_H" "$S4:$P" "$S4:$P"
only_actual "$ID_C" "$D4" "$A4"
only_actual "$ID_C" "$DC" "$A4"
only_actual "$ID_C" "$S4:$P" "$S4:$P"
# connection_time follows the same labels
ct=$(conn "$ID_H" "$D4" "$A4" connection_time_seconds_total)
zt_num_gt "$ct" 0 || zt_fail_later "connection_time_seconds_total{destination=\"$D4\", actual_destination=\"$A4\"} = $ct"

# The agent's ctnetlink socket inside the container's namespace goes with
# the namespace's last tracked connection (at the next poll tick), so the
# agent never keeps a dead container's namespace alive.
# (this agent's sockets only: another agent on the host may look too)
nl_users() { zt_tcp_in_ns "$NS_C" ss -H -f netlink -a 2>/dev/null | grep -cE "nft:[^ ]*/$ZT_AGENT_PID( |\$)" || true; }
# (a connection whose open event waited for its process to be known may
# outlive its close in the table until 3 polls miss it: allow for that)
if (zt_wait_until 10 "no ctnetlink socket left in $NS_C" test "$(nl_users)" = 0) >/dev/null 2>&1; then
	zt_ok "no ctnetlink socket left in $NS_C once its connections closed"
else
	zt_scrape "$PROM" >/dev/null
	zt_fail_later "ctnetlink sockets still open in $NS_C: $(zt_tcp_in_ns "$NS_C" ss -H -f netlink -a | grep nft: | tr '\n' ';') (agent: $(zt_series zerotap_tcp_connections | tr '\n' ' ') $(zt_series zerotap_conntrack_sockets | tr '\n' ' ') $(zt_series zerotap_tcp_untracked_total | tr '\n' ' '); tcp in $NS_C: $(zt_tcp_in_ns "$NS_C" ss -Htan | tr '\n' ';'))"
fi

# The server's own account: every connection above reached it.
srv_conns() { grep -c "^CONN peer=$1:" "$T/server.log" || true; }
host_conns=$(($(srv_conns "$H4") + $(srv_conns "$H6")))
ctr_conns=$(srv_conns "$C4")
[ "$host_conns" = $((N4 + N6 + NP + 1)) ] || zt_fail_later "the server saw $host_conns connections from the host, expected $((N4 + N6 + NP + 1))"
[ "$ctr_conns" = $((NC + NO + NC2 + NP2)) ] || zt_fail_later "the server saw $ctr_conns connections from the container, expected $((NC + NO + NC2 + NP2))"
zt_log "server: $host_conns connections from the host, $ctr_conns from the container"
zt_log "nft: $(nft list table ip zt_nat_test | grep -oE 'tcp dport [0-9]+ counter packets [0-9]+' | tr '\n' ';')"

# Self-metrics: every NATed connect was translated, none failed.
for r in translated not_translated not_found failed skipped_loopback skipped_idle skipped_unavailable skipped_netns_gone; do
	v="LK0_$r"
	printf -v "LKD_$r" '%s' "$(zt_tcp_sub "$(lk "$r")" "${!v}")"
done
zt_log "zerotap_conntrack_lookups_total deltas: translated=$LKD_translated not_translated=$LKD_not_translated not_found=$LKD_not_found failed=$LKD_failed skipped_loopback=$LKD_skipped_loopback skipped_idle=$LKD_skipped_idle skipped_unavailable=$LKD_skipped_unavailable skipped_netns_gone=$LKD_skipped_netns_gone"
want=$((N4 + N6 + 1 + NC + NO + NC2))
# Other processes on this machine may add to the counters, never subtract.
((LKD_translated >= want)) || zt_fail_later "lookups{result=\"translated\"} grew by $LKD_translated, expected at least $want"
((LKD_not_translated >= NP + NP2)) || zt_fail_later "lookups{result=\"not_translated\"} grew by $LKD_not_translated, expected at least $((NP + NP2))"
[ "$LKD_failed" = 0 ] || zt_fail_later "lookups{result=\"failed\"} grew by $LKD_failed"
secs=$(zt_tcp_val zerotap_conntrack_lookup_seconds_total)
lookups=$(($(lk translated) + $(lk not_translated) + $(lk not_found)))
zt_log "lookup time: $secs s in total for $lookups lookups since the agent started ($(awk -v s="$secs" -v n="$lookups" 'BEGIN { if (n) printf "%.1f", s * 1e6 / n; else print "-" }') us each, count queries and socket opens included)"

zt_agent_alive || zt_fail "agent died"
zt_pass
