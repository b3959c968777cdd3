// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: arbitrary bytes, cut into messages of both
 * directions, through the HTTP plugin on the mock host (the core's own
 * stream and pairing code), plus detect() and the detection rules on every
 * message. Checks, beyond the sanitizers, that every frame stays within
 * what the ABI allows (bounded resource template, a 3-digit status label,
 * a known method).
 *
 * Input: one byte of settings (bit 0: the process is the server; bits
 * 1-2: capture 2048, 300, 64 or 16 bytes per message), then messages:
 *
 *   flags (1 byte: bit 0 ingress, bit 1 a loss of LOSS bytes comes first)
 *   [LOSS (2 bytes, little endian)]
 *   length (2 bytes, little endian; cut to what is left)
 *   bytes
 *
 * How to build and run it: ../README.md, "Fuzzing". Built by clang with
 * -fsanitize=fuzzer; replay.c runs the corpus without libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_http(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_http_cleanup(void);

static struct mock_plugin *plug;

static void check(int ok, const char *what, const struct mock_frame *f)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_http: %s (method \"%s\" resource \"%s\" status \"%s\")\n", what, f->method, f->resource,
		f->status_label);
	abort();
}

static int known_method(const char *m)
{
	for (uint32_t i = 0; i < M_COUNT; i++)
		if (!strcmp(m, http_method_name(i)))
			return 1;
	return 0;
}

static void check_frame(const struct mock_frame *f)
{
	check(f->type == ZT_FRAME_REQUEST || f->type == ZT_FRAME_RESPONSE, "frame type", f);
	check(f->pairing == ZT_PAIR_FIFO, "pairing", f);
	check(f->start_ns <= f->end_ns, "times", f);
	check(f->attr_count <= 8, "attribute count", f);
	if (f->type == ZT_FRAME_REQUEST) {
		size_t n = strlen(f->resource);
		check(known_method(f->method), "method", f);
		check(n <= HTTP_ROUTE_MAX, "resource length", f);
		check(!n || f->resource[0] == '/' || !strcmp(f->resource, "*"), "resource start", f);
		for (size_t i = 0; i < n; i++)
			check(f->resource[i] > 0x20 && f->resource[i] < 0x7f && f->resource[i] != '?' &&
				      f->resource[i] != '#',
			      "resource bytes", f);
		check(!f->status_label[0], "request with a status", f);
	} else {
		const char *s = f->status_label;
		check(strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
			      s[2] <= '9',
		      "status label", f);
		check(f->status == (s[0] == '5' ? ZT_STATUS_FAILED : ZT_STATUS_OK), "status", f);
		check(!f->method[0] && !f->resource[0], "response with a method", f);
	}
	for (uint32_t i = 0; i < f->attr_count; i++)
		for (const char *v = f->attr_value[i]; *v; v++)
			check(*v >= 0x20 && *v < 0x7f, "attribute bytes", f);
}

/* For replay.c: stop the plugin and free the mock host (libFuzzer never returns). */
void fuzz_http_cleanup(void)
{
	mock_plugin_stop(plug);
	plug = NULL;
	mock_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t captures[4] = { 0, 300, 64, 16 };
	struct mock_conn *c;

	if (!plug && mock_plugin_start(zt_builtin_entry_http, NULL, NULL, &plug))
		abort();
	if (!size)
		return 0;
	uint32_t role = data[0] & 1 ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT;
	size_t capture = captures[(data[0] >> 1) & 3];
	struct zt_conn_info ci = mock_conn_info(role, 80);
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
	mock_conn_close(c);
	for (size_t k = 0; k < mock_frame_count(); k++)
		check_frame(mock_frame_get(k));
	mock_frames_clear();
	return 0;
}
