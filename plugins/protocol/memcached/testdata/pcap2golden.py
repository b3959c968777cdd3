#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a loopback capture of memcached traffic on one connection or more
into a golden stream (format in README.md next to this script):

    pcap2golden.py CAPTURE.pcapng SERVER_PORT "comment" "client counts" "server counts" > NAME.golden

Each TCP segment's payload becomes one message line, "c" when the client
sent it and "s" when the server did, in capture order; connections are
separated by "conn" lines. The counts lines are copied in: the test checks
the plugin's records against them.
"""
import subprocess
import sys


def main():
    path, port, comment, client, server = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=\t", "-e", "tcp.stream",
                          "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.payload"],
                         check=True, capture_output=True, text=True).stdout
    print("# " + comment)
    print("# capture: pcap/%s, converted by pcap2golden.py" % path.split("/")[-1])
    print("client " + client.strip())
    print("server " + server.strip())
    streams = {}
    for line in out.splitlines():
        v = line.split("\t")
        if len(v) < 4 or not v[3]:
            continue
        streams.setdefault(v[0], []).append(("s" if int(v[1]) == port else "c", v[3].replace(":", "")))
    for sid in sorted(streams, key=int):
        print("conn")
        for who, hexs in streams[sid]:
            print("%s %s" % (who, hexs))


if __name__ == "__main__":
    main()
