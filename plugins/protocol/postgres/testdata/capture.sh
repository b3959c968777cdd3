#!/usr/bin/env bash
# Records the golden captures: a real postgres 15 on loopback, driven by
# psql, pgbench and psycopg2, captured with tshark; pcap2golden.py turns
# each capture into a golden file (*.txt). Run as root from anywhere:
#   capture.sh [OUT_DIR]      (default: this directory)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
PGBIN=/usr/lib/postgresql/15/bin
TB=$(mktemp -d /tmp/pgcap.XXXXXX)
CAP=$(mktemp -d /tmp/pgcap-ts.XXXXXX)
PG=
cleanup() { [ -n "$PG" ] && kill -INT "$PG" 2>/dev/null && wait "$PG" 2>/dev/null; rm -rf "$TB" "$CAP"; }
trap cleanup EXIT
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chown postgres: "$TB"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TB/key.pem" -out "$TB/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
chown postgres: "$TB"/*.pem && chmod 600 "$TB/key.pem"
setpriv --reuid=postgres --regid=postgres --init-groups $PGBIN/initdb -D "$TB/data" -A trust -U postgres --no-sync >/dev/null
start() { # ssl on|off
	setpriv --reuid=postgres --regid=postgres --init-groups $PGBIN/postgres -D "$TB/data" -c listen_addresses=127.0.0.1 \
		-c port=$PORT -c unix_socket_directories="$TB" -c fsync=off -c ssl=$1 -c ssl_cert_file="$TB/cert.pem" \
		-c ssl_key_file="$TB/key.pem" >>"$TB/pg.log" 2>&1 &
	PG=$!
	for i in $(seq 100); do pg_isready -q -h 127.0.0.1 -p $PORT && return; sleep 0.1; done
	echo "postgres did not start"; cat "$TB/pg.log"; exit 1
}
stop() { kill -INT "$PG"; wait "$PG" || true; PG=; }
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres PGSSLMODE=disable
cap() { # NAME "comment" CMD...: one capture
	local name=$1 comment=$2
	shift 2
	tshark -i lo -f "tcp port $PORT" -w "$CAP/$name.pcapng" >"$CAP/ts.out" 2>&1 &
	local ts=$!
	for i in $(seq 100); do grep -q Capturing "$CAP/ts.out" && break; sleep 0.05; done
	sleep 1
	"$@" >"$TB/$name.client" 2>&1 || true
	sleep 0.5
	kill -INT $ts; wait $ts || true
	mkdir -p "$OUT/pcap"
	cp "$CAP/$name.pcapng" "$OUT/pcap/"
	/usr/bin/python3 "$HERE/pcap2golden.py" "$OUT/pcap/$name.pcapng" $PORT "$comment" >"$OUT/$name.txt"
	echo "$name: $(grep -c '^expect' "$OUT/$name.txt") records"
}

start on
psql -q -c 'create table t (id int primary key, name text, secret text)' >/dev/null
pgbench -q -i -s 1 >/dev/null 2>&1
cap psql_simple "psql -c: select, insert with literals, syntax error, missing table, multi-statement, empty query" \
	psql -X -c 'select 1' -c "insert into t values (1, 'alice', 'hunter2')" -c 'selec 1' -c 'select * from nosuch' \
	-c "select 1; select 'two'; insert into t values (2, 'bob', E'p\\\\w')" -c ';' -c "select id from t where name = 'alice'"
cap psql_dup_key "psql: a transaction with a duplicate key (error inside BEGIN ... ROLLBACK)" \
	psql -X -c 'begin' -c "insert into t values (1, 'x', 'y')" -c 'select 1' -c 'rollback'
cap pgbench_simple "pgbench -M simple -S -t 5 -c 2 -n" pgbench -M simple -S -t 5 -c 2 -n
cap pgbench_prepared "pgbench -M prepared -S -t 5 -n" pgbench -M prepared -S -t 5 -n
cap pgbench_extended "pgbench -M extended -t 2 -n (tpcb-like: 7 statements per transaction)" pgbench -M extended -t 2 -n
cat >"$TB/pipe.sql" <<'SQL'
\startpipeline
select 1;
select 1/0;
select 2;
select 3;
\endpipeline
SQL
cat >"$TB/pipe_ok.sql" <<'SQL'
\startpipeline
select abalance from pgbench_accounts where aid = 7;
update pgbench_accounts set abalance = abalance + 1 where aid = 7;
select 'x' || 'y';
\endpipeline
SQL
cap pgbench_pipeline "pgbench -M prepared: a pipeline of four statements, one fails (division by zero) and the rest are skipped; then a pipeline that succeeds" \
	bash -c "pgbench -M prepared -n -t 1 -f $TB/pipe_ok.sql; pgbench -M prepared -n -t 1 -f $TB/pipe.sql"
cap psycopg2 "psycopg2: parameters with secrets, error, COPY FROM STDIN, COPY TO STDOUT, notice, notify/listen" \
	/usr/bin/python3 "$HERE/pyclient.py"
cap ssl_require "psql sslmode=require: SSLRequest answered 'S', then TLS" \
	psql -X "sslmode=require" -c 'select 1'
cap cancel "psycopg2: a query cancelled from another thread (CancelRequest on its own connection)" \
	/usr/bin/python3 "$HERE/pyclient.py" cancel
stop
start off
cap ssl_refused "psql sslmode=prefer against a server without TLS: SSLRequest answered 'N', then plain text" \
	psql -X "sslmode=prefer" -c 'select 2'
