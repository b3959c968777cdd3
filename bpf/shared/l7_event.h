/* SPDX-License-Identifier: Apache-2.0 */
/*
 * L7 capture records, maps and the detection-rule matcher, shared by
 * bpf/l7.bpf.c and core/l7*.c (and the test mock host). Fixed-width types
 * only: this header is compiled for both sides; the matcher is plain C so
 * the kernel and user space apply rules identically.
 *
 * Connection identity is the kernel's socket cookie: unique for the
 * socket's lifetime and never reused, so neither fd nor port reuse can mix
 * two connections.
 */
#ifndef ZT_BPF_SHARED_L7_EVENT_H
#define ZT_BPF_SHARED_L7_EVENT_H

#define ZT_L7_WINDOW 64       /* bytes of each message the rules see */
#define ZT_L7_PATTERN 16
#define ZT_L7_CAP_MAX 4096    /* payload bytes per message at most */
#define ZT_L7_MAX_RULES 256
#define ZT_L7_MAX_PROTOS 64   /* protocol index 1..63; 0 = none */
#define ZT_L7_PROBE_MSGS 32   /* messages of an unknown connection sent to user space */
#define ZT_L7_PROBE_WAKE 4    /* ... the kernel wakes the agent at this one (a chatty connection:
			       * detect() must answer before the rest of the budget is spent) */
#define ZT_L7_PROBE_BYTES 256 /* ... and how many bytes of each */
#define ZT_L7_MAX_CONNS 65536

/* zt_l7_conn.policy */
#define ZT_L7_UNKNOWN 0 /* detection: the first ZT_L7_PROBE_MSGS messages go up */
#define ZT_L7_CLAIMED 1 /* a protocol owns it: each message's first `capture` bytes go up */
#define ZT_L7_IGNORED 2 /* nothing goes up; offsets still advance */

/* zt_l7_ev.type */
#define ZT_L7_DATA 1
#define ZT_L7_CLOSE 2   /* the TCP socket reached CLOSE (its data events are all before it) */

/* zt_l7_ev.flags */
#define ZT_L7F_CLAIMED_NOW 0x01 /* a kernel rule claimed the connection at this message */
#define ZT_L7F_ASK 0x02         /* a rule with ZT_RULE_ASK matched: proto = who to ask first */
#define ZT_L7F_NEW 0x04         /* the kernel created the connection's entry at this message */
#define ZT_L7F_UNKNOWN_BUF 0x08 /* the syscall's buffer could not be located: no payload */
#define ZT_L7F_TUPLE 0x10       /* family, addresses, ports and netns are filled in */

/* zt_l7_ev.transport / rule transports (bit mask, = ZT_TRANSPORT_*) */
#define ZT_L7_TCP 1
#define ZT_L7_UDP 2

/* Indices of the per-CPU counter array `l7_stats`. */
#define ZT_L7_ST_RING_LOST 0    /* bpf_ringbuf_reserve failed: an event is lost */
#define ZT_L7_ST_CONNS_FULL 1   /* the conns map refused an entry */
#define ZT_L7_ST_EVENTS 2       /* unused (user space counts what it reads) */
#define ZT_L7_ST_BYTES 3        /* unused */
#define ZT_L7_ST_NOBUF 4        /* messages whose buffer could not be located (io_uring, sendfile, mmsg) */
#define ZT_L7_ST_IGNORED_MSGS 5 /* messages of ignored connections (no event) */
#define ZT_L7_ST_SLOTS 8

/* Kernel form of a zt_detect_rule; written by user space into `l7_rules`. */
struct zt_l7_rule {
	__u8 pattern[ZT_L7_PATTERN]; /* already masked */
	__u8 mask[ZT_L7_PATTERN];
	__u16 offset;
	__u16 len;
	__u16 port;
	__u8 direction;  /* 0 any, 1 egress, 2 ingress */
	__u8 transports; /* ZT_L7_TCP | ZT_L7_UDP */
	__u32 min_len;
	__u32 max_len;   /* 0 = none */
	__u16 proto;     /* protocol index */
	__u16 verdict;   /* ZT_RULE_CLAIM (1) or ZT_RULE_ASK (2) */
	__u32 capture;   /* the protocol's capture bytes */
};

/* Global settings, element 0 of `l7_cfg`. */
struct zt_l7_cfg {
	__u32 nrules;
	__u32 enabled; /* 0: the programs return at once */
};

/* Per connection, keyed by socket cookie. */
struct zt_l7_conn {
	__u64 off[2];  /* bytes so far per direction: [0] egress, [1] ingress */
	__u32 tgid;
	__u32 capture; /* claimed: bytes per message */
	__u16 proto;
	__u8 policy;
	__u8 probes;   /* messages sent while unknown */
	__u8 transport;
	__u8 ntuple;   /* messages that carried the connection's tuple (saturates) */
	__u8 pad[2];
	__u32 vgen;    /* verdict_gen when this entry last looked for a verdict */
	__u64 tuple_ts; /* when a message last carried the tuple */
};

/* A message carries the connection's addresses, ports and network
 * namespace only while user space may not know them: its first
 * ZT_L7_TUPLE_MSGS messages, and the first after ZT_L7_TUPLE_IDLE_NS
 * without one (user space forgets idle connections after 60 s at the
 * earliest). */
#define ZT_L7_TUPLE_MSGS 4
#define ZT_L7_TUPLE_IDLE_NS (30ull * 1000000000ull)

/* A verdict from user space (detect() said yes, or nobody wants the
 * connection), keyed by cookie in `l7_verdicts`; the kernel applies it to
 * its own entry at the connection's next message, so user space never
 * writes the entry (and its offsets) itself. */
struct zt_l7_verdict {
	__u32 capture;
	__u16 proto;
	__u8 policy; /* ZT_L7_CLAIMED or ZT_L7_IGNORED */
	__u8 pad;
};

/* One message (or a close). A DATA event's payload (cap_len bytes) follows. */
struct zt_l7_ev {
	__u64 cookie;
	__u64 ts_ns;
	__u64 offset;    /* stream offset of the message's first byte in its direction */
	__u32 tgid;
	__u32 len;       /* the message's full length */
	__u32 cap_len;   /* payload bytes in this record */
	__u16 proto;     /* claiming protocol index (0 = unclaimed) */
	__u8 type;       /* ZT_L7_DATA / ZT_L7_CLOSE */
	__u8 dir;        /* 0 egress (written), 1 ingress (read) */
	__u8 flags;      /* ZT_L7F_* */
	__u8 transport;  /* ZT_L7_TCP / ZT_L7_UDP */
	__u16 family;    /* 4 or 6 */
	__u16 lport;
	__u16 rport;
	__u16 peer_port; /* UDP sendto/recvfrom address, 0 = none */
	__u16 peer_family;
	__u8 laddr[16];  /* IPv6 or IPv4-mapped */
	__u8 raddr[16];
	__u8 peer_addr[16];
	__u32 netns;     /* the socket's network namespace (inode); data starts at sizeof() on both sides */
	__u8 data[];
};

/*
 * Does rule r match a message? win: its first ZT_L7_WINDOW bytes, zero
 * padded past what exists; msg_len: the message's full length; role 0
 * unknown, 1 client, 2 server (the port a rule names is the server's).
 */
static inline int zt_l7_rule_match(const struct zt_l7_rule *r, const __u8 *win, __u32 msg_len, __u8 dir,
				   __u8 transport, __u16 lport, __u16 rport, __u8 role)
{
	__u32 i;

	if (r->direction && r->direction != dir + 1)
		return 0;
	if (!(r->transports & transport))
		return 0;
	if (msg_len < r->min_len || (r->max_len && msg_len > r->max_len))
		return 0;
	if (r->port) {
		if (role == 1 && rport != r->port)
			return 0;
		if (role == 2 && lport != r->port)
			return 0;
		if (role == 0 && rport != r->port && lport != r->port)
			return 0;
	}
	if (r->len > ZT_L7_PATTERN || r->offset > ZT_L7_WINDOW - ZT_L7_PATTERN || r->offset + r->len > msg_len)
		return r->len == 0;
	for (i = 0; i < ZT_L7_PATTERN; i++)
		if ((win[(r->offset + i) & (ZT_L7_WINDOW - 1)] & r->mask[i]) != r->pattern[i])
			return 0;
	return 1;
}

#endif
