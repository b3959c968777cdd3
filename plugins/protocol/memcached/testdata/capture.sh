#!/usr/bin/env bash
# Records the golden memcached exchanges on loopback (Debian 12, as root):
#   bash capture.sh OUT_DIR       (ONLY=regex: just the captures whose name matches)
# writes OUT_DIR/pcap/<name>.pcapng and OUT_DIR/<name>.golden. Needs:
# memcached libmemcached-tools python3-pymemcache tshark (apt). memcached
# listens on 127.0.0.1 only, on a free port. Each golden file's header keeps
# what the client itself counted ("client ...") and the server's stats
# counters moved by the run ("server ..."): the golden test checks the
# plugin's records against both.
set -euo pipefail
OUT=$(realpath "${1:?usage: capture.sh OUT_DIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
TB=$(mktemp -d /tmp/mccap.XXXXXX)
mkdir -p "$OUT/pcap"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$TB"
}
trap cleanup EXIT
free_port() { local p; while :; do p=$((20000 + RANDOM % 20000)); ss -Htln "sport = :$p" | grep -q . || { echo $p; return; }; done; }
P=$(free_port)
memcached -u root -l 127.0.0.1 -p "$P" -U 0 -m 64 &
PIDS+=($!)
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.1; done
stats() { printf 'stats\r\nquit\r\n' | (exec 3<>/dev/tcp/127.0.0.1/$P; cat >&3; timeout 1 cat <&3) | tr -d '\r' |
	awk '$1 == "STAT" && $2 ~ /^(cmd_get|cmd_set|cmd_touch|get_hits|get_misses|delete_hits|delete_misses|incr_hits|incr_misses|decr_hits|decr_misses|cas_hits|cas_misses|cas_badval|touch_hits|touch_misses)$/ { print $2, $3 }'; }

capture() { # NAME "comment" CMD...
	local name=$1 comment=$2
	shift 2
	[[ -n "${ONLY:-}" && ! "$name" =~ $ONLY ]] && return 0
	printf 'flush_all\r\nquit\r\n' | (exec 3<>/dev/tcp/127.0.0.1/$P; cat >&3; timeout 1 cat <&3) >/dev/null
	stats >"$TB/before"
	tshark -i lo -B 64 -f "tcp port $P" -w "$OUT/pcap/$name.pcapng" >"$TB/ts.out" 2>&1 &
	local ts=$!
	for i in $(seq 100); do grep -q "Capturing on" "$TB/ts.out" && break; sleep 0.1; done
	sleep 0.5
	"$@" >"$TB/client.out" 2>&1
	sleep 0.5
	kill -INT $ts; wait $ts || true
	stats >"$TB/after"
	local client server
	client=$(grep -E '^(queries|noreply|failed) ' "$TB/client.out" | tr '\n' ' ' || true)
	server=$(join "$TB/before" "$TB/after" | awk '$3 != $2 { printf "%s %d ", $1, $3 - $2 }')
	/usr/bin/python3 "$HERE/pcap2golden.py" "$OUT/pcap/$name.pcapng" "$P" "$comment" "$client" "$server" >"$OUT/$name.golden"
	gzip -9 -f "$OUT/$name.golden" "$OUT/pcap/$name.pcapng"
	echo "$name: $(zgrep -c "^[cs] " "$OUT/$name.golden.gz") messages; client: $client; server: $server"
}

MC=$HERE/mcclient.py
capture text "text commands one per write: every storage, retrieval and admin command, misses, noreply, ERROR/CLIENT_ERROR" /usr/bin/python3 "$MC" text "$P"
capture text_pipeline "the same text commands pipelined in one write" /usr/bin/python3 "$MC" pipeline "$P"
capture meta "meta commands: ms/mg/ma/md, then quiet ones closed by mn" /usr/bin/python3 "$MC" meta "$P"
capture big_value "a 200 KB value set and read back, far beyond the capture" /usr/bin/python3 "$MC" big "$P"
capture pymemcache "pymemcache 3.5: set/get/get_many/delete/incr, misses, noreply, CLIENT_ERROR and SERVER_ERROR" /usr/bin/python3 "$MC" pymemcache "$P"
capture memcslap_text "memcslap (libmemcached 1.1.4) --test get, text protocol" memcslap --servers=127.0.0.1:$P --concurrency=1 --execute-number=20 --test=get
capture memcslap_binary "memcslap --binary --test get" memcslap --servers=127.0.0.1:$P --concurrency=1 --execute-number=20 --test=get --binary
capture memcslap_binary_mget "memcslap --binary --test mget: quiet GETKQ pipelines closed by NOOP" memcslap --servers=127.0.0.1:$P --concurrency=1 --execute-number=20 --test=mget --binary
capture memcslap_noreply "memcslap --noreply --test set: storage commands with noreply" memcslap --servers=127.0.0.1:$P --concurrency=1 --execute-number=20 --test=set --noreply
capture memcslap_text_mget "memcslap --test mget, text protocol: multi-key get lines" memcslap --servers=127.0.0.1:$P --concurrency=1 --execute-number=20 --test=mget
