/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ABI loader against real shared objects (tests/abi fixtures): the good
 * plugin runs; each defective one is refused with a precise reason while
 * the others keep running. Needs root (file ownership checks).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"
#include "config.h"
#include "entities.h"
#include "loop.h"
#include "plugin_host.h"
#include "registry.h"

static char dir[256];

static void copy(const char *from, const char *to, mode_t mode, uid_t uid)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'", to, from, to);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(to, mode), 0);
	assert_int_equal(chown(to, uid, 0), 0);
}

static struct zt_instance *find(struct agent *a, const char *name)
{
	for (struct zt_instance *in = a->instances; in; in = in->next)
		if (!strcmp(in->name, name))
			return in;
	fail_msg("instance %s not found", name);
	return NULL;
}

static void expect_failed(struct agent *a, const char *name, const char *reason_part)
{
	struct zt_instance *in = find(a, name);
	if (in->status != INST_FAILED || !strstr(in->reason, reason_part))
		fail_msg("instance %s: status %d reason '%s', expected failure with '%s'", name, in->status, in->reason,
			 reason_part);
}

static void test_fixtures(void **state)
{
	const char *fx = getenv("ZT_ABI_FIXTURE_DIR");
	char src[512], dst[512], cfgpath[512], err[1024];
	struct agent a = { 0 };
	FILE *f;
	assert_non_null(fx);
	snprintf(dir, sizeof(dir), "/tmp/zt-loader-XXXXXX");
	assert_non_null(mkdtemp(dir));
	static const char *const names[] = { "good", "bad_magic", "other_major", "newer_minor", "missing_fini", "liar" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(src, sizeof(src), "%s/%s.so", fx, names[i]);
		snprintf(dst, sizeof(dst), "%s/plugins/%s.so", dir, names[i]);
		copy(src, dst, 0644, 0);
	}
	snprintf(src, sizeof(src), "%s/dup_good.so", fx);
	snprintf(dst, sizeof(dst), "%s/dup/good.so", dir);
	copy(src, dst, 0644, 0);
	snprintf(src, sizeof(src), "%s/good.so", fx);
	snprintf(dst, sizeof(dst), "%s/writable/good.so", dir);
	copy(src, dst, 0666, 0);
	snprintf(dst, sizeof(dst), "%s/notroot/good.so", dir);
	copy(src, dst, 0644, 65534);

	snprintf(cfgpath, sizeof(cfgpath), "%s/zerotap.json", dir);
	f = fopen(cfgpath, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"agent\": {\"plugin_dir\": \"%s/plugins\"},\n"
		" \"plugins\": {\n"
		"  \"good\": {\"enabled\": true},\n"
		"  \"bad_magic\": {\"enabled\": true},\n"
		"  \"other_major\": {\"enabled\": true},\n"
		"  \"newer_minor\": {\"enabled\": true},\n"
		"  \"missing_fini\": {\"enabled\": true},\n"
		"  \"liar\": {\"enabled\": true},\n"
		"  \"missing\": {\"enabled\": true},\n"
		"  \"dup\": {\"enabled\": true, \"plugin\": \"good\", \"path\": \"%s/dup/good.so\"},\n"
		"  \"writable\": {\"enabled\": true, \"plugin\": \"good\", \"path\": \"%s/writable/good.so\"},\n"
		"  \"notroot\": {\"enabled\": true, \"plugin\": \"good\", \"path\": \"%s/notroot/good.so\"},\n"
		"  \"second_good\": {\"enabled\": true, \"plugin\": \"good\"},\n"
		"  \"off\": {\"enabled\": false, \"plugin\": \"bad_magic\"}\n"
		" }}\n",
		dir, dir, dir, dir);
	fclose(f);

	assert_int_equal(config_load(cfgpath, &a.cfg, err, sizeof(err)), 0);
	g_agent = &a;
	assert_int_equal(registry_new(1000, &a.reg), 0);
	assert_int_equal(entities_new(&a.ents), 0);
	assert_int_equal(loop_new(&a.loop), 0);

	/* nothing is required, so the agent carries on whatever fails */
	assert_int_equal(plugins_start(&a), 0);
	assert_int_equal(find(&a, "good")->status, INST_RUNNING);
	/* two instances of one plugin share the module */
	assert_int_equal(find(&a, "second_good")->status, INST_RUNNING);
	assert_ptr_equal(find(&a, "good")->mod, find(&a, "second_good")->mod);
	expect_failed(&a, "bad_magic", "bad descriptor magic 0xdeadbeef");
	expect_failed(&a, "other_major", "built for ABI major 2");
	expect_failed(&a, "newer_minor", "newer than this agent's");
	expect_failed(&a, "missing_fini", "discovery 'missing_fini': required callback 'fini' missing");
	expect_failed(&a, "liar", "file declares plugin 'someone_else', but 'liar' was asked for");
	expect_failed(&a, "missing", "No such file or directory");
	expect_failed(&a, "dup", "plugin 'good' is already loaded from");
	expect_failed(&a, "writable", "writable by group or others (mode 0666)");
	expect_failed(&a, "notroot", "owned by uid 65534");
	for (struct zt_instance *in = a.instances; in; in = in->next)
		assert_string_not_equal(in->name, "off");

	/* the good plugin did its work through the host table */
	zt_metric *m = registry_find(a.reg, "zerotap_fixture_up");
	double v = 0;
	assert_non_null(m);
	assert_int_equal(registry_get(m, &(struct zt_str){ "good", 4 }, &v, NULL), 0);
	assert_true(v == 1);

	/* --list-plugins names every failure with its reason */
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(plugins_list(&a, out), 0);
	fclose(out);
	assert_non_null(strstr(buf, "bad descriptor magic"));
	assert_non_null(strstr(buf, "required callback 'fini' missing"));
	assert_non_null(strstr(buf, "off            bad_magic      disabled"));
	free(buf);

	plugins_stop_all(&a);
	plugins_free_modules(&a);
	loop_free(a.loop);
	entities_free(a.ents);
	registry_free(a.reg);
	config_free(a.cfg);
	snprintf(src, sizeof(src), "rm -rf '%s'", dir);
	assert_int_equal(system(src), 0);
}

static void test_adopt_sizes(void **state)
{
	/* a descriptor from a newer build with unknown non-zero trailing bytes */
	struct {
		struct zt_plugin_desc d;
		uint64_t extra;
	} big = { 0 };
	static const struct zt_discovery_ops ops = { .hdr = ZT_OPS_HEADER(struct zt_discovery_ops, ZT_KIND_DISCOVERY) };
	struct plugin_module mod = { 0 };
	big.d.magic = ZT_PLUGIN_MAGIC;
	big.d.struct_size = sizeof(big);
	big.d.abi_major = ZT_ABI_MAJOR;
	big.d.kind = ZT_KIND_DISCOVERY;
	big.d.name = "x";
	big.d.ops = &ops.hdr;
	big.extra = 1;
	assert_int_equal(plugin_module_adopt(&mod, &big.d, "x"), -EINVAL);
	assert_non_null(strstr(mod.reason, "unknown non-zero fields"));
	/* zero trailing bytes are fine; then the missing init is named */
	big.extra = 0;
	memset(&mod, 0, sizeof(mod));
	assert_int_equal(plugin_module_adopt(&mod, &big.d, "x"), -EINVAL);
	assert_non_null(strstr(mod.reason, "required callback 'init' missing"));
	/* a descriptor too small to hold the ops pointer */
	big.d.struct_size = 8;
	free(mod.name);
	memset(&mod, 0, sizeof(mod));
	assert_int_equal(plugin_module_adopt(&mod, &big.d, "x"), -EINVAL);
	assert_non_null(strstr(mod.reason, "smaller than the minimum"));
	free(mod.name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_adopt_sizes),
	};
	if (geteuid() != 0) {
		printf("test_loader needs root for its ownership checks\n");
		return 77;
	}
	return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
