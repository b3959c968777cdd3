/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint32_t cur_level = 2;
static const char *const names[] = { "error", "warn", "info", "debug" };

void log_set_level(uint32_t level)
{
	cur_level = level > 3 ? 3 : level;
}

int log_level_parse(const char *s, uint32_t *out)
{
	for (uint32_t i = 0; i < 4; i++)
		if (s && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return -1;
}

void log_vmsg(uint32_t level, const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048];
	struct timespec ts;
	struct tm tm;
	int n;
	if (level > cur_level)
		return;
	if (level > 3)
		level = 3;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s%s%s", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level],
		     prefix ? "[" : "", prefix ? prefix : "", prefix ? "] " : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	n = m < 0 ? n : (size_t)(n + m) >= sizeof(buf) - 1 ? (int)sizeof(buf) - 2 : n + m;
	buf[n++] = '\n';
	/* one write(2) so that lines from several threads never interleave */
	if (write(STDERR_FILENO, buf, n) < 0) {
	}
}

void log_msg(uint32_t level, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, prefix, fmt, ap);
	va_end(ap);
}
