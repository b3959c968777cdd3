/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's own health: always on, refreshed on a timer. */
#ifndef ZT_CORE_SELFMETRICS_H
#define ZT_CORE_SELFMETRICS_H
struct agent;
int selfmetrics_start(struct agent *a);
void selfmetrics_update(struct agent *a);
#endif
