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

# Hand-made hostile and edge cases.
zt_plugin_test(test_redis_adversarial SOURCES ${ZT_REDIS_DIR}/tests/test_redis_adversarial.c
  ${ZT_REDIS_DIR}/tests/redis_testlib.c ${ZT_REDIS_SOURCES})
target_include_directories(test_redis_adversarial PRIVATE ${ZT_REDIS_DIR} ${ZT_REDIS_DIR}/tests)

# The fuzz corpus (fuzz/corpus, seeded by fuzz/make_corpus.py) replayed by a
# plain main, so every build (gcc too) checks that no input crashes or leaks.
zt_plugin_test(test_redis_fuzz_replay SOURCES ${ZT_REDIS_DIR}/fuzz/fuzz_redis.c ${CMAKE_SOURCE_DIR}/tests/mockhost/fuzz_replay.c
  ${ZT_REDIS_SOURCES})
target_compile_definitions(test_redis_fuzz_replay PRIVATE ZT_FUZZ_CORPUS="plugins/protocol/redis/fuzz/corpus")
target_include_directories(test_redis_fuzz_replay PRIVATE ${ZT_REDIS_DIR})

# libFuzzer target (clang): cmake -DCMAKE_C_COMPILER=clang -DZEROTAP_FUZZ=ON, then
#   build/tests/fuzz_redis NEW_DIR plugins/protocol/redis/fuzz/corpus
option(ZEROTAP_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(ZEROTAP_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_redis ${ZT_REDIS_DIR}/fuzz/fuzz_redis.c ${ZT_REDIS_SOURCES} ${ZT_MOCK_SOURCES})
  target_include_directories(fuzz_redis PRIVATE ${ZT_REDIS_DIR} ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/sdk/include
    ${CMAKE_SOURCE_DIR}/tests/mockhost)
  target_compile_definitions(fuzz_redis PRIVATE ZT_PLUGIN_BUILTIN)
  target_compile_options(fuzz_redis PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g)
  target_link_options(fuzz_redis PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_redis PRIVATE PkgConfig::JANSSON pthread m)
endif()
