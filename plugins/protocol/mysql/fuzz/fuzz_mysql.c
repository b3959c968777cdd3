// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: arbitrary bytes, cut into messages of both
 * directions, through the MySQL plugin on the mock host (the core's own
 * stream and pairing code), plus detect() and the detection rules on every
 * message. Checks, beyond the sanitizers, that every frame stays within
 * what the ABI allows: a known command, a bounded printable statement with
 * no quote left (sanitized), a short verb, a response error of the form
 * "ERR <code>[ (<state>)]" and nothing else.
 *
 * Input: one byte of settings (bit 0: the process is the server; bits
 * 1-2: capture 2048, 300, 64 or 16 bytes per message; bit 3: the server
 * port is the configured 3306), then messages:
 *
 *   flags (1 byte: bit 0 ingress, bit 1 a loss of LOSS bytes comes first,
 *          bit 2 the message is 16 MiB longer than its bytes)
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
#include "mysql.h"

const struct zt_plugin_desc *zt_builtin_entry_mysql(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_mysql_cleanup(void);

static struct mock_plugin *plug;

static void check(int ok, const char *what, const struct mock_frame *f)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_mysql: %s (type %u method \"%s\" statement \"%s\" error \"%s\")\n", what, f->type,
		f->method, f->statement, f->error);
	abort();
}

static const char *attr(const struct mock_frame *f, const char *k)
{
	for (uint32_t i = 0; i < f->attr_count; i++)
		if (!strcmp(f->attr_key[i], k))
			return f->attr_value[i];
	return NULL;
}

static void check_frame(const struct mock_frame *f)
{
	check(f->start_ns <= f->end_ns, "times", f);
	check(f->pairing == ZT_PAIR_FIFO, "pairing", f);
	check(f->attr_count <= 5, "attribute count", f);
	for (uint32_t i = 0; i < f->attr_count; i++)
		for (const char *v = f->attr_value[i]; *v; v++)
			check(*v >= 0x20 && *v < 0x7f, "attribute bytes", f);
	if (f->type == ZT_FRAME_REQUEST || f->type == ZT_FRAME_EVENT) {
		const char *cmd = attr(f, "db.mysql.command"), *sys = attr(f, "db.system");
		check(cmd && !strncmp(cmd, "COM_", 4), "command attribute", f);
		check(sys && (!strcmp(sys, "mysql") || !strcmp(sys, "mariadb")), "db.system", f);
		check(strlen(f->method) > 0 && strlen(f->method) < 32, "method", f);
		check(strlen(f->statement) < MY_STATEMENT_MAX, "statement length", f);
		check(!strpbrk(f->statement, "'\""), "statement not sanitized", f);
		for (const char *p = f->statement; *p; p++)
			check(*p >= 0x20 && *p < 0x7f, "statement bytes", f);
		check(!f->error[0], "request with an error", f);
	} else {
		unsigned code;
		char tail[8];
		check(f->type == ZT_FRAME_RESPONSE, "frame type", f);
		check(!f->method[0] && !f->statement[0], "response with a method", f);
		check(f->status == ZT_STATUS_OK || f->status == ZT_STATUS_FAILED, "status", f);
		if (f->status == ZT_STATUS_FAILED)
			check(sscanf(f->error, "ERR %u%7s", &code, tail) >= 1 && code < 65536, "error format", f);
		else
			check(!f->error[0], "ok with an error", f);
	}
}

/* For replay.c: stop the plugin and free the mock host (libFuzzer never returns). */
void fuzz_mysql_cleanup(void)
{
	mock_plugin_stop(plug);
	plug = NULL;
	mock_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t captures[4] = { 0, 300, 64, 16 };
	struct mock_conn *c;

	if (!plug && mock_plugin_start(zt_builtin_entry_mysql, NULL, "{\"max_statements\": 4}", &plug))
		abort();
	if (!size)
		return 0;
	uint32_t role = data[0] & 1 ? ZT_ROLE_SERVER : ZT_ROLE_CLIENT;
	size_t capture = captures[(data[0] >> 1) & 3];
	struct zt_conn_info ci = mock_conn_info(ZT_ROLE_UNKNOWN, data[0] & 8 ? 3306 : 23306);
	if (role == ZT_ROLE_SERVER) {
		ci.local_port = ci.remote_port;
		ci.remote_port = 40000;
	}
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
		/* a longer message than its bytes: only what was captured is read */
		size_t len = fl & 4 && n ? n + (16u << 20) : n, cap = capture;
		if (len > n && (!cap || cap > n))
			cap = n; /* never more than the input holds */
		mock_conn_message_cap(c, dir, data + i, len, cap, ts++);
		i += n;
	}
	mock_conn_close(c);
	for (size_t k = 0; k < mock_frame_count(); k++)
		check_frame(mock_frame_get(k));
	mock_frames_clear();
	return 0;
}
