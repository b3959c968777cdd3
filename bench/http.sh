#!/usr/bin/env bash
# HTTP/1.1 keep-alive overhead: nginx (1 worker, access log off) serving a
# small static file on 127.0.0.1, in a cgroup of its own, and:
#   1. saturated: wrk -t1 -c32 (keep-alive) for SECONDS per round, each
#      round running the modes of lib.sh (off, hooks, on, both; ABBA):
#      throughput ratios to off, agent CPU, the agent's outbound request
#      count for wrk's cgroup against wrk's own count, l7 ring events lost;
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
source "$src/bench/lib.sh"

bench_init http http nginx wrk hey curl
bench_ports "$port" "$prom"
bench_setup httpb cli nginx

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

wait_http() {
	local i
	for ((i = 0; i < 200; i++)); do curl -sf -o /dev/null --max-time 1 "$1" && return 0; sleep 0.05; done
	bench_die "$1 did not answer"
}
in_cg nginx nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx.err" &
bench_stop_on_exit TERM $!
wait_http "http://127.0.0.1:$port/"

bench_agent_config '"http": { "enabled": true }'
url="http://127.0.0.1:$port/index.html"
dest="127.0.0.1:$port"
agent_reqs() { value "$1" container_http_requests_total "container_id=\"/$cg-cli\"" "destination=\"$dest\""; }

client "$tmp/warm.log" wrk -t1 -c32 -d3s "$url"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
declare -A rate_of
for ((r = 1; r <= rounds; r++)); do
	for mode in $(round_order $r); do
		sleep 1
		cmp=-
		mode_begin $mode
		client "$tmp/wrk.$r.$mode.log" wrk -t1 -c32 -d"${secs}s" "$url"
		rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.$r.$mode.log")
		req=$(awk '/requests in/ { print $1 }' "$tmp/wrk.$r.$mode.log")
		mode_end $mode agent_reqs
		if [ "$n" != - ]; then
			cmp="$n / $req"
			[ "$n" = "$req" ] || cmp+=" (**$((n - req))**)"
		fi
		rate_of[s,$r,$mode]=$rps
		rows+=("| $r | $mode | $rps | $req | $acpu | $lost | $cmp |")
	done
done
offs=()
for ((r = 1; r <= rounds; r++)); do offs+=("${rate_of[s,$r,off]}"); done
off_med=$(median "${offs[@]}")

# ---- fixed 10k/s with the agent on: its CPU and RSS
window_begin
client "$tmp/hey10k.log" hey -z "${secs}s" -c 10 -q 1000 "$url"
window_end agent_reqs
cpu10k=$acpu lost10k=$lost n10k=$n
rate10k=$(awk '/Requests\/sec:/ { print $2 }' "$tmp/hey10k.log")
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

echo "nginx 1 worker on $dest (6-byte static file, keep-alive), wrk -t1 -c32 -d${secs}s, $rounds rounds of ${bench_modes[*]} (ABBA), $(nproc) CPUs, kernel $(uname -r), $(date -u +%F), load average at start $load0"
echo
echo "| round | mode | requests/s | requests (wrk) | agent CPU (% of a core) | l7 events lost | agent requests / wrk requests |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
loss_line "Saturated (requests/s)" s
echo
echo "Fixed rate with the agent on (hey -c 10 -q 1000, target 10,000 requests/s): achieved $rate10k requests/s, **agent CPU $cpu10k % of one core**, **agent RSS $((rss / 1024)) MiB**, l7 events lost $lost10k, agent requests $n10k / hey's 200 responses $hey10k."
echo
echo "Half the saturated rate ($((half * 10)) requests/s, hey -c 10 -q $half), client latency:"
echo
echo "| agent | achieved requests/s | p50 (ms) | p99 (ms) |"
echo "|---|---|---|---|"
echo "| off | $rateoff | $p50off | $p99off |"
echo "| on | $rateon | $p50on | $p99on |"
