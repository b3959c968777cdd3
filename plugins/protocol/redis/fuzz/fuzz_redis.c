/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the Redis plugin through the mock host, i.e. through
 * the core's own stream driver and pairing. Input layout:
 *
 *   byte 0   mode: bit 0 role server, bits 1-2 capture (4096, 16, 64, 300),
 *            bit 3 run detect() on each message first, bit 4 role unknown
 *   then ops: byte op: bit 0 direction, bits 1-2 kind (0 message, 1 lose
 *            bytes, 2 expire, 3 message), bits 3-7 lost bytes / time step;
 *            a message is followed by a 2-byte little-endian length and
 *            that many bytes (cut at the input's end).
 */
#include <stddef.h>
#include <stdint.h>

#include "mock_host.h"
#include "redis.h"

const struct zt_plugin_desc *zt_builtin_entry_redis(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t captures[4] = { 0, 16, 64, 300 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mock_plugin *p = NULL;
	struct mock_conn *c = NULL;
	struct zt_conn_info ci;
	uint64_t ts = 1000000000ull;
	size_t pos = 1;

	if (!size)
		return 0;
	uint8_t mode = data[0];
	if (mock_plugin_start(zt_builtin_entry_redis, NULL, NULL, &p))
		return 0;
	ci = mock_conn_info((mode & 1) ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT, 6379);
	if (mode & 0x10)
		ci.role = ZT_ROLE_UNKNOWN;
	if (mock_conn_open(p, &ci, &c))
		goto out;
	while (pos < size) {
		uint8_t op = data[pos++];
		uint32_t dir = op & 1, kind = (op >> 1) & 3;
		size_t len;

		ts += 1000ull * (1 + (op >> 3));
		if (kind == 1) {
			mock_conn_lose(c, dir, 1 + (op >> 3));
			continue;
		}
		if (kind == 2) {
			mock_conn_expire(c, ts + ((op & 0x80) ? 60000000000ull : 0));
			continue;
		}
		if (pos + 2 > size)
			break;
		len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (mode & 8)
			(void)mock_detect(p, &ci, dir, data + pos, len);
		mock_conn_message_cap(c, dir, data + pos, len, captures[(mode >> 1) & 3], ts);
		pos += len;
	}
	mock_conn_expire(c, ts + 3600000000000ull);
	mock_conn_close(c);
out:
	mock_plugin_stop(p);
	mock_reset();
	return 0;
}
