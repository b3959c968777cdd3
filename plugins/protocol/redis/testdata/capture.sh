#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Re-records the Redis plugin's golden streams from a real redis-server
# 7.0 and real clients (redis-cli, redis-benchmark, python3-redis, nc) on
# loopback, with tshark:
#
#   bash capture.sh [OUT_DIR]     (default: this folder; ONLY=regex limits the scenarios)
#
# Each scenario is one capture (pcap/<name>.pcapng), turned into one golden
# file per connection by pcap2golden.py (<name>-<n>.txt). The expect lines
# at the end of each golden file are written by hand from what the client
# did and are kept across re-captures (check them with the "# tshark:"
# count). Needs: redis-server redis-tools python3-redis netcat-openbsd tshark.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(realpath "${1:-$HERE}")
PY=/usr/bin/python3
TB=$(mktemp -d /tmp/zt-redis-capture.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TB"
}
trap cleanup EXIT
mkdir -p "$OUT/pcap"

P=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$P" --save '' --appendonly no --dir "$TB" --enable-debug-command yes \
	--logfile "$TB/redis.log" &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$P" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$P" ping >/dev/null

cli() { redis-cli -p "$P" "$@"; }

cap() { # cap NAME "comment" FUNCTION
	local name=$1 comment=$2 fn=$3 ts
	if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then return; fi
	cli flushall >/dev/null
	tshark -i lo -f "tcp port $P" -w "$TB/$name.pcapng" -q 2>/dev/null &
	ts=$!
	PIDS+=($ts)
	sleep 1.5
	"$fn"
	sleep 0.5
	kill -INT $ts
	wait $ts || true
	cp "$TB/$name.pcapng" "$OUT/pcap/"
	rm -f "$OUT/$name"-*.txt.new
	$PY "$HERE/pcap2golden.py" "$OUT/pcap/$name.pcapng" "$P" "$TB/$name" "$comment"
	for f in "$TB/$name"-*.txt; do
		local dst=$OUT/$(basename "$f")
		# keep the hand-written expect lines of an earlier capture
		if [ -f "$dst" ]; then grep -E '^(expect|@)' "$dst" >>"$f" || true; fi
		cp "$f" "$dst"
		echo "$(basename "$dst"): $(grep -c '^[cs] ' "$dst") messages"
	done
}

s_cli_basic() {
	printf '%s\n' 'SET user:1 secret-value' 'GET user:1' 'INCR counter' 'INCRBY counter 41' 'DEL user:1' \
		'RPUSH list a b c' 'LRANGE list 0 -1' 'HSET h f1 v1 f2 v2' 'HGETALL h' 'CONFIG GET maxmemory' \
		'CLIENT SETNAME golden' 'NOSUCHCMD arg1' 'GET list' 'GET missing' 'EXISTS missing' 'PING' |
		cli >/dev/null
}
s_cli_resp3() {
	printf '%s\n' 'HSET h a 1 b 2' 'HGETALL h' 'SADD s x y' 'SMEMBERS s' 'ZADD z 1.5 m' 'ZSCORE z m' \
		'DEBUG PROTOCOL true' 'DEBUG PROTOCOL false' 'DEBUG PROTOCOL null' \
		'DEBUG PROTOCOL verbatim' 'DEBUG PROTOCOL double' 'GET s' 'PING' | cli -3 >/dev/null
}
s_raw_resp3() { # redis-cli cannot read attributes: a plain socket client, one command at a time
	$PY - "$P" <<'PYEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def cmd(*a):
    s.sendall(("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode())
    time.sleep(0.15)
    s.recv(65536)
cmd("HELLO", "3")
for t in ("attrib", "push", "map", "set", "bignum", "true", "null", "verbatim", "double"):
    cmd("DEBUG", "PROTOCOL", t)
cmd("SET", "k", "v")
cmd("HINCRBYFLOAT", "k", "f", "1.5")
cmd("CLIENT", "TRACKING", "on")
cmd("GET", "t")
cmd("SET", "t", "changed")   # invalidation push for t arrives with the reply
cmd("HELLO", "2")
cmd("PING")
s.close()
PYEOF
}
s_cli_multi() {
	printf '%s\n' 'MULTI' 'SET a 1' 'INCR a' 'LPUSH a x' 'GET a' 'EXEC' 'MULTI' 'SET b 2' 'NOSUCHCMD' 'EXEC' \
		'MULTI' 'SET c 3' 'DISCARD' 'GET c' | cli >/dev/null
}
s_pubsub() {
	timeout -s INT 3 redis-cli -p "$P" SUBSCRIBE news alerts >/dev/null &
	local sub=$!
	timeout -s INT 3 redis-cli -p "$P" PSUBSCRIBE 'news.*' >/dev/null &
	local psub=$!
	sleep 0.7
	for i in 1 2 3; do cli PUBLISH news "m$i" >/dev/null; done
	cli PUBLISH news.sport goal >/dev/null
	cli PUBLISH alerts fire >/dev/null
	wait $sub $psub || true
}
s_py_resp2_pubsub() {
	$PY - "$P" <<'PYEOF'
import redis, sys, time, threading
r = redis.Redis(port=int(sys.argv[1]))
p = r.pubsub()
p.subscribe("a", "b")
p.psubscribe("x.*")
for _ in range(3):
    p.get_message(timeout=1)
r2 = redis.Redis(port=int(sys.argv[1]))
r2.publish("a", "one"); r2.publish("x.y", "two")
got = 0
t = time.time()
while got < 2 and time.time() - t < 3:
    if p.get_message(timeout=0.5):
        got += 1
p.ping()
p.get_message(timeout=1)
p.unsubscribe()
p.punsubscribe()
for _ in range(3):
    p.get_message(timeout=1)
p.close()
PYEOF
}
s_benchmark_p16() { redis-benchmark -p "$P" -n 64 -c 1 -P 16 -t set,get -q >/dev/null; }
s_py_pipeline() {
	$PY - "$P" <<'PYEOF'
import redis, sys
r = redis.Redis(port=int(sys.argv[1]))
with r.pipeline(transaction=True) as p:
    p.set("k", "v").incr("n").lpush("k", "x").get("k")
    try:
        p.execute()
    except redis.ResponseError:
        pass
with r.pipeline(transaction=False) as p:
    for i in range(20):
        p.set("key:%d" % i, "value-%d" % i)
    p.get("key:3").hgetall("nope").execute()
big = "v" * 10000
r.set("big", big)
assert r.get("big") == big.encode()
r.mset({"m%d" % i: big for i in range(3)})
r.mget(["m0", "m1", "m2"])
PYEOF
}
s_inline() { # as typed into telnet or nc (bash's /dev/tcp: no netcat needed)
	exec 3<>/dev/tcp/127.0.0.1/"$P"
	local l
	for l in 'PING' 'SET greeting hello' 'GET greeting' '' 'GET "quoted key"' 'NOPE'; do
		printf '%s\r\n' "$l" >&3
		sleep 0.1
	done
	exec 3<&-
}

cap cli_basic "redis-cli 7.0 (RESP2): strings, lists, hashes, CONFIG GET, CLIENT SETNAME, unknown command, WRONGTYPE, nulls" s_cli_basic
cap cli_resp3 "redis-cli -3 (HELLO 3): map, set, double, bignum, booleans, null, verbatim, attribute, push" s_cli_resp3
cap raw_resp3 "python socket client, HELLO 3: DEBUG PROTOCOL attrib/push/map/set/..., client tracking invalidation push, HELLO 2" s_raw_resp3
cap cli_multi "redis-cli: MULTI/EXEC with an EXEC-time error, EXECABORT, DISCARD" s_cli_multi
cap pubsub "redis-cli SUBSCRIBE news alerts / PSUBSCRIBE news.* receiving PUBLISHes from other redis-cli" s_pubsub
cap py_pubsub "python3-redis 4.3 (RESP2): subscribe, psubscribe, messages, PING in subscribe mode, unsubscribe all" s_py_resp2_pubsub
cap benchmark_p16 "redis-benchmark -n 64 -c 1 -P 16 -t set,get" s_benchmark_p16
cap py_pipeline "python3-redis 4.3: MULTI/EXEC pipeline with a WRONGTYPE, 22-command pipeline, 10 KB values (split writes), MSET/MGET" s_py_pipeline
cap inline "telnet-style: inline commands typed as text, an empty line, a quoted argument, an unknown command" s_inline
