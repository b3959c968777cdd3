#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""psycopg2 client of tests/integration/l7_postgres.sh (connection from the
PG* environment, autocommit: one Query per execute, nothing implicit).

    pgclient.py mix N     N good and N // 4 bad statements; prints "ok X" / "failed Y"
    pgclient.py latency N N times select pg_sleep(0.02); prints "mean_ms M"
    pgclient.py tls       one query over sslmode=require; prints "tls ok"
"""
import sys
import time

import psycopg2


def connect(**kw):
    c = psycopg2.connect("", **kw)
    c.autocommit = True
    return c


def mix(n):
    c = connect()
    k = c.cursor()
    ok = failed = 0
    k.execute("create temp table kv (k int primary key, v text)")
    ok += 1
    for i in range(n):
        k.execute("insert into kv values (%s, %s)", (i, "secret-%d" % i))
        ok += 1
    for i in range(n // 4):
        try:
            k.execute("insert into kv values (%s, 'dup')", (i,))  # duplicate key: 23505
            ok += 1
        except psycopg2.Error:
            failed += 1
    k.execute("select count(*) from kv")
    ok += 1
    c.close()
    print("ok", ok)
    print("failed", failed)


def latency(n):
    c = connect()
    k = c.cursor()
    total = 0.0
    for _ in range(n):
        t = time.perf_counter()
        k.execute("select pg_sleep(0.02)")
        k.fetchall()
        total += time.perf_counter() - t
    c.close()
    print("mean_ms %.3f" % (total / n * 1000))


def tls():
    c = connect(sslmode="require")
    k = c.cursor()
    k.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
    print("tls", "ok" if k.fetchone()[0] else "no")
    c.close()


if __name__ == "__main__":
    {"mix": lambda: mix(int(sys.argv[2])), "latency": lambda: latency(int(sys.argv[2])), "tls": tls}[sys.argv[1]]()
