#!/usr/bin/env bash
# Redis overhead: redis-server (no persistence) on 127.0.0.1 in a cgroup of
# its own, and redis-benchmark -t set,get -c 50 with -P 1 and -P 16 (16
# commands per write, 16 replies per read), each round running the modes
# of lib.sh (off, hooks, on, both; ABBA): throughput ratios to off,
# agent CPU while the benchmark ran, l7 ring events lost (zerotap_ self
# metrics), and count accuracy: the agent's outbound records for the
# benchmark's cgroup against the commands it sent (2 x -n, plus its 2
# CONFIG GETs). The agent runs the process, prometheus and redis plugins.
#
# Usage: bench/redis.sh [BUILD_DIR] [ROUNDS] [REQUESTS]
# Needs root, redis-server, redis-benchmark, curl. Talks to 127.0.0.1 only.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-4}
nreq=${3:-200000}
port=${REDISB_PORT:-18379}
prom=${REDISB_PROM_PORT:-19108}
source "$src/bench/lib.sh"

bench_init redis redis redis-server redis-benchmark redis-cli curl
bench_ports "$port" "$prom"
bench_setup redisb cli srv

in_cg srv redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
bench_stop_on_exit TERM $!
for ((i = 0; i < 100; i++)); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

bench_agent_config "\"redis\": { \"enabled\": true, \"config\": { \"port\": $port } }"
dest="127.0.0.1:$port"
agent_reqs() { value "$1" container_redis_queries_total "container_id=\"/$cg-cli\"" "destination=\"$dest\""; }
bench() { # LOG PIPELINE : mean of SET and GET requests/s
	client "$1" redis-benchmark -p "$port" -n "$nreq" -c 50 -P "$2" -t set,get --csv
	awk -F'","' '/^"(SET|GET)"/ { s += $2; n++ } END { printf "%.0f\n", s / n }' "$1"
}

client "$tmp/warm.log" redis-benchmark -p "$port" -n 20000 -c 50 -t set,get -q
rows=()
declare -A rate_of
for pl in 1 16; do
	for ((r = 1; r <= rounds; r++)); do
		for mode in $(round_order $r); do
			sleep 1
			cmp=-
			mode_begin $mode
			rps=$(bench "$tmp/b.$pl.$r.$mode.csv" "$pl")
			mode_end $mode agent_reqs
			if [ "$n" != - ]; then
				want=$((2 * nreq + 2))
				cmp="$n / $want"
				[ "$n" = "$want" ] || cmp+=" (**$((n - want))**)"
			fi
			rate_of[$pl,$r,$mode]=$rps
			rows+=("| -P $pl | $r | $mode | $rps | $acpu | $lost | $cmp |")
		done
	done
done

echo "redis-benchmark -n $nreq -c 50 -t set,get, $rounds rounds of ${bench_modes[*]} (ABBA) per pipeline depth, $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| pipeline | round | mode | requests/s (SET, GET mean) | agent CPU (% of a core) | l7 events lost | agent commands / sent |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
for pl in 1 16; do loss_line "-P $pl (requests/s)" $pl; done
