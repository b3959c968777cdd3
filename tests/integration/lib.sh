# shellcheck shell=bash
# Shared helpers for the root integration tests (tests/integration/*.sh).
#
# Sourced by every test, which runs it as `bash tests/integration/<x>.sh`
# from ctest with ZT_SOURCE_DIR and ZT_BINARY_DIR in the environment.
# The helpers own everything a test starts: every background process is
# recorded by PID and killed (then waited for) by the EXIT trap, every
# podman container created through zt_podman_run is removed, and on failure
# the agent logs are printed. Nothing here talks to anything but 127.0.0.1.
#
# Knobs: ZT_KEEP_TMP=1 keeps the temp dir; ZT_TEST_DEADLINE (seconds) is
# the test's own watchdog, which fires before ctest's TIMEOUT so that the
# cleanup still runs.

set -Eeuo pipefail

: "${ZT_SOURCE_DIR:?set ZT_SOURCE_DIR (the source tree)}"
: "${ZT_BINARY_DIR:?set ZT_BINARY_DIR (the build tree)}"
ZT_SOURCE_DIR=$(cd "$ZT_SOURCE_DIR" && pwd)
ZT_BINARY_DIR=$(cd "$ZT_BINARY_DIR" && pwd)
ZT_AGENT=${ZT_AGENT:-$ZT_BINARY_DIR/core/zerotap}
ZT_PLUGIN_DIR=${ZT_PLUGIN_DIR:-$ZT_BINARY_DIR/plugins-out}
ZT_FIXTURE_DIR=${ZT_FIXTURE_DIR:-$ZT_BINARY_DIR/abi-fixtures}
ZT_TEST=$(basename "$0" .sh)
# set -e exits quietly; say which command did it.
trap 'printf "[%s] FAIL: exit %s at %s:%s: %s\n" "$ZT_TEST" "$?" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR
ZT_IMAGE=localhost/zt-bb:1
ZT_PODMAN=(podman --runtime runc)
ZT_ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

export LC_ALL=C
if [ "$(id -u)" != 0 ]; then
	echo "[$ZT_TEST] SKIP: integration tests run as root (BPF, podman)"
	exit 77
fi
T=$(mktemp -d "/tmp/zt-it-$ZT_TEST.XXXXXX")

ZT_PIDS=()        # every background process we started, in start order
ZT_CONTAINERS=()  # podman containers we created
ZT_LOGS=()        # logs to show on failure
ZT_WATCHDOG=
ZT_PASSED=0
ZT_AGENT_PID=
ZT_AGENT_LOG=
ZT_LAST_SCRAPE=

# ------------------------------------------------------------------ output

zt_log() { printf '[%s %s] %s\n' "$ZT_TEST" "$(date +%T.%3N)" "$*"; }
zt_ok() { printf '[%s] ok: %s\n' "$ZT_TEST" "$*"; }
zt_fail() {
	printf '[%s] FAIL: %s\n' "$ZT_TEST" "$*" >&2
	exit 1
}
zt_skip() { # ctest treats exit code 77 as skipped (SKIP_RETURN_CODE)
	printf '[%s] SKIP: %s\n' "$ZT_TEST" "$*"
	ZT_PASSED=1
	exit 77
}
# A failure that does not stop the test: later checks still run, and
# zt_pass fails the test at the end.
ZT_DEFERRED=()
zt_fail_later() {
	printf '[%s] FAIL (continuing): %s\n' "$ZT_TEST" "$*" >&2
	ZT_DEFERRED+=("$*")
}
zt_pass() {
	local m
	if [ ${#ZT_DEFERRED[@]} != 0 ]; then
		for m in "${ZT_DEFERRED[@]}"; do printf '[%s] FAIL: %s\n' "$ZT_TEST" "$m" >&2; done
		zt_fail "${#ZT_DEFERRED[@]} check(s) failed (above)"
	fi
	ZT_PASSED=1
	printf '[%s] PASS\n' "$ZT_TEST"
}

# Milliseconds since the epoch, and elapsed ms since a mark.
zt_now_ms() { echo $(($(date +%s%N) / 1000000)); }
zt_since_ms() { echo $(($(zt_now_ms) - $1)); }

# ----------------------------------------------------------------- cleanup

zt_proc_alive() { # true while PID exists and is not a zombie
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Stops one of our children: SIGTERM, up to 5 s, then SIGKILL; then reaps it.
zt_kill_pid() {
	local pid=$1 i
	if zt_proc_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			zt_proc_alive "$pid" || break
			sleep 0.05
		done
		if zt_proc_alive "$pid"; then
			zt_log "pid $pid ignored SIGTERM for 5 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

zt_cleanup() {
	local rc=$? i name
	set +e
	trap - EXIT INT TERM HUP ERR
	if [ -n "$ZT_WATCHDOG" ]; then
		kill -TERM "$ZT_WATCHDOG" 2>/dev/null
		wait "$ZT_WATCHDOG" 2>/dev/null
	fi
	for ((i = ${#ZT_PIDS[@]} - 1; i >= 0; i--)); do
		zt_kill_pid "${ZT_PIDS[i]}"
	done
	for name in "${ZT_CONTAINERS[@]}"; do
		timeout 60 "${ZT_PODMAN[@]}" rm -f -t 0 "$name" >/dev/null 2>&1
	done
	if [ "$ZT_PASSED" != 1 ] && [ "$rc" = 0 ]; then
		rc=1
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		for name in "${ZT_LOGS[@]}"; do
			[ -f "$name" ] || continue
			echo "----- $name (last 150 lines) -----"
			tail -n 150 "$name"
		done
		echo "----- end of logs; temp dir $T $([ "${ZT_KEEP_TMP:-0}" = 1 ] && echo kept || echo removed) -----"
	fi
	if [ "${ZT_KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$T"
	fi
	exit "$rc"
}
trap zt_cleanup EXIT
trap 'zt_log "interrupted"; exit 130' INT
trap 'zt_log "terminated (deadline or ctest timeout)"; exit 143' TERM
trap 'exit 129' HUP

# The test's own deadline: SIGTERM to this shell, so the EXIT trap cleans up.
zt_watchdog() {
	local secs=$1 self=$$
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$secs" &
		sp=$!
		wait "$sp"
		echo "[$ZT_TEST] FAIL: test deadline of ${secs}s reached" >&2
		kill -TERM "$self"
	) &
	ZT_WATCHDOG=$!
}
zt_watchdog "${ZT_TEST_DEADLINE:-240}"

# Runs a command in the background, records its PID (in ZT_BG_PID).
zt_bg() { # zt_bg LOGFILE CMD...
	local log=$1
	shift
	"$@" >"$log" 2>&1 </dev/null &
	ZT_BG_PID=$!
	ZT_PIDS+=("$ZT_BG_PID")
	ZT_LOGS+=("$log")
}

# ----------------------------------------------------------------- polling

# zt_wait_until TIMEOUT_S DESCRIPTION CMD... : runs CMD every 0.2 s until it
# succeeds; prints the elapsed ms in ZT_WAITED_MS; fails the test on timeout.
zt_wait_until() {
	local timeout=$1 desc=$2 t0
	shift 2
	t0=$(zt_now_ms)
	while ! "$@"; do
		if (($(zt_since_ms "$t0") > timeout * 1000)); then
			zt_fail "timed out after ${timeout}s waiting for: $desc"
		fi
		sleep 0.2
	done
	ZT_WAITED_MS=$(zt_since_ms "$t0")
}

# --------------------------------------------------------------- ports

# any TCP socket on the port: a listener, or a connection whose local end
# holds it (a bind to it fails then too)
zt_port_in_use() { ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }

# A free 127.0.0.1 TCP port in 10000..32767, not handed out before in this
# test: below the kernel's ephemeral range (32768..60999 here), so no
# client's connect can take it between this check and the server's bind.
ZT_PORTS_GIVEN=" "
ZT_PORT_TOP=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "${ZT_PORT_TOP:-0}" -gt 12000 ] 2>/dev/null || ZT_PORT_TOP=32768
zt_free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (ZT_PORT_TOP - 10000)))
		case "$ZT_PORTS_GIVEN" in *" $p "*) continue ;; esac
		if ! zt_port_in_use "$p"; then
			ZT_PORTS_GIVEN+="$p "
			echo "$p"
			return 0
		fi
	done
	zt_fail "no free port found"
}

# ----------------------------------------------------------------- config

# Instance snippets for zt_config.
zt_inst_prometheus() { # PORT [NAME]
	printf '    "%s": { "plugin": "prometheus", "enabled": true, "required": true,\n      "config": { "listen": "127.0.0.1:%s", "path": "/metrics" } }' "${2:-prometheus}" "$1"
}
zt_inst_process() { # [EXTRA_CONFIG_JSON]
	printf '    "process": { "enabled": true, "config": { "interval_ms": 1000%s } }' "${1:+, $1}"
}
zt_inst_node() { # [INTERVAL_MS]
	printf '    "node": { "enabled": true, "config": { "interval_ms": %s } }' "${1:-1000}"
}

# zt_config FILE INSTANCE_SNIPPET... : the agent section plus the instances.
# ZT_PLUGIN_DIR_OVERRIDE replaces the plugin dir; ZT_CFG_AGENT_EXTRA, if
# set, is more agent keys ('"key": value, ...').
zt_config() {
	local f=$1 first=1 s
	shift
	{
		printf '{\n  "agent": {\n'
		printf '    "log_level": "%s",\n' "${ZT_CFG_LOG_LEVEL:-info}"
		printf '    "plugin_dir": "%s",\n' "${ZT_PLUGIN_DIR_OVERRIDE:-$ZT_PLUGIN_DIR}"
		[ -z "${ZT_CFG_AGENT_EXTRA:-}" ] || printf '    %s,\n' "$ZT_CFG_AGENT_EXTRA"
		printf '    "drain_interval_ms": 50\n'
		printf '  },\n  "plugins": {\n'
		for s in "$@"; do
			[ $first = 1 ] || printf ',\n'
			first=0
			printf '%s' "$s"
		done
		printf '\n  }\n}\n'
	} >"$f"
}

# --------------------------------------------------------------- the agent

# zt_start_agent CONFIG [BINARY] : starts the agent in the background.
# Sets ZT_AGENT_PID, ZT_AGENT_LOG (a new log per start) and ZT_AGENT_T0.
ZT_AGENT_STARTS=0
zt_start_agent() {
	local cfg=$1 bin=${2:-$ZT_AGENT}
	[ -x "$bin" ] || zt_fail "agent binary $bin not built"
	ZT_AGENT_STARTS=$((ZT_AGENT_STARTS + 1))
	ZT_AGENT_LOG=$T/agent.$ZT_AGENT_STARTS.log
	ZT_AGENT_T0=$(zt_now_ms)
	zt_bg "$ZT_AGENT_LOG" "$bin" --config "$cfg"
	ZT_AGENT_PID=$ZT_BG_PID
	zt_log "agent pid $ZT_AGENT_PID started ($bin --config $cfg), log $ZT_AGENT_LOG"
}

zt_agent_alive() { zt_proc_alive "$ZT_AGENT_PID"; }
zt_proc_dead() { ! zt_proc_alive "$1"; }

# zt_reap PID : waits for an exited child, sets ZT_REAP_RC, and forgets the
# PID so that the cleanup never signals a recycled PID.
zt_reap() {
	local p keep=()
	ZT_REAP_RC=0
	wait "$1" || ZT_REAP_RC=$?
	for p in "${ZT_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	ZT_PIDS=("${keep[@]}")
}

zt_metrics_up() { # PORT
	zt_agent_alive || zt_fail "agent exited while waiting for its metrics port (see log)"
	curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$1/metrics"
}

# zt_wait_metrics PORT [TIMEOUT_S]
zt_wait_metrics() {
	zt_wait_until "${2:-10}" "metrics on 127.0.0.1:$1" zt_metrics_up "$1"
	zt_log "metrics on 127.0.0.1:$1 answered ${ZT_WAITED_MS} ms after the agent started"
}

# zt_scrape PORT [OUT] : scrapes into OUT (default $T/scrape.txt) and makes it
# the exposition metric_value reads.
ZT_SCRAPES=0
zt_scrape() {
	local out=${2:-$T/scrape.txt}
	ZT_SCRAPES=$((ZT_SCRAPES + 1))
	curl -sf --max-time 5 -o "$out.tmp" "http://127.0.0.1:$1/metrics" || return 1
	mv "$out.tmp" "$out"
	ZT_LAST_SCRAPE=$out
}

# zt_stop_agent SIGNAL [MAX_MS] : sends SIGNAL, waits for the exit (bounded).
# Sets ZT_STOP_MS (signal to exit) and ZT_STOP_RC (exit status).
zt_stop_agent() {
	local sig=$1 max=${2:-10000} t0
	t0=$(zt_now_ms)
	kill "-$sig" "$ZT_AGENT_PID"
	while zt_proc_alive "$ZT_AGENT_PID"; do
		if (($(zt_since_ms "$t0") > max)); then
			zt_fail "agent still running ${max} ms after SIG$sig"
		fi
		sleep 0.01
	done
	ZT_STOP_MS=$(zt_since_ms "$t0")
	zt_reap "$ZT_AGENT_PID"
	ZT_STOP_RC=$ZT_REAP_RC
}

# --------------------------------------------------------------- exposition

# zt_series NAME [LABEL_MATCHER...] : prints the matching sample lines of the
# last scrape. A matcher is `label="value"` (exact label value) or a bare
# `label` (the label is present, any value).
zt_series() {
	local name=$1
	shift
	awk -v name="$name" -v matchers="$*" '
	BEGIN { n = split(matchers, m, " ") }
	/^#/ { next }
	{
		brace = index($0, "{")
		if (brace) { metric = substr($0, 1, brace - 1) } else { split($0, f, " "); metric = f[1] }
		if (metric != name) next
		labels = ""
		if (brace) {
			close_at = 0
			for (i = length($0); i > brace; i--) if (substr($0, i, 1) == "}") { close_at = i; break }
			labels = "," substr($0, brace + 1, close_at - brace - 1)
		}
		for (i = 1; i <= n; i++) {
			if (index(m[i], "=")) {
				if (!index(labels, "," m[i])) next
			} else if (!index(labels, "," m[i] "=\"")) next
		}
		print
	}' "$ZT_LAST_SCRAPE"
}
# NB: matchers are split on spaces, so label values given here must not
# contain spaces; match those with zt_series ... | grep -F.

# metric_value NAME [LABEL_MATCHER...] : the value of the first matching
# series; returns 1 (and prints nothing) when there is none.
metric_value() {
	local line
	line=$(zt_series "$@" | head -n 1)
	[ -n "$line" ] || return 1
	# the value is the first field after the label set (a timestamp may follow)
	if [[ $line == *"}"* ]]; then line=${line##*\}}; else line=${line#* }; fi
	read -r line _ <<<"$line"
	echo "$line"
}

metric_count() { zt_series "$@" | wc -l; }

# zt_label_value LINE LABEL : a label's value in one sample line.
zt_label_value() {
	local v
	v=$(printf '%s\n' "$1" | grep -o "[{,]$2=\"[^\"]*\"" | head -n 1) || return 1
	v=${v#*=\"}
	echo "${v%\"}"
}

# Float comparisons through awk.
zt_num_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
zt_num_gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
zt_num_eq() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; }

zt_machine_id() {
	local id=
	[ -r /etc/machine-id ] && id=$(head -n 1 /etc/machine-id)
	[ -n "$id" ] || { [ -r /var/lib/dbus/machine-id ] && id=$(head -n 1 /var/lib/dbus/machine-id); }
	echo "$id"
}

# ------------------------------------------------------------------ podman

# Builds localhost/zt-bb:1 (busybox-static as a one-binary image) if missing.
zt_podman_image() {
	command -v podman >/dev/null || zt_fail "podman is not installed"
	[ -x /bin/busybox ] || zt_fail "busybox-static is not installed (/bin/busybox)"
	if timeout 60 "${ZT_PODMAN[@]}" image exists "$ZT_IMAGE"; then
		return 0
	fi
	local r=$T/rootfs c
	mkdir -p "$r/bin" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/etc"
	cp /bin/busybox "$r/bin/busybox"
	for c in sh sleep cat echo ls dd head; do ln -s busybox "$r/bin/$c"; done
	tar -C "$r" -cf "$T/rootfs.tar" .
	timeout 120 "${ZT_PODMAN[@]}" import "$T/rootfs.tar" "$ZT_IMAGE" >"$T/podman-import.log" 2>&1 ||
		{ cat "$T/podman-import.log" >&2; zt_fail "podman import of $ZT_IMAGE failed"; }
	zt_log "built image $ZT_IMAGE"
}

# zt_podman_run NAME PODMAN_RUN_ARGS... : `podman run -d --name NAME`, with the
# ulimits this machine needs; NAME is removed first (a leftover of an
# interrupted run) and on exit.
zt_podman_run() {
	local name=$1
	shift
	ZT_CONTAINERS+=("$name")
	timeout 60 "${ZT_PODMAN[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
	timeout 60 "${ZT_PODMAN[@]}" run -d --name "$name" "${ZT_ULIMITS[@]}" "$@" >"$T/podman-run-$name.out" 2>&1 ||
		{ cat "$T/podman-run-$name.out" >&2; zt_fail "podman run $name failed"; }
}
