/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP socket state from the kernel without probe traffic: NETLINK_SOCK_DIAG
 * (inet_diag) dumps of every TCP socket, IPv4 and IPv6, with struct
 * tcp_info (smoothed RTT, bytes acked/received, retransmits). Also maps
 * socket inodes to processes through /proc/PID/fd, for connections that
 * existed before the agent started.
 *
 * Nothing here allocates per socket on the dump path: the caller gets each
 * socket in a callback. Not thread-safe; one sockdiag per thread.
 */
#ifndef ZT_CORE_SOCKDIAG_H
#define ZT_CORE_SOCKDIAG_H

#include <stdint.h>
#include <stddef.h>

/* An address as the kernel holds it: IPv4 is stored as IPv4-mapped IPv6
 * (::ffff:a.b.c.d) so that one type serves both families. */
struct zt_addr {
	uint8_t a[16];
};

struct sockdiag_sock {
	uint8_t family;        /* AF_INET or AF_INET6 (as dumped) */
	uint8_t state;         /* TCP_ESTABLISHED, TCP_LISTEN, ... (netinet/tcp.h values) */
	uint16_t sport;        /* host byte order */
	uint16_t dport;
	struct zt_addr saddr;
	struct zt_addr daddr;
	uint32_t inode;        /* 0 for sockets no process holds (TIME_WAIT, orphans) */
	uint32_t uid;
	uint64_t cookie;       /* the kernel's socket cookie (idiag_cookie) */
	/* from struct tcp_info (0 when the kernel did not send it) */
	uint32_t has_info;
	uint32_t rtt_us;       /* tcpi_rtt: smoothed RTT */
	uint32_t rttvar_us;    /* tcpi_rttvar */
	uint32_t total_retrans;/* tcpi_total_retrans */
	uint64_t bytes_acked;  /* tcpi_bytes_acked: bytes sent and acknowledged */
	uint64_t bytes_received; /* tcpi_bytes_received */
	uint64_t bytes_sent;   /* tcpi_bytes_sent (includes retransmitted bytes; 0 on old kernels) */
};

struct sockdiag;

int sockdiag_open(struct sockdiag **out);
void sockdiag_close(struct sockdiag *sd);

/*
 * Dumps every TCP socket whose state is in `states_mask` (bit 1 << TCP_x;
 * ~0u for all) for both families, calling cb for each. Returns 0, or a
 * negative errno (the dump may have been partial; cb was called for what
 * arrived). A cb returning non-zero stops the dump early.
 */
int sockdiag_dump_tcp(struct sockdiag *sd, uint32_t states_mask,
		      int (*cb)(void *ctx, const struct sockdiag_sock *s), void *ctx);

/* Parses one netlink message buffer of a dump (exposed for tests and the
 * fuzzer). Returns the number of sockets passed to cb, 0 at NLMSG_DONE
 * (*done set to 1), or a negative errno for a malformed or error message. */
int sockdiag_parse(const void *buf, size_t len, int *done,
		   int (*cb)(void *ctx, const struct sockdiag_sock *s), void *ctx);

/*
 * Walks /proc/PID/fd of every process (proc_root, usually "/proc") and
 * calls cb(ctx, inode, tgid, fd) for every socket descriptor. Used once at
 * start-up, so its cost (one readlink per fd) is paid once.
 */
int sockdiag_scan_socket_inodes(const char *proc_root,
				int (*cb)(void *ctx, uint32_t inode, uint32_t tgid, int fd), void *ctx);

/* "1.2.3.4" / "::1" / "[::1]:80" formatting. Return the length written. */
size_t zt_addr_format(const struct zt_addr *a, char *buf, size_t len);
size_t zt_addr_port_format(const struct zt_addr *a, uint16_t port, char *buf, size_t len);
int zt_addr_is_v4(const struct zt_addr *a);

#endif
