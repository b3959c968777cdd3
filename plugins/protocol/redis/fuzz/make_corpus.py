#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Seeds fuzz/corpus from the golden streams (testdata/*.txt): each stream
becomes one input in the layout of fuzz_redis.c, as the client and as the
server, whole and with a small capture, plus a few hand-made hostile ones.

    make_corpus.py            (run from this folder)
"""
import glob
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def encode(mode, msgs):
    out = bytearray([mode])
    for d, data in msgs:
        for i in range(0, max(len(data), 1), 60000):
            piece = data[i:i + 60000]
            out += bytes([d]) + len(piece).to_bytes(2, "little") + piece
    return bytes(out)


def write(blob):
    name = hashlib.sha1(blob).hexdigest()[:16]
    with open(os.path.join(HERE, "corpus", name), "wb") as f:
        f.write(blob)


for path in sorted(glob.glob(os.path.join(HERE, "..", "testdata", "*.txt"))):
    msgs = []
    for line in open(path):
        if line[:2] in ("c ", "s "):
            msgs.append((0 if line[0] == "c" else 1, bytes.fromhex(line[2:].strip())))
    if not msgs or sum(len(m) for _, m in msgs) > 40000:
        msgs = msgs[:40]
    write(encode(0, msgs))
    write(encode(1 | 4, [(1 - d, m) for d, m in msgs]))  # as the server, capture 64
for hostile in (b"*99999999999\r\n", b"$-5\r\n", b"*1\r\n" * 40, b">3\r\n$7\r\nmessage\r\n", b"|1\r\n+a\r\n+b\r\n:1\r\n",
                b"$5\r\nab", b"*2\r\n$3\r\nGET\r\n$1000000\r\nxx", b"!10\r\nERR boom!\r\n", b"PING\r\n\r\n\x00\x01"):
    write(encode(8, [(0, b"*1\r\n$4\r\nPING\r\n"), (1, hostile), (0, hostile)]))
