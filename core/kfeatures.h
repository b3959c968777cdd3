/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel features: each BPF object loads and attaches on its own. A program
 * the kernel refuses disables that feature only (one log line and
 * zerotap_feature_up{feature} 0); the agent keeps running.
 */
#ifndef ZT_CORE_KFEATURES_H
#define ZT_CORE_KFEATURES_H

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

#endif
