/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.x plugin internals: the head parser (http_head.c) and the route
 * templating (http_route.c), pure functions over borrowed bytes, shared by
 * the plugin (http.c), its unit tests and its fuzzer. Nothing here
 * allocates or keeps state.
 */
#ifndef ZT_PLUGIN_HTTP_H
#define ZT_PLUGIN_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Limits (README.md, "Limits"). */
#define HTTP_HEAD_MAX 8192          /* start line + header fields + empty line */
#define HTTP_HEADERS_MAX 128        /* header field lines per head */
#define HTTP_METHOD_MAX 20          /* bytes of a method token */
#define HTTP_BODY_MAX (1ull << 50)  /* a larger Content-Length or chunk size is garbage */
#define HTTP_CHUNK_LINE_MAX 1024    /* chunk-size line with its extensions */
#define HTTP_TRAILERS_MAX 64        /* trailer field lines after the last chunk */
#define HTTP_ROUTE_MAX 96           /* bytes of a route template (the core keeps 128) */
#define HTTP_ROUTE_SEGMENTS 8       /* path segments kept in a route template */
#define HTTP_HOST_MAX 100           /* bytes of server.address */
#define HTTP_UA_MAX 128             /* bytes of user_agent.original */

/* Results of the line and head parsers. */
#define HP_OK 0
#define HP_INCOMPLETE 1 /* what is there is a valid prefix: more bytes needed */
#define HP_BAD 2        /* malformed */
#define HP_NOT_HTTP 3   /* a request line of another protocol (RTSP, SIP, HTTP/2 preface, "GET key") */

/* Known methods (RFC 9110 section 9, RFC 5789); anything else is M_OTHER. */
enum http_method {
	M_OTHER = 0,
	M_GET,
	M_HEAD,
	M_POST,
	M_PUT,
	M_DELETE,
	M_CONNECT,
	M_OPTIONS,
	M_TRACE,
	M_PATCH,
	M_COUNT,
};

/* "_OTHER" for M_OTHER, as the OpenTelemetry conventions name it. */
const char *http_method_name(uint32_t m);

/* A request line or status line. Pointers point into the parsed bytes. */
struct http_line {
	uint32_t is_response;
	uint32_t method;  /* request: enum http_method */
	uint32_t status;  /* response: 100..599 */
	uint32_t minor;   /* HTTP/1.<minor> */
	const uint8_t *target; /* request-target */
	size_t target_len;
	size_t len;       /* bytes of the line including its LF */
};

/*
 * Parses the start line at p[0..n). HP_INCOMPLETE when no LF came yet and
 * every byte so far fits the grammar; for a request, target/target_len
 * then hold the part of the target seen so far (method is known once its
 * SP came).
 */
int http_line_parse(const uint8_t *p, size_t n, struct http_line *l);

/* Message body framing of a head (RFC 9112 section 6). */
struct http_head {
	struct http_line line;
	uint32_t line_done;  /* the start line is complete (also with HP_INCOMPLETE) */
	uint32_t has_cl;     /* Content-Length present (valid; a bad one is HP_BAD) */
	uint32_t has_te;     /* Transfer-Encoding present */
	uint32_t chunked;    /* ... and its final coding is chunked */
	uint64_t cl;
	size_t len;          /* bytes of the head including the empty line */
	const uint8_t *host; /* Host field value (trimmed), NULL when absent */
	size_t host_len;
	const uint8_t *ua;   /* User-Agent field value (trimmed) */
	size_t ua_len;
};

/*
 * Parses a head (start line, fields, empty line) at p[0..n). At most
 * HTTP_HEAD_MAX bytes are looked at; a head that does not end within them
 * is HP_BAD. With HP_INCOMPLETE the fields of the complete lines are
 * filled in (line_done says whether the start line was one of them).
 */
int http_head_parse(const uint8_t *p, size_t n, struct http_head *h);

/*
 * Writes the route template of a request-target into out (NUL-terminated,
 * at most HTTP_ROUTE_MAX bytes plus the NUL; outcap must be larger) and
 * returns its length. Rules in README.md, "Route templates".
 */
size_t http_route(const uint8_t *target, size_t n, char *out, size_t outcap);

/*
 * server.address and server.port from a Host field value: lower-cased
 * host (IPv6 without brackets) into out, port into *port (0 when none).
 * Returns the host's length, 0 when the value is empty or not a plausible
 * host (it is then left out).
 */
size_t http_host(const uint8_t *v, size_t n, char *out, size_t outcap, uint32_t *port);

#endif
