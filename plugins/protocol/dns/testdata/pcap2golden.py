#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a loopback capture of DNS traffic into a golden file (format in
README.md next to this script).

    pcap2golden.py CAPTURE.pcapng SERVER_PORT[,PORT...] "comment" > NAME.txt

The messages are the raw UDP/TCP payloads as the capture saw them. The
expectations come from tshark's own DNS dissector (an independent oracle,
not from the plugin): each response that answers a query of the same
client socket and id gives one `expect` line, queries never answered give
`timeout` lines, and the A/AAAA answers of NOERROR responses give `fqdn`
lines. Non-QUERY opcodes are left out (the plugin does not count them).
"""
import subprocess
import sys

TYPES = {1: "TypeA", 2: "TypeNS", 5: "TypeCNAME", 6: "TypeSOA", 12: "TypePTR", 15: "TypeMX", 16: "TypeTXT",
         28: "TypeAAAA", 33: "TypeSRV", 35: "TypeNAPTR", 41: "TypeOPT", 43: "TypeDS", 48: "TypeDNSKEY",
         64: "TypeSVCB", 65: "TypeHTTPS", 252: "TypeAXFR", 255: "TypeALL", 257: "TypeCAA"}
RCODES = {0: "ok", 1: "format_error", 2: "servfail", 3: "nxdomain", 4: "not_implemented", 5: "refused"}

F = ["frame.time_relative", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "udp.srcport", "udp.dstport",
     "tcp.srcport", "tcp.dstport", "udp.payload", "tcp.payload", "dns.id", "dns.flags.response",
     "dns.flags.opcode", "dns.flags.rcode", "dns.qry.name", "dns.qry.type", "dns.a", "dns.aaaa"]


def tshark(path, ports):
    args = ["tshark", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
            "-E", "aggregator=|"]
    for p in ports:
        args += ["-d", "udp.port==%d,dns" % p, "-d", "tcp.port==%d,dns" % p]
    for f in F:
        args += ["-e", f]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        v = line.split("\t")
        yield dict(zip(F, v + [""] * (len(F) - len(v))))


def split(s):
    return s.split("|") if s else []


def main():
    path, ports, comment = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], sys.argv[3]
    print("# " + comment)
    print("# capture: pcap/%s, converted by pcap2golden.py" % path.split("/")[-1])
    print("ports " + sys.argv[2])
    pending = {}  # (client, id) -> list of (type, name)
    expects, fqdns = [], []
    t0 = None
    for r in tshark(path, ports):
        proto = "udp" if r["udp.srcport"] else "tcp"
        payload = r["udp.payload"] if proto == "udp" else r["tcp.payload"]
        if not payload:
            continue
        src = r["ip.src"] or r["ipv6.src"]
        dst = r["ip.dst"] or r["ipv6.dst"]
        sp, dp = int(r[proto + ".srcport"]), int(r[proto + ".dstport"])
        t = float(r["frame.time_relative"])
        t0 = t if t0 is None else t0
        print("%d %s %s %d %s %d %s" % (round((t - t0) * 1e6), proto, src, sp, dst, dp, payload.replace(":", "")))
        to_server = dp in ports
        client = (proto, src, sp) if to_server else (proto, dst, dp)
        # one segment may hold several messages: the fields repeat per message
        ids, resp, ops, rcodes = split(r["dns.id"]), split(r["dns.flags.response"]), split(r["dns.flags.opcode"]), split(r["dns.flags.rcode"])
        names, types = split(r["dns.qry.name"]), split(r["dns.qry.type"])
        qi = 0
        ri = 0
        for i, mid in enumerate(ids):
            isresp = resp[i] in ("1", "True")
            op = int(ops[i]) if i < len(ops) else 0
            name = names[i].lower() if i < len(names) else ""
            qt = int(types[i]) if i < len(types) else 0
            if isresp:
                rc = int(rcodes[ri]) if ri < len(rcodes) else 0
                ri += 1
            if op != 0:
                continue
            key = (client, int(mid, 16))
            if not isresp:
                pending.setdefault(key, []).append((TYPES.get(qt, "TypeOther"), name or "."))
                continue
            if key not in pending or not pending[key]:
                expects.append("unmatched %s" % RCODES.get(rc, "other"))
                continue
            qtype, qname = pending[key].pop(0)
            expects.append("expect %s %s %s" % (qtype, qname, RCODES.get(rc, "other")))
            if rc == 0 and len(ids) == 1:
                for ip in split(r["dns.a"]) + split(r["dns.aaaa"]):
                    if ("fqdn %s %s" % (ip, qname)) not in fqdns:
                        fqdns.append("fqdn %s %s" % (ip, qname))
    for line in expects:
        print(line)
    for key, qs in pending.items():
        for qtype, qname in qs:
            print("timeout %s %s" % (qtype, qname))
    for line in fqdns:
        print(line)


if __name__ == "__main__":
    main()
