/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merged entity table: which container every process belongs to, and
 * what is known of each container. Written by discovery plugins through the
 * host table, read by the core when it attributes connections and requests.
 * Locked, because exporter and future worker threads read it.
 */
#ifndef ZT_CORE_ENTITIES_H
#define ZT_CORE_ENTITIES_H

#include <zerotap/host.h>

struct entities;

int entities_new(struct entities **out);
void entities_free(struct entities *e);
int entities_process_set(struct entities *e, const struct zt_process_info *p);
void entities_process_remove(struct entities *e, uint32_t pid);
/* Copies the container id (NUL-terminated); returns its length or -ENOENT. */
int entities_process_container(struct entities *e, uint32_t pid, char *buf, size_t buflen);
/*
 * Container and app id of pid, each copied NUL-terminated (truncated to
 * its buffer). Unlike entities_process_container, a process removed
 * moments ago still resolves (the last ENTITIES_RECENT removals): kernel
 * events queued before its exit was processed, such as the connections of
 * a short-lived client, belong to where it ran. 0 or -ENOENT.
 */
#define ENTITIES_RECENT 1024
int entities_process_ident(struct entities *e, uint32_t pid, char *cid, size_t cidlen, char *app, size_t applen);
int entities_container_set(struct entities *e, const struct zt_container_info *c);
void entities_container_remove(struct entities *e, struct zt_str id);
size_t entities_process_count(struct entities *e);
size_t entities_container_count(struct entities *e);

#endif
