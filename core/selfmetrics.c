/* SPDX-License-Identifier: Apache-2.0 */
#include "selfmetrics.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "entities.h"
#include "kfeatures.h"
#include "loop.h"
#include "plugin_host.h"
#include "registry.h"

#ifndef ZT_VERSION
#define ZT_VERSION "0.0.0"
#endif

static zt_metric *m_info, *m_cpu, *m_rss, *m_plugin, *m_dropped, *m_procs, *m_conts, *m_start;

#define S(x) ((struct zt_str){ (x), strlen(x) })

static void on_overflow(void *ctx, const char *family, uint64_t n)
{
	registry_set(m_dropped, ZT_LV(S(family)), (double)n);
}

void selfmetrics_update(struct agent *a)
{
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f;

	if (!getrusage(RUSAGE_SELF, &ru))
		registry_set(m_cpu, NULL,
			     ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) == 2)
			registry_set(m_rss, NULL, (double)rss * sysconf(_SC_PAGESIZE));
		fclose(f);
	}
	/* The plugin series is rebuilt: a status change must not leave the old one behind. */
	registry_clear(m_plugin);
	for (struct zt_instance *in = a->instances; in; in = in->next) {
		const char *status = in->status == INST_RUNNING ? "running" : in->status == INST_FAILED ? "failed" : "stopped";
		const char *kind = in->mod && !in->mod->failed ? kind_name(in->mod->desc.kind) : "unknown";
		registry_set(m_plugin, ZT_LV(S(in->name), S(in->plugin), S(kind), S(status), S(in->reason)),
			     in->status == INST_RUNNING ? 1 : 0);
	}
	registry_set(m_procs, NULL, (double)entities_process_count(a->ents));
	registry_set(m_conts, NULL, (double)entities_container_count(a->ents));
	registry_foreach_overflowed(a->reg, on_overflow, NULL);
	features_update_metrics(a->features);
}

static void on_timer(void *arg)
{
	selfmetrics_update(arg);
}

int selfmetrics_start(struct agent *a)
{
	static const char *const l_version[] = { "version" };
	static const char *const l_plugin[] = { "instance", "plugin", "kind", "status", "reason" };
	static const char *const l_family[] = { "family" };
	const struct zt_metric_desc d[] = {
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "node_agent_info", "The agent's build (always 1).", l_version, 1 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_agent_cpu_seconds_total", "CPU time used by the agent (user + system).", NULL, 0 },
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_agent_resident_memory_bytes", "Resident set size of the agent.", NULL, 0 },
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_plugin_info", "Configured plugin instances: 1 running, 0 failed or stopped, with the reason.", l_plugin, 5 },
		{ sizeof(d[0]), ZT_METRIC_COUNTER, "zerotap_registry_series_dropped_total", "Updates sent to a family's overflow series because its cardinality cap was reached.", l_family, 1 },
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_entities_processes", "Processes in the entity table.", NULL, 0 },
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_entities_containers", "Containers in the entity table.", NULL, 0 },
		{ sizeof(d[0]), ZT_METRIC_GAUGE, "zerotap_agent_start_time_seconds", "When the agent started (Unix time).", NULL, 0 },
	};
	zt_metric **out[] = { &m_info, &m_cpu, &m_rss, &m_plugin, &m_dropped, &m_procs, &m_conts, &m_start };
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		int err = registry_register(a->reg, &d[i], out[i]);
		if (err)
			return err;
	}
	registry_set(m_info, ZT_LV(S(ZT_VERSION)), 1);
	registry_set(m_start, NULL, (double)time(NULL));
	selfmetrics_update(a);
	return loop_timer_add(a->loop, a, 2000000000ull, on_timer, a, NULL);
}
