#!/usr/bin/env bash
# TCP bytes counted exactly through half-closed connections and every way a
# connection can end. Each pattern has a server port of its own, so a wrong
# count names its pattern and direction:
#   chc_sfirst  the client shuts down writing (FIN_WAIT2 / CLOSE_WAIT); the
#               server keeps sending for ~0.4 s, then closes first;
#   chc_cfirst  the same, but the client closes first (its socket becomes a
#               FIN_WAIT2 timewait socket), the server later;
#   shc_cfirst  the server shuts down writing after its reply; the client
#               keeps sending for ~0.4 s, then closes first;
#   shc_sfirst  the same, the server closes first;
#   simul       both send for ~0.4 s at once, then shut down writing at the
#               same instant (FINs cross: FIN_WAIT1 -> CLOSING when they do);
#   rst_cunread the client half-closes, the server's reply is acknowledged
#               but the client reads only part of it and closes: RST from
#               FIN_WAIT2 into CLOSE_WAIT;
#   rst_sunread the mirror: the server half-closes and closes on unread data;
#   linger0_c   client half-close, then an abortive close (SO_LINGER 0)
#               from FIN_WAIT2 after reading everything;
#   linger0_s   client half-close, the server closes abortively from
#               CLOSE_WAIT once its reply is acknowledged.
# The agent polls every 100 ms, so its sock_diag dumps see the connections
# in FIN_WAIT1/FIN_WAIT2/CLOSE_WAIT/LAST_ACK/CLOSING, and its polls race
# with the FINs and the CLOSE events. Several connections run at a time,
# and every pattern runs ZT_HC_ROUNDS times (default 5: 45 connections).
# Knobs: ZT_HC_ROUNDS, ZT_HC_PARALLEL (default 6), ZT_HC_POLL_MS (100, the
# config's minimum). The race this test was written for (a poll counting a
# FIN as payload, see tcp_conn_observe in core/tcp.c) showed about once in
# 1-3 thousand connections at 100 ms, so one run is a smoke test and a loop
# with ZT_HC_ROUNDS=30 is the real check.
#
# The programs print their own account of every connection: bytes written
# and read, plus what sat unread in the receive queue at close (SIOCINQ;
# the kernel received and acknowledged those, so they are received bytes).
# Data that an RST may cut short is acknowledged before the RST (the sender
# waits until SIOCOUTQ is 0), so every count is known exactly. The agent's
# container_net_tcp_bytes_{sent,received}_total (client) and
# zerotap_container_net_tcp_inbound_bytes_{sent,received}_total (server)
# must equal them, byte for byte.
#
# The client and the server coordinate over a Unix socket (never TCP, which
# the agent would count), and run in cgroups of their own.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"

ROUNDS=${ZT_HC_ROUNDS:-5}
PARALLEL=${ZT_HC_PARALLEL:-6}
PATTERNS=(chc_sfirst chc_cfirst shc_cfirst shc_sfirst simul rst_cunread rst_sunread linger0_c linger0_s)
NP=${#PATTERNS[@]}

PROM=$(zt_free_port)
read -r -a PORTS < <(zt_tcp_ports "$NP") || zt_fail "no free ports"
zt_log "ports: ${PORTS[*]} (${PATTERNS[*]}); metrics $PROM; $ROUNDS rounds, $PARALLEL at a time"

HC_KIT=$T/hckit.py
HC_CTL=$T/hc.ctl
cat >"$HC_KIT" <<'PYEOF'
"""hckit: half-close client and server of zerotap's tcp_halfclose test.

server CTL PATTERN=PORT...   listens on 127.0.0.1:PORT for each pattern and
                             on the Unix socket CTL (coordination)
client CTL GOFILE ROUNDS PARALLEL PATTERN=PORT...
                             once GOFILE exists, makes ROUNDS connections
                             per pattern, PARALLEL at a time
Each side prints one line per connection:
    CONN id=I pat=P side=client|server sent=S recv=R unread=U client_port=L
where recv counts what was read plus what was still unread at close (U).
The client ends with "ALLDONE n=N".
"""
import fcntl
import os
import socket
import struct
import sys
import termios
import threading
import time
from concurrent.futures import ThreadPoolExecutor

CHUNK = 65536
PAYLOAD = bytes(range(256)) * (CHUNK // 256)
HDR = struct.Struct("!IIII")  # magic, id, up, down: the client's first bytes
MAGIC = 0x7A74686C
OUT_LOCK = threading.Lock()
PACE_CHUNKS, PACE_GAP = 6, 0.08  # ~0.4 s: four or more agent polls


def out(*a):
    with OUT_LOCK:
        print(*a, flush=True)


class Ctl:
    """Messages "ID NAME VALUE" between the two processes."""

    def __init__(self, sock):
        self.s = sock
        self.lock = threading.Lock()
        self.cv = threading.Condition()
        self.got = {}
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        buf = b""
        while True:
            b = self.s.recv(4096)
            if not b:
                return  # the other side is done (or died: waits time out)
            buf += b
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                i, name, val = line.decode().split()
                with self.cv:
                    self.got[(int(i), name)] = val
                    self.cv.notify_all()

    def post(self, i, name, val="-"):
        with self.lock:
            self.s.sendall(("%d %s %s\n" % (i, name, val)).encode())

    def wait(self, i, name, timeout=30):
        with self.cv:
            if not self.cv.wait_for(lambda: (i, name) in self.got, timeout):
                raise TimeoutError("no %s for connection %d" % (name, i))
            return self.got.pop((i, name))


def ioctl_int(s, req):
    return struct.unpack("i", fcntl.ioctl(s, req, b"\0" * 4))[0]


def wait_acked(s, limit=30):
    deadline = time.monotonic() + limit
    while ioctl_int(s, termios.TIOCOUTQ):
        if time.monotonic() > deadline:
            raise TimeoutError("data not acknowledged")
        time.sleep(0.002)


def send_all(s, n):
    sent = 0
    while sent < n:
        sent += s.send(PAYLOAD[: min(CHUNK, n - sent)])
    return sent


def send_paced(s, n):
    sent, step = 0, -(-n // PACE_CHUNKS)
    for k in range(PACE_CHUNKS):
        if k:
            time.sleep(PACE_GAP)
        sent += send_all(s, min(step, n - sent))
    return sent


def recv_exact(s, n):
    got = b""
    while len(got) < n:
        b = s.recv(min(CHUNK, n - len(got)))
        if not b:
            raise EOFError("EOF after %d of %d bytes" % (len(got), n))
        got += b
    return got


def recv_eof(s):
    got = 0
    while True:
        b = s.recv(CHUNK)
        if not b:
            return got
        got += len(b)


def close_unread(s):
    """Closes with whatever is queued unread (an RST when there is some)."""
    unread = ioctl_int(s, termios.FIONREAD)
    s.close()
    return unread


def linger0_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def until(t):
    """Sleeps until CLOCK_MONOTONIC t (shared by both processes), spinning
    the last 2 ms so that the two sides act within microseconds."""
    while True:
        d = t - time.monotonic()
        if d <= 0:
            return
        if d > 0.002:
            time.sleep(d - 0.002)


UNREAD_READ = 1000  # what the RST patterns read before closing on the rest


# ---- one connection, each side: returns (sent, recv, unread) beyond the header

def c_chc_sfirst(s, ctl, i, up, down):
    send_all(s, up)
    s.shutdown(socket.SHUT_WR)
    got = recv_eof(s)
    s.close()
    return up, got, 0


def s_chc_sfirst(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, down)
    s.close()
    return sent, got, 0


def c_chc_cfirst(s, ctl, i, up, down):
    send_all(s, up)
    s.shutdown(socket.SHUT_WR)
    got = len(recv_exact(s, down))
    s.close()
    ctl.post(i, "cclosed")
    return up, got, 0


def s_chc_cfirst(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, down)
    ctl.wait(i, "cclosed")
    time.sleep(0.25)  # CLOSE_WAIT facing a FIN_WAIT2 timewait socket
    s.close()
    return sent, got, 0


def c_shc_cfirst(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, up)
    s.close()
    return sent, got, 0


def s_shc_cfirst(s, ctl, i, up, down):
    sent = send_all(s, down)
    s.shutdown(socket.SHUT_WR)
    got = recv_eof(s)
    s.close()
    return sent, got, 0


def c_shc_sfirst(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, up)
    ctl.wait(i, "sclosed")
    time.sleep(0.25)
    s.close()
    return sent, got, 0


def s_shc_sfirst(s, ctl, i, up, down):
    sent = send_all(s, down)
    s.shutdown(socket.SHUT_WR)
    got = len(recv_exact(s, up))
    s.close()
    ctl.post(i, "sclosed")
    return sent, got, 0


def c_simul(s, ctl, i, up, down):
    sent = send_paced(s, up)
    ctl.wait(i, "sdone")
    t = time.monotonic() + 0.03
    ctl.post(i, "shut", "%.9f" % t)
    until(t)
    s.shutdown(socket.SHUT_WR)
    got = recv_eof(s)
    s.close()
    return sent, got, 0


def s_simul(s, ctl, i, up, down):
    sent = send_paced(s, down)
    ctl.post(i, "sdone")
    until(float(ctl.wait(i, "shut")))
    s.shutdown(socket.SHUT_WR)
    got = recv_eof(s)
    s.close()
    return sent, got, 0


def c_rst_cunread(s, ctl, i, up, down):
    send_all(s, up)
    s.shutdown(socket.SHUT_WR)
    got = len(recv_exact(s, UNREAD_READ))
    ctl.wait(i, "sacked")
    unread = close_unread(s)
    ctl.post(i, "cclosed")
    return up, got + unread, unread


def s_rst_cunread(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, down)
    wait_acked(s)
    ctl.post(i, "sacked")
    ctl.wait(i, "cclosed")
    s.close()
    return sent, got, 0


def c_rst_sunread(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, up)
    wait_acked(s)
    ctl.post(i, "cacked")
    ctl.wait(i, "sclosed")
    s.close()
    return sent, got, 0


def s_rst_sunread(s, ctl, i, up, down):
    sent = send_all(s, down)
    s.shutdown(socket.SHUT_WR)
    got = len(recv_exact(s, UNREAD_READ))
    ctl.wait(i, "cacked")
    unread = close_unread(s)
    ctl.post(i, "sclosed")
    return sent, got + unread, unread


def c_linger0_c(s, ctl, i, up, down):
    send_all(s, up)
    s.shutdown(socket.SHUT_WR)
    got = len(recv_exact(s, down))
    linger0_close(s)
    ctl.post(i, "cclosed")
    return up, got, 0


def s_linger0_c(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, down)
    ctl.wait(i, "cclosed")
    s.close()
    return sent, got, 0


def c_linger0_s(s, ctl, i, up, down):
    send_all(s, up)
    s.shutdown(socket.SHUT_WR)
    got = len(recv_exact(s, down))
    ctl.wait(i, "sclosed")
    s.close()
    return up, got, 0


def s_linger0_s(s, ctl, i, up, down):
    got = recv_eof(s)
    sent = send_paced(s, down)
    wait_acked(s)
    linger0_close(s)
    ctl.post(i, "sclosed")
    return sent, got, 0


def sizes(i, pat):
    """Up and down, header excluded. What a side leaves unread stays well
    inside the receiver's initial window (it must be acknowledged)."""
    k = i % 13
    up, down = 30011 + 1013 * k, 50023 + 1511 * k
    return (down, up) if pat == "rst_cunread" else (up, down)


def parse_ports(specs):
    return [(p, int(port)) for p, port in (x.split("=") for x in specs)]


def report(i, pat, side, res, lport):
    sent, recv, unread = res
    out("CONN", "id=%d" % i, "pat=%s" % pat, "side=%s" % side, "sent=%d" % sent,
        "recv=%d" % recv, "unread=%d" % unread, "client_port=%d" % lport)


def server(ctlpath, specs):
    cl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cl.bind(ctlpath)
    cl.listen(1)
    ls = []
    for pat, port in parse_ports(specs):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(128)
        ls.append((pat, s))
    out("READY")
    ctl = Ctl(cl.accept()[0])

    def conn(c, pat):
        i = -1
        try:
            lport = c.getpeername()[1]
            magic, i, up, down = HDR.unpack(recv_exact(c, HDR.size))
            if magic != MAGIC:
                raise ValueError("bad header")
            sent, recv, unread = globals()["s_" + pat](c, ctl, i, up, down)
            report(i, pat, "server", (sent, HDR.size + recv, unread), lport)
        except Exception as e:
            out("ERR", "id=%d" % i, "pat=%s" % pat, "side=server", type(e).__name__, e)

    def accept_loop(pat, s):
        while True:
            c, _ = s.accept()
            threading.Thread(target=conn, args=(c, pat), daemon=True).start()

    for pat, s in ls:
        threading.Thread(target=accept_loop, args=(pat, s), daemon=True).start()
    while True:
        time.sleep(3600)


def client(ctlpath, gofile, rounds, parallel, specs):
    ports = parse_ports(specs)
    cs = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cs.connect(ctlpath)
    ctl = Ctl(cs)
    out("READY", "pid=%d" % os.getpid())
    while not os.path.exists(gofile):
        time.sleep(0.05)
    plan = []
    for r in range(rounds):
        for pat, port in ports:
            plan.append((len(plan), pat, port))
    errors = []

    def one(job):
        i, pat, port = job
        up, down = sizes(i, pat)
        try:
            s = socket.create_connection(("127.0.0.1", port))
            lport = s.getsockname()[1]
            s.sendall(HDR.pack(MAGIC, i, up, down))
            sent, recv, unread = globals()["c_" + pat](s, ctl, i, up, down)
            report(i, pat, "client", (HDR.size + sent, recv, unread), lport)
        except Exception as e:
            errors.append(i)
            out("ERR", "id=%d" % i, "pat=%s" % pat, "side=client", type(e).__name__, e)

    with ThreadPoolExecutor(max_workers=parallel) as ex:
        list(ex.map(one, plan))
    out("ALLDONE", "n=%d" % len(plan), "errors=%d" % len(errors))


def main():
    a = sys.argv[1:]
    if a[0] == "server":
        server(a[1], a[2:])
    elif a[0] == "client":
        client(a[1], a[2], int(a[3]), int(a[4]), a[5:])
    else:
        sys.exit("usage: hckit.py server|client ...")


if __name__ == "__main__":
    main()
PYEOF

SPECS=()
for ((i = 0; i < NP; i++)); do SPECS+=("${PATTERNS[i]}=${PORTS[i]}"); done

# ------------------------------------------------------------ the set-up
zt_tcp_cgroup "zt-$ZT_TEST-$$-srv"
SRV=$ZT_TCP_CG_ID
zt_bg "$T/server.log" zt_tcp_cg_exec "$ZT_PY" "$HC_KIT" server "$HC_CTL" "${SPECS[@]}"
SERVER_PID=$ZT_BG_PID
zt_wait_until 10 "server listening" grep -q '^READY' "$T/server.log"
zt_tcp_cgroup "zt-$ZT_TEST-$$"
ID=$ZT_TCP_CG_ID
zt_bg "$T/client.log" zt_tcp_cg_exec "$ZT_PY" "$HC_KIT" client "$HC_CTL" "$T/go" "$ROUNDS" "$PARALLEL" "${SPECS[@]}"
CLIENT_PID=$ZT_BG_PID
zt_wait_until 10 "client ready" grep -q '^READY' "$T/client.log"
zt_log "server pid $SERVER_PID in cgroup $SRV, client pid $CLIENT_PID in cgroup $ID"

ZT_TCP_AGENT_KEYS="\"tcp_poll_interval_ms\": ${ZT_HC_POLL_MS:-100}"
zt_tcp_config "$T/zerotap.json" "$PROM"
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 15 "a series with container_id=\"$ID\"" zt_tcp_agent_knows_client "$PROM"
knows_server() { zt_scrape "$PROM" && grep -qF "container_id=\"$SRV\"" "$ZT_LAST_SCRAPE"; }
zt_wait_until 15 "a series with container_id=\"$SRV\"" knows_server
zt_ok "the agent knows both cgroups (${ZT_WAITED_MS} ms)"

# ------------------------------------------------------------ the traffic
touch "$T/go"
t0=$(zt_now_ms)
client_done() { zt_complete_lines "$T/client.log" | grep -q '^ALLDONE'; }
zt_wait_until 180 "the client's ALLDONE" client_done
zt_reap "$CLIENT_PID"
N=$((ROUNDS * NP))
zt_log "client: $(grep '^ALLDONE' "$T/client.log") in $(zt_since_ms "$t0") ms"
[ "$ZT_REAP_RC" = 0 ] || zt_fail "client exited with $ZT_REAP_RC"
# the server's last lines come right after the client's
server_done() { (($(zt_complete_lines "$T/server.log" | grep -c '^CONN') >= N)); }
zt_wait_until 10 "$N server CONN lines" server_done
if grep -h '^ERR' "$T/client.log" "$T/server.log"; then
	zt_fail "the programs reported errors (above)"
fi

# ------------------------------------------------- the programs' own account
# Per pattern: client sent == server received and server sent == client
# received, connection by connection; these sums are what the agent owes.
declare -A C_SENT C_RECV S_SENT S_RECV CNT
for p in "${PATTERNS[@]}"; do C_SENT[$p]=0 C_RECV[$p]=0 S_SENT[$p]=0 S_RECV[$p]=0 CNT[$p]=0; done
kv() { local w; for w in "${@:2}"; do case "$w" in "$1="*) echo "${w#*=}" && return 0 ;; esac; done; return 1; }
declare -A SIDE_C SIDE_S
while read -r -a f; do
	i=$(kv id "${f[@]}") p=$(kv pat "${f[@]}") s=$(kv sent "${f[@]}") r=$(kv recv "${f[@]}")
	case "$(kv side "${f[@]}")" in
	client) SIDE_C[$i]="$p $s $r" C_SENT[$p]=$((C_SENT[$p] + s)) C_RECV[$p]=$((C_RECV[$p] + r)) CNT[$p]=$((CNT[$p] + 1)) ;;
	server) SIDE_S[$i]="$p $s $r" S_SENT[$p]=$((S_SENT[$p] + s)) S_RECV[$p]=$((S_RECV[$p] + r)) ;;
	esac
done < <(grep -h '^CONN' "$T/client.log" "$T/server.log")
[ ${#SIDE_C[@]} = "$N" ] || zt_fail "client reported ${#SIDE_C[@]} connections, expected $N"
[ ${#SIDE_S[@]} = "$N" ] || zt_fail "server reported ${#SIDE_S[@]} connections, expected $N"
for i in "${!SIDE_C[@]}"; do
	read -r p cs cr <<<"${SIDE_C[$i]}"
	read -r p2 ss sr <<<"${SIDE_S[$i]:-- -1 -1}"
	[ "$p" = "$p2" ] && [ "$cs" = "$sr" ] && [ "$ss" = "$cr" ] ||
		zt_fail "connection $i: client says '${SIDE_C[$i]}', server says '${SIDE_S[$i]:-nothing}'"
done
zt_ok "$N connections, both programs agree on every byte"

# ------------------------------------------------------- the agent's account
KEYS=()
declare -A EXP
kout() { echo "container_net_tcp_$1|container_id=\"$ID\" destination=\"127.0.0.1:$2\""; }
kin() { echo "zerotap_container_net_tcp_$1|container_id=\"$SRV\" listen_addr=\"127.0.0.1:$2\" client_ip=\"127.0.0.1\""; }
for ((j = 0; j < NP; j++)); do
	p=${PATTERNS[j]} port=${PORTS[j]}
	k=$(kout successful_connects_total "$port") && KEYS+=("$k") && EXP[$k]=${CNT[$p]}
	k=$(kout bytes_sent_total "$port") && KEYS+=("$k") && EXP[$k]=${C_SENT[$p]}
	k=$(kout bytes_received_total "$port") && KEYS+=("$k") && EXP[$k]=${C_RECV[$p]}
	k=$(kin inbound_connects_total "$port") && KEYS+=("$k") && EXP[$k]=${CNT[$p]}
	k=$(kin inbound_bytes_received_total "$port") && KEYS+=("$k") && EXP[$k]=${S_RECV[$p]}
	k=$(kin inbound_bytes_sent_total "$port") && KEYS+=("$k") && EXP[$k]=${S_SENT[$p]}
done
kval() { local k=$1; zt_tcp_val "${k%%|*}" ${k#*|}; }
all_equal() {
	local k
	zt_scrape "$PROM" || return 1
	for k in "${KEYS[@]}"; do [ "$(kval "$k")" = "${EXP[$k]}" ] || return 1; done
}
# Every connection is closed: its CLOSE event is at most a drain away.
(zt_wait_until 10 "all series at their expected values" all_equal) >/dev/null 2>&1 || true
sleep 1 # and nothing moves afterwards
zt_scrape "$PROM" || zt_fail "scrape failed"
cp "$ZT_LAST_SCRAPE" "$T/final.prom"

printf '\n| pattern | conns | client sent: program / agent | client received: program / agent | server sent: program / inbound | server received: program / inbound |\n|---|---|---|---|---|---|\n'
bad=0
for ((j = 0; j < NP; j++)); do
	p=${PATTERNS[j]} port=${PORTS[j]}
	row="| $p | ${CNT[$p]}"
	for f in "kout bytes_sent_total" "kout bytes_received_total" "kin inbound_bytes_sent_total" "kin inbound_bytes_received_total"; do
		k=$($f "$port")
		got=$(kval "$k")
		d=$(zt_tcp_sub "$got" "${EXP[$k]}")
		mark=
		[ "$d" = 0 ] || mark=" **($d)**"
		row+=" | ${EXP[$k]} / $got$mark"
	done
	echo "$row |"
done
echo
for k in "${KEYS[@]}"; do
	got=$(kval "$k")
	if [ "$got" != "${EXP[$k]}" ]; then
		zt_fail_later "${k%%|*}{${k#*|}} is $got, expected ${EXP[$k]} (off by $(zt_tcp_sub "$got" "${EXP[$k]}"))"
		bad=$((bad + 1))
	fi
done
((bad)) || zt_ok "all ${#KEYS[@]} series (connects and bytes, both sides, ${NP} patterns) equal the programs' counts"

for ((j = 0; j < NP; j++)); do
	a=$(zt_tcp_val container_net_tcp_active_connections "container_id=\"$ID\"" "destination=\"127.0.0.1:${PORTS[j]}\"")
	b=$(zt_tcp_val zerotap_container_net_tcp_inbound_active_connections "container_id=\"$SRV\"" "listen_addr=\"127.0.0.1:${PORTS[j]}\"")
	[ "$a" = 0 ] && [ "$b" = 0 ] || zt_fail_later "${PATTERNS[j]}: active connections $a (client), $b (server) after all closed"
done
ut=$(zt_tcp_val zerotap_tcp_untracked_total 'reason="expired"')
[ "$ut" = 0 ] || zt_log "note: $ut connections expired (their CLOSE event was missed)"

zt_agent_alive || zt_fail "agent died"
zt_pass
