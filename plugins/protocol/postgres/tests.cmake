# Postgres plugin tests, included by tests/CMakeLists.txt (label "unit", no
# root), and its integration test (label "integration;root").
set(ZT_PG_DIR ${CMAKE_SOURCE_DIR}/plugins/protocol/postgres)
set(ZT_PG_SOURCES ${ZT_PG_DIR}/pg.c ${ZT_PG_DIR}/pg_sql.c ${ZT_PG_DIR}/pg_stmt.c)

# Captured exchanges (testdata/*.txt) under every chunking, both sides.
zt_plugin_test(test_pg_golden SOURCES ${ZT_PG_DIR}/tests/test_pg_golden.c ${ZT_PG_DIR}/tests/pg_testlib.c
  ${ZT_PG_SOURCES})
target_include_directories(test_pg_golden PRIVATE ${ZT_PG_DIR})
zt_integration_test(l7_postgres 180)

# Hand-made streams: sanitizer, rules, extended protocol, TLS, COPY, hostile input.
zt_plugin_test(test_pg SOURCES ${ZT_PG_DIR}/tests/test_pg.c ${ZT_PG_DIR}/tests/pg_testlib.c ${ZT_PG_SOURCES})
target_include_directories(test_pg PRIVATE ${ZT_PG_DIR})
