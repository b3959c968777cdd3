/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel resource file parsers; see stats.h. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

int pd_st_read(const char *path, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int fd, err = 0;

	*len = 0;
	if (cap == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Kernel files report size 0: read until EOF or the buffer is full. */
	while (n < cap - 1) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return err;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses digits at *p; 0 or -EINVAL (no digits, overflow). */
static int take_u64(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	while (s < end && *s >= '0' && *s <= '9') {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

int pd_st_parse_u64(const char *buf, uint64_t *out)
{
	const char *p = buf, *end = buf + strlen(buf);
	int err;

	while (p < end && is_space(*p))
		p++;
	err = take_u64(&p, end, out);
	if (err)
		return err;
	while (p < end && is_space(*p))
		p++;
	return p == end ? 0 : -EINVAL;
}

int pd_st_parse_i64(const char *buf, int64_t *out)
{
	const char *p = buf;
	uint64_t v;
	int neg = 0, err;

	while (*p && is_space(*p))
		p++;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	err = pd_st_parse_u64(p, &v);
	if (err)
		return err;
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int pd_st_kv_get(const char *buf, size_t len, const char *key, uint64_t *out)
{
	const char *p = buf, *end = buf + len;
	size_t kl = strlen(key);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > kl && !memcmp(p, key, kl) && p[kl] == ' ') {
			const char *v = p + kl + 1;
			if (!take_u64(&v, le, out))
				return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return -ENOENT;
}

int pd_st_cfs_cores(int64_t quota_us, int64_t period_us, double *cores)
{
	if (quota_us < 0)
		return -ENOENT;
	if (period_us <= 0)
		return -EINVAL;
	*cores = (double)quota_us / (double)period_us;
	return 0;
}

int pd_st_cpu_max(const char *buf, double *cores)
{
	const char *p = buf, *end = buf + strlen(buf);
	uint64_t q, per;

	while (p < end && is_space(*p))
		p++;
	if (end - p >= 3 && !memcmp(p, "max", 3))
		return -ENOENT;
	if (take_u64(&p, end, &q) || p >= end || *p != ' ')
		return -EINVAL;
	p++;
	if (take_u64(&p, end, &per) || per == 0)
		return -EINVAL;
	*cores = (double)q / (double)per;
	return 0;
}

int pd_st_parse_psi(const char *buf, size_t len, struct st_psi *out)
{
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *t = NULL;
		for (const char *s = p; s + 6 <= le; s++)
			if (!memcmp(s, "total=", 6)) {
				t = s + 6;
				break;
			}
		uint64_t v;
		if (t && !take_u64(&t, le, &v)) {
			if (le - p > 5 && !memcmp(p, "some ", 5)) {
				out->some_us = v;
				out->has_some = 1;
			} else if (le - p > 5 && !memcmp(p, "full ", 5)) {
				out->full_us = v;
				out->has_full = 1;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return out->has_some || out->has_full ? 0 : -EINVAL;
}

int pd_st_parse_schedstat(const char *buf, uint64_t *delay_ns)
{
	const char *p = buf, *end = buf + strlen(buf);
	uint64_t run;

	if (take_u64(&p, end, &run) || p >= end || *p != ' ')
		return -EINVAL;
	p++;
	return take_u64(&p, end, delay_ns);
}

int pd_st_parse_pid_stat(const char *buf, size_t len, struct st_pidstat *out)
{
	const char *open, *close = NULL, *p, *end = buf + len;
	size_t cl;
	int field = 3; /* the first field after "pid (comm)" is the 3rd */

	memset(out, 0, sizeof(*out));
	open = memchr(buf, '(', len);
	for (const char *s = end; s > buf; s--)
		if (s[-1] == ')') {
			close = s - 1;
			break;
		}
	if (!open || !close || close < open)
		return -EINVAL;
	cl = (size_t)(close - open - 1);
	if (cl >= sizeof(out->comm))
		cl = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, cl);
	out->comm[cl] = 0;
	p = close + 1;
	while (p < end) {
		uint64_t v = 0;
		while (p < end && is_space(*p))
			p++;
		if (p >= end)
			break;
		const char *tok = p;
		while (p < end && !is_space(*p))
			p++;
		if (field == 4 || field == 9 || field == 22 || field == 42) {
			const char *t = tok;
			if (take_u64(&t, p, &v) || t != p)
				return -EINVAL;
			if (field == 4)
				out->ppid = (uint32_t)v;
			else if (field == 9)
				out->flags = (uint32_t)v;
			else if (field == 22)
				out->starttime = v;
			else {
				out->blkio_ticks = v;
				out->has_blkio = 1;
			}
		}
		field++;
	}
	return field > 4 ? 0 : -EINVAL;
}

static struct st_dev_io *dev_slot(struct st_dev_io *v, size_t max, size_t *n, uint32_t ma, uint32_t mi)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].major == ma && v[i].minor == mi)
			return &v[i];
	if (*n >= max)
		return NULL;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].major = ma;
	v[*n].minor = mi;
	return &v[(*n)++];
}

/* "MAJ:MIN" at *p. */
static int take_dev(const char **p, const char *end, uint32_t *ma, uint32_t *mi)
{
	uint64_t a, b;
	if (take_u64(p, end, &a) || *p >= end || **p != ':')
		return -EINVAL;
	(*p)++;
	if (take_u64(p, end, &b) || a > UINT32_MAX || b > UINT32_MAX)
		return -EINVAL;
	*ma = (uint32_t)a;
	*mi = (uint32_t)b;
	return 0;
}

int pd_st_parse_blkio(const char *buf, size_t len, int is_ios, struct st_dev_io *v, size_t max, size_t *n)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p;
		uint32_t ma, mi;
		uint64_t val;
		p = nl ? nl + 1 : end;
		/* "Total N" ends the file; lines of other devices start with digits */
		if (take_dev(&s, le, &ma, &mi) || s >= le || *s != ' ')
			continue;
		s++;
		int rd = le - s > 5 && !memcmp(s, "Read ", 5);
		int wr = le - s > 6 && !memcmp(s, "Write ", 6);
		if (!rd && !wr)
			continue;
		s += rd ? 5 : 6;
		if (take_u64(&s, le, &val))
			continue;
		struct st_dev_io *d = dev_slot(v, max, n, ma, mi);
		if (!d)
			continue;
		if (is_ios)
			*(rd ? &d->rios : &d->wios) = val;
		else
			*(rd ? &d->rbytes : &d->wbytes) = val;
	}
	return 0;
}

int pd_st_parse_io_stat(const char *buf, size_t len, struct st_dev_io *v, size_t max, size_t *n)
{
	static const char *const keys[] = { "rbytes=", "wbytes=", "rios=", "wios=" };
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p;
		uint32_t ma, mi;
		p = nl ? nl + 1 : end;
		if (take_dev(&s, le, &ma, &mi))
			continue;
		struct st_dev_io *d = dev_slot(v, max, n, ma, mi);
		if (!d)
			continue;
		while (s < le) {
			while (s < le && *s == ' ')
				s++;
			for (size_t k = 0; k < 4; k++) {
				size_t kl = strlen(keys[k]);
				uint64_t val;
				if ((size_t)(le - s) > kl && !memcmp(s, keys[k], kl)) {
					const char *t = s + kl;
					if (!take_u64(&t, le, &val)) {
						uint64_t *dst[] = { &d->rbytes, &d->wbytes, &d->rios, &d->wios };
						*dst[k] = val;
					}
				}
			}
			while (s < le && *s != ' ')
				s++;
		}
	}
	return 0;
}

int pd_st_uevent_devname(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p > 8 && !memcmp(p, "DEVNAME=", 8)) {
			size_t n = (size_t)(le - p - 8);
			if (n >= outlen)
				return -ENOSPC;
			memcpy(out, p + 8, n);
			out[n] = 0;
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ mountinfo */

/* The next field of a line whose fields are separated by single spaces
 * (an empty mount source shows as two spaces). *p becomes NULL after the
 * last field. */
static int next_field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *s = *p, *e;

	if (!s)
		return -EINVAL;
	e = s < end ? memchr(s, ' ', (size_t)(end - s)) : NULL;
	*f = s;
	*n = (size_t)((e ? e : end) - s);
	*p = e ? e + 1 : NULL;
	return 0;
}

static int is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

/* The kernel writes ' ', '\t', '\n' and '\\' of paths as \ooo. */
static int unmangle(const char *f, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = f[i];
		if (c == '\\' && n - i > 3 && f[i + 1] >= '0' && f[i + 1] <= '3' && is_odigit(f[i + 2]) &&
		    is_odigit(f[i + 3])) {
			c = (char)(((f[i + 1] - '0') << 6) | ((f[i + 2] - '0') << 3) | (f[i + 3] - '0'));
			i += 3;
		}
		if (!c)
			return -EINVAL; /* would cut the string */
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

static int take_num_field(const char **p, const char *end)
{
	const char *f, *t;
	size_t n;
	uint64_t v;

	if (next_field(p, end, &f, &n))
		return -EINVAL;
	t = f;
	return take_u64(&t, f + n, &v) || t != f + n ? -EINVAL : 0;
}

/* The value of option `key` (with its '=') in a comma-separated list. */
static int opt_value(const char *s, size_t n, const char *key, const char **v, size_t *vn)
{
	const char *end = s + n;
	size_t kl = strlen(key);

	while (s < end) {
		const char *c = memchr(s, ',', (size_t)(end - s)), *e = c ? c : end;
		if ((size_t)(e - s) >= kl && !memcmp(s, key, kl)) {
			*v = s + kl;
			*vn = (size_t)(e - s) - kl;
			return 0;
		}
		s = c ? c + 1 : end;
	}
	return -ENOENT;
}

int pd_st_parse_mountinfo(const char *line, size_t len, struct st_mount *m)
{
	const char *p = line, *end = line + len, *f, *t;
	size_t n;
	int err;

	m->major = m->minor = 0;
	m->root[0] = m->mount_point[0] = m->fstype[0] = m->source[0] = m->upperdir[0] = 0;
	if ((err = take_num_field(&p, end)) || (err = take_num_field(&p, end)))
		return err; /* mount id, parent id */
	if (next_field(&p, end, &f, &n))
		return -EINVAL;
	t = f;
	if (take_dev(&t, f + n, &m->major, &m->minor) || t != f + n)
		return -EINVAL;
	if (next_field(&p, end, &f, &n) || (err = unmangle(f, n, m->root, sizeof(m->root))))
		return err ? err : -EINVAL;
	if (next_field(&p, end, &f, &n) || (err = unmangle(f, n, m->mount_point, sizeof(m->mount_point))))
		return err ? err : -EINVAL;
	if (m->root[0] != '/' || m->mount_point[0] != '/')
		return -EINVAL;
	if (next_field(&p, end, &f, &n))
		return -EINVAL; /* mount options */
	do { /* optional fields (shared:N, master:N, ...) up to "-" */
		if (next_field(&p, end, &f, &n))
			return -EINVAL;
	} while (!(n == 1 && *f == '-'));
	if (next_field(&p, end, &f, &n) || !n || (err = unmangle(f, n, m->fstype, sizeof(m->fstype))))
		return err ? err : -EINVAL;
	if (next_field(&p, end, &f, &n) || (err = unmangle(f, n, m->source, sizeof(m->source))))
		return err ? err : -EINVAL;
	/* super options: the rest of the line */
	if (p && !strcmp(m->fstype, "overlay") && !opt_value(p, (size_t)(end - p), "upperdir=", &f, &n) &&
	    (err = unmangle(f, n, m->upperdir, sizeof(m->upperdir))))
		return err;
	return 0;
}

static int in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

int pd_st_mount_class(const struct st_mount *m)
{
	static const char *const remote[] = { "nfs",  "nfs4", "cifs",   "smb3",  "smbfs", "ceph", "glusterfs",
					      "9p",   "afs",  "lustre", "davfs", "sshfs", "ncpfs", NULL };
	static const char *const anon[] = { "btrfs", "zfs", "bcachefs", NULL };

	/* fuseblk has a real block device but its statfs is answered by the
	 * daemon: it is checked first */
	if (!strncmp(m->fstype, "fuse", 4) || in_list(m->fstype, remote))
		return ST_MNT_REMOTE;
	if (m->major)
		return ST_MNT_DISK;
	if (in_list(m->fstype, anon))
		return ST_MNT_ANON;
	if (!strcmp(m->fstype, "overlay") && m->upperdir[0] == '/')
		return ST_MNT_OVERLAY;
	return ST_MNT_SKIP;
}

int pd_st_path_under(const char *path, const char *dir)
{
	size_t dl = strlen(dir);

	if (dl == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, dl) && (path[dl] == 0 || path[dl] == '/');
}

const struct st_hmount *pd_st_hmount_of(const struct st_hmount *hm, size_t n, const char *path)
{
	const struct st_hmount *best = NULL;
	size_t bl = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(hm[i].mount_point);
		if (pd_st_path_under(path, hm[i].mount_point) && (!best || l >= bl)) {
			best = &hm[i];
			bl = l;
		}
	}
	return best;
}

int pd_st_host_path(const struct st_hmount *hm, size_t n, uint32_t major, uint32_t minor, const char *root, char *out,
		    size_t outlen)
{
	const struct st_hmount *best = NULL;
	const char *rest;
	size_t bl = 0;
	int w;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(hm[i].root);
		if (hm[i].major == major && hm[i].minor == minor && pd_st_path_under(root, hm[i].root) &&
		    (!best || l < bl)) {
			best = &hm[i];
			bl = l;
		}
	}
	if (!best)
		return -ENOENT;
	/* what is left of root below the host mount's root: "" or "/..." */
	rest = bl == 1 ? (root[1] ? root : "") : root + bl;
	if (!*rest)
		w = snprintf(out, outlen, "%s", best->mount_point);
	else if (!strcmp(best->mount_point, "/"))
		w = snprintf(out, outlen, "%s", rest);
	else
		w = snprintf(out, outlen, "%s%s", best->mount_point, rest);
	return w < 0 || (size_t)w >= outlen ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------ taskstats netlink */

/* The struct only grows (TASKSTATS_VERSION): these offsets hold since v1. */
_Static_assert(offsetof(struct taskstats, cpu_delay_total) == 24, "taskstats layout");
_Static_assert(offsetof(struct taskstats, blkio_delay_total) == 40, "taskstats layout");
#define TS_MIN_LEN (offsetof(struct taskstats, blkio_delay_total) + sizeof(uint64_t))

static int genl_request(void *buf, size_t cap, uint16_t type, uint8_t cmd, uint8_t version, uint32_t seq,
			uint16_t atype, const void *a, size_t alen)
{
	struct nlmsghdr h = { 0 };
	struct genlmsghdr g = { .cmd = cmd, .version = version };
	struct nlattr na = { .nla_type = atype };
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + alen);
	uint8_t *b = buf;

	if (len > cap || NLA_HDRLEN + alen > UINT16_MAX)
		return -ENOSPC;
	memset(b, 0, len);
	h.nlmsg_len = (uint32_t)len;
	h.nlmsg_type = type;
	h.nlmsg_flags = NLM_F_REQUEST;
	h.nlmsg_seq = seq;
	na.nla_len = (uint16_t)(NLA_HDRLEN + alen);
	memcpy(b, &h, sizeof(h));
	memcpy(b + NLMSG_HDRLEN, &g, sizeof(g));
	memcpy(b + NLMSG_HDRLEN + GENL_HDRLEN, &na, sizeof(na));
	memcpy(b + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, a, alen);
	return (int)len;
}

int pd_st_genl_family_request(void *buf, size_t cap, uint32_t seq, const char *name)
{
	return genl_request(buf, cap, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, seq, CTRL_ATTR_FAMILY_NAME, name,
			    strlen(name) + 1);
}

int pd_st_taskstats_request(void *buf, size_t cap, uint16_t family, uint32_t seq, uint32_t tgid)
{
	return genl_request(buf, cap, family, TASKSTATS_CMD_GET, TASKSTATS_GENL_VERSION, seq, TASKSTATS_CMD_ATTR_TGID,
			    &tgid, sizeof(tgid));
}

/* The attributes of the message of `type` answering seq. Headers are
 * copied out: a receive buffer need not be aligned. */
static int genl_find(const uint8_t *b, size_t len, uint32_t seq, uint16_t type, const uint8_t **attrs, size_t *alen)
{
	size_t off = 0;

	while (len - off >= NLMSG_HDRLEN) {
		struct nlmsghdr h;
		size_t step;
		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			return -EBADMSG;
		if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR) {
			int e;
			if (h.nlmsg_len < NLMSG_HDRLEN + sizeof(e))
				return -EBADMSG;
			memcpy(&e, b + off + NLMSG_HDRLEN, sizeof(e));
			if (e > 0 || e < -4095)
				return -EBADMSG;
			return e ? e : -ENODATA; /* an acknowledgement, no answer */
		}
		if (h.nlmsg_seq == seq && h.nlmsg_type == type) {
			if (h.nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
				return -EBADMSG;
			*attrs = b + off + NLMSG_HDRLEN + GENL_HDRLEN;
			*alen = h.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
			return 0;
		}
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len - off)
			break;
		off += step;
	}
	return -ENOMSG;
}

/* The payload of attribute `type` among [a, a + n). -ENOENT when absent,
 * -EBADMSG for a length below the header or past the end. */
static int nla_find(const uint8_t *a, size_t n, uint16_t type, const uint8_t **p, size_t *plen)
{
	size_t off = 0;

	while (n - off >= NLA_HDRLEN) {
		struct nlattr h;
		size_t step;
		memcpy(&h, a + off, sizeof(h));
		if (h.nla_len < NLA_HDRLEN || h.nla_len > n - off)
			return -EBADMSG;
		if ((h.nla_type & NLA_TYPE_MASK) == type) {
			*p = a + off + NLA_HDRLEN;
			*plen = h.nla_len - NLA_HDRLEN;
			return 0;
		}
		step = NLA_ALIGN(h.nla_len);
		if (step >= n - off)
			break;
		off += step;
	}
	return -ENOENT;
}

int pd_st_genl_family_reply(const void *buf, size_t len, uint32_t seq, uint16_t *family)
{
	const uint8_t *a, *v;
	size_t an, vn;
	uint16_t id;
	int err = genl_find(buf, len, seq, GENL_ID_CTRL, &a, &an);

	if (err)
		return err;
	err = nla_find(a, an, CTRL_ATTR_FAMILY_ID, &v, &vn);
	if (err || vn < sizeof(id))
		return -EBADMSG;
	memcpy(&id, v, sizeof(id));
	if (id < NLMSG_MIN_TYPE)
		return -EBADMSG;
	*family = id;
	return 0;
}

int pd_st_taskstats_reply(const void *buf, size_t len, uint16_t family, uint32_t seq, struct st_taskstats *out)
{
	const uint8_t *a, *agg, *v;
	size_t an, aggn, vn;
	int err = genl_find(buf, len, seq, family, &a, &an);

	if (err)
		return err;
	/* AGGR_TGID { TGID u32, [NULL padding,] STATS struct taskstats } */
	if (nla_find(a, an, TASKSTATS_TYPE_AGGR_TGID, &agg, &aggn))
		return -EBADMSG;
	if (nla_find(agg, aggn, TASKSTATS_TYPE_TGID, &v, &vn) || vn < sizeof(out->tgid))
		return -EBADMSG;
	memcpy(&out->tgid, v, sizeof(out->tgid));
	if (nla_find(agg, aggn, TASKSTATS_TYPE_STATS, &v, &vn) || vn < TS_MIN_LEN)
		return -EBADMSG;
	memcpy(&out->version, v + offsetof(struct taskstats, version), sizeof(out->version));
	memcpy(&out->cpu_delay_ns, v + offsetof(struct taskstats, cpu_delay_total), sizeof(out->cpu_delay_ns));
	memcpy(&out->blkio_delay_ns, v + offsetof(struct taskstats, blkio_delay_total), sizeof(out->blkio_delay_ns));
	out->etime_us = UINT64_MAX;
	if (vn >= offsetof(struct taskstats, ac_etime) + sizeof(out->etime_us))
		memcpy(&out->etime_us, v + offsetof(struct taskstats, ac_etime), sizeof(out->etime_us));
	return 0;
}

int pd_st_delay_plausible(uint64_t delta_ns, uint64_t room_ns, uint64_t uptime_ns)
{
	uint64_t room = room_ns > UINT64_MAX - ST_DELAY_SLACK_NS ? UINT64_MAX : room_ns + ST_DELAY_SLACK_NS;

	return delta_ns <= room || delta_ns < uptime_ns / 2;
}
