/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zerotap plugin ABI: versioning primitives shared by every component kind.
 *
 * Versioning policy (see docs/plugin-abi.md):
 *  - ZT_ABI_MAJOR changes only when an existing field or callback changes
 *    meaning or position. The entry symbol carries the major
 *    (zt_plugin_entry_v1), so a plugin built for another major is not even
 *    found by the loader of this one.
 *  - ZT_ABI_MINOR grows when a struct gains trailing members or the host
 *    table gains functions. The host accepts plugins with
 *    major == its own and minor <= its own.
 *  - Every extensible struct starts with its size; the receiver copies
 *    that many bytes into a zeroed struct of its own size. Members are only
 *    ever appended.
 *
 * Only ABI-safe types cross the boundary: fixed-width integers, size_t,
 * pointer+length strings (struct zt_str), nanosecond uint64_t times.
 * No enums by value, no bitfields, no bool.
 */
#ifndef ZEROTAP_ABI_H
#define ZEROTAP_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZT_ABI_MAJOR 1
#define ZT_ABI_MINOR 1

/* "ZTPL": first word of every plugin descriptor. */
#define ZT_PLUGIN_MAGIC 0x5a54504cu
/* "ZTOP": first word of every ops table. */
#define ZT_OPS_MAGIC 0x5a544f50u

/* Component kinds (uint32_t). */
#define ZT_KIND_PROTOCOL 1u
#define ZT_KIND_DISCOVERY 2u
#define ZT_KIND_EXPORTER 3u

/* Log levels (uint32_t). */
#define ZT_LOG_ERROR 0u
#define ZT_LOG_WARN 1u
#define ZT_LOG_INFO 2u
#define ZT_LOG_DEBUG 3u

/*
 * A borrowed string: ptr points at len bytes, not necessarily
 * NUL-terminated. Used for every runtime string that crosses the ABI.
 * Static metadata (names, help texts in descriptors) are plain
 * NUL-terminated C strings.
 */
struct zt_str {
	const char *ptr;
	size_t len;
};

#define ZT_STR(lit) ((struct zt_str){ (lit), sizeof(lit) - 1 })

/* Head of every ops table; filled by ZT_OPS_HEADER(). */
struct zt_ops_header {
	uint32_t magic;       /* ZT_OPS_MAGIC */
	uint32_t struct_size; /* sizeof the whole ops struct as the plugin knows it */
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t kind; /* ZT_KIND_* of the ops table */
};

#define ZT_OPS_HEADER(ops_type, k)                                            \
	{                                                                         \
		.magic = ZT_OPS_MAGIC, .struct_size = sizeof(ops_type),                \
		.abi_major = ZT_ABI_MAJOR, .abi_minor = ZT_ABI_MINOR, .kind = (k)     \
	}

#ifdef __cplusplus
}
#endif
#endif
