#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Recording TCP proxy for the HTTP plugin's golden streams.

    recorder.py LISTEN_PORT UPSTREAM_PORT OUT_PREFIX [DESCRIPTION]

Relays every connection accepted on 127.0.0.1:LISTEN_PORT to
127.0.0.1:UPSTREAM_PORT and writes what each side sent, one line per
recv() in the order the proxy saw them, to OUT_PREFIX-<n>.http (format in
../../README.md, "Golden tests"). Stops on SIGTERM/SIGINT after writing
the connections that ended.
"""
import os
import select
import signal
import socket
import sys
import threading


def escape(b):
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def relay(n, cli, up, prefix, desc):
    msgs = []
    socks = {cli: ("c", up), up: ("s", cli)}
    open_ = {cli, up}
    while open_:
        r, _, _ = select.select(list(open_), [], [], 30)
        if not r:
            break
        for s in r:
            tag, peer = socks[s]
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if not b:
                open_.discard(s)
                try:
                    peer.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            msgs.append((tag, b))
            try:
                peer.sendall(b)
            except OSError:
                open_.clear()
    cli.close()
    up.close()
    path = "%s-%d.http" % (prefix, n)
    with open(path + ".tmp", "w") as f:
        f.write("# zerotap HTTP golden stream, format 1: \"c\" = the client wrote, \"s\" = the server wrote\n")
        if desc:
            f.write("# %s\n" % desc)
        for tag, b in msgs:
            f.write("%s %s\n" % (tag, escape(b)))
    os.rename(path + ".tmp", path)


def main():
    port, upstream, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    desc = sys.argv[4] if len(sys.argv) > 4 else ""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    n = 0
    threads = []
    try:
        while True:
            cli, _ = ls.accept()
            up = socket.create_connection(("127.0.0.1", upstream))
            n += 1
            t = threading.Thread(target=relay, args=(n, cli, up, prefix, desc))
            t.start()
            threads.append(t)
    except (KeyboardInterrupt, SystemExit):
        pass
    for t in threads:
        t.join(35)


if __name__ == "__main__":
    main()
