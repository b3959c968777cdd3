#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a loopback capture of Redis traffic into golden streams, one per
TCP connection (format in ../README.md, "Golden tests").

    pcap2golden.py CAPTURE.pcapng SERVER_PORT OUT_PREFIX "comment"

writes OUT_PREFIX-<n>.txt for the n-th connection that carried payload:
"c <hex>" for each segment the client sent, "s <hex>" for the server's.
On loopback a segment is one write (up to 64 KiB). tshark's RESP dissector
(-d tcp.port==PORT,resp) counts the commands of each stream, written as a
"# tshark:" line so the hand-written expect lines can be checked against
an independent decoder.
"""
import subprocess
import sys


def main():
    path, port, prefix, comment = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    out = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==%d,resp" % port, "-T", "fields",
                          "-E", "separator=\t", "-e", "tcp.stream", "-e", "tcp.dstport", "-e", "tcp.payload"],
                         check=True, capture_output=True, text=True).stdout
    streams = {}
    order = []
    for line in out.splitlines():
        v = line.split("\t")
        if len(v) < 3 or not v[2]:
            continue
        s = int(v[0])
        if s not in streams:
            streams[s] = []
            order.append(s)
        streams[s].append(("c" if int(v[1]) == port else "s", v[2].replace(":", "")))
    # commands per stream as tshark decodes them: top-level arrays the client sent
    cmds = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==%d,resp" % port, "-Y",
                           "tcp.dstport == %d && resp" % port, "-T", "fields", "-e", "tcp.stream",
                           "-e", "resp.array.length"], check=True, capture_output=True, text=True).stdout
    n_cmds = {}
    for line in cmds.splitlines():
        v = line.split("\t")
        n_cmds[int(v[0])] = n_cmds.get(int(v[0]), 0) + (len(v[1].split(",")) if len(v) > 1 and v[1] else 0)
    for i, s in enumerate(order, 1):
        with open("%s-%d.txt" % (prefix, i), "w") as f:
            f.write("# %s\n# capture: %s, converted by pcap2golden.py\n" % (comment, path.split("/")[-1]))
            f.write("# tshark: %d RESP arrays sent by the client (nested ones included)\n" % n_cmds.get(s, 0))
            for who, hexs in streams[s]:
                f.write("%s %s\n" % (who, hexs))


if __name__ == "__main__":
    main()
