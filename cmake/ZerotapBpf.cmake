# BPF objects: clang -target bpf against the vendored vmlinux.h, skeletons
# generated with bpftool into the build tree only.
find_program(ZT_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(ZT_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(ZT_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(ZT_BPF_ARCH arm64)
else()
  message(FATAL_ERROR "no vendored vmlinux.h for ${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(ZT_BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf-gen)
file(MAKE_DIRECTORY ${ZT_BPF_GEN_DIR})

# zt_bpf_skeleton(<name>): bpf/<name>.bpf.c -> ${ZT_BPF_GEN_DIR}/<name>.skel.h
function(zt_bpf_skeleton name)
  set(src ${CMAKE_SOURCE_DIR}/bpf/${name}.bpf.c)
  set(obj ${ZT_BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${ZT_BPF_GEN_DIR}/${name}.skel.h)
  file(GLOB shared_headers ${CMAKE_SOURCE_DIR}/bpf/shared/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${ZT_CLANG} -g -O2 -Wall -target bpf -D__TARGET_ARCH_${ZT_BPF_ARCH}
            -I${CMAKE_SOURCE_DIR}/bpf/vmlinux/${ZT_BPF_ARCH} -I${CMAKE_SOURCE_DIR}/bpf/shared
            -c ${src} -o ${obj}
    DEPENDS ${src} ${shared_headers}
    COMMENT "BPF ${name}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${ZT_BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(zt_bpf_${name} DEPENDS ${skel})
  set_property(GLOBAL APPEND PROPERTY ZT_BPF_TARGETS zt_bpf_${name})
endfunction()
