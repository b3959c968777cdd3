#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""python3-redis workload of tests/integration/l7_redis.sh. Prints what the
client itself saw: "ok N" and "failed N" (one per command sent, a command
failed when its reply was an error, also inside EXEC's reply), then DONE.

    redisclient.py PORT
"""
import sys

import redis

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port)
ok = failed = 0


def run(fn, *a):
    global ok, failed
    try:
        fn(*a)
        ok += 1
    except redis.ResponseError:
        failed += 1


r.ping()
ok += 1  # the PING above
for i in range(200):
    run(r.set, "py:%d" % i, "value-%d" % i)
    run(r.get, "py:%d" % i)
r.rpush("py:list", "a", "b")
ok += 1
for i in range(20):
    run(r.get, "py:list")  # WRONGTYPE
for i in range(10):
    run(r.execute_command, "NOSUCHCMD", "x")
run(r.config_get, "maxmemory")
run(r.client_setname, "zt-py")
# a pipeline of 50 commands in one write, 5 of them WRONGTYPE
with r.pipeline(transaction=False) as p:
    for i in range(45):
        p.incr("py:n")
    for i in range(5):
        p.incr("py:list")
    for res in p.execute(raise_on_error=False):
        if isinstance(res, redis.ResponseError):
            failed += 1
        else:
            ok += 1
# a transaction: MULTI, 4 queued (one fails at EXEC), EXEC
with r.pipeline(transaction=True) as p:
    p.set("py:t", "1").incr("py:t").lpush("py:t", "x").get("py:t")
    res = p.execute(raise_on_error=False)
    ok += 2  # MULTI and EXEC
    for x in res:
        if isinstance(x, redis.ResponseError):
            failed += 1
        else:
            ok += 1
print("ok", ok)
print("failed", failed)
print("DONE", flush=True)
