#!/usr/bin/env bash
# DNS through the whole pipeline, against real unbound and dnsmasq, with
# dig (UDP and TCP) and dnsperf as clients and tshark as the oracle:
#   - unbound serves a local zone: A, AAAA, a CNAME to an A, NXDOMAIN for
#     names it does not have, REFUSED for a refused zone, and SERVFAIL for a
#     zone it forwards to dnsmasq, which refuses it;
#   - dig over UDP and over TCP (+tcp), one process per query;
#   - dnsperf for a fixed number of rounds through a query file, in a
#     cgroup of its own (its latency is compared with the agent's).
# Every dig prints its status; the agent's container_dns_requests_total per
# (type, domain, status) must equal the clients' counts, tshark's count of
# answers per rcode must equal the agent's, ip_to_fqdn must map the
# answers; for latency, dnsperf against a server that answers after 2 ms
# (every 10th after 8 ms): the agent's mean, p50 and p99 within 10 % of
# dnsperf's (-v prints each query's latency).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"

for c in unbound dnsmasq dig dnsperf tshark; do command -v $c >/dev/null || zt_skip "$c is not installed"; done
[ -f "$ZT_PLUGIN_DIR/dns.so" ] || zt_fail "dns plugin not built"
PROM=$(zt_free_port)
read -r UP DP SP MP < <(zt_tcp_ports 4) || zt_fail "no free ports"
NA=10 NAAAA=5 NCNAME=5 NNX=5 NREF=3 NSF=3 NTCP=5 PERF_ROUNDS=50 NLAT=200

cat >"$T/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $UP
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$T"
  pidfile: "$T/unbound.pid"
  use-syslog: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  local-zone: "test." static
  local-data: "a.test. 60 IN A 127.0.0.2"
  local-data: "b.test. 60 IN AAAA ::1"
  local-data: "c.test. 60 IN CNAME a.test."
  local-zone: "refused.test." refuse
forward-zone:
  name: "sf.example."
  forward-addr: 127.0.0.1@$DP
remote-control:
  control-enable: no
EOF
zt_tcp_cgroup "zt-$ZT_TEST-$$-srv"
SRV_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg() { # LOG PROCS_VAR CMD...
	local log=$1 var=$2[@] procs
	shift 2
	procs="${!var}"
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
incg_srv "$T/dnsmasq.out" SRV_PROCS dnsmasq -k --no-resolv --no-hosts --listen-address=127.0.0.1 --port="$DP" \
	--bind-interfaces --user=root --pid-file="$T/dnsmasq.pid" --log-facility=/dev/null
incg_srv "$T/unbound.out" SRV_PROCS unbound -d -c "$T/unbound.conf"
zt_wait_until 10 "unbound answers" bash -c "dig +time=1 +tries=1 @127.0.0.1 -p $UP a.test A | grep -q 'status: NOERROR'"

zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PROM")" "$(zt_inst_process)" \
	"    \"dns\": { \"enabled\": true, \"required\": true, \"config\": { \"ports\": [\"$UP\", \"$DP\", \"$SP\", \"53\", \"$MP\"] } }"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 10 "l7 feature up" bash -c "curl -sf http://127.0.0.1:$PROM/metrics | grep -q '^zerotap_feature_up{.*feature=\"l7\".*} 1'"

tshark -i lo -B 64 -f "port $UP" -w "$T/cap.pcapng" >"$T/tshark.out" 2>&1 &
TSH=$!
ZT_PIDS+=("$TSH")
zt_wait_until 10 "tshark capturing" grep -q "Capturing on" "$T/tshark.out"
sleep 0.5

# ---------------------------------------------------------------- clients
cat >"$T/digs.sh" <<EOF
q() { # TYPE NAME [+tcp]
	s=\$(dig +time=3 +tries=1 \$3 @127.0.0.1 -p $UP "\$2" "\$1" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
	echo "\$1 \$2 \${s:-TIMEOUT}"
}
for i in \$(seq $NA); do q A a.test; done
for i in \$(seq $NAAAA); do q AAAA b.test; done
for i in \$(seq $NCNAME); do q A c.test; done
for i in \$(seq $NNX); do q A nx\$i.test; done
for i in \$(seq $NREF); do q A refused.test; done
for i in \$(seq $NSF); do q A x.sf.example; done
for i in \$(seq $NTCP); do q A a.test +tcp; done
echo DONE
EOF
zt_tcp_cgroup "zt-$ZT_TEST-$$-cli"
CLI=$ZT_TCP_CG_ID
CLI_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg "$T/digs.out" CLI_PROCS bash "$T/digs.sh"
zt_wait_until 60 "digs done" grep -q DONE "$T/digs.out"

printf 'a.test A\nb.test AAAA\nnx.test A\n' >"$T/queries"
zt_tcp_cgroup "zt-$ZT_TEST-$$-perf"
PERF=$ZT_TCP_CG_ID
PERF_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg "$T/perf.out" PERF_PROCS dnsperf -s 127.0.0.1 -p "$UP" -d "$T/queries" -n "$PERF_ROUNDS" -Q 500 -c 1
PPID_=$ZT_BG_PID
zt_wait_until 60 "dnsperf done" zt_proc_dead "$PPID_"

# latency: dnsperf, one query at a time, against a server that answers
# after 2 ms (every 10th after 8 ms): a resolver on loopback answers in
# ~0.1 ms, the order of dnsperf's own timing overhead
zt_tcp_cgroup "zt-$ZT_TEST-$$-slow"
SLOW_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg_srv "$T/slowdns.out" SLOW_PROCS /usr/bin/python3 "$ZT_SOURCE_DIR/tests/integration/py/slowdns.py" "$SP" 2 10 8
zt_wait_until 10 "slow DNS server up" grep -q LISTENING "$T/slowdns.out"
printf 'lat.test A\n' >"$T/latq"
zt_tcp_cgroup "zt-$ZT_TEST-$$-lat"
LAT=$ZT_TCP_CG_ID
LAT_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg "$T/lat.out" LAT_PROCS dnsperf -s 127.0.0.1 -p "$SP" -d "$T/latq" -n "$NLAT" -q 1 -c 1 -v
LPID_=$ZT_BG_PID
zt_wait_until 60 "latency dnsperf done" zt_proc_dead "$LPID_"

# ---------------------------------------------------------------- expected
declare -A want
st() { case $1 in NOERROR) echo ok ;; NXDOMAIN) echo nxdomain ;; SERVFAIL) echo servfail ;; REFUSED) echo refused ;; *) echo "$1" ;; esac; }
while read -r t n s; do
	[ "$t" = DONE ] && continue
	[[ $n == nx*.test ]] && n=$n # each NXDOMAIN name is its own domain
	k="Type$t|$n|$(st "$s")"
	want[$k]=$((${want[$k]:-0} + 1))
done <"$T/digs.out"
grep -q TIMEOUT "$T/digs.out" && zt_fail "a dig query timed out: $(grep TIMEOUT "$T/digs.out" | head -3)"
completed=$(awk '/Queries completed:/ { print $3 }' "$T/perf.out")
[ "$completed" = $((3 * PERF_ROUNDS)) ] || zt_fail "dnsperf completed $completed of $((3 * PERF_ROUNDS)) queries"
zt_log "dig: ${#want[@]} (type, domain, status) keys; dnsperf: $completed queries"

sleep 1
kill -INT "$TSH"
wait "$TSH" 2>/dev/null || true
declare -A rc
while read -r r; do
	[ -n "$r" ] && rc[$r]=$((${rc[$r]:-0} + 1))
done < <(tshark -r "$T/cap.pcapng" -d "udp.port==$UP,dns" -d "tcp.port==$UP,dns" -Y "dns.flags.response == 1" \
	-T fields -e dns.flags.rcode 2>/dev/null | tr ',' '\n')
zt_log "tshark answers by rcode: $(for r in "${!rc[@]}"; do printf '%s=%s ' "$r" "${rc[$r]}"; done)"

# ---------------------------------------------------------------- compare
agent() { # CONTAINER TYPE DOMAIN STATUS
	metric_value container_dns_requests_total container_id=\""$1"\" request_type=\""$2"\" domain=\""$3"\" status=\""$4"\" || echo 0
}
# settled CONTAINER WANT: every "TYPE|DOMAIN|STATUS" key of the associative
# array named WANT has its count in CONTAINER's series
settled() {
	local -n w=$2
	local k t d s
	zt_scrape "$PROM" >/dev/null
	for k in "${!w[@]}"; do
		IFS='|' read -r t d s <<<"$k"
		[ "$(agent "$1" "$t" "$d" "$s")" = "${w[$k]}" ] || return 1
	done
}
( zt_wait_until 10 "agent counts settle" settled "$CLI" want ) || true
zt_scrape "$PROM" >/dev/null
zt_series container_dns_requests_total container_id=\""$CLI"\"
for k in "${!want[@]}"; do
	IFS='|' read -r t d s <<<"$k"
	got=$(agent "$CLI" "$t" "$d" "$s")
	[ "$got" = "${want[$k]}" ] || zt_fail_later "dig $t $d $s: agent $got, client ${want[$k]}"
done
# dnsperf's counts per name and type: every round asks each line once
for q in "TypeA a.test ok" "TypeAAAA b.test ok" "TypeA nx.test nxdomain"; do
	read -r t d s <<<"$q"
	got=$(agent "$PERF" "$t" "$d" "$s")
	[ "$got" = "$PERF_ROUNDS" ] || zt_fail_later "dnsperf $t $d $s: agent $got, dnsperf $PERF_ROUNDS"
done
zt_ok "agent counts per (type, domain, status) = dig's and dnsperf's"

# tshark's answers per rcode against the agent's client-side totals
declare -A agent_rc
for s in ok nxdomain servfail refused; do
	agent_rc[$s]=$(zt_series container_dns_requests_total status=\"$s\" | grep -e "container_id=\"$CLI\"" -e "container_id=\"$PERF\"" |
		awk '{ v += $NF } END { printf "%d", v }')
done
[ "${rc[0]:-0}" = "${agent_rc[ok]}" ] || zt_fail_later "NOERROR: tshark ${rc[0]:-0}, agent ${agent_rc[ok]}"
[ "${rc[3]:-0}" = "${agent_rc[nxdomain]}" ] || zt_fail_later "NXDOMAIN: tshark ${rc[3]:-0}, agent ${agent_rc[nxdomain]}"
[ "${rc[2]:-0}" = "${agent_rc[servfail]}" ] || zt_fail_later "SERVFAIL: tshark ${rc[2]:-0}, agent ${agent_rc[servfail]}"
[ "${rc[5]:-0}" = "${agent_rc[refused]}" ] || zt_fail_later "REFUSED: tshark ${rc[5]:-0}, agent ${agent_rc[refused]}"
zt_ok "tshark answers per rcode = agent (ok ${agent_rc[ok]}, nxdomain ${agent_rc[nxdomain]}, servfail ${agent_rc[servfail]}, refused ${agent_rc[refused]})"

# ip_to_fqdn from the answers (the CNAME chain ends at a.test's address)
[ "$(metric_value ip_to_fqdn ip=\"127.0.0.2\" fqdn=\"a.test\" || echo 0)" = 1 ] || zt_fail_later "no ip_to_fqdn{ip=127.0.0.2, fqdn=a.test}"
[ "$(metric_value ip_to_fqdn ip=\"::1\" fqdn=\"b.test\" || echo 0)" = 1 ] || zt_fail_later "no ip_to_fqdn{ip=::1, fqdn=b.test}"

# latency: the slow server's dnsperf against the agent: mean (the METRICS.md
# histogram's sum / count) and p50 / p99 (zerotap_container_l7_latency_seconds)
lcompleted=$(awk '/Queries completed:/ { print $3 }' "$T/lat.out")
[ "$lcompleted" = "$NLAT" ] || zt_fail_later "latency dnsperf completed ${lcompleted:-no} of $NLAT queries"
sleep 1.2 # percentiles are published on the agent's 1 s tick
zt_scrape "$PROM" >/dev/null
n=$(metric_value container_dns_requests_duration_seconds_total_count container_id=\""$LAT"\" || echo 0)
sum=$(metric_value container_dns_requests_duration_seconds_total_sum container_id=\""$LAT"\" || echo 0)
[ "$n" = "$lcompleted" ] || zt_fail_later "latency histogram count $n, dnsperf $lcompleted"
pavg=$(awk '/Average Latency \(s\):/ { printf "%.3f", $4 * 1000 }' "$T/lat.out")
aavg=$(awk -v s="$sum" -v n="$n" 'BEGIN { if (n > 0) printf "%.3f", s / n * 1000; else print 0 }')
zt_log "latency: agent mean $aavg ms, dnsperf average $pavg ms over $n queries"
awk -v a="$aavg" -v p="$pavg" 'BEGIN { d = a - p; if (d < 0) d = -d; exit !(p > 0 && d <= 0.1 * p) }' ||
	zt_fail_later "agent mean latency $aavg ms is not within 10 % of dnsperf's $pavg ms"
# percentiles: dnsperf -v prints each query's latency ("> NOERROR lat.test A 0.002371")
pct() { awk '$1 == ">" { print $NF }' "$T/lat.out" | sort -g | awk -v q="$1" '{ v[NR] = $1 } END { r = int(q * NR); if (r < q * NR) r++; if (r < 1) r = 1; printf "%.3f", v[r] * 1000 }'; }
for q in 50 99; do
	c=$(pct "0.$q")
	a=$(metric_value zerotap_container_l7_latency_seconds container_id=\""$LAT"\" protocol=\"dns\" role=\"client\" percentile=\"$q\") || a=
	a=${a:+$(awk -v v="$a" 'BEGIN { printf "%.3f", v * 1000 }')}
	zt_log "latency p$q: agent ${a:-none} ms, dnsperf ${c:-none} ms"
	[ -n "$a" ] && [ -n "$c" ] && awk -v a="$a" -v c="$c" 'BEGIN { d = a - c; if (d < 0) d = -d; exit !(c > 0 && d <= 0.1 * c) }' ||
		zt_fail_later "agent p$q latency ${a:-none} ms is not within 10 % of dnsperf's ${c:-none} ms"
done
# -------------------------------------------- glibc's resolver (sendmmsg)
# getaddrinfo sends the A and the AAAA query in one sendmmsg call (two
# elements); the agent must count both. resolv.conf takes no port, so a
# dnsmasq answers on 127.0.0.1:53 inside a network namespace of the test,
# and each getent runs there with a resolv.conf bind-mounted in its own
# mount namespace. tshark, in the same network namespace, is the oracle.
NS=zt-dns-$$
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS" && ZT_TCP_NETNS+=("$NS") || zt_fail "ip netns add $NS"
zt_tcp_in_ns "$NS" ip link set lo up
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' >"$T/resolv.conf"
incg_srv "$T/nsdns.out" SRV_PROCS nsenter --net="/run/netns/$NS" dnsmasq -k --no-resolv --no-hosts \
	--listen-address=127.0.0.1 --port=53 --bind-interfaces --user=root --pid-file="$T/nsdns.pid" \
	--log-facility=/dev/null --address=/g.test/127.0.0.9 --address=/g.test/fd00::9 --address=/gone.test/
zt_wait_until 10 "dnsmasq in $NS answers" bash -c \
	"nsenter --net=/run/netns/$NS dig +time=1 +tries=1 @127.0.0.1 g.test A | grep -q 'status: NOERROR'"
# (nsenter execs tshark: $! is tshark itself, which SIGINT stops)
nsenter --net="/run/netns/$NS" tshark -i lo -B 16 -f "udp port 53" -w "$T/gl.pcapng" >"$T/gltshark.out" 2>&1 &
GTSH=$!
ZT_PIDS+=("$GTSH")
zt_wait_until 10 "tshark capturing in $NS" grep -q "Capturing on" "$T/gltshark.out"
sleep 0.5
NGL=20 NGONE=5
zt_tcp_cgroup "zt-$ZT_TEST-$$-glibc"
GL=$ZT_TCP_CG_ID
GL_PROCS=("${ZT_TCP_CG_PROCS[@]}")
{
	echo "mount --bind '$T/resolv.conf' /etc/resolv.conf || exit 1"
	echo "for i in \$(seq $NGL); do nsenter --net=/run/netns/$NS getent ahosts g.test >/dev/null; echo \"g.test \$?\"; done"
	echo "for i in \$(seq $NGONE); do nsenter --net=/run/netns/$NS getent ahosts gone.test >/dev/null; echo \"gone.test \$?\"; done"
	echo "echo DONE"
} >"$T/glibc.sh"
zt_scrape "$PROM" >/dev/null
nkern0=$(metric_value zerotap_l7_kernel_total counter=\"nobuf\" || echo 0)
incg "$T/glibc.out" GL_PROCS unshare -m bash "$T/glibc.sh"
zt_wait_until 60 "getent runs done" grep -q DONE "$T/glibc.out"
[ "$(grep -c '^g.test 0$' "$T/glibc.out")" = "$NGL" ] || zt_fail "getent g.test: $(sort "$T/glibc.out" | uniq -c | tr '\n' ' ')"
[ "$(grep -c '^gone.test 2$' "$T/glibc.out")" = "$NGONE" ] || zt_fail "getent gone.test: $(sort "$T/glibc.out" | uniq -c | tr '\n' ' ')"
sleep 1
kill -INT "$GTSH"
wait "$GTSH" 2>/dev/null || true
# tshark's answers per (type, name, rcode): the agent's keys
declare -A gwant
while read -r qt qn qr; do
	[ -n "$qr" ] || continue
	case $qt in 1) qt=TypeA ;; 28) qt=TypeAAAA ;; *) qt=Type$qt ;; esac
	case $qr in 0) qr=ok ;; 3) qr=nxdomain ;; 2) qr=servfail ;; 5) qr=refused ;; esac
	gwant["$qt|$qn|$qr"]=$((${gwant["$qt|$qn|$qr"]:-0} + 1))
done < <(tshark -r "$T/gl.pcapng" -Y "dns.flags.response == 1" -T fields -e dns.qry.type -e dns.qry.name \
	-e dns.flags.rcode 2>/dev/null)
zt_log "tshark in $NS: $(for k in "${!gwant[@]}"; do printf '%s=%s ' "$k" "${gwant[$k]}"; done)"
[ "${gwant["TypeAAAA|g.test|ok"]:-0}" = "$NGL" ] && [ "${gwant["TypeA|g.test|ok"]:-0}" = "$NGL" ] &&
	[ "${gwant["TypeAAAA|gone.test|nxdomain"]:-0}" = "$NGONE" ] ||
	zt_fail "tshark did not see one A and one AAAA answer per getent run"
( zt_wait_until 10 "agent counts of getent settle" settled "$GL" gwant ) || true
zt_scrape "$PROM" >/dev/null
zt_series container_dns_requests_total domain=\"g.test\"
for k in "${!gwant[@]}"; do
	IFS='|' read -r t d s <<<"$k"
	got=$(agent "$GL" "$t" "$d" "$s")
	[ "$got" = "${gwant[$k]}" ] || zt_fail_later "getent $t $d $s: agent $got, tshark ${gwant[$k]}"
done
nkern=$(metric_value zerotap_l7_kernel_total counter=\"nobuf\" || echo 0)
[ "$nkern" = "$nkern0" ] || zt_fail_later "$((nkern - nkern0)) messages of the getent runs without a locatable buffer"
zt_ok "glibc resolver (A + AAAA in one sendmmsg): agent = tshark for $NGL + $NGONE getent runs"

# ------------------------------------------- a recvmmsg server (vectors)
# the server reads with recvmmsg, one vector reused call after call and
# every call short (non-blocking, ends with EAGAIN): each datagram must be
# parsed from its own element. Client and server are one process: its
# outbound and inbound counts must both be the client's.
zt_tcp_cgroup "zt-$ZT_TEST-$$-mmsg"
MM=$ZT_TCP_CG_ID
MM_PROCS=("${ZT_TCP_CG_PROCS[@]}")
incg "$T/mmsg.out" MM_PROCS /usr/bin/python3 "$ZT_SOURCE_DIR/tests/integration/py/dnsmmsg.py" "$MP"
zt_wait_until 30 "recvmmsg client and server done" grep -q "^sent" "$T/mmsg.out"
read -r _ msent _ mans <"$T/mmsg.out"
[ "$msent" = "$mans" ] && [ "$msent" -gt 0 ] || zt_fail "dnsmmsg: $(cat "$T/mmsg.out")"
mm_out() { zt_series container_dns_requests_total container_id=\""$MM"\" status=\"nxdomain\" | awk '{ v += $NF } END { printf "%d", v }'; }
mm_in() { metric_value zerotap_container_dns_inbound_requests_total container_id=\""$MM"\" status=\"nxdomain\" || echo 0; }
mm_settled() { zt_scrape "$PROM" >/dev/null && [ "$(mm_out)" = "$msent" ] && [ "$(mm_in)" = "$msent" ]; }
( zt_wait_until 10 "agent counts of the recvmmsg server settle" mm_settled ) || true
zt_scrape "$PROM" >/dev/null
[ "$(mm_out)" = "$msent" ] || zt_fail_later "recvmmsg stage: agent outbound $(mm_out), client $msent"
[ "$(mm_in)" = "$msent" ] || zt_fail_later "recvmmsg stage: agent inbound $(mm_in), client $msent"
[ "$(metric_count container_dns_requests_total container_id=\""$MM"\")" = "$msent" ] ||
	zt_fail_later "recvmmsg stage: $(metric_count container_dns_requests_total container_id=\""$MM"\") domains, $msent names asked"
nkern=$(metric_value zerotap_l7_kernel_total counter=\"nobuf\" || echo 0)
[ "$nkern" = "$nkern0" ] || zt_fail_later "$((nkern - nkern0)) messages without a locatable buffer"
zt_ok "recvmmsg server: agent outbound = inbound = client ($msent queries, each name once)"

lost=$(metric_value zerotap_ringbuf_lost_events_total ring=\"l7\" || echo 0)
[ "$lost" = 0 ] || zt_fail_later "$lost l7 events lost"
zt_pass
