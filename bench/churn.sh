#!/usr/bin/env bash
# Connection churn: nginx (1 worker, TESTBED.md 3.1 config, HTTP/1.1 on
# 127.0.0.1 only, access log off) answering a 6-byte body, and wrk with
# `Connection: close`, so every request is a new TCP connection, at the
# highest rate wrk reaches. Rounds alternate agent off / agent on in one
# run; each "on" round starts a fresh agent (process + prometheus plugins,
# the tcp feature with its defaults) and stops it afterwards.
#
# Per round: requests/s and requests (wrk), wrk's socket errors, the agent's
# CPU over the wrk window (/proc/PID/stat utime+stime), the delta of
# zerotap_ringbuf_lost_events_total{ring="tcp"}, and the agent's
# container_net_tcp_successful_connects_total delta for wrk's cgroup (wrk
# runs in a cgroup of its own) minus wrk's request count (wrk counts
# completed requests; the connections still open when it stops, at most
# one per wrk connection, were made but not counted by wrk).
#
# Usage: bench/churn.sh [BUILD_DIR] [ROUNDS] [SECONDS] [WRK_CONNECTIONS]
# Needs root (BPF, cgroups), nginx and wrk. Talks to 127.0.0.1 only.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
rounds=${2:-5}
secs=${3:-10}
conns=${4:-32}
nginx_port=${CHURN_NGINX_PORT:-18080}
prom_port=${CHURN_PROM_PORT:-19106}
status_port=${CHURN_STATUS_PORT:-18081}
ring=${CHURN_RING:-tcp}
max_other=${CHURN_MAX_OTHER:-15} # % of one core: a round with more is noisy

for c in nginx wrk curl; do command -v $c >/dev/null || { echo "churn: $c is not installed" >&2; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "churn: run as root" >&2; exit 1; }

for p in $nginx_port $status_port $prom_port; do
	if ss -Htln "sport = :$p" | grep -q .; then echo "churn: port $p is in use (set CHURN_*_PORT)" >&2; exit 1; fi
done
tmp=$(mktemp -d /tmp/zt-churn.XXXXXX)
nginx_pid='' agent_pid='' wrk_pid='' hooks_pid=''
cgdirs=()
cleanup() {
	local p d
	set +e
	for p in $wrk_pid $agent_pid $hooks_pid $nginx_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for d in "${cgdirs[@]}"; do rmdir "$d" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # URL: up to 10 s
	local i
	for ((i = 0; i < 200; i++)); do curl -sf -o /dev/null --max-time 1 "$1" && return 0; sleep 0.05; done
	echo "churn: $1 did not answer" >&2
	return 1
}

# ---- nginx
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body; proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fcgi; uwsgi_temp_path $tmp/nginx/uwsgi; scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 200 "hello\n"; }
  }
  server {
    listen 127.0.0.1:$status_port;
    location / { stub_status; }
  }
}
EOF

# ---- cgroups for wrk (its connections get container_id "/<name>") and for
# nginx, also to read their CPU time (v2 cpu.stat counts exited tasks too)
cg=zt-churn-$$
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then bases=(/sys/fs/cgroup) v2=/sys/fs/cgroup; else
	bases=(/sys/fs/cgroup/memory) v2=
	[ -f /sys/fs/cgroup/unified/cgroup.procs ] && bases+=(/sys/fs/cgroup/unified) v2=/sys/fs/cgroup/unified
fi
for name in "$cg-wrk" "$cg-nginx"; do
	for b in "${bases[@]}"; do mkdir "$b/$name" && cgdirs+=("$b/$name"); done
done
in_cg() { # NAME CMD... : moves this subshell into cgroup NAME, then execs CMD
	local b n=$1
	shift
	for b in "${bases[@]}"; do echo "$BASHPID" >"$b/$n/cgroup.procs"; done
	exec "$@"
}
cg_usec() { # NAME : CPU time of the cgroup in microseconds, or nothing
	[ -n "$v2" ] && awk '$1 == "usage_usec" { print $2 }' "$v2/$1/cpu.stat"
}
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; } # user nice system irq softirq steal

in_cg "$cg-nginx" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx.err" &
nginx_pid=$!
wait_http "http://127.0.0.1:$nginx_port/"

# ---- the agent
cat >"$tmp/zerotap.json" <<JSON
{ "agent": { "plugin_dir": "$build/plugins-out"$([ "${CHURN_BPF_STATS:-0}" = 1 ] && echo ', "bpf_stats": true') },
  "plugins": {
    "process": { "enabled": true, "config": { "container_ttl_ms": 600000 } },
    "prometheus": { "enabled": true, "config": { "listen": "127.0.0.1:$prom_port" } } } }
JSON
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$prom_port/metrics" -o "$1"; }
value() { # FILE NAME LABEL_SUBSTRING... : sum of the matching samples (0 if none)
	local f=$1 n=$2
	shift 2
	awk -v n="$n" -v subs="$*" '
	BEGIN { k = split(subs, s, " ") }
	/^#/ { next }
	{
		m = $0; sub(/[{ ].*/, "", m); if (m != n) next
		for (i = 1; i <= k; i++) if (!index($0, s[i])) next
		v += $NF
	}
	END { printf "%.0f\n", v }' "$f"
}
start_agent() {
	"$build/core/zerotap" --config "$tmp/zerotap.json" 2>"$tmp/agent.$1.log" &
	agent_pid=$!
	wait_http "http://127.0.0.1:$prom_port/metrics"
	# the tcp feature must be up, else the round measures nothing
	local i
	for ((i = 0; i < 50; i++)); do
		scrape "$tmp/up"
		grep -q '^zerotap_feature_up{.*feature="tcp".*} 1' "$tmp/up" && break
		sleep 0.1
	done
	grep -q '^zerotap_feature_up{.*feature="tcp".*} 1' "$tmp/up" || {
		echo "churn: the agent's tcp feature is not up:" >&2
		grep '^zerotap_feature_up' "$tmp/up" >&2
		tail -n 20 "$tmp/agent.$1.log" >&2
		exit 1
	}
}
stop_agent() { kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=; }

# The "hooks" mode: bench/zt-hooks attaches an empty program to every hook
# the tcp feature uses (read from bpf/tcp.bpf.c), the way the agent
# attaches them (BTF tracepoints). What that costs is the floor of
# observing connections with these hooks, against which the agent's own
# cost reads.
hooks=$(grep -o 'SEC("tp_btf/[^"]*")' "$src/bpf/tcp.bpf.c" | sed -E 's/SEC\("tp_btf\/([^"]*)"\)/\1/' | sort -u | paste -sd' ')
hooks_pid=
if [ "${CHURN_HOOKS:-1}" = 1 ] && [ -x "$build/bench/zt-hooks" ] && [ -n "$hooks" ]; then
	modes="off hooks on"
else
	modes="off on"
fi
start_hooks() {
	# shellcheck disable=SC2086
	"$build/bench/zt-hooks" $hooks >"$tmp/hooks.log" 2>&1 &
	hooks_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do grep -q '^attached' "$tmp/hooks.log" && return 0; sleep 0.05; done
	echo "churn: zt-hooks did not attach:" >&2
	cat "$tmp/hooks.log" >&2
	exit 1
}
stop_hooks() { kill -INT "$hooks_pid"; wait "$hooks_pid" || true; hooks_pid=; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; } # utime + stime

# nginx's own count of accepted connections; the status request itself is
# one of them, so the connections between two readings are (b - a - 1)
accepts() { curl -sf --max-time 5 "http://127.0.0.1:$status_port/" | awk 'NR == 3 { print $1 }'; }

hz=$(getconf CLK_TCK)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
dest="127.0.0.1:$nginx_port"
rows=()
wrk_round() { # LOGFILE
	in_cg "$cg-wrk" wrk -t1 -c"$conns" -d"${secs}s" -H 'Connection: close' "http://127.0.0.1:$nginx_port/" >"$1" 2>&1 &
	wrk_pid=$!
	wait "$wrk_pid"
	wrk_pid=
}
wrk_field() { # LOG -> "rps requests errors"
	local rps req err
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$1")
	req=$(awk '/requests in/ { print $1 }' "$1")
	err=$(awk '/Socket errors:/ { s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { v = $i; sub(",", "", v); s += v } print s }' "$1")
	echo "$rps ${req:-0} ${err:-0}"
}

pct() { awk -v x="$1" -v w="$2" 'BEGIN { printf "%.1f", x / w * 100 }'; } # SECONDS WINDOW
# Warm-up, not reported: the first seconds of churn fill the kernel's
# TIME_WAIT table (nginx closes first), after which every round runs in the
# same steady state.
wrk_round "$tmp/wrk.warmup.log"

declare -A rps_of noisy bpf_t bpf_n
bpf_deltas() { # BEFORE AFTER -> "program seconds runs" of the tcp feature
	awk '
	function prog(l) { match(l, /program="[^"]*"/); return substr(l, RSTART + 9, RLENGTH - 10) }
	/^zerotap_bpf_prog_run_time_seconds_total\{.*feature="tcp"/ { t[FILENAME == ARGV[1], prog($0)] = $NF; p[prog($0)] = 1 }
	/^zerotap_bpf_prog_runs_total\{.*feature="tcp"/ { n[FILENAME == ARGV[1], prog($0)] = $NF }
	END { for (x in p) printf "%s %.9f %d\n", x, t[0, x] - t[1, x], n[0, x] - n[1, x] }' "$1" "$2"
}
for ((r = 1; r <= rounds; r++)); do
	# ABBA: the modes in order in odd rounds, reversed in even ones, so a
	# drift of the machine during the run favours none of them
	order=$modes
	((r % 2)) || order=$(tr ' ' '\n' <<<"$modes" | tac | paste -sd' ')
	for mode in $order; do
		sleep 2 # let the previous round's sockets settle
		acpu=- lost=- cdiff=-
		[ "$mode" = hooks ] && start_hooks
		if [ "$mode" = on ]; then
			start_agent "$r"
			sleep 2.5 # the self-metrics (ring, BPF stats) refresh every 2 s
			scrape "$tmp/before"
			t0=$(ticks "$agent_pid")
		fi
		a0=$(accepts)
		s0=$(date +%s.%N) b0=$(busy_ticks) n0=$(cg_usec "$cg-nginx") w0=$(cg_usec "$cg-wrk")
		wrk_round "$tmp/wrk.$r.$mode.log"
		s1=$(date +%s.%N) b1=$(busy_ticks) n1=$(cg_usec "$cg-nginx") w1=$(cg_usec "$cg-wrk")
		read -r rps req err < <(wrk_field "$tmp/wrk.$r.$mode.log")
		sleep 2.5 # events drained, nginx accepted the last ones, self-metrics refreshed (every 2 s)
		a1=$(accepts)
		accepted=$((a1 - a0 - 1))
		win=$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')
		agent_s=0
		if [ "$mode" = on ]; then
			t1=$(ticks "$agent_pid")
			agent_s=$(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN { print t / hz }')
			acpu=$(pct "$agent_s" "$win")
			scrape "$tmp/after"
			lost=$(($(value "$tmp/after" zerotap_ringbuf_lost_events_total "ring=\"$ring\"") - $(value "$tmp/before" zerotap_ringbuf_lost_events_total "ring=\"$ring\"")))
			conn=$(($(value "$tmp/after" container_net_tcp_successful_connects_total "container_id=\"/$cg-wrk\"" "destination=\"$dest\"") -
				$(value "$tmp/before" container_net_tcp_successful_connects_total "container_id=\"/$cg-wrk\"" "destination=\"$dest\"")))
			if [ "${CHURN_BPF_STATS:-0}" = 1 ]; then # per-program kernel time, summed over the "on" rounds
				while read -r prog dt dn; do
					bpf_t[$prog]=$(awk -v a="${bpf_t[$prog]:-0}" -v b="$dt" 'BEGIN { print a + b }')
					bpf_n[$prog]=$((${bpf_n[$prog]:-0} + dn))
				done < <(bpf_deltas "$tmp/before" "$tmp/after")
				bpf_conns=$((${bpf_conns:-0} + accepted))
			fi
			cdiff="$conn / $accepted"
			[ "$conn" = "$accepted" ] || cdiff+=" (**$((conn - accepted))**)"
			stop_agent
		fi
		[ "$mode" = hooks ] && stop_hooks
		rps_of[$r,$mode]=$rps
		ncpu=- wcpu=- other=-
		if [ -n "$v2" ]; then
			ncpu=$(pct "$(((n1 - n0)))e-6" "$win")
			wcpu=$(pct "$(((w1 - w0)))e-6" "$win")
			# everything else the machine did: softirq work of loopback
			# not charged to a task, and any other load (a noisy round)
			other=$(awk -v b="$((b1 - b0))" -v hz="$hz" -v n="$((n1 - n0))" -v w="$((w1 - w0))" -v a="$agent_s" -v win="$win" \
				'BEGIN { printf "%.1f", (b / hz - n / 1e6 - w / 1e6 - a) / win * 100 }')
		fi
		if [ "$other" != - ] && awk -v o="$other" -v m="$max_other" 'BEGIN { exit !(o > m) }'; then
			noisy[$r]=1
		fi
		rows+=("| $r | $mode | $rps | $req | $accepted | $err | $ncpu | $wcpu | $acpu | $other | $lost | $cdiff |")
	done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# Rounds in which something else used the machine (other CPU above
# max_other in any mode) are left out of the medians, unless all were.
kept=()
for ((r = 1; r <= rounds; r++)); do [ -n "${noisy[$r]:-}" ] || kept+=("$r"); done
[ ${#kept[@]} -gt 0 ] || { echo "churn: every round was noisy (other CPU > $max_other %); medians over all of them" >&2; kept=($(seq "$rounds")); }
declare -A med
for mode in $modes; do
	vals=()
	for r in "${kept[@]}"; do vals+=("${rps_of[$r,$mode]}"); done
	med[$mode]=$(median "${vals[@]}")
done
ratio() { # MODE : median over the kept rounds of rps(MODE) / rps(off) in the same round
	local r vals=()
	for r in "${kept[@]}"; do
		vals+=("$(awk -v a="${rps_of[$r,off]}" -v b="${rps_of[$r,$1]}" 'BEGIN { printf "%.4f", b / a }')")
	done
	median "${vals[@]}"
}

echo "nginx 1 worker on $dest, wrk -t1 -c$conns -d${secs}s -H 'Connection: close', $rounds rounds of: $modes (ABBA order), $(nproc) CPUs, kernel $(uname -r), $(date -u +%F), load average at start $load0"
echo
echo "| round | mode | requests/s | requests (wrk) | connections (nginx accepts) | wrk socket errors | nginx CPU | wrk CPU | agent CPU | other CPU | ring \"$ring\" events lost | agent connects / nginx accepts |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Modes: off = nothing attached; hooks = bench/zt-hooks, empty programs on the tcp feature's hooks ($hooks); on = the agent. CPU figures are % of one core over the wrk window (nginx and wrk: their cgroups' cpu.stat; agent: /proc/PID/stat; other: the machine's busy time from /proc/stat minus those three)."
echo
echo "Medians over the ${#kept[@]} of $rounds rounds in which other CPU stayed at or below $max_other % of one core (rounds: ${kept[*]})."
echo
echo "| mode | median requests/s | median of per-round ratio to off | throughput loss |"
echo "|---|---|---|---|"
for mode in $modes; do
	m=$(ratio "$mode")
	awk -v mode="$mode" -v a="${med[$mode]}" -v m="$m" 'BEGIN { printf "| %s | %.0f | %.4f | %.2f %% |\n", mode, a, m, (1 - m) * 100 }'
done

if [ "${CHURN_BPF_STATS:-0}" = 1 ] && [ ${#bpf_t[@]} -gt 0 ]; then
	echo
	echo "Kernel time of the tcp feature's programs over the \"on\" rounds ($bpf_conns connections; BPF stats on, which adds two clock reads per run):"
	echo
	echo "| program | runs per connection | ns per run | ns per connection |"
	echo "|---|---|---|---|"
	for prog in "${!bpf_t[@]}"; do
		awk -v p="$prog" -v t="${bpf_t[$prog]}" -v n="${bpf_n[$prog]}" -v c="$bpf_conns" \
			'BEGIN { if (n > 0) printf "| %s | %.2f | %.0f | %.0f |\n", p, n / c, t / n * 1e9, t / c * 1e9 }'
	done | sort
	awk -v c="$bpf_conns" -v t="$(printf '%s\n' "${bpf_t[@]}" | awk '{ s += $1 } END { print s }')" \
		'BEGIN { printf "| all | | | %.0f |\n", t / c * 1e9 }'
fi
