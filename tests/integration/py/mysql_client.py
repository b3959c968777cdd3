#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""pymysql clients of tests/integration/l7_mysql.sh; each prints what it
did, counted by itself, as "ok N failed N" (every request it made,
including pymysql's own SET AUTOCOMMIT = 0 on connect and COM_PING).

    mysql_client.py work PORT DB        a mix: parameters, an executemany, a
                                        2000-row result (larger than the
                                        agent's capture), a multi-statement,
                                        errors on purpose, ping
    mysql_client.py latency PORT N MS   N x "select sleep(MS/1000)", each timed
                                        here: prints "mean_ms X count N"
"""
import sys
import time

import pymysql
import pymysql.constants.CLIENT as CLIENT


def work(port, db):
    ok = failed = 0
    c = pymysql.connect(host="127.0.0.1", port=port, user="root", database=db,
                        client_flag=CLIENT.MULTI_STATEMENTS)
    ok += 1  # SET AUTOCOMMIT = 0
    k = c.cursor()

    def run(sql, args=None):
        nonlocal ok, failed
        try:
            k.execute(sql, args)
            while k.nextset():
                pass
            ok += 1
        except pymysql.MySQLError:
            failed += 1

    for i in range(20):
        run("select name, v from t where id = %s and name <> %s", (i + 1, "p@ss'word"))
    run("select * from t")  # 2000 rows
    run("select id from t where id < 5; select count(*) from t")
    for sql in ("selct broken", "select * from nosuch", "insert into t values (1, 'dup', 0)"):
        run(sql)
    k.executemany("insert into t2 values (%s, %s)", [(1, "a"), (2, "b"), (3, "c")])
    ok += 1  # one multi-row INSERT
    run("update t2 set s = 'z' where id = 2")
    run("select 1; select * from nosuch2")  # a multi-statement failing in its second statement
    c.ping(reconnect=False)
    ok += 1
    run("commit")
    c.close()
    print("ok %d failed %d" % (ok, failed))


def latency(port, n, ms):
    # autocommit=None: no SET AUTOCOMMIT on connect, only the timed queries
    c = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=None)
    k = c.cursor()
    total = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        k.execute("select sleep(%f)" % (ms / 1000.0))
        k.fetchall()
        total += time.perf_counter() - t0
    c.close()
    print("mean_ms %.3f count %d" % (total / n * 1000.0, n))


if __name__ == "__main__":
    if sys.argv[1] == "work":
        work(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "latency":
        latency(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("usage: see the docstring")
