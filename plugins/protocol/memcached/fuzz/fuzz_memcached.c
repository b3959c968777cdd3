// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: arbitrary bytes, cut into messages of both
 * directions, through the memcached plugin on the mock host (the core's
 * own stream and pairing code), plus detect() and the kernel rules on
 * every message. Checks, beyond the sanitizers, that every frame stays
 * within what the ABI allows and that no key leaks into a statement
 * (statements are built only from command names, "?", flag letters and
 * short lower-case words).
 *
 * Input: one byte of settings (bit 0: the process is the server; bits
 * 1-2: capture 2048, 300, 64 or 16 bytes per message), then messages:
 *
 *   flags (1 byte: bit 0 ingress, bit 1 a loss of LOSS bytes comes first)
 *   [LOSS (2 bytes, little endian)]
 *   length (2 bytes, little endian; cut to what is left)
 *   bytes
 *
 * How to build and run it: ../README.md, "Fuzzing". replay.c runs the
 * corpus without libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_memcached(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_memcached_cleanup(void);

static struct mock_plugin *plug;

static void check(int ok, const char *what, const struct mock_frame *f)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_memcached: %s (method \"%s\" statement \"%s\")\n", what, f->method, f->statement);
	abort();
}

static void check_frame(const struct mock_frame *f)
{
	check(f->type == ZT_FRAME_REQUEST || f->type == ZT_FRAME_RESPONSE || f->type == ZT_FRAME_ONEWAY, "frame type",
	      f);
	check(f->pairing == ZT_PAIR_ID, "pairing", f);
	check(f->start_ns <= f->end_ns, "times", f);
	check(f->attr_count <= 3, "attribute count", f);
	if (f->type == ZT_FRAME_RESPONSE) {
		check(f->status == ZT_STATUS_OK || f->status == ZT_STATUS_FAILED, "status", f);
		check(!f->method[0] && !f->statement[0], "response with a method", f);
		check(f->status == ZT_STATUS_FAILED || !f->error[0], "error without failure", f);
		return;
	}
	check(f->method[0] != 0, "request without a method", f);
	check(strlen(f->statement) <= 128, "statement length", f);
	for (const char *s = f->statement; *s; s++)
		check((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ' ' || *s == '?' ||
			      *s == '.',
		      "statement bytes", f);
	for (uint32_t i = 0; i < f->attr_count; i++)
		for (const char *v = f->attr_value[i]; *v; v++)
			check(*v >= 0x20 && *v < 0x7f, "attribute bytes", f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 2048, 300, 64, 16 };
	struct mock_conn *c;
	size_t pos = 1;
	uint64_t ts = 1000;

	if (!size)
		return 0;
	if (!plug && mock_plugin_start(zt_builtin_entry_memcached, NULL, NULL, &plug))
		abort();
	uint32_t role = (data[0] & 1) ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT;
	size_t cap = caps[(data[0] >> 1) & 3];
	struct zt_conn_info ci = mock_conn_info(role, 11211);
	if (mock_conn_open(plug, &ci, &c))
		abort();
	size_t first = mock_frame_count();
	while (pos < size) {
		uint8_t fl = data[pos++];
		uint32_t dir = (fl & 1) ? ZT_DIR_INGRESS : ZT_DIR_EGRESS;
		if (fl & 2) {
			if (pos + 2 > size)
				break;
			mock_conn_lose(c, dir, (uint64_t)data[pos] | (uint64_t)data[pos + 1] << 8);
			pos += 2;
		}
		if (pos + 2 > size)
			break;
		size_t n = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
		pos += 2;
		if (n > size - pos)
			n = size - pos;
		mock_detect(plug, &ci, dir, data + pos, n);
		mock_rules_match(plug, &ci, dir, data + pos, n);
		mock_conn_message_cap(c, dir, data + pos, n, cap, ts += 1000);
		pos += n;
	}
	mock_conn_expire(c, ts + 3600ull * 1000000000ull);
	mock_conn_close(c);
	for (size_t i = first; i < mock_frame_count(); i++)
		check_frame(mock_frame_get(i));
	if (mock_frame_count() > 100000)
		mock_frames_clear();
	return 0;
}

void fuzz_memcached_cleanup(void)
{
	if (plug)
		mock_plugin_stop(plug);
	plug = NULL;
	mock_reset();
}
