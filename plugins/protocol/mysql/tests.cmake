# MySQL plugin tests, included by tests/CMakeLists.txt (label "unit", no
# root): unit, adversarial and golden tests against the mock host, the fuzz
# corpus replayed as an ordinary test, and the integration test (root).
set(ZT_MYSQL_DIR ${CMAKE_SOURCE_DIR}/plugins/protocol/mysql)
set(ZT_MYSQL_SOURCES ${ZT_MYSQL_DIR}/mysql.c ${ZT_MYSQL_DIR}/mysql_sql.c)

# Captured sessions (testdata/*.golden) under every chunking.
zt_plugin_test(test_mysql_golden SOURCES ${ZT_MYSQL_DIR}/tests/test_mysql_golden.c ${ZT_MYSQL_DIR}/tests/my_testlib.c
  ${ZT_MYSQL_SOURCES})
target_include_directories(test_mysql_golden PRIVATE ${ZT_MYSQL_DIR} ${ZT_MYSQL_DIR}/tests)

# The whole pipeline against a real MariaDB and real clients (root).
zt_integration_test(l7_mysql 180)

# The sanitizer, detection, rules and config.
zt_plugin_test(test_mysql_unit SOURCES ${ZT_MYSQL_DIR}/tests/test_mysql_unit.c ${ZT_MYSQL_DIR}/tests/my_testlib.c
  ${ZT_MYSQL_SOURCES})
target_include_directories(test_mysql_unit PRIVATE ${ZT_MYSQL_DIR} ${ZT_MYSQL_DIR}/tests)

# Crafted streams and hostile input.
zt_plugin_test(test_mysql_adversarial SOURCES ${ZT_MYSQL_DIR}/tests/test_mysql_adversarial.c
  ${ZT_MYSQL_DIR}/tests/my_testlib.c ${ZT_MYSQL_SOURCES})
target_include_directories(test_mysql_adversarial PRIVATE ${ZT_MYSQL_DIR} ${ZT_MYSQL_DIR}/tests)
