#!/usr/bin/env bash
# Idle cost of the agent with the default plugin set (process, node,
# prometheus): start-up time, RSS and CPU over a quiet window, with one
# scrape per second as Prometheus would do. Usage: bench/idle.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
secs=${2:-60}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
port=19105
cat > "$tmp/zerotap.json" <<JSON
{ "agent": { "plugin_dir": "$build/plugins-out" },
  "plugins": {
    "process": { "enabled": true },
    "node": { "enabled": true },
    "prometheus": { "enabled": true, "config": { "listen": "127.0.0.1:$port" } } } }
JSON
"$build/core/zerotap" --config "$tmp/zerotap.json" 2> "$tmp/agent.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" -o /dev/null && break; sleep 0.05; done
startup=$(grep -o 'started in [0-9.]* ms' "$tmp/agent.log" | grep -o '[0-9.]*')
ticks() { awk '{print $14+$15}' /proc/$pid/stat; }
t0=$(ticks); s0=$(date +%s.%N)
for _ in $(seq "$secs"); do curl -sf "http://127.0.0.1:$port/metrics" -o "$tmp/scrape"; sleep 1; done
t1=$(ticks); s1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
rss_kb=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
hwm_kb=$(awk '/^VmHWM/ {print $2}' /proc/$pid/status)
series=$(grep -vc '^#' "$tmp/scrape")
bytes=$(wc -c < "$tmp/scrape")
cpu=$(echo "scale=4; ($t1 - $t0) / $hz / ($s1 - $s0) * 100" | bc)
printf '| metric | value |\n|---|---|\n'
printf '| start-up to all probes attached and plugins running | %s ms |\n' "$startup"
printf '| idle RSS after %ss (peak) | %.1f MiB (%.1f MiB) |\n' "$secs" "$(echo "$rss_kb/1024" | bc -l)" "$(echo "$hwm_kb/1024" | bc -l)"
printf '| agent CPU while idle, 1 scrape/s | %s %% of one core |\n' "$cpu"
printf '| series per scrape / bytes | %s / %s |\n' "$series" "$bytes"
