#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a loopback capture of MySQL traffic into golden files, one per
TCP connection (format in README.md next to this script).

    pcap2golden.py CAPTURE.pcapng SERVER_PORT NAME "comment" OUT_DIR
    pcap2golden.py --count CAPTURE.pcapng SERVER_PORT

writes OUT_DIR/NAME.golden (NAME_2.golden, ... for further connections);
with --count (the integration test's oracle) it prints the totals of all
connections instead: "ok N failed N executes N prepares N".
The messages are the TCP payloads as the capture saw them. The
expectations come from tshark's own MySQL dissector (an independent
oracle, not from the plugin): each command packet (sequence id 0 in the
command phase) gives one `expect COMMAND VERB STATUS` line, in order,
where STATUS is `failed` when an ERR packet (mysql.error_code) came
before the next command, and VERB is the first word of the SQL
(COM_QUERY; for COM_STMT_EXECUTE the prepared statement's, by id) or
`-`. COM_QUIT, COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA get no
answer and make no record: they are left out.
"""
import subprocess
import sys

F = ["tcp.stream", "frame.time_relative", "tcp.srcport", "tcp.dstport", "tcp.payload", "mysql.command",
     "mysql.query", "mysql.stmt_id", "mysql.error_code", "mysql.packet_number", "mysql.response_code"]
EVENTS = {1, 24, 25}
NAMES = {0x02: "COM_INIT_DB", 0x03: "COM_QUERY", 0x0e: "COM_PING", 0x16: "COM_STMT_PREPARE",
         0x17: "COM_STMT_EXECUTE", 0x1a: "COM_STMT_RESET", 0x11: "COM_CHANGE_USER", 0x04: "COM_FIELD_LIST",
         0x09: "COM_STATISTICS", 0x1f: "COM_RESET_CONNECTION", 0x1b: "COM_SET_OPTION"}


def rows(path, port):
    args = ["tshark", "-r", path, "-d", "tcp.port==%d,mysql" % port, "-o", "tcp.desegment_tcp_streams:TRUE",
            "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in F:
        args += ["-e", f]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        v = line.split("\t")
        yield dict(zip(F, v + [""] * (len(F) - len(v))))


def verb(q):
    w = q.strip().lstrip("(").split(None, 1)
    word = "".join(ch for ch in (w[0] if w else "") if ch.isalpha())
    return word.upper() if word and w[0].isalpha() else "-"


def decode(path, port):
    streams = {}
    for r in rows(path, port):
        s = streams.setdefault(r["tcp.stream"], {"msgs": [], "expect": [], "stmts": {}, "prep": None})
        if r["tcp.payload"]:
            who = "c" if int(r["tcp.dstport"]) == port else "s"
            s["msgs"].append("%s %s" % (who, r["tcp.payload"].replace(":", "")))
        cmds = [int(x) for x in r["mysql.command"].split("|") if x]
        queries = [q for q in r["mysql.query"].split("|")] if r["mysql.query"] else []
        ids = [int(x) for x in r["mysql.stmt_id"].split("|") if x]
        if int(r["tcp.dstport"]) == port:
            # only packets with sequence id 0 are commands (LOCAL INFILE
            # data and auth answers are not, whatever tshark calls them)
            if "0" not in r["mysql.packet_number"].split("|"):
                cmds = []
            qi = ii = 0
            for cmd in cmds:
                v = "-"
                if cmd in (3, 0x16):
                    q = queries[qi] if qi < len(queries) else ""
                    qi += 1
                    v = verb(q)
                    if cmd == 0x16:
                        s["prep"] = v
                        v = "PREPARE"
                elif cmd in (0x17, 0x19, 0x1a, 0x18):
                    sid = ids[ii] if ii < len(ids) else -1
                    ii += 1
                    v = s["stmts"].get(sid, "-") if cmd == 0x17 else "-"
                if cmd in EVENTS:
                    continue
                s["expect"].append([NAMES.get(cmd, "COM_%d" % cmd), v, "ok"])
        else:
            if r["mysql.error_code"] and s["expect"]:
                s["expect"][-1][2] = "failed"
            # a prepare's OK carries the new statement id
            if ids and s["prep"] is not None and s["expect"] and s["expect"][-1][0] == "COM_STMT_PREPARE":
                s["stmts"][ids[0]] = s["prep"]
                s["prep"] = None
    return streams


def count(path, port):
    tot = {"ok": 0, "failed": 0, "executes": 0, "prepares": 0}
    for s in decode(path, port).values():
        for cmd, _, status in s["expect"]:
            tot[status] += 1
            tot["executes"] += cmd == "COM_STMT_EXECUTE"
            tot["prepares"] += cmd == "COM_STMT_PREPARE"
    print(" ".join("%s %d" % kv for kv in tot.items()))


def main():
    if sys.argv[1] == "--count":
        return count(sys.argv[2], int(sys.argv[3]))
    path, port, name, comment, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    streams = decode(path, port)
    n = 0
    for key in sorted(streams, key=int):
        s = streams[key]
        if not s["msgs"]:
            continue
        n += 1
        fn = "%s/%s%s.golden" % (out, name, "" if n == 1 else "_%d" % n)
        with open(fn, "w") as f:
            f.write("# zerotap MySQL golden stream: \"c\" = the client wrote, \"s\" = the server wrote (hex)\n")
            f.write("# %s\n" % comment)
            f.write("# capture: pcap/%s (tcp.stream %s), converted by pcap2golden.py\n" % (path.split("/")[-1], key))
            for m in s["msgs"]:
                f.write(m + "\n")
            for e in s["expect"]:
                f.write("expect %s\n" % " ".join(e))
        print(fn, len(s["msgs"]), "messages", len(s["expect"]), "records")


if __name__ == "__main__":
    main()
