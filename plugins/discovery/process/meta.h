/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container metadata from the runtimes' own files: podman's
 * containers.json, docker's config.v2.json, the kubelet's log symlink
 * names, systemd unit files. Files only: never a runtime's API, never the
 * network, so the dispatch thread never waits on a daemon. No host
 * dependency: unit-tested on the samples in testdata/.
 */
#ifndef ZT_PROCESS_META_H
#define ZT_PROCESS_META_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define META_NAME_MAX 256
#define META_IMAGE_MAX 512
/* Bounds on what one file may hold, so a corrupt or hostile file cannot
 * make the agent allocate without limit. */
#define META_FILE_MAX (64u << 20)
#define META_PODMAN_MAX 65536
#define META_KUBELET_MAX 65536

struct meta_info {
	char name[META_NAME_MAX];
	char image[META_IMAGE_MAX];
	/* k8s identity, from the kubelet's log names or dockershim labels */
	char k8s_pod[META_NAME_MAX];
	char k8s_ns[META_NAME_MAX];
	char k8s_container[META_NAME_MAX];
	uint32_t is_k8s;
	uint32_t is_sandbox; /* a pod's pause container: not an application */
};

/* What makes a file or directory "changed" since it was last read. */
struct meta_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint32_t valid;
};

/* Reads a whole (small) file into a NUL-terminated malloc'd buffer, at most
 * `max` bytes. 0 or a negative errno (-EFBIG past max). */
int pd_meta_read_file(const char *path, size_t max, char **out, size_t *len);

/* ---------------------------------------------------------------- podman */

struct meta_podman_entry {
	char id[65];
	char *name;  /* first of "names" */
	char *image; /* metadata's "image-name", else the image id */
};

struct meta_podman_db {
	struct meta_podman_entry *v;
	size_t n;
	struct meta_stamp stamp;
};

/* Parses containers.json content into db (replacing what it held). */
int pd_meta_podman_parse(const char *json, size_t len, struct meta_podman_db *db);
/* Re-reads <storage>/overlay-containers/containers.json (then the vfs
 * driver's) when it changed since the last load. 0 when loaded or
 * unchanged, else a negative errno (db keeps its previous content). */
int pd_meta_podman_refresh(struct meta_podman_db *db, const char *storage);
int pd_meta_podman_lookup(const struct meta_podman_db *db, const char *id, struct meta_info *out);
void pd_meta_podman_free(struct meta_podman_db *db);

/* ---------------------------------------------------------------- docker */

/* Parses config.v2.json: Name (leading '/' dropped), Config.Image, and the
 * k8s labels dockershim sets. */
int pd_meta_docker_parse(const char *json, size_t len, struct meta_info *out);
/* Reads <docker_root>/containers/<id>/config.v2.json. */
int pd_meta_docker_read(const char *docker_root, const char *id, struct meta_info *out);

/* --------------------------------------------------------------- kubelet */

struct meta_kubelet_entry {
	char id[65];
	char *pod, *ns, *container;
};

struct meta_kubelet_index {
	struct meta_kubelet_entry *v;
	size_t n;
	struct meta_stamp stamp;
};

/* Rebuilds the index from the names in dir when the directory changed. */
int pd_meta_kubelet_refresh(struct meta_kubelet_index *idx, const char *dir);
int pd_meta_kubelet_lookup(const struct meta_kubelet_index *idx, const char *id, struct meta_info *out);
void pd_meta_kubelet_free(struct meta_kubelet_index *idx);

/* --------------------------------------------------------------- systemd */

struct meta_unit {
	char type[32];          /* Type= of a service ("simple" by default); "" otherwise */
	char triggered_by[META_NAME_MAX]; /* "<name>.timer" / ".socket" when such a unit exists */
};

/* Type= from a unit file's [Service] section; "" when absent. */
void pd_meta_unit_parse_type(const char *buf, size_t len, char *out, size_t outlen);
/* Looks the unit up in dirs (NULL-terminated, searched in order, the
 * first file found wins, as systemd does). Template instances
 * (name@inst.service) use name@.service. Returns 0 (fields "" when
 * nothing is known). */
int pd_meta_unit_read(const char *const *dirs, const char *unit, struct meta_unit *out);

/* ---------------------------------------------------------------- passwd */

/* Home directory of uid from a passwd-format file (no NSS: it may reach
 * the network). 0, -ENOENT or another negative errno. */
int pd_meta_passwd_home(const char *passwd_path, uint32_t uid, char *buf, size_t buflen);

#endif
