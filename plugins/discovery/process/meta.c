/* SPDX-License-Identifier: Apache-2.0 */
/* Container metadata from runtime files; see meta.h and README.md. */
#define _GNU_SOURCE
#include "meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cgroup.h"

int pd_meta_read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	int fd, err = 0;
	struct stat st;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > max) {
			err = -EFBIG;
			goto out;
		}
		cap = (size_t)st.st_size + 1;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r;
		if (n == cap) {
			if (cap >= max) {
				err = -EFBIG;
				goto out;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static void copy_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= dstlen)
		n = dstlen - 1; /* names are bounded by the runtimes far below this */
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

static int is_id(const char *s)
{
	if (!s || strlen(s) != CG_ID_LEN)
		return 0;
	for (size_t i = 0; i < CG_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* 1 when path changed since *s (and *s is updated into *now), 0 when not,
 * negative errno when it cannot be stat'ed. */
static int stamp_changed(const char *path, const struct meta_stamp *s, struct meta_stamp *now)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	memset(now, 0, sizeof(*now));
	now->dev = st.st_dev;
	now->ino = st.st_ino;
	now->size = st.st_size;
	now->mtime = st.st_mtim;
	now->valid = 1;
	return !(s->valid && s->dev == now->dev && s->ino == now->ino && s->size == now->size &&
		 s->mtime.tv_sec == now->mtime.tv_sec && s->mtime.tv_nsec == now->mtime.tv_nsec);
}

/* ---------------------------------------------------------------- podman */

static void podman_entries_free(struct meta_podman_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].image);
	}
	free(v);
}

/* "metadata" is itself JSON, serialized into a string by containers/storage. */
static char *podman_image_name(json_t *c)
{
	const char *md = json_string_value(json_object_get(c, "metadata"));
	const char *img;
	char *res = NULL;
	json_t *m;

	if (md) {
		m = json_loads(md, 0, NULL);
		img = json_string_value(json_object_get(m, "image-name"));
		if (img && *img)
			res = strdup(img);
		json_decref(m);
		if (res)
			return res;
	}
	img = json_string_value(json_object_get(c, "image"));
	return strdup(img ? img : "");
}

int pd_meta_podman_parse(const char *json, size_t len, struct meta_podman_db *db)
{
	struct meta_podman_entry *v = NULL;
	size_t n = 0, i, count;
	json_t *root, *c;
	int err = 0;

	root = json_loadb(json, len, 0, NULL);
	if (!root || !json_is_array(root)) {
		err = -EINVAL;
		goto out;
	}
	count = json_array_size(root);
	if (count > META_PODMAN_MAX)
		count = META_PODMAN_MAX;
	v = calloc(count ? count : 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	json_array_foreach(root, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *name = json_string_value(json_array_get(json_object_get(c, "names"), 0));
		if (n == count)
			break;
		if (!is_id(id))
			continue; /* not a container record we can match to a cgroup */
		memcpy(v[n].id, id, CG_ID_LEN + 1);
		v[n].name = strdup(name ? name : "");
		v[n].image = podman_image_name(c);
		if (!v[n].name || !v[n].image) {
			n++;
			err = -ENOMEM;
			goto out;
		}
		n++;
	}
	podman_entries_free(db->v, db->n);
	db->v = v;
	db->n = n;
	v = NULL;
	n = 0;
out:
	podman_entries_free(v, n);
	json_decref(root);
	return err;
}

int pd_meta_podman_refresh(struct meta_podman_db *db, const char *storage)
{
	static const char *const drivers[] = { "overlay", "vfs", "btrfs" };
	char path[4096];
	struct meta_stamp now;
	char *buf = NULL;
	size_t len;
	int err = -ENOENT, ch;

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s-containers/containers.json", storage, drivers[i]) >=
		    sizeof(path))
			return -ENAMETOOLONG;
		ch = stamp_changed(path, &db->stamp, &now);
		if (ch < 0) {
			err = ch;
			continue;
		}
		if (ch == 0)
			return 0;
		err = pd_meta_read_file(path, META_FILE_MAX, &buf, &len);
		if (!err)
			err = pd_meta_podman_parse(buf, len, db);
		free(buf);
		if (!err)
			db->stamp = now;
		return err;
	}
	return err;
}

int pd_meta_podman_lookup(const struct meta_podman_db *db, const char *id, struct meta_info *out)
{
	for (size_t i = 0; i < db->n; i++) {
		if (!strcmp(db->v[i].id, id)) {
			memset(out, 0, sizeof(*out));
			copy_str(out->name, sizeof(out->name), db->v[i].name);
			copy_str(out->image, sizeof(out->image), db->v[i].image);
			return out->name[0] ? 0 : -ENOENT;
		}
	}
	return -ENOENT;
}

void pd_meta_podman_free(struct meta_podman_db *db)
{
	podman_entries_free(db->v, db->n);
	memset(db, 0, sizeof(*db));
}

/* ---------------------------------------------------------------- docker */

int pd_meta_docker_parse(const char *json, size_t len, struct meta_info *out)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *cfg, *labels;
	const char *name, *image, *pod, *ns, *cont, *type;

	memset(out, 0, sizeof(*out));
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	cfg = json_object_get(root, "Config");
	labels = json_object_get(cfg, "Labels");
	name = json_string_value(json_object_get(root, "Name"));
	image = json_string_value(json_object_get(cfg, "Image"));
	if (name && name[0] == '/')
		name++; /* docker stores "/web" */
	copy_str(out->name, sizeof(out->name), name);
	copy_str(out->image, sizeof(out->image), image);
	/* dockershim (k8s on docker) labels every container with its pod */
	pod = json_string_value(json_object_get(labels, "io.kubernetes.pod.name"));
	ns = json_string_value(json_object_get(labels, "io.kubernetes.pod.namespace"));
	cont = json_string_value(json_object_get(labels, "io.kubernetes.container.name"));
	type = json_string_value(json_object_get(labels, "io.kubernetes.docker.type"));
	if (pod && ns && cont && *pod && *ns && *cont) {
		copy_str(out->k8s_pod, sizeof(out->k8s_pod), pod);
		copy_str(out->k8s_ns, sizeof(out->k8s_ns), ns);
		copy_str(out->k8s_container, sizeof(out->k8s_container), cont);
		out->is_k8s = 1;
		if (!strcmp(cont, "POD"))
			out->is_sandbox = 1;
	}
	if (type && !strcmp(type, "podsandbox"))
		out->is_sandbox = 1;
	json_decref(root);
	return out->name[0] ? 0 : -ENOENT;
}

int pd_meta_docker_read(const char *docker_root, const char *id, struct meta_info *out)
{
	char path[4096], *buf = NULL;
	size_t len;
	int err;

	if (!is_id(id))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json", docker_root, id) >= sizeof(path))
		return -ENAMETOOLONG;
	err = pd_meta_read_file(path, META_FILE_MAX, &buf, &len);
	if (!err)
		err = pd_meta_docker_parse(buf, len, out);
	free(buf);
	return err;
}

/* --------------------------------------------------------------- kubelet */

static void kubelet_entries_free(struct meta_kubelet_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].pod);
		free(v[i].ns);
		free(v[i].container);
	}
	free(v);
}

int pd_meta_kubelet_refresh(struct meta_kubelet_index *idx, const char *dir)
{
	struct meta_kubelet_entry *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct meta_stamp now;
	struct dirent *de;
	DIR *d = NULL;
	int err = 0, ch;

	ch = stamp_changed(dir, &idx->stamp, &now);
	if (ch <= 0)
		return ch;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct cg_k8s_name k;
		struct meta_kubelet_entry *e;
		if (pd_cg_parse_kubelet_log_name(de->d_name, strlen(de->d_name), &k))
			continue;
		if (n == cap) {
			if (cap >= META_KUBELET_MAX)
				break;
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		e = &v[n];
		memcpy(e->id, k.id.p, CG_ID_LEN);
		e->id[CG_ID_LEN] = 0;
		e->pod = strndup(k.pod.p, k.pod.n);
		e->ns = strndup(k.ns.p, k.ns.n);
		e->container = strndup(k.container.p, k.container.n);
		n++;
		if (!e->pod || !e->ns || !e->container) {
			err = -ENOMEM;
			goto out;
		}
	}
	kubelet_entries_free(idx->v, idx->n);
	idx->v = v;
	idx->n = n;
	idx->stamp = now;
	v = NULL;
	n = 0;
out:
	kubelet_entries_free(v, n);
	closedir(d);
	return err;
}

int pd_meta_kubelet_lookup(const struct meta_kubelet_index *idx, const char *id, struct meta_info *out)
{
	for (size_t i = 0; i < idx->n; i++) {
		if (!strcmp(idx->v[i].id, id)) {
			memset(out, 0, sizeof(*out));
			copy_str(out->k8s_pod, sizeof(out->k8s_pod), idx->v[i].pod);
			copy_str(out->k8s_ns, sizeof(out->k8s_ns), idx->v[i].ns);
			copy_str(out->k8s_container, sizeof(out->k8s_container), idx->v[i].container);
			copy_str(out->name, sizeof(out->name), idx->v[i].container);
			out->is_k8s = 1;
			return 0;
		}
	}
	return -ENOENT;
}

void pd_meta_kubelet_free(struct meta_kubelet_index *idx)
{
	kubelet_entries_free(idx->v, idx->n);
	memset(idx, 0, sizeof(*idx));
}

/* --------------------------------------------------------------- systemd */

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

void pd_meta_unit_parse_type(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *p = buf, *end = buf + len;
	int in_service = 0;

	out[0] = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = p;
		size_t n = (size_t)((nl ? nl : end) - p);
		p = nl ? nl + 1 : end;
		trim(&s, &n);
		if (!n || s[0] == '#' || s[0] == ';')
			continue;
		if (s[0] == '[') {
			in_service = n == 9 && !memcmp(s, "[Service]", 9);
			continue;
		}
		if (in_service && n > 5 && !memcmp(s, "Type", 4)) {
			const char *v = s + 4;
			size_t vn = n - 4;
			trim(&v, &vn);
			if (!vn || *v != '=')
				continue;
			v++;
			vn--;
			trim(&v, &vn);
			if (vn >= outlen)
				vn = outlen - 1;
			memcpy(out, v, vn); /* the last assignment wins, as in systemd */
			out[vn] = 0;
		}
	}
}

static int unit_exists(const char *const *dirs, const char *name)
{
	char path[4096];
	for (size_t i = 0; dirs[i]; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dirs[i], name) >= sizeof(path))
			continue;
		if (!access(path, F_OK))
			return 1;
	}
	return 0;
}

int pd_meta_unit_read(const char *const *dirs, const char *unit, struct meta_unit *out)
{
	char file[META_NAME_MAX], path[4096], other[META_NAME_MAX];
	const char *suffix = pd_cg_unit_suffix(unit);
	const char *at = strchr(unit, '@');
	size_t base_len;

	memset(out, 0, sizeof(*out));
	if (strcmp(suffix, "service") || strlen(unit) >= sizeof(file))
		return 0; /* only services have a Type= and a trigger */
	base_len = strlen(unit) - strlen(".service");
	if (at) /* template instance: the file is name@.service */
		snprintf(file, sizeof(file), "%.*s@.service", (int)(at - unit), unit);
	else
		snprintf(file, sizeof(file), "%s", unit);
	for (size_t i = 0; dirs[i]; i++) {
		char *buf = NULL;
		size_t len;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dirs[i], file) >= sizeof(path))
			continue;
		if (pd_meta_read_file(path, 1u << 20, &buf, &len))
			continue;
		pd_meta_unit_parse_type(buf, len, out->type, sizeof(out->type));
		free(buf);
		if (!out->type[0])
			copy_str(out->type, sizeof(out->type), "simple"); /* systemd's default */
		break;
	}
	/* A timer or socket of the same name activates the service by default. */
	snprintf(other, sizeof(other), "%.*s.timer", (int)base_len, unit);
	if (unit_exists(dirs, other)) {
		copy_str(out->triggered_by, sizeof(out->triggered_by), other);
		return 0;
	}
	snprintf(other, sizeof(other), "%.*s.socket", (int)base_len, unit);
	if (unit_exists(dirs, other))
		copy_str(out->triggered_by, sizeof(out->triggered_by), other);
	return 0;
}

/* ---------------------------------------------------------------- passwd */

int pd_meta_passwd_home(const char *passwd_path, uint32_t uid, char *buf, size_t buflen)
{
	char *data = NULL, *p, *line, *save = NULL;
	size_t len;
	int err;

	err = pd_meta_read_file(passwd_path, 16u << 20, &data, &len);
	if (err)
		return err;
	err = -ENOENT;
	for (p = data; (line = strtok_r(p, "\n", &save)); p = NULL) {
		/* name:passwd:uid:gid:gecos:home:shell */
		char *f[7] = { 0 };
		int nf = 0;
		char *s = line;
		while (nf < 7) {
			f[nf++] = s;
			s = strchr(s, ':');
			if (!s)
				break;
			*s++ = 0;
		}
		if (nf < 6 || !*f[2])
			continue;
		char *endp;
		unsigned long v = strtoul(f[2], &endp, 10);
		if (*endp || v != uid)
			continue;
		if (strlen(f[5]) + 1 > buflen) {
			err = -ENOSPC;
			break;
		}
		strcpy(buf, f[5]);
		err = 0;
		break;
	}
	free(data);
	return err;
}
