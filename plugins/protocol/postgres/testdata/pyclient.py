#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""psycopg2 workloads for capture.sh (connection from PG* environment)."""
import io
import sys
import threading
import time

import psycopg2


def main():
    c = psycopg2.connect("")
    k = c.cursor()
    k.execute("select %s, %s", ("p4ssw0rd", 42))
    k.fetchall()
    try:
        k.execute("select * from t where id = %s and nonexistent = 1", (5,))
    except psycopg2.Error:
        c.rollback()
    k.execute("create temp table cp (a int, b text)")
    k.copy_expert("copy cp from stdin", io.StringIO("".join("%d\tsecret-%d\n" % (i, i) for i in range(200))))
    out = io.StringIO()
    k.copy_expert("copy cp to stdout", out)
    k.execute("do $$ begin raise notice 'hello'; end $$")
    k.execute("listen ch; notify ch, 'payload'")
    c.commit()
    k.execute("select count(*) from cp")
    print(k.fetchone()[0], len(out.getvalue()))
    c.close()


def cancel():
    c = psycopg2.connect("")
    threading.Timer(0.3, c.cancel).start()
    k = c.cursor()
    try:
        k.execute("select pg_sleep(5)")
    except psycopg2.Error as e:
        print("cancelled", e.pgcode)
        c.rollback()
    k.execute("select 1")
    c.close()


if __name__ == "__main__":
    cancel() if sys.argv[1:] == ["cancel"] else main()
