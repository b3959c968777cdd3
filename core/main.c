/* SPDX-License-Identifier: Apache-2.0 */
/* zerotap: command line, start-up, signals and shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "entities.h"
#include "kfeatures.h"
#include "l7.h"
#include "log.h"
#include "loop.h"
#include "plugin_host.h"
#include "registry.h"
#include "selfmetrics.h"

#ifndef ZT_DEFAULT_CONFIG
#define ZT_DEFAULT_CONFIG "/etc/zerotap/zerotap.json"
#endif
#ifndef ZT_VERSION
#define ZT_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: zerotap [options]\n"
		"  -c, --config FILE         main config file (default " ZT_DEFAULT_CONFIG ");\n"
		"                            drop-ins are read from conf.d/ next to it\n"
		"      --check-config        validate the config and every enabled plugin's section, load no BPF\n"
		"      --list-plugins        list built-in and installed plugins and configured instances, with reasons\n"
		"      --describe-plugin N   show plugin N's metadata and config schema\n"
		"      --log-level L         error|warn|info|debug (overrides the config)\n"
		"  -V, --version             print the version\n"
		"  -h, --help                this text\n");
}

static void read_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\r\n")] = 0;
	fclose(f);
}

static int node_identity(struct agent *a)
{
	static const char *const names[] = { "machine_id", "system_uuid" };
	const char *values[2];
	read_first_line("/etc/machine-id", a->machine_id, sizeof(a->machine_id));
	if (!a->machine_id[0])
		read_first_line("/var/lib/dbus/machine-id", a->machine_id, sizeof(a->machine_id));
	read_first_line("/sys/class/dmi/id/product_uuid", a->system_uuid, sizeof(a->system_uuid));
	for (char *p = a->system_uuid; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	if (gethostname(a->hostname, sizeof(a->hostname) - 1))
		snprintf(a->hostname, sizeof(a->hostname), "unknown");
	snprintf(a->az, sizeof(a->az), "%s", a->cfg->az);
	snprintf(a->region, sizeof(a->region), "%s", a->cfg->region);
	values[0] = a->machine_id;
	values[1] = a->system_uuid;
	return registry_set_const_labels(a->reg, names, values, 2);
}

/*
 * Validates every enabled instance of cfg against its plugin's schema and
 * reports each problem through `report`. With strict_load, a plugin that
 * cannot be loaded is a problem too (--check-config); a reload only refuses
 * configs that are wrong, and lets an unloadable plugin fail as at start-up.
 */
static int validate_instances(struct agent *a, const struct zt_config *cfg, int strict_load,
			      void (*report)(const char *msg))
{
	int bad = 0;
	for (size_t i = 0; i < cfg->n_inst; i++) {
		const struct cfg_instance *ci = &cfg->inst[i];
		struct plugin_module *m;
		char err[1024];
		json_t *resolved = NULL;
		if (!ci->enabled)
			continue;
		if (plugin_module_get(a, ci->plugin, ci->path, &m)) {
			if (strict_load) {
				snprintf(err, sizeof(err), "%s:%d:%d: instance '%s': %s", ci->loc.file, ci->loc.line,
					 ci->loc.col, ci->name, m ? m->reason : "cannot load");
				report(err);
				bad++;
			}
			continue;
		}
		if (config_validate_instance(cfg, ci, m->desc.config, &resolved, err, sizeof(err))) {
			report(err);
			bad++;
		}
		json_decref(resolved);
	}
	return bad ? -EINVAL : 0;
}

static void report_stderr(const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static void report_log(const char *msg)
{
	log_msg(ZT_LOG_ERROR, NULL, "SIGHUP: %s", msg);
}

struct signals {
	struct agent *a;
	int fd;
	int exit_code;
};

static void reload(struct agent *a)
{
	struct zt_config *cfg = NULL;
	char err[1024];
	int rc = config_load(a->config_path, &cfg, err, sizeof(err));
	if (rc) {
		log_msg(ZT_LOG_ERROR, NULL, "SIGHUP: config not reloaded, keeping the running one: %s", err);
		return;
	}
	/* All or nothing: a plugin section its schema refuses rejects the file. */
	if (validate_instances(a, cfg, 0, report_log)) {
		log_msg(ZT_LOG_ERROR, NULL, "SIGHUP: config not reloaded, keeping the running one");
		config_free(cfg);
		return;
	}
	uint32_t level;
	if (!log_level_parse(cfg->log_level, &level))
		log_set_level(level);
	registry_set_default_max_series(a->reg, (uint32_t)cfg->max_series_per_family);
	plugins_reload(a, cfg);
}

static void on_signal(void *arg, int fd, uint32_t events)
{
	struct signals *s = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_msg(ZT_LOG_INFO, NULL, "SIGHUP: reloading %s", s->a->config_path);
			reload(s->a);
		} else {
			log_msg(ZT_LOG_INFO, NULL, "%s: shutting down", strsignal((int)si.ssi_signo));
			loop_stop(s->a->loop);
		}
	}
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_LIST, OPT_DESCRIBE, OPT_LOGLEVEL };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "list-plugins", no_argument, NULL, OPT_LIST },
		{ "describe-plugin", required_argument, NULL, OPT_DESCRIBE },
		{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent agent = { .config_path = ZT_DEFAULT_CONFIG };
	struct agent *a = &agent;
	struct signals sig = { .a = a, .fd = -1 };
	const char *describe = NULL, *level_override = NULL;
	int mode_check = 0, mode_list = 0, c, rc = 1;
	char err[1024];
	uint32_t level;
	sigset_t mask;

	while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config_path = optarg;
			break;
		case OPT_CHECK:
			mode_check = 1;
			break;
		case OPT_LIST:
			mode_list = 1;
			break;
		case OPT_DESCRIBE:
			describe = optarg;
			break;
		case OPT_LOGLEVEL:
			level_override = optarg;
			break;
		case 'V':
			printf("zerotap %s (plugin ABI %d.%d)\n", ZT_VERSION, ZT_ABI_MAJOR, ZT_ABI_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zerotap: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	a->start_ns = loop_now_ns();
	g_agent = a;
	if (config_load(a->config_path, &a->cfg, err, sizeof(err))) {
		fprintf(stderr, "zerotap: %s\n", err);
		return 1;
	}
	if (log_level_parse(level_override ? level_override : a->cfg->log_level, &level)) {
		fprintf(stderr, "zerotap: bad log level '%s'\n", level_override);
		goto out;
	}
	log_set_level(level);
	if (registry_new((uint32_t)a->cfg->max_series_per_family, &a->reg) || entities_new(&a->ents) ||
	    loop_new(&a->loop) || node_identity(a)) {
		fprintf(stderr, "zerotap: out of memory at start-up\n");
		goto out;
	}

	if (describe) {
		rc = plugins_describe(a, describe, stdout) ? 1 : 0;
		goto out;
	}
	if (mode_list) {
		rc = plugins_list(a, stdout) ? 1 : 0;
		goto out;
	}
	if (mode_check) {
		rc = validate_instances(a, a->cfg, 1, report_stderr) ? 1 : 0;
		if (!rc)
			printf("%s: OK (%zu plugin instances)\n", a->config_path, a->cfg->n_inst);
		goto out;
	}

	/* Signals arrive through the loop, so handlers never race the dispatch. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig.fd < 0 || loop_fd_add(a->loop, &sig, sig.fd, ZT_FD_READ, on_signal, &sig)) {
		log_msg(ZT_LOG_ERROR, NULL, "signalfd: %s", strerror(errno));
		goto out;
	}

	log_msg(ZT_LOG_INFO, NULL, "zerotap %s starting, config %s, machine_id %s", ZT_VERSION, a->config_path,
		a->machine_id[0] ? a->machine_id : "(unknown)");
	/* Kernel side first: events queue in the rings while discovery scans
	 * /proc, so no process falls between the scan and the probes. */
	if (features_start(a, &a->features)) {
		log_msg(ZT_LOG_ERROR, NULL, "cannot set up kernel features");
		goto out;
	}
	if (selfmetrics_start(a)) {
		log_msg(ZT_LOG_ERROR, NULL, "cannot register self-metrics");
		goto out;
	}
	if (plugins_start(a)) {
		log_msg(ZT_LOG_ERROR, NULL, "a required plugin instance failed: exiting");
		goto out;
	}
	features_drain(a->features);
	selfmetrics_update(a);
	int total, up = features_up_count(a->features, &total);
	log_msg(ZT_LOG_INFO, NULL, "started in %.1f ms: %d/%d kernel features up, %zu processes, %zu containers",
		(loop_now_ns() - a->start_ns) / 1e6, up, total, entities_process_count(a->ents),
		entities_container_count(a->ents));

	rc = loop_run(a->loop) ? 1 : 0;
	log_msg(ZT_LOG_INFO, NULL, "stopped");
out:
	plugins_stop_all(a);
	l7_stop(a);
	features_stop(a->features);
	plugins_free_modules(a);
	if (sig.fd >= 0)
		close(sig.fd);
	loop_free(a->loop);
	entities_free(a->ents);
	registry_free(a->reg);
	config_free(a->cfg);
	return rc;
}
