# core.cmake: compile src/core as on a microcontroller, so that an OS header
# included by accident fails here, on the host, not later in a chip's build.
# The core sees the compiler's own freestanding headers (<stddef.h>,
# <stdint.h>, <stdbool.h>) and cmake/core-include/string.h, nothing else of
# the system's (-nostdinc). -fbuiltin keeps memcpy and friends inlined as in a
# hosted build. scripts/size.sh compiles the core the same way for Cortex-M0+
# and RV32IMC.

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
  OUTPUT_VARIABLE EOTA_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT EXISTS "${EOTA_CC_INCLUDE}/stddef.h" OR NOT EXISTS "${EOTA_CC_INCLUDE}/stdint.h")
  message(STATUS "eota: ${CMAKE_C_COMPILER} shows no freestanding include directory: "
    "the core is compiled with the system's headers (scripts/size.sh still checks it)")
  set(EOTA_CC_INCLUDE "")
endif()

function(eota_core_freestanding target)
  # Core modules may read the EOTA_PRIVATE fields (eota/private_access.h).
  target_compile_definitions(${target} PRIVATE EOTA_ALLOW_PRIVATE_ACCESS)
  if(EOTA_CC_INCLUDE)
    target_compile_options(${target} PRIVATE -ffreestanding -fbuiltin -nostdinc
      "SHELL:-isystem ${EOTA_CC_INCLUDE}" "SHELL:-isystem ${PROJECT_SOURCE_DIR}/cmake/core-include")
  endif()
endfunction()
