#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Hand-shaped DNS clients for capture.sh (real server, odd client):
    craft.py formerr    a UDP query with qdcount 2 but one question (unbound: FORMERR)
    craft.py tcpsplit   TCP: length prefix, 7 bytes, the rest in three writes; then two queries in one write
"""
import socket
import struct
import sys
import time


def query(name, qtype, qid, qd=1, flags=0x0100):
    h = struct.pack(">HHHHHH", qid, flags, qd, 0, 0, 0)
    b = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"
    return h + b + struct.pack(">HH", qtype, 1)


if sys.argv[1] == "formerr":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect(("127.0.0.1", 53))
    s.send(query("a.test", 1, 0x4242, qd=2))
    print(s.recv(512)[3] & 15)
elif sys.argv[1] == "tcpsplit":
    s = socket.create_connection(("127.0.0.1", 53))
    m = query("multi.test", 1, 0x0101)
    s.send(struct.pack(">H", len(m)))
    time.sleep(0.05)
    s.send(m[:7])
    time.sleep(0.05)
    s.send(m[7:])
    m2, m3 = query("b.test", 28, 0x0202), query("nope.test", 1, 0x0303)
    time.sleep(0.2)
    s.send(struct.pack(">H", len(m2)) + m2 + struct.pack(">H", len(m3)) + m3)
    time.sleep(0.3)
    print(len(s.recv(4096)))
    s.close()
