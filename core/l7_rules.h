/* SPDX-License-Identifier: Apache-2.0 */
/* Detection rules: a plugin's struct zt_detect_rule checked and compiled
 * into the kernel's struct zt_l7_rule. Pure code, shared with the mock host. */
#ifndef ZT_CORE_L7_RULES_H
#define ZT_CORE_L7_RULES_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include <zerotap/protocol.h>

#include "../bpf/shared/l7_event.h"

/* 0, or -EINVAL with the reason in err. */
int l7_rule_compile(const struct zt_detect_rule *in, uint16_t proto, uint32_t capture, uint32_t plugin_transports,
		    struct zt_l7_rule *out, char *err, size_t errlen);
/* The protocol's capture size: capture_bytes with its default and bound. */
uint32_t l7_capture_bytes(uint32_t capture_bytes);

#endif
