#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz_dns (layout in fuzz_dns.c / README.md)
from the golden captures (testdata/*.txt) plus a few hand-made hostile
messages. Seeds are named seed-*; inputs found by fuzzing are kept as
crash-*/regress-* next to them.

    make_corpus.py            (from plugins/protocol/dns/fuzz)
"""
import glob
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

MSG, LOSE, EXPIRE, TIMERS = 0, 1, 2, 3


def op(kind, direction=0, peer=0, hi=0):
    return bytes([(direction & 1) | (kind << 1) | ((peer & 3) << 3) | ((hi & 7) << 5)])


def msg(data, direction, peer=0):
    return op(MSG, direction, peer) + struct.pack("<H", len(data)) + data


def mode(tcp=False, server=False, unconnected=False, capture=0, detect=False, small=False, anyport=False):
    return bytes([int(tcp) | int(server) << 1 | int(unconnected) << 2 | (capture & 3) << 3 | int(detect) << 5 |
                  int(small) << 6 | int(anyport) << 7])


def load(path):
    ports, events = [], []
    for line in open(path):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "ports":
            ports = [int(p) for p in f[1].split(",")]
        elif f[0].isdigit():
            events.append((f[1] == "tcp", f[2], int(f[3]), f[4], int(f[5]), bytes.fromhex(f[6])))
    return ports, events


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(data)


def from_golden():
    for path in sorted(glob.glob(os.path.join(HERE, "..", "testdata", "*.txt"))):
        base = os.path.basename(path)[:-4]
        ports, events = load(path)
        conns = {}
        for tcp, src, sp, dst, dp, data in events:
            to_server = dp in ports
            client = (tcp, src, sp) if to_server else (tcp, dst, dp)
            conns.setdefault(client, []).append((to_server, data))
        for i, (key, evs) in enumerate(sorted(conns.items())):
            tcp = key[0]
            if i >= 3:
                break
            client = mode(tcp=tcp) + b"".join(msg(d, 0 if up else 1) for up, d in evs) + op(EXPIRE, hi=4)
            server = mode(tcp=tcp, server=True, unconnected=not tcp) + \
                b"".join(msg(d, 1 if up else 0, peer=i) for up, d in evs) + op(TIMERS, hi=4)
            write("seed-%s-%d-client" % (base, i), client)
            write("seed-%s-%d-server" % (base, i), server)
            # on a port that is not DNS's: detect() with detect_any_port
            anyport = mode(tcp=tcp, detect=True, anyport=True) + b"".join(msg(d, 0 if up else 1) for up, d in evs)
            write("seed-%s-%d-anyport" % (base, i), anyport)
            if tcp:  # the same stream, one byte at a time, small capture
                bytewise = mode(tcp=True, capture=2) + b"".join(
                    msg(d[k:k + 1], 0 if up else 1) for up, d in evs for k in range(len(d)))
                write("seed-%s-%d-bytes" % (base, i), bytewise)
        # everything on one connection, with detect and small caps
        allin = mode(unconnected=True, detect=True, small=True) + b"".join(
            msg(d, 0 if dp in ports else 1, peer=j) for j, (tcp, src, sp, dst, dp, d) in enumerate(events) if not tcp)
        if len(allin) > 1:
            write("seed-%s-all" % base, allin + op(LOSE) + op(EXPIRE, hi=7) + op(TIMERS, hi=7))


def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".") if l) + b"\0"


def hand_made():
    hdr = lambda i, fl, qd, an, ns=0, ar=0: struct.pack(">HHHHHH", i, fl, qd, an, ns, ar)
    q = hdr(1, 0x0100, 1, 0) + name("a.test") + struct.pack(">HH", 1, 1)
    a = hdr(1, 0x8180, 1, 1) + name("a.test") + struct.pack(">HH", 1, 1) + b"\xc0\x0c" + \
        struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 2])
    cases = {
        "ptr-self": hdr(1, 0x0100, 1, 0) + b"\xc0\x0c" + struct.pack(">HH", 1, 1),
        "ptr-forward": hdr(1, 0x0100, 1, 0) + b"\xc0\x0e\x01a\x00" + struct.pack(">HH", 1, 1),
        "ptr-pingpong": hdr(1, 0x8180, 1, 1) + b"\x01a\xc0\x10\x01b\xc0\x0c" + struct.pack(">HH", 1, 1),
        "huge-counts": hdr(1, 0x8180, 1, 0xffff, 0xffff, 0xffff) + name("a.test") + struct.pack(">HH", 1, 1),
        "cname-loop": hdr(1, 0x8180, 1, 2) + name("a.test") + struct.pack(">HH", 1, 1) + b"\xc0\x0c" +
        struct.pack(">HHIH", 5, 1, 60, 4) + b"\x01b\xc0\x0c" + b"\xc0\x1c" + struct.pack(">HHIH", 5, 1, 60, 2) + b"\xc0\x0c",
        "rdlen-past-end": a[:-6] + b"\xff\xff" + a[-4:],
        "label-0x40": hdr(1, 0x0100, 1, 0) + b"\x41\x00" + struct.pack(">HH", 1, 1),
        "long-name": hdr(1, 0x0100, 1, 0) + (b"\x3f" + b"x" * 63) * 4 + b"\x00" + struct.pack(">HH", 1, 1),
    }
    for k, v in cases.items():
        write("seed-hostile-udp-%s" % k, mode() + msg(q, 0) + msg(v, 1) + msg(v, 0) + msg(a, 1))
        write("seed-hostile-tcp-%s" % k, mode(tcp=True) + msg(struct.pack(">H", len(v)) + v, 0) +
              msg(struct.pack(">H", len(q)) + q, 0) + msg(struct.pack(">H", len(a)) + a, 1))
    # TCP prefix garbage, a mid-stream join, capture cuts
    write("seed-tcp-prefix-garbage", mode(tcp=True) + msg(b"\x00\x03abc", 0) + msg(b"\xff\xff" + q, 0))
    write("seed-tcp-join", mode(tcp=True) + op(LOSE, 0) + msg(q[5:], 0) + msg(struct.pack(">H", len(q)) + q, 0))
    write("seed-udp-capture16", mode(capture=1) + msg(q, 0) + msg(a, 1))
    write("seed-udp-server-peers", mode(server=True, unconnected=True) + msg(q, 1, 0) + msg(q, 1, 1) + msg(a, 0, 1) +
          msg(a, 0, 0) + op(EXPIRE, hi=7))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for f in glob.glob(os.path.join(OUT, "seed-*")):
        os.remove(f)
    from_golden()
    hand_made()
    print(len(glob.glob(os.path.join(OUT, "*"))), "files in", OUT)
