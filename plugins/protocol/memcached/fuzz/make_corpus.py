#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz_memcached.c (input format in its header):
the first messages of every golden stream (client and server roles, two
captures), plus hand-made edge cases: quiet binary pipelines, meta quiet
mode, absurd lengths, lost bytes.

    make_corpus.py TESTDATA_DIR CORPUS_DIR
"""
import gzip
import os
import sys


def enc(settings, msgs):
    out = bytes([settings])
    for ingress, data, loss in msgs:
        fl = (1 if ingress else 0) | (2 if loss else 0)
        out += bytes([fl])
        if loss:
            out += loss.to_bytes(2, "little")
        data = data[:65535]
        out += len(data).to_bytes(2, "little") + data
    return out


def golden(path, limit=12):
    msgs = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if line[:2] in ("c ", "s "):
                msgs.append((line[0], bytes.fromhex(line[2:].strip())[:3000]))
                if len(msgs) == limit:
                    break
    return msgs


def binhdr(magic, op, key=b"", ext=0, vlen=0, status=0, opaque=0, body=None):
    blen = len(key) + ext + vlen if body is None else body
    return (bytes([magic, op]) + len(key).to_bytes(2, "big") + bytes([ext, 0]) + status.to_bytes(2, "big") +
            blen.to_bytes(4, "big") + opaque.to_bytes(4, "big") + bytes(8) + bytes(ext) + key + b"v" * vlen)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".golden.gz"):
            continue
        msgs = golden(os.path.join(src, name))
        for server in (0, 1):
            for cap in (0, 2):
                m = [((w == "s") != bool(server), d, 0) for w, d in msgs]
                open(os.path.join(dst, "%s-%d%d" % (name[:-10], server, cap), ), "wb").write(enc(server | cap << 1, m))
                n += 1
    hand = {
        "binary-getkq-noop": [(0, binhdr(0x80, 0x0d, b"k1", opaque=1) + binhdr(0x80, 0x0d, b"k2", opaque=2) +
                               binhdr(0x80, 0x0a, opaque=3), 0),
                              (1, binhdr(0x81, 0x0d, b"k2", 4, 3, opaque=2) + binhdr(0x81, 0x0a, opaque=3), 0)],
        "binary-huge-body": [(0, binhdr(0x80, 0x01, b"k", 8, 0, body=0xffffffff), 0)],
        "binary-stat": [(0, binhdr(0x80, 0x10), 0), (1, binhdr(0x81, 0x10, b"pid", 0, 2) + binhdr(0x81, 0x10), 0)],
        "text-loss": [(0, b"get a\r\nget b\r\n", 0), (1, b"VALUE a 0 3\r\nabc\r\nEND\r\n", 40),
                      (1, b"END\r\n", 0)],
        "text-huge-len": [(0, b"set k 0 0 99999999999999999999\r\n", 0), (1, b"VALUE k 0 4294967296\r\n", 0)],
        "meta-quiet": [(0, b"mg a v q\r\nms b 2 q\r\nhi\r\nmd c q\r\nmn\r\n", 0), (1, b"VA 1\r\nx\r\nMN\r\n", 0)],
        "noreply": [(0, b"set k 0 0 1 noreply\r\nv\r\nincr k 1 noreply\r\n", 0), (1, b"CLIENT_ERROR x\r\n", 0)],
    }
    for name, msgs in hand.items():
        open(os.path.join(dst, name), "wb").write(enc(0, [(bool(i), d, l) for i, d, l in msgs]))
        n += 1
    print("%d inputs" % n)


if __name__ == "__main__":
    main()
