#!/usr/bin/env bash
# Postgres overhead: postgres 15 (as user postgres, fsync off, plain text)
# on 127.0.0.1 in a cgroup of its own, pgbench -S (one SELECT per
# transaction) in another, SECONDS per round, each round running the
# modes of lib.sh (off, hooks, on, both; ABBA): transactions/s and the
# ratios to off, the agent's CPU, l7
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
source "$src/bench/lib.sh"

bench_init pgbench postgres pgbench curl setpriv "$PGBIN/postgres"
bench_ports "$port" "$prom"
bench_setup pgb cli pg

chmod 711 "$tmp"
mkdir "$tmp/pg" && chown postgres: "$tmp/pg"
setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/initdb" -D "$tmp/pg/data" -A trust -U postgres \
	--no-sync >"$tmp/initdb.log" 2>&1
in_cg pg setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/postgres" -D "$tmp/pg/data" \
	-c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories="$tmp/pg" -c fsync=off \
	-c ssl=off >"$tmp/pg.log" 2>&1 &
bench_stop_on_exit INT $!
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres PGSSLMODE=disable
for ((i = 0; i < 200; i++)); do pg_isready -q && break; sleep 0.05; done
pgbench -q -i -s 2 >"$tmp/init.log" 2>&1

bench_agent_config '"postgres": { "enabled": true }'
dest="127.0.0.1:$port"
agent_q() { value "$1" container_postgres_queries_total "container_id=\"/$cg-cli\"" "destination=\"$dest\""; }
run_pgbench() { client "$1" pgbench -n -M "$mode_q" -S -c "$clients" -j 2 -T "$secs"; }

run_pgbench "$tmp/warm.log"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
declare -A rate_of
for ((r = 1; r <= rounds; r++)); do
	for mode in $(round_order $r); do
		sleep 1
		cmp=-
		mode_begin $mode
		run_pgbench "$tmp/pgb.$r.$mode.log"
		tps=$(awk '/^tps = / { print $3 }' "$tmp/pgb.$r.$mode.log")
		tx=$(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$tmp/pgb.$r.$mode.log")
		mode_end $mode agent_q
		[ "$n" = - ] || cmp="$n / $tx (+$((n - tx)))"
		rate_of[t,$r,$mode]=$tps
		rows+=("| $r | $mode | $tps | $tx | $acpu | $lost | $cmp |")
	done
done

echo "postgres 15 on $dest (fsync off, plain text), pgbench -n -M $mode_q -S -c $clients -j 2 -T $secs, $rounds rounds of ${bench_modes[*]} (ABBA), $(nproc) CPUs, kernel $(uname -r), $(date -u +%F), load average at start $load0"
echo
echo "| round | mode | transactions/s | transactions (pgbench) | agent CPU (% of a core) | l7 events lost | agent queries / pgbench transactions (+ set-up queries) |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
loss_line "transactions/s" t
