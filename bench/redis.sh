#!/usr/bin/env bash
# Redis overhead: redis-server (no persistence) on 127.0.0.1 in a cgroup of
# its own, and redis-benchmark -t set,get -c 50 with -P 1 and -P 16 (16
# commands per write, 16 replies per read), rounds alternating agent off /
# on (ABBA) in the same run: throughput ratio (median on / median off),
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

for c in redis-server redis-benchmark redis-cli curl; do command -v $c >/dev/null || { echo "redis bench: $c is not installed" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "redis bench: run as root" >&2; exit 1; }
[ -f "$build/plugins-out/redis.so" ] || { echo "redis bench: $build/plugins-out/redis.so not built" >&2; exit 1; }
for p in $port $prom; do
	if ss -Htln "sport = :$p" | grep -q .; then echo "redis bench: port $p in use" >&2; exit 1; fi
done

tmp=$(mktemp -d /tmp/zt-redisb.XXXXXX)
server_pid='' agent_pid=''
cgdirs=()
cleanup() {
	set +e
	for p in $agent_pid $server_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for d in "${cgdirs[@]}"; do rmdir "$d" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cg=zt-redisb-$$
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then bases=(/sys/fs/cgroup); else
	bases=(/sys/fs/cgroup/memory)
	[ -f /sys/fs/cgroup/unified/cgroup.procs ] && bases+=(/sys/fs/cgroup/unified)
fi
for name in "$cg-cli" "$cg-srv"; do
	for b in "${bases[@]}"; do mkdir "$b/$name" && cgdirs+=("$b/$name"); done
done
in_cg() {
	local b n=$1
	shift
	for b in "${bases[@]}"; do echo "$BASHPID" >"$b/$n/cgroup.procs"; done
	exec "$@"
}
in_cg "$cg-srv" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" &
server_pid=$!
for ((i = 0; i < 100; i++)); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

cat >"$tmp/zerotap.json" <<JSON
{ "agent": { "plugin_dir": "$build/plugins-out" },
  "plugins": {
    "process": { "enabled": true, "config": { "container_ttl_ms": 600000 } },
    "redis": { "enabled": true, "config": { "port": $port } },
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
	local i
	for ((i = 0; i < 100; i++)); do
		scrape "$tmp/up" 2>/dev/null && grep -q '^zerotap_feature_up{.*feature="l7".*} 1' "$tmp/up" && return 0
		sleep 0.1
	done
	echo "redis bench: the agent's l7 feature is not up" >&2
	tail -20 "$tmp/agent.log" >&2
	exit 1
}
stop_agent() { kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
pct() { awk -v x="$1" -v w="$2" 'BEGIN { printf "%.1f", x / w * 100 }'; }
client() { # LOG CMD...
	local log=$1
	shift
	in_cg "$cg-cli" "$@" >"$log" 2>&1 &
	wait $!
}
dest="127.0.0.1:$port"
ring_lost() { value "$1" zerotap_ringbuf_lost_events_total 'ring="l7"'; }
agent_reqs() { value "$1" container_redis_queries_total "container_id=\"/$cg-cli\"" "destination=\"$dest\""; }
bench() { # LOG PIPELINE : mean of SET and GET requests/s
	client "$1" redis-benchmark -p "$port" -n "$nreq" -c 50 -P "$2" -t set,get --csv
	awk -F'","' '/^"(SET|GET)"/ { s += $2; n++ } END { printf "%.0f\n", s / n }' "$1"
}

client "$tmp/warm.log" redis-benchmark -p "$port" -n 20000 -c 50 -t set,get -q
rows=()
declare -A rps_of
for pl in 1 16; do
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
			rps=$(bench "$tmp/b.$pl.$r.$mode.csv" "$pl")
			s1=$(date +%s.%N)
			win=$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')
			if [ $mode = on ]; then
				t1=$(ticks "$agent_pid")
				sleep 2.2
				scrape "$tmp/after"
				acpu=$(pct "$(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN { print t / hz }')" "$win")
				lost=$(($(ring_lost "$tmp/after") - $(ring_lost "$tmp/before")))
				n=$(($(agent_reqs "$tmp/after") - $(agent_reqs "$tmp/before")))
				want=$((2 * nreq + 2))
				cmp="$n / $want"
				[ "$n" = "$want" ] || cmp+=" (**$((n - want))**)"
				stop_agent
			fi
			rps_of[$pl,$r,$mode]=$rps
			rows+=("| -P $pl | $r | $mode | $rps | $acpu | $lost | $cmp |")
		done
	done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "redis-benchmark -n $nreq -c 50 -t set,get, $rounds rounds per pipeline depth, $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| pipeline | round | mode | requests/s (SET, GET mean) | agent CPU (% of a core) | l7 events lost | agent commands / sent |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
for pl in 1 16; do
	off=() on=()
	for ((r = 1; r <= rounds; r++)); do off+=("${rps_of[$pl,$r,off]}"); on+=("${rps_of[$pl,$r,on]}"); done
	mo=$(median "${off[@]}") mn=$(median "${on[@]}")
	echo "-P $pl: median off $mo, on $mn requests/s: **ratio $(awk -v a="$mn" -v b="$mo" 'BEGIN { printf "%.3f", a / b }')**"
done
