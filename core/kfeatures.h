/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel features: each BPF object loads and attaches on its own. A program
 * the kernel refuses disables that feature only (one log line and
 * zerotap_feature_up{feature} 0); the agent keeps running.
 */
#ifndef ZT_CORE_KFEATURES_H
#define ZT_CORE_KFEATURES_H

#include <stddef.h>
#include <stdint.h>

struct agent;
struct features;

/* Mounts tracefs when needed, loads and attaches every feature, and hooks
 * their rings into the agent's loop. Never fails for a refused feature. */
int features_start(struct agent *a, struct features **out);
/* Detaches and unloads everything. */
void features_stop(struct features *f);
/* Drains every ring now (also done on the drain timer and on wakeups). */
void features_drain(struct features *f);
/* Refreshes ring/probe self-metrics. */
void features_update_metrics(struct features *f);
int features_up_count(struct features *f, int *total);

/* For features that load later (l7): zerotap_feature_up and the up count,
 * and the per-program BPF stats families. */
struct bpf_object;
void features_report(struct features *f, const char *feature, int up);
void features_prog_stats(struct features *f, const char *feature, struct bpf_object *obj);
/* libbpf's first warning since the last clear (why a load failed). */
const char *features_last_libbpf_warning(void);
void features_clear_libbpf_warning(void);
/* The tcp feature's connection table (NULL when the feature is down). */
struct tcp_mod;
struct tcp_mod *features_tcp(struct features *f);
/* Destroys the skeletons' links from parallel threads (each waits an RCU
 * grace period); the skeletons are destroyed by their owners after. */
struct bpf_object_skeleton;
void features_detach_parallel(struct bpf_object_skeleton **skels, size_t n);

#endif
