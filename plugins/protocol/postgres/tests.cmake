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

# The fuzz target's corpus (fuzz/corpus/*) replayed by a plain main (any
# compiler), so every build checks that no committed input crashes or leaks.
zt_plugin_test(test_pg_fuzz_replay SOURCES ${ZT_PG_DIR}/fuzz/fuzz_pg.c ${CMAKE_SOURCE_DIR}/tests/mockhost/fuzz_replay.c ${ZT_PG_SOURCES})
target_compile_definitions(test_pg_fuzz_replay PRIVATE ZT_FUZZ_CORPUS="plugins/protocol/postgres/fuzz/corpus" ZT_FUZZ_CLEANUP=fuzz_pg_cleanup)
target_include_directories(test_pg_fuzz_replay PRIVATE ${ZT_PG_DIR})

# libFuzzer target: CC=clang cmake -B build-fuzz -DZEROTAP_FUZZ=ON, then
#   build-fuzz/tests/fuzz_pg -dict=plugins/protocol/postgres/fuzz/pg.dict NEW_DIR plugins/protocol/postgres/fuzz/corpus
option(ZEROTAP_FUZZ "Build the protocol plugins' libFuzzer targets (needs clang)" OFF)
if(ZEROTAP_FUZZ OR CMAKE_C_COMPILER_ID STREQUAL "Clang")
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ZEROTAP_FUZZ=ON needs clang: configure a separate build with CC=clang")
  endif()
  add_executable(fuzz_pg ${ZT_PG_DIR}/fuzz/fuzz_pg.c ${ZT_PG_SOURCES} ${ZT_MOCK_SOURCES})
  target_compile_definitions(fuzz_pg PRIVATE ZT_PLUGIN_BUILTIN)
  target_include_directories(fuzz_pg PRIVATE ${ZT_PG_DIR} ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/sdk/include
    ${CMAKE_SOURCE_DIR}/tests/mockhost)
  target_compile_options(fuzz_pg PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g)
  target_link_options(fuzz_pg PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_pg PRIVATE PkgConfig::JANSSON pthread m)
endif()
