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

# The fuzz target's corpus (fuzz/corpus/*) replayed by a plain main, so every
# build checks that no committed input crashes or leaks.
zt_plugin_test(test_mysql_fuzz_replay SOURCES ${ZT_MYSQL_DIR}/fuzz/fuzz_mysql.c ${CMAKE_SOURCE_DIR}/tests/mockhost/fuzz_replay.c
  ${ZT_MYSQL_SOURCES})
target_compile_definitions(test_mysql_fuzz_replay PRIVATE ZT_FUZZ_CORPUS="plugins/protocol/mysql/fuzz/corpus" ZT_FUZZ_CLEANUP=fuzz_mysql_cleanup)
target_include_directories(test_mysql_fuzz_replay PRIVATE ${ZT_MYSQL_DIR})

# libFuzzer target: CC=clang cmake -DZEROTAP_FUZZ=ON, then
#   build/tests/fuzz_mysql -dict=plugins/protocol/mysql/fuzz/mysql.dict NEW_DIR plugins/protocol/mysql/fuzz/corpus
option(ZEROTAP_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(ZEROTAP_FUZZ OR CMAKE_C_COMPILER_ID STREQUAL "Clang")
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(fuzz_mysql ${ZT_MYSQL_DIR}/fuzz/fuzz_mysql.c ${ZT_MYSQL_SOURCES} ${ZT_MOCK_SOURCES})
    target_include_directories(fuzz_mysql PRIVATE ${ZT_MYSQL_DIR} ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/sdk/include
      ${CMAKE_SOURCE_DIR}/tests/mockhost)
    target_compile_definitions(fuzz_mysql PRIVATE ZT_PLUGIN_BUILTIN)
    target_compile_options(fuzz_mysql PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g)
    target_link_options(fuzz_mysql PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_mysql PRIVATE PkgConfig::JANSSON pthread m)
  else()
    message(WARNING "ZEROTAP_FUZZ: libFuzzer needs clang (CMAKE_C_COMPILER_ID is ${CMAKE_C_COMPILER_ID}); fuzz_mysql not built")
  endif()
endif()
