#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz_http.c into corpus/ (see ../README.md,
"Fuzzing"): every golden stream of ../testdata as the client and as the
server, with the default and a small capture (messages cut to 2 KiB and
seeds to 16 KiB, so they stay small), and a few hand-made hostile seeds.
Inputs the fuzzer found that reach code the seeds do not are kept next to
them as found-<sha1 prefix> (libFuzzer -merge=1 -use_counters=0), crashers
as crash-<what>; this script leaves those alone."""
import gzip
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "testdata")
OUT = os.path.join(HERE, "corpus")
INGRESS, LOSE = 1, 2


def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            e = s[i + 1]
            if e == "r":
                out.append(13)
            elif e == "n":
                out.append(10)
            elif e == "t":
                out.append(9)
            elif e == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 2
            else:
                out.append(ord(e))
            i += 2
            continue
        out.append(ord(ch))
        i += 1
    return bytes(out)


def load(path):
    op = gzip.open if path.endswith(".gz") else open
    msgs = []
    with op(path, "rt", encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line[0] == "#":
                continue
            msgs.append((line[0] == "c", unescape(line[2:])))
    return msgs


def encode(settings, msgs):
    """msgs: (ingress, bytes, lose) tuples."""
    b = bytearray([settings])
    for ingress, data, lose in msgs:
        b.append((INGRESS if ingress else 0) | (LOSE if lose else 0))
        if lose:
            b += struct.pack("<H", lose)
        b += struct.pack("<H", len(data)) + data
    return bytes(b)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    for fn in sorted(os.listdir(TESTDATA)):
        if not (fn.endswith(".http") or fn.endswith(".http.gz")):
            continue
        name = fn.split(".")[0]
        msgs = load(os.path.join(TESTDATA, fn))
        for server, cap in ((0, 0), (1, 0), (0, 1)):  # capture 2048, 2048, 300
            seq, total = [], 0
            for c, d in msgs:
                if total > 16384:
                    break
                seq.append(((c == bool(server)), d[:2048], 0))
                total += min(len(d), 2048)
            write("golden-%s-%s-cap%d" % (name, "server" if server else "client", 2048 if cap == 0 else 300),
                  encode(server | cap << 1, seq))
    R = lambda s: (False, s, 0)       # the client (the traced process) writes
    A = lambda s: (True, s, 0)        # it reads
    seeds = {
        "huge-content-length": [R(b"GET / HTTP/1.1\r\n\r\n"),
                                A(b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\nx"),
                                R(b"GET /2 HTTP/1.1\r\n\r\n"),
                                A(b"HTTP/1.1 200 OK\r\nContent-Length: 1125899906842624\r\n\r\n")],
        "bad-content-length": [R(b"POST / HTTP/1.1\r\nContent-Length: -1\r\nContent-Length: 5\r\n\r\n")],
        "chunk-overflow": [R(b"GET / HTTP/1.1\r\n\r\n"),
                           A(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n")],
        "chunk-trailers": [R(b"GET / HTTP/1.1\r\n\r\n"),
                           A(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;x=y\r\nabc\r\n"
                             b"0\r\nA: 1\r\nB: 2\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")],
        "nul-bytes": [R(b"GET /\x00 HTTP/1.1\r\nX: \x00\r\n\r\n"), A(b"HTTP/1.1 200\x00OK\r\n\r\n")],
        "overlong-header": [R(b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")],
        "pipeline-head": [R(b"HEAD / HTTP/1.1\r\n\r\nGET /a/1 HTTP/1.1\r\n\r\nHEAD /b HTTP/1.0\r\n\r\n"),
                          A(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
                            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")],
        "interim-upgrade": [R(b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"),
                            A(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x00")],
        "connect-tunnel": [R(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
                           A(b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01")],
        "mid-stream": [A(b"y of something\r\nHTTP/1.1 200 OK\r\n\r\n"), R(b"d data"),
                       R(b"GET /x HTTP/1.1\r\n\r\n"), A(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")],
        "gaps": [R(b"GET /a HTTP/1.1\r\nHo"), (False, b"st: x\r\n\r\n", 7),
                 A(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n12345"), (True, b"HTTP/1.1 200 OK\r\n\r\n", 50),
                 R(b"GET /b HTTP/1.1\r\n\r\n"), (True, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0)],
        "not-http": [R(b"OPTIONS rtsp://cam/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")],
        "bare-lf-fold": [R(b"GET /lf HTTP/1.0\nHost: a\n  folded\n\n"), A(b"HTTP/1.0 200\nContent-Length: 0\n\n")],
        "absolute-form": [R(b"GET http://Example.com:8080/a/b/123e4567-e89b-12d3-a456-426614174000?q#f HTTP/1.1\r\n"
                            b"Host: [::1]:8080\r\nUser-Agent: \x7fbad\r\n\r\n"),
                          A(b"HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\n")],
    }
    for name, seq in seeds.items():
        write("seed-%s" % name, encode(0, seq))
        write("seed-%s-server-cap64" % name, encode(1 | 2 << 1, [(not c, d, l) for c, d, l in seq]))


if __name__ == "__main__":
    main()
