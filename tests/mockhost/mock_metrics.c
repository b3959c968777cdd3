/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mock host, part 4: an in-memory metric registry with the contract of
 * host.h (and the core's registry): the same validation on register,
 * -EEXIST for a conflicting redefinition, counters that never go down, an
 * overflow series past the cardinality cap, and metrics_collect over a
 * copied snapshot with the node's constant labels first.
 *
 * Series are kept in insertion order and found by linear search: tests
 * have a handful, and a stable order makes expected output exact.
 */
#include "mock_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>

#define MAX_LABELS 16
#define MAX_BUCKETS 64
#define N_CONST 2 /* machine_id, system_uuid */
#define OVERFLOW_VALUE "~overflow"

static const double default_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const char *const const_names[N_CONST] = { "machine_id", "system_uuid" };

struct series {
	char **values;     /* label_count NUL-terminated copies */
	double value;
	uint64_t *buckets; /* bucket_count + 1, non-cumulative; histograms only */
	double sum;
	uint64_t count;
};

struct zt_metric {
	uint32_t type;
	char *name;
	char *help;
	char **labels;
	uint32_t label_count;
	uint32_t max_series;
	double *bounds;
	uint32_t bucket_count;
	struct series *series; /* insertion order */
	size_t nseries;
	struct series *overflow;
	uint64_t overflowed;
	struct zt_metric *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct zt_metric *families; /* registration order */
static uint32_t default_max = 10000;

static void series_clear(struct series *s, uint32_t n)
{
	for (uint32_t i = 0; s->values && i < n; i++)
		free(s->values[i]);
	free(s->values);
	free(s->buckets);
}

static void family_free(struct zt_metric *m)
{
	for (size_t i = 0; i < m->nseries; i++)
		series_clear(&m->series[i], m->label_count);
	free(m->series);
	if (m->overflow)
		series_clear(m->overflow, m->label_count);
	free(m->overflow);
	for (uint32_t i = 0; m->labels && i < m->label_count; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->bounds);
	free(m->name);
	free(m->help);
	free(m);
}

/* Fills s with copies of values (each len bytes, or NUL-terminated when
 * lens is NULL). 0 or -ENOMEM; s is cleared on failure. */
static int series_init(struct series *s, const struct zt_metric *m, const char *const *values, const size_t *lens)
{
	memset(s, 0, sizeof(*s));
	s->values = calloc(m->label_count ? m->label_count : 1, sizeof(char *));
	if (!s->values)
		goto fail;
	for (uint32_t i = 0; i < m->label_count; i++)
		if (!(s->values[i] = strndup(values[i] ? values[i] : "", lens ? lens[i] : strlen(values[i]))))
			goto fail;
	if (m->type == ZT_METRIC_HISTOGRAM && !(s->buckets = calloc(m->bucket_count + 1, sizeof(uint64_t))))
		goto fail;
	return 0;
fail:
	series_clear(s, m->label_count);
	memset(s, 0, sizeof(*s));
	return -ENOMEM;
}

static int valid_name(const char *s, int allow_colon)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (allow_colon && *p == ':') ||
		      (p != s && *p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

static struct zt_metric *find_locked(const char *name)
{
	for (struct zt_metric *m = families; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

int mock__metric_register(zt_instance *inst, const struct zt_metric_desc *in, zt_metric **out)
{
	struct zt_metric_desc d = { 0 };
	struct zt_metric *m = NULL, **tail;
	int err = -EINVAL;

	if (!in || !out || in->struct_size < offsetof(struct zt_metric_desc, buckets))
		return -EINVAL;
	memcpy(&d, in, in->struct_size < sizeof(d) ? in->struct_size : sizeof(d));
	if (d.type < ZT_METRIC_COUNTER || d.type > ZT_METRIC_HISTOGRAM || !valid_name(d.name, 1) ||
	    d.label_count > MAX_LABELS || (d.label_count && !d.labels) || d.bucket_count > MAX_BUCKETS ||
	    (d.bucket_count && !d.buckets))
		return -EINVAL;
	for (uint32_t i = 0; i < d.label_count; i++)
		if (!valid_name(d.labels[i], 0) || !strncmp(d.labels[i], "__", 2) || !strcmp(d.labels[i], "le"))
			return -EINVAL;
	for (uint32_t i = 1; i < d.bucket_count; i++)
		if (!(d.buckets[i] > d.buckets[i - 1]))
			return -EINVAL;

	pthread_mutex_lock(&lock);
	if ((m = find_locked(d.name))) {
		err = -EEXIST;
		if (m->type == d.type && m->label_count == d.label_count) {
			uint32_t i = 0;
			while (i < d.label_count && !strcmp(m->labels[i], d.labels[i]))
				i++;
			if (i == d.label_count) {
				*out = m;
				err = 0;
			}
		}
		m = NULL;
		goto out;
	}
	err = -ENOMEM;
	if (!(m = calloc(1, sizeof(*m))))
		goto out;
	m->type = d.type;
	m->max_series = d.max_series;
	m->name = strdup(d.name);
	m->help = strdup(d.help ? d.help : "");
	m->labels = calloc(d.label_count ? d.label_count : 1, sizeof(char *));
	if (!m->name || !m->help || !m->labels)
		goto out;
	m->label_count = d.label_count;
	for (uint32_t i = 0; i < d.label_count; i++)
		if (!(m->labels[i] = strdup(d.labels[i])))
			goto out;
	if (d.type == ZT_METRIC_HISTOGRAM) {
		const double *b = d.bucket_count ? d.buckets : default_buckets;
		uint32_t n = d.bucket_count ? d.bucket_count : sizeof(default_buckets) / sizeof(double);
		if (!(m->bounds = malloc(n * sizeof(double))))
			goto out;
		memcpy(m->bounds, b, n * sizeof(double));
		m->bucket_count = n;
	}
	for (tail = &families; *tail; tail = &(*tail)->next)
		;
	*tail = m;
	*out = m;
	m = NULL;
	err = 0;
out:
	pthread_mutex_unlock(&lock);
	if (m)
		family_free(m);
	return err;
}

/* Index in arr[0..n) of the series with these values, or -1. values/lens
 * as in series_init. */
static long find_in(const struct series *arr, size_t n, uint32_t nl, const char *const *values, const size_t *lens)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t k = 0;
		for (; k < nl; k++) {
			size_t len = lens ? lens[k] : strlen(values[k]);
			if (strlen(arr[i].values[k]) != len || memcmp(arr[i].values[k], values[k], len))
				break;
		}
		if (k == nl)
			return (long)i;
	}
	return -1;
}

/* The overflow series is not in the list. */
static long find_series(const struct zt_metric *m, const char *const *values, const size_t *lens)
{
	return find_in(m->series, m->nseries, m->label_count, values, lens);
}

/* With the lock held: the series to update, the overflow series when the
 * family is full, or NULL when out of memory. */
static struct series *lookup_or_create(struct zt_metric *m, const struct zt_str *values)
{
	const char *vp[MAX_LABELS];
	size_t lens[MAX_LABELS];
	uint32_t cap = m->max_series ? m->max_series : default_max;
	struct series *s;
	long i;

	for (uint32_t k = 0; k < m->label_count; k++) {
		vp[k] = values ? values[k].ptr : "";
		lens[k] = values ? values[k].len : 0;
	}
	if ((i = find_series(m, vp, lens)) >= 0)
		return &m->series[i];
	if (m->nseries >= cap) {
		if (!m->overflow) {
			const char *ov[MAX_LABELS];
			for (uint32_t k = 0; k < m->label_count; k++)
				ov[k] = OVERFLOW_VALUE;
			if (!(m->overflow = malloc(sizeof(*m->overflow))))
				return NULL;
			if (series_init(m->overflow, m, ov, NULL)) {
				free(m->overflow);
				m->overflow = NULL;
				return NULL;
			}
		}
		m->overflowed++;
		return m->overflow;
	}
	s = mock__grow_one(&m->series, &m->nseries, sizeof(*m->series));
	if (!s)
		return NULL;
	if (series_init(s, m, vp, lens)) {
		m->nseries--;
		return NULL;
	}
	return s;
}

void mock__metric_add(zt_metric *m, const struct zt_str *values, double delta)
{
	if (!m || !(delta >= 0) || m->type == ZT_METRIC_HISTOGRAM)
		return;
	pthread_mutex_lock(&lock);
	struct series *s = lookup_or_create(m, values);
	if (s)
		s->value += delta;
	pthread_mutex_unlock(&lock);
}

void mock__metric_set(zt_metric *m, const struct zt_str *values, double value)
{
	if (!m || m->type == ZT_METRIC_HISTOGRAM)
		return;
	pthread_mutex_lock(&lock);
	struct series *s = lookup_or_create(m, values);
	if (s && (m->type == ZT_METRIC_GAUGE || value >= s->value))
		s->value = value;
	pthread_mutex_unlock(&lock);
}

void mock__metric_observe(zt_metric *m, const struct zt_str *values, double value)
{
	if (!m || m->type != ZT_METRIC_HISTOGRAM || isnan(value))
		return;
	pthread_mutex_lock(&lock);
	struct series *s = lookup_or_create(m, values);
	if (s) {
		uint32_t i = 0;
		while (i < m->bucket_count && value > m->bounds[i])
			i++;
		s->buckets[i]++;
		s->sum += value;
		s->count++;
	}
	pthread_mutex_unlock(&lock);
}

static void remove_at(struct zt_metric *m, size_t i)
{
	series_clear(&m->series[i], m->label_count);
	mock__drop_one(m->series, &m->nseries, sizeof(*m->series), i);
}

void mock__metric_remove(zt_metric *m, const struct zt_str *values)
{
	const char *vp[MAX_LABELS];
	size_t lens[MAX_LABELS];
	long i;

	if (!m)
		return;
	pthread_mutex_lock(&lock);
	for (uint32_t k = 0; k < m->label_count; k++) {
		vp[k] = values[k].ptr;
		lens[k] = values[k].len;
	}
	if ((i = find_series(m, vp, lens)) >= 0)
		remove_at(m, (size_t)i);
	pthread_mutex_unlock(&lock);
}

void mock__metric_remove_matching(struct zt_str label, struct zt_str value)
{
	pthread_mutex_lock(&lock);
	for (struct zt_metric *m = families; m; m = m->next)
		for (uint32_t k = 0; k < m->label_count; k++) {
			if (strlen(m->labels[k]) != label.len || memcmp(m->labels[k], label.ptr, label.len))
				continue;
			for (size_t i = m->nseries; i-- > 0;) {
				const char *v = m->series[i].values[k];
				if (strlen(v) == value.len && !memcmp(v, value.ptr, value.len))
					remove_at(m, i);
			}
		}
	pthread_mutex_unlock(&lock);
}

void mock_set_default_max_series(uint32_t max)
{
	pthread_mutex_lock(&lock);
	default_max = max ? max : 10000;
	pthread_mutex_unlock(&lock);
}

void mock__metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	while (families) {
		struct zt_metric *n = families->next;
		family_free(families);
		families = n;
	}
	default_max = 10000;
	pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------- collect */

/* A deep copy of m (overflow series appended to the list), so visitors run
 * without the lock, as the core's snapshot does. */
static struct zt_metric *family_clone(const struct zt_metric *m)
{
	struct zt_metric *c = calloc(1, sizeof(*c));
	size_t total = m->nseries + (m->overflow ? 1 : 0);

	if (!c)
		return NULL;
	c->type = m->type;
	c->label_count = m->label_count;
	c->bucket_count = m->bucket_count;
	c->name = strdup(m->name);
	c->help = strdup(m->help);
	c->labels = calloc(m->label_count ? m->label_count : 1, sizeof(char *));
	c->series = calloc(total ? total : 1, sizeof(*c->series));
	if (!c->name || !c->help || !c->labels || !c->series)
		goto fail;
	for (uint32_t i = 0; i < m->label_count; i++)
		if (!(c->labels[i] = strdup(m->labels[i])))
			goto fail;
	if (m->bounds) {
		if (!(c->bounds = malloc(m->bucket_count * sizeof(double))))
			goto fail;
		memcpy(c->bounds, m->bounds, m->bucket_count * sizeof(double));
	}
	for (size_t i = 0; i < total; i++) {
		const struct series *src = i < m->nseries ? &m->series[i] : m->overflow;
		struct series *dst = &c->series[i];
		if (series_init(dst, m, (const char *const *)src->values, NULL))
			goto fail;
		c->nseries++;
		dst->value = src->value;
		dst->sum = src->sum;
		dst->count = src->count;
		if (src->buckets)
			memcpy(dst->buckets, src->buckets, (m->bucket_count + 1) * sizeof(uint64_t));
	}
	return c;
fail:
	family_free(c);
	return NULL;
}

static int visit_family(const struct zt_collect_visitor *v, void *ctx, const struct zt_metric *m,
			const struct zt_str *consts)
{
	struct zt_str names[N_CONST + MAX_LABELS], values[N_CONST + MAX_LABELS];
	uint64_t cum[MAX_BUCKETS];
	struct zt_family_view fv = {
		.struct_size = sizeof(fv),
		.type = m->type,
		.name = { m->name, strlen(m->name) },
		.help = { m->help, strlen(m->help) },
		.series_count = (uint32_t)m->nseries,
	};
	int err;

	if (v->family && (err = v->family(ctx, &fv)))
		return err;
	for (uint32_t i = 0; i < N_CONST; i++) {
		names[i] = (struct zt_str){ const_names[i], strlen(const_names[i]) };
		values[i] = consts[i];
	}
	for (uint32_t i = 0; i < m->label_count; i++)
		names[N_CONST + i] = (struct zt_str){ m->labels[i], strlen(m->labels[i]) };
	for (size_t s = 0; v->series && s < m->nseries; s++) {
		const struct series *src = &m->series[s];
		struct zt_series_view sv = {
			.struct_size = sizeof(sv),
			.label_count = N_CONST + m->label_count,
			.label_names = names,
			.label_values = values,
			.value = src->value,
		};
		for (uint32_t i = 0; i < m->label_count; i++)
			values[N_CONST + i] = (struct zt_str){ src->values[i], strlen(src->values[i]) };
		if (m->type == ZT_METRIC_HISTOGRAM) {
			uint64_t acc = 0;
			for (uint32_t b = 0; b < m->bucket_count; b++)
				cum[b] = acc += src->buckets[b];
			sv.bucket_count = m->bucket_count;
			sv.bucket_bounds = m->bounds;
			sv.bucket_cumulative = cum;
			sv.sum = src->sum;
			sv.count = src->count;
		}
		if ((err = v->series(ctx, &fv, &sv)))
			return err;
	}
	return 0;
}

int mock__metrics_collect(const struct zt_collect_visitor *v, void *ctx)
{
	struct zt_metric *snap = NULL, **tail = &snap;
	struct zt_str consts[N_CONST];
	char *const_copy[N_CONST] = { NULL };
	int err = 0;

	if (!v || v->struct_size < offsetof(struct zt_collect_visitor, series) + sizeof(v->series))
		return -EINVAL;
	mock__count_collect();
	/* Copied: a test may change the node labels while an exporter walks. */
	for (uint32_t i = 0; i < N_CONST; i++) {
		struct zt_str s = { "", 0 };
		mock_host()->node_label(const_names[i], &s);
		if (!(const_copy[i] = strndup(s.ptr, s.len))) {
			err = -ENOMEM;
			goto out;
		}
		consts[i] = (struct zt_str){ const_copy[i], s.len };
	}
	pthread_mutex_lock(&lock);
	for (struct zt_metric *m = families; m && !err; m = m->next) {
		if (!(*tail = family_clone(m)))
			err = -ENOMEM;
		else
			tail = &(*tail)->next;
	}
	pthread_mutex_unlock(&lock);
	for (struct zt_metric *m = snap; m && !err; m = m->next)
		err = visit_family(v, ctx, m, consts);
out:
	while (snap) {
		struct zt_metric *n = snap->next;
		family_free(snap);
		snap = n;
	}
	for (uint32_t i = 0; i < N_CONST; i++)
		free(const_copy[i]);
	return err;
}

/* ----------------------------------------------------------- assertions */

/* Finds name's series from a NULL-terminated va_list of label values.
 * With the lock held. NULL when the family, count or series do not match. */
static const struct series *find_va(const char *name, va_list ap, const struct zt_metric **fam)
{
	const char *vals[MAX_LABELS + 1];
	const struct zt_metric *m;
	uint32_t n = 0;
	const char *s;
	long i;

	while ((s = va_arg(ap, const char *)) && n <= MAX_LABELS)
		vals[n++] = s;
	m = find_locked(name);
	if (!m || s || n != m->label_count)
		return NULL;
	if (fam)
		*fam = m;
	if ((i = find_series(m, vals, NULL)) >= 0)
		return &m->series[i];
	if (m->overflow && find_in(m->overflow, 1, m->label_count, vals, NULL) == 0)
		return m->overflow;
	return NULL;
}

double mock_metric_value(const char *name, ...)
{
	double v = NAN;
	va_list ap;

	va_start(ap, name);
	pthread_mutex_lock(&lock);
	const struct zt_metric *m = NULL;
	const struct series *s = find_va(name, ap, &m);
	if (s)
		v = m->type == ZT_METRIC_HISTOGRAM ? s->sum : s->value;
	pthread_mutex_unlock(&lock);
	va_end(ap);
	return v;
}

int mock_metric_exists(const char *name, ...)
{
	va_list ap;

	va_start(ap, name);
	pthread_mutex_lock(&lock);
	int found = find_va(name, ap, NULL) != NULL;
	pthread_mutex_unlock(&lock);
	va_end(ap);
	return found;
}

uint64_t mock_metric_hist_count(const char *name, ...)
{
	uint64_t c = 0;
	va_list ap;

	va_start(ap, name);
	pthread_mutex_lock(&lock);
	const struct series *s = find_va(name, ap, NULL);
	if (s)
		c = s->count;
	pthread_mutex_unlock(&lock);
	va_end(ap);
	return c;
}

uint64_t mock_metric_hist_bucket(const char *name, double le, ...)
{
	uint64_t c = UINT64_MAX;
	va_list ap;

	va_start(ap, le);
	pthread_mutex_lock(&lock);
	const struct zt_metric *m = NULL;
	const struct series *s = find_va(name, ap, &m);
	if (s && m->type == ZT_METRIC_HISTOGRAM) {
		if (isinf(le) && le > 0) {
			c = s->count;
		} else {
			uint64_t acc = 0;
			for (uint32_t b = 0; b < m->bucket_count; b++) {
				acc += s->buckets[b];
				if (m->bounds[b] == le) {
					c = acc;
					break;
				}
			}
		}
	}
	pthread_mutex_unlock(&lock);
	va_end(ap);
	return c;
}

long mock_metric_series_count(const char *name)
{
	long n = -1;

	pthread_mutex_lock(&lock);
	const struct zt_metric *m = find_locked(name);
	if (m)
		n = (long)m->nseries + (m->overflow ? 1 : 0);
	pthread_mutex_unlock(&lock);
	return n;
}

uint32_t mock_metric_type(const char *name)
{
	pthread_mutex_lock(&lock);
	const struct zt_metric *m = find_locked(name);
	uint32_t t = m ? m->type : 0;
	pthread_mutex_unlock(&lock);
	return t;
}

uint64_t mock_metric_overflowed(const char *name)
{
	pthread_mutex_lock(&lock);
	const struct zt_metric *m = find_locked(name);
	uint64_t n = m ? m->overflowed : 0;
	pthread_mutex_unlock(&lock);
	return n;
}
