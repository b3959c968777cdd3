/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the prometheus exporter (renderer and HTTP server) against
 * tests/mockhost, and a promtool lint of a full scrape that includes the
 * node plugin's families from the real /proc. Plugin sources are compiled
 * in with -DZT_PLUGIN_BUILTIN; see build_test_prometheus.sh. The node
 * plugin's own tests are in plugins/discovery/node/test_node.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "../../exporters/prometheus/expo.h"
#include "mock_host.h"

const struct zt_plugin_desc *zt_builtin_entry_prometheus(void);
const struct zt_plugin_desc *zt_builtin_entry_node(void);

static int teardown(void **state)
{
	mock_reset();
	return 0;
}

/* Short constant labels keep the expected expositions readable. */
static int setup(void **state)
{
	mock_reset();
	mock_set_node_label("machine_id", "m1");
	mock_set_node_label("system_uuid", "u1");
	return 0;
}

/* ------------------------------------------------------------- renderer */

static const char *fmt(double v, char buf[PROM_DOUBLE_MAX])
{
	prom_format_double(v, buf);
	return buf;
}

static void test_format_double(void **state)
{
	char b[PROM_DOUBLE_MAX];

	assert_string_equal(fmt(0, b), "0");
	assert_string_equal(fmt(-0.0, b), "0");
	assert_string_equal(fmt(1, b), "1");
	assert_string_equal(fmt(-42, b), "-42");
	assert_string_equal(fmt(123456789012, b), "123456789012");
	assert_string_equal(fmt(4503599627370497.0, b), "4503599627370497"); /* odd, < 2^53: exact */
	assert_string_equal(fmt(0.1, b), "0.1");
	assert_string_equal(fmt(0.005, b), "0.005");
	assert_string_equal(fmt(2.5, b), "2.5");
	assert_string_equal(fmt(1e-7, b), "1e-07");
	assert_string_equal(fmt(1e20, b), "1e+20");
	assert_string_equal(fmt(NAN, b), "NaN");
	assert_string_equal(fmt(INFINITY, b), "+Inf");
	assert_string_equal(fmt(-INFINITY, b), "-Inf");
	/* Every finite value reads back exactly. */
	const double samples[] = { 1.0 / 3, M_PI, 1e300, -2.2250738585072014e-308, 5e-324, 9007199254740993.0,
				   0.30000000000000004, 123.456, 1.7976931348623157e308 };
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		fmt(samples[i], b);
		assert_true(strtod(b, NULL) == samples[i]);
		assert_null(strchr(b, ','));
	}
	assert_string_equal(fmt(1.0 / 3, b), "0.3333333333333333");
}

static char *escaped(struct zt_str v, int label)
{
	struct prom_buf b;

	assert_int_equal(prom_buf_init(&b, 0), 0);
	if (label)
		prom_put_label_value(&b, v);
	else
		prom_put_help(&b, v);
	prom_buf_putc(&b, 0);
	assert_int_equal(b.err, 0);
	return b.data;
}

static void expect_escape(const char *in, size_t n, int label, const char *want)
{
	char *got = escaped((struct zt_str){ in, n }, label);
	assert_string_equal(got, want);
	free(got);
}

static void test_escaping(void **state)
{
	expect_escape("a\\b\"c\nd", 7, 1, "a\\\\b\\\"c\\nd");
	expect_escape("a\\b\"c\nd", 7, 0, "a\\\\b\"c\\nd"); /* HELP keeps quotes */
	expect_escape("", 0, 1, "");
	expect_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, 1, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	expect_escape("a\xff" "b", 3, 1, "a\xef\xbf\xbd" "b");                 /* stray byte */
	expect_escape("\xc0\xaf", 2, 1, "\xef\xbf\xbd\xef\xbf\xbd");            /* overlong '/' */
	expect_escape("\xed\xa0\x80", 3, 1, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	expect_escape("x\xe2\x82", 3, 1, "x\xef\xbf\xbd\xef\xbf\xbd");          /* truncated */
	/* Only the given length counts, not a NUL further on. */
	expect_escape("abcdef", 3, 1, "abc");
}

static zt_metric *reg(const char *name, uint32_t type, const char *help, const char *const *labels, uint32_t n,
		      const double *buckets, uint32_t nb)
{
	struct zt_metric_desc d = {
		.struct_size = sizeof(d),
		.type = type,
		.name = name,
		.help = help,
		.labels = labels,
		.label_count = n,
		.buckets = buckets,
		.bucket_count = nb,
	};
	zt_metric *m = NULL;

	assert_int_equal(mock_host()->metric_register(NULL, &d, &m), 0);
	return m;
}

#define LV(...) ((const struct zt_str[]){ __VA_ARGS__ })

/* A small registry touching every rendering rule. */
static void fill_registry(void)
{
	static const char *const req_labels[] = { "method", "code" };
	static const char *const path_label[] = { "path" };
	static const double bounds[] = { 0.1, 0.5, 1 };
	const struct zt_host *h = mock_host();

	zt_metric *req = reg("test_requests_total", ZT_METRIC_COUNTER, "Requests served.", req_labels, 2, NULL, 0);
	h->metric_add(req, LV(ZT_STR("GET"), ZT_STR("200")), 3);
	h->metric_add(req, LV(ZT_STR("PO\"ST\\\n"), ZT_STR("500")), 1);
	zt_metric *temp = reg("test_temperature_celsius", ZT_METRIC_GAUGE, "Line one\\two\nthree.", NULL, 0, NULL, 0);
	h->metric_set(temp, NULL, -21.5);
	zt_metric *lat = reg("test_latency_seconds", ZT_METRIC_HISTOGRAM, "Latency.", path_label, 1, bounds, 3);
	/* Binary fractions, so the sum is exact: 2.5625. */
	h->metric_observe(lat, LV(ZT_STR("/a")), 0.0625);
	h->metric_observe(lat, LV(ZT_STR("/a")), 0.25);
	h->metric_observe(lat, LV(ZT_STR("/a")), 0.25);
	h->metric_observe(lat, LV(ZT_STR("/a")), 2);
	reg("test_empty_info", ZT_METRIC_GAUGE, "", NULL, 0, NULL, 0); /* no series, no help */
}

static const char expected_exposition[] =
	"# HELP test_requests_total Requests served.\n"
	"# TYPE test_requests_total counter\n"
	"test_requests_total{machine_id=\"m1\",system_uuid=\"u1\",method=\"GET\",code=\"200\"} 3\n"
	"test_requests_total{machine_id=\"m1\",system_uuid=\"u1\",method=\"PO\\\"ST\\\\\\n\",code=\"500\"} 1\n"
	"# HELP test_temperature_celsius Line one\\\\two\\nthree.\n"
	"# TYPE test_temperature_celsius gauge\n"
	"test_temperature_celsius{machine_id=\"m1\",system_uuid=\"u1\"} -21.5\n"
	"# HELP test_latency_seconds Latency.\n"
	"# TYPE test_latency_seconds histogram\n"
	"test_latency_seconds_bucket{machine_id=\"m1\",system_uuid=\"u1\",path=\"/a\",le=\"0.1\"} 1\n"
	"test_latency_seconds_bucket{machine_id=\"m1\",system_uuid=\"u1\",path=\"/a\",le=\"0.5\"} 3\n"
	"test_latency_seconds_bucket{machine_id=\"m1\",system_uuid=\"u1\",path=\"/a\",le=\"1\"} 3\n"
	"test_latency_seconds_bucket{machine_id=\"m1\",system_uuid=\"u1\",path=\"/a\",le=\"+Inf\"} 4\n"
	"test_latency_seconds_sum{machine_id=\"m1\",system_uuid=\"u1\",path=\"/a\"} 2.5625\n"
	"test_latency_seconds_count{machine_id=\"m1\",system_uuid=\"u1\",path=\"/a\"} 4\n"
	"# TYPE test_empty_info gauge\n";

static char *render_all(void)
{
	struct prom_buf b;

	assert_int_equal(prom_buf_init(&b, 0), 0);
	assert_int_equal(prom_render(mock_host(), &b), 0);
	prom_buf_putc(&b, 0);
	assert_int_equal(b.err, 0);
	return b.data;
}

static void test_render_exact(void **state)
{
	fill_registry();
	char *out = render_all();
	assert_string_equal(out, expected_exposition);
	free(out);
}

/* Views built by hand: no labels at all, a histogram without finite
 * buckets, a type from a future core. */
static void test_render_edge_views(void **state)
{
	struct prom_buf b;
	struct zt_family_view f = { sizeof(f), ZT_METRIC_HISTOGRAM, ZT_STR("h"), ZT_STR(""), 1, 0 };
	struct zt_series_view s = { .struct_size = sizeof(s), .sum = 0.5, .count = 7 };

	assert_int_equal(prom_buf_init(&b, 0), 0);
	prom_render_series(&b, &f, &s);
	f.type = 99;
	f.name = ZT_STR("u");
	s.value = 1e-3;
	prom_render_family(&b, &f);
	prom_render_series(&b, &f, &s);
	prom_buf_putc(&b, 0);
	assert_string_equal(b.data, "h_bucket{le=\"+Inf\"} 7\nh_sum 0.5\nh_count 7\n# TYPE u untyped\nu 0.001\n");
	prom_buf_free(&b);
}

static void test_render_limit(void **state)
{
	struct prom_buf b;

	fill_registry();
	assert_int_equal(prom_buf_init(&b, 0), 0);
	b.limit = 100; /* far below the exposition's size */
	assert_int_equal(prom_render(mock_host(), &b), -E2BIG);
	assert_true(b.len <= 100);
	prom_buf_free(&b);
}

static void test_accepts_gzip(void **state)
{
	assert_false(prom_accepts_gzip(NULL));
	assert_false(prom_accepts_gzip(""));
	assert_true(prom_accepts_gzip("gzip"));
	assert_true(prom_accepts_gzip("GZip"));
	assert_true(prom_accepts_gzip("deflate, gzip;q=0.5"));
	assert_true(prom_accepts_gzip("x-gzip"));
	assert_true(prom_accepts_gzip("*"));
	assert_true(prom_accepts_gzip("gzip ; q=1.0"));
	assert_false(prom_accepts_gzip("gzip;q=0"));
	assert_false(prom_accepts_gzip("gzip;q=0.000, identity"));
	assert_false(prom_accepts_gzip("*;q=0"));
	assert_false(prom_accepts_gzip("gzip;q=0, *"));    /* gzip's own entry wins */
	assert_true(prom_accepts_gzip("*;q=0, gzip"));
	assert_false(prom_accepts_gzip("deflate, br"));
	assert_false(prom_accepts_gzip("gzipx, xgzip"));
}

/* ------------------------------------------------------------ http client */

struct resp {
	int status;
	char *head; /* status line and headers, NUL-terminated */
	char *body;
	size_t body_len;
};

static void resp_free(struct resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* A plain HTTP/1.1 exchange over a fresh connection: enough of a client
 * to see exactly what the server sends. */
static int http(int family, int port, const char *method, const char *path, const char *headers, struct resp *r)
{
	struct sockaddr_storage ss = { 0 };
	struct timeval tv = { 5, 0 };
	char *raw = NULL, req[512];
	size_t len = 0, cap = 0;
	socklen_t sl;
	int fd, n;

	memset(r, 0, sizeof(*r));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -errno;
	}
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s\r\n", method, path,
		     headers ? headers : "");
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			raw = realloc(raw, cap + 1);
			assert_non_null(raw);
		}
		ssize_t got = recv(fd, raw + len, cap - len, 0);
		assert_true(got >= 0); /* a timeout fails the test instead of hanging */
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	raw[len] = 0;
	char *end = strstr(raw, "\r\n\r\n");
	assert_non_null(end);
	assert_int_equal(sscanf(raw, "HTTP/1.1 %d", &r->status), 1);
	r->head = strndup(raw, (size_t)(end - raw) + 2);
	r->body_len = len - (size_t)(end + 4 - raw);
	r->body = malloc(r->body_len + 1);
	assert_true(r->head && r->body);
	memcpy(r->body, end + 4, r->body_len);
	r->body[r->body_len] = 0;
	free(raw);
	return 0;
}

static int has_header(const struct resp *r, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strcasestr(r->head, want) != NULL;
}

static char *gunzip(const char *in, size_t n, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = n * 8 + 1024;
	char *out = malloc(cap + 1);
	int zr;

	assert_non_null(out);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	do {
		if (z.total_out == cap) {
			cap *= 2;
			out = realloc(out, cap + 1);
			assert_non_null(out);
		}
		z.next_out = (Bytef *)out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
		assert_true(zr == Z_OK || zr == Z_STREAM_END);
	} while (zr != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);
	*out_len = z.total_out;
	out[*out_len] = 0;
	inflateEnd(&z);
	return out;
}

/* The exporter's own scrape counters change from one scrape to the next;
 * comparisons of two bodies leave them out. */
static char *without_self_metrics(const char *body)
{
	char *out = malloc(strlen(body) + 1), *o = out;
	const char *p = body;

	assert_non_null(out);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (!memmem(p, n, "zerotap_exporter_", 17)) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = 0;
	return out;
}

/* Starts the exporter and learns its ephemeral port from the log line. */
static struct mock_plugin *start_exporter(const char *config, const char *log_prefix, int *port)
{
	struct mock_plugin *p = NULL;
	char tail[64];

	mock_log_clear();
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, config, &p), 0);
	assert_int_equal(mock_log_after(log_prefix, tail, sizeof(tail)), 0);
	*port = atoi(tail);
	assert_true(*port > 0 && *port < 65536);
	return p;
}

/* -------------------------------------------------------------- http tests */

static void test_http_metrics(void **state)
{
	struct resp r;
	char listen[64], line[256];
	int port;

	fill_registry();
	struct mock_plugin *p = start_exporter("{\"listen\":\"127.0.0.1:0\"}", "listening on http://127.0.0.1:", &port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);

	assert_int_equal(http(AF_INET, port, "GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_null(strcasestr(r.head, "Content-Encoding"));
	assert_true(has_header(&r, "Vary: Accept-Encoding"));
	/* Registration order; the first scrape renders before counting
	 * itself, so the exporter's families have no series yet. */
	assert_memory_equal(r.body, expected_exposition, strlen(expected_exposition));
	assert_string_equal(r.body + strlen(expected_exposition),
			    "# HELP zerotap_exporter_scrapes_total Scrapes served by the Prometheus exporter.\n"
			    "# TYPE zerotap_exporter_scrapes_total counter\n"
			    "# HELP zerotap_exporter_scrape_duration_seconds Time the last scrape took to collect, "
			    "render and compress.\n"
			    "# TYPE zerotap_exporter_scrape_duration_seconds gauge\n"
			    "# HELP zerotap_exporter_scrape_bytes Size of the last exposition before compression.\n"
			    "# TYPE zerotap_exporter_scrape_bytes gauge\n");
	size_t first_len = r.body_len;
	resp_free(&r);
	assert_true(mock_metric_value("zerotap_exporter_scrapes_total", "prometheus", listen, NULL) == 1);
	assert_true(mock_metric_value("zerotap_exporter_scrape_bytes", "prometheus", listen, NULL) == first_len);
	double d = mock_metric_value("zerotap_exporter_scrape_duration_seconds", "prometheus", listen, NULL);
	assert_true(d >= 0 && d < 5);

	assert_int_equal(http(AF_INET, port, "GET", "/metrics?x=1", NULL, &r), 0); /* the query is not the path */
	assert_int_equal(r.status, 200);
	snprintf(line, sizeof(line),
		 "zerotap_exporter_scrapes_total{machine_id=\"m1\",system_uuid=\"u1\",exporter=\"prometheus\","
		 "listen=\"%s\"} 1\n",
		 listen);
	assert_non_null(strstr(r.body, line));
	resp_free(&r);

	/* HEAD: the same headers, no body. */
	assert_int_equal(http(AF_INET, port, "HEAD", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	resp_free(&r);
	mock_plugin_stop(p);
}

static void test_http_gzip(void **state)
{
	struct resp plain, gz;
	size_t n;
	int port;

	fill_registry();
	struct mock_plugin *p = start_exporter("{\"listen\":\"127.0.0.1:0\"}", "listening on http://127.0.0.1:", &port);
	assert_int_equal(http(AF_INET, port, "GET", "/metrics", NULL, &plain), 0);
	assert_int_equal(http(AF_INET, port, "GET", "/metrics", "Accept-Encoding: gzip, deflate\r\n", &gz), 0);
	assert_int_equal(gz.status, 200);
	assert_true(has_header(&gz, "Content-Encoding: gzip"));
	char *inflated = gunzip(gz.body, gz.body_len, &n);
	char *a = without_self_metrics(plain.body), *b = without_self_metrics(inflated);
	assert_string_equal(a, b);
	assert_non_null(strstr(b, expected_exposition));
	free(a);
	free(b);
	free(inflated);
	resp_free(&gz);

	/* q=0 refuses gzip. */
	assert_int_equal(http(AF_INET, port, "GET", "/metrics", "Accept-Encoding: gzip;q=0\r\n", &gz), 0);
	assert_null(strcasestr(gz.head, "Content-Encoding"));
	assert_non_null(strstr(gz.body, expected_exposition));
	resp_free(&gz);
	resp_free(&plain);
	mock_plugin_stop(p);

	/* gzip off: plain even when the client asks. */
	p = start_exporter("{\"listen\":\"127.0.0.1:0\",\"gzip\":false}", "listening on http://127.0.0.1:", &port);
	assert_int_equal(http(AF_INET, port, "GET", "/metrics", "Accept-Encoding: gzip\r\n", &gz), 0);
	assert_null(strcasestr(gz.head, "Content-Encoding"));
	assert_null(strcasestr(gz.head, "Vary"));
	assert_non_null(strstr(gz.body, expected_exposition));
	resp_free(&gz);
	mock_plugin_stop(p);
}

static void test_http_paths(void **state)
{
	struct resp r;
	int port;

	struct mock_plugin *p = start_exporter("{\"listen\":\"127.0.0.1:0\",\"path\":\"/custom/metrics\"}",
					       "listening on http://127.0.0.1:", &port);
	assert_true(mock_log_contains("/custom/metrics"));
	assert_int_equal(http(AF_INET, port, "GET", "/", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Content-Type: text/html; charset=utf-8"));
	assert_non_null(strstr(r.body, "<a href=\"/custom/metrics\">"));
	resp_free(&r);

	assert_int_equal(http(AF_INET, port, "GET", "/healthz", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	resp_free(&r);

	assert_int_equal(http(AF_INET, port, "GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 404);
	resp_free(&r);

	assert_int_equal(http(AF_INET, port, "GET", "/custom/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);

	assert_int_equal(http(AF_INET, port, "POST", "/custom/metrics", "Content-Length: 0\r\n", &r), 0);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: GET, HEAD"));
	resp_free(&r);
	mock_plugin_stop(p);
}

/* One response from a kept-alive connection, framed by Content-Length. */
static void read_response(int fd, struct resp *r)
{
	char buf[65536];
	size_t len = 0, want = 0;
	char *end = NULL;

	memset(r, 0, sizeof(*r));
	while (!end || len < want) {
		ssize_t got = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		assert_true(got > 0);
		len += (size_t)got;
		buf[len] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			assert_non_null(cl);
			want = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
			assert_true(want < sizeof(buf));
		}
	}
	assert_int_equal(len, want); /* nothing beyond this response */
	assert_int_equal(sscanf(buf, "HTTP/1.1 %d", &r->status), 1);
	r->head = strndup(buf, (size_t)(end - buf) + 2);
	r->body_len = len - (size_t)(end + 4 - buf);
	r->body = strndup(end + 4, r->body_len);
	assert_true(r->head && r->body);
}

/* Prometheus reuses its connection every interval: the server must not
 * close it after a scrape (MHD does for an "early" response). */
static void test_http_keepalive(void **state)
{
	static const char req1[] = "GET /metrics HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n";
	static const char req2[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 5, 0 };
	struct resp r;
	int port;

	fill_registry();
	struct mock_plugin *p = start_exporter("{\"listen\":\"127.0.0.1:0\"}", "listening on http://127.0.0.1:", &port);
	a.sin_port = htons((uint16_t)port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(send(fd, req1, sizeof(req1) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req1) - 1);
		read_response(fd, &r);
		assert_int_equal(r.status, 200);
		assert_null(strcasestr(r.head, "Connection: close"));
		assert_true(has_header(&r, "Content-Encoding: gzip"));
		resp_free(&r);
	}
	assert_int_equal(send(fd, req2, sizeof(req2) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req2) - 1);
	read_response(fd, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	resp_free(&r);
	close(fd);
	mock_plugin_stop(p);
}

static void test_http_ipv6(void **state)
{
	struct resp r;
	struct mock_plugin *p = NULL;
	int port, err;

	err = mock_plugin_start(zt_builtin_entry_prometheus, NULL, "{\"listen\":\"[::1]:0\"}", &p);
	if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT)
		skip(); /* no IPv6 loopback in this sandbox */
	assert_int_equal(err, 0);
	char tail[64];
	assert_int_equal(mock_log_after("listening on http://[::1]:", tail, sizeof(tail)), 0);
	port = atoi(tail);
	assert_int_equal(http(AF_INET6, port, "GET", "/healthz", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	mock_plugin_stop(p);
}

static void expect_default(zt_instance *inst, const char *key, const char *want)
{
	struct zt_str v;
	assert_int_equal(mock_host()->config_string(inst, key, &v), 0);
	assert_int_equal(v.len, strlen(want));
	assert_memory_equal(v.ptr, want, v.len);
}

static void test_config_defaults(void **state)
{
	const struct zt_plugin_desc *d = zt_builtin_entry_prometheus();
	zt_instance *inst = NULL;
	int64_t n = 0;
	uint32_t b = 0;

	assert_int_equal(mock_plugin_check(d), 0);
	assert_int_equal(d->kind, ZT_KIND_EXPORTER);
	assert_string_equal(d->name, "prometheus");
	assert_int_equal(mock_instance_create("prometheus", NULL, d->config, &inst), 0);
	expect_default(inst, "listen", "127.0.0.1:9105"); /* loopback unless the operator opens it */
	expect_default(inst, "path", "/metrics");
	assert_int_equal(mock_host()->config_bool(inst, "gzip", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(mock_host()->config_int(inst, "max_connections", &n), 0);
	assert_int_equal(n, 16);
	assert_int_equal(mock_host()->config_int(inst, "timeout_s", &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(mock_host()->config_int(inst, "nope", &n), -ENOENT);
}

static void test_config_errors(void **state)
{
	static const char *const bad[] = {
		"nonsense", "127.0.0.1", "127.0.0.1:", ":9105", "127.0.0.1:99999", "127.0.0.1:9x", "300.1.1.1:80",
		"localhost:9105", "::1:9105", "[::1]9105", "[::1:9105", "[nothex]:1", "1.2.3.4:123456",
	};
	struct mock_plugin *p = NULL, *q = NULL;
	char cfg[128];
	int port;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mock_log_clear();
		snprintf(cfg, sizeof(cfg), "{\"listen\":\"%s\"}", bad[i]);
		assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, cfg, &p), -EINVAL);
		assert_true(mock_log_contains("is not a numeric"));
	}
	mock_log_clear();
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, "{\"path\":\"metrics\"}", &p), -EINVAL);
	assert_true(mock_log_contains("must start with /"));
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, "{\"path\":\"/a\\\"b\"}", &p), -EINVAL);
	/* The schema itself, as the core enforces it. */
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, "{\"port\":1}", &p), -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, "{\"max_connections\":0}", &p),
			 -EINVAL);
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, "{\"gzip\":\"yes\"}", &p), -EINVAL);

	/* A busy port. */
	p = start_exporter("{\"listen\":\"127.0.0.1:0\"}", "listening on http://127.0.0.1:", &port);
	snprintf(cfg, sizeof(cfg), "{\"listen\":\"127.0.0.1:%d\"}", port);
	mock_log_clear();
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, "second", cfg, &q), -EADDRINUSE);
	assert_true(mock_log_contains("ERROR second: listen 127.0.0.1:"));
	assert_true(mock_log_contains("address already in use"));
	mock_plugin_stop(p);
	/* Freed on stop: the same port binds again at once. */
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, "second", cfg, &q), 0);
	mock_plugin_stop(q);
	/* An address this host does not have. */
	assert_int_equal(mock_plugin_start(zt_builtin_entry_prometheus, NULL, "{\"listen\":\"192.0.2.1:0\"}", &p),
			 -EADDRNOTAVAIL);
}

/* ---------------------------------------------------------------- promtool */

static void test_promtool(void **state)
{
	char path[] = "/tmp/zt-expo-XXXXXX", cmd[256], out[4096] = "";
	struct resp r;
	struct mock_plugin *node = NULL;
	int port, fd;

	/* Everything together: the sample registry, the real node families
	 * of this machine and the exporter's own, served over HTTP. */
	fill_registry();
	assert_int_equal(mock_plugin_start(zt_builtin_entry_node, NULL, NULL, &node), 0);
	struct mock_plugin *p = start_exporter("{\"listen\":\"127.0.0.1:0\"}", "listening on http://127.0.0.1:", &port);
	assert_int_equal(http(AF_INET, port, "GET", "/metrics", NULL, &r), 0);
	resp_free(&r);
	assert_int_equal(http(AF_INET, port, "GET", "/metrics", NULL, &r), 0); /* now with self-metrics */
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\nnode_resources_cpu_logical_cores{"));
	assert_non_null(strstr(r.body, "\nzerotap_exporter_scrape_bytes{"));
	mock_plugin_stop(p);
	mock_plugin_stop(node);

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		resp_free(&r);
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, r.body, r.body_len), (ssize_t)r.body_len);
	close(fd);
	resp_free(&r);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	int status = pclose(f);
	unlink(path);
	if (status != 0)
		print_error("promtool said:\n%s\n", out);
	assert_int_equal(status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test_setup_teardown(test_render_exact, setup, teardown),
		cmocka_unit_test(test_render_edge_views),
		cmocka_unit_test_setup_teardown(test_render_limit, setup, teardown),
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test_setup_teardown(test_http_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promtool, setup, teardown),
	};
	return cmocka_run_group_tests_name("prometheus", tests, NULL, NULL);
}
