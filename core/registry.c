/* SPDX-License-Identifier: Apache-2.0 */
#include "registry.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define OVERFLOW_VALUE "~overflow"
#define MAX_LABELS 16
#define MAX_BUCKETS 64

static const double default_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					  0.5,   1,    2.5,   5,    10 };

struct series {
	uint64_t hash;
	struct zt_str *values; /* label_count copies, NUL-terminated */
	double value;
	uint64_t *buckets;     /* non-cumulative, histograms only */
	double sum;
	uint64_t count;
};

struct zt_metric {
	struct registry *reg;
	uint32_t type;
	char *name;
	char *help;
	char **labels;
	uint32_t label_count;
	uint32_t max_series;   /* 0 = registry default */
	double *bounds;
	uint32_t bucket_count;
	struct series **slots; /* open addressing, linear probing */
	size_t cap;            /* power of two */
	size_t len;
	struct series *overflow;
	uint64_t overflowed;   /* updates that went to the overflow series */
	uint64_t gen;          /* bumped when a series is freed (registry_ref) */
	struct zt_metric *next;
};

struct registry {
	pthread_mutex_t lock;
	uint32_t default_max;
	struct zt_metric *families; /* registration order */
	struct zt_metric *tail;
	char **const_names;
	char **const_values;
	uint32_t const_count;
};

static uint64_t hash_values(const struct zt_str *v, uint32_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (uint32_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].len; j++) {
			h ^= (unsigned char)v[i].ptr[j];
			h *= 1099511628211ull;
		}
		h ^= 0xff; /* separator so ("ab","c") != ("a","bc") */
		h *= 1099511628211ull;
	}
	return h;
}

static int values_equal(const struct zt_str *a, const struct zt_str *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (a[i].len != b[i].len)
			return 0;
		if (a[i].len && memcmp(a[i].ptr, b[i].ptr, a[i].len))
			return 0;
	}
	return 1;
}

static void series_free(struct series *s, uint32_t n)
{
	if (!s)
		return;
	if (s->values)
		for (uint32_t i = 0; i < n; i++)
			free((char *)s->values[i].ptr);
	free(s->values);
	free(s->buckets);
	free(s);
}

static struct series *series_new(struct zt_metric *m, const struct zt_str *values, uint64_t h)
{
	struct series *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hash = h;
	s->values = calloc(m->label_count ? m->label_count : 1, sizeof(*s->values));
	if (!s->values)
		goto fail;
	for (uint32_t i = 0; i < m->label_count; i++) {
		size_t len = values ? values[i].len : 0;
		char *p = malloc(len + 1);
		if (!p)
			goto fail;
		if (len)
			memcpy(p, values[i].ptr, len);
		p[len] = 0;
		s->values[i].ptr = p;
		s->values[i].len = len;
	}
	if (m->type == ZT_METRIC_HISTOGRAM) {
		s->buckets = calloc(m->bucket_count + 1, sizeof(*s->buckets));
		if (!s->buckets)
			goto fail;
	}
	return s;
fail:
	series_free(s, m->label_count);
	return NULL;
}

static size_t probe(struct zt_metric *m, const struct zt_str *values, uint64_t h)
{
	size_t mask = m->cap - 1;
	size_t i = h & mask;
	while (m->slots[i]) {
		if (m->slots[i]->hash == h && values_equal(m->slots[i]->values, values, m->label_count))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static int grow(struct zt_metric *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct series **ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct series *s = m->slots[i];
		if (!s)
			continue;
		size_t j = s->hash & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

static uint32_t cap_of(struct zt_metric *m)
{
	return m->max_series ? m->max_series : m->reg->default_max;
}

/* Called with the lock held. Returns the series to update, the overflow
 * series when the family is full, or NULL on allocation failure. */
static struct series *lookup_or_create(struct zt_metric *m, const struct zt_str *values)
{
	struct zt_str none[1] = { { "", 0 } };
	if (!m->label_count)
		values = none;
	uint64_t h = hash_values(values, m->label_count);
	if (m->cap) {
		size_t i = probe(m, values, h);
		if (m->slots[i])
			return m->slots[i];
	}
	if (m->len >= cap_of(m)) {
		if (!m->overflow) {
			struct zt_str ov[MAX_LABELS];
			for (uint32_t k = 0; k < m->label_count; k++)
				ov[k] = (struct zt_str){ OVERFLOW_VALUE, sizeof(OVERFLOW_VALUE) - 1 };
			m->overflow = series_new(m, ov, 0);
		}
		m->overflowed++;
		return m->overflow;
	}
	if ((m->len + 1) * 10 > m->cap * 7 && grow(m))
		return NULL;
	struct series *s = series_new(m, values, h);
	if (!s)
		return NULL;
	m->slots[probe(m, values, h)] = s;
	m->len++;
	return s;
}

int registry_new(uint32_t default_max_series, struct registry **out)
{
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->default_max = default_max_series ? default_max_series : 10000;
	*out = r;
	return 0;
}

static void family_free(struct zt_metric *m)
{
	for (size_t i = 0; i < m->cap; i++)
		series_free(m->slots[i], m->label_count);
	series_free(m->overflow, m->label_count);
	free(m->slots);
	for (uint32_t i = 0; i < m->label_count; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->bounds);
	free(m->name);
	free(m->help);
	free(m);
}

static void free_const(struct registry *r)
{
	for (uint32_t i = 0; i < r->const_count; i++) {
		free(r->const_names[i]);
		free(r->const_values[i]);
	}
	free(r->const_names);
	free(r->const_values);
	r->const_names = r->const_values = NULL;
	r->const_count = 0;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	struct zt_metric *m = r->families;
	while (m) {
		struct zt_metric *n = m->next;
		family_free(m);
		m = n;
	}
	free_const(r);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void registry_set_default_max_series(struct registry *r, uint32_t max)
{
	pthread_mutex_lock(&r->lock);
	r->default_max = max ? max : 10000;
	pthread_mutex_unlock(&r->lock);
}

int registry_set_const_labels(struct registry *r, const char *const *names, const char *const *values, uint32_t n)
{
	char **cn = calloc(n ? n : 1, sizeof(*cn));
	char **cv = calloc(n ? n : 1, sizeof(*cv));
	uint32_t i;
	if (!cn || !cv)
		goto fail;
	for (i = 0; i < n; i++) {
		cn[i] = strdup(names[i]);
		cv[i] = strdup(values[i] ? values[i] : "");
		if (!cn[i] || !cv[i])
			goto fail;
	}
	pthread_mutex_lock(&r->lock);
	free_const(r);
	r->const_names = cn;
	r->const_values = cv;
	r->const_count = n;
	pthread_mutex_unlock(&r->lock);
	return 0;
fail:
	for (i = 0; cn && cv && i < n; i++) {
		free(cn[i]);
		free(cv[i]);
	}
	free(cn);
	free(cv);
	return -ENOMEM;
}

static int valid_name(const char *s, int allow_colon)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			 (allow_colon && *p == ':') || (p != s && *p >= '0' && *p <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

static int same_definition(const struct zt_metric *m, const struct zt_metric_desc *d)
{
	if (m->type != d->type || m->label_count != d->label_count)
		return 0;
	for (uint32_t i = 0; i < d->label_count; i++)
		if (strcmp(m->labels[i], d->labels[i]))
			return 0;
	return 1;
}

static struct zt_metric *find_locked(struct registry *r, const char *name)
{
	for (struct zt_metric *m = r->families; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

int registry_register(struct registry *r, const struct zt_metric_desc *in, zt_metric **out)
{
	struct zt_metric_desc d = { 0 };
	struct zt_metric *m = NULL;
	int err = -EINVAL;

	if (!in || in->struct_size < offsetof(struct zt_metric_desc, buckets))
		return -EINVAL;
	memcpy(&d, in, in->struct_size < sizeof(d) ? in->struct_size : sizeof(d));
	if (d.type < ZT_METRIC_COUNTER || d.type > ZT_METRIC_HISTOGRAM || !valid_name(d.name, 1) ||
	    d.label_count > MAX_LABELS || (d.label_count && !d.labels))
		return -EINVAL;
	for (uint32_t i = 0; i < d.label_count; i++)
		if (!valid_name(d.labels[i], 0) || !strncmp(d.labels[i], "__", 2) || !strcmp(d.labels[i], "le"))
			return -EINVAL;
	if (d.bucket_count > MAX_BUCKETS || (d.bucket_count && !d.buckets))
		return -EINVAL;
	for (uint32_t i = 1; i < d.bucket_count; i++)
		if (!(d.buckets[i] > d.buckets[i - 1]))
			return -EINVAL;

	pthread_mutex_lock(&r->lock);
	m = find_locked(r, d.name);
	if (m) {
		err = same_definition(m, &d) ? 0 : -EEXIST;
		if (!err)
			*out = m;
		m = NULL;
		goto out;
	}
	err = -ENOMEM;
	m = calloc(1, sizeof(*m));
	if (!m)
		goto out;
	m->reg = r;
	/* distinct per family ever registered (in any registry), so a ref to
	 * a freed family whose memory came back cannot match */
	static uint64_t family_gen;
	m->gen = __atomic_add_fetch(&family_gen, 1ull << 32, __ATOMIC_RELAXED);
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
		m->bounds = malloc(n * sizeof(double));
		if (!m->bounds)
			goto out;
		memcpy(m->bounds, b, n * sizeof(double));
		m->bucket_count = n;
	}
	if (r->tail)
		r->tail->next = m;
	else
		r->families = m;
	r->tail = m;
	*out = m;
	m = NULL;
	err = 0;
out:
	pthread_mutex_unlock(&r->lock);
	if (m)
		family_free(m);
	return err;
}

zt_metric *registry_find(struct registry *r, const char *name)
{
	pthread_mutex_lock(&r->lock);
	struct zt_metric *m = find_locked(r, name);
	pthread_mutex_unlock(&r->lock);
	return m;
}

void registry_add(zt_metric *m, const struct zt_str *values, double delta)
{
	if (!m || !(delta >= 0) || m->type == ZT_METRIC_HISTOGRAM)
		return; /* counters never go down; NaN is refused too */
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = lookup_or_create(m, values);
	if (s)
		s->value += delta;
	pthread_mutex_unlock(&m->reg->lock);
}

/* Under the lock. Families start at gen 1, so a zeroed ref never hits. */
static struct series *ref_series(zt_metric *m, struct registry_ref *ref, const struct zt_str *values)
{
	if (ref->m == m && ref->series && ref->gen == m->gen)
		return ref->series;
	struct series *s = lookup_or_create(m, values);
	ref->m = m;
	ref->series = s;
	ref->gen = m->gen;
	return s;
}

void registry_add_ref(zt_metric *m, struct registry_ref *ref, const struct zt_str *values, double delta)
{
	if (!m || !(delta >= 0) || m->type == ZT_METRIC_HISTOGRAM)
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = ref_series(m, ref, values);
	if (s)
		s->value += delta;
	pthread_mutex_unlock(&m->reg->lock);
}

void registry_set_ref(zt_metric *m, struct registry_ref *ref, const struct zt_str *values, double value)
{
	if (!m || m->type == ZT_METRIC_HISTOGRAM)
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = ref_series(m, ref, values);
	if (s && (m->type == ZT_METRIC_GAUGE || value >= s->value))
		s->value = value;
	pthread_mutex_unlock(&m->reg->lock);
}

static void observe_locked(zt_metric *m, struct series *s, double value)
{
	uint32_t i = 0;
	while (i < m->bucket_count && value > m->bounds[i])
		i++;
	s->buckets[i]++;
	s->sum += value;
	s->count++;
}

void registry_observe_ref(zt_metric *m, struct registry_ref *ref, const struct zt_str *values, double value)
{
	if (!m || m->type != ZT_METRIC_HISTOGRAM || isnan(value))
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = ref_series(m, ref, values);
	if (s)
		observe_locked(m, s, value);
	pthread_mutex_unlock(&m->reg->lock);
}

void registry_set(zt_metric *m, const struct zt_str *values, double value)
{
	if (!m || m->type == ZT_METRIC_HISTOGRAM)
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = lookup_or_create(m, values);
	/* A counter may be set to an absolute reading of a kernel counter,
	 * but never backwards (a reset would look like a huge rate). */
	if (s && (m->type == ZT_METRIC_GAUGE || value >= s->value))
		s->value = value;
	pthread_mutex_unlock(&m->reg->lock);
}

void registry_observe(zt_metric *m, const struct zt_str *values, double value)
{
	if (!m || m->type != ZT_METRIC_HISTOGRAM || isnan(value))
		return;
	pthread_mutex_lock(&m->reg->lock);
	struct series *s = lookup_or_create(m, values);
	if (s)
		observe_locked(m, s, value);
	pthread_mutex_unlock(&m->reg->lock);
}

/* Backward-shift deletion keeps linear probing correct without tombstones. */
static void delete_slot(struct zt_metric *m, size_t i)
{
	size_t mask = m->cap - 1;
	series_free(m->slots[i], m->label_count);
	m->slots[i] = NULL;
	m->len--;
	m->gen++;
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		struct series *s = m->slots[j];
		if (!s)
			break;
		size_t home = s->hash & mask;
		/* s may move into the hole at i unless its home lies in (i, j]. */
		int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			m->slots[i] = s;
			m->slots[j] = NULL;
			i = j;
		}
	}
}

void registry_remove(zt_metric *m, const struct zt_str *values)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->reg->lock);
	if (m->cap && m->label_count) {
		size_t i = probe(m, values, hash_values(values, m->label_count));
		if (m->slots[i])
			delete_slot(m, i);
	}
	pthread_mutex_unlock(&m->reg->lock);
}

void registry_remove_matching(struct registry *r, struct zt_str label, struct zt_str value)
{
	pthread_mutex_lock(&r->lock);
	for (struct zt_metric *m = r->families; m; m = m->next) {
		uint32_t k;
		for (k = 0; k < m->label_count; k++)
			if (strlen(m->labels[k]) == label.len && !memcmp(m->labels[k], label.ptr, label.len))
				break;
		if (k == m->label_count)
			continue;
		for (size_t i = 0; i < m->cap;) {
			struct series *s = m->slots[i];
			if (s && s->values[k].len == value.len && !memcmp(s->values[k].ptr, value.ptr, value.len))
				delete_slot(m, i); /* a shifted entry may now sit at i: look again */
			else
				i++;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

void registry_clear(zt_metric *m)
{
	pthread_mutex_lock(&m->reg->lock);
	for (size_t i = 0; i < m->cap; i++) {
		series_free(m->slots[i], m->label_count);
		m->slots[i] = NULL;
	}
	m->len = 0;
	m->gen++;
	pthread_mutex_unlock(&m->reg->lock);
}

size_t registry_series_count(zt_metric *m)
{
	pthread_mutex_lock(&m->reg->lock);
	size_t n = m->len + (m->overflow ? 1 : 0);
	pthread_mutex_unlock(&m->reg->lock);
	return n;
}

uint64_t registry_overflowed(zt_metric *m)
{
	pthread_mutex_lock(&m->reg->lock);
	uint64_t n = m->overflowed;
	pthread_mutex_unlock(&m->reg->lock);
	return n;
}

int registry_get(zt_metric *m, const struct zt_str *values, double *value, uint64_t *count)
{
	int err = -ENOENT;
	struct zt_str none[1] = { { "", 0 } };
	pthread_mutex_lock(&m->reg->lock);
	if (!m->label_count)
		values = none;
	if (m->cap) {
		struct series *s = m->slots[probe(m, values, hash_values(values, m->label_count))];
		if (s) {
			if (value)
				*value = m->type == ZT_METRIC_HISTOGRAM ? s->sum : s->value;
			if (count)
				*count = s->count;
			err = 0;
		}
	}
	pthread_mutex_unlock(&m->reg->lock);
	return err;
}

/* ------------------------------------------------------------- snapshot */

/*
 * The snapshot is one allocation per family: a header, then per series its
 * label views and histogram arrays. String bytes are copied too, so the
 * lock is released before any exporter code runs.
 */
struct snap_series {
	struct zt_series_view view;
};

struct snap_family {
	struct zt_family_view view;
	struct snap_series *series;
	struct zt_str *names;   /* const + family label names, shared by all series */
	struct zt_str *values;  /* series_count * nlabels */
	double *bounds;
	uint64_t *cum;          /* series_count * bucket_count */
	char *strings;          /* every byte the views point at */
};

static void snap_family_free(struct snap_family *f)
{
	if (!f)
		return;
	free(f->series);
	free(f->names);
	free(f->values);
	free(f->bounds);
	free(f->cum);
	free(f->strings);
}

static char *put(char **cursor, const char *s, size_t len)
{
	char *p = *cursor;
	memcpy(p, s, len);
	p[len] = 0;
	*cursor += len + 1;
	return p;
}

static int snap_family(struct registry *r, struct zt_metric *m, struct snap_family *f)
{
	size_t n = m->len + (m->overflow ? 1 : 0);
	uint32_t nl = r->const_count + m->label_count;
	size_t bytes = strlen(m->name) + strlen(m->help) + 2;
	struct series **list = NULL;
	size_t k = 0;
	int err = -ENOMEM;

	for (uint32_t i = 0; i < r->const_count; i++)
		bytes += strlen(r->const_names[i]) + strlen(r->const_values[i]) * (n ? n : 1) + 2 + n;
	for (uint32_t i = 0; i < m->label_count; i++)
		bytes += strlen(m->labels[i]) + 1;
	list = malloc((n ? n : 1) * sizeof(*list));
	if (!list)
		goto out;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i]) {
			list[k++] = m->slots[i];
			for (uint32_t j = 0; j < m->label_count; j++)
				bytes += m->slots[i]->values[j].len + 1;
		}
	if (m->overflow) {
		list[k++] = m->overflow;
		for (uint32_t j = 0; j < m->label_count; j++)
			bytes += m->overflow->values[j].len + 1;
	}

	f->strings = malloc(bytes);
	f->series = calloc(n ? n : 1, sizeof(*f->series));
	f->names = calloc(nl ? nl : 1, sizeof(*f->names));
	f->values = calloc(n * nl > 0 ? n * nl : 1, sizeof(*f->values));
	if (!f->strings || !f->series || !f->names || !f->values)
		goto out;
	if (m->type == ZT_METRIC_HISTOGRAM) {
		f->bounds = malloc(m->bucket_count * sizeof(double));
		f->cum = malloc((n ? n : 1) * m->bucket_count * sizeof(uint64_t));
		if (!f->bounds || !f->cum)
			goto out;
		memcpy(f->bounds, m->bounds, m->bucket_count * sizeof(double));
	}
	char *c = f->strings;
	f->view.struct_size = sizeof(f->view);
	f->view.type = m->type;
	f->view.name.len = strlen(m->name);
	f->view.name.ptr = put(&c, m->name, f->view.name.len);
	f->view.help.len = strlen(m->help);
	f->view.help.ptr = put(&c, m->help, f->view.help.len);
	f->view.series_count = (uint32_t)n;
	for (uint32_t i = 0; i < r->const_count; i++) {
		f->names[i].len = strlen(r->const_names[i]);
		f->names[i].ptr = put(&c, r->const_names[i], f->names[i].len);
	}
	for (uint32_t i = 0; i < m->label_count; i++) {
		f->names[r->const_count + i].len = strlen(m->labels[i]);
		f->names[r->const_count + i].ptr = put(&c, m->labels[i], strlen(m->labels[i]));
	}
	for (size_t s = 0; s < n; s++) {
		struct series *src = list[s];
		struct zt_series_view *v = &f->series[s].view;
		struct zt_str *vals = f->values + s * nl;
		v->struct_size = sizeof(*v);
		v->label_count = nl;
		v->label_names = f->names;
		v->label_values = vals;
		for (uint32_t i = 0; i < r->const_count; i++) {
			vals[i].len = strlen(r->const_values[i]);
			vals[i].ptr = put(&c, r->const_values[i], vals[i].len);
		}
		for (uint32_t i = 0; i < m->label_count; i++) {
			vals[r->const_count + i].len = src->values[i].len;
			vals[r->const_count + i].ptr = put(&c, src->values[i].ptr, src->values[i].len);
		}
		v->value = src->value;
		if (m->type == ZT_METRIC_HISTOGRAM) {
			uint64_t *cum = f->cum + s * m->bucket_count, acc = 0;
			for (uint32_t b = 0; b < m->bucket_count; b++) {
				acc += src->buckets[b];
				cum[b] = acc;
			}
			v->bucket_count = m->bucket_count;
			v->bucket_bounds = f->bounds;
			v->bucket_cumulative = cum;
			v->sum = src->sum;
			v->count = src->count;
		}
	}
	err = 0;
out:
	free(list);
	return err;
}

int registry_collect(struct registry *r, const struct zt_collect_visitor *v, void *ctx)
{
	struct snap_family *fams = NULL;
	size_t nf = 0, i;
	int err = 0;

	if (!v || v->struct_size < sizeof(uint32_t) * 2)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	for (struct zt_metric *m = r->families; m; m = m->next)
		nf++;
	fams = calloc(nf ? nf : 1, sizeof(*fams));
	if (!fams) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	i = 0;
	for (struct zt_metric *m = r->families; m && !err; m = m->next)
		err = snap_family(r, m, &fams[i++]);
	pthread_mutex_unlock(&r->lock);
	if (err)
		goto out;

	/* Visitor struct may come from an older plugin: only call what it has. */
	int (*fam_cb)(void *, const struct zt_family_view *) =
		v->struct_size >= offsetof(struct zt_collect_visitor, family) + sizeof(v->family) ? v->family : NULL;
	int (*ser_cb)(void *, const struct zt_family_view *, const struct zt_series_view *) =
		v->struct_size >= offsetof(struct zt_collect_visitor, series) + sizeof(v->series) ? v->series : NULL;
	for (i = 0; i < nf && !err; i++) {
		if (fam_cb)
			err = fam_cb(ctx, &fams[i].view);
		for (uint32_t s = 0; !err && ser_cb && s < fams[i].view.series_count; s++)
			err = ser_cb(ctx, &fams[i].view, &fams[i].series[s].view);
	}
out:
	for (i = 0; i < nf; i++)
		snap_family_free(&fams[i]);
	free(fams);
	return err;
}

void registry_foreach_overflowed(struct registry *r, void (*cb)(void *ctx, const char *family, uint64_t n), void *ctx)
{
	struct ov {
		char name[128];
		uint64_t n;
	} list[64];
	size_t k = 0;
	/* Collect under the lock, report after it: cb updates the registry. */
	pthread_mutex_lock(&r->lock);
	for (struct zt_metric *m = r->families; m && k < 64; m = m->next)
		if (m->overflowed) {
			snprintf(list[k].name, sizeof(list[k].name), "%s", m->name);
			list[k++].n = m->overflowed;
		}
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < k; i++)
		cb(ctx, list[i].name, list[i].n);
}
