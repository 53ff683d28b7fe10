#!/usr/bin/env bash
# Installs eota into a temporary prefix with `cmake --install` and builds a
# small consumer of the library twice: with pkg-config and with CMake's
# find_package(eota). Proves the installed headers, library, eota.pc and the
# CMake package are complete, and that the eota command was installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/eota-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$root" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEOTA_BUILD_TESTS=OFF >/dev/null
ninja -C "$tmp/build" eota eota_cli >/dev/null
cmake --install "$tmp/build" --prefix "$tmp/prefix" >/dev/null
test -x "$tmp/prefix/bin/eota"
"$tmp/prefix/bin/eota" version

mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/main.c" <<'C'
#include <stdio.h>
#include <eota/server.h>
#include <eota/posix.h>
int main(void)
{
    eota_posix_hash h;
    uint8_t d[16];
    if (eota_posix_hash_init(&h) != EOTA_OK || eota_posix_digest(EOTA_HASH_MD5, "abc", 3, d) != EOTA_OK)
        return 1;
    eota_posix_hash_free(&h);
    printf("consumer: %s, md5(abc) starts %02x%02x, engine state %zu bytes\n",
           eota_response_name(0x8B), d[0], d[1], sizeof(eota_server));
    return d[0] == 0x90 && d[1] == 0x01 ? 0 : 1;
}
C
# 1. pkg-config
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/x86_64-linux-gnu/pkgconfig" \
  sh -c 'cc -std=c11 -Wall -Werror "$1/consumer/main.c" -o "$1/consumer/pc" $(pkg-config --cflags --libs --static eota)' _ "$tmp"
"$tmp/consumer/pc"
# 2. CMake package
cat >"$tmp/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(eota 0.1 REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE eota::eota)
CM
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
ninja -C "$tmp/consumer/build" >/dev/null
"$tmp/consumer/build/consumer"
echo "install: library, headers, eota.pc, CMake package and the eota command all work"
