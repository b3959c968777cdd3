/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus pull exporter: an HTTP endpoint (libmicrohttpd, on its own
 * internal thread) that renders a snapshot of the core's registry in the
 * text exposition format on every scrape.
 *
 * The dispatch thread only runs init and fini. Scrapes run on MHD's thread
 * and reach the core through host->metrics_collect, which copies the
 * registry before calling back, so a slow or huge scrape never holds up
 * capture.
 */
#define _GNU_SOURCE /* asprintf */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include <zerotap/plugin.h>

#include "expo.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define LISTEN_BACKLOG 64
/* Level 1 gets most of the size win on repetitive exposition text for a
 * fraction of the CPU of the default level; scrapes are agent overhead. */
#define GZIP_LEVEL Z_BEST_SPEED

static const struct zt_config_field prom_config[] = {
	{ "listen", ZT_CFG_STRING, 0, "\"127.0.0.1:9105\"",
	  "Address to serve on: \"IPv4:port\" or \"[IPv6]:port\", numeric only. Loopback by default; "
	  "set \"0.0.0.0:9105\" (or \"[::]:9105\", IPv6 only) for a Prometheus server on another host.",
	  1, 0 },
	{ "path", ZT_CFG_STRING, 0, "\"/metrics\"", "URL path of the exposition; \"/\" and \"/healthz\" are served too.", 1,
	  0 },
	{ "gzip", ZT_CFG_BOOL, 0, "true", "Compress the exposition when the scraper sends Accept-Encoding: gzip.", 1, 0 },
	{ "max_connections", ZT_CFG_INT, 0, "16", "Concurrent HTTP connections; more are refused.", 1, 4096 },
	{ "timeout_s", ZT_CFG_INT, 0, "10", "Idle HTTP connections are closed after this many seconds.", 1, 3600 },
	ZT_CFG_END,
};

struct prom_exporter {
	const struct zt_host *host;
	zt_instance *inst;
	struct MHD_Daemon *daemon;
	int listen_fd;            /* owned by the daemon once it started */
	char *path;
	char *index_html;
	uint32_t gzip;
	char listen_label[64];    /* the bound address, e.g. "[::1]:9105" */
	zt_metric *m_scrapes;
	zt_metric *m_duration;
	zt_metric *m_bytes;
	size_t size_hint;         /* last exposition size; only MHD's thread touches it */
};

/* ----------------------------------------------------------------- listen */

/* "1.2.3.4:80" or "[::1]:80"; numeric hosts only, so init never waits on
 * DNS on the dispatch thread. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN];
	const char *h, *colon, *p;
	size_t hlen;
	unsigned long port = 0;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		h = s;
		hlen = (size_t)(colon - s);
		if (memchr(h, ':', hlen))
			return -EINVAL; /* bare IPv6 needs brackets */
	}
	if (!hlen || hlen >= sizeof(host) || !colon[1] || strlen(colon + 1) > 5)
		return -EINVAL;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		*sslen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		*sslen = sizeof(*a);
	}
	return 0;
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, n, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, n, "%s:%u", ip, ntohs(a->sin_port));
	}
}

/*
 * We bind the socket ourselves and hand it to MHD: MHD_start_daemon only
 * says "failed", while bind(2) tells a busy port from a foreign address,
 * and getsockname() gives the real port when the config asks for 0.
 */
static int open_listener(struct prom_exporter *st, const char *listen_s)
{
	const struct zt_host *host = st->host;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int one = 1, err, fd;

	err = parse_listen(listen_s, &ss, &sslen);
	if (err) {
		host->log(st->inst, ZT_LOG_ERROR,
			  "listen \"%s\" is not a numeric \"IPv4:port\" or \"[IPv6]:port\" (port 0-65535)", listen_s);
		return err;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		host->log(st->inst, ZT_LOG_ERROR, "listen %s: socket: %s", listen_s, strerror(-err));
		return err;
	}
	/* REUSEADDR: a restarted agent must not wait out TIME_WAIT. V6ONLY:
	 * "[::]" means IPv6 only whatever net.ipv6.bindv6only says, so a
	 * second instance can own "0.0.0.0" on the same port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		err = -errno;
		if (err == -EADDRINUSE)
			host->log(st->inst, ZT_LOG_ERROR,
				  "listen %s: address already in use (another process or exporter instance owns the port)",
				  listen_s);
		else if (err == -EADDRNOTAVAIL)
			host->log(st->inst, ZT_LOG_ERROR, "listen %s: no such local address on this host", listen_s);
		else
			host->log(st->inst, ZT_LOG_ERROR, "listen %s: bind: %s", listen_s, strerror(-err));
		goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		err = -errno;
		host->log(st->inst, ZT_LOG_ERROR, "listen %s: %s", listen_s, strerror(-err));
		goto fail;
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		err = -errno;
		goto fail;
	}
	format_addr(&ss, st->listen_label, sizeof(st->listen_label));
	st->listen_fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

/* ----------------------------------------------------------------- serve */

static enum MHD_Result respond_static(struct MHD_Connection *c, unsigned int status, const char *type,
				      const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void count_scrape(struct prom_exporter *st, uint64_t t0, size_t bytes)
{
	const struct zt_host *host = st->host;
	const struct zt_str lv[] = {
		ZT_STR("prometheus"),
		{ st->listen_label, strlen(st->listen_label) },
	};

	host->metric_add(st->m_scrapes, lv, 1);
	host->metric_set(st->m_duration, lv, (double)(host->now_ns() - t0) / 1e9);
	host->metric_set(st->m_bytes, lv, (double)bytes);
}

static enum MHD_Result serve_metrics(struct prom_exporter *st, struct MHD_Connection *c)
{
	const struct zt_host *host = st->host;
	uint64_t t0 = host->now_ns();
	struct prom_buf b;
	struct MHD_Response *r = NULL;
	char *body = NULL, *gz = NULL;
	size_t len = 0, gzlen = 0;
	enum MHD_Result ret = MHD_NO;
	int err;

	prom_buf_init(&b, st->size_hint + st->size_hint / 8);
	err = prom_render(host, &b);
	if (err) {
		host->log(st->inst, ZT_LOG_WARN, "scrape failed: %s", strerror(-err));
		prom_buf_free(&b);
		return respond_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "scrape failed\n");
	}
	body = prom_buf_take(&b, &len);
	st->size_hint = len;
	if (st->gzip &&
	    prom_accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
		/* A failed compression still serves the plain body. */
		if (!prom_gzip(body, len, GZIP_LEVEL, &gz, &gzlen)) {
			free(body);
			body = NULL;
		}
	}
	/* MUST_FREE: MHD frees the buffer with free() when the response dies. */
	if (gz)
		r = MHD_create_response_from_buffer(gzlen, gz, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(gz);
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE_METRICS);
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (st->gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	count_scrape(st, t0, len);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	static int headers_seen; /* only its address is used, as a marker */
	struct prom_exporter *st = cls;

	/* Other methods get their answer at once; MHD then closes the
	 * connection instead of reading a body nobody wants. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n");
	/* A response queued on the first call (headers only) counts as an
	 * "early response" and MHD closes the connection after it. Waiting
	 * for the end of the (empty) request keeps scrape connections alive,
	 * which Prometheus reuses every interval. */
	if (*req_cls != &headers_seen) {
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a GET with a body: ignore the body */
		return MHD_YES;
	}
	/* MHD leaves the body out for HEAD itself. */
	if (!strcmp(url, st->path))
		return serve_metrics(st, c);
	if (!strcmp(url, "/"))
		return respond_static(c, MHD_HTTP_OK, "text/html; charset=utf-8", st->index_html);
	if (!strcmp(url, "/healthz"))
		return respond_static(c, MHD_HTTP_OK, "text/plain", "ok\n");
	return respond_static(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
}

/* MHD's own errors (accept failures, connection limit) into the agent log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct prom_exporter *st = cls;
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	st->host->log(st->inst, ZT_LOG_WARN, "http: %s", msg);
}

/* ------------------------------------------------------------- lifecycle */

static char *config_strdup(const struct zt_host *host, zt_instance *inst, const char *key, int *err)
{
	struct zt_str v;
	char *s;

	*err = host->config_string(inst, key, &v);
	if (*err)
		return NULL;
	s = strndup(v.ptr ? v.ptr : "", v.len);
	if (!s)
		*err = -ENOMEM;
	return s;
}

/* The path ends up in the index page's link; a plain URL alphabet keeps
 * that page free of any escaping. */
static int valid_path(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("/._~-", *p)))
			return 0;
	return 1;
}

static int register_self_metrics(struct prom_exporter *st)
{
	static const char *const labels[] = { "exporter", "listen" };
	struct zt_metric_desc d = {
		.struct_size = sizeof(d),
		.labels = labels,
		.label_count = 2,
	};
	int err;

	d.type = ZT_METRIC_COUNTER;
	d.name = "zerotap_exporter_scrapes_total";
	d.help = "Scrapes served by the Prometheus exporter.";
	err = st->host->metric_register(st->inst, &d, &st->m_scrapes);
	if (err)
		return err;
	d.type = ZT_METRIC_GAUGE;
	d.name = "zerotap_exporter_scrape_duration_seconds";
	d.help = "Time the last scrape took to collect, render and compress.";
	err = st->host->metric_register(st->inst, &d, &st->m_duration);
	if (err)
		return err;
	d.name = "zerotap_exporter_scrape_bytes";
	d.help = "Size of the last exposition before compression.";
	return st->host->metric_register(st->inst, &d, &st->m_bytes);
}

static void prom_destroy(struct prom_exporter *st)
{
	if (!st)
		return;
	if (st->daemon)
		MHD_stop_daemon(st->daemon); /* joins its thread, closes listen_fd */
	else if (st->listen_fd >= 0)
		close(st->listen_fd);
	free(st->path);
	free(st->index_html);
	free(st);
}

static int prom_init(const struct zt_host *host, zt_instance *inst, void **state)
{
	struct prom_exporter *st;
	char *listen_s = NULL;
	int64_t max_conn = 0, timeout = 0;
	int err, n;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->host = host;
	st->inst = inst;
	st->listen_fd = -1;

	listen_s = config_strdup(host, inst, "listen", &err);
	if (err)
		goto fail;
	st->path = config_strdup(host, inst, "path", &err);
	if (err)
		goto fail;
	if ((err = host->config_bool(inst, "gzip", &st->gzip)) ||
	    (err = host->config_int(inst, "max_connections", &max_conn)) ||
	    (err = host->config_int(inst, "timeout_s", &timeout)))
		goto fail;
	if (!valid_path(st->path)) {
		host->log(inst, ZT_LOG_ERROR, "path \"%s\" must start with / and use only [A-Za-z0-9/._~-]", st->path);
		err = -EINVAL;
		goto fail;
	}
	n = asprintf(&st->index_html,
		     "<html><head><title>zerotap</title></head><body><h1>zerotap</h1>"
		     "<p><a href=\"%s\">Metrics</a></p></body></html>\n",
		     st->path);
	if (n < 0) {
		st->index_html = NULL;
		err = -ENOMEM;
		goto fail;
	}
	err = register_self_metrics(st);
	if (err) {
		host->log(inst, ZT_LOG_ERROR, "registering self-metrics: %s", strerror(-err));
		goto fail;
	}
	err = open_listener(st, listen_s);
	if (err)
		goto fail;
	st->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL,
				      NULL, on_request, st, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
				      MHD_OPTION_LISTEN_SOCKET, st->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
				      (unsigned int)max_conn, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout,
				      MHD_OPTION_END);
	if (!st->daemon) {
		host->log(inst, ZT_LOG_ERROR, "listen %s: could not start the HTTP server", st->listen_label);
		err = -EIO;
		goto fail;
	}
	host->log(inst, ZT_LOG_INFO, "listening on http://%s%s", st->listen_label, st->path);
	free(listen_s);
	*state = st;
	return 0;
fail:
	free(listen_s);
	prom_destroy(st);
	return err;
}

static void prom_fini(void *state)
{
	prom_destroy(state);
}

static const struct zt_exporter_ops prom_ops = {
	.hdr = ZT_OPS_HEADER(struct zt_exporter_ops, ZT_KIND_EXPORTER),
	.init = prom_init,
	.fini = prom_fini,
};

ZT_PLUGIN_DEFINE(prometheus, ZT_KIND_EXPORTER, "0.1.0", "Apache-2.0",
		 "Prometheus text exposition over HTTP (pull)", prom_config, &prom_ops);
