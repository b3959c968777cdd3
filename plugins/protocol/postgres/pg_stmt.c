// SPDX-License-Identifier: Apache-2.0
/*
 * Prepared statements and portals of one connection, so that an Execute
 * (which names only a portal) carries the statement its portal was bound
 * to. Statements are kept sanitized (struct pg_sql), never raw. Bounded:
 * max_stmts named statements (the oldest is forgotten past that: its
 * Executes then carry no statement), PG_PORTALS named portals, names
 * longer than PG_NAME_MAX - 1 are not kept. Linear scans: the tables are
 * small and Execute of the unnamed portal, the common case, needs none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

struct pg_named {
	char name[PG_NAME_MAX];
	uint64_t age; /* insertion order, to forget the oldest */
	struct pg_sql sql;
};

struct pg_portal {
	char name[PG_NAME_MAX];
	int known; /* sql is the statement it was bound to */
	struct pg_sql sql;
};

struct pg_stmts {
	uint32_t max, n;
	uint64_t clock;
	int unnamed_known;
	struct pg_sql unnamed;
	struct pg_portal unnamed_portal;
	struct pg_named *named; /* n used of max, allocated on first use */
	struct pg_portal *portals; /* PG_PORTALS, allocated on first use; name[0] == 0: free */
};

struct pg_stmts *pg_stmts_new(uint32_t max_stmts)
{
	struct pg_stmts *t = calloc(1, sizeof(*t));
	if (t)
		t->max = max_stmts;
	return t;
}

void pg_stmts_free(struct pg_stmts *t)
{
	if (!t)
		return;
	free(t->named);
	free(t->portals);
	free(t);
}

static int name_eq(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && !memcmp(a, b, blen);
}

static struct pg_named *find(struct pg_stmts *t, const char *name, size_t nlen)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (name_eq(t->named[i].name, name, nlen))
			return &t->named[i];
	return NULL;
}

int pg_stmt_put(struct pg_stmts *t, const char *name, size_t nlen, const struct pg_sql *s)
{
	struct pg_named *e;

	if (!nlen) {
		t->unnamed = *s;
		t->unnamed_known = 1;
		return 0;
	}
	if (nlen >= PG_NAME_MAX || memchr(name, 0, nlen) || !t->max)
		return -ENAMETOOLONG;
	e = find(t, name, nlen);
	if (!e) {
		if (!t->named && !(t->named = calloc(t->max, sizeof(*t->named))))
			return -ENOMEM;
		if (t->n < t->max) {
			e = &t->named[t->n++];
		} else {
			e = &t->named[0];
			for (uint32_t i = 1; i < t->n; i++)
				if (t->named[i].age < e->age)
					e = &t->named[i];
		}
		memcpy(e->name, name, nlen);
		e->name[nlen] = 0;
	}
	e->age = ++t->clock;
	e->sql = *s;
	return 0;
}

const struct pg_sql *pg_stmt_get(struct pg_stmts *t, const char *name, size_t nlen)
{
	struct pg_named *e;
	if (!nlen)
		return t->unnamed_known ? &t->unnamed : NULL;
	e = find(t, name, nlen);
	return e ? &e->sql : NULL;
}

void pg_stmt_close(struct pg_stmts *t, const char *name, size_t nlen)
{
	struct pg_named *e;
	if (!nlen) {
		t->unnamed_known = 0;
		return;
	}
	e = find(t, name, nlen);
	if (e)
		*e = t->named[--t->n];
}

uint32_t pg_stmts_count(const struct pg_stmts *t)
{
	return t->n;
}

static struct pg_portal *portal(struct pg_stmts *t, const char *name, size_t plen, int create)
{
	struct pg_portal *free_slot = NULL;
	if (!plen)
		return &t->unnamed_portal;
	if (plen >= PG_NAME_MAX || memchr(name, 0, plen))
		return NULL;
	if (!t->portals) {
		if (!create || !(t->portals = calloc(PG_PORTALS, sizeof(*t->portals))))
			return NULL;
	}
	for (int i = 0; i < PG_PORTALS; i++) {
		if (name_eq(t->portals[i].name, name, plen) && t->portals[i].name[0])
			return &t->portals[i];
		if (!free_slot && !t->portals[i].name[0])
			free_slot = &t->portals[i];
	}
	if (!create)
		return NULL;
	if (!free_slot)
		free_slot = &t->portals[0]; /* full: a cursor-heavy session loses its oldest slot's statement */
	memcpy(free_slot->name, name, plen);
	free_slot->name[plen] = 0;
	return free_slot;
}

void pg_portal_bind(struct pg_stmts *t, const char *name, size_t plen, const struct pg_sql *s)
{
	struct pg_portal *p = portal(t, name, plen, 1);
	if (!p)
		return;
	p->known = s != NULL;
	if (s)
		p->sql = *s;
}

const struct pg_sql *pg_portal_get(struct pg_stmts *t, const char *name, size_t plen)
{
	struct pg_portal *p = portal(t, name, plen, 0);
	return p && p->known ? &p->sql : NULL;
}

void pg_portal_close(struct pg_stmts *t, const char *name, size_t plen)
{
	struct pg_portal *p = portal(t, name, plen, 0);
	if (!p)
		return;
	p->known = 0;
	if (plen)
		p->name[0] = 0;
}
