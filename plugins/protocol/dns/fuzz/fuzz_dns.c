/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the DNS plugin through the mock host, i.e. through the
 * core's own stream driver and pairing (core/l7_stream.c, core/l7_pair.c),
 * plus the wire parser alone. Input layout (fuzz/README.md):
 *
 *   byte 0   mode: bit 0 TCP, bit 1 role server, bit 2 unconnected UDP
 *            (datagrams carry a peer), bits 3-4 capture (1024, 16, 64,
 *            300), bit 5 run detect() on each message first, bit 6 small
 *            caps (2 domains, 4 ip_to_fqdn pairs), bit 7 server port 5353
 *            (not a DNS port) with detect_any_port
 *   then ops: byte op: bit 0 direction, bits 1-2 kind (0 message, 1 lose
 *            bytes, 2 expire, 3 timers), bits 3-4 peer index;
 *            a message is followed by a 2-byte little-endian length and
 *            that many bytes (cut at the input's end).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns_wire.h"
#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_dns(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t captures[4] = { 0, 16, 64, 300 };

static void wire_only(const uint8_t *d, size_t n)
{
	struct dns_msg m;
	size_t end;
	char text[64];

	(void)dns_parse(d, n, n, DNS_PARSE_ANSWERS, &m);
	(void)dns_parse(d, n / 2, n, DNS_PARSE_ANSWERS, &m);
	(void)dns_validate_full(d, n);
	if (n > DNS_HEADER_LEN)
		(void)dns_name(d, n, n, DNS_HEADER_LEN, &end, text, sizeof(text), NULL, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mock_plugin *p = NULL;
	struct mock_conn *c = NULL;
	struct zt_conn_info ci;
	uint8_t mode;
	uint64_t ts = 1000000000ull;
	size_t pos = 1;

	if (!size)
		return 0;
	wire_only(data + 1, size - 1);
	mode = data[0];
	static const char *const configs[4] = {
		NULL,
		"{\"max_domains_per_container\":2,\"ip_to_fqdn_max_entries\":4}",
		"{\"detect_any_port\":true}",
		"{\"max_domains_per_container\":2,\"ip_to_fqdn_max_entries\":4,\"detect_any_port\":true}",
	};
	if (mock_plugin_start(zt_builtin_entry_dns, NULL, configs[mode >> 6], &p))
		return 0;
	ci = mock_conn_info((mode & 2) ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT, (mode & 0x80) ? 5353 : 53);
	ci.transport = (mode & 1) ? ZT_TRANSPORT_TCP : ZT_TRANSPORT_UDP;
	if ((mode & 4) && !(mode & 1)) { /* an unconnected socket: no remote address */
		memset(ci.remote_addr, 0, 16);
		ci.remote_port = 0;
	}
	if (mock_conn_open(p, &ci, &c))
		goto out;
	while (pos < size) {
		uint8_t op = data[pos++];
		uint32_t dir = op & 1;
		uint32_t kind = (op >> 1) & 3;
		uint8_t peer[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = (uint8_t)(2 + ((op >> 3) & 3)) };
		size_t len;

		ts += 1000000ull * (1 + (op >> 5));
		if (kind == 1) {
			mock_conn_lose(c, dir, 1 + (op >> 3));
			continue;
		}
		if (kind == 2) {
			mock_conn_expire(c, ts + ((op & 0x80) ? 20000000000ull : 0));
			continue;
		}
		if (kind == 3) {
			mock_set_clock(ts + ((op & 0x80) ? 7200000000000ull : 0), ts);
			mock_fire_timers();
			continue;
		}
		if (pos + 2 > size)
			break;
		len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (mode & 0x20)
			(void)mock_detect(p, &ci, dir, data + pos, len);
		if ((mode & 4) && !(mode & 1))
			mock_conn_datagram(c, dir, data + pos, len, captures[(mode >> 3) & 3], 4, (uint16_t)(53 + ((op >> 3) & 3)),
					   peer, ts);
		else
			mock_conn_message_cap(c, dir, data + pos, len, captures[(mode >> 3) & 3], ts);
		pos += len;
	}
	mock_conn_expire(c, ts + 3600000000000ull);
	mock_conn_close(c);
out:
	mock_plugin_stop(p);
	mock_reset();
	return 0;
}
