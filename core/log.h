/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ZT_CORE_LOG_H
#define ZT_CORE_LOG_H
#include <stdarg.h>
#include <stdint.h>

/* Levels are ZT_LOG_* from the SDK. Lines go to stderr, one write each. */
void log_set_level(uint32_t level);
int log_level_parse(const char *s, uint32_t *out);
void log_msg(uint32_t level, const char *prefix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_vmsg(uint32_t level, const char *prefix, const char *fmt, va_list ap);

#define zt_err(...) log_msg(0, NULL, __VA_ARGS__)
#define zt_warn(...) log_msg(1, NULL, __VA_ARGS__)
#define zt_info(...) log_msg(2, NULL, __VA_ARGS__)
#define zt_debug(...) log_msg(3, NULL, __VA_ARGS__)
#endif
