/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure parsing for the process discovery plugin: /proc/PID/cgroup content,
 * cgroup path -> container identity, kubelet log names, k8s workload names,
 * application types. No host, no I/O: everything here is unit-tested on
 * captured samples (tests/unit/test_cgroup.c).
 */
#ifndef ZT_PROCESS_CGROUP_H
#define ZT_PROCESS_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* Longest cgroup path accepted; longer lines are treated as malformed
 * (real container paths stay under ~250 bytes). */
#define CG_PATH_MAX 1024
/* Runtime container ids (docker, podman, containerd, CRI-O) are 64 hex. */
#define CG_ID_LEN 64
#define CG_UNIT_MAX 256
#define CG_UID_MAX 40

/* A borrowed piece of a buffer. */
struct cg_slice {
	const char *p;
	size_t n;
};

/* The controller paths of one process, pointing into the parsed buffer. */
struct cg_proc_paths {
	struct cg_slice v2;      /* "0::" line */
	struct cg_slice memory;
	struct cg_slice cpu;
	struct cg_slice cpuacct;
	struct cg_slice blkio;
	struct cg_slice systemd; /* name=systemd */
	uint32_t lines;          /* well-formed lines seen */
	uint32_t malformed;      /* lines skipped */
};

/*
 * Parses the content of /proc/PID/cgroup (v1, v2 or hybrid). Lines are
 * "hierarchy-id:controllers:path"; the path may itself contain ':'.
 * A " (deleted)" suffix (dead v2 cgroup) is dropped. Lines with an empty,
 * relative or overlong path are skipped and counted in `malformed`.
 * Returns 0 when at least one line was usable, else -EINVAL.
 */
int pd_cg_parse_proc_cgroup(const char *buf, size_t len, struct cg_proc_paths *out);

/*
 * The path that decides a process's identity: the v2 path when it is not
 * the root, else the v1 memory, cpu, cpuacct path (first non-root), else
 * name=systemd's, else "/" (the process is in the root cgroup everywhere).
 * Returns -ENOENT when the parse found no path at all.
 */
int pd_cg_identity_path(const struct cg_proc_paths *p, struct cg_slice *out);

/* Kinds of cgroup (internal to the plugin, never cross the ABI). */
#define CG_KIND_ROOT 0u    /* "/" */
#define CG_KIND_PLAIN 1u   /* any other path: the path itself is the id */
#define CG_KIND_SYSTEMD 2u /* /system.slice/<unit> */
#define CG_KIND_DOCKER 3u  /* /docker/<id>, docker-<id>.scope */
#define CG_KIND_PODMAN 4u  /* libpod-<id>[.scope] */
#define CG_KIND_K8S 5u     /* kubepods: containerd, CRI-O or docker */
#define CG_KIND_HELPER 6u  /* runtime helpers (conmon): a plain path, no metrics */

/* Runtimes seen in k8s paths. */
#define CG_RT_UNKNOWN 0u
#define CG_RT_CONTAINERD 1u
#define CG_RT_CRIO 2u
#define CG_RT_DOCKER 3u

struct cg_ident {
	uint32_t kind;    /* CG_KIND_* */
	uint32_t runtime; /* CG_RT_* for CG_KIND_K8S */
	/* Length of the path prefix that is the container's own cgroup
	 * (where its resource files are). For plain paths: the whole path. */
	size_t base_len;
	char id[CG_ID_LEN + 1];     /* runtime id; "" for root/plain/systemd */
	char pod_uid[CG_UID_MAX];   /* k8s pod uid with dashes; "" if none */
	char unit[CG_UNIT_MAX];     /* systemd unit, \xHH unescaped */
	uint32_t user_uid;          /* rootless podman: the uid in user-<uid>.slice */
	uint32_t has_user_uid;
};

/*
 * Classifies a cgroup path (as found in /proc/PID/cgroup, absolute, no
 * trailing newline). Returns 0, or -EINVAL for a relative, empty or
 * overlong path, or one with control characters.
 */
int pd_cg_classify(const char *path, size_t len, struct cg_ident *out);

/*
 * The METRICS.md container id for the kinds that need no metadata: "/" for
 * the root, "/system.slice/<unit>" for systemd, the (trailing-slash
 * trimmed) path for plain and helper paths. Returns the length written
 * (NUL-terminated), -ENOSPC when it does not fit, -EINVAL for kinds that
 * need runtime metadata.
 */
int pd_cg_plain_container_id(const char *path, size_t len, const struct cg_ident *id, char *buf, size_t buflen);

/* The systemd unit's type suffix ("service", "scope", ...) or "" */
const char *pd_cg_unit_suffix(const char *unit);

/*
 * Parses a kubelet log symlink name "<pod>_<namespace>_<container>-<id>.log"
 * (as in /var/log/containers). Outputs point into `name`. Returns 0, or
 * -EINVAL when the name does not have that form.
 */
struct cg_k8s_name {
	struct cg_slice pod;
	struct cg_slice ns;
	struct cg_slice container;
	struct cg_slice id;
};
int pd_cg_parse_kubelet_log_name(const char *name, size_t len, struct cg_k8s_name *out);

/*
 * The workload a pod belongs to, from its name alone: strips the random
 * 5-character suffix of generated names, then a ReplicaSet pod-template
 * hash (Deployments) or a CronJob schedule number, else a StatefulSet
 * ordinal. Returns the length of the workload name (a prefix of pod).
 */
size_t pd_cg_k8s_workload(const char *pod, size_t len);

/*
 * Application type from a process's comm (and, for runtimes that host many
 * applications such as java or beam.smp, its NUL-separated cmdline, may be
 * NULL). Returns a static name ("postgres", "mysql", ...) or NULL.
 */
const char *pd_cg_app_type(const char *comm, size_t comm_len, const char *cmdline, size_t cmd_len);
/* 1 when pd_cg_app_type needs the cmdline for this comm. */
int pd_cg_app_type_needs_cmdline(const char *comm, size_t comm_len);
/* Index of a type returned by pd_cg_app_type in the static table (for bit
 * sets), or -1; and back. CG_APP_TYPES_MAX bounds the index. */
#define CG_APP_TYPES_MAX 64
int pd_cg_app_type_index(const char *name);
const char *pd_cg_app_type_name(int index);

#endif
