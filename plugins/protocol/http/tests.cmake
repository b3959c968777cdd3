# HTTP/1.x plugin tests: unit, golden and adversarial tests against the
# mock host, and the fuzz corpus replayed as an ordinary test. Included by
# tests/CMakeLists.txt. The libFuzzer target itself needs clang: see
# fuzz/README in ../README.md, "Fuzzing".
set(ZT_HTTP_DIR ${CMAKE_SOURCE_DIR}/plugins/protocol/http)
set(ZT_HTTP_SOURCES ${ZT_HTTP_DIR}/http.c ${ZT_HTTP_DIR}/http_head.c ${ZT_HTTP_DIR}/http_route.c)

zt_plugin_test(test_http_golden SOURCES ${ZT_HTTP_DIR}/tests/test_http_golden.c ${ZT_HTTP_DIR}/tests/golden.c
  ${ZT_HTTP_SOURCES} LIBS ZLIB::ZLIB)
zt_plugin_test(test_http_unit SOURCES ${ZT_HTTP_DIR}/tests/test_http_unit.c ${ZT_HTTP_SOURCES})
target_include_directories(test_http_unit PRIVATE ${ZT_HTTP_DIR})
zt_plugin_test(test_http_parse SOURCES ${ZT_HTTP_DIR}/tests/test_http_parse.c ${ZT_HTTP_SOURCES})
zt_plugin_test(test_http_adversarial SOURCES ${ZT_HTTP_DIR}/tests/test_http_adversarial.c ${ZT_HTTP_SOURCES})
