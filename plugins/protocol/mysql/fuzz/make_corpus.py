#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz_mysql.c into corpus/ (see ../README.md,
"Fuzzing"): every golden session of ../testdata as the client and as the
server, with the default and small captures (messages cut to 2 KiB and
seeds to 16 KiB, so they stay small), and hand-made hostile seeds. Inputs
a fuzzing run finds that reach new code are kept next to them as
found-<sha1 prefix>; this script leaves those alone."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "testdata")
OUT = os.path.join(HERE, "corpus")
INGRESS, LOSE, BIG = 1, 2, 4


def load(path):
    msgs = []
    for line in open(path):
        if line[:2] in ("c ", "s "):
            msgs.append((line[0] == "c", bytes.fromhex(line[2:].strip())))
    return msgs


def encode(settings, msgs, limit=16384):
    out = bytearray([settings])
    for flags, data in msgs:
        data = data[:2048]
        rec = bytearray([flags])
        if flags & LOSE:
            rec += struct.pack("<H", 100)
        rec += struct.pack("<H", len(data)) + data
        if len(out) + len(rec) > limit:
            break
        out += rec
    return bytes(out)


def pkt(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    for fn in sorted(os.listdir(TESTDATA)):
        if not fn.endswith(".golden"):
            continue
        msgs = load(os.path.join(TESTDATA, fn))
        base = fn[:-7]
        for server, cap in ((0, 0), (1, 0), (0, 2), (1, 3)):
            # the client's bytes are egress for a client, ingress for a server
            enc = [((INGRESS if (c == bool(server)) else 0), d) for c, d in msgs]
            write("%s-%s-cap%d" % (base, "server" if server else "client", cap), encode(server | cap << 1, enc))
        # one with a loss in the middle of the server's bytes
        enc = [((INGRESS | (LOSE if i == len(msgs) // 2 else 0)) if not c else 0, d) for i, (c, d) in enumerate(msgs)]
        write("%s-client-loss" % base, encode(0, enc))
    greeting = pkt(0, b"\x0a8.0.36\x00\x07\x00\x00\x00abcdefgh\x00\xff\xff\x2d\x02\x00\xff\xff\x15" + b"\x00" * 10
                   + b"ijklmnopqrst\x00")
    hs = pkt(1, struct.pack("<I", 0x0100a20d) + b"\x00" * 28 + b"u\x00\x00")
    ok = pkt(2, b"\x00\x00\x00\x02\x00\x00\x00")
    hostile = {
        "hostile-len-ffffff": [(INGRESS, greeting), (0, hs), (INGRESS, ok), (BIG, b"\xff\xff\xff\x00\x03select '"),
                                (0, pkt(1, b"\x03continued")), (INGRESS, pkt(1, b"\x00" * 7))],
        "hostile-colcount": [(INGRESS, greeting), (0, hs), (INGRESS, ok), (0, pkt(0, b"\x03select 1")),
                             (INGRESS, pkt(1, b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff")),
                             (INGRESS, pkt(2, b"\x03def"))],
        "hostile-prepare": [(INGRESS, greeting), (0, hs), (INGRESS, ok), (0, pkt(0, b"\x16select ?")),
                            (INGRESS, pkt(1, b"\x00\x01\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00")),
                            (0, pkt(0, b"\x17\xff\xff\xff\xff\x00\x01\x00\x00\x00"))],
        "hostile-garbage-cmds": [(0, pkt(0, b"\x55")), (0, pkt(0, b"\x03\x00\x01'x")), (INGRESS, pkt(1, b"\xff"))],
        "hostile-short": [(INGRESS, b"\x01"), (0, b"\x00\x00"), (INGRESS, b"\x0a\x00\x00\x00\x0a")],
        "hostile-infile": [(0, pkt(0, b"\x03load data local infile 'f' into table t")), (INGRESS, pkt(1, b"\xfbf")),
                           (0, pkt(2, b"1,2\n")), (0, pkt(3, b"")), (INGRESS, pkt(4, b"\x00\x01\x00\x02\x00\x00\x00"))],
        "hostile-change-user": [(0, pkt(0, b"\x11u\x00\x00db\x00")), (INGRESS, pkt(1, b"\xfeplugin\x00")),
                                (0, pkt(2, b"x" * 20)), (INGRESS, pkt(3, b"\x01\x03")),
                                (INGRESS, pkt(4, b"\x00\x00\x00\x02\x00\x00\x00"))],
        "hostile-ssl": [(INGRESS, greeting), (0, pkt(1, struct.pack("<I", 0x0a00) + b"\x00" * 28)),
                        (0, b"\x16\x03\x01\x02\x00")],
    }
    for name, msgs in hostile.items():
        write(name, encode(0, msgs))
        write(name + "-port3306", encode(8 | 6, msgs))


if __name__ == "__main__":
    main()
