/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel resource file parsers; see stats.h. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		if (field == 4 || field == 9 || field == 42) {
			const char *t = tok;
			if (take_u64(&t, p, &v) || t != p)
				return -EINVAL;
			if (field == 4)
				out->ppid = (uint32_t)v;
			else if (field == 9)
				out->flags = (uint32_t)v;
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
