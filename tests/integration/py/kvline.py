#!/usr/bin/python3
"""The SDK example protocol (sdk/examples/kvline) for the L7 pipeline test.

server PORT DELAY_MS: answers GET/SET/DEL lines (OK / ERR), sleeping
    DELAY_MS before each answer.
client PORT CONNS REQS: CONNS keep-alive connections, REQS requests each:
    one at a time (latency measured), then a pipelined batch of 10 in one
    write, then one request split over three writes. Prints
    "DONE ok=N err=M mean_ms=X" with the client's own counts.
"""
import socket
import sys
import time


def server(port, delay):
    store = {}
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    print("LISTENING", flush=True)
    import threading

    def serve(c):
        buf = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                parts = line.decode().split(" ", 2)
                time.sleep(delay / 1000.0)
                if parts[0] == "GET":
                    r = ("OK " + store[parts[1]]) if parts[1] in store else "ERR missing"
                elif parts[0] == "SET" and len(parts) == 3:
                    store[parts[1]] = parts[2]
                    r = "OK"
                elif parts[0] == "DEL":
                    r = "OK" if store.pop(parts[1], None) is not None else "ERR missing"
                else:
                    r = "ERR syntax"
                c.sendall(r.encode() + b"\n")
        c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def client(port, conns, reqs):
    ok = err = 0
    lat = []

    def answer(f):
        nonlocal ok, err
        line = f.readline()
        if line.startswith(b"OK"):
            ok += 1
        elif line.startswith(b"ERR"):
            err += 1
        else:
            raise SystemExit("bad answer %r" % line)

    for c in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        for i in range(reqs):
            # SET k, GET k (ok), GET missing (err), DEL k (ok), DEL k (err)
            k = "k%d-%d" % (c, i // 5)
            cmd = ["SET %s v%d" % (k, i), "GET " + k, "GET none%d" % i,
                   "DEL " + k, "DEL " + k][i % 5]
            t0 = time.monotonic()
            s.sendall(cmd.encode() + b"\n")
            answer(f)
            lat.append(time.monotonic() - t0)
        batch = b"".join(b"SET p%d x\n" % j for j in range(10))
        s.sendall(batch)  # pipelined: ten requests in one write
        for _ in range(10):
            answer(f)
        for part in (b"GE", b"T p", b"3\n"):  # one request over three writes
            s.sendall(part)
            time.sleep(0.01)
        answer(f)
        s.close()
    print("DONE ok=%d err=%d mean_ms=%.3f" % (ok, err, 1000 * sum(lat) / len(lat)), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), float(sys.argv[3]))
    else:
        client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
