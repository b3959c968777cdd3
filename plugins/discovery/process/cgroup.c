/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure parsing: /proc/PID/cgroup, cgroup path -> container identity,
 * kubelet log names, k8s workload names, application types. See cgroup.h;
 * the formats are described in README.md next to this file.
 */
#define _GNU_SOURCE /* memmem */
#include "cgroup.h"

#include <errno.h>
#include <string.h>

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int slice_eq(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n == l && memcmp(p, lit, l) == 0;
}

static int starts_with(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && memcmp(p, lit, l) == 0;
}

static int ends_with(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && memcmp(p + n - l, lit, l) == 0;
}

/* -------------------------------------------------------- /proc/PID/cgroup */

/* Paths from the kernel are absolute and printable; anything else means the
 * buffer is not what we think it is, so the line is not trusted. */
static int path_ok(const char *p, size_t n)
{
	if (n == 0 || n > CG_PATH_MAX || p[0] != '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

static void set_once(struct cg_slice *s, const char *p, size_t n)
{
	if (!s->p) {
		s->p = p;
		s->n = n;
	}
}

static void parse_line(const char *line, size_t n, struct cg_proc_paths *out)
{
	const char *c1, *c2, *path, *ctl;
	size_t plen, clen;

	if (n && line[n - 1] == '\r')
		n--;
	if (n == 0)
		return; /* blank lines (the trailing newline) are not errors */
	c1 = memchr(line, ':', n);
	if (!c1 || c1 == line)
		goto bad;
	for (const char *d = line; d < c1; d++)
		if (!is_digit(*d))
			goto bad;
	c2 = memchr(c1 + 1, ':', (size_t)(line + n - (c1 + 1)));
	if (!c2)
		goto bad;
	/* The path is everything after the second colon: cgroup names may
	 * contain ':' (cri-containerd:<id> layouts). */
	path = c2 + 1;
	plen = (size_t)(line + n - path);
	if (ends_with(path, plen, " (deleted)"))
		plen -= strlen(" (deleted)");
	if (!path_ok(path, plen))
		goto bad;
	ctl = c1 + 1;
	clen = (size_t)(c2 - ctl);
	out->lines++;
	if (clen == 0) {
		/* Only the v2 hierarchy has no controller list (id 0). */
		if (c1 - line == 1 && line[0] == '0')
			set_once(&out->v2, path, plen);
		return;
	}
	while (clen) {
		const char *comma = memchr(ctl, ',', clen);
		size_t l = comma ? (size_t)(comma - ctl) : clen;
		if (slice_eq(ctl, l, "memory"))
			set_once(&out->memory, path, plen);
		else if (slice_eq(ctl, l, "cpu"))
			set_once(&out->cpu, path, plen);
		else if (slice_eq(ctl, l, "cpuacct"))
			set_once(&out->cpuacct, path, plen);
		else if (slice_eq(ctl, l, "blkio"))
			set_once(&out->blkio, path, plen);
		else if (slice_eq(ctl, l, "name=systemd"))
			set_once(&out->systemd, path, plen);
		if (!comma)
			break;
		clen -= l + 1;
		ctl = comma + 1;
	}
	return;
bad:
	out->malformed++;
}

int pd_cg_parse_proc_cgroup(const char *buf, size_t len, struct cg_proc_paths *out)
{
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -EINVAL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		parse_line(p, (size_t)(le - p), out);
		p = nl ? nl + 1 : end;
	}
	return out->lines ? 0 : -EINVAL;
}

static int non_root(const struct cg_slice *s)
{
	return s->p && !(s->n == 1 && s->p[0] == '/');
}

int pd_cg_identity_path(const struct cg_proc_paths *p, struct cg_slice *out)
{
	const struct cg_slice *order[] = { &p->v2, &p->memory, &p->cpu, &p->cpuacct, &p->systemd };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (non_root(order[i])) {
			*out = *order[i];
			return 0;
		}
	}
	if (!p->lines)
		return -ENOENT;
	out->p = "/";
	out->n = 1;
	return 0;
}

/* ------------------------------------------------------------ classify */

/* comp == prefix + 64 hex + (suffix, or nothing when suffix_optional). */
static int match_id(const char *c, size_t n, const char *prefix, const char *suffix, int suffix_optional,
		    const char **id)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	if (!starts_with(c, n, prefix))
		return 0;
	if (n == pl + CG_ID_LEN + sl && memcmp(c + pl + CG_ID_LEN, suffix, sl) == 0)
		;
	else if (!(suffix_optional && n == pl + CG_ID_LEN))
		return 0;
	for (size_t i = 0; i < CG_ID_LEN; i++)
		if (!is_hex(c[pl + i]))
			return 0;
	*id = c + pl;
	return 1;
}

/* "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid_with_underscores>.slice"
 * (systemd driver, where '-' inside the uid had to become '_'). */
static void take_pod_uid(const char *c, size_t n, struct cg_ident *out)
{
	const char *u = NULL;
	size_t ul = 0;

	if (starts_with(c, n, "pod") && n > 3) {
		u = c + 3;
		ul = n - 3;
	} else if (ends_with(c, n, ".slice") && starts_with(c, n, "kubepods")) {
		const char *pos = NULL;
		for (size_t i = 0; i + 4 <= n; i++)
			if (!memcmp(c + i, "-pod", 4))
				pos = c + i + 4;
		if (!pos)
			return;
		u = pos;
		ul = (size_t)(c + n - strlen(".slice") - pos);
	}
	if (!u || ul == 0 || ul >= CG_UID_MAX)
		return;
	for (size_t i = 0; i < ul; i++) {
		char ch = u[i] == '_' ? '-' : u[i];
		if (!is_hex(ch) && ch != '-')
			return;
		out->pod_uid[i] = ch;
	}
	out->pod_uid[ul] = 0;
}

static void take_user_uid(const char *c, size_t n, struct cg_ident *out)
{
	uint64_t v = 0;
	size_t i;

	if (!starts_with(c, n, "user-") || !ends_with(c, n, ".slice") || n <= 11)
		return;
	for (i = 5; i < n - 6; i++) {
		if (!is_digit(c[i]) || v > 0xffffffffull / 10)
			return;
		v = v * 10 + (uint64_t)(c[i] - '0');
	}
	if (v > 0xffffffffull)
		return;
	out->user_uid = (uint32_t)v;
	out->has_user_uid = 1;
}

static const char *const unit_suffixes[] = { ".service", ".scope", ".socket", ".mount", ".swap" };

static int is_unit(const char *c, size_t n)
{
	for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++)
		if (ends_with(c, n, unit_suffixes[i]) && n > strlen(unit_suffixes[i]))
			return 1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* systemd escapes bytes in unit names as \xHH ("\x2d" for '-' in instance
 * names); the container id shows the name a person would type. Returns the
 * length written or -ENOSPC. */
static int unescape(const char *s, size_t n, char *buf, size_t buflen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0) {
			int v = hexval(s[i + 2]) * 16 + hexval(s[i + 3]);
			/* keep control bytes escaped: ids must stay printable */
			if (v >= 0x20 && v < 0x7f) {
				c = (char)v;
				i += 3;
			}
		}
		if (o + 1 >= buflen)
			return -ENOSPC;
		buf[o++] = c;
	}
	if (o >= buflen)
		return -ENOSPC;
	buf[o] = 0;
	return (int)o;
}

static size_t trim_len(const char *path, size_t len)
{
	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

int pd_cg_classify(const char *path, size_t len, struct cg_ident *out)
{
	const char *idp = NULL;
	int kubepods = 0;
	size_t pos = 1, first_end = 0;
	const char *prev = NULL;
	size_t prev_n = 0;

	memset(out, 0, sizeof(*out));
	if (!path || !path_ok(path, len))
		return -EINVAL;
	len = trim_len(path, len);
	if (len == 1) {
		out->kind = CG_KIND_ROOT;
		out->base_len = 1;
		return 0;
	}
	while (pos < len) {
		const char *c = path + pos;
		const char *slash = memchr(c, '/', len - pos);
		size_t n = slash ? (size_t)(slash - c) : len - pos;
		size_t end = pos + n;
		uint32_t kind = 0, rt = CG_RT_UNKNOWN;

		if (!first_end)
			first_end = end;
		if (n == 0)
			goto next; /* "//" */
		if (memmem(c, n, "kubepods", 8))
			kubepods = 1;
		take_pod_uid(c, n, out);
		take_user_uid(c, n, out);
		/* conmon first: its names also start with the container's prefix */
		if (match_id(c, n, "libpod-conmon-", ".scope", 1, &idp) ||
		    match_id(c, n, "crio-conmon-", ".scope", 1, &idp)) {
			out->kind = CG_KIND_HELPER;
			memcpy(out->id, idp, CG_ID_LEN);
			out->base_len = len;
			return 0;
		}
		if (match_id(c, n, "libpod-", ".scope", 1, &idp)) {
			kind = CG_KIND_PODMAN;
		} else if (match_id(c, n, "docker-", ".scope", 0, &idp)) {
			kind = kubepods ? CG_KIND_K8S : CG_KIND_DOCKER;
			rt = CG_RT_DOCKER;
		} else if (match_id(c, n, "crio-", ".scope", 1, &idp)) {
			kind = CG_KIND_K8S;
			rt = CG_RT_CRIO;
		} else if (match_id(c, n, "cri-containerd-", ".scope", 0, &idp) ||
			   match_id(c, n, "cri-containerd:", "", 0, &idp)) {
			kind = CG_KIND_K8S;
			rt = CG_RT_CONTAINERD;
		} else if (match_id(c, n, "", "", 0, &idp)) {
			/* A bare id: /docker/<id> (cgroupfs docker) or
			 * /kubepods/.../pod<uid>/<id> (cgroupfs kubelet: containerd
			 * or dockershim, told apart by the metadata found). */
			if (kubepods)
				kind = CG_KIND_K8S;
			else if (prev && slice_eq(prev, prev_n, "docker"))
				kind = CG_KIND_DOCKER;
		}
		if (kind) {
			out->kind = kind;
			out->runtime = rt;
			memcpy(out->id, idp, CG_ID_LEN);
			out->id[CG_ID_LEN] = 0;
			out->base_len = end;
			return 0;
		}
	next:
		prev = c;
		prev_n = n;
		pos = end + 1;
	}
	/* A systemd unit directly under system.slice, or nested in a sub-slice
	 * (system-getty.slice/getty@tty1.service): the first unit found. */
	if (first_end == strlen("/system.slice") && starts_with(path, len, "/system.slice")) {
		pos = first_end + 1;
		while (pos < len) {
			const char *c = path + pos;
			const char *slash = memchr(c, '/', len - pos);
			size_t n = slash ? (size_t)(slash - c) : len - pos;
			if (is_unit(c, n)) {
				if (unescape(c, n, out->unit, sizeof(out->unit)) < 0)
					break;
				out->kind = CG_KIND_SYSTEMD;
				out->base_len = pos + n;
				return 0;
			}
			if (!ends_with(c, n, ".slice"))
				break;
			pos += n + 1;
		}
	}
	out->kind = CG_KIND_PLAIN;
	out->base_len = len;
	return 0;
}

int pd_cg_plain_container_id(const char *path, size_t len, const struct cg_ident *id, char *buf, size_t buflen)
{
	size_t n;

	if (!buf || buflen == 0)
		return -ENOSPC;
	switch (id->kind) {
	case CG_KIND_ROOT:
		if (buflen < 2)
			return -ENOSPC;
		buf[0] = '/';
		buf[1] = 0;
		return 1;
	case CG_KIND_SYSTEMD:
		return unescape(path, id->base_len <= len ? id->base_len : len, buf, buflen);
	case CG_KIND_PLAIN:
	case CG_KIND_HELPER:
		n = trim_len(path, len);
		if (n + 1 > buflen)
			return -ENOSPC;
		memcpy(buf, path, n);
		buf[n] = 0;
		return (int)n;
	default:
		return -EINVAL;
	}
}

const char *pd_cg_unit_suffix(const char *unit)
{
	const char *dot = unit ? strrchr(unit, '.') : NULL;
	return dot ? dot + 1 : "";
}

/* ---------------------------------------------------------- kubelet logs */

int pd_cg_parse_kubelet_log_name(const char *name, size_t len, struct cg_k8s_name *out)
{
	const char *u1, *u2;
	size_t rest;

	memset(out, 0, sizeof(*out));
	if (!name || !ends_with(name, len, ".log"))
		return -EINVAL;
	len -= 4;
	/* "<container>-<64 hex>" ends the name; pod, namespace and container
	 * names are DNS labels/subdomains, so they never hold '_'. */
	if (len < CG_ID_LEN + 1 + 5 || name[len - CG_ID_LEN - 1] != '-')
		return -EINVAL;
	for (size_t i = len - CG_ID_LEN; i < len; i++)
		if (!is_hex(name[i]))
			return -EINVAL;
	out->id.p = name + len - CG_ID_LEN;
	out->id.n = CG_ID_LEN;
	rest = len - CG_ID_LEN - 1;
	u1 = memchr(name, '_', rest);
	if (!u1 || u1 == name)
		return -EINVAL;
	u2 = memchr(u1 + 1, '_', (size_t)(name + rest - (u1 + 1)));
	if (!u2 || u2 == u1 + 1 || u2 + 1 >= name + rest)
		return -EINVAL;
	if (memchr(u2 + 1, '_', (size_t)(name + rest - (u2 + 1))))
		return -EINVAL;
	out->pod.p = name;
	out->pod.n = (size_t)(u1 - name);
	out->ns.p = u1 + 1;
	out->ns.n = (size_t)(u2 - (u1 + 1));
	out->container.p = u2 + 1;
	out->container.n = (size_t)(name + rest - (u2 + 1));
	return 0;
}

/* Characters of k8s generated suffixes (utilrand.String and
 * SafeEncodeString): no vowels, no 0/1/3, so real words rarely match. */
static int k8s_rand_chars(const char *s, size_t n)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!memchr(alphabet, s[i], sizeof(alphabet) - 1))
			return 0;
	return 1;
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* Index of the last '-' in s[0..n), or n when there is none (or it is the
 * first byte: a name is never stripped to nothing). */
static size_t last_dash(const char *s, size_t n)
{
	for (size_t i = n; i > 1; i--)
		if (s[i - 1] == '-')
			return i - 1;
	return n;
}

size_t pd_cg_k8s_workload(const char *pod, size_t len)
{
	size_t cut, cut2;

	if (!pod)
		return 0;
	cut = last_dash(pod, len);
	if (cut == len)
		return len;
	if (len - cut - 1 == 5 && k8s_rand_chars(pod + cut + 1, 5)) {
		cut2 = last_dash(pod, cut);
		if (cut2 != cut) {
			const char *s = pod + cut2 + 1;
			size_t n = cut - cut2 - 1;
			/* ReplicaSet pod-template-hash: an encoded uint32, 6..10 chars */
			if (n >= 6 && n <= 10 && k8s_rand_chars(s, n))
				return cut2;
			/* CronJob: the scheduled time in minutes since the epoch */
			if (n >= 8 && all_digits(s, n))
				return cut2;
		}
		return cut; /* DaemonSet, Job, other generated names */
	}
	if (len - cut - 1 <= 5 && all_digits(pod + cut + 1, len - cut - 1))
		return cut; /* StatefulSet ordinal */
	return len;
}

/* ------------------------------------------------------ application type */

static const char *const app_types[] = {
	"postgres", "pgbouncer", "mysql", "redis", "keydb", "valkey", "dragonfly", "memcached",
	"mongodb", "nginx", "envoy", "haproxy", "apache", "clickhouse", "etcd", "consul",
	"vault", "prometheus", "minio", "php-fpm", "traefik", "caddy", "coredns", "influxdb",
	"victoria-metrics", "kafka", "zookeeper", "elasticsearch", "opensearch", "cassandra", "rabbitmq",
};

/* comm is at most 15 bytes (TASK_COMM_LEN - 1): long names are matched by
 * their truncated form, "prefix" entries match any comm starting with it. */
static const struct {
	const char *comm;
	uint8_t prefix;
	uint8_t type;
} comm_table[] = {
	{ "postgres", 0, 0 },     { "postmaster", 0, 0 },    { "pgbouncer", 0, 1 },
	{ "mysqld", 0, 2 },       { "mariadbd", 0, 2 },      { "redis-server", 0, 3 },
	{ "keydb-server", 0, 4 }, { "valkey-server", 0, 5 }, { "dragonfly", 0, 6 },
	{ "memcached", 0, 7 },    { "mongod", 0, 8 },        { "mongos", 0, 8 },
	{ "nginx", 0, 9 },        { "envoy", 0, 10 },        { "haproxy", 0, 11 },
	{ "httpd", 0, 12 },       { "apache2", 0, 12 },      { "clickhouse", 1, 13 },
	{ "etcd", 0, 14 },        { "consul", 0, 15 },       { "vault", 0, 16 },
	{ "prometheus", 0, 17 },  { "minio", 0, 18 },        { "php-fpm", 1, 19 },
	{ "traefik", 0, 20 },     { "caddy", 0, 21 },        { "coredns", 0, 22 },
	{ "influxd", 0, 23 },     { "victoria-metric", 1, 24 },
};

/* Markers in the command line of shared runtimes. */
static const struct {
	const char *needle;
	uint8_t type;
} cmdline_table[] = {
	{ "kafka.Kafka", 25 },
	{ "org.apache.zookeeper", 26 },
	{ "org.elasticsearch", 27 },
	{ "org.opensearch", 28 },
	{ "org.apache.cassandra", 29 },
	{ "rabbit", 30 },
};

int pd_cg_app_type_needs_cmdline(const char *comm, size_t n)
{
	return comm && (slice_eq(comm, n, "java") || slice_eq(comm, n, "beam.smp"));
}

const char *pd_cg_app_type(const char *comm, size_t n, const char *cmdline, size_t cmd_len)
{
	if (!comm)
		return NULL;
	for (size_t i = 0; i < sizeof(comm_table) / sizeof(comm_table[0]); i++) {
		if (comm_table[i].prefix ? starts_with(comm, n, comm_table[i].comm) : slice_eq(comm, n, comm_table[i].comm))
			return app_types[comm_table[i].type];
	}
	if (!cmdline || !pd_cg_app_type_needs_cmdline(comm, n))
		return NULL;
	for (size_t i = 0; i < sizeof(cmdline_table) / sizeof(cmdline_table[0]); i++)
		if (memmem(cmdline, cmd_len, cmdline_table[i].needle, strlen(cmdline_table[i].needle)))
			return app_types[cmdline_table[i].type];
	return NULL;
}

int pd_cg_app_type_index(const char *name)
{
	for (size_t i = 0; name && i < sizeof(app_types) / sizeof(app_types[0]); i++)
		if (!strcmp(app_types[i], name))
			return (int)i;
	return -1;
}

const char *pd_cg_app_type_name(int index)
{
	if (index < 0 || (size_t)index >= sizeof(app_types) / sizeof(app_types[0]))
		return NULL;
	return app_types[index];
}

_Static_assert(sizeof(app_types) / sizeof(app_types[0]) <= CG_APP_TYPES_MAX, "app type bit set too small");
