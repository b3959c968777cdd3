/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mock host, part 2: plugin instances and their config. The JSON is checked
 * against the plugin's schema the way the core checks it, then completed
 * with the schema's defaults, so the accessors behave as in the agent.
 */
#include "mock_internal.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>

struct zt_instance {
	char *name;
	json_t *config; /* immutable after creation: read without the lock */
	const struct zt_config_field *schema;
	char **dumps;   /* config_json results, borrowed until the instance dies */
	size_t ndumps;
	struct zt_instance *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct zt_instance *instances;

static const struct zt_config_field *schema_field(zt_instance *inst, const char *key)
{
	for (const struct zt_config_field *f = inst->schema; f && f->key; f++)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

/* What the core checks: 0 when v fits the field's type and bounds. */
static int check_type(const struct zt_config_field *f, json_t *v)
{
	switch (f->type) {
	case ZT_CFG_STRING:
		return json_is_string(v) ? 0 : -EINVAL;
	case ZT_CFG_INT:
		if (!json_is_integer(v))
			return -EINVAL;
		if (f->min <= f->max && (json_integer_value(v) < f->min || json_integer_value(v) > f->max))
			return -ERANGE;
		return 0;
	case ZT_CFG_DOUBLE:
		return json_is_number(v) ? 0 : -EINVAL;
	case ZT_CFG_BOOL:
		return json_is_boolean(v) ? 0 : -EINVAL;
	case ZT_CFG_STRING_LIST: {
		size_t i;
		json_t *e;
		if (!json_is_array(v))
			return -EINVAL;
		json_array_foreach (v, i, e)
			if (!json_is_string(e))
				return -EINVAL;
		return 0;
	}
	case ZT_CFG_OBJECT:
		return json_is_object(v) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* Unknown keys, wrong types, missing required keys; fills defaults in. */
static int validate_config(const char *name, json_t *cfg, const struct zt_config_field *schema)
{
	const char *key;
	json_t *v;

	json_object_foreach (cfg, key, v) {
		const struct zt_config_field *f = schema;
		while (f && f->key && strcmp(f->key, key))
			f++;
		if (!f || !f->key) {
			mock__log(NULL, ZT_LOG_ERROR, "%s: unknown config key \"%s\"", name, key);
			return -EINVAL;
		}
		if (check_type(f, v)) {
			mock__log(NULL, ZT_LOG_ERROR, "%s: config key \"%s\": wrong type or out of range", name, key);
			return -EINVAL;
		}
	}
	for (const struct zt_config_field *f = schema; f && f->key; f++) {
		json_error_t jerr;
		if (json_object_get(cfg, f->key))
			continue;
		if (f->flags & ZT_CFG_F_REQUIRED) {
			mock__log(NULL, ZT_LOG_ERROR, "%s: config key \"%s\" is required", name, f->key);
			return -EINVAL;
		}
		if (!f->default_json)
			continue;
		v = json_loads(f->default_json, JSON_DECODE_ANY, &jerr);
		if (!v || check_type(f, v) || json_object_set_new(cfg, f->key, v)) {
			mock__log(NULL, ZT_LOG_ERROR, "%s: schema default of \"%s\" is invalid: %s", name, f->key,
				 v ? "wrong type" : jerr.text);
			json_decref(v);
			return -EINVAL;
		}
	}
	return 0;
}

static void instance_free(zt_instance *inst)
{
	for (size_t i = 0; i < inst->ndumps; i++)
		free(inst->dumps[i]);
	free(inst->dumps);
	json_decref(inst->config);
	free(inst->name);
	free(inst);
}

int mock_instance_create(const char *name, const char *config_json, const struct zt_config_field *schema,
			 zt_instance **out)
{
	json_error_t jerr;
	zt_instance *inst = calloc(1, sizeof(*inst));
	int err = -ENOMEM;

	if (!inst || !(inst->name = strdup(name ? name : "test")))
		goto fail;
	inst->schema = schema;
	inst->config = json_loads(config_json ? config_json : "{}", 0, &jerr);
	err = -EINVAL;
	if (!inst->config) {
		mock__log(NULL, ZT_LOG_ERROR, "%s: config:%d:%d: %s", inst->name, jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	if (!json_is_object(inst->config)) {
		mock__log(NULL, ZT_LOG_ERROR, "%s: config is not a JSON object", inst->name);
		goto fail;
	}
	if (schema && (err = validate_config(inst->name, inst->config, schema)))
		goto fail;
	pthread_mutex_lock(&lock);
	inst->next = instances;
	instances = inst;
	pthread_mutex_unlock(&lock);
	*out = inst;
	return 0;
fail:
	if (inst)
		instance_free(inst);
	return err;
}

const char *mock_instance_name(zt_instance *inst)
{
	return inst->name;
}

/* The value of key, or a negative errno as the accessors return it. The
 * config object is immutable after creation, so no lock is needed. */
static int config_get(zt_instance *inst, const char *key, json_t **out)
{
	if (!inst || !key || (inst->schema && !schema_field(inst, key)))
		return -ENOENT;
	*out = json_object_get(inst->config, key);
	return *out ? 0 : -ENOENT;
}

int mock__config_string(zt_instance *inst, const char *key, struct zt_str *out)
{
	json_t *v;
	int err = config_get(inst, key, &v);

	if (err)
		return err;
	if (!json_is_string(v))
		return -EINVAL;
	out->ptr = json_string_value(v);
	out->len = json_string_length(v);
	return 0;
}

int mock__config_int(zt_instance *inst, const char *key, int64_t *out)
{
	json_t *v;
	int err = config_get(inst, key, &v);

	if (err)
		return err;
	if (!json_is_integer(v))
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

int mock__config_double(zt_instance *inst, const char *key, double *out)
{
	json_t *v;
	int err = config_get(inst, key, &v);

	if (err)
		return err;
	if (!json_is_number(v))
		return -EINVAL;
	*out = json_number_value(v);
	return 0;
}

int mock__config_bool(zt_instance *inst, const char *key, uint32_t *out)
{
	json_t *v;
	int err = config_get(inst, key, &v);

	if (err)
		return err;
	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v) ? 1 : 0;
	return 0;
}

int mock__config_list_string(zt_instance *inst, const char *key, size_t index, struct zt_str *out)
{
	json_t *v, *e;
	int err = config_get(inst, key, &v);

	if (err)
		return err;
	if (!json_is_array(v))
		return -EINVAL;
	if (index >= json_array_size(v))
		return -ERANGE;
	e = json_array_get(v, index);
	if (!json_is_string(e))
		return -EINVAL;
	out->ptr = json_string_value(e);
	out->len = json_string_length(e);
	return 0;
}

int mock__config_json(zt_instance *inst, const char *key, struct zt_str *out)
{
	json_t *v;
	char *s, **slot;
	int err = config_get(inst, key, &v);

	if (err)
		return err;
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s)
		return -ENOMEM;
	pthread_mutex_lock(&lock);
	slot = mock__grow_one(&inst->dumps, &inst->ndumps, sizeof(*inst->dumps));
	if (slot)
		*slot = s;
	pthread_mutex_unlock(&lock);
	if (!slot) {
		free(s);
		return -ENOMEM;
	}
	out->ptr = s;
	out->len = strlen(s);
	return 0;
}

void mock__config_reset(void)
{
	pthread_mutex_lock(&lock);
	while (instances) {
		zt_instance *n = instances->next;
		instance_free(instances);
		instances = n;
	}
	pthread_mutex_unlock(&lock);
}
