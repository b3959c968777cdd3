#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Re-records the MySQL plugin's golden streams from a real MariaDB server
# and real clients on this machine (Debian 12, as root), with tshark:
#
#   bash capture.sh [OUT_DIR]      (default: this folder; ONLY=regex: just those scenarios)
#
# writes OUT_DIR/pcap/<scenario>.pcapng and OUT_DIR/<scenario>[_N].golden
# (one per TCP connection, via pcap2golden.py). Thread ids, scrambles and
# timestamps differ from run to run, the expect lines must not.
# Needs: mariadb-server mariadb-client sysbench python3-pymysql tshark openssl.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(realpath "${1:-$HERE}")
TB=$(mktemp -d /tmp/zt-mysql-capture.XXXXXX)
PY=/usr/bin/python3
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$TB"
}
trap cleanup EXIT
mkdir -p "$OUT/pcap"

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
PORT=$((20000 + RANDOM % 20000))
while ! port_free $PORT; do PORT=$((PORT + 1)); done

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout "$TB/key.pem" -out "$TB/cert.pem" 2>/dev/null
mariadb-install-db --user=root --datadir="$TB/data" --auth-root-authentication-method=normal --skip-test-db >/dev/null
mariadbd --no-defaults --user=root --datadir="$TB/data" --bind-address=127.0.0.1 --port=$PORT --socket="$TB/my.sock" \
	--pid-file="$TB/my.pid" --skip-log-bin --innodb-buffer-pool-size=16M --log-error="$TB/err.log" \
	--ssl-cert="$TB/cert.pem" --ssl-key="$TB/key.pem" --local-infile=1 &
PIDS+=($!)
for _ in $(seq 100); do mariadb -h 127.0.0.1 -P $PORT -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
M="mariadb -h 127.0.0.1 -P $PORT -uroot --skip-ssl"
$M -e "create database g; use g; create table g.t (id int primary key, name varchar(40), v double);
	insert into g.t select seq, concat('name-', seq), seq / 7 from seq_1_to_2000;
	create user 'app'@'127.0.0.1' identified by 'secret'; grant all on g.* to 'app'@'127.0.0.1'"
sysbench oltp_read_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=$PORT --mysql-user=root \
	--mysql-db=g --tables=1 --table-size=200 --mysql-ssl=off prepare >/dev/null

# record NAME "comment" CMD...: one capture around one client run
record() {
	local name=$1 comment=$2
	shift 2
	[[ -n "${ONLY:-}" && ! "$name" =~ $ONLY ]] && return 0
	tshark -i lo -f "tcp port $PORT" -w "$TB/$name.pcapng" >"$TB/ts.out" 2>&1 &
	local ts=$!
	for _ in $(seq 100); do grep -q "Capturing on" "$TB/ts.out" && break; sleep 0.05; done
	sleep 0.5
	"$@" >"$TB/$name.out" 2>&1 || true
	sleep 0.5
	kill -TERM $ts
	wait $ts || true
	cp "$TB/$name.pcapng" "$OUT/pcap/"
	rm -f "$OUT/$name.golden" "$OUT/$name"_[0-9]*.golden
	$PY "$HERE/pcap2golden.py" "$OUT/pcap/$name.pcapng" $PORT "$name" "$comment" "$OUT"
}

record cli_basic "mariadb CLI --force: DDL, inserts, selects, a syntax error and a missing table" \
	bash -c "printf '%s\n' 'create table k (id int primary key, v varchar(20));' \"insert into k values (1, 'a'), (2, 'b');\" \
	'select * from k where id = 1;' 'selec oops;' 'select * from nosuch;' 'select count(*) from t;' 'drop table k;' |
	$M --force --batch g"
record cli_large "mariadb CLI: a 2000-row result (far beyond the capture), then a small one" \
	$M g -e "select * from t; select id from t where id < 4"
record cli_interactive "mariadb CLI, interactive: @@version_comment on connect, USE, a query, ping (status)" \
	bash -c "printf 'use g\nselect name from t where id = 42;\nstatus\n' | $M --batch -n --unbuffered"
record pymysql "pymysql: SET AUTOCOMMIT = 0, parameters (client-side), executemany, an ERR, a multi-statement, ping, LOAD DATA LOCAL INFILE" \
	$PY - $PORT "$TB/infile.csv" <<'PYEOF'
import sys, pymysql, pymysql.constants.CLIENT as C
open(sys.argv[2], "w").write("".join("%d,x%d\n" % (i, i) for i in range(100)))
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="app", password="secret", database="g",
                    client_flag=C.MULTI_STATEMENTS, local_infile=True)
k = c.cursor()
k.execute("select name from t where id = %s and name <> %s", (7, "it's a secret"))
k.execute("create table if not exists li (id int, s varchar(10))")
k.executemany("insert into li values (%s, %s)", [(1, "a"), (2, "b")])
try:
    k.execute("insert into li values (1, 2, 3)")
except pymysql.MySQLError as e:
    print("error", e.args[0])
k.execute("select 1; select 2, 'two'; update li set s = 'c' where id = 1")
while k.nextset():
    pass
c.ping(reconnect=False)
k.execute("load data local infile '%s' into table li fields terminated by ','" % sys.argv[2])
k.execute("select count(*) from li")
c.commit()
k.execute("drop table li")
c.close()
PYEOF
record multi_error "pymysql: a multi-statement whose second statement fails, then a query" \
	$PY -c "
import pymysql, pymysql.constants.CLIENT as C
c = pymysql.connect(host='127.0.0.1', port=$PORT, user='root', database='g', client_flag=C.MULTI_STATEMENTS)
k = c.cursor()
try:
    k.execute('select 1; select * from nosuch; select 3')
    while k.nextset(): pass
except pymysql.MySQLError as e:
    print('error', e.args[0])
k.execute('select 4')
c.close()"
record sysbench "sysbench oltp_read_only (mysql driver, prepared statements), 1 thread, 5 events" \
	sysbench oltp_read_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=$PORT --mysql-user=root \
	--mysql-db=g --tables=1 --table-size=200 --threads=1 --events=5 --time=0 --mysql-ssl=off run
record mysqlslap "mysqlslap: 2 clients, 20 generated queries" \
	mysqlslap -h 127.0.0.1 -P $PORT -uroot --skip-ssl --concurrency=2 --iterations=1 --number-of-queries=20 \
	--auto-generate-sql --auto-generate-sql-load-type=mixed
record tls "mariadb CLI over TLS: SSLRequest, then the TLS handshake (no record)" \
	$M --ssl -e "select 1"
record auth_failed "mariadb CLI with a wrong password (no record)" \
	mariadb -h 127.0.0.1 -P $PORT -uapp -pwrong --skip-ssl -e "select 1"
