# shellcheck shell=bash
# What the L7 benchmarks (http.sh, redis.sh, pgbench.sh) share: checks,
# a temporary directory and cgroups removed on exit, the agent started and
# stopped around a measured window, its metrics read from a scrape. Sourced
# by the script, which sets `build` and `prom` first.
#
#   bench_init NAME PLUGIN CMD... : root, the commands, the plugin's .so
#   bench_ports PORT...           : each free, else exit
#   bench_setup TAG CGROUP...     : $tmp and the cgroups $cg-<CGROUP>
#   bench_stop_on_exit SIG PID    : a server, stopped (SIG) on exit
#   bench_agent_config JSON       : the agent's config, with process and
#                                   prometheus plus the JSON plugin entries
#                                   ($tmp/zerotap.json), and the same with
#                                   agent.l7_local_once off
#                                   ($tmp/zerotap-both.json)
#   hooks_start HOOK... / hooks_stop : bench/zt-hooks (empty programs on
#                                   the agent's hooks) around a window
#   window_begin [CONFIG] / window_end FN : a measured window with the agent on:
#                                   sets acpu (% of a core), lost (l7 ring
#                                   events), n (FN's count, after - before)
#                                   and rss (the agent's, KiB)

bench_die() {
	echo "$bench_name bench: $*" >&2
	exit 1
}

bench_init() {
	bench_name=$1 bench_plugin=$2
	shift 2
	local c
	for c in "$@"; do command -v "$c" >/dev/null || bench_die "$c is not installed"; done
	[ "$(id -u)" = 0 ] || bench_die "run as root"
	[ -f "$build/plugins-out/$bench_plugin.so" ] || bench_die "$build/plugins-out/$bench_plugin.so not built"
}

bench_ports() {
	local p
	for p in "$@"; do
		if ss -Htln "sport = :$p" | grep -q .; then bench_die "port $p in use"; fi
	done
}

agent_pid=''
bench_servers=()
cgdirs=()
bench_cleanup() {
	set +e
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "${hooks_pid:-}" ] && kill -INT "$hooks_pid" 2>/dev/null && wait "$hooks_pid" 2>/dev/null
	[ -n "${burn_pid:-}" ] && kill -INT "$burn_pid" 2>/dev/null && wait "$burn_pid" 2>/dev/null
	local s
	for s in "${bench_servers[@]}"; do
		kill -"${s%% *}" "${s#* }" 2>/dev/null && wait "${s#* }" 2>/dev/null
	done
	for s in "${cgdirs[@]}"; do rmdir "$s" 2>/dev/null; done
	rm -rf "$tmp"
}

bench_setup() {
	local tag=$1 name b
	shift
	tmp=$(mktemp -d "/tmp/zt-$tag.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	cg=zt-$tag-$$
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then bases=(/sys/fs/cgroup); else
		bases=(/sys/fs/cgroup/memory)
		[ -f /sys/fs/cgroup/unified/cgroup.procs ] && bases+=(/sys/fs/cgroup/unified)
	fi
	for name in "$@"; do
		for b in "${bases[@]}"; do mkdir "$b/$cg-$name" && cgdirs+=("$b/$cg-$name"); done
	done
}

bench_stop_on_exit() { bench_servers+=("$1 $2"); }

in_cg() { # NAME CMD... : this (sub)shell into cgroup $cg-NAME, then CMD
	local b n=$1
	shift
	for b in "${bases[@]}"; do echo "$BASHPID" >"$b/$cg-$n/cgroup.procs"; done
	exec "$@"
}

client() { # LOG CMD... : the client in the cgroup $cg-cli, waited for
	local log=$1
	shift
	in_cg cli "$@" >"$log" 2>&1 &
	wait $!
}

bench_agent_config() {
	local f extra
	for f in zerotap zerotap-both; do
		extra=''
		[ $f = zerotap ] || extra='"l7_local_once": false, '
		cat >"$tmp/$f.json" <<JSON
{ "agent": { $extra"plugin_dir": "$build/plugins-out" },
  "plugins": {
    "process": { "enabled": true, "config": { "container_ttl_ms": 600000 } },
    $1,
    "prometheus": { "enabled": true, "config": { "listen": "127.0.0.1:$prom" } } } }
JSON
	done
}

hooks_pid=''
hooks_start() { # HOOK...
	[ -x "$build/bench/zt-hooks" ] || bench_die "$build/bench/zt-hooks not built"
	"$build/bench/zt-hooks" "$@" >"$tmp/hooks.log" 2>&1 &
	hooks_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^attached' "$tmp/hooks.log" && return 0
		sleep 0.05
	done
	cat "$tmp/hooks.log" >&2
	bench_die "zt-hooks did not attach"
}
hooks_stop() {
	kill -INT "$hooks_pid"
	wait "$hooks_pid" || true
	hooks_pid=
}

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

ring_lost() { value "$1" zerotap_ringbuf_lost_events_total 'ring="l7"'; }

start_agent() { # [CONFIG] : until its l7 feature is up
	"$build/core/zerotap" --config "${1:-$tmp/zerotap.json}" 2>"$tmp/agent.log" &
	agent_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		scrape "$tmp/up" 2>/dev/null && grep -q '^zerotap_feature_up{.*feature="l7".*} 1' "$tmp/up" && return 0
		sleep 0.1
	done
	tail -20 "$tmp/agent.log" >&2
	bench_die "the agent's l7 feature is not up"
}

stop_agent() {
	kill -TERM "$agent_pid"
	wait "$agent_pid" || true
	agent_pid=
}

hz=$(getconf CLK_TCK)
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; } # utime + stime
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
pct() { awk -v x="$1" -v w="$2" 'BEGIN { printf "%.1f", x / w * 100 }'; } # SECONDS WINDOW
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# A measured window: the agent started (and settled) before, its counters
# read before and after (after it drained). Between the two, the script
# runs its client; window_end keeps the agent running.
window_begin() { # [CONFIG]
	start_agent "${1:-}"
	sleep 2.2
	scrape "$tmp/before"
	win_t0=$(ticks "$agent_pid")
	win_s0=$(date +%s.%N)
}

window_end() { # COUNT_FN : sets acpu lost n, and rss (KiB, at the window's end)
	local s1 t1 w
	s1=$(date +%s.%N)
	t1=$(ticks "$agent_pid")
	rss=$(rss_kib "$agent_pid")
	w=$(awk -v a="$win_s0" -v b="$s1" 'BEGIN { print b - a }')
	sleep 2.2
	scrape "$tmp/after"
	acpu=$(pct "$(awk -v t="$((t1 - win_t0))" -v hz="$hz" 'BEGIN { print t / hz }')" "$w")
	lost=$(($(ring_lost "$tmp/after") - $(ring_lost "$tmp/before")))
	n=$(($("$1" "$tmp/after") - $("$1" "$tmp/before")))
}

# The modes of a measured round, each with its own throughput:
#   off   nothing attached
#   hooks bench/zt-hooks: empty programs on $bench_hooks (the floor of
#         observing through the agent's hooks)
#   on    the agent, default config
#   both  the agent with agent.l7_local_once off: both ends of a local
#         connection parsed, what a server with remote clients pays
# Rounds run them in order, even rounds reversed (ABBA). BENCH_MODES
# replaces the list; it may also name burnPCT modes: bench/zt-burn using
# PCT % of one core beside the benchmark, no agent and no BPF (what CPU
# use alone costs the benchmark; its "agent CPU" is the burner's).
read -r -a bench_modes <<<"${BENCH_MODES:-off hooks on both}"
bench_hooks="sock_send_length sock_recv_length inet_sock_set_state"
round_order() { # ROUND
	local i out=()
	for ((i = 0; i < ${#bench_modes[@]}; i++)); do
		if (($1 % 2)); then out+=("${bench_modes[i]}"); else out+=("${bench_modes[${#bench_modes[@]} - 1 - i]}"); fi
	done
	echo "${out[*]}"
}
burn_pid=''
mode_begin() { # MODE : resets acpu lost n
	acpu=- lost=- n=-
	case $1 in
	hooks) hooks_start $bench_hooks ;;
	on) window_begin ;;
	both) window_begin "$tmp/zerotap-both.json" ;;
	burn*)
		[ -x "$build/bench/zt-burn" ] || bench_die "$build/bench/zt-burn not built"
		"$build/bench/zt-burn" "${1#burn}" >"$tmp/burn.log" 2>&1 &
		burn_pid=$!
		burn_t0=$(ticks "$burn_pid") burn_s0=$(date +%s%N)
		;;
	esac
}
mode_end() { # MODE COUNT_FN : acpu lost n for the agent's modes, acpu for burn
	case $1 in
	hooks) hooks_stop ;;
	on | both)
		window_end "$2"
		stop_agent
		;;
	burn*)
		acpu=$(pct "$(awk -v t=$(($(ticks "$burn_pid") - burn_t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { print t / hz }')" \
			"$(awk -v ns=$(($(date +%s%N) - burn_s0)) 'BEGIN { print ns / 1e9 }')")
		kill -INT "$burn_pid"
		wait "$burn_pid" || true
		burn_pid=
		;;
	esac
}
# loss_line LABEL KEY_PREFIX : "LABEL: loss per mode" from rate_of[KEY_PREFIX,round,mode]
# (median over rounds of each round's mode/off ratio)
loss_line() {
	local label=$1 k=$2 mode r out="" ratios
	for mode in "${bench_modes[@]}"; do
		[ "$mode" = off ] && continue
		ratios=()
		for ((r = 1; r <= rounds; r++)); do
			ratios+=("$(awk -v a="${rate_of[$k,$r,off]}" -v b="${rate_of[$k,$r,$mode]}" 'BEGIN { printf "%.4f", b / a }')")
		done
		out+="$(awk -v m="$mode" -v q="$(median "${ratios[@]}")" 'BEGIN { printf "%s %.2f %%, ", m, (1 - q) * 100 }')"
	done
	local offs=()
	for ((r = 1; r <= rounds; r++)); do offs+=("${rate_of[$k,$r,off]}"); done
	echo "$label: median off $(median "${offs[@]}"); throughput loss (median of per-round ratios to off): **${out%, }**."
}
