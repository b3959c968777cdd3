// SPDX-License-Identifier: Apache-2.0
/*
 * Command names and sanitized statements. db.operation is the command
 * name upper-cased, with the subcommand for the commands that are
 * containers of subcommands ("CONFIG GET", "CLIENT SETNAME"); the
 * statement keeps only the names and replaces every argument by "?", so
 * no key or value (which may be a secret) ever leaves the plugin.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "redis.h"

/* Commands whose first argument is a subcommand (Redis 7 "container" commands). */
#define NAME(s) s, sizeof(s) - 1

/* Commands whose first argument is a subcommand (Redis 7 "container" commands). */
static const struct {
	const char *name;
	size_t len;
} containers[] = {
	{ NAME("ACL") },     { NAME("CLIENT") }, { NAME("CLUSTER") }, { NAME("COMMAND") },	 { NAME("CONFIG") },
	{ NAME("DEBUG") },   { NAME("FUNCTION") }, { NAME("LATENCY") }, { NAME("MEMORY") },	 { NAME("MODULE") },
	{ NAME("OBJECT") },  { NAME("PUBSUB") }, { NAME("SCRIPT") },  { NAME("SLOWLOG") }, { NAME("XGROUP") },
	{ NAME("XINFO") },
};

/* (the lengths are in the tables: this runs for every command) */
static const struct {
	const char *name;
	size_t len;
	uint32_t kind, confirm;
} kinds[] = {
	{ NAME("SUBSCRIBE"), RK_SUBSCRIBE, RP_SUBSCRIBE },
	{ NAME("PSUBSCRIBE"), RK_SUBSCRIBE, RP_PSUBSCRIBE },
	{ NAME("SSUBSCRIBE"), RK_SUBSCRIBE, RP_SSUBSCRIBE },
	{ NAME("UNSUBSCRIBE"), RK_UNSUBSCRIBE, RP_UNSUBSCRIBE },
	{ NAME("PUNSUBSCRIBE"), RK_UNSUBSCRIBE, RP_PUNSUBSCRIBE },
	{ NAME("SUNSUBSCRIBE"), RK_UNSUBSCRIBE, RP_SUNSUBSCRIBE },
	{ NAME("MULTI"), RK_MULTI, 0 },
	{ NAME("EXEC"), RK_EXEC, 0 },
	{ NAME("DISCARD"), RK_DISCARD, 0 },
	{ NAME("HELLO"), RK_HELLO, 0 },
	{ NAME("RESET"), RK_RESET, 0 },
};

static const char *const push_kinds[] = {
	[RP_SUBSCRIBE] = "subscribe",	  [RP_PSUBSCRIBE] = "psubscribe",     [RP_SSUBSCRIBE] = "ssubscribe",
	[RP_UNSUBSCRIBE] = "unsubscribe", [RP_PUNSUBSCRIBE] = "punsubscribe", [RP_SUNSUBSCRIBE] = "sunsubscribe",
};

uint32_t redis_push_kind(const char *w, size_t n)
{
	if ((n == 7 && !strncasecmp(w, "message", 7)) || (n == 8 && !strncasecmp(w, "pmessage", 8)) ||
	    (n == 8 && !strncasecmp(w, "smessage", 8)))
		return RP_MESSAGE;
	for (uint32_t i = RP_SUBSCRIBE; i <= RP_SUNSUBSCRIBE; i++)
		if (strlen(push_kinds[i]) == n && !strncasecmp(w, push_kinds[i], n))
			return i;
	return RP_NONE;
}

/* A command or subcommand name: a letter, then letters, digits, '_', '-', '.' (module commands: JSON.GET). */
static int name_ok(const char *w, size_t n)
{
	if (!n || n >= RESP_WORD_MAX)
		return 0;
	if (!((w[0] | 0x20) >= 'a' && (w[0] | 0x20) <= 'z'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = w[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

static size_t upper(char *out, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]);
	return n;
}

int redis_cmd_of(const struct resp_value *v, struct redis_cmd *c)
{
	memset(c, 0, sizeof(*c));
	if ((v->type != '*' && v->type != 'i') || !v->count || !v->word_ok[0] || !name_ok(v->word[0], v->word_len[0]))
		return -1;
	c->op_len = upper(c->op, v->word[0], v->word_len[0]);
	c->words = 1;
	c->args = v->count - 1;
	for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++) {
		if (containers[i].len != c->op_len || memcmp(containers[i].name, c->op, c->op_len))
			continue;
		if (c->args && v->word_ok[1] && name_ok(v->word[1], v->word_len[1])) {
			c->op[c->op_len++] = ' ';
			c->op_len += upper(c->op + c->op_len, v->word[1], v->word_len[1]);
			c->words = 2;
			c->args--;
		}
		break;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].len == c->op_len && !memcmp(kinds[i].name, c->op, c->op_len)) {
			c->kind = kinds[i].kind;
			c->confirm = kinds[i].confirm;
			break;
		}
	}
	if (c->kind == RK_HELLO && c->args && v->word_ok[1] && v->word_len[1] == 1 && v->word[1][0] >= '1' &&
	    v->word[1][0] <= '9')
		c->hello = v->word[1][0] - '0';
	return 0;
}

#define STATEMENT_ARGS 16 /* "?" written before the rest is summed up */

size_t redis_statement(const struct redis_cmd *c, char *out, size_t max)
{
	size_t n = 0;
	char tail[40];

	if (!max)
		return 0;
	if (c->op_len >= max)
		return 0;
	memcpy(out, c->op, c->op_len);
	n = c->op_len;
	for (uint64_t i = 0; i < c->args && i < STATEMENT_ARGS && n + 2 <= max; i++) {
		out[n++] = ' ';
		out[n++] = '?';
	}
	if (c->args > STATEMENT_ARGS) {
		int k = snprintf(tail, sizeof(tail), " ... (%llu more)", (unsigned long long)(c->args - STATEMENT_ARGS));
		if (k > 0 && n + (size_t)k <= max) {
			memcpy(out + n, tail, (size_t)k);
			n += (size_t)k;
		}
	}
	return n;
}
