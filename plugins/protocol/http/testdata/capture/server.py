#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Backend for the golden captures that nginx cannot produce on its own.

    server.py PORT

  GET  /stream/N[?trailer=1]  chunked response, N chunks written one by one
                              (one of them larger than the plugin's capture)
  POST /upload                reads a Content-Length body (answers
                              Expect: 100-continue first), 201
  POST /chunked-upload        reads a chunked request body, 200
  DELETE /items/ID            204
  GET  /fail                  500 with a body
  GET  /eof                   200 whose body ends when the connection closes
  GET  /ws                    101 Switching Protocols, then one WebSocket
                              frame each way
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "golden/1"
    sys_version = ""

    def log_message(self, *a):
        pass

    def date_time_string(self, timestamp=None):
        return "Tue, 24 Nov 2026 12:00:00 GMT"  # stable goldens

    def small(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/stream/"):
            n = int(self.path.split("/")[2].split("?")[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            if "trailer=1" in self.path:
                self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            self.wfile.flush()
            for i in range(n):
                data = (b"chunk %d " % i) * (600 if i == 1 else 3)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                time.sleep(0.02)
            if "trailer=1" in self.path:
                self.wfile.write(b"0\r\nX-Checksum: 1234\r\n\r\n")
            else:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        elif self.path == "/fail":
            self.small(500, b'{"error":"boom"}')
        elif self.path == "/eof":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"no length: this body ends when the connection closes\n" * 20)
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/ws":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            self.end_headers()
            self.wfile.flush()
            self.wfile.write(b"\x81\x05hello")
            self.wfile.flush()
            self.rfile.read(2 + 4 + 5)  # the client's masked 5-byte frame
            self.close_connection = True
        else:
            self.small(404, b'{"error":"not found"}')

    def do_POST(self):
        if self.path == "/chunked-upload":
            total = 0
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += len(self.rfile.read(size))
                self.rfile.readline()
            self.small(200, b'{"received":%d}' % total)
        else:
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            self.small(201, b'{"stored":%d}' % len(body))

    def do_DELETE(self):
        self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
