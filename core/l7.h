/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The L7 pipeline: kernel capture (bpf/l7.bpf.c), detection (kernel rules,
 * then the plugins' detect()), per-connection parsing through the protocol
 * plugins (l7_stream), request/response pairing (l7_pair), and records
 * turned into metrics (METRICS.md L7 families) and queued as spans.
 *
 * The kernel feature loads when the first protocol instance starts, so an
 * agent without protocol plugins pays nothing for it. Dispatch thread only.
 */
#ifndef ZT_CORE_L7_H
#define ZT_CORE_L7_H

#include <zerotap/protocol.h>

struct agent;
struct zt_instance;

/* A protocol instance whose init succeeded: registers it (index, rules,
 * metric families) and starts the kernel feature if needed. 0 or -errno
 * (the instance then fails; its fini is the caller's to call). */
int l7_protocol_add(struct agent *a, struct zt_instance *inst, const char *name, const struct zt_protocol_ops *ops,
		    void *state);
/* Before the instance's fini: closes its connections (conn_close) and
 * drops its rules; its connections' capture stops. */
void l7_protocol_remove(struct agent *a, struct zt_instance *inst);
/* Detaches the kernel feature and frees everything (after every protocol
 * instance was removed). */
void l7_stop(struct agent *a);
/* host->frame_emit. */
int l7_frame_emit(struct zt_conn *conn, const struct zt_frame *f);

#endif
