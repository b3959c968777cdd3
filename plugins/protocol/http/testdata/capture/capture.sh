#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Re-records the HTTP plugin's golden streams from real servers and clients
# on this machine (nginx, curl, Python's http.server), through recorder.py.
#
#   bash capture.sh [OUT_DIR]      (default: the testdata folder above)
#
# Each scenario is one TCP connection, written to OUT_DIR/<scenario>.http.
# The .expect files next to them are written by hand from what the clients
# did (see ../../README.md, "Golden tests"); re-check them after a capture.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$(dirname "$HERE")}
PY=/usr/bin/python3
TB=$(mktemp -d /tmp/zt-http-capture.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TB"
}
trap cleanup EXIT

wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "port $1 did not open" >&2
	return 1
}

# ---- servers
mkdir -p "$TB/www/static" "$TB/www/api"
$PY - "$TB/www" <<'PYEOF'
import sys, os
w = sys.argv[1]
open(os.path.join(w, "index.html"), "w").write(
    "<!DOCTYPE html>\n<html><head><title>golden</title></head>\n<body>\n"
    + "".join("<p>paragraph %d of the zerotap golden page</p>\n" % i for i in range(12))
    + "</body></html>\n")
line = b"zerotap golden large body: 64 bytes per line, 16384 lines......\n"
assert len(line) == 64
open(os.path.join(w, "big.bin"), "wb").write(line * 16384)
open(os.path.join(w, "static", "app.css"), "w").write(
    "".join(".rule-%d { color: #%06x; margin: %dpx; }\n" % (i, i * 7919 % 0xffffff, i % 17) for i in range(600)))
open(os.path.join(w, "notes.txt"), "w").write("short text file\n" * 40)
PYEOF
cat >"$TB/nginx.conf" <<NGEOF
worker_processes 1;
daemon off;
master_process off;
error_log $TB/error.log;
pid $TB/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	types { text/html html; text/css css; text/plain txt; application/octet-stream bin; }
	keepalive_timeout 10;
	gzip on;
	gzip_types text/plain text/css;
	gzip_min_length 64;
	server {
		listen 127.0.0.1:18480;
		root $TB/www;
	}
}
NGEOF
nginx -c "$TB/nginx.conf" -p "$TB" &
PIDS+=($!)
$PY "$HERE/server.py" 18481 &
PIDS+=($!)
wait_port 18480
wait_port 18481

# ---- one recorder per scenario: record NAME UPSTREAM "description" CLIENT...
PORT=18500
record() {
	local name=$1 upstream=$2 desc=$3
	shift 3
	PORT=$((PORT + 1))
	$PY "$HERE/recorder.py" $PORT "$upstream" "$TB/$name" "$desc" &
	local rec=$!
	wait_port $PORT
	# the port probe above was a connection too: drop its file
	sleep 0.2
	rm -f "$TB/$name"-1.http
	P=$PORT "$@"
	sleep 0.5
	kill -INT $rec 2>/dev/null || true
	kill $rec 2>/dev/null || true
	wait $rec 2>/dev/null || true
	local files=("$TB/$name"-*.http)
	if [ ${#files[@]} != 1 ]; then
		echo "$name: expected one connection, got ${#files[@]}" >&2
		exit 1
	fi
	cp "${files[0]}" "$OUT/$name.http"
	echo "$name: $(grep -c '^[cs] ' "$OUT/$name.http") messages"
}

U=http://127.0.0.1
c_keepalive() { curl -s "$U:$P/" "$U:$P/index.html?utm_source=golden&id=7" "$U:$P/api/users/12345/orders" \
	"$U:$P/missing/0f8e2a9c41b7d3e5.png" "$U:$P/notes.txt" >/dev/null; }
c_head() { curl -s -I "$U:$P/" --next -s -I "$U:$P/notes.txt" --next -s "$U:$P/index.html" >/dev/null; }
c_gzip() { curl -s --compressed "$U:$P/static/app.css" "$U:$P/notes.txt" "$U:$P/index.html" >/dev/null; }
c_large() { curl -s "$U:$P/big.bin" "$U:$P/index.html" >/dev/null; }
c_304() {
	local etag
	etag=$(curl -sI "$U:18480/index.html" | tr -d '\r' | sed -n 's/^ETag: //p')
	curl -s -H "If-None-Match: $etag" "$U:$P/index.html" --next -s "$U:$P/static/app.css" >/dev/null
}
c_pipeline() {
	$PY - "$P" <<'PYEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
h = "Host: 127.0.0.1\r\nUser-Agent: golden-pipeline/1\r\n"
s.sendall(("GET /missing HTTP/1.1\r\n" + h + "\r\n" "HEAD /index.html HTTP/1.1\r\n" + h + "\r\n"
           "GET /api/v2/items/9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f HTTP/1.1\r\n" + h + "\r\n"
           "GET /notes.txt HTTP/1.1\r\n" + h + "Accept-Encoding: identity\r\nConnection: close\r\n\r\n").encode())
while s.recv(65536):
    pass
PYEOF
}
c_chunked() { curl -s "$U:$P/stream/3" "$U:$P/stream/4?trailer=1" "$U:$P/fail" >/dev/null; }
c_expect() {
	head -c 150000 /dev/zero | tr '\0' 'u' >"$TB/upload.bin"
	curl -s -H 'Expect: 100-continue' --data-binary @"$TB/upload.bin" "$U:$P/upload" \
		--next -s -X DELETE "$U:$P/items/42" \
		--next -s -H 'Transfer-Encoding: chunked' --data-binary @"$TB/upload.bin" "$U:$P/chunked-upload" >/dev/null
}
c_upgrade() {
	$PY - "$P" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
buf = b""
while b"hello" not in buf:
    buf += s.recv(4096)
s.sendall(b"\x81\x85\x01\x02\x03\x04" + bytes(c ^ k for c, k in zip(b"howdy", b"\x01\x02\x03\x04\x01")))
while s.recv(4096):
    pass
PYEOF
}
c_eof() { curl -s "$U:$P/eof" >/dev/null; }

record nginx_keepalive 18480 "nginx 1.22 + curl: five GETs on one keep-alive connection (200, 404)" c_keepalive
record nginx_head 18480 "nginx + curl: HEAD, HEAD, GET on one connection" c_head
record nginx_gzip_chunked 18480 "nginx gzip + curl --compressed: chunked responses" c_gzip
record nginx_large 18480 "nginx + curl: a 1 MiB Content-Length body, then a small GET" c_large
record nginx_304 18480 "nginx + curl: If-None-Match -> 304, then a GET" c_304
record nginx_pipeline 18480 "nginx + python: four pipelined requests in one write (GET 404, HEAD, GET 404, GET close)" c_pipeline
record py_chunked 18481 "python http.server + curl: chunked streams written chunk by chunk, trailer, 500" c_chunked
record py_expect 18481 "python http.server + curl: Expect 100-continue upload, DELETE 204, chunked upload" c_expect
record py_upgrade 18481 "python http.server + python: Upgrade websocket -> 101, then frames" c_upgrade
record py_eof 18481 "python http.server + curl: a body delimited by the connection's close" c_eof
# large streams are gzipped (the test reads .http and .http.gz alike)
for f in "$OUT"/*.http; do
	[ "$(stat -c %s "$f")" -gt 65536 ] && gzip -9nf "$f"
done
ls -l "$OUT"
