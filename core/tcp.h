/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core's TCP connection table, fed by the `tcp` kernel feature
 * (bpf/tcp.bpf.c) and by sock_diag polls, turned into the per-container
 * network families of METRICS.md ("Container network") and zerotap's own
 * inbound, RTT and traffic-cost families.
 *
 * core/kfeatures.c loads and attaches the BPF object and owns its ring;
 * this module owns everything after it. All calls run on the dispatch
 * thread.
 */
#ifndef ZT_CORE_TCP_H
#define ZT_CORE_TCP_H

#include <stddef.h>

struct agent;
struct tcp_mod;

struct tcp_kernel {
	int conns_fd; /* BPF map "conns": skaddr -> struct zt_tcp_conn */
	int adopt_fd; /* BPF map "adopt": struct zt_tcp_tuple -> struct zt_tcp_adopted */
	int drops_fd; /* BPF per-CPU array "tcp_drops" */
	/* The program's `adopt_live` flag (its .bss): set once connections
	 * were adopted, so closes of untracked sockets look them up. */
	volatile unsigned int *adopt_live;
	/* Drains the kernel rings (process events first) so that start-up
	 * adoption sees every connection the probes already reported. */
	void (*drain)(void *arg);
	void *drain_arg;
};

/* Registers the metric families, reads the agent keys (tcp_poll_interval_ms,
 * max_peers_per_container, az, zones) and arms the poll timer. Connections
 * that existed before the agent are adopted on the loop's first turn, once
 * the discovery plugins have filled the entity table. 0 or -errno. */
int tcp_start(struct agent *a, const struct tcp_kernel *k, struct tcp_mod **out);
void tcp_stop(struct tcp_mod *t);

/* The actual_destination label of the outbound connection with this
 * 4-tuple (local first, addresses IPv4-mapped) in netns, as the connection
 * table has it (NAT resolved through conntrack): 0 and the label in out,
 * or -ENOENT when the table does not know the connection. */
int tcp_actual_destination(struct tcp_mod *t, uint32_t netns, const uint8_t *laddr, uint16_t lport,
			   const uint8_t *raddr, uint16_t rport, char *out, size_t len);

/* The process's side of the TCP connection with this 4-tuple (local first,
 * IPv4-mapped) in netns, as the protocol ABI's ZT_ROLE_*: CLIENT (it
 * connected) or SERVER (it accepted) from the connection table, else
 * SERVER when a listener the agent knows holds the local port, CLIENT when
 * one holds the remote address and port, else ZT_ROLE_UNKNOWN. */
int tcp_conn_role(struct tcp_mod *t, uint32_t netns, const uint8_t *laddr, uint16_t lport, const uint8_t *raddr,
		  uint16_t rport);

/* libbpf ring_buffer sample callback for the `tcp_rb` ring. */
int tcp_on_event(void *ctx, void *data, size_t size);
/* Called before every drain of `tcp_rb` (after the process ring): retries
 * events whose process was not yet known. `horizon` is the kernel clock
 * (CLOCK_MONOTONIC ns) read before the process ring was drained: an
 * opening event after it may belong to a process whose exec (or fork)
 * event was written after that drain, so it waits for the next one
 * instead of being attributed with what the entity table knew before. */
void tcp_before_drain(struct tcp_mod *t, unsigned long long horizon);

#endif
