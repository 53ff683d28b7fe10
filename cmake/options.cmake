# options.cmake: the build options of include/eota/opt.h for this build.
#
# EOTA_OPT_HEADER (a cache path, empty by default) names an integrator header
# that overrides opt.h's defaults, as a chip build would do; it is given to
# every target that includes eota's headers in this tree. The values the core
# ends up with are read back here from the preprocessor itself (so there is
# one place for the defaults: opt.h) and written to eota/opt_build.h, which
# the install puts in place of the source tree's empty one: a program built
# against the installed library gets the library's values, and a compile
# error if it sets one differently.

set(EOTA_OPT_HEADER "" CACHE FILEPATH "Header overriding the options of include/eota/opt.h (empty: defaults)")

set(_opt_h ${PROJECT_SOURCE_DIR}/include/eota/opt.h)
set(_opt_defs)
if(EOTA_OPT_HEADER)
  set(_opt_defs "-DEOTA_OPT_HEADER=\"${EOTA_OPT_HEADER}\"")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${EOTA_OPT_HEADER})
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_opt_h})

# The options are the names opt.h defaults with #ifndef (its guard aside).
file(STRINGS ${_opt_h} _opt_lines REGEX "^#ifndef EOTA_[A-Z0-9_]+$")
list(TRANSFORM _opt_lines REPLACE "^#ifndef " "")
list(REMOVE_ITEM _opt_lines EOTA_OPT_H)

execute_process(
  COMMAND ${CMAKE_C_COMPILER} -E -dM -x c -I${PROJECT_SOURCE_DIR}/include ${_opt_defs} ${_opt_h}
  OUTPUT_VARIABLE _opt_macros RESULT_VARIABLE _opt_rc ERROR_VARIABLE _opt_err)
if(NOT _opt_rc EQUAL 0)
  message(FATAL_ERROR "eota: cannot read the build options from ${_opt_h}:\n${_opt_err}")
endif()

set(EOTA_OPT_CHECKS "")
set(EOTA_OPT_SUMMARY "")
foreach(opt ${_opt_lines})
  if(NOT _opt_macros MATCHES "#define ${opt} ([^\n]*)\n")
    message(FATAL_ERROR "eota: option ${opt} of opt.h has no value")
  endif()
  set(val "${CMAKE_MATCH_1}")
  set(EOTA_OPT_${opt} "${val}")
  string(APPEND EOTA_OPT_SUMMARY " ${opt}=${val}")
  string(APPEND EOTA_OPT_CHECKS
    "#if defined(${opt}) && (${opt}) != (${val})\n"
    "#error \"${opt}: the installed eota library was built with ${val}; a program cannot change it\"\n"
    "#endif\n"
    "#ifndef ${opt}\n#define ${opt} ${val}\n#endif\n")
endforeach()
message(STATUS "eota options:${EOTA_OPT_SUMMARY}")

set(EOTA_OPT_BUILD_H ${PROJECT_BINARY_DIR}/generated/eota/opt_build.h)
configure_file(${PROJECT_SOURCE_DIR}/cmake/opt_build.h.in ${EOTA_OPT_BUILD_H} @ONLY)

if(NOT EOTA_OPT_EOTA_WITH_CLIENT)
  message(FATAL_ERROR "eota: EOTA_WITH_CLIENT is 0, but the eota command uploads with the uploader "
    "engine. A device-only core is compiled by the chip's own build (scripts/size.sh shows the flags).")
endif()

# Give a target that includes eota's headers the same options as the core.
function(eota_apply_options target)
  if(EOTA_OPT_HEADER)
    target_compile_definitions(${target} PUBLIC $<BUILD_INTERFACE:EOTA_OPT_HEADER="${EOTA_OPT_HEADER}">)
  endif()
endfunction()
