#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the fuzz corpus seeds (format in fuzz_pg.c) from the golden
captures: each connection of each testdata/*.txt as the client, as the
server and with the role unknown, with the full capture and a 64-byte one,
plus a few hand-made hostile inputs.

    make_corpus.py [CORPUS_DIR]      (default: corpus/ next to this script)
"""
import glob
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def seed(settings, msgs):
    out = bytes([settings])
    for ingress, loss, data in msgs:
        out += bytes([ingress | (2 if loss else 0)])
        if loss:
            out += struct.pack("<H", loss)
        data = data[:65535]
        out += struct.pack("<H", len(data)) + data
    return out


def write(d, blob):
    with open(os.path.join(d, "seed-" + hashlib.sha1(blob).hexdigest()[:16]), "wb") as f:
        f.write(blob)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    os.makedirs(d, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(HERE, "..", "testdata", "*.txt"))):
        conns = {}
        for line in open(path):
            f = line.split()
            if len(f) == 4 and f[1] in ("c", "s"):
                conns.setdefault(int(f[0]), []).append((f[1] == "c", bytes.fromhex(f[3])))
        for segs in conns.values():
            segs = segs[:200]
            for settings in (0, 1, 2, 2 | 8):  # client, server, unknown, unknown with a 64-byte capture
                server = settings & 1
                write(d, seed(settings, [((0 if fc else 1) ^ server, 0, b) for fc, b in segs]))
    Q = lambda t, b: t + struct.pack(">I", len(b) + 4) + b
    write(d, seed(2, [(0, 0, Q(b"Q", b"select 'x")), (1, 0, Q(b"Z", b"I"))]))
    write(d, seed(2, [(0, 0, b"Q\xff\xff\xff\xffsel"), (1, 0, b"\x00\x00\x00\x08")]))
    write(d, seed(0, [(0, 0, b"\x00\x00\x00\x08\x04\xd2\x16\x2f"), (1, 0, b"S"), (0, 0, b"\x16\x03\x01")]))
    write(d, seed(0, [(0, 0, b"\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x00\x01\x00\x00\x00\x02")]))
    write(d, seed(2, [(0, 0, Q(b"Q", b"select 1\0")), (1, 300, Q(b"C", b"SELECT 1\0") + Q(b"Z", b"I"))]))


if __name__ == "__main__":
    main()
