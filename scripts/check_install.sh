#!/usr/bin/env bash
# Installs eota into a temporary prefix with `cmake --install`, checks with
# nm that the installed libraries hold no test double (and define nothing
# outside the eota_ namespace), then builds a small consumer of the library
# twice: with pkg-config and with CMake's find_package(eota). Proves the
# installed headers, libraries, eota.pc and the CMake package are complete,
# that a consumer cannot disagree with the library's build options
# (eota/opt_build.h), and that the eota command was installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/eota-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$root" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEOTA_BUILD_TESTS=OFF >/dev/null
ninja -C "$tmp/build" eota_core eota_posix eota_cli >/dev/null
cmake --install "$tmp/build" --prefix "$tmp/prefix" >/dev/null
test -x "$tmp/prefix/bin/eota"
"$tmp/prefix/bin/eota" version

# 0. What is installed: the two libraries, no test double in them, no test
#    double's header.
fail=0
libs=$(find "$tmp/prefix" -name 'libeota*.a' | sort)
for want in libeota_core.a libeota_posix.a; do
  if ! grep -q "/$want\$" <<<"$libs"; then
    echo "check_install: $want was not installed" >&2
    fail=1
  fi
done
# The test doubles' names (tests/support, src/port/simflash): the in-memory
# backend, the simulated flash, the fakes, the golden transcripts, the pipes.
doubles='^(eota_mem_backend|eota_sim|simflash|fake|golden|mem_pipe|eota_harness|gbuf_|pattern_)'
for lib in $libs; do
  syms=$(nm --defined-only "$lib" | awk '$2 ~ /^[TDRBCVW]$/ { print $3 }' | sort -u)
  bad=$(grep -E "$doubles" <<<"$syms" || true)
  if [ -n "$bad" ]; then
    echo "check_install: test doubles in the installed $(basename "$lib"):" "${bad//$'\n'/ }" >&2
    fail=1
  fi
  stray=$(grep -Ev '^eota_' <<<"$syms" | grep -Ev "$doubles" || true)
  if [ -n "$stray" ]; then
    echo "check_install: symbols outside the eota_ namespace in $(basename "$lib"):" "${stray//$'\n'/ }" >&2
    fail=1
  fi
done
# The core needs nothing from the world but what a compiler may call by
# itself (the memory routines, strlen; the stack protector where a
# distribution turns it on by default; the linker's own GOT symbol, which
# position-independent code names when it takes a function's address).
core=$(grep '/libeota_core\.a$' <<<"$libs" || true)
if [ -n "$core" ]; then
  core_defs=" $(nm --defined-only "$core" | awk '$2 ~ /^[TDRB]$/ { print $3 }' | tr '\n' ' ')"
  for sym in $(nm -u "$core" | awk 'NF == 2 { print $2 }' | sort -u); do
    case " memcpy memset memmove memcmp strlen __stack_chk_fail __stack_chk_guard _GLOBAL_OFFSET_TABLE_ $core_defs" in
      *" $sym "*) ;;
      *) echo "check_install: libeota_core.a needs $sym from outside the core" >&2; fail=1 ;;
    esac
  done
fi
for h in simflash mem_backend fake golden pipe; do
  if [ -e "$tmp/prefix/include/eota/$h.h" ]; then
    echo "check_install: a test double's header was installed: eota/$h.h" >&2
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "install: libeota_core.a (needs only memcpy/memset/memmove/memcmp/strlen) and libeota_posix.a, no test double in them"

mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/main.c" <<'C'
#include <stdio.h>
#include <eota/server.h>
#include <eota/posix.h>
#include <eota/filestore.h>
int main(void)
{
    eota_posix_hash h;
    uint8_t d[16];
    if (eota_posix_hash_init(&h) != EOTA_OK || eota_posix_digest(EOTA_HASH_MD5, "abc", 3, d) != EOTA_OK)
        return 1;
    eota_posix_hash_free(&h);
    uint32_t crc = eota_filestore_crc32(0, "abc", 3); /* zlib's, through the port */
    printf("consumer: %s, md5(abc) starts %02x%02x, crc32(abc) %08x, engine state %zu bytes\n",
           eota_response_name(0x8B), d[0], d[1], (unsigned)crc, sizeof(eota_server));
    return d[0] == 0x90 && d[1] == 0x01 && crc == 0x352441c2u ? 0 : 1;
}
C
# 1. pkg-config
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/x86_64-linux-gnu/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "$tmp/consumer/main.c" -o "$tmp/consumer/pc" $(pkg-config --cflags --libs --static eota)
"$tmp/consumer/pc"
# ... and a consumer that sets an option the library fixed does not compile.
# shellcheck disable=SC2046
if cc -std=c11 -DEOTA_PASSWORD_MAX=64 -fsyntax-only "$tmp/consumer/main.c" $(pkg-config --cflags eota) \
    2>"$tmp/consumer/opt.log"; then
  echo "check_install: a consumer with EOTA_PASSWORD_MAX=64 compiled against a library built with another" >&2
  fail=1
elif ! grep -q 'EOTA_PASSWORD_MAX: the installed eota library was built with' "$tmp/consumer/opt.log"; then
  echo "check_install: a consumer with another EOTA_PASSWORD_MAX failed, but not on the options check:" >&2
  cat "$tmp/consumer/opt.log" >&2
  fail=1
fi
# ... and every installed header compiles in a C++ program too (they say
# extern "C"; a C++ firmware includes them).
for h in "$tmp"/prefix/include/eota/*.h; do echo "#include <eota/$(basename "$h")>"; done >"$tmp/consumer/all.cpp"
echo 'int main() { return eota_status_name(EOTA_OK)[0] != 0 ? 0 : 1; }' >>"$tmp/consumer/all.cpp"
# shellcheck disable=SC2046
if ! c++ -std=c++17 -Wall -Werror -fsyntax-only "$tmp/consumer/all.cpp" $(pkg-config --cflags eota); then
  echo "check_install: the installed headers do not compile as C++" >&2
  fail=1
fi
# 2. CMake package: eota::eota (both libraries), and eota::eota_core alone
#    for a program that uses only the engines' code (it links no libcrypto).
cat >"$tmp/consumer/core.c" <<'C'
#include <stdio.h>
#include <eota/protocol.h>
#include <eota/status.h>
int main(void)
{
    printf("core-only consumer: %s, %s\n", eota_response_name(0x45), eota_status_name(EOTA_ETOOBIG));
    return 0;
}
C
cat >"$tmp/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(eota 0.1 REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE eota::eota)
add_executable(consumer_core core.c)
target_link_libraries(consumer_core PRIVATE eota::eota_core)
CM
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
ninja -C "$tmp/consumer/build" >/dev/null
"$tmp/consumer/build/consumer"
"$tmp/consumer/build/consumer_core"
if ldd "$tmp/consumer/build/consumer_core" | grep -q libcrypto; then
  echo "check_install: eota::eota_core brought libcrypto in" >&2
  fail=1
fi
if [ $fail -ne 0 ]; then
  echo "check_install: FAILED (see above)" >&2
  exit 1
fi
echo "install: libraries, headers, eota.pc, CMake package and the eota command all work"
