/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQL text of COM_QUERY and COM_STMT_PREPARE, sanitized before it leaves
 * the plugin: statements carry passwords, personal data and keys in their
 * literals, so only the statement's shape is kept ("SELECT * FROM t WHERE
 * id = ?"). A single pass over at most the captured bytes, no allocation.
 */
#include <string.h>

#include "mysql.h"

struct out {
	char *p;
	size_t n, cap; /* cap excludes the NUL */
};

static void put(struct out *o, char ch)
{
	if (o->n < o->cap)
		o->p[o->n++] = ch;
}

static void put_space(struct out *o)
{
	if (o->n && o->p[o->n - 1] != ' ')
		put(o, ' ');
}

static int is_ident(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
	       ch == '$';
}

/*
 * A literal's prefix just written (x'..', b'..', N'..', _utf8mb4'..'):
 * removed, so that only '?' stands for the literal.
 */
static void drop_introducer(struct out *o)
{
	size_t i = o->n;
	while (i && is_ident((uint8_t)o->p[i - 1]))
		i--;
	size_t w = o->n - i;
	if (!w)
		return;
	char c0 = o->p[i];
	if ((w == 1 && strchr("xXbBnN", c0)) || c0 == '_')
		o->n = i;
}

size_t my_sql_sanitize(const uint8_t *in, size_t n, int truncated, char *out, size_t outcap)
{
	struct out o = { out, 0, outcap ? outcap - 1 : 0 };
	size_t i = 0;
	int open_literal = 0;

	if (!outcap)
		return 0;
	while (i < n && o.n < o.cap) {
		uint8_t ch = in[i];
		if (ch == '\'' || ch == '"') {
			/* a string: backslash escapes and doubled quotes */
			size_t j = i + 1;
			for (;;) {
				if (j >= n) {
					open_literal = 1;
					break;
				}
				if (in[j] == '\\') {
					j += 2;
					continue;
				}
				if (in[j] == ch) {
					if (j + 1 < n && in[j + 1] == ch) {
						j += 2;
						continue;
					}
					break;
				}
				j++;
			}
			drop_introducer(&o);
			put(&o, '?');
			i = j + 1;
		} else if (ch == '`') {
			/* a quoted identifier: kept, but only its plain characters */
			size_t j = i + 1;
			while (j < n && in[j] != '`')
				j++;
			for (size_t k = i; k <= j && k < n; k++)
				put(&o, in[k] == '`' || is_ident(in[k]) || in[k] == ' ' || in[k] == '-' || in[k] == '.'
						? (char)in[k]
						: '?');
			i = j + 1;
		} else if (ch >= '0' && ch <= '9' && !(o.n && is_ident((uint8_t)o.p[o.n - 1]))) {
			/* a number: decimal, float with exponent, 0x.., 0b.. */
			size_t j = i + 1;
			while (j < n && (is_ident(in[j]) || in[j] == '.' ||
					 ((in[j] == '+' || in[j] == '-') && (in[j - 1] == 'e' || in[j - 1] == 'E'))))
				j++;
			put(&o, '?');
			i = j;
		} else if (ch == '.' && i + 1 < n && in[i + 1] >= '0' && in[i + 1] <= '9' &&
			   !(o.n && is_ident((uint8_t)o.p[o.n - 1]))) {
			size_t j = i + 1;
			while (j < n && (is_ident(in[j]) || in[j] == '.'))
				j++;
			put(&o, '?');
			i = j;
		} else if (ch == '/' && i + 1 < n && in[i + 1] == '*') {
			const uint8_t *e = NULL;
			for (size_t j = i + 2; j + 1 < n; j++)
				if (in[j] == '*' && in[j + 1] == '/') {
					e = in + j;
					break;
				}
			i = e ? (size_t)(e - in) + 2 : n;
			put_space(&o);
		} else if ((ch == '-' && i + 2 < n && in[i + 1] == '-' && (in[i + 2] == ' ' || in[i + 2] == '\t')) ||
			   ch == '#') {
			while (i < n && in[i] != '\n')
				i++;
			put_space(&o);
		} else if (ch <= ' ') { /* white space, and the NUL some clients send last */
			put_space(&o);
			i++;
		} else {
			put(&o, ch > 0x20 && ch < 0x7f ? (char)ch : '?');
			i++;
		}
	}
	if (open_literal || i < n)
		truncated = 1;
	while (o.n && o.p[o.n - 1] == ' ')
		o.n--;
	if (truncated) {
		/* room for the mark, even when the text filled the buffer */
		size_t mark = o.cap >= 3 ? 3 : o.cap;
		if (o.n > o.cap - mark)
			o.n = o.cap - mark;
		for (size_t k = 0; k < mark; k++)
			o.p[o.n++] = '.';
	}
	out[o.n] = 0;
	return o.n;
}

void my_sql_verb(const char *s, char *out)
{
	size_t n = 0;
	while (*s == ' ' || *s == '(')
		s++;
	while (n + 1 < MY_VERB_MAX && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) {
		out[n++] = (char)(*s >= 'a' ? *s - 'a' + 'A' : *s);
		s++;
	}
	/* a keyword ends at a non-identifier byte: "select1x" is not SELECT */
	if (is_ident((uint8_t)*s))
		n = 0;
	out[n] = 0;
}

static const char *const command_names[] = {
	[COM_SLEEP] = "COM_SLEEP",
	[COM_QUIT] = "COM_QUIT",
	[COM_INIT_DB] = "COM_INIT_DB",
	[COM_QUERY] = "COM_QUERY",
	[COM_FIELD_LIST] = "COM_FIELD_LIST",
	[COM_CREATE_DB] = "COM_CREATE_DB",
	[COM_DROP_DB] = "COM_DROP_DB",
	[COM_REFRESH] = "COM_REFRESH",
	[COM_SHUTDOWN] = "COM_SHUTDOWN",
	[COM_STATISTICS] = "COM_STATISTICS",
	[COM_PROCESS_INFO] = "COM_PROCESS_INFO",
	[COM_CONNECT] = "COM_CONNECT",
	[COM_PROCESS_KILL] = "COM_PROCESS_KILL",
	[COM_DEBUG] = "COM_DEBUG",
	[COM_PING] = "COM_PING",
	[COM_TIME] = "COM_TIME",
	[COM_DELAYED_INSERT] = "COM_DELAYED_INSERT",
	[COM_CHANGE_USER] = "COM_CHANGE_USER",
	[COM_BINLOG_DUMP] = "COM_BINLOG_DUMP",
	[COM_TABLE_DUMP] = "COM_TABLE_DUMP",
	[COM_CONNECT_OUT] = "COM_CONNECT_OUT",
	[COM_REGISTER_SLAVE] = "COM_REGISTER_SLAVE",
	[COM_STMT_PREPARE] = "COM_STMT_PREPARE",
	[COM_STMT_EXECUTE] = "COM_STMT_EXECUTE",
	[COM_STMT_SEND_LONG_DATA] = "COM_STMT_SEND_LONG_DATA",
	[COM_STMT_CLOSE] = "COM_STMT_CLOSE",
	[COM_STMT_RESET] = "COM_STMT_RESET",
	[COM_SET_OPTION] = "COM_SET_OPTION",
	[COM_STMT_FETCH] = "COM_STMT_FETCH",
	[COM_DAEMON] = "COM_DAEMON",
	[COM_BINLOG_DUMP_GTID] = "COM_BINLOG_DUMP_GTID",
	[COM_RESET_CONNECTION] = "COM_RESET_CONNECTION",
};

const char *my_command_name(uint32_t cmd)
{
	if (cmd == COM_STMT_BULK_EXECUTE)
		return "COM_STMT_BULK_EXECUTE";
	if (cmd < sizeof(command_names) / sizeof(command_names[0]))
		return command_names[cmd];
	return NULL;
}
