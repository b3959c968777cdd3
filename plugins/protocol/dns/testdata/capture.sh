#!/usr/bin/env bash
# Recaptures the golden DNS exchanges on loopback (Debian 12, as root):
#   bash capture.sh OUT_DIR            (ONLY=regex: just the captures whose name matches)
# writes OUT_DIR/pcap/*.pcapng and OUT_DIR/*.txt (golden files). Message ids
# and cookies are random, so the bytes differ from the committed files, but
# every expectation line must come out the same (checked by hand when the
# files were made: `diff <(grep -v '^[0-9#]' a) <(grep -v '^[0-9#]' b)`).
# Needs: unbound dnsmasq bind9-dnsutils dnsperf tshark (apt). Servers bind
# 127.0.0.1 / ::1 only; local zones answer loopback addresses only; the
# "broken." zone forwards to a closed loopback port, so nothing ever leaves
# the machine. glibc's resolver is pointed at 127.0.0.1 inside a private
# mount namespace (unshare -m), the host's /etc/resolv.conf is not touched.
set -euo pipefail
OUT=$(realpath "${1:?usage: capture.sh OUT_DIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
TB=$(mktemp -d /tmp/dnscap.XXXXXX)
mkdir -p "$OUT/pcap"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$TB"
}
trap cleanup EXIT

cat >"$TB/unbound.conf" <<EOC
server:
  interface: 127.0.0.1
  interface: ::1
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$TB"
  pidfile: "$TB/unbound.pid"
  use-syslog: no
  logfile: ""
  access-control: 127.0.0.0/8 allow
  access-control: ::1/128 allow
  do-not-query-localhost: no
  module-config: "iterator"
  local-zone: "test." static
  local-data: "a.test. 60 IN A 127.0.0.2"
  local-data: "b.test. 60 IN AAAA ::1"
  local-data: "both.test. 300 IN A 127.0.0.3"
  local-data: "both.test. 300 IN AAAA ::1"
  local-data: "multi.test. 60 IN A 127.0.0.4"
  local-data: "multi.test. 60 IN A 127.0.0.5"
  local-data: "multi.test. 60 IN A 127.0.0.6"
  local-data: "mail.test. 60 IN MX 10 a.test."
  local-data: "txt.test. 60 IN TXT \"hello world\""
  local-data: "_sip._udp.test. 60 IN SRV 0 5 5060 a.test."
  local-data: "2.0.0.127.in-addr.arpa. 60 IN PTR a.test."
  local-zone: "0.0.127.in-addr.arpa." static
$(for i in $(seq 1 40); do echo "  local-data: \"big.test. 60 IN A 127.0.1.$i\""; done)
  local-zone: "refused.test." refuse
  local-zone: "broken." nodefault
  local-zone: "dm." nodefault
  domain-insecure: "dm."
  forward-zone:
    name: "broken."
    forward-addr: 127.0.0.1@5399
forward-zone:
    name: "dm."
    forward-addr: 127.0.0.1@5302
remote-control:
  control-enable: no
EOC
unbound-checkconf "$TB/unbound.conf" >/dev/null
unbound -d -c "$TB/unbound.conf" >"$TB/unbound.log" 2>&1 & PIDS+=($!)
dnsmasq -k --no-resolv --no-hosts --listen-address=127.0.0.1 --port=5302 --bind-interfaces \
	--host-record=web.dm,127.0.0.7,::1 --cname=www.dm,web.dm --cname=alias.dm,www.dm \
	--user=root --pid-file="$TB/dnsmasq.pid" --log-facility=- >"$TB/dnsmasq.log" 2>&1 & PIDS+=($!)
for i in $(seq 1 100); do dig +time=1 +tries=1 @127.0.0.1 a.test >/dev/null 2>&1 && break; sleep 0.05; done
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' >"$TB/resolv.conf"
printf 'nameserver 127.0.0.1\noptions use-vc timeout:2 attempts:1\n' >"$TB/resolv-tcp.conf"
printf 'nameserver ::1\noptions timeout:2 attempts:1\n' >"$TB/resolv6.conf"
glibc() { unshare -m bash -c "mount --bind $1 /etc/resolv.conf && $2"; }

cap() { # cap NAME PORTS COMMENT COMMAND; ONLY=regex in the environment limits the captures made
	local name=$1 ports=$2 comment=$3 ts
	[[ -z ${ONLY:-} || $name =~ $ONLY ]] || return 0
	rm -f "$OUT/pcap/$name.pcapng"
	tshark -i lo -f 'udp port 53 or tcp port 53 or udp port 5302 or tcp port 5302' -w "$OUT/pcap/$name.pcapng" -q 2>/dev/null &
	ts=$!
	# dumpcap needs a moment (more on a loaded machine) before it sees packets
	for i in $(seq 1 100); do [ -s "$OUT/pcap/$name.pcapng" ] && break; sleep 0.1; done
	sleep 1.5
	bash -c "$4" >"$TB/$name.out" 2>&1 || true
	sleep 1
	kill -INT $ts; wait $ts || true
	/usr/bin/python3 "$HERE/pcap2golden.py" "$OUT/pcap/$name.pcapng" "$ports" "$comment" >"$OUT/$name.txt"
	echo "$name: $(grep -c '^[0-9]' "$OUT/$name.txt") messages"
}
export -f glibc
export TB

cap udp_dig_a 53 "dig 9.18 @127.0.0.1 a.test A -> unbound 1.17.1 local-data (EDNS, cookie)" 'dig @127.0.0.1 a.test A'
cap udp_dig_aaaa_v6 53 "dig @::1 b.test AAAA -> unbound (IPv6 transport)" 'dig @::1 b.test AAAA'
cap udp_dig_nxdomain 53 "dig @127.0.0.1 nope.test A -> unbound static zone: NXDOMAIN" 'dig @127.0.0.1 nope.test A'
cap udp_dig_refused 53,5302 "dig x.refused.test (unbound local-zone refuse) and dig -p 5302 unknown.example (dnsmasq without upstream): REFUSED" \
	'dig @127.0.0.1 x.refused.test A; dig @127.0.0.1 -p 5302 unknown.example A'
cap udp_dig_types 53 "dig MX, TXT, SRV, PTR (-x), SOA, NS -> unbound" \
	'dig @127.0.0.1 mail.test MX; dig @127.0.0.1 txt.test TXT; dig @127.0.0.1 _sip._udp.test SRV; dig @127.0.0.1 -x 127.0.0.2; dig @127.0.0.1 test SOA; dig @127.0.0.1 test NS'
cap udp_cname_chain 5302 "dig -p 5302 alias.dm A / www.dm AAAA -> dnsmasq 2.90 --cname chain (alias -> www -> web)" \
	'dig @127.0.0.1 -p 5302 alias.dm A; dig @127.0.0.1 -p 5302 www.dm AAAA'
cap tcp_dig 53 "dig +tcp a.test A, multi.test A, nope.test AAAA -> unbound (one connection each)" \
	'dig +tcp @127.0.0.1 a.test A; dig +tcp @127.0.0.1 multi.test A; dig +tcp @127.0.0.1 nope.test AAAA'
cap udp_tc_then_tcp 53 "dig +noedns big.test A: 40 A records, truncated (TC) over UDP, retried over TCP (668-byte answer)" \
	'dig +noedns @127.0.0.1 big.test A'
cap glibc_udp 53 "glibc 2.36 resolver: getent ahosts both.test, python socket.getaddrinfo(multi.test), getent ahosts nope.test (A + AAAA on one socket)" \
	'glibc $TB/resolv.conf "getent ahosts both.test; /usr/bin/python3 -c \"import socket; socket.getaddrinfo(\\\"multi.test\\\", 80, proto=socket.IPPROTO_TCP)\"; getent ahosts nope.test"'
cap glibc_tcp 53 "glibc resolver with options use-vc: A and AAAA queries in one TCP segment, answers in two" \
	'glibc $TB/resolv-tcp.conf "getent ahosts both.test; getent ahosts b.test"'
cap glibc_v6 53 "glibc resolver, nameserver ::1: getent ahosts both.test" 'glibc $TB/resolv6.conf "getent ahosts both.test"'
# the first query for a name under broken. gets SERVFAIL; later ones (unbound
# has marked the upstream down) get no answer at all: dig tries 3 sockets
dig @127.0.0.1 warmup.broken A >/dev/null 2>&1 || true
cap udp_dig_noanswer 53 "dig @127.0.0.1 y.broken A: unbound forwards to a dead upstream and never answers; dig tries 3 times from 3 sockets" \
	'dig @127.0.0.1 y.broken A'
cap udp_forwarder_servfail 53,5302 "glibc and dig -> unbound, which forwards dm. to dnsmasq on 5302 (CNAME chains); nothere.dm: dnsmasq REFUSED x5, unbound SERVFAIL" \
	'glibc $TB/resolv.conf "getent ahosts alias.dm"; dig @127.0.0.1 www.dm AAAA; dig @127.0.0.1 nothere.dm A'
cap udp_formerr 53 "python: a query with qdcount 2 but one question -> unbound FORMERR" \
	"/usr/bin/python3 $HERE/craft.py formerr"
cap tcp_split_writes 53 "python TCP client: length prefix, 7 bytes, rest in three writes; then two queries in one write" \
	"/usr/bin/python3 $HERE/craft.py tcpsplit"
printf 'a.test A\nb.test AAAA\nnope.test A\nmail.test MX\nmulti.test A\nboth.test AAAA\ntxt.test TXT\nx.refused.test A\n' >"$TB/q.txt"
cap udp_dnsperf 53 "dnsperf 2.10 -c 1 -q 24 -n 3: up to 24 queries in flight on one socket" \
	"dnsperf -s 127.0.0.1 -p 53 -d $TB/q.txt -n 3 -c 1 -q 24"
cap udp_opcode_status 53 "dig +opcode=status: NOTIMP, not a QUERY: no record expected" 'dig @127.0.0.1 +opcode=status a.test'
