#!/usr/bin/env bash
# What a process that only uses CPU costs a saturated benchmark here: the
# Redis benchmark of redis.sh (-P 16 by default) with nothing beside it
# (off) and beside bench/zt-burn at each PERCENT of one core (no agent,
# no BPF), alternated in ABBA order per round. Read next to redis.sh's
# agent CPU and loss: the part of the agent's cost that is the CPU it
# uses, wherever it spends it, on a machine whose cores the benchmark
# already fills.
#
# Usage: bench/cpushare.sh [BUILD_DIR] [ROUNDS] [REQUESTS] [PIPELINE] [PERCENT...]
# Needs root, redis-server, redis-benchmark, redis-cli. Talks to 127.0.0.1 only.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-3}
nreq=${3:-400000}
pl=${4:-16}
shift $(($# < 4 ? $# : 4))
pcts=("$@")
[ ${#pcts[@]} -gt 0 ] || pcts=(10 20 40)
port=${REDISB_PORT:-18379}
prom=${REDISB_PROM_PORT:-19108} # unused: lib.sh wants it
source "$src/bench/lib.sh"

for c in redis-server redis-benchmark redis-cli; do command -v $c >/dev/null || bench_die "$c is not installed"; done
bench_name=cpushare
[ "$(id -u)" = 0 ] || bench_die "run as root"
[ -x "$build/bench/zt-burn" ] || bench_die "$build/bench/zt-burn not built"
bench_ports "$port"
bench_setup cpushare cli srv burn

in_cg srv redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
bench_stop_on_exit TERM $!
for ((i = 0; i < 100; i++)); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
bench() { # LOG : mean of SET and GET requests/s
	client "$1" redis-benchmark -p "$port" -n "$nreq" -c 50 -P "$pl" -t set,get --csv
	awk -F'","' '/^"(SET|GET)"/ { s += $2; n++ } END { printf "%.0f\n", s / n }' "$1"
}
client "$tmp/warm.log" redis-benchmark -p "$port" -n 20000 -c 50 -t set,get -q

bench_modes=(off)
for p in "${pcts[@]}"; do bench_modes+=("burn$p"); done
rows=()
declare -A rate_of
for ((r = 1; r <= rounds; r++)); do
	for mode in $(round_order $r); do
		sleep 1
		bcpu=-
		if [ "$mode" != off ]; then
			in_cg burn "$build/bench/zt-burn" "${mode#burn}" >"$tmp/burn.log" 2>&1 &
			bpid=$!
			t0=$(ticks "$bpid")
			s0=$(date +%s%N)
		fi
		rps=$(bench "$tmp/b.$r.$mode.csv")
		if [ "$mode" != off ]; then
			t1=$(ticks "$bpid")
			s1=$(date +%s%N)
			kill -INT "$bpid"
			wait "$bpid" || true
			bcpu=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v ns=$((s1 - s0)) 'BEGIN { printf "%.1f", t / hz / (ns / 1e9) * 100 }')
		fi
		rate_of[x,$r,$mode]=$rps
		rows+=("| $r | $mode | $rps | $bcpu |")
	done
done

echo "redis-benchmark -n $nreq -c 50 -P $pl -t set,get beside bench/zt-burn (no agent), $rounds rounds, $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | mode | requests/s (SET, GET mean) | burner CPU (% of a core) |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
loss_line "-P $pl (requests/s)" x
