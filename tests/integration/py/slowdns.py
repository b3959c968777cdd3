#!/usr/bin/python3
"""slowdns PORT DELAY_MS [EVERY SLOW_MS]: a UDP DNS server on 127.0.0.1
that answers every query after DELAY_MS (every EVERY-th one after SLOW_MS
instead) with NOERROR and no records, one at a time: for latency checks,
where a loopback resolver's ~0.1 ms answer is of the same order as the
client's own timing overhead. Prints LISTENING when ready."""
import socket
import sys
import time


def main():
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    every = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    slow = float(sys.argv[4]) if len(sys.argv) > 4 else delay
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("LISTENING", flush=True)
    n = 0
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 12:
            continue
        n += 1
        time.sleep((slow if every and n % every == 0 else delay) / 1000.0)
        # the query itself, as a response: QR, opcode kept, RD kept, RA set,
        # rcode 0, no answers (the question section is echoed)
        flags = (q[2] | 0x80), (0x80)
        s.sendto(q[:2] + bytes(flags) + q[4:6] + b"\0\0\0\0\0\0" + q[12:], peer)


if __name__ == "__main__":
    main()
