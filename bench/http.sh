#!/usr/bin/env bash
# HTTP/1.1 keep-alive overhead: nginx (1 worker, access log off) serving a
# small static file on 127.0.0.1, in a cgroup of its own, and:
#   1. saturated: wrk -t1 -c32 (keep-alive) for SECONDS per round, rounds
#      alternating agent off / on (ABBA): throughput ratio, agent CPU, the
#      agent's outbound request count for wrk's cgroup against wrk's own
#      count, l7 ring events lost;
#   2. fixed rate: hey at 10,000 requests/s (-c 10 -q 1000) with the agent
#      on: the agent's CPU at that rate and its RSS;
#   3. half the saturated rate (median "off" throughput / 2) with hey, off
#      and on: the client's p50 and p99 latency.
# The agent runs the process, prometheus and http plugins with defaults.
#
# Usage: bench/http.sh [BUILD_DIR] [ROUNDS] [SECONDS]
# Needs root, nginx, wrk, hey, curl. Talks to 127.0.0.1 only.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-5}
secs=${3:-10}
port=${HTTPB_PORT:-18090}
prom=${HTTPB_PROM_PORT:-19107}

for c in nginx wrk hey curl; do command -v $c >/dev/null || { echo "http bench: $c is not installed" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "http bench: run as root" >&2; exit 1; }
[ -f "$build/plugins-out/http.so" ] || { echo "http bench: $build/plugins-out/http.so not built" >&2; exit 1; }
for p in $port $prom; do
	if ss -Htln "sport = :$p" | grep -q .; then echo "http bench: port $p in use" >&2; exit 1; fi
done

tmp=$(mktemp -d /tmp/zt-httpb.XXXXXX)
nginx_pid='' agent_pid=''
cgdirs=()
cleanup() {
	set +e
	for p in $agent_pid $nginx_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for d in "${cgdirs[@]}"; do rmdir "$d" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/nginx/logs" "$tmp/www"
printf 'hello\n' >"$tmp/www/index.html"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
user root;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx/body; proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fcgi; uwsgi_temp_path $tmp/nginx/uwsgi; scgi_temp_path $tmp/nginx/scgi;
  server { listen 127.0.0.1:$port; root $tmp/www; }
}
EOF

cg=zt-httpb-$$
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then bases=(/sys/fs/cgroup); else
	bases=(/sys/fs/cgroup/memory)
	[ -f /sys/fs/cgroup/unified/cgroup.procs ] && bases+=(/sys/fs/cgroup/unified)
fi
for name in "$cg-cli" "$cg-nginx"; do
	for b in "${bases[@]}"; do mkdir "$b/$name" && cgdirs+=("$b/$name"); done
done
in_cg() {
	local b n=$1
	shift
	for b in "${bases[@]}"; do echo "$BASHPID" >"$b/$n/cgroup.procs"; done
	exec "$@"
}
wait_http() {
	local i
	for ((i = 0; i < 200; i++)); do curl -sf -o /dev/null --max-time 1 "$1" && return 0; sleep 0.05; done
	echo "http bench: $1 did not answer" >&2
	return 1
}
in_cg "$cg-nginx" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx.err" &
nginx_pid=$!
wait_http "http://127.0.0.1:$port/"

cat >"$tmp/zerotap.json" <<JSON
{ "agent": { "plugin_dir": "$build/plugins-out" },
  "plugins": {
    "process": { "enabled": true, "config": { "container_ttl_ms": 600000 } },
    "http": { "enabled": true },
    "prometheus": { "enabled": true, "config": { "listen": "127.0.0.1:$prom" } } } }
JSON
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$prom/metrics" -o "$1"; }
value() { # FILE NAME LABEL_SUBSTRING... : sum of the matching samples
	local f=$1 n=$2
	shift 2
	awk -v n="$n" -v subs="$*" '
	BEGIN { k = split(subs, s, " ") }
	/^#/ { next }
	{ m = $0; sub(/[{ ].*/, "", m); if (m != n) next
	  for (i = 1; i <= k; i++) if (!index($0, s[i])) next
	  v += $NF }
	END { printf "%.0f\n", v }' "$f"
}
start_agent() {
	"$build/core/zerotap" --config "$tmp/zerotap.json" 2>"$tmp/agent.log" &
	agent_pid=$!
	wait_http "http://127.0.0.1:$prom/metrics"
	local i
	for ((i = 0; i < 50; i++)); do
		scrape "$tmp/up"
		grep -q '^zerotap_feature_up{.*feature="l7".*} 1' "$tmp/up" && return 0
		sleep 0.1
	done
	echo "http bench: the agent's l7 feature is not up" >&2
	tail -20 "$tmp/agent.log" >&2
	exit 1
}
stop_agent() { kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
pct() { awk -v x="$1" -v w="$2" 'BEGIN { printf "%.1f", x / w * 100 }'; }
client() { # LOG CMD... : runs the client in its cgroup
	local log=$1
	shift
	in_cg "$cg-cli" "$@" >"$log" 2>&1 &
	wait $!
}
url="http://127.0.0.1:$port/index.html"
dest="127.0.0.1:$port"
ring_lost() { value "$1" zerotap_ringbuf_lost_events_total 'ring="l7"'; }
agent_reqs() { value "$1" container_http_requests_total "container_id=\"/$cg-cli\"" "destination=\"$dest\""; }

client "$tmp/warm.log" wrk -t1 -c32 -d3s "$url"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
declare -A rps_of
for ((r = 1; r <= rounds; r++)); do
	order="off on"
	((r % 2)) || order="on off"
	for mode in $order; do
		sleep 1
		acpu=- lost=- cmp=-
		if [ $mode = on ]; then
			start_agent
			sleep 2.2
			scrape "$tmp/before"
			t0=$(ticks "$agent_pid")
		fi
		s0=$(date +%s.%N)
		client "$tmp/wrk.$r.$mode.log" wrk -t1 -c32 -d"${secs}s" "$url"
		s1=$(date +%s.%N)
		rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.$r.$mode.log")
		req=$(awk '/requests in/ { print $1 }' "$tmp/wrk.$r.$mode.log")
		win=$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')
		if [ $mode = on ]; then
			t1=$(ticks "$agent_pid")
			sleep 2.2
			scrape "$tmp/after"
			acpu=$(pct "$(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN { print t / hz }')" "$win")
			lost=$(($(ring_lost "$tmp/after") - $(ring_lost "$tmp/before")))
			n=$(($(agent_reqs "$tmp/after") - $(agent_reqs "$tmp/before")))
			cmp="$n / $req"
			[ "$n" = "$req" ] || cmp+=" (**$((n - req))**)"
			stop_agent
		fi
		rps_of[$r,$mode]=$rps
		rows+=("| $r | $mode | $rps | $req | $acpu | $lost | $cmp |")
	done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratios=() offs=()
for ((r = 1; r <= rounds; r++)); do
	ratios+=("$(awk -v a="${rps_of[$r,off]}" -v b="${rps_of[$r,on]}" 'BEGIN { printf "%.4f", b / a }')")
	offs+=("${rps_of[$r,off]}")
done
ratio=$(median "${ratios[@]}")
off_med=$(median "${offs[@]}")

# ---- fixed 10k/s with the agent on: its CPU and RSS
start_agent
sleep 2.2
scrape "$tmp/before"
t0=$(ticks "$agent_pid")
s0=$(date +%s.%N)
client "$tmp/hey10k.log" hey -z "${secs}s" -c 10 -q 1000 "$url"
s1=$(date +%s.%N)
t1=$(ticks "$agent_pid")
rss=$(rss_kib "$agent_pid")
win=$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')
cpu10k=$(pct "$(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN { print t / hz }')" "$win")
rate10k=$(awk '/Requests\/sec:/ { print $2 }' "$tmp/hey10k.log")
sleep 2.2
scrape "$tmp/after"
lost10k=$(($(ring_lost "$tmp/after") - $(ring_lost "$tmp/before")))
n10k=$(($(agent_reqs "$tmp/after") - $(agent_reqs "$tmp/before")))
hey10k=$(awk '/\[200\]/ { print $2 }' "$tmp/hey10k.log")
stop_agent

# ---- half the saturated rate: the client's latency off and on
half=$(awk -v r="$off_med" 'BEGIN { printf "%d", r / 2 / 10 }') # per hey worker, 10 workers
lat() { # LOG -> "p50_ms p99_ms rps"
	awk '/ 50% in / { p50 = $3 } / 99% in / { p99 = $3 } /Requests\/sec:/ { rps = $2 }
	     END { printf "%.3f %.3f %s\n", p50 * 1000, p99 * 1000, rps }' "$1"
}
client "$tmp/half.off.log" hey -z "${secs}s" -c 10 -q "$half" "$url"
read -r p50off p99off rateoff < <(lat "$tmp/half.off.log")
start_agent
sleep 1
client "$tmp/half.on.log" hey -z "${secs}s" -c 10 -q "$half" "$url"
stop_agent
read -r p50on p99on rateon < <(lat "$tmp/half.on.log")

echo "nginx 1 worker on $dest (6-byte static file, keep-alive), wrk -t1 -c32 -d${secs}s, $rounds rounds of off/on (ABBA), $(nproc) CPUs, kernel $(uname -r), $(date -u +%F), load average at start $load0"
echo
echo "| round | mode | requests/s | requests (wrk) | agent CPU (% of a core) | l7 events lost | agent requests / wrk requests |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
awk -v r="$ratio" -v off="$off_med" 'BEGIN { printf "Saturated: median off %.0f requests/s; median of per-round on/off ratios %.4f: **throughput loss %.2f %%**.\n", off, r, (1 - r) * 100 }'
echo
echo "Fixed rate with the agent on (hey -c 10 -q 1000, target 10,000 requests/s): achieved $rate10k requests/s, **agent CPU $cpu10k % of one core**, **agent RSS $((rss / 1024)) MiB**, l7 events lost $lost10k, agent requests $n10k / hey's 200 responses $hey10k."
echo
echo "Half the saturated rate ($((half * 10)) requests/s, hey -c 10 -q $half), client latency:"
echo
echo "| agent | achieved requests/s | p50 (ms) | p99 (ms) |"
echo "|---|---|---|---|"
echo "| off | $rateoff | $p50off | $p99off |"
echo "| on | $rateon | $p50on | $p99on |"
