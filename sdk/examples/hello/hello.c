/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal out-of-tree zerotap plugin: a discovery component that counts
 * ticks of a timer and process exec events, with one config key. It builds
 * against the installed SDK alone (see CMakeLists.txt and Makefile here).
 */
#include <errno.h>
#include <stdlib.h>
#include <zerotap/zerotap.h>

struct hello {
	const struct zt_host *host;
	zt_instance *inst;
	zt_metric *ticks;
	zt_metric *execs;
	struct zt_str greeting;
};

static const struct zt_config_field hello_config[] = {
	{ "interval_ms", ZT_CFG_INT, 0, "1000", "How often the tick counter advances.", 10, 3600000 },
	{ "greeting", ZT_CFG_STRING, 0, "\"hello\"", "Value of the `greeting` label.", 0, -1 },
	ZT_CFG_END,
};

static void on_tick(void *arg)
{
	struct hello *h = arg;
	h->host->metric_add(h->ticks, &h->greeting, 1);
}

static int hello_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	static const char *const labels[] = { "greeting" };
	struct zt_metric_desc d = { .struct_size = sizeof(d), .labels = labels, .label_count = 1 };
	struct hello *h;
	int64_t interval;
	int err;

	/* A newer SDK's plugin on an older agent checks before calling. */
	if (!ZT_HOST_HAS(host, timer_add))
		return -ENOTSUP;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->host = host;
	h->inst = inst;
	if ((err = host->config_int(inst, "interval_ms", &interval)) ||
	    (err = host->config_string(inst, "greeting", &h->greeting)))
		goto fail;
	d.type = ZT_METRIC_COUNTER;
	d.name = "zerotap_example_ticks_total";
	d.help = "Timer ticks counted by the example plugin.";
	if ((err = host->metric_register(inst, &d, &h->ticks)))
		goto fail;
	d.name = "zerotap_example_execs_total";
	d.help = "Process exec events seen by the example plugin.";
	if ((err = host->metric_register(inst, &d, &h->execs)))
		goto fail;
	if ((err = host->timer_add(inst, (uint64_t)interval * 1000000, on_tick, h, NULL)))
		goto fail;
	host->log(inst, ZT_LOG_INFO, "example plugin started, greeting '%.*s'", (int)h->greeting.len, h->greeting.ptr);
	*state = h;
	return 0;
fail:
	free(h);
	return err;
}

static void hello_fini(void *state)
{
	free(state);
}

static void hello_event(void *state, const struct zt_process_event *ev)
{
	struct hello *h = state;
	if (ev->type == ZT_PROC_EXEC)
		h->host->metric_add(h->execs, &h->greeting, 1);
}

static const struct zt_discovery_ops hello_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_discovery_ops, ZT_KIND_DISCOVERY),
	.init = hello_init,
	.fini = hello_fini,
	.on_process_event = hello_event,
};

ZT_PLUGIN_DEFINE(hello, ZT_KIND_DISCOVERY, "1.0.0", "Apache-2.0",
		 "Example plugin: counts timer ticks and process execs.", hello_config, &hello_ops);
