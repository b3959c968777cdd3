// SPDX-License-Identifier: Apache-2.0
#include "l7_rules.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

uint32_t l7_capture_bytes(uint32_t c)
{
	if (!c)
		return 1024;
	return c > ZT_L7_CAP_MAX ? ZT_L7_CAP_MAX : c;
}

int l7_rule_compile(const struct zt_detect_rule *in, uint16_t proto, uint32_t capture, uint32_t plugin_transports,
		    struct zt_l7_rule *out, char *err, size_t errlen)
{
	struct zt_detect_rule r = { 0 };
	int nomask = 1;

	if (!in || in->struct_size < offsetof(struct zt_detect_rule, mask)) {
		snprintf(err, errlen, "rule struct_size %u too small", in ? in->struct_size : 0);
		return -EINVAL;
	}
	memcpy(&r, in, in->struct_size < sizeof(r) ? in->struct_size : sizeof(r));
	if (r.verdict != ZT_RULE_CLAIM && r.verdict != ZT_RULE_ASK) {
		snprintf(err, errlen, "rule verdict %u is neither ZT_RULE_CLAIM nor ZT_RULE_ASK", r.verdict);
		return -EINVAL;
	}
	if (r.direction > ZT_RULE_DIR_INGRESS) {
		snprintf(err, errlen, "rule direction %u unknown", r.direction);
		return -EINVAL;
	}
	if (r.len > ZT_RULE_PATTERN_MAX || (uint32_t)r.offset + r.len > ZT_RULE_WINDOW) {
		snprintf(err, errlen, "rule pattern at %u+%u does not fit the first %d bytes (at most %d compared)",
			 r.offset, r.len, ZT_RULE_WINDOW, ZT_RULE_PATTERN_MAX);
		return -EINVAL;
	}
	if (!r.transports)
		r.transports = plugin_transports;
	if (r.transports & ~(ZT_TRANSPORT_TCP | ZT_TRANSPORT_UDP) || !r.transports) {
		snprintf(err, errlen, "rule transports 0x%x unknown", r.transports);
		return -EINVAL;
	}
	if (r.max_len && r.max_len < r.min_len) {
		snprintf(err, errlen, "rule max_len %u < min_len %u", r.max_len, r.min_len);
		return -EINVAL;
	}
	if (!r.len && !r.port && !r.min_len && !r.max_len) {
		snprintf(err, errlen, "rule matches everything (no pattern, port or length)");
		return -EINVAL;
	}
	for (int i = 0; i < ZT_RULE_PATTERN_MAX; i++)
		if (r.mask[i])
			nomask = 0;

	memset(out, 0, sizeof(*out));
	/* The kernel compares 16 bytes at offset <= 48: shift later patterns. */
	uint16_t base = r.offset > ZT_L7_WINDOW - ZT_L7_PATTERN ? ZT_L7_WINDOW - ZT_L7_PATTERN : r.offset;
	uint16_t shift = r.offset - base;
	for (int i = 0; i < r.len; i++) {
		uint8_t m = nomask ? 0xff : r.mask[i];
		out->mask[shift + i] = m;
		out->pattern[shift + i] = r.pattern[i] & m;
	}
	out->offset = base;
	out->len = r.len ? (uint16_t)(shift + r.len) : 0;
	out->port = r.port;
	out->direction = (uint8_t)r.direction;
	out->transports = (uint8_t)r.transports;
	out->min_len = r.min_len;
	out->max_len = r.max_len;
	out->proto = proto;
	out->verdict = (uint16_t)r.verdict;
	out->capture = l7_capture_bytes(capture);
	return 0;
}
