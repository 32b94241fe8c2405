# cgio_bpf_skeleton(<name> <source.bpf.c> [extra clang flags...])
#
# Compiles one BPF source into a CO-RE object with clang, strips its DWARF
# (the .BTF and .BTF.ext sections CO-RE needs stay), and generates
# <name>.skel.h with `bpftool gen skeleton`. The exporter embeds the object
# through the skeleton's <name>__elf_bytes(): nothing is compiled or read
# from disk at run time. Adds the header to the interface target
# cgio_bpf_skeletons.

find_program(CGIO_CLANG NAMES clang clang-14 REQUIRED)
find_program(CGIO_LLVM_STRIP NAMES llvm-strip llvm-strip-14 REQUIRED)
find_program(CGIO_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(CGIO_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(CGIO_BPF_ARCH arm64)
else()
  message(FATAL_ERROR "cgio: no BPF target arch for ${CMAKE_SYSTEM_PROCESSOR}")
endif()

# <asm/types.h>, pulled in by <linux/types.h>, lives in the multiarch dir.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE CGIO_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)

set(CGIO_BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf-gen)
file(MAKE_DIRECTORY ${CGIO_BPF_GEN_DIR})
add_library(cgio_bpf_skeletons INTERFACE)
target_include_directories(cgio_bpf_skeletons INTERFACE ${CGIO_BPF_GEN_DIR})

function(cgio_bpf_skeleton name source)
  set(obj ${CGIO_BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${CGIO_BPF_GEN_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CGIO_CLANG} -g -O2 -target bpf -mcpu=v3
            -D__TARGET_ARCH_${CGIO_BPF_ARCH}
            -Wall -Werror
            -I${CMAKE_SOURCE_DIR}/bpf/include -I${CMAKE_SOURCE_DIR}/bpf
            -I/usr/include/${CGIO_MULTIARCH}
            -MD -MF ${obj}.d ${ARGN}
            -c ${source} -o ${obj}
    COMMAND ${CGIO_LLVM_STRIP} -g ${obj}
    DEPENDS ${source}
    DEPFILE ${obj}.d
    COMMENT "BPF ${name}: compiling CO-RE object"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND sh -c "${CGIO_BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}.tmp && mv ${skel}.tmp ${skel}"
    DEPENDS ${obj}
    COMMENT "BPF ${name}: generating skeleton"
    VERBATIM)
  add_custom_target(cgio_bpf_${name} DEPENDS ${skel})
  add_dependencies(cgio_bpf_skeletons cgio_bpf_${name})
endfunction()
