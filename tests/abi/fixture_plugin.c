/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One source, many broken plugins: each -DVARIANT_* builds a .so with one
 * specific defect, so the loader's refusal and its reason can be checked.
 * FIXTURE_NAME is the plugin name the descriptor declares.
 */
#include <stdlib.h>
#include <zerotap/zerotap.h>

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "fixture"
#endif

static int fx_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	static const char *const labels[] = { "fixture" };
	struct zt_metric_desc d = { sizeof(d), ZT_METRIC_GAUGE, "zerotap_fixture_up", "Fixture plugin loaded.", labels, 1 };
	zt_metric *m;
	int err = host->metric_register(inst, &d, &m);
	if (err)
		return err;
	host->metric_set(m, &(struct zt_str){ FIXTURE_NAME, sizeof(FIXTURE_NAME) - 1 }, 1);
	*state = NULL;
	return 0;
}

static __attribute__((unused)) void fx_fini(void *state)
{
}

static const struct zt_discovery_ops fx_ops = {
	.hdr = {
		.magic = ZT_OPS_MAGIC,
		.struct_size = sizeof(struct zt_discovery_ops),
		.abi_major = ZT_ABI_MAJOR,
		.abi_minor = ZT_ABI_MINOR,
		.kind = ZT_KIND_DISCOVERY,
	},
	.init = fx_init,
#ifndef VARIANT_MISSING_FINI
	.fini = fx_fini,
#endif
};

static const struct zt_plugin_desc fx_desc = {
#ifdef VARIANT_BAD_MAGIC
	.magic = 0xdeadbeef,
#else
	.magic = ZT_PLUGIN_MAGIC,
#endif
	.struct_size = sizeof(struct zt_plugin_desc),
	.abi_major = ZT_ABI_MAJOR,
#ifdef VARIANT_NEWER_MINOR
	.abi_minor = ZT_ABI_MINOR + 1,
#else
	.abi_minor = ZT_ABI_MINOR,
#endif
	.kind = ZT_KIND_DISCOVERY,
	.name = FIXTURE_NAME,
	.version = "0.0.1",
	.license = "Apache-2.0",
	.description = "ABI test fixture",
	.config = NULL,
	.ops = &fx_ops.hdr,
};

#ifdef VARIANT_OTHER_MAJOR
ZT_EXPORT const struct zt_plugin_desc *zt_plugin_entry_v2(void);
ZT_EXPORT const struct zt_plugin_desc *zt_plugin_entry_v2(void)
#else
ZT_EXPORT const struct zt_plugin_desc *zt_plugin_entry_v1(void);
ZT_EXPORT const struct zt_plugin_desc *zt_plugin_entry_v1(void)
#endif
{
	return &fx_desc;
}
