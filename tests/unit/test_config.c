/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loading and validation, on real files in a temporary directory.
 * Positions are asserted exactly: a message that points one column off
 * sends a user to the wrong place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "jsonpos.h"

struct fx {
	char dir[64];
	char main[128];
	char err[1024];
	struct zt_config *cfg;
	json_t *resolved;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char sub[160];
	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/zt-config-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->main, sizeof(fx->main), "%s/zerotap.json", fx->dir);
	snprintf(sub, sizeof(sub), "%s/conf.d", fx->dir);
	if (mkdir(sub, 0755)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	config_free(fx->cfg);
	json_decref(fx->resolved);
	nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* rel "" is the main file; otherwise a path under the temporary dir. */
static void put(struct fx *fx, const char *rel, const char *text)
{
	char path[256];
	FILE *f;
	if (*rel)
		snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
	else
		snprintf(path, sizeof(path), "%s", fx->main);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int load(struct fx *fx)
{
	config_free(fx->cfg);
	fx->cfg = NULL;
	return config_load(fx->main, &fx->cfg, fx->err, sizeof(fx->err));
}

/* The message must start with exactly "FILE:LINE:COL: " and contain each
 * of the NULL-terminated needles. */
static void expect_at(struct fx *fx, const char *rel, int line, int col, ...)
{
	char prefix[256];
	const char *needle;
	va_list ap;
	if (*rel)
		snprintf(prefix, sizeof(prefix), "%s/%s:%d:%d: ", fx->dir, rel, line, col);
	else
		snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", fx->main, line, col);
	if (strncmp(fx->err, prefix, strlen(prefix)))
		fail_msg("message '%s' does not start with '%s'", fx->err, prefix);
	va_start(ap, col);
	while ((needle = va_arg(ap, const char *)))
		if (!strstr(fx->err, needle))
			fail_msg("message '%s' lacks '%s'", fx->err, needle);
	va_end(ap);
}

static void load_fails_at(struct fx *fx, const char *rel, int line, int col, const char *needle)
{
	assert_int_equal(load(fx), -EINVAL);
	assert_null(fx->cfg);
	expect_at(fx, rel, line, col, needle, NULL);
}

/* The demo plugin's schema, for the validation tests. */
static const struct zt_config_field demo_schema[] = {
	{ "listen", ZT_CFG_STRING, 0, "\"127.0.0.1:9105\"", "address", 0, -1 },
	{ "interval_ms", ZT_CFG_INT, 0, "5000", "period", 1, 60000 },
	{ "ratio", ZT_CFG_DOUBLE, 0, "0.5", "ratio", 0, -1 },
	{ "verbose", ZT_CFG_BOOL, 0, "false", "chatty", 0, -1 },
	{ "tags", ZT_CFG_STRING_LIST, 0, "[]", "tags", 0, -1 },
	{ "extra", ZT_CFG_OBJECT, 0, "{}", "anything", 0, -1 },
	{ "token", ZT_CFG_STRING, ZT_CFG_F_SECRET, NULL, "bearer token", 0, -1 },
	{ "pin", ZT_CFG_INT, ZT_CFG_F_SECRET, NULL, "a secret number", 1000, 9999 },
	ZT_CFG_END,
};

static int validate(struct fx *fx, const char *inst, const struct zt_config_field *schema)
{
	const struct cfg_instance *ci = config_find(fx->cfg, inst);
	assert_non_null(ci);
	json_decref(fx->resolved);
	fx->resolved = NULL;
	return config_validate_instance(fx->cfg, ci, schema, &fx->resolved, fx->err, sizeof(fx->err));
}

/* Loads a main file holding one "demo" instance with the given config
 * (its first key on line 5, column 9) and validates it. */
static int validate_demo(struct fx *fx, const char *config_body, const struct zt_config_field *schema)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\n"
		 "  \"plugins\": {\n"
		 "    \"demo\": {\n"
		 "      \"config\": {\n"
		 "        %s\n"
		 "      }\n"
		 "    }\n"
		 "  }\n"
		 "}\n",
		 config_body);
	put(fx, "", text);
	assert_int_equal(load(fx), 0);
	return validate(fx, "demo", schema);
}

/* ---------------------------------------------------------------- tests */

static void test_defaults(void **state)
{
	struct fx *fx = *state;
	const struct cfg_instance *ci;

	put(fx, "", "{ \"plugins\": { \"process\": { \"enabled\": true }, \"idle\": {} } }\n");
	assert_int_equal(load(fx), 0);
	assert_string_equal(fx->cfg->log_level, "info");
	assert_string_equal(fx->cfg->plugin_dir, ZT_DEFAULT_PLUGIN_DIR);
	assert_int_equal(fx->cfg->max_series_per_family, 10000);
	assert_string_equal(fx->cfg->az, "");
	assert_string_equal(fx->cfg->region, "");
	assert_int_equal(fx->cfg->drain_interval_ms, 50);
	assert_int_equal(fx->cfg->n_inst, 2);

	ci = config_find(fx->cfg, "process");
	assert_non_null(ci);
	assert_string_equal(ci->plugin, "process");
	assert_int_equal(ci->enabled, 1);
	assert_int_equal(ci->required, 0);
	assert_null(ci->path);
	assert_true(json_is_object(ci->config));
	assert_string_equal(ci->config_canon, "{}");
	assert_string_equal(ci->loc.file, fx->main);
	assert_int_equal(ci->loc.line, 1);
	assert_int_equal(ci->loc.col, 16);

	/* nothing loads unless enabled */
	ci = config_find(fx->cfg, "idle");
	assert_non_null(ci);
	assert_int_equal(ci->enabled, 0);
	assert_null(config_find(fx->cfg, "absent"));
}

static void test_full_and_dropins(void **state)
{
	struct fx *fx = *state;
	const struct cfg_instance *ci;

	put(fx, "",
	    "{\n"
	    "  \"agent\": { \"log_level\": \"debug\", \"plugin_dir\": \"/opt/zt\", \"max_series_per_family\": 7 },\n"
	    "  \"plugins\": {\n"
	    "    \"prometheus\": { \"enabled\": true, \"required\": true, \"config\": { \"listen\": \"[::1]:9\" } }\n"
	    "  }\n"
	    "}\n");
	/* merged in name order, whatever order the directory lists them in */
	put(fx, "conf.d/20-b.json", "{ \"plugins\": { \"zz\": { \"enabled\": true } } }");
	put(fx, "conf.d/10-a.json",
	    "{ \"agent\": { \"az\": \"eu-1a\", \"region\": \"eu-1\", \"drain_interval_ms\": 1000 },\n"
	    "  \"plugins\": { \"prom2\": { \"plugin\": \"prometheus\", \"enabled\": true,\n"
	    "                            \"path\": \"/opt/x/prometheus.so\" } } }");
	/* not drop-ins: wrong suffix, hidden */
	put(fx, "conf.d/30-c.json.bak", "garbage");
	put(fx, "conf.d/.05-hidden.json", "garbage");

	assert_int_equal(load(fx), 0);
	assert_string_equal(fx->cfg->log_level, "debug");
	assert_string_equal(fx->cfg->plugin_dir, "/opt/zt");
	assert_int_equal(fx->cfg->max_series_per_family, 7);
	assert_string_equal(fx->cfg->az, "eu-1a");
	assert_string_equal(fx->cfg->region, "eu-1");
	assert_int_equal(fx->cfg->drain_interval_ms, 1000);

	assert_int_equal(fx->cfg->n_inst, 3);
	assert_string_equal(fx->cfg->inst[0].name, "prometheus");
	assert_string_equal(fx->cfg->inst[1].name, "prom2");
	assert_string_equal(fx->cfg->inst[2].name, "zz");

	ci = config_find(fx->cfg, "prometheus");
	assert_int_equal(ci->required, 1);
	assert_string_equal(ci->config_canon, "{\"listen\":\"[::1]:9\"}");
	ci = config_find(fx->cfg, "prom2");
	assert_string_equal(ci->plugin, "prometheus");
	assert_string_equal(ci->path, "/opt/x/prometheus.so");
	assert_int_equal(ci->required, 0);
	assert_true(strstr(ci->loc.file, "conf.d/10-a.json") != NULL);
	assert_int_equal(ci->loc.line, 2);
	assert_int_equal(ci->loc.col, 16);
}

static void test_missing_main(void **state)
{
	struct fx *fx = *state;
	char want[256];
	assert_int_equal(load(fx), -ENOENT);
	assert_null(fx->cfg);
	snprintf(want, sizeof(want), "%s: %s", fx->main, strerror(ENOENT));
	assert_string_equal(fx->err, want);
}

static void test_unknown_agent_key(void **state)
{
	struct fx *fx = *state;
	put(fx, "",
	    "{\n"
	    "  \"agent\": {\n"
	    "    \"log_level\": \"debug\",\n"
	    "      \"colour\": 1\n"
	    "  }\n"
	    "}\n");
	load_fails_at(fx, "", 4, 7, "unknown agent key 'colour'");

	/* a near miss gets a suggestion */
	put(fx, "", "{\"agent\": {\"log_levle\": \"info\"}}");
	load_fails_at(fx, "", 1, 12, "did you mean 'log_level'?");
}

static void test_bad_agent_values(void **state)
{
	struct fx *fx = *state;
	put(fx, "", "{\"agent\": {\n  \"drain_interval_ms\": 5000}}");
	load_fails_at(fx, "", 2, 24, "5000 is out of range [1, 1000]");
	put(fx, "", "{\"agent\": {\n  \"max_series_per_family\": 0}}");
	load_fails_at(fx, "", 2, 28, "out of range [1, 10000000]");
	put(fx, "", "{\"agent\": {\n  \"log_level\": \"loud\"}}");
	load_fails_at(fx, "", 2, 16, "'loud' is not one of error, warn, info, debug");
	put(fx, "", "{\"agent\": {\n  \"az\": 3}}");
	load_fails_at(fx, "", 2, 9, "expected string, found int");
	put(fx, "", "{\"agent\": [1]}");
	load_fails_at(fx, "", 1, 11, "'agent' must be an object, found array");
	put(fx, "", "{\"agents\": {}}");
	load_fails_at(fx, "", 1, 2, "unknown top-level key 'agents'");
}

static void test_unknown_instance_key(void **state)
{
	struct fx *fx = *state;
	put(fx, "",
	    "{\n"
	    "  \"plugins\": {\n"
	    "    \"process\": {\n"
	    "      \"enabeld\": true\n"
	    "    }\n"
	    "  }\n"
	    "}\n");
	load_fails_at(fx, "", 4, 7, "plugin instance 'process': unknown key 'enabeld'; did you mean 'enabled'?");
}

static void test_bad_instance_values(void **state)
{
	struct fx *fx = *state;
	put(fx, "", "{\"plugins\": {\"p\": {\"enabled\": \"yes\"}}}");
	load_fails_at(fx, "", 1, 31, "key 'enabled': expected bool, found string");
	/* plugin names become file names under plugin_dir */
	put(fx, "", "{\"plugins\": {\"p\": {\"plugin\": \"../../tmp/evil\"}}}");
	load_fails_at(fx, "", 1, 30, "is not a plugin name");
	put(fx, "", "{\"plugins\": {\"p\": {\"path\": \"x.so\"}}}");
	load_fails_at(fx, "", 1, 28, "must be an absolute path");
	put(fx, "", "{\"plugins\": {\"p\": true}}");
	load_fails_at(fx, "", 1, 19, "plugin instance 'p' must be an object, found bool");
	put(fx, "", "{\"plugins\": {\"p\": {\"config\": []}}}");
	load_fails_at(fx, "", 1, 30, "expected object, found array");
}

static void test_bad_instance_name(void **state)
{
	struct fx *fx = *state;
	char name[66], text[128];
	put(fx, "", "{\n  \"plugins\": {\n   \"Bad.Name\": {}\n  }\n}");
	load_fails_at(fx, "", 3, 4, "'Bad.Name' is not a valid plugin instance name");
	put(fx, "", "{\"plugins\": {\"\": {}}}");
	load_fails_at(fx, "", 1, 14, "is not a valid plugin instance name");
	/* 64 characters is the limit */
	memset(name, 'n', 65);
	name[65] = '\0';
	snprintf(text, sizeof(text), "{\"plugins\": {\"%s\": {}}}", name);
	put(fx, "", text);
	load_fails_at(fx, "", 1, 14, "is not a valid plugin instance name");
	name[64] = '\0';
	snprintf(text, sizeof(text), "{\"plugins\": {\"%s\": {}}}", name);
	put(fx, "", text);
	assert_int_equal(load(fx), 0);
}

static void test_duplicate_key_one_object(void **state)
{
	struct fx *fx = *state;
	put(fx, "",
	    "{\n"
	    "  \"agent\": {\n"
	    "    \"az\": \"a\",\n"
	    "     \"az\": \"b\"\n"
	    "  }\n"
	    "}\n");
	assert_int_equal(load(fx), -EINVAL);
	expect_at(fx, "", 4, 6, "duplicate key 'az'", NULL);
	assert_non_null(strstr(fx->err, "first defined at"));
	assert_non_null(strstr(fx->err, ":3:5"));

	/* written differently, same key once decoded */
	put(fx, "", "{\"plugins\": {\"p\": {\"config\": {\"k\": 1, \"\\u006b\": 2}}}}");
	load_fails_at(fx, "", 1, 39, "duplicate key 'k'");
}

static void test_instance_in_two_files(void **state)
{
	struct fx *fx = *state;
	char first[256];
	put(fx, "", "{\n  \"plugins\": {\n    \"x\": { \"enabled\": true }\n  }\n}\n");
	put(fx, "conf.d/10-x.json", "{ \"plugins\": {\n\n  \"x\": {} } }");
	load_fails_at(fx, "conf.d/10-x.json", 3, 3, "plugin instance 'x' is already defined at");
	snprintf(first, sizeof(first), "%s:3:5", fx->main);
	assert_non_null(strstr(fx->err, first));
}

static void test_agent_key_in_two_files(void **state)
{
	struct fx *fx = *state;
	char first[256];
	put(fx, "", "{\n  \"agent\": { \"az\": \"a\", \"region\": \"r\" }\n}\n");
	/* other agent keys may be spread over files */
	put(fx, "conf.d/10-a.json", "{ \"agent\": { \"log_level\": \"warn\" } }");
	put(fx, "conf.d/20-b.json", "{ \"agent\": {\n \"region\": \"r2\" } }");
	load_fails_at(fx, "conf.d/20-b.json", 2, 2, "duplicate definition of agent key 'region'");
	snprintf(first, sizeof(first), "first defined at %s:2:25", fx->main);
	assert_non_null(strstr(fx->err, first));
}

static void test_invalid_json(void **state)
{
	struct fx *fx = *state;
	/* jansson's position: the end of the unexpected token */
	put(fx, "",
	    "{\n"
	    "  \"agent\": {\n"
	    "    \"az\": \"x\"\n"
	    "    \"region\": \"y\"\n"
	    "  }\n"
	    "}\n");
	load_fails_at(fx, "", 4, 12, "invalid JSON: '}' expected");

	put(fx, "", "");
	load_fails_at(fx, "", 1, 1, "invalid JSON");
}

static void test_dropin_not_object(void **state)
{
	struct fx *fx = *state;
	put(fx, "", "{}");
	put(fx, "conf.d/50-list.json", "\n   [1, 2]\n");
	load_fails_at(fx, "conf.d/50-list.json", 2, 4, "the top level must be an object, found array");
}

static void test_dropin_dir_problems(void **state)
{
	struct fx *fx = *state;
	char path[256];
	/* a directory named like a drop-in is not silently skipped */
	put(fx, "", "{}");
	snprintf(path, sizeof(path), "%s/conf.d/x.json", fx->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(load(fx), -EISDIR);
	assert_non_null(strstr(fx->err, "conf.d/x.json: "));
	assert_int_equal(rmdir(path), 0);

	/* nor is a FIFO, and reading one must not hang */
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(load(fx), -EIO);
	assert_non_null(strstr(fx->err, "conf.d/x.json: not a regular file"));
	assert_int_equal(unlink(path), 0);

	/* no conf.d at all is fine */
	snprintf(path, sizeof(path), "%s/conf.d", fx->dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(load(fx), 0);
}

static void test_validate_good(void **state)
{
	struct fx *fx = *state;
	json_t *r;
	assert_int_equal(validate_demo(fx,
				       "\"interval_ms\": 250, \"ratio\": 2, \"tags\": [\"a\", \"b\"], "
				       "\"extra\": {\"k\": [1]}, \"token\": \"t0k\"",
				       demo_schema),
			 0);
	r = fx->resolved;
	assert_non_null(r);
	assert_int_equal(json_object_size(r), 8);
	assert_string_equal(json_string_value(json_object_get(r, "listen")), "127.0.0.1:9105");
	assert_int_equal(json_integer_value(json_object_get(r, "interval_ms")), 250);
	/* an integer is a fine double */
	assert_true(json_number_value(json_object_get(r, "ratio")) == 2.0);
	assert_true(json_is_false(json_object_get(r, "verbose")));
	assert_int_equal(json_array_size(json_object_get(r, "tags")), 2);
	assert_string_equal(json_string_value(json_object_get(r, "token")), "t0k");
	/* declared, absent, no default */
	assert_true(json_is_null(json_object_get(r, "pin")));
	/* a copy: changing it leaves the config as written */
	assert_int_equal(json_object_set_new(json_object_get(r, "extra"), "new", json_true()), 0);
	assert_null(json_object_get(json_object_get(config_find(fx->cfg, "demo")->config, "extra"), "new"));

	/* without a schema every key is unknown, and no key is fine */
	assert_int_equal(validate(fx, "demo", NULL), -EINVAL);
	assert_null(fx->resolved);
	put(fx, "", "{\"plugins\": {\"bare\": {}}}");
	assert_int_equal(load(fx), 0);
	assert_int_equal(validate(fx, "bare", NULL), 0);
	assert_int_equal(json_object_size(fx->resolved), 0);
}

static void test_validate_unknown_key(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(validate_demo(fx, "\"interval_ms\": 5,\n        \"lisen\": \"x\"", demo_schema), -EINVAL);
	assert_null(fx->resolved);
	expect_at(fx, "", 6, 9, "plugin 'demo' has no config key 'lisen'", "did you mean 'listen'?", NULL);

	/* nothing close: no suggestion */
	assert_int_equal(validate_demo(fx, "\"zzzzzz\": 1", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 9, "no config key 'zzzzzz'", NULL);
	assert_null(strstr(fx->err, "did you mean"));
}

static void test_validate_wrong_type(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(validate_demo(fx, "\"interval_ms\": \"5s\"", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 24, "config key 'interval_ms'", "expected int, found string", NULL);
	assert_int_equal(validate_demo(fx, "\"interval_ms\": 1.5", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 24, "expected int, found double", NULL);
	assert_int_equal(validate_demo(fx, "\"verbose\": 1", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 20, "expected bool, found int", NULL);
	assert_int_equal(validate_demo(fx, "\"listen\": null", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 19, "expected string, found null", NULL);
	assert_int_equal(validate_demo(fx, "\"extra\": \"{}\"", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 18, "expected object, found string", NULL);
	/* a bad list element is pointed at itself */
	assert_int_equal(validate_demo(fx, "\"tags\": [\"a\",\n          7]", demo_schema), -EINVAL);
	expect_at(fx, "", 6, 11, "element 1: expected string, found int", NULL);
	assert_int_equal(validate_demo(fx, "\"tags\": \"a\"", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 17, "expected string list, found string", NULL);
}

static void test_validate_range(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(validate_demo(fx, "\"interval_ms\": 0", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 24, "0 is out of range [1, 60000]", NULL);
	assert_int_equal(validate_demo(fx, "\"interval_ms\": 60001", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 24, "60001 is out of range [1, 60000]", NULL);
	assert_int_equal(validate_demo(fx, "\"interval_ms\": 60000", demo_schema), 0);

	/* min > max: unbounded */
	static const struct zt_config_field any[] = { { "n", ZT_CFG_INT, 0, "0", "", 1, 0 }, ZT_CFG_END };
	assert_int_equal(validate_demo(fx, "\"n\": -9223372036854775807", any), 0);
}

static void test_validate_required(void **state)
{
	struct fx *fx = *state;
	static const struct zt_config_field req[] = {
		{ "opt", ZT_CFG_INT, 0, "1", "", 0, -1 },
		{ "endpoint", ZT_CFG_STRING, ZT_CFG_F_REQUIRED, NULL, "", 0, -1 },
		ZT_CFG_END,
	};
	assert_int_equal(validate_demo(fx, "\"opt\": 2", req), -EINVAL);
	/* where the instance is named */
	expect_at(fx, "", 3, 5, "instance 'demo' (plugin 'demo'): missing required config key 'endpoint'", NULL);
	assert_int_equal(validate_demo(fx, "\"endpoint\": \"x\"", req), 0);
	assert_int_equal(json_integer_value(json_object_get(fx->resolved, "opt")), 1);
}

static void test_validate_bad_default(void **state)
{
	struct fx *fx = *state;
	static const struct zt_config_field wrong_type[] = { { "n", ZT_CFG_INT, 0, "\"ten\"", "", 0, -1 },
							     ZT_CFG_END };
	static const struct zt_config_field unparsable[] = { { "s", ZT_CFG_STRING, 0, "abc", "", 0, -1 },
							     ZT_CFG_END };
	static const struct zt_config_field bad_elem[] = { { "l", ZT_CFG_STRING_LIST, 0, "[\"a\", 1]", "", 0, -1 },
							   ZT_CFG_END };
	static const struct zt_config_field out_of_range[] = { { "n", ZT_CFG_INT, 0, "0", "", 1, 5 }, ZT_CFG_END };

	/* reported even when the key is configured: the plugin is broken */
	assert_int_equal(validate_demo(fx, "\"n\": 1", wrong_type), -EINVAL);
	assert_string_equal(fx->err, "plugin 'demo': default of 'n' is not a valid int");
	assert_null(fx->resolved);
	assert_int_equal(validate_demo(fx, "", unparsable), -EINVAL);
	assert_string_equal(fx->err, "plugin 'demo': default of 's' is not a valid string");
	assert_int_equal(validate_demo(fx, "", bad_elem), -EINVAL);
	assert_string_equal(fx->err, "plugin 'demo': default of 'l' is not a valid string list");
	assert_int_equal(validate_demo(fx, "", out_of_range), -EINVAL);
	assert_string_equal(fx->err, "plugin 'demo': default of 'n' is out of range [1, 5]");
}

static void test_secrets_hidden(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(validate_demo(fx, "\"pin\": 123456789", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 16, "value hidden", "[1000, 9999]", NULL);
	assert_null(strstr(fx->err, "123456789"));
	assert_int_equal(validate_demo(fx, "\"token\": [\"hunter2\"]", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 18, "expected string, found array", NULL);
	assert_null(strstr(fx->err, "hunter2"));

	/* a syntax error near a secret: jansson would quote it */
	put(fx, "", "{\"plugins\": {\"demo\": {\"config\": {\"token\": \"hunter2\n\"}}}}");
	assert_int_equal(load(fx), -EINVAL);
	assert_null(strstr(fx->err, "hunter2"));
	expect_at(fx, "", 1, 50, "invalid JSON", NULL);
}

static void test_escapes_keep_positions(void **state)
{
	struct fx *fx = *state;
	/* escapes and a two-byte character before the offending key: columns
	 * count characters as written */
	put(fx, "", "{\"agent\": {\"az\": \"a\\\"b\\\\c\\u00e9\\/é\", \"bogus\": 1}}");
	/* {"agent": {"az": "a\"b\\c\u00e9\/é", "bogus": 1}} */
	load_fails_at(fx, "", 1, 38, "unknown agent key 'bogus'");

	/* escaped keys: "list\u0065n" is "listen"; "a/b~c" needs pointer escaping */
	assert_int_equal(validate_demo(fx, "\"list\\u0065n\": \"x\", \"\\ud83d\\ude00\": 1", demo_schema), -EINVAL);
	expect_at(fx, "", 5, 29, "no config key '\xf0\x9f\x98\x80'", NULL);
	assert_int_equal(validate_demo(fx, "\"tags\": [\"}\\\"{\"], \"a/b~c\": {\"x\": \"\\\"\"}", demo_schema),
			 -EINVAL);
	expect_at(fx, "", 5, 27, "no config key 'a/b~c'", NULL);
}

static void test_canonical_config(void **state)
{
	struct fx *fx = *state;
	const struct cfg_instance *a, *b;
	put(fx, "",
	    "{\"plugins\": {\n"
	    "  \"a\": {\"config\": {\"b\": {\"y\": [1, 2], \"x\": true}, \"a\": 1}},\n"
	    "  \"b\": {\"config\": {\"a\": 1, \"b\": {\"x\": true, \"y\": [1, 2]}}},\n"
	    "  \"c\": {\"config\": {\"a\": 1, \"b\": {\"x\": true, \"y\": [2, 1]}}}\n"
	    "}}");
	assert_int_equal(load(fx), 0);
	a = config_find(fx->cfg, "a");
	b = config_find(fx->cfg, "b");
	assert_string_equal(a->config_canon, "{\"a\":1,\"b\":{\"x\":true,\"y\":[1,2]}}");
	assert_string_equal(a->config_canon, b->config_canon);
	/* array order is meaning, not layout */
	assert_string_not_equal(a->config_canon, config_find(fx->cfg, "c")->config_canon);
}

static void test_jsonpos(void **state)
{
	static const char text[] = "{\"a\": [10, {\"b~/\": \"\\u00e9\"}],\n \"\\ud83d\\ude00\": null}";
	struct jsonpos *jp = NULL;
	const struct jsonpos_ent *e, *f;

	assert_int_equal(jsonpos_build(text, strlen(text), &jp), 0);
	e = jsonpos_find(jp, "/a/1/b~0~1");
	assert_non_null(e);
	assert_int_equal(e->key_line, 1);
	assert_int_equal(e->key_col, 13);
	assert_int_equal(e->val_col, 20);
	e = jsonpos_findv(jp, "a", "1", "b~/", NULL);
	assert_non_null(e);
	assert_int_equal(e->val_col, 20);
	e = jsonpos_find(jp, "/a/0");
	assert_non_null(e);
	assert_int_equal(e->key_line, 0);
	assert_int_equal(e->val_col, 8);
	e = jsonpos_findv(jp, "\xf0\x9f\x98\x80", NULL);
	assert_non_null(e);
	assert_int_equal(e->key_line, 2);
	assert_int_equal(e->key_col, 2);
	assert_int_equal(jsonpos_duplicate(jp, &e, &f), 0);
	assert_null(jsonpos_find(jp, "/a/2"));
	jsonpos_free(jp);

	/* as deep as jansson goes, and no deeper */
	{
		char deep[2 * 2049 + 1];
		memset(deep, '[', 2049);
		memset(deep + 2049, ']', 2049);
		deep[2 * 2049] = '\0';
		assert_int_equal(jsonpos_build(deep + 1, 2 * 2048, &jp), 0);
		assert_int_equal(jp->n, 2048);
		jsonpos_free(jp);
		jp = NULL;
		assert_int_equal(jsonpos_build(deep, 2 * 2049, &jp), -EINVAL);
		assert_null(jp);
	}

	/* not JSON */
	jp = NULL;
	assert_int_equal(jsonpos_build("{\"a\" 1}", 7, &jp), -EINVAL);
	assert_null(jp);
	assert_int_equal(jsonpos_build("{\"a\": \"x", 8, &jp), -EINVAL);
	assert_int_equal(jsonpos_build("{\"a\": 1} x", 10, &jp), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_and_dropins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_main, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_agent_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_agent_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_instance_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_instance_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_instance_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key_one_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_in_two_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_key_in_two_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropin_not_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropin_dir_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_bad_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_hidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapes_keep_positions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canonical_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonpos, setup, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
