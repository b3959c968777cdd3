# shellcheck shell=bash
# Helpers shared by the TCP integration tests (tests/integration/tcp_*.sh),
# sourced after lib.sh. Not a test itself (no zt_integration_test line).
#
# What they add to lib.sh:
# - a client that lives in a cgroup of its own, so the agent reports its
#   connections under a container_id nobody else uses ("/zt-<test>-<pid>");
# - network namespace pairs joined by a veth, with private addresses that
#   exist only inside those namespaces (10.231.N.0/24, fd7a:e7a0:N::/64);
# - a small Python client and server (tcpkit.py, written into $T) that do
#   exactly the connects and transfers a test asks for and print what they
#   did, so the test compares the agent with the program's own account;
# - the cleanup of all of that on exit: our processes first (by PID), then
#   the namespaces (which takes their veths, qdiscs and nft tables along),
#   then the cgroups.
#
# Nothing here sends a packet anywhere but 127.0.0.1, ::1 and the addresses
# inside the namespaces the test created.

ZT_TCP_NETNS=()   # namespaces we created
ZT_TCP_CGROUPS=() # cgroup directories we created
ZT_TCP_CG_PROCS=()
ZT_TCP_KIT=$T/tcpkit.py
ZT_PY=/usr/bin/python3

for _c in ip nsenter nft tc ss "$ZT_PY"; do
	command -v "$_c" >/dev/null || zt_skip "$_c is not installed"
done
unset _c

zt_tcp_exit() {
	local rc=$? i d n
	set +e
	trap - ERR
	# Processes first: a namespace lives while a process holds it, and a
	# cgroup with tasks cannot be removed.
	for ((i = ${#ZT_PIDS[@]} - 1; i >= 0; i--)); do
		zt_kill_pid "${ZT_PIDS[i]}"
	done
	ZT_PIDS=()
	for n in "${ZT_TCP_NETNS[@]}"; do
		ip netns del "$n" 2>/dev/null || zt_log "cleanup: ip netns del $n failed"
	done
	for ((i = ${#ZT_TCP_CGROUPS[@]} - 1; i >= 0; i--)); do
		d=${ZT_TCP_CGROUPS[i]}
		for n in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$d" 2>/dev/null && break
			[ -d "$d" ] || break
			sleep 0.1
		done
		[ ! -d "$d" ] || zt_log "cleanup: could not remove cgroup $d"
	done
	(exit "$rc")
	zt_cleanup
}
trap zt_tcp_exit EXIT

# ----------------------------------------------------------------- config

# zt_tcp_config FILE PROM_PORT : the agent with the process plugin (for
# container ids) and a Prometheus endpoint. ZT_TCP_AGENT_KEYS is added to
# the agent section verbatim (e.g. '"tcp_poll_interval_ms": 200').
zt_tcp_config() {
	cat >"$1" <<EOF
{
  "agent": {
    "log_level": "${ZT_CFG_LOG_LEVEL:-info}",
    "plugin_dir": "$ZT_PLUGIN_DIR",
    "drain_interval_ms": 50${ZT_TCP_AGENT_KEYS:+,
    $ZT_TCP_AGENT_KEYS}
  },
  "plugins": {
$(zt_inst_prometheus "$2"),
$(zt_inst_process '"container_ttl_ms": 600000')
  }
}
EOF
}

# -------------------------------------------------------------- exposition

# zt_tcp_val NAME MATCHER... : the value in the last scrape, 0 when the
# series does not exist (a counter that has not moved yet).
zt_tcp_val() {
	metric_value "$@" || echo 0
}
# zt_tcp_sub A B : A - B, printed exactly for integers.
zt_tcp_sub() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d == int(d)) printf "%d\n", d; else printf "%.6f\n", d }'; }

# zt_tcp_snap NAME FAMILY MATCHER... : stores the value in ZT_SNAP_<NAME>.
# Deltas are then zt_tcp_sub of two snapshots.
zt_tcp_snap() {
	local n=$1
	shift
	printf -v "ZT_SNAP_$n" '%s' "$(zt_tcp_val "$@")"
}

# zt_tcp_ports COUNT : COUNT distinct free ports (one line) below the
# ephemeral range, so that no client socket on the machine can have one as
# its local port (it would look like a server port to tcplife/tcpstates).
# Use as: read -r P1 P2 < <(zt_tcp_ports 2)
zt_tcp_ports() {
	local lo p i got=" "
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	for ((i = 0; i < 1000 && $(wc -w <<<"$got") < $1; i++)); do
		p=$((10000 + RANDOM % (lo - 10000)))
		case "$got" in *" $p "*) continue ;; esac
		ss -Htan "sport = :$p" 2>/dev/null | grep -q . || got+="$p "
	done
	(($(wc -w <<<"$got") == $1)) || return 1
	echo $got
}

# ----------------------------------------------------------------- cgroups

# zt_tcp_cgroup NAME : creates cgroup NAME where this machine keeps
# containers' identity (v2 at /sys/fs/cgroup, or on a hybrid host the v1
# memory hierarchy and the v2 one at /sys/fs/cgroup/unified), so that the
# process plugin's container_id for a process in it is "/NAME".
# Sets ZT_TCP_CG_ID and ZT_TCP_CG_PROCS.
zt_tcp_cgroup() {
	local name=$1 base d
	ZT_TCP_CG_PROCS=()
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		set -- /sys/fs/cgroup
	else
		set -- /sys/fs/cgroup/memory
		[ -f /sys/fs/cgroup/unified/cgroup.procs ] && set -- "$@" /sys/fs/cgroup/unified
	fi
	for base in "$@"; do
		d=$base/$name
		[ -d "$d" ] && rmdir "$d" 2>/dev/null # a leftover of an interrupted run
		mkdir "$d" || zt_fail "mkdir $d"
		ZT_TCP_CGROUPS+=("$d")
		ZT_TCP_CG_PROCS+=("$d/cgroup.procs")
	done
	ZT_TCP_CG_ID=/$name
}

# zt_tcp_cg_exec CMD... : moves the calling (sub)shell into the cgroup of
# zt_tcp_cgroup, then execs CMD (so the PID zt_bg recorded is CMD's).
zt_tcp_cg_exec() {
	local f
	for f in "${ZT_TCP_CG_PROCS[@]}"; do
		echo "$BASHPID" >"$f" || exit 97
	done
	exec "$@"
}

# ---------------------------------------------------------------- netns

# zt_tcp_netns_pair TAG N : namespaces zt-TAG-a and zt-TAG-b joined by a
# veth (zt<N>a in a, zt<N>b in b), a = 10.231.N.1 / fd7a:e7a0:N::1, b =
# 10.231.N.2 / fd7a:e7a0:N::2. Sets NS_A NS_B DEV_A DEV_B A4 B4 A6 B6.
zt_tcp_netns_pair() {
	local tag=$1 n=$2
	NS_A=zt-$tag-a
	NS_B=zt-$tag-b
	DEV_A=zt${n}a
	DEV_B=zt${n}b
	A4=10.231.$n.1
	B4=10.231.$n.2
	A6=fd7a:e7a0:$n::1
	B6=fd7a:e7a0:$n::2
	ip netns del "$NS_A" 2>/dev/null || true # leftovers of an interrupted run
	ip netns del "$NS_B" 2>/dev/null || true
	ip netns add "$NS_A" && ZT_TCP_NETNS+=("$NS_A") || zt_fail "ip netns add $NS_A"
	ip netns add "$NS_B" && ZT_TCP_NETNS+=("$NS_B") || zt_fail "ip netns add $NS_B"
	ip link add "$DEV_A" netns "$NS_A" type veth peer name "$DEV_B" netns "$NS_B" ||
		zt_fail "veth $DEV_A/$DEV_B"
	ip -n "$NS_A" addr add "$A4/24" dev "$DEV_A"
	ip -n "$NS_B" addr add "$B4/24" dev "$DEV_B"
	ip -n "$NS_A" addr add "$A6/64" dev "$DEV_A" nodad
	ip -n "$NS_B" addr add "$B6/64" dev "$DEV_B" nodad
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" link set "$DEV_A" up
	ip -n "$NS_B" link set "$DEV_B" up
	zt_log "netns $NS_A ($DEV_A $A4 $A6) <-> $NS_B ($DEV_B $B4 $B6)"
}

zt_tcp_in_ns() { # NS CMD... : CMD in the network namespace NS (mounts untouched)
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# ------------------------------------------------------------ the programs

# zt_tcp_server LOG NETNS|- LISTEN... : starts tcpkit.py server (in NETNS
# unless "-"), with listeners MODE,HOST,PORT (MODE drain or reply:N), and
# waits until it listens. Extra server options in ZT_TCP_SERVER_OPTS. With
# ZT_TCP_SERVER_IN_CG=1 it runs in the cgroup of the last zt_tcp_cgroup.
zt_tcp_server() {
	local log=$1 ns=$2 l args=() pre=()
	shift 2
	for l in "$@"; do args+=(--listen "$l"); done
	[ "${ZT_TCP_SERVER_IN_CG:-0}" = 1 ] && pre=(zt_tcp_cg_exec)
	[ "$ns" = - ] || pre+=(nsenter --net="/run/netns/$ns")
	zt_bg "$log" "${pre[@]}" "$ZT_PY" "$ZT_TCP_KIT" server ${ZT_TCP_SERVER_OPTS:-} "${args[@]}"
	ZT_TCP_SERVER_PID=$ZT_BG_PID
	zt_wait_until 10 "server listening ($log)" grep -q '^READY' "$log"
}

# zt_tcp_client NETNS|- : starts the tcpkit.py client in the test's cgroup
# (zt_tcp_cgroup first), in NETNS unless "-". It takes commands on a FIFO
# (zt_tcp_cmd). Sets ZT_TCP_CLIENT_PID, ZT_TCP_CLIENT_LOG.
ZT_TCP_CLIENTS=0
zt_tcp_client() {
	local ns=$1
	ZT_TCP_CLIENTS=$((ZT_TCP_CLIENTS + 1))
	ZT_TCP_CTL=$T/client$ZT_TCP_CLIENTS.ctl
	ZT_TCP_CLIENT_LOG=$T/client$ZT_TCP_CLIENTS.log
	mkfifo "$ZT_TCP_CTL"
	if [ "$ns" = - ]; then
		zt_bg "$ZT_TCP_CLIENT_LOG" zt_tcp_cg_exec "$ZT_PY" "$ZT_TCP_KIT" client --ctl "$ZT_TCP_CTL"
	else
		zt_bg "$ZT_TCP_CLIENT_LOG" zt_tcp_cg_exec nsenter --net="/run/netns/$ns" "$ZT_PY" "$ZT_TCP_KIT" client --ctl "$ZT_TCP_CTL"
	fi
	ZT_TCP_CLIENT_PID=$ZT_BG_PID
	zt_wait_until 10 "client ready ($ZT_TCP_CLIENT_LOG)" grep -q '^READY' "$ZT_TCP_CLIENT_LOG"
	local cg
	cg=$(grep -m1 -E '^[0-9]+:memory:|^0::' "/proc/$ZT_TCP_CLIENT_PID/cgroup" | cut -d: -f3-)
	[ "$cg" = "$ZT_TCP_CG_ID" ] || zt_fail "client pid $ZT_TCP_CLIENT_PID is in cgroup '$cg', not $ZT_TCP_CG_ID"
}

# zt_tcp_use CTL LOG PID : switches zt_tcp_cmd to another client (save
# "$ZT_TCP_CTL" "$ZT_TCP_CLIENT_LOG" "$ZT_TCP_CLIENT_PID" after starting it).
zt_tcp_use() {
	ZT_TCP_CTL=$1
	ZT_TCP_CLIENT_LOG=$2
	ZT_TCP_CLIENT_PID=$3
}

# zt_tcp_agent_knows_client PORT : true once the agent exports any series
# with the client's container_id (the process plugin saw it).
zt_tcp_agent_knows_client() {
	zt_scrape "$1" || return 1
	grep -qF "container_id=\"$ZT_TCP_CG_ID\"" "$ZT_LAST_SCRAPE"
}

# zt_tcp_cmd TIMEOUT_S VERB ID ARGS... : sends one command to the client and
# waits for its "DONE ID ..." (or "HOLD ID ..." for bulk/stream) line, which
# lands in ZT_TCP_REPLY. A line "ERR ID ..." fails the test.
ZT_TCP_SEQ=0
zt_tcp_cmd() {
	local timeout=$1 verb=$2
	shift 2
	ZT_TCP_SEQ=$((ZT_TCP_SEQ + 1))
	local id="c$ZT_TCP_SEQ" want=DONE
	case "$verb" in bulk | stream) want=HOLD ;; esac
	echo "$verb $id $*" >"$ZT_TCP_CTL"
	zt_tcp_wait_reply "$timeout" "$want" "$id"
	ZT_TCP_ID=$id
}
zt_tcp_send_more() { # TIMEOUT_S ID N : N more bytes on a held bulk connection
	local before t0
	before=$(zt_complete_lines "$ZT_TCP_CLIENT_LOG" | grep -c "^SENT $2 " || true)
	echo "send $2 $3" >"$ZT_TCP_CTL"
	t0=$(zt_now_ms)
	while (($(zt_complete_lines "$ZT_TCP_CLIENT_LOG" | grep -c "^SENT $2 " || true) == before)); do
		grep -q "^ERR $2 " "$ZT_TCP_CLIENT_LOG" && zt_fail "client: $(grep "^ERR $2 " "$ZT_TCP_CLIENT_LOG" | tail -n 1)"
		(($(zt_since_ms "$t0") < $1 * 1000)) || zt_fail "client sent no 'SENT $2' within $1 s"
		sleep 0.05
	done
	ZT_TCP_REPLY=$(zt_complete_lines "$ZT_TCP_CLIENT_LOG" | grep "^SENT $2 " | tail -n 1)
}

# zt_tcp_oneshot LOG HOST PORT COUNT : a new, short-lived process in the
# cgroup (never seen by the agent before) makes COUNT blocking connects and
# exits at once. Its "DONE" line lands in ZT_TCP_REPLY.
zt_tcp_oneshot() {
	local log=$1
	shift
	(zt_tcp_cg_exec "$ZT_PY" "$ZT_TCP_KIT" oneshot "$@") >"$log" 2>&1 || zt_fail "oneshot client failed: $(cat "$log")"
	ZT_TCP_REPLY=$(grep '^DONE' "$log") || zt_fail "oneshot client printed no DONE: $(cat "$log")"
}
zt_tcp_release() { # TIMEOUT_S ID : lets a held bulk/stream connection close
	echo "release $2" >"$ZT_TCP_CTL"
	zt_tcp_wait_reply "$1" DONE "$2"
}
# The complete lines of a file the client is still writing: a reader can see
# a write(2) to a regular file half done, so a last line without its newline
# is left out (read once, so the check and the text agree).
zt_complete_lines() { # FILE
	local c
	c=$(
		cat "$1"
		echo x
	)
	c=${c%x}
	case "$c" in
	*$'\n') printf '%s' "$c" ;;
	*$'\n'*) printf '%s\n' "${c%$'\n'*}" ;;
	*) ;;
	esac
}
zt_tcp_wait_reply() { # TIMEOUT_S WORD ID
	local t0 line
	t0=$(zt_now_ms)
	while :; do
		line=$(zt_complete_lines "$ZT_TCP_CLIENT_LOG" | grep -E "^(ERR|$2) $3( |\$)" | tail -n 1) || true
		if [ -n "$line" ]; then
			case "$line" in ERR*) zt_fail "client: $line" ;; esac
			ZT_TCP_REPLY=$line
			return 0
		fi
		zt_proc_alive "$ZT_TCP_CLIENT_PID" || zt_fail "client exited (log $ZT_TCP_CLIENT_LOG)"
		(($(zt_since_ms "$t0") < $1 * 1000)) || zt_fail "client gave no '$2 $3' within $1 s"
		sleep 0.05
	done
}
# zt_tcp_field KEY : the value of KEY=VALUE in ZT_TCP_REPLY.
zt_tcp_field() {
	local w
	for w in $ZT_TCP_REPLY; do
		case "$w" in "$1="*) echo "${w#*=}" && return 0 ;; esac
	done
	return 1
}

# ------------------------------------------------------- the BPF reference

# zt_tcp_reference_start TOOL : libbpf-tools TOOL (tcplife, tcpstates) in
# wide mode, flushing every line, until zt_tcp_reference_stop.
zt_tcp_reference_start() {
	local tool=$1
	[ -x "/usr/sbin/$tool" ] || zt_skip "/usr/sbin/$tool missing (package libbpf-tools)"
	zt_bg "$T/$tool.out" timeout -s INT 600 stdbuf -oL "/usr/sbin/$tool" -w
	printf -v "ZT_REF_PID_$tool" '%s' "$ZT_BG_PID"
	# the header is printed once the programs are attached
	zt_wait_until 15 "$tool attached" grep -q 'PID' "$T/$tool.out"
}
# zt_tcp_reference_stop TOOL : SIGINT (the libbpf tools flush on SIGINT only).
zt_tcp_reference_stop() {
	local v="ZT_REF_PID_$1" pid
	pid=${!v}
	sleep 0.5
	kill -INT "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do zt_proc_alive "$pid" || break; sleep 0.05; done
	zt_reap "$pid"
}

# --------------------------------------------------------------- tcpkit.py

cat >"$ZT_TCP_KIT" <<'PYEOF'
"""tcpkit: the TCP client and server of zerotap's tcp_* integration tests.

server --listen MODE,HOST,PORT ... [--rcvbuf N]
    MODE drain: read until EOF, close.  MODE reply:N: read until EOF, send
    N bytes, close.  One thread per connection; one "CONN ..." line each.
client --ctl FIFO
    Reads commands from FIFO, one per line, and prints one result line each:
      connect ID HOST PORT COUNT STYLE TIMEOUT_S   -> DONE ID ok= refused= timeout= other=
          STYLE block (blocking connect), nonblock (poll for TIMEOUT_S),
          sndtimeo (blocking connect with SO_SNDTIMEO = TIMEOUT_S)
      xfer ID HOST PORT UP DOWN       send UP bytes, shut down writing, read
                                      until EOF: -> DONE ID sent= recv= lport=
      bulk ID HOST PORT UP CC         send UP bytes, wait until all are
                                      acknowledged, -> HOLD ID lport=; then
                                      "send ID N" sends N more (-> SENT ID),
                                      "release ID" closes it -> DONE ID
      stream ID HOST PORT CC          send until "release ID" -> HOLD, DONE
    CC is a congestion control name for TCP_CONGESTION, or "-".
"""
import argparse
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import termios
import threading
import time

CHUNK = 65536
PAYLOAD = bytes(range(256)) * (CHUNK // 256)
OUT_LOCK = threading.Lock()


def out(*a):
    with OUT_LOCK:  # server threads print too: one whole line at a time
        print(*a, flush=True)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# ------------------------------------------------------------------ server

def serve_conn(c, peer, mode, n):
    got = sent = 0
    try:
        while True:
            b = c.recv(CHUNK)
            if not b:
                break
            got += len(b)
        while sent < n:
            sent += c.send(PAYLOAD[: min(CHUNK, n - sent)])
    except OSError as e:
        out("CONNERR", peer, e)
    finally:
        c.close()
    out("CONN", "peer=%s:%d" % peer[:2], "mode=%s" % mode, "recv=%d" % got, "sent=%d" % sent)


def listener(spec, rcvbuf):
    mode, host, port = spec.split(",")
    n = 0
    if mode.startswith("reply:"):
        n = int(mode.split(":", 1)[1])
    elif mode != "drain":
        sys.exit("bad mode " + mode)
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, int(port)))
    s.listen(512)
    return s, mode, n


def server(args):
    ls = [listener(spec, args.rcvbuf) for spec in args.listen]
    for s, mode, n in ls:
        out("LISTEN", mode, s.getsockname()[0], s.getsockname()[1])

    def loop(s, mode, n):
        while True:
            c, peer = s.accept()
            threading.Thread(target=serve_conn, args=(c, peer, mode, n), daemon=True).start()

    for s, mode, n in ls:
        threading.Thread(target=loop, args=(s, mode, n), daemon=True).start()
    out("READY")
    while True:
        time.sleep(3600)


# ------------------------------------------------------------------ client

class Ctl:
    """Line reader over the command FIFO (opened read-write: never EOF)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR)
        self.buf = b""

    def lines(self, timeout=None):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if r:
            self.buf += os.read(self.fd, 4096)
        res = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                res.append(line.decode().split())
        return res

    def wait_release(self, cid, sock=None, held=None):
        """Blocks until "release CID"; while waiting, streams on sock if
        given, and serves "send CID N" (N more bytes on the held socket,
        then wait until they are acknowledged -> SENT CID)."""
        while True:
            if sock is not None:
                r, w, _ = select.select([self.fd], [sock], [], 1.0)
                if sock in w:
                    try:
                        self.sent += sock.send(PAYLOAD)
                    except BlockingIOError:
                        pass
                if self.fd not in r:
                    continue
            for cmd in self.lines(None if sock is None else 0):
                if cmd[:2] == ["release", cid]:
                    return
                if cmd[:2] == ["send", cid] and held is not None:
                    n = send_n(held, int(cmd[2]))
                    outq = wait_acked(held)
                    out("SENT", cid, "sent=%d" % n, "outq=%d" % outq)
                    continue
                out("ERR", cmd[1] if len(cmd) > 1 else "?", "busy with", cid)


def one_connect(host, port, style, timeout):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    try:
        if style == "block":
            s.connect((host, port))
            return "ok"
        if style == "sndtimeo":
            sec = int(timeout)
            tv = struct.pack("ll", sec, int((timeout - sec) * 1e6))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
            s.connect((host, port))
            return "ok"
        s.setblocking(False)
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            return errno.errorcode.get(err, str(err))
        _, w, _ = select.select([], [s], [], timeout)
        if not w:
            return "timeout"
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            return "ok"
        return "refused" if err == errno.ECONNREFUSED else errno.errorcode.get(err, str(err))
    except ConnectionRefusedError:
        return "refused"
    except BlockingIOError:  # SO_SNDTIMEO expired: EINPROGRESS
        return "timeout"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()


def connected(host, port, cc):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    if cc != "-":
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    s.connect((host, port))
    return s


def send_n(s, n):
    sent = 0
    while sent < n:
        sent += s.send(PAYLOAD[: min(CHUNK, n - sent)])
    return sent


def wait_acked(s, limit=120):
    """Waits until nothing is left unsent or unacknowledged; returns what is."""
    deadline = time.monotonic() + limit
    while True:
        q = struct.unpack("i", fcntl.ioctl(s, termios.TIOCOUTQ, b"\0" * 4))[0]
        if q == 0 or time.monotonic() > deadline:
            return q
        time.sleep(0.005)


def client(args):
    ctl = Ctl(args.ctl)
    out("READY", "pid=%d" % os.getpid())
    while True:
        for cmd in ctl.lines():
            verb, cid, rest = cmd[0], cmd[1] if len(cmd) > 1 else "?", cmd[2:]
            t0 = time.monotonic()
            try:
                if verb == "quit":
                    out("DONE", cid)
                    return
                if verb == "connect":
                    host, port, count, style, timeout = rest[0], int(rest[1]), int(rest[2]), rest[3], float(rest[4])
                    res = {"ok": 0, "refused": 0, "timeout": 0}
                    other = []
                    for _ in range(count):
                        r = one_connect(host, port, style, timeout)
                        if r in res:
                            res[r] += 1
                        else:
                            other.append(r)
                    out("DONE", cid, *("%s=%d" % kv for kv in res.items()),
                        "other=%d" % len(other), "other_kinds=%s" % (",".join(sorted(set(other))) or "-"),
                        "ms=%d" % ((time.monotonic() - t0) * 1000))
                elif verb == "xfer":
                    host, port, up, down = rest[0], int(rest[1]), int(rest[2]), int(rest[3])
                    s = connected(host, port, "-")
                    lport = s.getsockname()[1]
                    sent = send_n(s, up)
                    s.shutdown(socket.SHUT_WR)
                    got = 0
                    while True:
                        b = s.recv(CHUNK)
                        if not b:
                            break
                        got += len(b)
                    s.close()
                    if got != down:
                        out("ERR", cid, "received %d bytes, expected %d" % (got, down))
                        continue
                    out("DONE", cid, "sent=%d" % sent, "recv=%d" % got, "lport=%d" % lport,
                        "ms=%d" % ((time.monotonic() - t0) * 1000))
                elif verb == "bulk":
                    host, port, up, cc = rest[0], int(rest[1]), int(rest[2]), rest[3]
                    s = connected(host, port, cc)
                    lport = s.getsockname()[1]
                    connect_ms = (time.monotonic() - t0) * 1000
                    sent = send_n(s, up)
                    outq = wait_acked(s)
                    out("HOLD", cid, "lport=%d" % lport, "sent=%d" % sent, "outq=%d" % outq,
                        "connect_ms=%d" % connect_ms, "ms=%d" % ((time.monotonic() - t0) * 1000))
                    ctl.wait_release(cid, held=s)
                    s.close()
                    out("DONE", cid, "lport=%d" % lport)
                elif verb == "stream":
                    host, port, cc = rest[0], int(rest[1]), rest[2]
                    s = connected(host, port, cc)
                    s.setblocking(False)
                    lport = s.getsockname()[1]
                    out("HOLD", cid, "lport=%d" % lport)
                    ctl.sent = 0
                    ctl.wait_release(cid, s)
                    s.setblocking(True)
                    s.close()
                    out("DONE", cid, "lport=%d" % lport, "sent=%d" % ctl.sent)
                else:
                    out("ERR", cid, "unknown command", verb)
            except Exception as e:  # report, keep serving
                out("ERR", cid, type(e).__name__, e)


def oneshot(args):
    res = {"ok": 0, "refused": 0, "timeout": 0}
    for _ in range(args.count):
        r = one_connect(args.host, args.port, "block", 5.0)
        res[r] = res.get(r, 0) + 1
    out("DONE", "oneshot", "pid=%d" % os.getpid(), *("%s=%d" % kv for kv in res.items()))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    po = sub.add_parser("oneshot")
    po.add_argument("host")
    po.add_argument("port", type=int)
    po.add_argument("count", type=int)
    ps = sub.add_parser("server")
    ps.add_argument("--listen", action="append", required=True)
    ps.add_argument("--rcvbuf", type=int, default=0)
    pc = sub.add_parser("client")
    pc.add_argument("--ctl", required=True)
    a = p.parse_args()
    {"server": server, "client": client, "oneshot": oneshot}[a.cmd](a)


if __name__ == "__main__":
    main()
PYEOF
