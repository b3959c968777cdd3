#!/usr/bin/python3
"""HTTP/1.1 clients for the L7 HTTP test; each prints the status codes it
got, one per line, then DONE.

pipeline PORT PATH...: every request in one write on one connection, then
    the responses read in order (pipelining).
slowserver PORT DELAY_MS [EVERY SLOW_MS]: a keep-alive HTTP/1.1 server
    answering every request with 200 after DELAY_MS, and every EVERY-th
    request of a connection after SLOW_MS instead (for latency checks: a
    median and a tail apart).
"""
import socket
import sys
import time


def read_response(f):
    status = f.readline()
    if not status:
        raise SystemExit("connection closed")
    code = int(status.split()[1])
    length = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    f.read(length)
    return code


def pipeline(port, paths):
    s = socket.create_connection(("127.0.0.1", port))
    req = b"".join(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % p.encode() for p in paths)
    s.sendall(req)
    f = s.makefile("rb")
    for _ in paths:
        print(read_response(f))
    s.close()
    print("DONE", flush=True)


def slowserver(port, delay, every=0, slow=0.0):
    import threading
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    print("LISTENING", flush=True)

    def serve(c):
        f = c.makefile("rb")
        n = 0
        while True:
            line = f.readline()
            if not line:
                break
            while f.readline() not in (b"\r\n", b"\n", b""):
                pass
            n += 1
            time.sleep((slow if every and n % every == 0 else delay) / 1000.0)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    if sys.argv[1] == "pipeline":
        pipeline(int(sys.argv[2]), sys.argv[3:])
    else:
        slowserver(int(sys.argv[2]), float(sys.argv[3]),
                   int(sys.argv[4]) if len(sys.argv) > 4 else 0,
                   float(sys.argv[5]) if len(sys.argv) > 5 else 0.0)
