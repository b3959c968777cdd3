#!/usr/bin/env bash
# Postgres overhead: postgres 15 (as user postgres, fsync off, plain text)
# on 127.0.0.1 in a cgroup of its own, pgbench -S (one SELECT per
# transaction) in another, SECONDS per round, rounds alternating agent off
# / on (ABBA): transactions/s and the ratio on/off, the agent's CPU, l7
# ring events lost, and the agent's outbound query count for pgbench's
# cgroup against pgbench's own transaction count (pgbench's set-up
# queries, a couple per run, come on top).
# The agent runs the process, prometheus and postgres plugins with defaults.
#
# Usage: bench/pgbench.sh [BUILD_DIR] [ROUNDS] [SECONDS]
# Env: PGB_MODE (simple | extended | prepared, default simple), PGB_CLIENTS
# (default 4). Needs root, postgresql-15, pgbench, curl. 127.0.0.1 only.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-5}
secs=${3:-10}
mode_q=${PGB_MODE:-simple}
clients=${PGB_CLIENTS:-4}
port=${PGB_PORT:-18432}
prom=${PGB_PROM_PORT:-19108}
PGBIN=/usr/lib/postgresql/15/bin

for c in pgbench curl setpriv "$PGBIN/postgres"; do command -v $c >/dev/null || { echo "pgbench bench: $c is not installed" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "pgbench bench: run as root" >&2; exit 1; }
[ -f "$build/plugins-out/postgres.so" ] || { echo "pgbench bench: $build/plugins-out/postgres.so not built" >&2; exit 1; }
for p in $port $prom; do
	if ss -Htln "sport = :$p" | grep -q .; then echo "pgbench bench: port $p in use" >&2; exit 1; fi
done

tmp=$(mktemp -d /tmp/zt-pgb.XXXXXX)
pg_pid='' agent_pid=''
cgdirs=()
cleanup() {
	set +e
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$pg_pid" ] && kill -INT "$pg_pid" 2>/dev/null && wait "$pg_pid" 2>/dev/null
	for d in "${cgdirs[@]}"; do rmdir "$d" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cg=zt-pgb-$$
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then bases=(/sys/fs/cgroup); else
	bases=(/sys/fs/cgroup/memory)
	[ -f /sys/fs/cgroup/unified/cgroup.procs ] && bases+=(/sys/fs/cgroup/unified)
fi
for name in "$cg-cli" "$cg-pg"; do
	for b in "${bases[@]}"; do mkdir "$b/$name" && cgdirs+=("$b/$name"); done
done
in_cg() {
	local b n=$1
	shift
	for b in "${bases[@]}"; do echo "$BASHPID" >"$b/$n/cgroup.procs"; done
	exec "$@"
}

chmod 711 "$tmp"
mkdir "$tmp/pg" && chown postgres: "$tmp/pg"
setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/initdb" -D "$tmp/pg/data" -A trust -U postgres \
	--no-sync >"$tmp/initdb.log" 2>&1
in_cg "$cg-pg" setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/postgres" -D "$tmp/pg/data" \
	-c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories="$tmp/pg" -c fsync=off \
	-c ssl=off >"$tmp/pg.log" 2>&1 &
pg_pid=$!
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres PGSSLMODE=disable
for ((i = 0; i < 200; i++)); do pg_isready -q && break; sleep 0.05; done
pgbench -q -i -s 2 >"$tmp/init.log" 2>&1

cat >"$tmp/zerotap.json" <<JSON
{ "agent": { "plugin_dir": "$build/plugins-out" },
  "plugins": {
    "process": { "enabled": true, "config": { "container_ttl_ms": 600000 } },
    "postgres": { "enabled": true },
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
	echo "pgbench bench: the agent's l7 feature is not up" >&2
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
agent_q() { value "$1" container_postgres_queries_total "container_id=\"/$cg-cli\"" "destination=\"$dest\""; }
run_pgbench() { client "$1" pgbench -n -M "$mode_q" -S -c "$clients" -j 2 -T "$secs"; }

run_pgbench "$tmp/warm.log"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
declare -A tps_of
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
		run_pgbench "$tmp/pgb.$r.$mode.log"
		s1=$(date +%s.%N)
		tps=$(awk '/^tps = / { print $3 }' "$tmp/pgb.$r.$mode.log")
		tx=$(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$tmp/pgb.$r.$mode.log")
		win=$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')
		if [ $mode = on ]; then
			t1=$(ticks "$agent_pid")
			sleep 2.2
			scrape "$tmp/after"
			acpu=$(pct "$(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN { print t / hz }')" "$win")
			lost=$(($(ring_lost "$tmp/after") - $(ring_lost "$tmp/before")))
			n=$(($(agent_q "$tmp/after") - $(agent_q "$tmp/before")))
			cmp="$n / $tx (+$((n - tx)))"
			stop_agent
		fi
		tps_of[$r,$mode]=$tps
		rows+=("| $r | $mode | $tps | $tx | $acpu | $lost | $cmp |")
	done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratios=() offs=()
for ((r = 1; r <= rounds; r++)); do
	ratios+=("$(awk -v a="${tps_of[$r,off]}" -v b="${tps_of[$r,on]}" 'BEGIN { printf "%.4f", b / a }')")
	offs+=("${tps_of[$r,off]}")
done
ratio=$(median "${ratios[@]}")
off_med=$(median "${offs[@]}")

echo "postgres 15 on $dest (fsync off, plain text), pgbench -n -M $mode_q -S -c $clients -j 2 -T $secs, $rounds rounds of off/on (ABBA), $(nproc) CPUs, kernel $(uname -r), $(date -u +%F), load average at start $load0"
echo
echo "| round | mode | transactions/s | transactions (pgbench) | agent CPU (% of a core) | l7 events lost | agent queries / pgbench transactions (+ set-up queries) |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
awk -v r="$ratio" -v off="$off_med" 'BEGIN { printf "Median off %.0f transactions/s; median of per-round on/off ratios %.4f: **throughput loss %.2f %%**.\n", off, r, (1 - r) * 100 }'
