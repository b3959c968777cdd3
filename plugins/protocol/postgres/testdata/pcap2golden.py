#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a loopback capture of Postgres traffic into a golden file (format
in README.md next to this script).

    pcap2golden.py CAPTURE.pcapng SERVER_PORT "comment" > NAME.txt

Segments are the raw TCP payloads as tshark saw them, per connection. The
expectations are worked out here, independently of the plugin, from the
message stream (framed by this script, cross-checked against tshark's own
pgsql dissector: the count of "Simple query" and "Execute" messages must
agree): one record per Query (answered at ReadyForQuery: failed if an
ErrorResponse came before it) and per Execute (answered by CommandComplete,
EmptyQueryResponse, PortalSuspended or ErrorResponse; Executes the server
skipped after an error in their batch are failed with no SQLSTATE).
"""
import re
import subprocess
import sys


def tshark(path, port):
    args = ["tshark", "-r", path, "-d", "tcp.port==%d,pgsql" % port, "-T", "fields", "-E", "separator=\t",
            "-E", "occurrence=a", "-E", "aggregator=|", "-e", "frame.time_relative", "-e", "tcp.stream",
            "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.payload", "-e", "pgsql.type"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        v = (line.split("\t") + [""] * 6)[:6]
        yield float(v[0]), int(v[1]), int(v[2]), int(v[3]), bytes.fromhex(v[4].replace(":", "")), v[5]


def op_of(q):
    q = re.sub(r"--[^\n]*|/\*.*?\*/", " ", q, flags=re.S).lstrip(" \t\r\n(")
    m = re.match(r"[A-Za-z]+", q)
    return m.group(0).upper() if m else ""


class Conn:
    def __init__(self, n):
        self.n = n
        self.buf = {True: b"", False: b""}
        self.untyped = True   # the frontend's start-up phase
        self.ssl_wait = 0
        self.done = False
        self.stmts, self.portals = {}, {}
        self.queue = []       # ("Q"|"E", method) or ("S",)
        self.batch_err = False
        self.qfail = None
        self.records = []
        self.requests = 0
        self.app = "-"
        self.tls = False

    def feed(self, fe, data):
        if self.done:
            return
        self.buf[fe] += data
        b = self.buf[fe]
        while b and not self.done:
            if not fe and self.ssl_wait:
                self.ssl_wait -= 1
                if b[0:1] in (b"S", b"G"):
                    self.done = self.tls = True
                    return
                b = b[1:]
                continue
            if fe and b[0] == 0:
                if len(b) < 8:
                    break
                ln, code = int.from_bytes(b[:4], "big"), int.from_bytes(b[4:8], "big")
                if len(b) < ln:
                    break
                if code >> 16 == 3:
                    kv = b[8:ln].split(b"\0")
                    for k, v in zip(kv[0::2], kv[1::2]):
                        if k == b"application_name":
                            self.app = v.decode("utf-8", "replace")
                if code in (80877103, 80877104):
                    self.ssl_wait += 1
                elif code == 80877102:
                    self.done = True
                b = b[ln:]
                continue
            if len(b) < 5:
                break
            t, ln = chr(b[0]), int.from_bytes(b[1:5], "big")
            if len(b) < ln + 1:
                break
            body = b[5:ln + 1]
            b = b[ln + 1:]
            (self.frontend if fe else self.backend)(t, body)
        self.buf[fe] = b

    def frontend(self, t, body):
        cs = lambda s: s.split(b"\0")
        if t == "Q":
            self.requests += 1
            self.queue.append(("Q", op_of(body.rstrip(b"\0").decode("utf-8", "replace")) or "QUERY"))
        elif t == "P":
            name, q = cs(body)[:2]
            self.stmts[name] = op_of(q.decode("utf-8", "replace"))
        elif t == "B":
            portal, stmt = cs(body)[:2]
            self.portals[portal] = self.stmts.get(stmt, "EXECUTE")
        elif t == "E":
            self.requests += 1
            self.queue.append(("E", self.portals.get(cs(body)[0], "EXECUTE")))
        elif t == "S":
            self.queue.append(("S",))
            self.portals.pop(b"", None)
        elif t == "C":
            kind, name = body[0:1], cs(body[1:])[0]
            (self.stmts if kind == b"S" else self.portals).pop(name, None)

    def record(self, method, status, code="-"):
        self.records.append("%d %s %s %s" % (self.n, method or "EXECUTE", status, code or "-"))

    def backend(self, t, body):
        front = self.queue[0] if self.queue else None
        if t in "CIs":
            if front and front[0] == "E":
                self.queue.pop(0)
                self.record(front[1], "ok")
        elif t == "E":
            code = ""
            for f in body.split(b"\0"):
                if f[:1] == b"C":
                    code = f[1:].decode()
            if front and front[0] == "E":
                self.queue.pop(0)
                self.batch_err = True
                self.record(front[1], "failed", code)
            elif front and front[0] == "Q":
                self.qfail = self.qfail or code
            else:
                self.batch_err = True
        elif t == "Z":
            while self.queue and self.queue[0][0] == "E":
                self.record(self.queue.pop(0)[1], "failed" if self.batch_err else "unknown")
            if self.queue and self.queue[0][0] == "S":
                self.queue.pop(0)
            elif self.queue and self.queue[0][0] == "Q":
                self.record(self.queue.pop(0)[1], "failed" if self.qfail else "ok", self.qfail)
            self.batch_err, self.qfail = False, None


def main():
    if sys.argv[1] == "--summary":
        return summary(sys.argv[2], int(sys.argv[3]))
    path, port, comment = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print("# " + comment)
    print("# capture: pcap/%s, converted by pcap2golden.py" % path.split("/")[-1])
    conns, order, t0, tshark_requests = {}, [], None, 0
    for t, stream, sp, dp, payload, types in tshark(path, port):
        tshark_requests += sum(1 for x in types.split("|") if x in ("Simple query", "Execute"))
        if not payload:
            continue
        t0 = t if t0 is None else t0
        if stream not in conns:
            conns[stream] = Conn(len(conns))
        c = conns[stream]
        fe = dp == port
        order.append("%d %s %d %s" % (c.n, "c" if fe else "s", round((t - t0) * 1e6), payload.hex()))
        c.feed(fe, payload)
    print("\n".join(order))
    mine = 0
    for c in conns.values():
        for r in c.records:
            print("expect " + r)
        mine += c.requests
    if mine != tshark_requests:
        sys.exit("pcap2golden: %d requests framed here, %d by tshark" % (mine, tshark_requests))


def summary(path, port):
    """--summary CAPTURE PORT: "application_name status count" lines, and
    "* tls N" for connections that turned to TLS."""
    conns, tshark_requests, counts = {}, 0, {}
    for t, stream, sp, dp, payload, types in tshark(path, port):
        tshark_requests += sum(1 for x in types.split("|") if x in ("Simple query", "Execute"))
        if payload:
            conns.setdefault(stream, Conn(len(conns))).feed(dp == port, payload)
    mine = 0
    for c in conns.values():
        mine += c.requests
        for r in c.records:
            key = (c.app, r.split()[2])
            counts[key] = counts.get(key, 0) + 1
        if c.tls:
            counts[("*", "tls")] = counts.get(("*", "tls"), 0) + 1
    for (app, st), n in sorted(counts.items()):
        print(app, st, n)
    print("* requests", tshark_requests)
    if mine != tshark_requests:
        sys.exit("pcap2golden: %d requests framed here, %d by tshark" % (mine, tshark_requests))


if __name__ == "__main__":
    main()
