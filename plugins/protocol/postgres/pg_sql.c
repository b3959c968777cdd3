// SPDX-License-Identifier: Apache-2.0
/*
 * Statement text for spans: literals out, shape kept. Postgres's lexical
 * rules (documentation, "SQL Syntax", "Lexical Structure"): '...' strings
 * with '' inside, E'...' with backslash escapes, B'', X'', N'', U&'' prefixes,
 * $tag$...$tag$ dollar quoting, $1 parameters, "..." identifiers, -- and
 * nested block comments, numeric constants. Whatever a literal holds never
 * reaches the output: the sanitizer copies only keywords, identifiers,
 * operators, parameters and punctuation.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pg.h"

struct out {
	char *p;
	size_t n, cap;
	int full;
};

static void put(struct out *o, char ch)
{
	if (o->n + 1 >= o->cap) {
		o->full = 1;
		return;
	}
	o->p[o->n++] = ch;
}

static void space(struct out *o)
{
	if (o->n && o->p[o->n - 1] != ' ')
		put(o, ' ');
}

static int ident_start(unsigned char ch)
{
	return isalpha(ch) || ch == '_' || ch >= 0x80;
}

static int ident_char(unsigned char ch)
{
	return isalnum(ch) || ch == '_' || ch == '$' || ch >= 0x80;
}

/* End of a '...' string from i (at the quote); backslash escapes with esc.
 * Returns n when it does not end within the text. */
static size_t string_end(const char *q, size_t n, size_t i, int esc)
{
	for (i++; i < n; i++) {
		if (esc && q[i] == '\\') {
			i++;
			continue;
		}
		if (q[i] == '\'') {
			if (i + 1 < n && q[i + 1] == '\'') {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return n;
}

/* A dollar quote's opening tag at i ("$$" or "$tag$"): its length, or 0. */
static size_t dollar_tag(const char *q, size_t n, size_t i)
{
	size_t j = i + 1;
	if (j < n && q[j] == '$')
		return 2;
	if (j >= n || !(isalpha((unsigned char)q[j]) || q[j] == '_' || (unsigned char)q[j] >= 0x80))
		return 0;
	while (j < n && (isalnum((unsigned char)q[j]) || q[j] == '_' || (unsigned char)q[j] >= 0x80))
		j++;
	return j < n && q[j] == '$' ? j + 1 - i : 0;
}

static size_t number_end(const char *q, size_t n, size_t i)
{
	if (q[i] == '0' && i + 1 < n && (q[i + 1] == 'x' || q[i + 1] == 'X' || q[i + 1] == 'o' || q[i + 1] == 'O' ||
					 q[i + 1] == 'b' || q[i + 1] == 'B')) {
		for (i += 2; i < n && (isxdigit((unsigned char)q[i]) || q[i] == '_');)
			i++;
		return i;
	}
	while (i < n && (isdigit((unsigned char)q[i]) || q[i] == '_' || q[i] == '.'))
		i++;
	if (i < n && (q[i] == 'e' || q[i] == 'E')) {
		size_t j = i + 1;
		if (j < n && (q[j] == '+' || q[j] == '-'))
			j++;
		if (j < n && isdigit((unsigned char)q[j])) {
			while (j < n && isdigit((unsigned char)q[j]))
				j++;
			i = j;
		}
	}
	return i;
}

size_t pg_sql_sanitize(const char *q, size_t n, char *buf, size_t cap)
{
	struct out o = { buf, 0, cap, 0 };
	size_t i = 0;

	if (!cap)
		return 0;
	while (i < n && !o.full) {
		unsigned char ch = (unsigned char)q[i];
		if (!ch)
			break; /* the text of a Query or Parse ends at its NUL */
		if (isspace(ch)) {
			space(&o);
			i++;
		} else if (ch == '-' && i + 1 < n && q[i + 1] == '-') {
			while (i < n && q[i] != '\n')
				i++;
			space(&o);
		} else if (ch == '/' && i + 1 < n && q[i + 1] == '*') {
			int depth = 0;
			while (i < n) {
				if (q[i] == '/' && i + 1 < n && q[i + 1] == '*') {
					depth++;
					i += 2;
				} else if (q[i] == '*' && i + 1 < n && q[i + 1] == '/') {
					i += 2;
					if (!--depth)
						break;
				} else {
					i++;
				}
			}
			space(&o);
		} else if (ch == '\'') {
			/* a prefix letter (E, B, X, N, U&) was copied as an identifier: take it back */
			int esc = 0;
			if (o.n && strchr("EeBbXxNn", o.p[o.n - 1]) && (o.n == 1 || !ident_char((unsigned char)o.p[o.n - 2]))) {
				esc = o.p[o.n - 1] == 'E' || o.p[o.n - 1] == 'e';
				o.n--;
			} else if (o.n >= 2 && o.p[o.n - 1] == '&' && (o.p[o.n - 2] == 'U' || o.p[o.n - 2] == 'u') &&
				   (o.n == 2 || !ident_char((unsigned char)o.p[o.n - 3]))) {
				o.n -= 2;
			}
			put(&o, '?');
			i = string_end(q, n, i, esc);
		} else if (ch == '$' && i + 1 < n && isdigit((unsigned char)q[i + 1])) {
			put(&o, '$'); /* a parameter: keep it */
			for (i++; i < n && isdigit((unsigned char)q[i]); i++)
				put(&o, q[i]);
		} else if (ch == '$' && dollar_tag(q, n, i)) {
			size_t t = dollar_tag(q, n, i), j;
			put(&o, '?');
			for (j = i + t; j + t <= n; j++)
				if (!memcmp(q + j, q + i, t))
					break;
			i = j + t <= n ? j + t : n;
		} else if (ch == '"') {
			size_t j = i + 1;
			while (j < n && q[j] != '"')
				j++;
			if (j >= n) { /* cut inside an identifier: stop there */
				put(&o, '?');
				i = n;
				break;
			}
			for (; i <= j; i++)
				put(&o, (unsigned char)q[i] >= 0x20 && (unsigned char)q[i] < 0x7f ? q[i] : '?');
		} else if (isdigit(ch) || (ch == '.' && i + 1 < n && isdigit((unsigned char)q[i + 1]))) {
			put(&o, '?');
			i = number_end(q, n, i);
		} else if (ident_start(ch)) {
			for (; i < n && ident_char((unsigned char)q[i]); i++)
				put(&o, (unsigned char)q[i] < 0x80 ? q[i] : '?');
		} else {
			put(&o, ch >= 0x20 && ch < 0x7f ? (char)ch : '?');
			i++;
		}
	}
	while (o.n && o.p[o.n - 1] == ' ')
		o.n--;
	o.p[o.n] = 0;
	return o.n;
}

/* The next word of s from *i (skipping spaces): its start, *len. */
static const char *word(const char *s, size_t *i, size_t *len)
{
	while (s[*i] == ' ' || s[*i] == '(')
		(*i)++;
	size_t b = *i;
	if (s[*i] == '"') {
		for ((*i)++; s[*i] && s[*i] != '"'; (*i)++)
			;
		if (s[*i])
			(*i)++;
	}
	while (ident_char((unsigned char)s[*i]) || s[*i] == '.' || s[*i] == '"')
		(*i)++;
	*len = *i - b;
	return s + b;
}

static int is_word(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && !strncasecmp(w, kw, n);
}

static void copy_table(struct pg_sql *s, const char *w, size_t n)
{
	if (!n || n >= sizeof(s->table) || w[0] == '?' || w[0] == '$')
		return;
	memcpy(s->table, w, n);
	s->table[n] = 0;
}

void pg_sql_describe(const char *q, size_t n, struct pg_sql *s)
{
	size_t i = 0, wl;
	const char *w;

	memset(s, 0, sizeof(*s));
	pg_sql_sanitize(q, n, s->text, sizeof(s->text));
	w = word(s->text, &i, &wl);
	for (size_t k = 0; k < wl && k + 1 < sizeof(s->op) && isalpha((unsigned char)w[k]); k++)
		s->op[k] = (char)toupper((unsigned char)w[k]);
	if (!s->op[0])
		return;
	if (!strcmp(s->op, "SELECT") || !strcmp(s->op, "DELETE")) {
		/* the first FROM at the statement's own level */
		int depth = 0;
		for (; s->text[i]; i++) {
			char ch = s->text[i];
			if (ch == '(')
				depth++;
			else if (ch == ')')
				depth--;
			else if (!depth && (ch == 'f' || ch == 'F') && !ident_char((unsigned char)s->text[i - 1]) &&
				 !strncasecmp(s->text + i, "from ", 5)) {
				i += 5;
				if (s->text[i] == '(')
					return; /* a subquery */
				w = word(s->text, &i, &wl);
				if (is_word(w, wl, "only"))
					w = word(s->text, &i, &wl);
				copy_table(s, w, wl);
				return;
			}
		}
	} else if (!strcmp(s->op, "INSERT")) {
		w = word(s->text, &i, &wl);
		if (is_word(w, wl, "into")) {
			w = word(s->text, &i, &wl);
			copy_table(s, w, wl);
		}
	} else if (!strcmp(s->op, "UPDATE") || !strcmp(s->op, "COPY") || !strcmp(s->op, "TRUNCATE")) {
		if (s->text[i] == ' ' && s->text[i + 1] == '(')
			return; /* COPY (query) TO */
		w = word(s->text, &i, &wl);
		if (is_word(w, wl, "only") || is_word(w, wl, "table"))
			w = word(s->text, &i, &wl);
		copy_table(s, w, wl);
	}
}
