// SPDX-License-Identifier: Apache-2.0
/*
 * zt-hooks: attach empty BPF programs to some of the hooks the agent uses,
 * the way it attaches them (BTF tracepoints), and hold them until SIGINT
 * or SIGTERM. The benchmarks' "hooks" mode: what observing through these
 * hooks costs before any program does any work, next to "off" and the
 * agent in the same run.
 *
 *   zt-hooks HOOK...    attach, print "attached N", wait for a signal
 *   zt-hooks --list     the hooks it knows
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "hooks.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	struct hooks_bpf *skel;
	struct bpf_program *prog;
	struct bpf_link *links[16];
	int nlinks = 0, err;

	if (argc < 2) {
		fprintf(stderr, "usage: zt-hooks HOOK... | --list\n");
		return 2;
	}
	libbpf_set_print(quiet);
	skel = hooks_bpf__open();
	if (!skel) {
		fprintf(stderr, "zt-hooks: open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "--list")) {
		bpf_object__for_each_program(prog, skel->obj)
			printf("%s\n", bpf_program__name(prog));
		hooks_bpf__destroy(skel);
		return 0;
	}
	/* load only the programs named */
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	for (int i = 1; i < argc; i++) {
		prog = bpf_object__find_program_by_name(skel->obj, argv[i]);
		if (!prog) {
			fprintf(stderr, "zt-hooks: no hook '%s' (zt-hooks --list)\n", argv[i]);
			hooks_bpf__destroy(skel);
			return 2;
		}
		bpf_program__set_autoload(prog, true);
	}
	err = hooks_bpf__load(skel);
	if (err) {
		fprintf(stderr, "zt-hooks: load: %s\n", strerror(-err));
		hooks_bpf__destroy(skel);
		return 1;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l) {
			fprintf(stderr, "zt-hooks: attach %s: %s\n", bpf_program__name(prog), strerror(errno));
			for (int i = 0; i < nlinks; i++)
				bpf_link__destroy(links[i]);
			hooks_bpf__destroy(skel);
			return 1;
		}
		if (nlinks < (int)(sizeof(links) / sizeof(links[0])))
			links[nlinks++] = l;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %d\n", nlinks);
	fflush(stdout);
	while (!stop)
		pause();
	for (int i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	hooks_bpf__destroy(skel);
	return 0;
}
