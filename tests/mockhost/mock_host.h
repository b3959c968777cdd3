/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mock_host: a complete `struct zt_host` for plugin unit tests, without
 * the agent. A test links the plugin's sources compiled with
 * -DZT_PLUGIN_BUILTIN, hands zt_builtin_entry_<name> to mock_plugin_start()
 * and then drives and inspects everything the plugin did through the host:
 *
 *   config     from a JSON string, validated against the plugin's schema
 *              the way the core does it (unknown keys, types, int bounds,
 *              required keys, defaults filled in);
 *   metrics    an in-memory registry with the core's semantics (counters
 *              only grow, overflow series past max_series, -EEXIST for a
 *              conflicting definition) and lookup helpers for assertions;
 *              metrics_collect walks a copied snapshot with the constant
 *              labels machine_id and system_uuid first, as the core does;
 *   timers     recorded; mock_fire_timers() runs each one once;
 *   fd watches recorded; mock_fire_fd() runs a watch's callback;
 *   entities   process_set/remove, container_set/remove kept in tables;
 *   log        captured in a buffer ("LEVEL instance: message\n" lines);
 *              set MOCK_HOST_LOG=1 in the environment to echo to stderr.
 *
 * The mock is one global host (as the core is one per process). Every
 * function is thread-safe, so an exporter's own threads may call the host
 * while the test inspects it. mock_reset() frees everything; call it from
 * each test's teardown.
 *
 * See tests/mockhost/README.md for a worked example.
 */
#ifndef ZT_TESTS_MOCK_HOST_H
#define ZT_TESTS_MOCK_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <zerotap/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ lifecycle */

/* The host table to pass to a plugin's init (mock_plugin_start does). */
const struct zt_host *mock_host(void);
/* Frees every instance, metric, timer, watch, entity and log line and
 * restores the default node labels and the real clocks. Plugins still
 * running are NOT stopped: stop them first. */
void mock_reset(void);

/* ------------------------------------------------------- config, plugins */

/*
 * A plugin instance with its config. config_json is a JSON object (NULL
 * means "{}"). With a schema it is validated and completed like the core
 * does; a bad config logs the reason and returns -EINVAL. Without one the
 * accessors see the JSON as given. Freed by mock_reset().
 */
int mock_instance_create(const char *name, const char *config_json, const struct zt_config_field *schema,
			 zt_instance **out);
const char *mock_instance_name(zt_instance *inst);

struct mock_plugin {
	const struct zt_plugin_desc *desc;
	zt_instance *inst;
	void *state; /* what the plugin's init stored */
};

/* The loader's checks of a descriptor (magic, ABI, kind, name, ops header,
 * required callbacks). 0 or -EINVAL with the reason logged. */
int mock_plugin_check(const struct zt_plugin_desc *desc);
/*
 * Checks the descriptor from `entry`, creates an instance (named
 * instance_name, or the plugin's name when NULL) with config_json and
 * calls the ops' init. Returns init's result; on failure nothing is left
 * running and *out is untouched.
 */
int mock_plugin_start(zt_plugin_entry_fn entry, const char *instance_name, const char *config_json,
		      struct mock_plugin **out);
/* Calls fini, drops the instance's timers and fd watches (as the core
 * does when an instance stops) and frees p. NULL is a no-op. */
void mock_plugin_stop(struct mock_plugin *p);
/* Delivers a process event to a discovery plugin (no-op without the
 * callback). */
void mock_plugin_process_event(struct mock_plugin *p, const struct zt_process_event *ev);

/* --------------------------------------------------------------- metrics */

/*
 * Lookups take the family's own label values (not the constant labels),
 * in the family's label order, terminated by NULL:
 *
 *     mock_metric_value("node_net_interface_up", "eth0", NULL)
 *     mock_metric_value("node_uptime_seconds", NULL)
 *
 * A wrong number of values finds nothing.
 */
/* Counter/gauge value, or a histogram's sum. NAN when absent. */
double mock_metric_value(const char *name, ...);
/* 1 when the series exists. */
int mock_metric_exists(const char *name, ...);
/* Histogram observation count; 0 when absent. */
uint64_t mock_metric_hist_count(const char *name, ...);
/* Histogram cumulative count at upper bound `le` (+INFINITY = count);
 * UINT64_MAX when the series or bound does not exist. */
uint64_t mock_metric_hist_bucket(const char *name, double le, ...);
/* Series in a family (overflow included), or -1 when not registered. */
long mock_metric_series_count(const char *name);
/* ZT_METRIC_* of a family, 0 when not registered. */
uint32_t mock_metric_type(const char *name);
/* Updates that went to a family's overflow series. */
uint64_t mock_metric_overflowed(const char *name);
/* Default cardinality cap for families registered with max_series 0
 * (10000, like the core, until changed). */
void mock_set_default_max_series(uint32_t max);

/* ----------------------------------------------------------- event loop */

/* Armed timers of inst (NULL = of every instance). */
size_t mock_timer_count(zt_instance *inst);
/* Interval of inst's i-th armed timer in creation order; 0 if none. */
uint64_t mock_timer_interval(zt_instance *inst, size_t i);
/* Runs every timer armed at the time of the call once, in creation
 * order (a timer cancelled by an earlier callback is skipped). Returns how
 * many ran. */
int mock_fire_timers(void);

/* Watched fds of inst (NULL = every instance). */
size_t mock_fd_watch_count(zt_instance *inst);
/* 1 and the events when fd is watched, else 0. */
int mock_fd_watched(int fd, uint32_t *events);
/* Runs fd's watch callback with `events`; -ENOENT when not watched. */
int mock_fire_fd(int fd, uint32_t events);

/* ------------------------------------------------------------- entities */

struct mock_process {
	uint32_t pid;
	uint32_t ppid;
	char *comm;
	char *container_id;
	char *app_id;
	zt_instance *inst;
};

struct mock_container {
	char *container_id;
	char *name;
	char *image;
	char *runtime;
	zt_instance *inst;
};

/* Calls made so far, whatever their outcome. */
struct mock_calls {
	unsigned process_set;
	unsigned process_remove;
	unsigned container_set;
	unsigned container_remove;
	unsigned metrics_collect;
};

/* Borrowed until the entry changes or mock_reset(); NULL when absent. */
const struct mock_process *mock_process_get(uint32_t pid);
const struct mock_container *mock_container_get(const char *container_id);
size_t mock_process_count(void);
size_t mock_container_count(void);
struct mock_calls mock_calls(void);

/* ------------------------------------------------------ node, clock, log */

/* Node identity for node_label(); value NULL removes the label. Defaults:
 * machine_id, system_uuid, hostname as in mock_host.c. */
int mock_set_node_label(const char *name, const char *value);
/* Fixed clocks for now_ns()/wall_ns(); (0, 0) restores the real ones. */
void mock_set_clock(uint64_t mono_ns, uint64_t wall_ns);

/* 1 when the captured log contains needle. */
int mock_log_contains(const char *needle);
/* Copies what follows the first occurrence of needle up to the end of its
 * line into out (NUL-terminated). 0, or -ENOENT when absent. */
int mock_log_after(const char *needle, char *out, size_t outlen);
/* Lines logged at `level` (ZT_LOG_*). */
size_t mock_log_count(uint32_t level);
/* A copy of the whole captured log; the caller frees it. */
char *mock_log_dup(void);
void mock_log_clear(void);

/* ------------------------------------------------------------- protocol */

/*
 * Protocol plugins run through the core's own stream and pairing code
 * (core/l7_stream.c, core/l7_pair.c, core/l7_rules.c), so what a test sees
 * is what the agent would do with the same bytes.
 */
struct mock_conn;

/* The plugin's ops as the host copied them (NULL unless a protocol). */
const struct zt_protocol_ops *mock_plugin_protocol_ops(struct mock_plugin *p);

/* A default connection: TCP, client, 10.0.0.1:40000 -> 10.0.0.2:port,
 * pid 4242, container "/mock". */
struct zt_conn_info mock_conn_info(uint32_t role, uint16_t port);
/* Calls conn_open. ci NULL = mock_conn_info(ZT_ROLE_CLIENT, 80). */
int mock_conn_open(struct mock_plugin *p, const struct zt_conn_info *ci, struct mock_conn **out);
/*
 * One message (a read or write) of len bytes at time ts_ns, as the kernel
 * reports it: the parser sees its first `capture` bytes (0 = the plugin's
 * capture_bytes) and knows its full length. Returns ZT_PARSE_OK, or
 * ZT_PARSE_IGNORED / ZT_PARSE_END_OF_STREAM once the plugin gave up
 * (later messages are then dropped, as the agent stops capture).
 */
uint32_t mock_conn_message(struct mock_conn *c, uint32_t dir, const void *data, size_t len, uint64_t ts_ns);
uint32_t mock_conn_message_cap(struct mock_conn *c, uint32_t dir, const void *data, size_t len, size_t capture,
			       uint64_t ts_ns);
/* One message of a recorded exchange (a golden stream). */
struct mock_msg {
	int from_client; /* 1: the client wrote it; 0: the server did */
	uint8_t *data;
	size_t len;
};
#define MOCK_CHUNK_WHOLE 0  /* each message as recorded */
#define MOCK_CHUNK_BYTES 1  /* every byte its own message */
#define MOCK_CHUNK_RANDOM 2 /* seeded random sizes: a third of them 1..16 bytes, the rest 1..piece_max */
/*
 * Feeds a recorded exchange to c as the process on the `role` side saw it
 * (the client's messages are its egress when role is ZT_ROLE_CLIENT). With
 * BYTES or RANDOM each run of consecutive messages of one direction is cut
 * again, across the recorded message boundaries. Each message goes through
 * mock_conn_message_cap with `capture`; timestamps are *ts += 1000.
 */
void mock_conn_replay(struct mock_conn *c, uint32_t role, const struct mock_msg *m, size_t n, uint32_t chunking,
		      size_t capture, size_t piece_max, unsigned seed, uint64_t *ts);
/* The same for a UDP datagram of an unconnected socket, with the peer the
 * kernel reports from sendto/recvfrom (family 4 or 6, port, IPv6 or
 * IPv4-mapped address; family 0 = unknown). */
uint32_t mock_conn_datagram(struct mock_conn *c, uint32_t dir, const void *data, size_t len, size_t capture,
			    uint16_t peer_family, uint16_t peer_port, const uint8_t peer_addr[16], uint64_t ts_ns);
/* n bytes of a direction lost on the way (a full ring buffer): the next
 * message starts n bytes further into the stream. */
void mock_conn_lose(struct mock_conn *c, uint32_t dir, uint64_t n);
/* Expires requests unanswered for longer than the protocol's timeout. */
void mock_conn_expire(struct mock_conn *c, uint64_t now_ns);
/* conn_close and free. Pending requests count as unanswered_at_close. */
void mock_conn_close(struct mock_conn *c);

struct mock_l7_stats {
	uint64_t parse_calls, parse_errors, resyncs, lost_bytes, keep_overflows;
	uint64_t requests, responses, unmatched_responses, expired_requests, unanswered_at_close, bad_frames;
	uint32_t pending;   /* requests waiting now */
	uint32_t stopped;   /* 0, or the result that stopped capture (IGNORED / END_OF_STREAM) */
};
struct mock_l7_stats mock_conn_stats(const struct mock_conn *c);

/* What frame_emit received, in order (all connections). */
struct mock_frame {
	uint64_t conn_id;
	uint32_t dir; /* direction of the parse() call that emitted it */
	uint32_t type, pairing, status;
	uint64_t id, start_ns, end_ns, size;
	char method[64], resource[256], statement[2048], status_label[64], error[512];
	uint32_t attr_count;
	char attr_key[16][64];
	char attr_value[16][256];
};
/* Records the core's pairing made of them, in order. */
struct mock_record {
	uint64_t conn_id;
	uint32_t role, status, flags; /* ZT_ROLE_*, ZT_STATUS_*, L7_REC_* (1 timeout, 2 oneway) */
	uint64_t id, start_ns, end_ns, req_size, resp_size;
	char method[64], resource[256], statement[2048], status_label[64], error[512];
	uint32_t attr_count;
	char attr_key[32][64];
	char attr_value[32][256];
};
size_t mock_frame_count(void);
const struct mock_frame *mock_frame_get(size_t i);
size_t mock_record_count(void);
const struct mock_record *mock_record_get(size_t i);
/* The value of attribute `key` of a record, or NULL. */
const char *mock_record_attr(const struct mock_record *r, const char *key);
void mock_frames_clear(void);

/* detect() of the plugin on one message (ZT_DETECT_NO without detect). */
uint32_t mock_detect(struct mock_plugin *p, const struct zt_conn_info *ci, uint32_t dir, const void *data,
		     size_t len);
/* The plugin's rules as the kernel applies them to one message: the
 * verdict (ZT_RULE_CLAIM / ZT_RULE_ASK) of the first matching rule, 0 if
 * none; -EINVAL if a rule does not compile (the reason is logged). */
int mock_rules_match(struct mock_plugin *p, const struct zt_conn_info *ci, uint32_t dir, const void *data,
		     size_t len);

#ifdef __cplusplus
}
#endif
#endif
