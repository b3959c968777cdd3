# memcached plugin tests: unit/adversarial and golden tests against the mock
# host, and the fuzz corpus replayed as an ordinary test. Included by
# tests/CMakeLists.txt. The libFuzzer target needs clang: README.md, "Fuzzing".
set(ZT_MC_DIR ${CMAKE_SOURCE_DIR}/plugins/protocol/memcached)
set(ZT_MC_SOURCES ${ZT_MC_DIR}/memcached.c ${ZT_MC_DIR}/mc_text.c ${ZT_MC_DIR}/mc_binary.c)

zt_plugin_test(test_memcached_golden SOURCES ${ZT_MC_DIR}/tests/test_mc_golden.c ${ZT_MC_DIR}/tests/mc_testlib.c
  ${ZT_MC_SOURCES} LIBS ZLIB::ZLIB)
zt_plugin_test(test_memcached_parse SOURCES ${ZT_MC_DIR}/tests/test_mc_parse.c ${ZT_MC_DIR}/tests/mc_testlib.c
  ${ZT_MC_SOURCES} LIBS ZLIB::ZLIB)
target_include_directories(test_memcached_parse PRIVATE ${ZT_MC_DIR})

# The fuzz corpus, replayed by a plain main (any compiler).
zt_plugin_test(test_memcached_fuzz_replay SOURCES ${CMAKE_SOURCE_DIR}/tests/mockhost/fuzz_replay.c ${ZT_MC_DIR}/fuzz/fuzz_memcached.c
  ${ZT_MC_SOURCES})
target_compile_definitions(test_memcached_fuzz_replay PRIVATE ZT_FUZZ_CORPUS="plugins/protocol/memcached/fuzz/corpus" ZT_FUZZ_CLEANUP=fuzz_memcached_cleanup)

zt_integration_test(l7_memcached 180)

# The libFuzzer target: built when the compiler is clang, or asked for with
# -DZEROTAP_FUZZ=ON. Run: build-fuzz/tests/fuzz_memcached
# -dict=plugins/protocol/memcached/fuzz/memcached.dict <new dir> plugins/protocol/memcached/fuzz/corpus
if(ZEROTAP_FUZZ OR CMAKE_C_COMPILER_ID STREQUAL "Clang")
  add_executable(fuzz_memcached ${ZT_MC_DIR}/fuzz/fuzz_memcached.c ${ZT_MC_SOURCES} ${ZT_MOCK_SOURCES})
  target_compile_definitions(fuzz_memcached PRIVATE ZT_PLUGIN_BUILTIN)
  target_include_directories(fuzz_memcached PRIVATE ${ZT_MC_DIR} ${CMAKE_SOURCE_DIR}/core
    ${CMAKE_SOURCE_DIR}/sdk/include ${CMAKE_SOURCE_DIR}/tests/mockhost)
  target_compile_options(fuzz_memcached PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(fuzz_memcached PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_memcached PRIVATE PkgConfig::JANSSON pthread m)
endif()
