#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Small memcached clients for the golden captures (capture.sh) and the
integration test (tests/integration/l7_memcached.sh). Each prints what it
saw, one "<what> <count>" line each, then DONE:

    mcclient.py text PORT       text commands, one per write, each reply read before the next
    mcclient.py pipeline PORT   the same commands in one write, the replies read together
    mcclient.py meta PORT       meta commands, quiet ones closed by mn
    mcclient.py big PORT        a 200 KB value set and read back (far beyond the capture)
    mcclient.py pymemcache PORT pymemcache: set/get/get_many/delete/incr, a miss, provoked errors
    mcclient.py latency PORT N  N gets of a 512 KB value, one at a time, timed from the write
                                to the read that ends the reply ("mean_ms" line)

Counts: "queries" (commands that get a reply), "noreply" (commands sent
with noreply), "failed" (replies ERROR / CLIENT_ERROR / SERVER_ERROR), as
this client itself reads them off the wire.
"""
import socket
import sys
import time

VALUE = b"x" * 10

# (command line, data block or None, expected reply shape)
TEXT = [
    (b"set user:1001 0 0 10", VALUE, "line"),
    (b"get user:1001", None, "values"),
    (b"get missing:1", None, "values"),
    (b"gets user:1001", None, "values"),
    (b"get user:1001 missing:2 user:1001", None, "values"),
    (b"add user:1001 0 0 10", VALUE, "line"),            # NOT_STORED
    (b"replace missing:3 0 0 10", VALUE, "line"),        # NOT_STORED
    (b"append user:1001 0 0 10", VALUE, "line"),
    (b"prepend user:1001 0 0 10", VALUE, "line"),
    (b"cas user:1001 0 0 10 1", VALUE, "line"),          # EXISTS
    (b"set counter 0 0 2", b"41", "line"),
    (b"incr counter 1", None, "line"),
    (b"decr counter 2", None, "line"),
    (b"incr missing:4 1", None, "line"),                 # NOT_FOUND
    (b"incr user:1001 1", None, "line"),                 # CLIENT_ERROR non-numeric
    (b"touch user:1001 100", None, "line"),
    (b"gat 100 user:1001", None, "values"),
    (b"gats 100 missing:5", None, "values"),
    (b"delete counter", None, "line"),
    (b"delete counter", None, "line"),                   # NOT_FOUND
    (b"set session:ab 0 0 10 noreply", VALUE, None),
    (b"delete session:ab noreply", None, None),
    (b"bogus_command x", None, "line"),                  # ERROR
    (b"set toolong 0 0 abc", None, "line"),              # CLIENT_ERROR bad command line format
    (b"version", None, "line"),
    (b"verbosity 1", None, "line"),
    (b"stats", None, "values"),
    (b"stats items", None, "values"),
    (b"flush_all", None, "line"),
]

META = [
    (b"ms meta:1 10 T0 F5", VALUE, False),
    (b"mg meta:1 v t f", None, False),
    (b"mg meta:missing v", None, False),                 # EN
    (b"ma meta:1", None, False),                         # CLIENT_ERROR non-numeric
    (b"md meta:1", None, False),
    (b"md meta:1", None, False),                         # NF
    (b"ms meta:2 2 q", b"12", True),                     # quiet: nothing
    (b"mg meta:2 v q", None, True),                      # quiet hit: VA
    (b"mg meta:3 v q", None, True),                      # quiet miss: nothing
    (b"ma meta:2 q", None, True),                        # quiet: nothing
    (b"mn", None, None),
]


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def skip(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        self.buf = self.buf[n:]

    def reply(self, shape):
        """One whole reply; returns its first word."""
        while True:
            ln = self.line()
            w = ln.split(b" ", 1)[0]
            if w == b"VALUE" and shape == "values":
                self.skip(int(ln.split()[3]) + 2)
                continue
            if w == b"VA":
                self.skip(int(ln.split()[1]) + 2)
                return w
            if w in (b"STAT", b"ITEM") and shape == "values":
                continue
            return w


def failed(w):
    return w in (b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR")


def wire(cmd, data):
    return cmd + b"\r\n" + (data + b"\r\n" if data is not None else b"")


def text(port, pipelined):
    s = connect(port)
    r = Reader(s)
    q = nr = nf = 0
    if pipelined:
        s.sendall(b"".join(wire(c, d) for c, d, _ in TEXT))
    for c, d, shape in TEXT:
        if not pipelined:
            s.sendall(wire(c, d))
        if shape is None:
            nr += 1
            continue
        q += 1
        w = r.reply(shape)
        nf += failed(w)
        if c.startswith(b"set toolong"):
            pass
        if not pipelined:
            time.sleep(0.002)
    s.close()
    return q, nr, nf


def meta(port):
    s = connect(port)
    r = Reader(s)
    q = nf = 0
    for c, d, quiet in META[:6]:
        s.sendall(wire(c, d))
        w = r.reply("line")
        q += 1
        nf += failed(w)
        time.sleep(0.002)
    # the quiet ones go in one write, closed by mn; the replies come until MN
    s.sendall(b"".join(wire(c, d) for c, d, _ in META[6:]))
    q += len(META) - 7
    while True:
        w = r.reply("line")
        if w == b"MN":
            break
        nf += failed(w)
    s.close()
    return q, 0, nf


def big(port):
    s = connect(port)
    r = Reader(s)
    v = b"b" * 200000
    s.sendall(wire(b"set big:1 0 0 %d" % len(v), v))
    w1 = r.reply("line")
    s.sendall(wire(b"get big:1", None))
    w2 = r.reply("values")
    s.sendall(wire(b"get big:1 big:1", None))
    w3 = r.reply("values")
    s.close()
    return 3, 0, failed(w1) + failed(w2) + failed(w3)


def pymc(port):
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheClientError, MemcacheServerError
    c = Client(("127.0.0.1", port), default_noreply=False)
    q = nr = nf = 0
    for i in range(20):
        c.set("py:%d" % i, "value-%d" % i)
        q += 1
    for i in range(25):  # five misses
        c.get("py:%d" % i)
        q += 1
    c.get_many(["py:1", "py:2", "py:nope"])
    q += 1
    c.set("py:n", "7")
    c.incr("py:n", 3)
    c.incr("py:absent", 1)
    q += 3
    c.delete("py:1")
    c.delete("py:absent")
    q += 2
    c.set("py:fire", "and-forget", noreply=True)
    c.delete("py:fire", noreply=True)
    nr += 2
    try:
        c.incr("py:2", 1)  # CLIENT_ERROR cannot increment or decrement non-numeric value
    except MemcacheClientError:
        nf += 1
    q += 1
    try:
        c.set("py:huge", b"h" * (2 * 1024 * 1024))  # SERVER_ERROR object too large for cache
    except MemcacheServerError:
        nf += 1
    q += 1
    c.close()
    return q, nr, nf


def latency(port, n):
    s = connect(port)
    r = Reader(s)
    v = b"L" * 524288  # ~1 ms a get: the client's own overhead (~30 us) stays small next to it
    s.sendall(wire(b"set lat:1 0 0 %d" % len(v), v))
    r.reply("line")
    # the reply's exact length is known: read it into one buffer, no parsing in the timed part
    want = len(b"VALUE lat:1 0 %d\r\n" % len(v)) + len(v) + 2 + len(b"END\r\n")
    buf = bytearray(want)
    view = memoryview(buf)
    total = 0.0
    for _ in range(n):
        t0 = time.monotonic()
        s.sendall(b"get lat:1\r\n")
        got = 0
        while got < want:
            k = s.recv_into(view[got:], want - got)
            if not k:
                raise EOFError
            got += k
        total += time.monotonic() - t0
        if not buf.endswith(b"END\r\n"):
            raise RuntimeError("unexpected reply")
        time.sleep(0.001)
    s.close()
    print("mean_ms %.4f" % (total / n * 1000))
    return n + 1, 0, 0


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "latency":
        q, nr, nf = latency(port, int(sys.argv[3]))
        print("queries %d\nnoreply %d\nfailed %d\nDONE" % (q, nr, nf), flush=True)
        return
    f = {"text": lambda: text(port, False), "pipeline": lambda: text(port, True), "meta": lambda: meta(port),
         "big": lambda: big(port), "pymemcache": lambda: pymc(port)}[mode]
    q, nr, nf = f()
    print("queries %d" % q)
    print("noreply %d" % nr)
    print("failed %d" % nf)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
