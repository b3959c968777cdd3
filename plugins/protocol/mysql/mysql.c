/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MySQL / MariaDB client/server protocol plugin: both sides of a
 * connection (the traced process may be the client or the server), the
 * handshake (greeting, handshake response, auth switch and more-data
 * exchanges, SSLRequest), the command phase (COM_QUERY, prepared
 * statements, COM_PING, COM_INIT_DB, ...) and every response shape (OK,
 * ERR, EOF with or without CLIENT_DEPRECATE_EOF, result sets of any
 * size, multi-statement results, LOCAL INFILE). Requests and responses are
 * strictly in order on a connection, so the core pairs them FIFO.
 *
 * Packets are framed by their 3-byte length; only each packet's first
 * bytes are read (a command's SQL, a response's header), bodies are
 * skipped by length, captured or not. When a response's framing is lost
 * (a large result set read in pieces larger than the capture), the
 * response ends where the client's next command begins: its last byte is
 * the last one read before it (README.md, "Large results").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zerotap/plugin.h>

#include "mysql.h"

/*
 * capture_bytes: a command's SQL up to the statement bound plus its
 * header, and a response message's packet headers. Result rows beyond
 * this are skipped by length.
 */
#define MY_CAPTURE 2048
/* Long reports and DDL run for minutes; a request never answered mostly
 * ends with its connection anyway. */
#define MY_REQUEST_TIMEOUT_NS (300ull * 1000000000ull)
#define MY_PENDING_MAX 16   /* requests sent before their answers (pipelining) kept per connection */
#define MY_REQ_WANT 1100    /* bytes of a command packet looked at: its SQL up to the statement bound */
#define MY_RESP_WANT 32     /* bytes of a response packet looked at (OK, ERR, EOF, counts) */
#define MY_HS_WANT 512      /* bytes of a handshake packet looked at */
#define MY_DB_MAX 64
#define MY_RULES 4
#define MY_GREETING_MIN (4 + 1 + 2 + 13) /* header, protocol, "N" NUL, thread id, scramble, filler */
#define MY_GREETING_MAX 512

/* Connection phases. */
enum { PH_GREETING, PH_HS_RESPONSE, PH_AUTH, PH_COMMAND };

/* Where a response is (rs). */
enum {
	RS_IDLE,      /* no response begun */
	RS_FIRST,     /* its first packet (OK, ERR, column count, ...) is next */
	RS_COLS,      /* column definitions of a result set */
	RS_COLS_EOF,  /* the EOF after them, unless CLIENT_DEPRECATE_EOF */
	RS_ROWS,      /* rows, until a terminator */
	RS_PREP_DEFS, /* parameter and column definitions of a prepare */
	RS_INFILE,    /* LOCAL INFILE: the client sends the file, then OK/ERR */
	RS_AUTH,      /* COM_CHANGE_USER: auth exchange until OK/ERR */
	RS_LOST,      /* framing lost: the response ends at the next command */
};

struct my_state {
	const struct zt_host *host;
	zt_instance *inst;
	uint32_t max_stmts;
	uint16_t port;
	struct zt_detect_rule rules[MY_RULES];
};

struct my_stmt {
	uint32_t id;
	char verb[MY_VERB_MAX];
	char *text; /* sanitized */
};

struct my_pending {
	uint32_t cmd;
	char *text; /* COM_STMT_PREPARE: sanitized text, for the statement table */
};

struct my_conn {
	struct my_state *st;
	zt_conn *conn;
	uint32_t phase;
	int req_dir;       /* ZT_DIR_* that carries commands; -1 unknown */
	uint32_t server_caps, client_caps;
	uint32_t caps_known;
	uint32_t deprecate_eof; /* 1 when negotiated, 0 when not, 2 unknown */
	uint32_t mariadb;
	uint32_t port;     /* the configured server port (joining a connection late) */
	char db[MY_DB_MAX];
	/* framing per direction */
	uint32_t cont[2];  /* the last packet was 0xffffff long: the next continues it */
	uint32_t lost[2];  /* framing lost: wait for a message start */
	/* the response being read */
	uint32_t rs;
	uint64_t defs_left;  /* definitions still to come (RS_COLS, RS_PREP_DEFS) */
	uint32_t prep_cols;  /* RS_PREP_DEFS: column definitions after the parameters */
	uint32_t prep_eofs;  /* RS_PREP_DEFS: EOFs still to come without DEPRECATE_EOF */
	uint32_t resp_status;
	uint16_t err_code;
	char sqlstate[6];
	uint64_t resp_size, resp_last_ts;
	/* commands waiting for their responses, oldest first */
	struct my_pending q[MY_PENDING_MAX];
	uint32_t q_head, q_len;
	/* prepared statements, by id (a ring: the oldest is forgotten) */
	struct my_stmt *stmts;
	uint32_t nstmts, stmt_next;
	uint32_t last_stmt; /* the last prepared id, for MariaDB's direct execute (id 0xffffffff) */
};

static const struct zt_config_field my_config[] = {
	{ "port", ZT_CFG_INT, 0, "3306",
	  "Server port on which connections already in their command phase when the agent started are recognized "
	  "(new connections are recognized on any port by their handshake).",
	  1, 65535 },
	{ "max_statements", ZT_CFG_INT, 0, "128",
	  "Prepared statements remembered per connection (id and sanitized text, for COM_STMT_EXECUTE).", 0, 4096 },
	ZT_CFG_END,
};

/* ------------------------------------------------------------ wire helpers */

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static uint32_t le32(const uint8_t *p)
{
	return le24(p) | (uint32_t)p[3] << 24;
}

/* A length-encoded integer at p[0..n): its size in bytes (0 when cut or
 * not an integer: 0xfb is NULL, 0xff an error marker). */
static size_t lenenc(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t w;
	if (!n)
		return 0;
	if (p[0] < 0xfb) {
		*v = p[0];
		return 1;
	}
	w = p[0] == 0xfc ? 2 : p[0] == 0xfd ? 3 : p[0] == 0xfe ? 8 : 0;
	if (!w || n < w + 1)
		return 0;
	*v = 0;
	for (size_t i = 0; i < w; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return w + 1;
}

/* The status flags of an OK packet (p[0] is 0x00 or 0xfe); 0 when cut. */
static uint32_t ok_status(const uint8_t *p, size_t n)
{
	uint64_t v;
	size_t a = lenenc(p + 1, n - 1, &v), b;
	if (!a)
		return 0;
	b = lenenc(p + 1 + a, n - 1 - a, &v);
	if (!b || 1 + a + b + 2 > n)
		return 0;
	return le16(p + 1 + a + b);
}

/* ------------------------------------------------------------ detection */

/* A greeting's payload p[0..n) of len bytes: protocol 10, a printable
 * NUL-terminated version, connection id, 8 bytes of scramble, 0 filler. */
static int greeting_ok(const uint8_t *p, size_t n, uint32_t len)
{
	size_t i;
	if (n < 1 + 1 + 13 || p[0] != 0x0a)
		return 0;
	for (i = 1; i < n && i < 1 + 64 && p[i]; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	if (i == 1 || i >= n || p[i])
		return 0;
	return i + 13 < n && i + 13 < len && p[i + 13] == 0;
}

/*
 * A server greeting: one packet with sequence id 0, protocol version 10,
 * the server version as a NUL-terminated printable string, then the
 * connection id, 8 bytes of scramble and a 0 filler.
 */
static int is_greeting(const uint8_t *p, size_t n, uint64_t avail)
{
	if (n < 4 || p[3] != 0 || le24(p) + 4 != avail)
		return 0;
	return greeting_ok(p + 4, n - 4, le24(p));
}

/* A command packet alone in its message, as a client writes it. */
static int is_command(const uint8_t *p, size_t n, uint64_t avail)
{
	uint32_t len;
	if (n < 5)
		return 0;
	len = le24(p);
	if (p[3] != 0 || len == 0 || len + 4 != avail)
		return 0;
	switch (p[4]) {
	case COM_QUERY:
	case COM_STMT_PREPARE:
		for (size_t i = 5; i < n && i < 5 + 32; i++)
			if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\n' && p[i] != '\t' && p[i] != '\r')
				return 0;
		return len > 1;
	case COM_STMT_EXECUTE:
		return len >= 10 && p[5 + 4] <= 0x0f && le32(p + 5 + 5) == 1;
	case COM_PING:
	case COM_QUIT:
	case COM_STATISTICS:
		return len == 1;
	default:
		return 0;
	}
}

static uint32_t my_detect(void *state, const struct zt_conn_info *ci, const struct zt_chunk *c)
{
	struct my_state *s = state;
	if (!(c->flags & ZT_CHUNK_MSG_START))
		return ZT_DETECT_MAYBE;
	if (is_greeting(c->data, c->len, c->avail))
		return ZT_DETECT_YES;
	if ((ci->remote_port == s->port || ci->local_port == s->port) &&
	    is_command(c->data, c->len, c->avail))
		return ZT_DETECT_YES;
	return ZT_DETECT_MAYBE;
}

static void rule_init(struct zt_detect_rule *r, uint32_t verdict, const char *pat, const char *mask, uint16_t len,
		      uint16_t port, uint32_t min_len, uint32_t max_len)
{
	memset(r, 0, sizeof(*r));
	r->struct_size = sizeof(*r);
	r->verdict = verdict;
	r->direction = ZT_RULE_DIR_ANY; /* the server writes it, the client reads it */
	r->transports = ZT_TRANSPORT_TCP;
	r->offset = 2;
	r->len = len;
	memcpy(r->pattern, pat, len);
	if (mask)
		memcpy(r->mask, mask, len);
	r->port = port;
	r->min_len = min_len;
	r->max_len = max_len;
}

static size_t my_rules(void *state, const struct zt_detect_rule **rules)
{
	struct my_state *s = state;
	*rules = s->rules;
	return MY_RULES;
}

/* ------------------------------------------------------------ lifecycle */

static int my_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct my_state *s = calloc(1, sizeof(*s));
	int64_t port = 3306, max_stmts = 128;
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->inst = inst;
	host->config_int(inst, "port", &port);
	host->config_int(inst, "max_statements", &max_stmts);
	s->max_stmts = (uint32_t)max_stmts;
	/*
	 * A greeting claims at once, on any port: a session of a few
	 * commands is over before user space could answer a detect() (the
	 * kernel only samples an unclaimed connection's first messages).
	 * Length < 64 KiB, sequence id 0, protocol 10 and a version that
	 * starts "N." or "NN."; the parser checks the rest (README.md,
	 * "Detection"). Other greetings, and a COM_QUERY on the server port
	 * (a connection older than the agent), ask detect().
	 */
	rule_init(&s->rules[0], ZT_RULE_CLAIM, "\x00\x00\x0a\x30\x2e", "\xff\xff\xff\xf0\xff", 5, 0,
		  MY_GREETING_MIN, MY_GREETING_MAX);
	rule_init(&s->rules[1], ZT_RULE_CLAIM, "\x00\x00\x0a\x30\x30\x2e", "\xff\xff\xff\xf0\xf0\xff", 6, 0,
		  MY_GREETING_MIN, MY_GREETING_MAX);
	rule_init(&s->rules[2], ZT_RULE_ASK, "\x00\x0a", NULL, 2, 0, MY_GREETING_MIN, MY_GREETING_MAX);
	s->rules[2].offset = 3;
	rule_init(&s->rules[3], ZT_RULE_ASK, "\x00\x03", NULL, 2, (uint16_t)port, 6, 0);
	s->rules[3].offset = 3;
	s->port = (uint16_t)port;
	*state = s;
	return 0;
}

static void my_fini(void *state)
{
	free(state);
}

static int my_open(void *state, const struct zt_conn_info *ci, zt_conn *conn, void **conn_state)
{
	struct my_state *s = state;
	struct my_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->st = s;
	c->conn = conn;
	c->phase = PH_GREETING;
	c->deprecate_eof = 2;
	c->port = s->port;
	c->req_dir = ci->role == ZT_ROLE_CLIENT ? (int)ZT_DIR_EGRESS
		     : ci->role == ZT_ROLE_SERVER ? (int)ZT_DIR_INGRESS
		     : ci->remote_port == c->port ? (int)ZT_DIR_EGRESS
		     : ci->local_port == c->port	 ? (int)ZT_DIR_INGRESS
						 : -1;
	*conn_state = c;
	return 0;
}

static void pending_pop(struct my_conn *c)
{
	if (!c->q_len)
		return;
	free(c->q[c->q_head].text);
	c->q[c->q_head].text = NULL;
	c->q_head = (c->q_head + 1) % MY_PENDING_MAX;
	c->q_len--;
}

static void my_close(void *state, void *conn_state)
{
	struct my_conn *c = conn_state;
	(void)state;
	if (!c)
		return;
	while (c->q_len)
		pending_pop(c);
	for (uint32_t i = 0; i < c->nstmts; i++)
		free(c->stmts[i].text);
	free(c->stmts);
	free(c);
}

/* ------------------------------------------------------------ statements */

static struct my_stmt *stmt_find(struct my_conn *c, uint32_t id)
{
	if (id == 0xffffffffu) /* MariaDB: the statement prepared last */
		id = c->last_stmt;
	for (uint32_t i = 0; i < c->nstmts; i++)
		if (c->stmts[i].id == id && c->stmts[i].text)
			return &c->stmts[i];
	return NULL;
}

/* Takes ownership of text. */
static void stmt_add(struct my_conn *c, uint32_t id, char *text)
{
	struct my_stmt *s = stmt_find(c, id);
	c->last_stmt = id;
	if (!s && c->st->max_stmts) {
		if (!c->stmts) {
			c->stmts = calloc(c->st->max_stmts, sizeof(*c->stmts));
			if (!c->stmts) {
				free(text);
				return;
			}
		}
		if (c->nstmts < c->st->max_stmts) {
			s = &c->stmts[c->nstmts++];
		} else {
			s = &c->stmts[c->stmt_next];
			c->stmt_next = (c->stmt_next + 1) % c->st->max_stmts;
		}
	}
	if (!s) {
		free(text);
		return;
	}
	free(s->text);
	s->id = id;
	s->text = text;
	my_sql_verb(text, s->verb);
}

static void stmt_drop(struct my_conn *c, uint32_t id)
{
	struct my_stmt *s = stmt_find(c, id);
	if (s) {
		free(s->text);
		s->text = NULL;
	}
}

/* ------------------------------------------------------------ frames */

static void add_attr(struct zt_attr *a, uint32_t *n, const char *k, const char *v)
{
	if (!v || !*v)
		return;
	a[*n].key = (struct zt_str){ k, strlen(k) };
	a[*n].value = (struct zt_str){ v, strlen(v) };
	(*n)++;
}

static void emit_request(struct my_conn *c, uint32_t type, uint32_t cmd, const char *verb, const char *text,
			 uint64_t start, uint64_t end, uint64_t size)
{
	struct zt_attr a[5];
	uint32_t n = 0;
	const char *cname = my_command_name(cmd);
	struct zt_frame f = { .struct_size = sizeof(f), .type = type, .pairing = ZT_PAIR_FIFO };

	add_attr(a, &n, "db.system", c->mariadb ? "mariadb" : "mysql");
	add_attr(a, &n, "db.operation", verb);
	add_attr(a, &n, "db.name", c->db);
	add_attr(a, &n, "db.mysql.command", cname);
	f.start_ns = start;
	f.end_ns = end;
	f.size = size;
	f.method = verb && *verb ? (struct zt_str){ verb, strlen(verb) } : (struct zt_str){ cname, strlen(cname) };
	if (text)
		f.statement = (struct zt_str){ text, strlen(text) };
	f.attrs = a;
	f.attr_count = n;
	if (type == ZT_FRAME_EVENT)
		f.status = ZT_STATUS_OK;
	c->st->host->frame_emit(c->conn, &f);
}

/* The response to the oldest command is complete (flags: ZT_FRAME_F_*). */
static void emit_response_f(struct my_conn *c, uint64_t end, uint32_t flags)
{
	char err[32] = "", code[8] = "";
	struct zt_attr a[1];
	uint32_t n = 0;
	struct zt_frame f = { .struct_size = sizeof(f), .type = ZT_FRAME_RESPONSE, .pairing = ZT_PAIR_FIFO };

	f.status = c->resp_status ? c->resp_status : ZT_STATUS_OK;
	if (f.status == ZT_STATUS_FAILED) {
		/* the code and SQLSTATE only: the message can quote values */
		snprintf(code, sizeof(code), "%u", c->err_code);
		if (c->sqlstate[0])
			snprintf(err, sizeof(err), "ERR %u (%s)", c->err_code, c->sqlstate);
		else
			snprintf(err, sizeof(err), "ERR %u", c->err_code);
		f.error = (struct zt_str){ err, strlen(err) };
		add_attr(a, &n, "db.response.status_code", code);
	}
	f.start_ns = end;
	f.end_ns = end;
	f.size = c->resp_size;
	f.attrs = a;
	f.attr_count = n;
	f.flags = flags;
	c->st->host->frame_emit(c->conn, &f);
	pending_pop(c);
	c->rs = RS_IDLE;
	c->resp_status = 0;
	c->resp_size = 0;
	c->err_code = 0;
	c->sqlstate[0] = 0;
}

static void emit_response(struct my_conn *c, uint64_t end)
{
	emit_response_f(c, end, 0);
}

/* ------------------------------------------------------------ requests */

static void on_command(struct my_conn *c, const uint8_t *p, size_t n, uint32_t len, int cut, uint64_t start,
		       uint64_t end)
{
	char text[MY_STATEMENT_MAX], verb[MY_VERB_MAX] = "";
	uint32_t cmd = p[0];
	const char *stext = NULL;
	uint64_t size = (uint64_t)len + 4;

	/* a response whose framing was lost ends where the next command
	 * starts: found in the commands' direction, hence the flag */
	if (c->rs == RS_LOST) {
		while (c->q_len)
			emit_response_f(c, c->resp_last_ts, ZT_FRAME_F_PEER_DIR);
		c->rs = RS_IDLE;
	}
	/* an answer in progress to no command we saw (joined late, lost
	 * bytes): whatever it was, it is over now */
	if (c->rs != RS_IDLE && !c->q_len)
		c->rs = RS_IDLE;
	switch (cmd) {
	case COM_QUIT:
		emit_request(c, ZT_FRAME_EVENT, cmd, "QUIT", NULL, start, end, size);
		return;
	case COM_STMT_CLOSE:
		if (n >= 5)
			stmt_drop(c, le32(p + 1));
		emit_request(c, ZT_FRAME_EVENT, cmd, "CLOSE", NULL, start, end, size);
		return;
	case COM_STMT_SEND_LONG_DATA:
		emit_request(c, ZT_FRAME_EVENT, cmd, "SEND_LONG_DATA", NULL, start, end, size);
		return;
	case COM_QUERY:
	case COM_STMT_PREPARE: {
		size_t skip = 1;
		/* MySQL 8 query attributes: with none, two counts (0, 1) before the SQL */
		if (cmd == COM_QUERY && (c->client_caps & CLIENT_QUERY_ATTRIBUTES) &&
		    (c->server_caps & CLIENT_QUERY_ATTRIBUTES) && n >= 3 && p[1] == 0 && p[2] == 1)
			skip = 3;
		my_sql_sanitize(p + skip, n - skip, cut, text, sizeof(text));
		stext = text;
		if (cmd == COM_QUERY)
			my_sql_verb(text, verb);
		else
			strcpy(verb, "PREPARE");
		break;
	}
	case COM_STMT_EXECUTE:
	case COM_STMT_BULK_EXECUTE:
	case COM_STMT_RESET:
	case COM_STMT_FETCH: {
		struct my_stmt *s = n >= 5 ? stmt_find(c, le32(p + 1)) : NULL;
		if (s && cmd != COM_STMT_RESET && cmd != COM_STMT_FETCH)
			strcpy(verb, s->verb);
		else
			strcpy(verb, cmd == COM_STMT_RESET ? "RESET" : cmd == COM_STMT_FETCH ? "FETCH" : "EXECUTE");
		if (s)
			stext = s->text;
		break;
	}
	case COM_INIT_DB: {
		size_t k = n - 1 < MY_DB_MAX - 1 ? n - 1 : MY_DB_MAX - 1;
		strcpy(verb, "USE");
		/* the current database for this and later commands (kept on an ERR too) */
		for (size_t i = 0; i < k; i++)
			c->db[i] = p[1 + i] >= 0x20 && p[1 + i] < 0x7f ? (char)p[1 + i] : '?';
		c->db[k] = 0;
		break;
	}
	case COM_PING:
		strcpy(verb, "PING");
		break;
	case COM_BINLOG_DUMP:
	case COM_BINLOG_DUMP_GTID:
		return; /* replication: the caller stops */
	default:
		break;
	}
	if (c->q_len == MY_PENDING_MAX) /* the core expires it as unanswered too */
		pending_pop(c);
	struct my_pending *q = &c->q[(c->q_head + c->q_len) % MY_PENDING_MAX];
	q->cmd = cmd;
	q->text = cmd == COM_STMT_PREPARE ? strdup(text) : NULL;
	c->q_len++;
	emit_request(c, ZT_FRAME_REQUEST, cmd, verb, stext, start, end, size);
	if (c->rs == RS_IDLE) {
		c->rs = cmd == COM_CHANGE_USER ? RS_AUTH : RS_FIRST;
		c->resp_size = 0;
	}
}

/* ------------------------------------------------------------ handshake */

static void on_greeting(struct my_conn *c, const uint8_t *p, size_t n)
{
	size_t i = 1;
	while (i < n && p[i])
		i++;
	c->mariadb = memmem(p + 1, i - 1, "MariaDB", 7) != NULL;
	i++; /* NUL */
	/* connection id 4, scramble 8, filler 1, caps low 2, charset 1, status 2, caps high 2 */
	if (i + 13 + 2 <= n)
		c->server_caps = le16(p + i + 13);
	if (i + 13 + 7 <= n)
		c->server_caps |= le16(p + i + 13 + 5) << 16;
}

/* The client's handshake response (or SSLRequest). 1 when the connection turns to TLS. */
static int on_hs_response(struct my_conn *c, const uint8_t *p, size_t n, uint32_t len)
{
	size_t i;
	if (n < 4)
		return 0;
	c->client_caps = le32(p);
	c->caps_known = 1;
	if ((c->client_caps & CLIENT_SSL) && len == 32)
		return 1;
	c->deprecate_eof = (c->client_caps & CLIENT_DEPRECATE_EOF) ? 1 : 0;
	if (c->server_caps && !(c->server_caps & CLIENT_DEPRECATE_EOF))
		c->deprecate_eof = 0;
	if (!(c->client_caps & CLIENT_CONNECT_WITH_DB) || n < 32)
		return 0;
	/* caps 4, max packet 4, charset 1, filler 23, user NUL-terminated, auth data, database */
	for (i = 32; i < n && p[i]; i++)
		;
	if (++i >= n)
		return 0;
	if (c->client_caps & CLIENT_PLUGIN_AUTH_LENENC) {
		uint64_t v;
		size_t w = lenenc(p + i, n - i, &v);
		if (!w || v > n)
			return 0;
		i += w + v;
	} else if (c->client_caps & CLIENT_SECURE_CONNECTION) {
		i += 1 + (size_t)p[i];
	} else {
		while (i < n && p[i])
			i++;
		i++;
	}
	size_t k = 0;
	for (; i < n && p[i] && k < MY_DB_MAX - 1; i++)
		c->db[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	c->db[k] = 0;
	return 0;
}

/* ------------------------------------------------------------ responses */

static void on_err(struct my_conn *c, const uint8_t *p, size_t n)
{
	c->resp_status = ZT_STATUS_FAILED;
	c->err_code = n >= 3 ? (uint16_t)le16(p + 1) : 0;
	c->sqlstate[0] = 0;
	if (n >= 9 && p[3] == '#') {
		for (int i = 0; i < 5; i++)
			c->sqlstate[i] = p[4 + i] >= 0x20 && p[4 + i] < 0x7f ? (char)p[4 + i] : '?';
		c->sqlstate[5] = 0;
	}
}

/* One result (OK or terminator) ended with status flags st. */
static void result_end(struct my_conn *c, uint32_t st, uint64_t ts)
{
	if (st & SERVER_MORE_RESULTS_EXISTS)
		c->rs = RS_FIRST;
	else
		emit_response(c, ts);
}

/* A terminator of column definitions or rows: EOF (5 bytes) or OK (DEPRECATE_EOF). */
static uint32_t terminator_status(const uint8_t *p, size_t n, uint32_t len)
{
	if (len < 7)
		return n >= 5 ? le16(p + 3) : 0;
	return ok_status(p, n);
}

static void on_response(struct my_conn *c, const uint8_t *p, size_t n, uint32_t len, uint64_t ts)
{
	uint32_t cmd = c->q_len ? c->q[c->q_head].cmd : COM_QUERY;
	uint8_t h = n ? p[0] : 0;
	uint64_t v;

	c->resp_size += (uint64_t)len + 4;
	c->resp_last_ts = ts;
	if (!n && c->rs != RS_COLS && c->rs != RS_ROWS)
		return;
	switch (c->rs) {
	case RS_IDLE: /* a response to a command not seen: read it all the same */
	case RS_FIRST:
		if (c->rs == RS_IDLE)
			c->resp_size = (uint64_t)len + 4;
		c->rs = RS_FIRST;
		if (h == 0xff) {
			on_err(c, p, n);
			emit_response(c, ts);
		} else if (h == 0x00 && cmd == COM_STMT_PREPARE && n >= 9) {
			uint32_t cols = le16(p + 5), params = le16(p + 7);
			if (c->q_len && c->q[c->q_head].text) {
				stmt_add(c, le32(p + 1), c->q[c->q_head].text);
				c->q[c->q_head].text = NULL;
			}
			c->defs_left = params ? params : cols;
			c->prep_cols = params ? cols : 0;
			c->prep_eofs = c->deprecate_eof == 1 ? 0 : (params != 0) + (cols != 0);
			if (!c->defs_left)
				emit_response(c, ts);
			else
				c->rs = RS_PREP_DEFS;
		} else if (h == 0x00 || (h == 0xfe && len < 9 && cmd != COM_STMT_FETCH)) {
			/* OK, or EOF (COM_SET_OPTION, COM_DEBUG, old servers) */
			result_end(c, h == 0xfe && len < 7 ? (n >= 5 ? le16(p + 3) : 0) : ok_status(p, n), ts);
		} else if (h == 0xfb && cmd == COM_QUERY) {
			c->rs = RS_INFILE;
		} else if (cmd == COM_STATISTICS) {
			emit_response(c, ts); /* a bare string */
		} else if (cmd == COM_FIELD_LIST || cmd == COM_STMT_FETCH) {
			/* column definitions or rows until a terminator */
			c->rs = RS_ROWS;
			if (h == 0xfe && len < MY_PACKET_MAX)
				result_end(c, terminator_status(p, n, len), ts);
		} else {
			size_t w = lenenc(p, n, &v);
			if (!w || !v) {
				c->rs = RS_LOST; /* not a response we know: wait for the next command */
				break;
			}
			/* MariaDB's cached metadata: one more byte, 0 = no definitions follow */
			c->defs_left = (len == w + 1 && n > w && p[w] == 0) ? 0 : v;
			c->rs = c->defs_left ? RS_COLS : c->deprecate_eof == 1 ? RS_ROWS : RS_COLS_EOF;
		}
		break;
	case RS_COLS:
		if (!--c->defs_left)
			c->rs = c->deprecate_eof == 1 ? RS_ROWS : RS_COLS_EOF;
		break;
	case RS_COLS_EOF:
		if (h == 0xfe && len < 9) {
			if (len >= 7) { /* an OK: DEPRECATE_EOF after all, and no rows */
				c->deprecate_eof = 1;
				result_end(c, ok_status(p, n), ts);
				break;
			}
			uint32_t st = n >= 5 ? le16(p + 3) : 0;
			if (cmd == COM_STMT_EXECUTE && (st & SERVER_STATUS_CURSOR_EXISTS))
				result_end(c, st, ts); /* rows come with COM_STMT_FETCH */
			else
				c->rs = RS_ROWS;
			break;
		}
		if (h == 0xff) {
			on_err(c, p, n);
			emit_response(c, ts);
			break;
		}
		/* a row: no EOF after the definitions (DEPRECATE_EOF learnt late) */
		if (c->deprecate_eof == 2)
			c->deprecate_eof = 1;
		c->rs = RS_ROWS;
		break;
	case RS_ROWS:
		if (n && h == 0xfe && len < MY_PACKET_MAX && (len < 9 || c->deprecate_eof == 1)) {
			result_end(c, terminator_status(p, n, len), ts);
		} else if (n && h == 0xff && len < MY_PACKET_MAX) {
			on_err(c, p, n); /* an error while sending rows */
			emit_response(c, ts);
		}
		break;
	case RS_PREP_DEFS:
		if (c->defs_left) {
			if (--c->defs_left)
				break;
			if (!c->prep_eofs && c->deprecate_eof != 2 && !c->prep_cols) {
				emit_response(c, ts);
			} else if (!c->prep_eofs && c->deprecate_eof != 2) {
				c->defs_left = c->prep_cols;
				c->prep_cols = 0;
			}
			break;
		}
		/* an EOF after a block of definitions */
		if (h == 0xfe && len < 9) {
			if (c->deprecate_eof == 2)
				c->deprecate_eof = 0;
			c->prep_eofs = c->prep_eofs ? c->prep_eofs - 1 : 0;
			if (c->prep_cols) {
				c->defs_left = c->prep_cols;
				c->prep_cols = 0;
			} else {
				emit_response(c, ts);
			}
		}
		break;
	case RS_INFILE:
	case RS_AUTH:
		if (h == 0x00 || h == 0xff) {
			if (h == 0xff)
				on_err(c, p, n);
			emit_response(c, ts);
		}
		break;
	default:
		break;
	}
}

/*
 * A prepare's definitions ended and DEPRECATE_EOF is unknown (a connection
 * joined after its handshake): an EOF would follow in the same message.
 * The end of the message without one ends the response.
 */
static void prep_defs_flush(struct my_conn *c, uint64_t ts)
{
	if (c->rs == RS_PREP_DEFS && !c->defs_left && c->deprecate_eof == 2) {
		if (c->prep_cols) {
			c->defs_left = c->prep_cols;
			c->prep_cols = 0;
		} else {
			emit_response(c, ts);
		}
	}
}

/* ------------------------------------------------------------ parse */

/* What one packet is, by phase and direction; 1 when capture must stop (TLS, replication, bad data). */
static uint32_t on_packet(struct my_conn *c, uint32_t dir, const uint8_t *p, size_t n, uint32_t len, uint32_t seq,
			  int cut, uint64_t start, uint64_t ts)
{
	int is_req;

	if (c->phase == PH_GREETING) {
		if (seq == 0 && n >= 1 && p[0] == 0x0a) {
			/* a kernel rule claimed on a few bytes: the whole greeting must hold */
			if (!greeting_ok(p, n, len))
				return ZT_PARSE_IGNORED;
			on_greeting(c, p, n);
			c->req_dir = (int)(dir ^ 1);
			c->phase = PH_HS_RESPONSE;
			return ZT_PARSE_OK;
		}
		if (seq == 0 && n >= 1 && p[0] == 0xff && c->req_dir >= 0 && dir != (uint32_t)c->req_dir)
			return ZT_PARSE_IGNORED; /* refused before the handshake ("Host is blocked") */
		c->phase = PH_COMMAND; /* joined late: in the command phase (or in an auth exchange) */
	}
	if (c->req_dir < 0) {
		/* commands have sequence id 0, response packets never do */
		if (seq != 0 || !n || !my_command_name(p[0]))
			return ZT_PARSE_OK;
		c->req_dir = (int)dir;
	}
	is_req = dir == (uint32_t)c->req_dir;
	switch (c->phase) {
	case PH_HS_RESPONSE:
		if (!is_req)
			return n && p[0] == 0xff ? ZT_PARSE_IGNORED : ZT_PARSE_OK;
		if (on_hs_response(c, p, n, len))
			return ZT_PARSE_END_OF_STREAM; /* SSLRequest: the connection turns to TLS */
		c->phase = PH_AUTH;
		return ZT_PARSE_OK;
	case PH_AUTH:
		/* auth switch (0xfe) and more data (0x01) until OK or ERR */
		if (!is_req && n && p[0] == 0x00) {
			c->phase = PH_COMMAND;
			if (c->client_caps & CLIENT_COMPRESS)
				return ZT_PARSE_END_OF_STREAM; /* compressed framing from here on: not parsed */
		}
		else if (!is_req && n && p[0] == 0xff)
			return ZT_PARSE_IGNORED; /* access denied: the server closes */
		return ZT_PARSE_OK;
	default:
		break;
	}
	if (is_req) {
		if (c->rs == RS_INFILE) /* the file's contents, ended by an empty packet */
			return ZT_PARSE_OK;
		if (c->rs == RS_AUTH && seq != 0)
			return ZT_PARSE_OK;
		if (seq != 0 || !n)
			return ZT_PARSE_OK; /* a continuation or an auth answer: not a command */
		if (!my_command_name(p[0]))
			return ZT_PARSE_INVALID; /* not a command: resynchronize on a later message */
		if (p[0] == COM_BINLOG_DUMP || p[0] == COM_BINLOG_DUMP_GTID)
			return ZT_PARSE_END_OF_STREAM;
		on_command(c, p, n, len, cut, start, ts);
		return ZT_PARSE_OK;
	}
	if (c->rs == RS_LOST) {
		c->resp_last_ts = ts;
		c->resp_size += (uint64_t)len + 4;
		return ZT_PARSE_OK;
	}
	on_response(c, p, n, len, ts);
	return ZT_PARSE_OK;
}

static uint32_t my_parse(void *state, void *conn_state, zt_conn *conn, const struct zt_chunk *ch, uint64_t *consumed)
{
	struct my_conn *c = conn_state;
	uint32_t dir = ch->direction & 1;
	int is_resp = c->req_dir >= 0 && dir != (uint32_t)c->req_dir;
	size_t pos = 0;
	(void)state;
	(void)conn;

	if ((ch->flags & ZT_CHUNK_GAP) && !c->lost[dir]) {
		/* bytes lost on the way (not a skip into uncaptured bytes, which
		 * set lost[] when it was made) */
		c->cont[dir] = 0;
		if (is_resp && c->rs != RS_IDLE) {
			c->rs = RS_LOST; /* the rest of this response is not parsable */
			c->resp_last_ts = ch->ts_ns;
		}
		c->lost[dir] = 1;
	}
	if (c->lost[dir]) {
		/* a message start that begins with a plausible header resynchronizes */
		/* a message start resynchronizes: a response's first message
		 * after the command (its previous answer was complete before the
		 * command), or what looks like a command (sequence id 0) */
		if (!(ch->flags & ZT_CHUNK_MSG_START) || (is_resp && c->rs == RS_LOST) ||
		    (!is_resp && ch->len >= 4 && ch->data[3] != 0)) {
			if (is_resp && c->rs == RS_LOST)
				c->resp_last_ts = ch->ts_ns;
			*consumed = ch->avail;
			return ZT_PARSE_OK;
		}
		c->lost[dir] = 0;
	}
	while (pos < ch->len) {
		const uint8_t *h = ch->data + pos;
		size_t have = ch->len - pos;
		uint32_t len, seq, r;
		int tail = ch->avail > ch->len; /* bytes after data[len] exist but were not captured */

		if (have < 4) {
			if (tail)
				goto lost;
			*consumed = pos;
			return ZT_PARSE_NEED_MORE;
		}
		len = le24(h);
		seq = h[3];
		size_t want = len;
		if (c->phase != PH_COMMAND)
			want = len < MY_HS_WANT ? len : MY_HS_WANT;
		else if (c->req_dir < 0 || dir == (uint32_t)c->req_dir)
			want = len < MY_REQ_WANT ? len : MY_REQ_WANT;
		else
			want = len < MY_RESP_WANT ? len : MY_RESP_WANT;
		if (c->cont[dir])
			want = 0;
		if (have - 4 < want && !tail) {
			*consumed = pos;
			return ZT_PARSE_NEED_MORE;
		}
		size_t n = have - 4 < len ? have - 4 : len;
		uint64_t start = pos ? ch->ts_ns : ch->first_ts_ns;
		if (c->cont[dir]) {
			/* the rest of a packet longer than 16 MiB - 1: no header inside */
			r = ZT_PARSE_OK;
			if (c->req_dir >= 0 && dir != (uint32_t)c->req_dir) {
				c->resp_size += (uint64_t)len + 4;
				c->resp_last_ts = ch->ts_ns;
			}
		} else {
			r = on_packet(c, dir, h + 4, n, len, seq, n < len, start, ch->ts_ns);
		}
		c->cont[dir] = len == MY_PACKET_MAX;
		if (r != ZT_PARSE_OK)
			return r;
		if ((uint64_t)pos + 4 + len >= ch->len) {
			uint64_t next = (uint64_t)pos + 4 + len;
			if (next == ch->avail)
				prep_defs_flush(c, ch->ts_ns);
			else if (next < ch->avail)
				goto lost; /* the next header is in bytes not captured */
			*consumed = next;
			return ZT_PARSE_OK;
		}
		pos += 4 + len;
	}
	prep_defs_flush(c, ch->ts_ns);
	*consumed = pos;
	return ZT_PARSE_OK;
lost:
	/* a header not captured: this direction's framing is lost */
	c->lost[dir] = 1;
	c->cont[dir] = 0;
	if (c->req_dir >= 0 && dir != (uint32_t)c->req_dir && c->rs != RS_IDLE) {
		c->rs = RS_LOST;
		c->resp_last_ts = ch->ts_ns;
	}
	*consumed = ch->avail;
	return ZT_PARSE_OK;
}

static const struct zt_protocol_ops my_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_protocol_ops, ZT_KIND_PROTOCOL),
	.metric_stem = "mysql_queries",
	.transports = ZT_TRANSPORT_TCP,
	.capture_bytes = MY_CAPTURE,
	.request_timeout_ns = MY_REQUEST_TIMEOUT_NS,
	.max_pending = MY_PENDING_MAX,
	.init = my_init,
	.fini = my_fini,
	.rules = my_rules,
	.detect = my_detect,
	.conn_open = my_open,
	.conn_close = my_close,
	.parse = my_parse,
};

ZT_PLUGIN_DEFINE(mysql, ZT_KIND_PROTOCOL, "1.0.0", "Apache-2.0",
		 "MySQL / MariaDB: queries, prepared statements and commands of both sides of a connection", my_config,
		 &my_ops);
