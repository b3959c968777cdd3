#!/usr/bin/env bash
# MySQL protocol through the whole pipeline, against a real MariaDB server
# and real clients, with tshark decoding the same traffic (one capture per
# client phase, counted by the plugin's testdata/pcap2golden.py --count,
# which reads tshark's MySQL dissector, not the plugin):
#   - the mariadb CLI: good SQL and three errors on purpose (--force); and
#     on a terminal (script), where it also sends @@version_comment;
#   - mysqlslap: 4 clients, generated schema, inserts and selects;
#   - sysbench oltp_read_only (prepared statements: COM_STMT_PREPARE and
#     COM_STMT_EXECUTE), 2 threads, a fixed number of events;
#   - pymysql: parameters, a 2000-row result (larger than the capture), a
#     multi-statement, errors, ping, executemany;
#   - pymysql timing 40 x select sleep(0.02) itself, for latency;
#   - the mariadb CLI over TLS, which the plugin must release (no record).
# Each client runs in its own cgroup. The agent's outbound counts per
# status for each must equal tshark's, and the client's own where it
# reports them (the CLI's ERROR lines, sysbench's query count, pymysql's
# counts); the server's inbound counts must equal tshark's over all
# phases; the agent's mean latency must be within 10 % of the client's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
# Both sides parsed, each by itself: the server side's parser is what runs
# for clients on other hosts (by default a connection with both ends here
# is parsed once, on its client side: agent.l7_local_once, checked by l7_http).
ZT_CFG_AGENT_EXTRA='"l7_local_once": false'

for c in mariadbd mariadb-install-db mariadb mysqlslap sysbench tshark openssl; do
	command -v $c >/dev/null || zt_skip "$c is not installed"
done
/usr/bin/python3 -c 'import pymysql' 2>/dev/null || zt_skip "python3-pymysql is not installed"
[ -f "$ZT_PLUGIN_DIR/mysql.so" ] || zt_fail "mysql plugin not built"
PY=$ZT_SOURCE_DIR/tests/integration/py/mysql_client.py
ORACLE=$ZT_SOURCE_DIR/plugins/protocol/mysql/testdata/pcap2golden.py
PROM=$(zt_free_port)
read -r P < <(zt_tcp_ports 1) || zt_fail "no free ports"
LAT_N=40
LAT_MS=20

incg() { # LOG PROCS_VAR CMD... : CMD in the cgroup whose cgroup.procs files are in PROCS_VAR
	local log=$1 var=$2[@] procs
	shift 2
	procs="${!var}"
	# CMD runs as a child of a shell that moved into the cgroup first and
	# outlives it by a moment (see l7_http.sh)
	zt_bg "$log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=($procs); zt_tcp_cg_exec bash -c '\"\$@\"; rc=\$?; sleep 0.5; exit \$rc' _ \"\$@\"" _ "$@"
}

# ---------------------------------------------------------------- server
mkdir -p "$T/my"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout "$T/my/key.pem" \
	-out "$T/my/cert.pem" 2>/dev/null
mariadb-install-db --no-defaults --user=root --datadir="$T/my/data" --auth-root-authentication-method=normal \
	--skip-test-db >"$T/install.out" 2>&1 || zt_fail "mariadb-install-db: $(tail -3 "$T/install.out")"
zt_tcp_cgroup "zt-$ZT_TEST-$$-srv"
SRV=$ZT_TCP_CG_ID
SRV_PROCS=("${ZT_TCP_CG_PROCS[@]}")
# the server itself (not a wrapper shell) is the PID the cleanup stops
zt_bg "$T/mariadbd.out" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=(${SRV_PROCS[*]}); zt_tcp_cg_exec \"\$@\"" _ mariadbd --no-defaults --user=root --datadir="$T/my/data" --bind-address=127.0.0.1 \
	--port="$P" --socket="$T/my/my.sock" --pid-file="$T/my/my.pid" --skip-log-bin --innodb-buffer-pool-size=32M \
	--log-error="$T/my/err.log" --ssl-cert="$T/my/cert.pem" --ssl-key="$T/my/key.pem"
ZT_LOGS+=("$T/my/err.log")
M=(mariadb -h 127.0.0.1 -P "$P" -uroot --skip-ssl)
zt_wait_until 20 "mariadbd up" "${M[@]}" -e 'select 1' >/dev/null 2>&1
"${M[@]}" -e "create database zt; use zt; create table t (id int primary key, name varchar(40), v double);
	insert into t select seq, concat('name-', seq), seq / 7 from seq_1_to_2000;
	create table t2 (id int primary key, s varchar(10))"
SB=(sysbench oltp_read_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$P" --mysql-user=root
	--mysql-db=zt --mysql-ssl=off --tables=1 --table-size=1000)
"${SB[@]}" prepare >"$T/sb_prepare.out" 2>&1 || zt_fail "sysbench prepare: $(tail -3 "$T/sb_prepare.out")"

zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PROM")" "$(zt_inst_process)" \
	'    "mysql": { "enabled": true, "required": true }'
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 10 "l7 feature up" bash -c "curl -sf http://127.0.0.1:$PROM/metrics | grep -q '^zerotap_feature_up{.*feature=\"l7\".*} 1'"

# ---------------------------------------------------------------- phases
# phase NAME CMD... : CMD in a new cgroup NAME, inside a tshark capture of
# its own; sets CG[NAME] and TSH_OK/FAILED[NAME] from tshark's decode.
declare -A CG TSH_OK TSH_FAILED TSH_EXEC
agent_in() { metric_value container_mysql_inbound_queries_total container_id=\""$SRV"\" status=\""$1"\" || echo 0; }
phase() {
	local name=$1 ts pid
	shift
	tshark -i lo -B 64 -f "tcp port $P" -w "$T/$name.pcapng" >"$T/tshark_$name.out" 2>&1 &
	ts=$!
	ZT_PIDS+=("$ts")
	zt_wait_until 10 "tshark capturing" grep -q "Capturing on" "$T/tshark_$name.out"
	sleep 0.5
	zt_tcp_cgroup "zt-$ZT_TEST-$$-$name"
	CG[$name]=$ZT_TCP_CG_ID
	PH_PROCS=("${ZT_TCP_CG_PROCS[@]}")
	incg "$T/$name.out" PH_PROCS "$@"
	pid=$ZT_BG_PID
	zt_wait_until 90 "$name done" zt_proc_dead "$pid"
	sleep 0.5
	kill -TERM "$ts"
	wait "$ts" 2>/dev/null || true
	grep -q "packets dropped" "$T/tshark_$name.out" && ! grep -q " 0 packets dropped" "$T/tshark_$name.out" &&
		zt_log "tshark $name: $(grep -o '[0-9]* packets dropped.*' "$T/tshark_$name.out")"
	local out
	out=$(/usr/bin/python3 "$ORACLE" --count "$T/$name.pcapng" "$P" 2>/dev/null)
	read -r _ TSH_OK[$name] _ TSH_FAILED[$name] _ TSH_EXEC[$name] _ <<<"$out"
	zt_scrape "$PROM" >/dev/null
	zt_log "phase $name: tshark ok ${TSH_OK[$name]} failed ${TSH_FAILED[$name]} executes ${TSH_EXEC[$name]};" \
		"server inbound so far: ok $(agent_in ok) failed $(agent_in failed)"
}

cat >"$T/cli.sql" <<'EOF'
select count(*) from t;
select name from t where id = 42;
insert into t2 values (100, 'cli');
selec broken syntax;
select * from no_such_table;
insert into t2 values (100, 'duplicate');
update t2 set s = 'x' where id = 100;
select id, name from t where id between 10 and 20 order by name;
delete from t2 where id = 100;
select 1;
EOF
CLI_N=$(grep -c ';' "$T/cli.sql")
phase cli bash -c "mariadb -h 127.0.0.1 -P $P -uroot --skip-ssl --force zt < '$T/cli.sql'"
# on a terminal the CLI also sends "select @@version_comment limit 1" (-A: no
# table name reading for completion, which sends more)
printf 'select name from t where id = 7;\nselect nothing from t;\nselect 2;\nexit\n' >"$T/tty.sql"
phase tty bash -c "script -qec 'mariadb -A -h 127.0.0.1 -P $P -uroot --skip-ssl zt' /dev/null < '$T/tty.sql'"
phase slap mysqlslap -h 127.0.0.1 -P "$P" -uroot --skip-ssl --concurrency=4 --iterations=1 --number-of-queries=400 \
	--auto-generate-sql --auto-generate-sql-load-type=mixed
phase sysbench "${SB[@]}" --threads=2 --events=100 --time=0 run
phase py /usr/bin/python3 "$PY" work "$P" zt
phase lat /usr/bin/python3 "$PY" latency "$P" "$LAT_N" "$LAT_MS"
phase tls mariadb -h 127.0.0.1 -P "$P" -uroot --ssl -e "select 1"

# ---------------------------------------------------------------- clients' own counts
CLI_FAILED=$(grep -c '^ERROR' "$T/cli.out" || true)
[ "$CLI_FAILED" = 3 ] || zt_fail "the CLI reported $CLI_FAILED errors, 3 expected: $(cat "$T/cli.out")"
# every statement, plus the CLI's own "select @@version_comment limit 1"
# when it sends it (tshark tells; the count must be one of the two)
CLI_OK=$((CLI_N - CLI_FAILED))
[ "${TSH_OK[cli]}" = $((CLI_OK + 1)) ] && CLI_OK=$((CLI_OK + 1))
TTY_FAILED=$(grep -c '^ERROR' "$T/tty.out" || true)
TTY_OK=$((3 - TTY_FAILED + 1))
[ "$TTY_FAILED" = 1 ] || zt_fail "the terminal CLI reported $TTY_FAILED errors, 1 expected: $(cat "$T/tty.out")"
SB_Q=$(awk '/total:/ && !/time/ { print $2; exit }' "$T/sysbench.out")
[ -n "$SB_Q" ] || zt_fail "no query count from sysbench: $(cat "$T/sysbench.out")"
read -r _ PY_OK _ PY_FAILED <<<"$(grep '^ok ' "$T/py.out")"
[ -n "$PY_OK" ] || zt_fail "pymysql client: $(cat "$T/py.out")"
read -r _ LAT_MEAN _ LAT_COUNT <<<"$(grep '^mean_ms ' "$T/lat.out")"
grep -q 'Ssl\|1' "$T/tls.out" || zt_fail "TLS client: $(cat "$T/tls.out")"
zt_log "clients: cli ok $CLI_OK failed $CLI_FAILED; terminal cli ok $TTY_OK failed $TTY_FAILED; sysbench queries $SB_Q; pymysql ok $PY_OK failed $PY_FAILED; latency client $LAT_MEAN ms over $LAT_COUNT"
zt_log "mysqlslap: $(grep -i 'number of queries\|seconds to run' "$T/slap.out" | tr -s ' ' | tr '\n' ';')"

# ---------------------------------------------------------------- compare
dest="127.0.0.1:$P"
agent_out() { # PHASE STATUS
	metric_value container_mysql_queries_total container_id=\""${CG[$1]}"\" destination=\""$dest"\" status=\""$2"\" || echo 0
}
IN_OK=0
IN_FAILED=0
for ph in cli tty slap sysbench py lat tls; do
	IN_OK=$((IN_OK + TSH_OK[$ph]))
	IN_FAILED=$((IN_FAILED + TSH_FAILED[$ph]))
done
settled() {
	zt_scrape "$PROM" >/dev/null
	local ph
	for ph in cli tty slap sysbench py lat; do
		[ "$(agent_out "$ph" ok)" = "${TSH_OK[$ph]}" ] || return 1
		[ "$(agent_out "$ph" failed)" = "${TSH_FAILED[$ph]}" ] || return 1
	done
	[ "$(agent_in ok)" = "$IN_OK" ] && [ "$(agent_in failed)" = "$IN_FAILED" ]
}
(zt_wait_until 15 "agent counts settle" settled) || true
zt_scrape "$PROM" >/dev/null
zt_series container_mysql_queries_total
zt_series container_mysql_inbound_queries_total container_id=\""$SRV"\"
for ph in cli tty slap sysbench py lat tls; do
	for st in ok failed; do
		got=$(agent_out "$ph" $st)
		if [ $st = ok ]; then want=${TSH_OK[$ph]}; else want=${TSH_FAILED[$ph]}; fi
		[ "$got" = "$want" ] || zt_fail_later "$ph $st: agent $got, tshark $want"
	done
done
[ "$(agent_out cli ok)" = "$CLI_OK" ] || zt_fail_later "cli ok: agent $(agent_out cli ok), CLI $CLI_OK"
[ "$(agent_out cli failed)" = "$CLI_FAILED" ] || zt_fail_later "cli failed: agent $(agent_out cli failed), CLI $CLI_FAILED"
[ "$(agent_out tty ok)" = "$TTY_OK" ] || zt_fail_later "terminal cli ok: agent $(agent_out tty ok), CLI $TTY_OK (with @@version_comment)"
[ "$(agent_out tty failed)" = "$TTY_FAILED" ] || zt_fail_later "terminal cli failed: agent $(agent_out tty failed), CLI $TTY_FAILED"
[ "${TSH_EXEC[sysbench]}" = "$SB_Q" ] || zt_fail_later "sysbench: $SB_Q queries, tshark ${TSH_EXEC[sysbench]} COM_STMT_EXECUTE"
[ "$(agent_out py ok)" = "$PY_OK" ] || zt_fail_later "pymysql ok: agent $(agent_out py ok), client $PY_OK"
[ "$(agent_out py failed)" = "$PY_FAILED" ] || zt_fail_later "pymysql failed: agent $(agent_out py failed), client $PY_FAILED"
[ "$(agent_out lat ok)" = "$LAT_COUNT" ] || zt_fail_later "latency client: agent $(agent_out lat ok), client $LAT_COUNT"
[ "${TSH_OK[tls]}" = 0 ] && [ "$(metric_count container_mysql_queries_total container_id=\""${CG[tls]}"\")" = 0 ] ||
	zt_fail_later "TLS connection: tshark ${TSH_OK[tls]} plaintext queries, agent $(zt_series container_mysql_queries_total container_id=\""${CG[tls]}"\")"
got_in_ok=$(agent_in ok)
got_in_failed=$(agent_in failed)
[ "$got_in_ok" = "$IN_OK" ] || zt_fail_later "inbound ok: agent $got_in_ok, tshark $IN_OK"
[ "$got_in_failed" = "$IN_FAILED" ] || zt_fail_later "inbound failed: agent $got_in_failed, tshark $IN_FAILED"
zt_ok "agent = tshark per client (ok/failed: cli ${TSH_OK[cli]}/${TSH_FAILED[cli]}, tty ${TSH_OK[tty]}/${TSH_FAILED[tty]}, slap ${TSH_OK[slap]}/${TSH_FAILED[slap]}, sysbench ${TSH_OK[sysbench]}/${TSH_FAILED[sysbench]}, pymysql ${TSH_OK[py]}/${TSH_FAILED[py]}, latency ${TSH_OK[lat]}), inbound $got_in_ok/$got_in_failed"

# ---------------------------------------------------------------- latency
n=$(metric_value container_mysql_queries_duration_seconds_total_count container_id=\""${CG[lat]}"\")
sum=$(metric_value container_mysql_queries_duration_seconds_total_sum container_id=\""${CG[lat]}"\")
[ "$n" = "$LAT_COUNT" ] || zt_fail_later "latency client: agent histogram count $n, client $LAT_COUNT"
aavg=$(awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.3f", s / n * 1000 }')
zt_log "latency: agent mean $aavg ms, client mean $LAT_MEAN ms over $LAT_COUNT queries"
awk -v a="$aavg" -v w="$LAT_MEAN" 'BEGIN { d = a - w; if (d < 0) d = -d; exit !(d <= 0.1 * w) }' ||
	zt_fail_later "agent mean latency $aavg ms is not within 10 % of the client's $LAT_MEAN ms"

perr=$(metric_value zerotap_l7_parse_errors_total protocol=\"mysql\" || echo 0)
unm=$(metric_value zerotap_l7_unmatched_responses_total protocol=\"mysql\" || echo 0)
lost=$(metric_value zerotap_ringbuf_lost_events_total ring=\"l7\" || echo 0)
[ "$lost" = 0 ] || zt_fail_later "$lost l7 events lost"
zt_log "parse errors $perr, unmatched responses $unm"
zt_pass
