// SPDX-License-Identifier: Apache-2.0
/*
 * zt-burn PERCENT: uses PERCENT % of one core and nothing else (busy for
 * that share of every millisecond, asleep for the rest), until SIGINT or
 * SIGTERM. bench/lib.sh runs it beside a benchmark (BENCH_MODES with
 * burnPCT modes) to measure what any process with the agent's CPU use
 * costs the benchmark on this machine, apart from where the agent
 * spends it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const long long period = 1000000; /* 1 ms */
	char *end;
	double pct = argc == 2 ? strtod(argv[1], &end) : -1;

	if (argc != 2 || *end || !(pct > 0 && pct <= 100)) {
		fprintf(stderr, "usage: zt-burn PERCENT (0 < PERCENT <= 100)\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	long long busy = (long long)(pct / 100 * (double)period), next = now_ns();
	printf("burning %.1f %%\n", pct);
	fflush(stdout);
	while (!stop) {
		long long t0 = now_ns();
		while (now_ns() - t0 < busy)
			;
		next += period;
		if (next > now_ns()) {
			struct timespec ts = { next / 1000000000ll, next % 1000000000ll };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		} else {
			next = now_ns(); /* behind (preempted): no catching up */
		}
	}
	return 0;
}
