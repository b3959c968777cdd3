# HTTP/1.x plugin tests: unit, parse, adversarial and golden tests against
# the mock host, and the fuzz corpus replayed as an ordinary test. Included
# by tests/CMakeLists.txt. The libFuzzer target itself needs clang: see
# README.md, "Fuzzing".
set(ZT_HTTP_DIR ${CMAKE_SOURCE_DIR}/plugins/protocol/http)
set(ZT_HTTP_SOURCES ${ZT_HTTP_DIR}/http.c ${ZT_HTTP_DIR}/http_head.c ${ZT_HTTP_DIR}/http_route.c)

zt_plugin_test(test_http_golden SOURCES ${ZT_HTTP_DIR}/tests/test_http_golden.c ${ZT_HTTP_DIR}/tests/golden.c
  ${ZT_HTTP_SOURCES} LIBS ZLIB::ZLIB)
zt_plugin_test(test_http_unit SOURCES ${ZT_HTTP_DIR}/tests/test_http_unit.c ${ZT_HTTP_SOURCES})
target_include_directories(test_http_unit PRIVATE ${ZT_HTTP_DIR})
zt_plugin_test(test_http_parse SOURCES ${ZT_HTTP_DIR}/tests/test_http_parse.c ${ZT_HTTP_SOURCES})
zt_plugin_test(test_http_adversarial SOURCES ${ZT_HTTP_DIR}/tests/test_http_adversarial.c ${ZT_HTTP_SOURCES})

# The fuzz corpus, replayed by a plain main (any compiler).
zt_plugin_test(test_http_fuzz_replay SOURCES ${CMAKE_SOURCE_DIR}/tests/mockhost/fuzz_replay.c ${ZT_HTTP_DIR}/fuzz/fuzz_http.c
  ${ZT_HTTP_SOURCES})
target_compile_definitions(test_http_fuzz_replay PRIVATE ZT_FUZZ_CORPUS="plugins/protocol/http/fuzz/corpus" ZT_FUZZ_CLEANUP=fuzz_http_cleanup)
target_include_directories(test_http_fuzz_replay PRIVATE ${ZT_HTTP_DIR})

# The libFuzzer target: built when the compiler is clang (CC=clang cmake
# -B build-fuzz), or asked for with -DZEROTAP_FUZZ=ON (which then needs
# clang). Run: build-fuzz/tests/fuzz_http -dict=plugins/protocol/http/fuzz/http.dict
# <new corpus dir> plugins/protocol/http/fuzz/corpus
option(ZEROTAP_FUZZ "Build the protocol plugins' libFuzzer targets (needs clang)" OFF)
if(ZEROTAP_FUZZ OR CMAKE_C_COMPILER_ID STREQUAL "Clang")
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ZEROTAP_FUZZ=ON needs clang: configure a separate build with CC=clang")
  endif()
  add_executable(fuzz_http ${ZT_HTTP_DIR}/fuzz/fuzz_http.c ${ZT_HTTP_SOURCES} ${ZT_MOCK_SOURCES})
  target_compile_definitions(fuzz_http PRIVATE ZT_PLUGIN_BUILTIN)
  target_include_directories(fuzz_http PRIVATE ${ZT_HTTP_DIR} ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/sdk/include
    ${CMAKE_SOURCE_DIR}/tests/mockhost)
  target_compile_options(fuzz_http PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(fuzz_http PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_http PRIVATE PkgConfig::JANSSON pthread m)
endif()
