#!/usr/bin/env bash
# Postgres through the whole pipeline, against a real postgres 15 (as user
# postgres, TLS enabled), real clients, and tshark decoding the same
# traffic:
#   - psql: good statements and bad ones (syntax error, missing table,
#     duplicate key), one -c each;
#   - pgbench -M simple -S and -M prepared -S with -t (one statement per
#     transaction), pgbench's own setup queries on the side;
#   - psycopg2 (PGSSLMODE=disable): inserts with string literals, duplicate
#     keys on purpose; its own ok/failed counts;
#   - psycopg2 with sslmode=require: the connection turns to TLS after 'S'
#     and must be released (no records, no parse error);
#   - psycopg2 running select pg_sleep(0.02), for latency.
# Each client runs in its own cgroup and with its own application_name.
# The agent's outbound counts per status (the clients' cgroups) must equal
# what tshark's capture gives for that client (pcap2golden.py --summary:
# the messages framed there and counted by tshark's pgsql dissector agree)
# and the clients' own counts; the inbound counts (postgres's cgroup) must
# equal tshark's totals; the mean latency must be within 10 % of the
# client's.
NTX=400
NMIX=80
NLAT=40
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
# Both sides parsed, each by itself: the server side's parser is what runs
# for clients on other hosts (by default a connection with both ends here
# is parsed once, on its client side: agent.l7_local_once, checked by l7_http).
ZT_CFG_AGENT_EXTRA='"l7_local_once": false'

PGBIN=/usr/lib/postgresql/15/bin
for c in psql pgbench tshark openssl setpriv "$PGBIN/postgres"; do command -v $c >/dev/null || zt_skip "$c is not installed"; done
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || zt_skip "python3-psycopg2 is not installed"
id postgres >/dev/null 2>&1 || zt_skip "no postgres user"
[ -f "$ZT_PLUGIN_DIR/postgres.so" ] || zt_fail "postgres plugin not built"
PY=$ZT_SOURCE_DIR/tests/integration/py/pgclient.py
ORACLE=$ZT_SOURCE_DIR/plugins/protocol/postgres/testdata/pcap2golden.py
PROM=$(zt_free_port)
read -r P < <(zt_tcp_ports 1) || zt_fail "no free port"

# ------------------------------------------------------------- postgres
chmod 711 "$T"
mkdir -p "$T/pg"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/pg/key.pem" -out "$T/pg/cert.pem" -days 2 -subj /CN=localhost \
	>/dev/null 2>&1 || zt_fail "openssl req"
chown -R postgres: "$T/pg"
chmod 600 "$T/pg/key.pem"
setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/initdb" -D "$T/pg/data" -A trust -U postgres \
	--no-sync >"$T/initdb.log" 2>&1 || zt_fail "initdb: $(tail -3 "$T/initdb.log")"
zt_tcp_cgroup "zt-$ZT_TEST-$$-pg"
SRV=$ZT_TCP_CG_ID
# the postmaster itself is the recorded PID (setpriv execs), in the cgroup
zt_bg "$T/pg.log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=(${ZT_TCP_CG_PROCS[*]}); zt_tcp_cg_exec \
	setpriv --reuid=postgres --regid=postgres --init-groups $PGBIN/postgres -D $T/pg/data -c listen_addresses=127.0.0.1 \
	-c port=$P -c unix_socket_directories=$T/pg -c fsync=off -c ssl=on -c ssl_cert_file=$T/pg/cert.pem \
	-c ssl_key_file=$T/pg/key.pem"
PGPID=$ZT_BG_PID
export PGHOST=127.0.0.1 PGPORT=$P PGUSER=postgres PGDATABASE=postgres PGSSLMODE=disable
zt_wait_until 20 "postgres up" pg_isready -q -h 127.0.0.1 -p "$P"
PGAPPNAME=zt_setup psql -X -q -c 'create table t (id int primary key, name text)' >/dev/null
PGAPPNAME=zt_setup pgbench -q -i -s 1 >"$T/pgbench-init.log" 2>&1 || zt_fail "pgbench -i: $(tail -3 "$T/pgbench-init.log")"

zt_config "$T/zerotap.json" "$(zt_inst_prometheus "$PROM")" "$(zt_inst_process)" \
	'    "postgres": { "enabled": true, "required": true }'
zt_start_agent "$T/zerotap.json"
zt_wait_metrics "$PROM"
zt_wait_until 10 "l7 feature up" bash -c "curl -sf http://127.0.0.1:$PROM/metrics | grep -q '^zerotap_feature_up{.*feature=\"l7\".*} 1'"

tshark -i lo -B 128 -f "tcp port $P" -w "$T/cap.pcapng" >"$T/tshark.out" 2>&1 &
TSH=$!
ZT_PIDS+=("$TSH")
zt_wait_until 10 "tshark capturing" grep -q "Capturing on" "$T/tshark.out"
sleep 0.5

# ---------------------------------------------------------------- clients
# incg NAME LOG CMD... : CMD in a new cgroup NAME (its id in CG[NAME]), as the
# child of a shell that moved there first and outlives it by a moment (so
# the agent finds a short-lived client's cgroup through its parent)
declare -A CG
incg() {
	local name=$1 log=$2
	shift 2
	zt_tcp_cgroup "zt-$ZT_TEST-$$-$name"
	CG[$name]=$ZT_TCP_CG_ID
	zt_bg "$log" bash -c "$(declare -f zt_tcp_cg_exec); ZT_TCP_CG_PROCS=(${ZT_TCP_CG_PROCS[*]}); zt_tcp_cg_exec bash -c '\"\$@\"; rc=\$?; sleep 0.5; exit \$rc' _ \"\$@\"" _ "$@"
	zt_wait_until 120 "$name done" zt_proc_dead "$ZT_BG_PID"
}
psql_cmds=(-c 'select 1' -c "insert into t values (1, 'alice')" -c 'selec 1' -c 'select * from nosuch'
	-c "insert into t values (1, 'again')" -c "select name from t where id = 1" -c "update t set name = 'bob' where id = 1"
	-c 'select 1 / 0' -c "select count(*) from t")
incg psql "$T/psql.out" env PGAPPNAME=zt_psql psql -X "${psql_cmds[@]}"
incg pgb_simple "$T/pgb_simple.out" env PGAPPNAME=zt_pgb_simple pgbench -n -M simple -S -t "$NTX"
incg pgb_prepared "$T/pgb_prepared.out" env PGAPPNAME=zt_pgb_prepared pgbench -n -M prepared -S -t "$NTX" -c 2
incg py "$T/py.out" env PGAPPNAME=zt_py /usr/bin/python3 "$PY" mix "$NMIX"
incg tls "$T/tls.out" env PGAPPNAME=zt_tls PGSSLMODE=require /usr/bin/python3 "$PY" tls
incg lat "$T/lat.out" env PGAPPNAME=zt_lat /usr/bin/python3 "$PY" latency "$NLAT"

sleep 1
kill -INT "$TSH"
wait "$TSH" 2>/dev/null || true
grep -q "^tls ok" "$T/tls.out" || zt_fail "the sslmode=require client did not use TLS: $(cat "$T/tls.out")"

# ---------------------------------------------------------------- expected
/usr/bin/python3 "$ORACLE" --summary "$T/cap.pcapng" "$P" >"$T/tshark.sum" || zt_fail "oracle: $(cat "$T/tshark.sum")"
zt_log "tshark: $(tr '\n' ' ' <"$T/tshark.sum")($(grep -o '[0-9]* packets dropped[^)]*' "$T/tshark.out" || echo 'no drop report'))"
tsh() { awk -v a="$1" -v s="$2" '$1 == a && $2 == s { n = $3 } END { print n + 0 }' "$T/tshark.sum"; }
declare -A want # "cgroup status" -> count, from tshark
for name in psql pgb_simple pgb_prepared py lat; do
	for st in ok failed unknown; do want[$name $st]=$(tsh "zt_$name" $st); done
done
[ "$(tsh '*' tls)" = 1 ] || zt_fail_later "tshark: $(tsh '*' tls) connections turned to TLS, expected 1"

# the clients' own counts against tshark's
n_psql=$((${#psql_cmds[@]} / 2))
e_psql=$(grep -c '^ERROR:' "$T/psql.out" || true)
[ "${want[psql failed]}" = "$e_psql" ] && [ "${want[psql ok]}" = $((n_psql - e_psql)) ] ||
	zt_fail_later "psql: $n_psql statements, $e_psql errors; tshark ok ${want[psql ok]} failed ${want[psql failed]}"
for m in simple prepared; do
	tx=$(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$T/pgb_$m.out")
	exp_tx=$NTX
	[ "$m" = prepared ] && exp_tx=$((2 * NTX))
	[ "$tx" = "$exp_tx" ] || zt_fail_later "pgbench $m processed ${tx:-no} of $exp_tx transactions"
	# pgbench -S: one statement per transaction, plus pgbench's own set-up queries
	extra=$((${want[pgb_$m ok]} - exp_tx))
	{ [ "$extra" -ge 0 ] && [ "$extra" -le 4 ] && [ "${want[pgb_$m failed]}" = 0 ]; } ||
		zt_fail_later "pgbench $m: $exp_tx transactions, tshark ok ${want[pgb_$m ok]} failed ${want[pgb_$m failed]}"
	zt_log "pgbench $m: $tx transactions + $extra set-up queries"
done
py_ok=$(awk '$1 == "ok" { print $2 }' "$T/py.out")
py_failed=$(awk '$1 == "failed" { print $2 }' "$T/py.out")
[ "${want[py ok]}" = "$py_ok" ] && [ "${want[py failed]}" = "$py_failed" ] ||
	zt_fail_later "psycopg2: ok $py_ok failed $py_failed; tshark ok ${want[py ok]} failed ${want[py failed]}"
[ "${want[lat ok]}" = "$NLAT" ] || zt_fail_later "latency client: tshark ${want[lat ok]} queries, client $NLAT"

# ---------------------------------------------------------------- compare
dest="127.0.0.1:$P"
agent_out() { metric_value container_postgres_queries_total container_id=\""${CG[$1]}"\" destination=\""$dest"\" status=\""$2"\" || echo 0; }
agent_in() { metric_value container_postgres_inbound_queries_total container_id=\""$SRV"\" status=\""$1"\" || echo 0; }
declare -A inb
for st in ok failed unknown; do
	inb[$st]=$(awk -v s="$st" '$1 != "zt_setup" && $2 == s { n += $3 } END { print n + 0 }' "$T/tshark.sum")
done
settled() {
	zt_scrape "$PROM" >/dev/null
	local k
	for k in "${!want[@]}"; do
		[ "$(agent_out $k)" = "${want[$k]}" ] || return 1
	done
	for k in "${!inb[@]}"; do
		[ "$(agent_in "$k")" = "${inb[$k]}" ] || return 1
	done
}
(zt_wait_until 15 "agent counts settle" settled) || true
zt_scrape "$PROM" >/dev/null
zt_series container_postgres_queries_total
zt_series container_postgres_inbound_queries_total
for k in "${!want[@]}"; do
	got=$(agent_out $k)
	[ "$got" = "${want[$k]}" ] || zt_fail_later "outbound $k: agent $got, tshark ${want[$k]}"
done
for k in "${!inb[@]}"; do
	got=$(agent_in "$k")
	[ "$got" = "${inb[$k]}" ] || zt_fail_later "inbound $k: agent $got, tshark ${inb[$k]}"
done
tls_series=$(zt_series container_postgres_queries_total container_id=\""${CG[tls]}"\" | wc -l)
[ "$tls_series" = 0 ] || zt_fail_later "the TLS connection made $tls_series series"
summary=""
for k in $(printf '%s\n' "${!want[@]}" | sort | tr ' ' ':'); do summary+="$k=${want[${k/:/ }]} "; done
zt_ok "agent outbound = tshark = clients ($summary), inbound = tshark (ok ${inb[ok]} failed ${inb[failed]} unknown ${inb[unknown]})"

# ---------------------------------------------------------------- latency
n=$(metric_value container_postgres_queries_duration_seconds_total_count container_id=\""${CG[lat]}"\")
sum=$(metric_value container_postgres_queries_duration_seconds_total_sum container_id=\""${CG[lat]}"\")
cavg=$(awk '$1 == "mean_ms" { print $2 }' "$T/lat.out")
aavg=$(awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.3f", s / n * 1000 }')
zt_log "latency: agent mean $aavg ms over $n queries, client mean $cavg ms over $NLAT"
[ "$n" = "$NLAT" ] || zt_fail_later "latency client: agent $n queries, client $NLAT"
awk -v a="$aavg" -v w="$cavg" 'BEGIN { d = a - w; if (d < 0) d = -d; exit !(d <= 0.1 * w) }' ||
	zt_fail_later "agent mean latency $aavg ms is not within 10 % of the client's $cavg ms"

perr=$(metric_value zerotap_l7_parse_errors_total protocol=\"postgres\" || echo 0)
[ "$perr" = 0 ] || zt_fail_later "$perr postgres parse errors"
lost=$(metric_value zerotap_ringbuf_lost_events_total ring=\"l7\" || echo 0)
[ "$lost" = 0 ] || zt_fail_later "$lost l7 events lost"

kill -INT "$PGPID" 2>/dev/null || true
zt_wait_until 20 "postgres stopped" zt_proc_dead "$PGPID"
zt_pass
