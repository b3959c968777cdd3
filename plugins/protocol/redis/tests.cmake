# Redis plugin tests, included by tests/CMakeLists.txt: golden streams,
# parser and pairing unit tests, hostile input (label "unit", no root), the
# fuzz corpus replayed as an ordinary test, and the integration test
# against a real redis-server (root).
set(ZT_REDIS_DIR ${CMAKE_SOURCE_DIR}/plugins/protocol/redis)
set(ZT_REDIS_SOURCES ${ZT_REDIS_DIR}/redis.c ${ZT_REDIS_DIR}/redis_resp.c ${ZT_REDIS_DIR}/redis_cmd.c)

zt_plugin_test(test_redis_golden SOURCES ${ZT_REDIS_DIR}/tests/test_redis_golden.c ${ZT_REDIS_DIR}/tests/redis_testlib.c
  ${ZT_REDIS_SOURCES})
target_include_directories(test_redis_golden PRIVATE ${ZT_REDIS_DIR} ${ZT_REDIS_DIR}/tests)

# The whole pipeline against a real redis-server and real clients (root).
zt_integration_test(l7_redis 180)
