#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""
dnsmmsg.py PORT: a UDP DNS server that reads with recvmmsg (one vector of 8,
reused and never zeroed, non-blocking, so every call comes back short and
ends with EAGAIN) and a client on a connected socket that sends it rounds
of 1 to 5 queries, each for its own name (mR-J.test). The server answers
each with NXDOMAIN. Prints "sent N answered N".
"""
import ctypes
import socket
import struct
import sys
import time

libc = ctypes.CDLL("libc.so.6", use_errno=True)
VLEN = 8
ROUNDS = [3, 1, 5, 2, 4, 3, 5, 1]


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(IoVec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", MsgHdr), ("len", ctypes.c_uint)]


def query(qid, name):
    qname = b"".join(bytes([len(p)]) + p for p in name.encode().split(b".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)


def nxdomain(req):
    # the query echoed with QR, RD, RA set and rcode 3
    return req[:2] + b"\x81\x83" + req[4:6] + b"\0\0\0\0\0\0" + req[12:]


def main(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", port))
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli.connect(("127.0.0.1", port))
    bufs = [ctypes.create_string_buffer(512) for _ in range(VLEN)]
    iovs = [IoVec(ctypes.cast(b, ctypes.c_void_p), 512) for b in bufs]
    names = [ctypes.create_string_buffer(16) for _ in range(VLEN)]
    vec = (MMsgHdr * VLEN)()
    for i in range(VLEN):
        vec[i].hdr.iov = ctypes.pointer(iovs[i])
        vec[i].hdr.iovlen = 1
        vec[i].hdr.name = ctypes.cast(names[i], ctypes.c_void_p)
    sent = answered = 0
    for rnd, k in enumerate(ROUNDS):
        for j in range(k):
            cli.send(query(rnd * 16 + j, "m%d-%d.test" % (rnd, j)))
            sent += 1
        time.sleep(0.05)
        for i in range(VLEN):
            vec[i].hdr.namelen = 16
        n = libc.recvmmsg(srv.fileno(), vec, VLEN, socket.MSG_DONTWAIT, None)
        if n != k:
            raise SystemExit("recvmmsg returned %d of %d (errno %d)" % (n, k, ctypes.get_errno()))
        for i in range(n):
            srv.sendto(nxdomain(bufs[i].raw[:vec[i].len]), cli.getsockname())
            answered += 1
        for i in range(n):
            cli.recv(512)
    print("sent", sent, "answered", answered, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
