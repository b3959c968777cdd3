# DNS plugin tests, included by tests/CMakeLists.txt (label "unit", no root).
set(ZT_DNS_DIR ${CMAKE_SOURCE_DIR}/plugins/protocol/dns)
set(ZT_DNS_SOURCES ${ZT_DNS_DIR}/dns.c ${ZT_DNS_DIR}/dns_metrics.c ${ZT_DNS_DIR}/dns_wire.c ${ZT_DNS_DIR}/fqdn.c)

# The wire parser and the ip_to_fqdn table alone.
zt_unit_test(test_dns_wire SOURCES ${ZT_DNS_DIR}/tests/test_dns_wire.c ${ZT_DNS_DIR}/tests/dns_testlib.c
  ${ZT_DNS_DIR}/dns_wire.c ${ZT_DNS_DIR}/fqdn.c)
target_include_directories(test_dns_wire PRIVATE ${ZT_DNS_DIR})

# The plugin through the mock host: rules, detect, UDP, pairing, metrics
# (test_dns); TCP framing and hostile input (test_dns_tcp).
zt_plugin_test(test_dns SOURCES ${ZT_DNS_DIR}/tests/test_dns.c ${ZT_DNS_DIR}/tests/dns_testlib.c ${ZT_DNS_SOURCES})
target_include_directories(test_dns PRIVATE ${ZT_DNS_DIR})
zt_plugin_test(test_dns_tcp SOURCES ${ZT_DNS_DIR}/tests/test_dns_tcp.c ${ZT_DNS_DIR}/tests/dns_testlib.c
  ${ZT_DNS_SOURCES})
target_include_directories(test_dns_tcp PRIVATE ${ZT_DNS_DIR})

# Captured exchanges (testdata/*.txt) under every chunking.
zt_plugin_test(test_dns_golden SOURCES ${ZT_DNS_DIR}/tests/test_dns_golden.c ${ZT_DNS_DIR}/tests/dns_testlib.c
  ${ZT_DNS_SOURCES})
target_include_directories(test_dns_golden PRIVATE ${ZT_DNS_DIR})

# The fuzz target's corpus (fuzz/corpus/*) replayed by a plain main, so every
# build checks that no committed input crashes or leaks.
zt_plugin_test(test_dns_fuzz_replay SOURCES ${ZT_DNS_DIR}/fuzz/fuzz_dns.c ${CMAKE_SOURCE_DIR}/tests/mockhost/fuzz_replay.c
  ${ZT_DNS_SOURCES})
target_compile_definitions(test_dns_fuzz_replay PRIVATE ZT_FUZZ_CORPUS="plugins/protocol/dns/fuzz/corpus")
target_include_directories(test_dns_fuzz_replay PRIVATE ${ZT_DNS_DIR})

# libFuzzer target: cmake -DCMAKE_C_COMPILER=clang -DZEROTAP_FUZZ=ON, then
#   build/fuzz_dns -dict=plugins/protocol/dns/fuzz/dns.dict NEW_DIR plugins/protocol/dns/fuzz/corpus
option(ZEROTAP_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(ZEROTAP_FUZZ)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(fuzz_dns ${ZT_DNS_DIR}/fuzz/fuzz_dns.c ${ZT_DNS_SOURCES} ${ZT_MOCK_SOURCES})
    target_include_directories(fuzz_dns PRIVATE ${ZT_DNS_DIR} ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/sdk/include
      ${CMAKE_SOURCE_DIR}/tests/mockhost)
    target_compile_definitions(fuzz_dns PRIVATE ZT_PLUGIN_BUILTIN)
    target_compile_options(fuzz_dns PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g)
    target_link_options(fuzz_dns PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_dns PRIVATE PkgConfig::JANSSON pthread m)
  else()
    message(WARNING "ZEROTAP_FUZZ: libFuzzer needs clang (CMAKE_C_COMPILER_ID is ${CMAKE_C_COMPILER_ID}); fuzz_dns not built")
  endif()
endif()
