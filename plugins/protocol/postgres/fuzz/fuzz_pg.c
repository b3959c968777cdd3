// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: arbitrary bytes, cut into messages of both
 * directions, through the Postgres plugin on the mock host (the core's own
 * stream and pairing code), plus detect() and the detection rules on every
 * message. Checks, beyond the sanitizers, that every frame stays within
 * what the ABI and the plugin promise: FIFO requests and responses (and
 * the CANCEL event) only, a method of upper-case letters, statements of
 * printable ASCII within PG_STMT_MAX, no response the core could not pair.
 *
 * Input: one byte of settings (bit 0: the conn info says server, bit 1:
 * it says unknown; bits 2-3: capture 4096, 300, 64 or 16 bytes per
 * message), then messages:
 *
 *   flags (1 byte: bit 0 ingress, bit 1 a loss of LOSS bytes comes first)
 *   [LOSS (2 bytes, little endian)]
 *   length (2 bytes, little endian; cut to what is left)
 *   bytes
 *
 * make_corpus.py writes the golden captures in this form. Build and run:
 * ../README.md, "Fuzzing"; replay.c runs the corpus without libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_host.h"
#include "pg.h"

const struct zt_plugin_desc *zt_builtin_entry_postgres(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_pg_cleanup(void);

static struct mock_plugin *plug;

static void check(int ok, const char *what, const struct mock_frame *f)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_pg: %s (type %u method \"%s\" statement \"%s\")\n", what, f->type, f->method,
		f->statement);
	abort();
}

static void check_frame(const struct mock_frame *f)
{
	check(f->type == ZT_FRAME_REQUEST || f->type == ZT_FRAME_RESPONSE ||
		      (f->type == ZT_FRAME_EVENT && !strcmp(f->method, "CANCEL")),
	      "frame type", f);
	check(f->start_ns <= f->end_ns, "times", f);
	check(f->attr_count <= 6, "attribute count", f);
	check(strlen(f->statement) < PG_STMT_MAX, "statement length", f);
	for (const char *p = f->statement; *p; p++)
		check(*p >= 0x20 && *p < 0x7f, "statement bytes", f);
	for (const char *p = f->method; *p; p++)
		check(*p >= 'A' && *p <= 'Z', "method", f);
	if (f->type == ZT_FRAME_REQUEST)
		check(f->pairing == ZT_PAIR_FIFO && f->method[0], "request", f);
	if (f->type == ZT_FRAME_RESPONSE)
		check(f->pairing == ZT_PAIR_FIFO && !f->method[0] && f->status <= ZT_STATUS_FAILED, "response", f);
	for (uint32_t i = 0; i < f->attr_count; i++)
		for (const char *v = f->attr_value[i]; *v; v++)
			check(*v >= 0x20 && *v < 0x7f, "attribute bytes", f);
}

/* For replay.c: stop the plugin and free the mock host (libFuzzer never returns). */
void fuzz_pg_cleanup(void)
{
	mock_plugin_stop(plug);
	plug = NULL;
	mock_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t captures[4] = { 0, 300, 64, 16 };
	struct mock_conn *c;

	if (!plug && mock_plugin_start(zt_builtin_entry_postgres, NULL, "{\"max_prepared\": 8}", &plug))
		abort();
	if (!size)
		return 0;
	struct zt_conn_info ci = mock_conn_info(data[0] & 1 ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT, 5432);
	if (data[0] & 2)
		ci.role = ZT_ROLE_UNKNOWN;
	size_t capture = captures[(data[0] >> 2) & 3];
	if (mock_conn_open(plug, &ci, &c))
		abort();
	size_t i = 1;
	uint64_t ts = 1;
	while (i < size) {
		uint8_t fl = data[i++];
		uint32_t dir = fl & 1 ? ZT_DIR_INGRESS : ZT_DIR_EGRESS;
		if (fl & 2) {
			if (i + 2 > size)
				break;
			mock_conn_lose(c, dir, (uint64_t)data[i] | (uint64_t)data[i + 1] << 8);
			i += 2;
		}
		if (i + 2 > size)
			break;
		size_t n = (size_t)data[i] | (size_t)data[i + 1] << 8;
		i += 2;
		if (n > size - i)
			n = size - i;
		mock_detect(plug, &ci, dir, data + i, n);
		mock_rules_match(plug, &ci, dir, data + i, n);
		mock_conn_message_cap(c, dir, data + i, n, capture, ts++);
		i += n;
	}
	struct mock_l7_stats st = mock_conn_stats(c);
	mock_conn_close(c);
	if (st.unmatched_responses) {
		fprintf(stderr, "fuzz_pg: %llu responses to no request\n", (unsigned long long)st.unmatched_responses);
		abort();
	}
	for (size_t k = 0; k < mock_frame_count(); k++)
		check_frame(mock_frame_get(k));
	mock_frames_clear();
	return 0;
}
