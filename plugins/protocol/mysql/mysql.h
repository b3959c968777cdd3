/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MySQL / MariaDB client/server protocol plugin: internals shared by the
 * plugin (mysql.c), the SQL sanitizer (mysql_sql.c) and the tests.
 * Wire-format notes are in README.md.
 */
#ifndef ZT_PLUGIN_MYSQL_H
#define ZT_PLUGIN_MYSQL_H

#include <stddef.h>
#include <stdint.h>

/* Command bytes (first payload byte of a client packet with sequence id 0). */
#define COM_SLEEP 0x00
#define COM_QUIT 0x01
#define COM_INIT_DB 0x02
#define COM_QUERY 0x03
#define COM_FIELD_LIST 0x04
#define COM_CREATE_DB 0x05
#define COM_DROP_DB 0x06
#define COM_REFRESH 0x07
#define COM_SHUTDOWN 0x08
#define COM_STATISTICS 0x09
#define COM_PROCESS_INFO 0x0a
#define COM_CONNECT 0x0b
#define COM_PROCESS_KILL 0x0c
#define COM_DEBUG 0x0d
#define COM_PING 0x0e
#define COM_TIME 0x0f
#define COM_DELAYED_INSERT 0x10
#define COM_CHANGE_USER 0x11
#define COM_BINLOG_DUMP 0x12
#define COM_TABLE_DUMP 0x13
#define COM_CONNECT_OUT 0x14
#define COM_REGISTER_SLAVE 0x15
#define COM_STMT_PREPARE 0x16
#define COM_STMT_EXECUTE 0x17
#define COM_STMT_SEND_LONG_DATA 0x18
#define COM_STMT_CLOSE 0x19
#define COM_STMT_RESET 0x1a
#define COM_SET_OPTION 0x1b
#define COM_STMT_FETCH 0x1c
#define COM_DAEMON 0x1d
#define COM_BINLOG_DUMP_GTID 0x1e
#define COM_RESET_CONNECTION 0x1f
#define COM_STMT_BULK_EXECUTE 0xfa /* MariaDB */

/* Capability flags (handshake). */
#define CLIENT_CONNECT_WITH_DB (1u << 3)
#define CLIENT_COMPRESS (1u << 5)
#define CLIENT_PROTOCOL_41 (1u << 9)
#define CLIENT_SSL (1u << 11)
#define CLIENT_SECURE_CONNECTION (1u << 15)
#define CLIENT_PLUGIN_AUTH_LENENC (1u << 21)
#define CLIENT_DEPRECATE_EOF (1u << 24)
#define CLIENT_QUERY_ATTRIBUTES (1u << 27) /* MySQL 8 */

/* Server status flags (OK and EOF packets). */
#define SERVER_MORE_RESULTS_EXISTS 0x0008
#define SERVER_STATUS_CURSOR_EXISTS 0x0040

#define MY_PACKET_MAX 0xffffffu /* a packet this long continues in the next one */

/* Sanitized statements are at most this long (the ABI's statement bound). */
#define MY_STATEMENT_MAX 1024
#define MY_VERB_MAX 24

/*
 * Writes the sanitized form of the SQL text in[0..n) into out (outcap
 * bytes, NUL-terminated): literals (strings, numbers, hex and bit values)
 * become '?', comments are dropped, runs of white space become one space,
 * bytes that are not printable ASCII outside literals become '?'.
 * `truncated`: the text goes on beyond n (not captured): "..." is appended.
 * Returns the length written.
 */
size_t my_sql_sanitize(const uint8_t *in, size_t n, int truncated, char *out, size_t outcap);

/* The statement's operation: its first keyword, upper case ("SELECT"), in
 * out (MY_VERB_MAX bytes). Empty when the text starts with no keyword. */
void my_sql_verb(const char *sanitized, char *out);

/* The name of a command byte ("COM_QUERY"), or NULL when unknown. */
const char *my_command_name(uint32_t cmd);

#endif
