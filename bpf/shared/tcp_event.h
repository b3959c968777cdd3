/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP connection lifecycle records and maps shared by bpf/tcp.bpf.c and
 * core/tcp.c. Fixed-width types only: this header is compiled for both
 * sides. Addresses are IPv6; IPv4 is carried as IPv4-mapped (::ffff:a.b.c.d).
 *
 * Connection identity is (skaddr, gen): the kernel's struct sock address
 * plus the time the agent first saw the socket. A socket address is reused
 * once the socket is freed, and ports and fds are reused all the time; the
 * generation keeps two connections apart in both cases.
 */
#ifndef ZT_BPF_SHARED_TCP_EVENT_H
#define ZT_BPF_SHARED_TCP_EVENT_H

/* Event types (zt_tcp_ev.type) */
#define ZT_TCP_CONNECT_OK 1   /* SYN_SENT -> ESTABLISHED */
#define ZT_TCP_CONNECT_FAIL 2 /* SYN_SENT -> CLOSE (refused, timed out, aborted) */
#define ZT_TCP_ACCEPT 3       /* accept()/accept4() returned a tracked socket */
#define ZT_TCP_CLOSE 4        /* a tracked or adopted socket reached CLOSE */
#define ZT_TCP_LISTEN 5       /* CLOSE -> LISTEN */
#define ZT_TCP_UNLISTEN 6     /* LISTEN -> CLOSE */

/* Roles */
#define ZT_TCP_CLIENT 1
#define ZT_TCP_SERVER 2

/* zt_tcp_ev.flags */
#define ZT_TCPF_FIN_ACKED 0x01 /* our FIN was acknowledged: bytes_acked counts it */
#define ZT_TCPF_FIN_RCVD 0x02  /* the peer's FIN arrived: bytes_received counts it */
#define ZT_TCPF_ADOPTED 0x04   /* CLOSE of a connection user space adopted at start-up */

/* Indices of the per-CPU counter array `tcp_drops`. */
#define ZT_TCP_DROP_RING 0     /* bpf_ringbuf_reserve failed: an event is lost */
#define ZT_TCP_DROP_CONNS 1    /* the conns map was full: a connection is not tracked */
#define ZT_TCP_DROP_SLOTS 4

/* Bounds of the kernel maps. */
#define ZT_TCP_MAX_CONNS 131072  /* connections tracked from their connect/accept */
#define ZT_TCP_MAX_ADOPTED 65536 /* connections from before the agent */

/* conns map value, keyed by the struct sock address (__u64). */
struct zt_tcp_conn {
	__u64 gen;       /* bpf_ktime_get_ns() when tracking began */
	__u64 start_ns;  /* connect() entry (client) or accept return (server) */
	__u64 cgroup_id; /* of the connecting/accepting task */
	__u32 tgid;
	__s32 fd;        /* -1 when not known (io_uring, TCP Fast Open sendto) */
	__u32 netns;     /* network namespace inode number */
	__u32 retrans;   /* tcp_retransmit_skb hits (readable by user space) */
	__u8 role;       /* ZT_TCP_CLIENT / ZT_TCP_SERVER */
	__u8 pad[7];
};

/* adopt map key: connections that existed before the agent, written by
 * user space at start-up so that their CLOSE still reports final counters. */
struct zt_tcp_tuple {
	__u32 netns;
	__u16 sport; /* host byte order */
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct zt_tcp_adopted {
	__u64 gen;  /* user space's identity for the connection (skaddr is unknown) */
	__u32 tgid;
	__u8 role;
	__u8 pad[3];
};

/* One ring record. 128 bytes. */
struct zt_tcp_ev {
	__u8 type;       /* ZT_TCP_* */
	__u8 role;
	__u8 flags;      /* ZT_TCPF_* */
	__u8 oldstate;   /* the state left (CLOSE events) */
	__u32 tgid;
	__s32 fd;
	__s32 error;     /* CONNECT_FAIL: sk_err (ECONNREFUSED, ETIMEDOUT; 0 = closed by the app) */
	__u64 skaddr;    /* 0 for adopted connections */
	__u64 gen;
	__u64 ts_ns;
	__u64 duration_ns; /* CONNECT_OK/FAIL: since connect() entry */
	__u64 cgroup_id;
	__u8 saddr[16];  /* local */
	__u8 daddr[16];  /* remote */
	__u16 sport;     /* host byte order */
	__u16 dport;
	__u32 netns;
	/* From struct tcp_sock: all at CLOSE; bytes_acked only at CONNECT_OK. */
	__u64 bytes_acked;
	__u64 bytes_received;
	__u32 total_retrans;
	__u32 retrans_events; /* tcp_retransmit_skb hits while tracked */
	__u32 srtt_us;        /* srtt_us >> 3, as tcp_info reports it */
	__u32 rttvar_us;      /* mdev_us >> 2 */
};

#endif
