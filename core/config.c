/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonpos.h"
#include "netclass.h"

/* A config file is a few kilobytes; the cap only stops a mistaken path
 * (a log, a device) from being read into memory whole. */
#define CFG_MAX_FILE (16u << 20)
#define NAME_MAX_LEN 64

struct cfg_file {
	char *path;
	struct jsonpos *pos; /* kept: plugin configs are validated after load */
};

/* The agent section's keys; the order is that of enum agent_key. */
enum agent_key {
	AK_LOG_LEVEL, AK_PLUGIN_DIR, AK_MAX_SERIES, AK_AZ, AK_REGION, AK_DRAIN, AK_BPF_STATS,
	AK_TCP_POLL, AK_MAX_PEERS, AK_ZONES, AK_L7_LOCAL_ONCE, AK_N
};
static const struct zt_config_field agent_fields[] = {
	{ "log_level", ZT_CFG_STRING, 0, NULL, NULL, 0, -1 },
	{ "plugin_dir", ZT_CFG_STRING, 0, NULL, NULL, 0, -1 },
	{ "max_series_per_family", ZT_CFG_INT, 0, NULL, NULL, 1, 10000000 },
	{ "az", ZT_CFG_STRING, 0, NULL, NULL, 0, -1 },
	{ "region", ZT_CFG_STRING, 0, NULL, NULL, 0, -1 },
	{ "drain_interval_ms", ZT_CFG_INT, 0, NULL, NULL, 1, 1000 },
	{ "bpf_stats", ZT_CFG_BOOL, 0, NULL, NULL, 0, -1 },
	{ "tcp_poll_interval_ms", ZT_CFG_INT, 0, NULL, NULL, 100, 3600000 },
	{ "max_peers_per_container", ZT_CFG_INT, 0, NULL, NULL, 1, 100000 },
	{ "zones", ZT_CFG_OBJECT, 0, NULL, NULL, 0, -1 },
	{ "l7_local_once", ZT_CFG_BOOL, 0, NULL, NULL, 0, -1 },
	ZT_CFG_END,
};

static const struct zt_config_field inst_fields[] = {
	{ "plugin", ZT_CFG_STRING, 0, NULL, NULL, 0, -1 },
	{ "enabled", ZT_CFG_BOOL, 0, NULL, NULL, 0, -1 },
	{ "required", ZT_CFG_BOOL, 0, NULL, NULL, 0, -1 },
	{ "path", ZT_CFG_STRING, 0, NULL, NULL, 0, -1 },
	{ "config", ZT_CFG_OBJECT, 0, NULL, NULL, 0, -1 },
	ZT_CFG_END,
};

static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };

struct loader {
	struct zt_config *cfg;
	size_t f;                     /* index of the file being applied */
	struct cfg_loc agent_at[AK_N]; /* where each agent key was set; file NULL = not yet */
	char *err;
	size_t errlen;
};

/* ------------------------------------------------------------ messages */

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, const struct cfg_loc *loc,
						       const char *fmt, ...)
{
	va_list ap;
	int n = 0;
	if (!err || !errlen)
		return -EINVAL;
	if (loc && loc->file && loc->line > 0)
		n = snprintf(err, errlen, "%s:%d:%d: ", loc->file, loc->line, loc->col);
	else if (loc && loc->file)
		n = snprintf(err, errlen, "%s: ", loc->file);
	if (n < 0 || (size_t)n >= errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A missing entry still names the file: positions only decorate. */
static struct cfg_loc loc_of(const struct zt_config *cfg, size_t f, const struct jsonpos_ent *e, int value)
{
	struct cfg_loc l = { f < cfg->n_files ? cfg->files[f].path : NULL, 0, 0 };
	if (e) {
		l.line = value ? e->val_line : e->key_line;
		l.col = value ? e->val_col : e->key_col;
	}
	return l;
}

static const char *type_name(uint32_t t)
{
	switch (t) {
	case ZT_CFG_STRING: return "string";
	case ZT_CFG_INT: return "int";
	case ZT_CFG_DOUBLE: return "double";
	case ZT_CFG_BOOL: return "bool";
	case ZT_CFG_STRING_LIST: return "string list";
	case ZT_CFG_OBJECT: return "object";
	}
	return "unknown type";
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "double";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_NULL: return "null";
	}
	return "?";
}

/*
 * 0 if v is a valid f->type (and within [min, max] for a bounded INT).
 * Otherwise -EINVAL, the reason in msg and in *elem the index of the
 * offending list element, or -1 when v itself is at fault.
 */
static int check_value(const struct zt_config_field *f, const json_t *v, long *elem, char *msg, size_t len)
{
	int ok;
	*elem = -1;
	switch (f->type) {
	case ZT_CFG_STRING: ok = json_is_string(v); break;
	case ZT_CFG_INT: ok = json_is_integer(v); break;
	case ZT_CFG_DOUBLE: ok = json_is_number(v); break;
	case ZT_CFG_BOOL: ok = json_is_boolean(v); break;
	case ZT_CFG_OBJECT: ok = json_is_object(v); break;
	case ZT_CFG_STRING_LIST: ok = json_is_array(v); break;
	default:
		snprintf(msg, len, "key has unknown type %u", f->type);
		return -EINVAL;
	}
	if (!ok) {
		snprintf(msg, len, "expected %s, found %s", type_name(f->type), json_kind(v));
		return -EINVAL;
	}
	if (f->type == ZT_CFG_STRING_LIST) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i))) {
				*elem = (long)i;
				snprintf(msg, len, "element %zu: expected string, found %s", i,
					 json_kind(json_array_get(v, i)));
				return -EINVAL;
			}
	}
	if (f->type == ZT_CFG_INT && f->min <= f->max) {
		json_int_t n = json_integer_value(v);
		if (n < f->min || n > f->max) {
			if (f->flags & ZT_CFG_F_SECRET)
				snprintf(msg, len, "value hidden, out of range [%lld, %lld]", (long long)f->min,
					 (long long)f->max);
			else
				snprintf(msg, len, "%lld is out of range [%lld, %lld]", (long long)n,
					 (long long)f->min, (long long)f->max);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct zt_config_field *field_find(const struct zt_config_field *schema, const char *key)
{
	for (; schema && schema->key; schema++)
		if (!strcmp(schema->key, key))
			return schema;
	return NULL;
}

/* Edit distance, for "did you mean": short keys only, so two small rows. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[2][NAME_MAX_LEN + 1];
	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *prev = row[(i - 1) & 1], *cur = row[i & 1];
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	}
	return row[la & 1][lb];
}

/* "; did you mean 'x'?" when a declared key is a typo away (one edit per
 * four characters, plus one) from what was written, else "". */
static void suggest(const struct zt_config_field *schema, const char *key, char *out, size_t len)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	out[0] = '\0';
	for (; schema && schema->key; schema++) {
		size_t d = distance(key, schema->key);
		if (d <= 1 + strlen(schema->key) / 4 && d < best_d) {
			best = schema->key;
			best_d = d;
		}
	}
	if (best)
		snprintf(out, len, "; did you mean '%s'?", best);
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > NAME_MAX_LEN)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* ------------------------------------------------------------- reading */

static int read_text(const char *path, char **text, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, err = 0;

	*text = NULL;
	/* O_NONBLOCK: a FIFO put where a config was expected must not hang
	 * the agent in open(); it is then refused as not a regular file */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > CFG_MAX_FILE) {
		err = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	/* st_size is a hint: the file may change while we read it */
	for (;;) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r == 0 || (got += (size_t)r) == (size_t)st.st_size)
			break;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static int io_fail(char *err, size_t errlen, const char *path, int rc)
{
	struct cfg_loc l = { path, 0, 0 };
	const char *why = rc == -EINVAL ? "not a regular file" :
			  rc == -EFBIG	? "larger than 16 MiB, not a config file" :
					  strerror(-rc);
	fail(err, errlen, &l, "%s", why);
	return rc == -EINVAL ? -EIO : rc;
}

/* jansson flags some allocation failures and leaves others (failing to
 * set up its lexer) with no text at all; a real syntax error has both. */
static int jansson_oom(const json_error_t *je)
{
	return json_error_code(je) == json_error_out_of_memory || !je->text[0];
}

/* jansson quotes the text near a syntax error, which could be a secret
 * (the schema is not known yet): keep only its description. */
static void strip_context(char *text)
{
	char *near = strstr(text, " near '");
	if (near)
		*near = '\0';
}

static void unescape_last(const char *path, char *out, size_t len)
{
	const char *seg = strrchr(path, '/');
	size_t o = 0;
	for (seg = seg ? seg + 1 : path; *seg && o + 1 < len; seg++) {
		if (seg[0] == '~' && (seg[1] == '0' || seg[1] == '1'))
			out[o++] = *++seg == '0' ? '~' : '/';
		else
			out[o++] = *seg;
	}
	out[o] = '\0';
}

/* Parses file f of cfg into *root and indexes the positions of its keys. */
static int parse_file(struct zt_config *cfg, size_t f, json_t **root, char *err, size_t errlen)
{
	struct cfg_file *cf = &cfg->files[f];
	const struct jsonpos_ent *first, *dup;
	struct cfg_loc l = { cf->path, 0, 0 };
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*root = NULL;
	rc = read_text(cf->path, &text, &len);
	if (rc) {
		rc = io_fail(err, errlen, cf->path, rc);
		goto out;
	}
	*root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!*root) {
		/* jansson points after the second key; we can name both */
		if (json_error_code(&je) == json_error_duplicate_key && !jsonpos_build(text, len, &cf->pos) &&
		    jsonpos_duplicate(cf->pos, &first, &dup)) {
			char key[128];
			unescape_last(dup->path, key, sizeof(key));
			l = loc_of(cfg, f, dup, 0);
			rc = fail(err, errlen, &l, "duplicate key '%s' in the same object; first defined at %s:%d:%d",
				  key, cf->path, first->key_line, first->key_col);
			goto out;
		}
		if (jansson_oom(&je)) {
			rc = -ENOMEM;
			goto out;
		}
		strip_context(je.text);
		l.line = je.line;
		l.col = je.column > 0 ? je.column : 1;
		rc = fail(err, errlen, &l, "invalid JSON: %s", je.text);
		goto out;
	}
	rc = jsonpos_build(text, len, &cf->pos);
	if (rc) {
		if (rc != -ENOMEM)
			rc = fail(err, errlen, &l, "cannot index key positions");
		goto out;
	}
	if (!json_is_object(*root)) {
		l = loc_of(cfg, f, jsonpos_find(cf->pos, ""), 1);
		rc = fail(err, errlen, &l, "the top level must be an object, found %s", json_kind(*root));
	}
out:
	if (rc) {
		json_decref(*root);
		*root = NULL;
	}
	free(text);
	return rc;
}

/* ------------------------------------------------------------ applying */

static int set_str(char **dst, const char *s)
{
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static int check_field(struct loader *ld, const struct zt_config_field *f, const json_t *v,
		       const struct jsonpos_ent *e, const char *subject)
{
	char msg[256];
	long elem;
	struct cfg_loc l = loc_of(ld->cfg, ld->f, e, 1);
	if (!check_value(f, v, &elem, msg, sizeof(msg)))
		return 0;
	return fail(ld->err, ld->errlen, &l, "%s: %s", subject, msg);
}

/*
 * "zones": { "10.1.0.0/16": "eu-west-1a", ... }. Each entry goes through the
 * same parser the TCP module uses at run time, so what loads is what runs;
 * a bad CIDR is reported at its key, a bad zone name at its value.
 */
static int apply_zones(struct loader *ld, const json_t *obj)
{
	struct zt_config *cfg = ld->cfg;
	const struct jsonpos *jp = cfg->files[ld->f].pos;
	struct netclass *nc = NULL;
	const char *cidr;
	json_t *v;
	size_t n = json_object_size(obj), i = 0;
	int rc = netclass_new("", &nc);

	if (rc)
		return rc;
	cfg->zone_cidrs = calloc(n ? n : 1, sizeof(char *));
	cfg->zone_names = calloc(n ? n : 1, sizeof(char *));
	if (!cfg->zone_cidrs || !cfg->zone_names) {
		rc = -ENOMEM;
		goto out;
	}
	json_object_foreach((json_t *)obj, cidr, v) {
		const struct jsonpos_ent *e = jsonpos_findv(jp, "agent", "zones", cidr, NULL);
		struct cfg_loc kl = loc_of(cfg, ld->f, e, 0), vl = loc_of(cfg, ld->f, e, 1);
		const char *zone = json_string_value(v);

		if (!zone || !*zone || strlen(zone) > 255) {
			rc = fail(ld->err, ld->errlen, &vl,
				  "agent key 'zones': the zone of '%s' must be a non-empty string of at most 255 bytes",
				  cidr);
			goto out;
		}
		rc = netclass_add_cidr(nc, cidr, zone);
		if (rc == -ENOMEM)
			goto out;
		if (rc == -EEXIST) {
			rc = fail(ld->err, ld->errlen, &kl,
				  "agent key 'zones': '%s' is the same network as an earlier entry with another zone", cidr);
			goto out;
		}
		if (rc) {
			rc = fail(ld->err, ld->errlen, &kl,
				  "agent key 'zones': '%s' is not a CIDR (like 10.1.0.0/16 or 2001:db8::/32)", cidr);
			goto out;
		}
		cfg->zone_cidrs[i] = strdup(cidr);
		cfg->zone_names[i] = strdup(zone);
		cfg->n_zones = ++i;
		if (!cfg->zone_cidrs[i - 1] || !cfg->zone_names[i - 1]) {
			rc = -ENOMEM;
			goto out;
		}
	}
out:
	netclass_free(nc);
	return rc;
}

static int apply_agent_key(struct loader *ld, enum agent_key k, const json_t *v, const struct cfg_loc *vl)
{
	struct zt_config *cfg = ld->cfg;
	const char *s = json_string_value(v);
	size_t i;

	switch (k) {
	case AK_LOG_LEVEL:
		for (i = 0; log_levels[i] && strcmp(log_levels[i], s); i++)
			;
		if (!log_levels[i])
			return fail(ld->err, ld->errlen, vl,
				    "agent key 'log_level': '%s' is not one of error, warn, info, debug", s);
		return set_str(&cfg->log_level, s);
	case AK_PLUGIN_DIR:
		if (!*s)
			return fail(ld->err, ld->errlen, vl, "agent key 'plugin_dir' must not be empty");
		return set_str(&cfg->plugin_dir, s);
	case AK_MAX_SERIES: cfg->max_series_per_family = json_integer_value(v); return 0;
	case AK_AZ: return set_str(&cfg->az, s);
	case AK_REGION: return set_str(&cfg->region, s);
	case AK_DRAIN: cfg->drain_interval_ms = json_integer_value(v); return 0;
	case AK_BPF_STATS: cfg->bpf_stats = json_is_true(v); return 0;
	case AK_TCP_POLL: cfg->tcp_poll_interval_ms = json_integer_value(v); return 0;
	case AK_MAX_PEERS: cfg->max_peers_per_container = json_integer_value(v); return 0;
	case AK_ZONES: return apply_zones(ld, v);
	case AK_L7_LOCAL_ONCE: cfg->l7_local_once = json_is_true(v); return 0;
	case AK_N: break;
	}
	return -EINVAL;
}

static int apply_agent(struct loader *ld, const json_t *agent, const struct jsonpos_ent *at)
{
	const struct jsonpos *jp = ld->cfg->files[ld->f].pos;
	const char *key;
	json_t *v;
	struct cfg_loc l;
	char hint[96], subject[96];
	int rc;

	if (!json_is_object(agent)) {
		l = loc_of(ld->cfg, ld->f, at, 1);
		return fail(ld->err, ld->errlen, &l, "'agent' must be an object, found %s", json_kind(agent));
	}
	json_object_foreach((json_t *)agent, key, v) {
		const struct jsonpos_ent *e = jsonpos_findv(jp, "agent", key, NULL);
		const struct zt_config_field *f = field_find(agent_fields, key);
		struct cfg_loc vl = loc_of(ld->cfg, ld->f, e, 1);
		enum agent_key k;

		l = loc_of(ld->cfg, ld->f, e, 0);
		if (!f) {
			suggest(agent_fields, key, hint, sizeof(hint));
			return fail(ld->err, ld->errlen, &l, "unknown agent key '%s'%s", key, hint);
		}
		k = (enum agent_key)(f - agent_fields);
		if (ld->agent_at[k].file)
			return fail(ld->err, ld->errlen, &l,
				    "duplicate definition of agent key '%s'; first defined at %s:%d:%d", key,
				    ld->agent_at[k].file, ld->agent_at[k].line, ld->agent_at[k].col);
		snprintf(subject, sizeof(subject), "agent key '%s'", key);
		rc = check_field(ld, f, v, e, subject);
		if (!rc)
			rc = apply_agent_key(ld, k, v, &vl);
		if (rc)
			return rc;
		ld->agent_at[k] = l;
	}
	return 0;
}

static int add_instance(struct zt_config *cfg, struct cfg_instance **out)
{
	struct cfg_instance *a = realloc(cfg->inst, (cfg->n_inst + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	cfg->inst = a;
	*out = memset(&a[cfg->n_inst++], 0, sizeof(*a));
	return 0;
}

static int apply_instance(struct loader *ld, const char *name, const json_t *obj, const struct cfg_loc *at)
{
	const struct jsonpos *jp = ld->cfg->files[ld->f].pos;
	struct cfg_instance *ci;
	const char *key;
	json_t *v, *conf = NULL;
	char hint[96], subject[160];
	int rc;

	rc = add_instance(ld->cfg, &ci);
	if (rc)
		return rc;
	ci->loc = *at;
	ci->file_idx = ld->f;
	ci->name = strdup(name);
	ci->plugin = strdup(name);
	if (!ci->name || !ci->plugin)
		return -ENOMEM;
	json_object_foreach((json_t *)obj, key, v) {
		const struct jsonpos_ent *e = jsonpos_findv(jp, "plugins", name, key, NULL);
		const struct zt_config_field *f = field_find(inst_fields, key);
		struct cfg_loc kl = loc_of(ld->cfg, ld->f, e, 0), vl = loc_of(ld->cfg, ld->f, e, 1);

		if (!f) {
			suggest(inst_fields, key, hint, sizeof(hint));
			return fail(ld->err, ld->errlen, &kl, "plugin instance '%s': unknown key '%s'%s", name, key,
				    hint);
		}
		snprintf(subject, sizeof(subject), "plugin instance '%s': key '%s'", name, key);
		rc = check_field(ld, f, v, e, subject);
		if (rc)
			return rc;
		if (!strcmp(key, "plugin")) {
			if (!name_ok(json_string_value(v)))
				return fail(ld->err, ld->errlen, &vl,
					    "%s: '%s' is not a plugin name ([a-z0-9_-], 1 to 64 characters)", subject,
					    json_string_value(v));
			rc = set_str(&ci->plugin, json_string_value(v));
		} else if (!strcmp(key, "path")) {
			if (json_string_value(v)[0] != '/')
				return fail(ld->err, ld->errlen, &vl, "%s: must be an absolute path", subject);
			rc = set_str(&ci->path, json_string_value(v));
		} else if (!strcmp(key, "enabled")) {
			ci->enabled = json_is_true(v);
		} else if (!strcmp(key, "required")) {
			ci->required = json_is_true(v);
		} else {
			conf = v;
		}
		if (rc)
			return rc;
	}
	ci->config = conf ? json_incref(conf) : json_object();
	if (!ci->config)
		return -ENOMEM;
	ci->config_canon = json_dumps(ci->config, JSON_COMPACT | JSON_SORT_KEYS);
	return ci->config_canon ? 0 : -ENOMEM;
}

static int apply_plugins(struct loader *ld, const json_t *plugins, const struct jsonpos_ent *at)
{
	struct zt_config *cfg = ld->cfg;
	const char *name;
	json_t *v;
	struct cfg_loc l;
	int rc;

	if (!json_is_object(plugins)) {
		l = loc_of(cfg, ld->f, at, 1);
		return fail(ld->err, ld->errlen, &l, "'plugins' must be an object, found %s", json_kind(plugins));
	}
	json_object_foreach((json_t *)plugins, name, v) {
		const struct jsonpos_ent *e = jsonpos_findv(cfg->files[ld->f].pos, "plugins", name, NULL);
		const struct cfg_instance *prev = config_find(cfg, name);
		struct cfg_loc vl = loc_of(cfg, ld->f, e, 1);

		l = loc_of(cfg, ld->f, e, 0);
		if (!name_ok(name))
			return fail(ld->err, ld->errlen, &l,
				    "'%s' is not a valid plugin instance name ([a-z0-9_-], 1 to 64 characters)", name);
		if (prev)
			return fail(ld->err, ld->errlen, &l, "plugin instance '%s' is already defined at %s:%d:%d",
				    name, prev->loc.file, prev->loc.line, prev->loc.col);
		if (!json_is_object(v))
			return fail(ld->err, ld->errlen, &vl, "plugin instance '%s' must be an object, found %s", name,
				    json_kind(v));
		rc = apply_instance(ld, name, v, &l);
		if (rc)
			return rc;
	}
	return 0;
}

/* Parses one more file into ld->cfg and merges it. */
static int apply_file(struct loader *ld, const char *path)
{
	struct zt_config *cfg = ld->cfg;
	struct cfg_file *files;
	json_t *root = NULL, *v;
	const char *key;
	int rc;

	files = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*files));
	if (!files)
		return -ENOMEM;
	cfg->files = files;
	files[cfg->n_files].pos = NULL;
	files[cfg->n_files].path = strdup(path);
	if (!files[cfg->n_files].path)
		return -ENOMEM;
	ld->f = cfg->n_files++;

	rc = parse_file(cfg, ld->f, &root, ld->err, ld->errlen);
	if (rc)
		goto out;
	json_object_foreach(root, key, v) {
		const struct jsonpos_ent *e = jsonpos_findv(files[ld->f].pos, key, NULL);
		struct cfg_loc l = loc_of(cfg, ld->f, e, 0);
		if (!strcmp(key, "agent")) {
			rc = apply_agent(ld, v, e);
		} else if (!strcmp(key, "plugins")) {
			rc = apply_plugins(ld, v, e);
		} else {
			rc = fail(ld->err, ld->errlen, &l, "unknown top-level key '%s' (expected 'agent' or 'plugins')",
				  key);
		}
		if (rc)
			goto out;
	}
out:
	json_decref(root);
	return rc;
}

static int dropin_filter(const struct dirent *de)
{
	size_t n = strlen(de->d_name);
	/* editors and package managers leave dotfiles behind; skip them */
	return de->d_name[0] != '.' && n > 5 && !strcmp(de->d_name + n - 5, ".json");
}

/* Bytewise, not locale order: the merge order must not depend on LANG. */
static int dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int apply_dropins(struct loader *ld, const char *main_path)
{
	const char *slash = strrchr(main_path, '/');
	struct dirent **list = NULL;
	char *dir = NULL, *path = NULL;
	int n = 0, rc = -ENOMEM;
	size_t dlen;

	/* "a.json" -> "conf.d", "/a.json" -> "/conf.d", "/e/a.json" -> "/e/conf.d" */
	dlen = slash ? (size_t)(slash - main_path) + 8 : 7;
	dir = malloc(dlen);
	if (!dir)
		goto out;
	if (slash)
		snprintf(dir, dlen, "%.*s/conf.d", (int)(slash - main_path), main_path);
	else
		snprintf(dir, dlen, "conf.d");
	n = scandir(dir, &list, dropin_filter, dropin_cmp);
	if (n < 0) {
		rc = errno == ENOENT ? 0 : io_fail(ld->err, ld->errlen, dir, -errno);
		n = 0;
		goto out;
	}
	rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		size_t plen = strlen(dir) + strlen(list[i]->d_name) + 2;
		free(path);
		path = malloc(plen);
		if (!path) {
			rc = -ENOMEM;
			break;
		}
		snprintf(path, plen, "%s/%s", dir, list[i]->d_name);
		rc = apply_file(ld, path);
	}
out:
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	free(path);
	free(dir);
	return rc;
}

int config_load(const char *main_path, struct zt_config **out, char *err, size_t errlen)
{
	struct loader ld = { .err = err, .errlen = errlen };
	struct zt_config *cfg;
	int rc = -ENOMEM;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		goto out;
	ld.cfg = cfg;
	cfg->log_level = strdup("info");
	cfg->plugin_dir = strdup(ZT_DEFAULT_PLUGIN_DIR);
	cfg->az = strdup("");
	cfg->region = strdup("");
	cfg->max_series_per_family = 10000;
	cfg->drain_interval_ms = 50;
	cfg->l7_local_once = 1;
	cfg->tcp_poll_interval_ms = 5000;
	cfg->max_peers_per_container = 200;
	if (!cfg->log_level || !cfg->plugin_dir || !cfg->az || !cfg->region)
		goto out;
	rc = apply_file(&ld, main_path);
	if (!rc)
		rc = apply_dropins(&ld, main_path);
out:
	if (rc == -ENOMEM)
		fail(err, errlen, NULL, "%s: out of memory", main_path);
	if (rc) {
		config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

void config_free(struct zt_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_inst; i++) {
		struct cfg_instance *ci = &cfg->inst[i];
		free(ci->name);
		free(ci->plugin);
		free(ci->path);
		json_decref(ci->config);
		free(ci->config_canon);
	}
	for (size_t i = 0; i < cfg->n_files; i++) {
		free(cfg->files[i].path);
		jsonpos_free(cfg->files[i].pos);
	}
	free(cfg->inst);
	free(cfg->files);
	free(cfg->log_level);
	free(cfg->plugin_dir);
	free(cfg->az);
	free(cfg->region);
	for (size_t i = 0; i < cfg->n_zones; i++) {
		free(cfg->zone_cidrs[i]);
		free(cfg->zone_names[i]);
	}
	free(cfg->zone_cidrs);
	free(cfg->zone_names);
	free(cfg);
}

const struct cfg_instance *config_find(const struct zt_config *cfg, const char *instance)
{
	for (size_t i = 0; cfg && instance && i < cfg->n_inst; i++)
		if (cfg->inst[i].name && !strcmp(cfg->inst[i].name, instance))
			return &cfg->inst[i];
	return NULL;
}

/* ---------------------------------------------------------- validation */

/* The schema is the plugin's; its defaults are checked like user values. */
static int check_defaults(const struct cfg_instance *ci, const struct zt_config_field *schema, char *err,
			  size_t errlen)
{
	json_error_t je;
	char msg[256];
	long elem;
	int rc = 0;

	for (const struct zt_config_field *f = schema; f && f->key && !rc; f++) {
		json_t *d;
		if (f->type < ZT_CFG_STRING || f->type > ZT_CFG_OBJECT) {
			rc = fail(err, errlen, NULL, "plugin '%s': config key '%s' has unknown type %u", ci->plugin,
				  f->key, f->type);
			break;
		}
		if (!f->default_json)
			continue;
		d = json_loads(f->default_json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
		if (!d && jansson_oom(&je)) {
			rc = -ENOMEM;
			break;
		}
		if (d && f->type == ZT_CFG_INT && json_is_integer(d) && check_value(f, d, &elem, msg, sizeof(msg)))
			rc = fail(err, errlen, NULL, "plugin '%s': default of '%s' is out of range [%lld, %lld]",
				  ci->plugin, f->key, (long long)f->min, (long long)f->max);
		else if (!d || check_value(f, d, &elem, msg, sizeof(msg)))
			rc = fail(err, errlen, NULL, "plugin '%s': default of '%s' is not a valid %s", ci->plugin,
				  f->key, type_name(f->type));
		json_decref(d);
	}
	return rc;
}

int config_validate_instance(const struct zt_config *cfg, const struct cfg_instance *ci,
			     const struct zt_config_field *schema, json_t **resolved, char *err, size_t errlen)
{
	const struct jsonpos *jp = ci->file_idx < cfg->n_files ? cfg->files[ci->file_idx].pos : NULL;
	const struct zt_config_field *f;
	json_t *res = NULL, *v;
	const char *key;
	char msg[256], hint[96];
	long elem;
	int rc;

	*resolved = NULL;
	if (err && errlen)
		err[0] = '\0';
	rc = check_defaults(ci, schema, err, errlen);
	if (rc)
		goto out;
	json_object_foreach(ci->config, key, v) {
		const struct jsonpos_ent *e = jsonpos_findv(jp, "plugins", ci->name, "config", key, NULL);
		struct cfg_loc l = loc_of(cfg, ci->file_idx, e, 0);

		if (!l.file)
			l = ci->loc;
		f = field_find(schema, key);
		if (!f) {
			suggest(schema, key, hint, sizeof(hint));
			rc = fail(err, errlen, &l, "plugin '%s' has no config key '%s' (instance '%s')%s", ci->plugin,
				  key, ci->name, hint);
			goto out;
		}
		if (check_value(f, v, &elem, msg, sizeof(msg))) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%ld", elem);
			if (elem >= 0)
				e = jsonpos_findv(jp, "plugins", ci->name, "config", key, idx, NULL);
			l = loc_of(cfg, ci->file_idx, e, 1);
			if (!l.file)
				l = ci->loc;
			rc = fail(err, errlen, &l, "instance '%s' (plugin '%s'): config key '%s': %s", ci->name,
				  ci->plugin, key, msg);
			goto out;
		}
	}
	for (f = schema; f && f->key; f++)
		if ((f->flags & ZT_CFG_F_REQUIRED) && !json_object_get(ci->config, f->key)) {
			rc = fail(err, errlen, &ci->loc, "instance '%s' (plugin '%s'): missing required config key '%s'",
				  ci->name, ci->plugin, f->key);
			goto out;
		}

	rc = -ENOMEM;
	res = json_object();
	if (!res)
		goto out;
	for (f = schema; f && f->key; f++) {
		v = json_object_get(ci->config, f->key);
		/* copies, so the plugin's view never shares nodes (nor their
		 * unlocked reference counts) with a config being reloaded */
		if (v)
			v = json_deep_copy(v);
		else if (f->default_json)
			v = json_loads(f->default_json, JSON_DECODE_ANY, NULL);
		else
			v = json_null();
		if (!v || json_object_set_new(res, f->key, v))
			goto out;
	}
	*resolved = res;
	res = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM)
		fail(err, errlen, &ci->loc, "out of memory");
	json_decref(res);
	return rc;
}
