#!/usr/bin/env bash
# size.sh: build every src/core/*.c freestanding for the two microcontroller
# targets CI cares about (Cortex-M0+ as on the RP2040, RV32IMC as on the
# ESP32-C3), print text/data/bss per object and in total, write the same as
# JSON for the benchmarks, and fail when the core needs anything from the
# world beyond a few libc/libgcc builtins (ARCHITECTURE.md: no malloc, no OS,
# no stdio in the core).
#
# usage: scripts/size.sh [BUILD_DIR]   (default: <repo>/build-size)
#   A relative BUILD_DIR is taken from the directory you run it in.
#   EXTRA_CFLAGS adds flags to every compile (e.g. -DEOTA_PASSWORD_MAX=64).
# Output: BUILD_DIR/<target>/*.o, BUILD_DIR/size.json. Exit 1 on a compile
# error or a forbidden undefined symbol; 2 when a toolchain is missing.
set -euo pipefail

caller_pwd=$PWD
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build-size}
case $out in /*) ;; *) out=$caller_pwd/$out ;; esac
cd "$root"

cflags=(-std=c11 -ffreestanding -nostdlib -Os -Wall -Wextra -Werror -Iinclude)
# shellcheck disable=SC2206
extra=(${EXTRA_CFLAGS:-})

# name | compiler | target flags | binutils prefix
targets=(
  "cortex-m0plus|arm-none-eabi-gcc|-mcpu=cortex-m0plus -mthumb|arm-none-eabi-"
  "rv32imc|riscv64-unknown-elf-gcc|-march=rv32imc -mabi=ilp32|riscv64-unknown-elf-"
)

# What freestanding code may legitimately leave undefined: the four memory
# routines and strlen the compiler itself may emit calls to, and libgcc's
# arithmetic helpers (integer division/multiply/shift on cores without the
# instruction, soft float, Thumb-1 switch tables).
allow_exact=" memcpy memset memmove memcmp strlen "
allow_re='^(__aeabi_[A-Za-z0-9_]+|__gnu_thumb1_case_[a-z0-9]+|__riscv_(save|restore)_[0-9]+'
allow_re+='|__(u?(div|mod)|mul|ashl|ashr|lshr|clz|ctz|ffs|popcount|parity|bswap|cmp|ucmp|neg)(si|di|ti)[23]'
allow_re+='|__(add|sub|mul|div|neg|eq|ne|lt|le|gt|ge|unord|cmp)(sf|df)[23]'
allow_re+='|__(fix|fixuns)(sf|df)(si|di)|__float(un)?(si|di)(sf|df)|__extendsfdf2|__truncdfsf2)$'
# Named in the report as the reason for the failure.
forbidden=" malloc free calloc realloc printf sprintf snprintf vsnprintf puts putchar fprintf abort exit "

srcs=(src/core/*.c)
if [ ! -e "${srcs[0]}" ]; then
  echo "size: no src/core/*.c found under $root" >&2
  exit 1
fi

mkdir -p "$out"
status=0
json_targets=()

for t in "${targets[@]}"; do
  IFS='|' read -r tname cc tflags prefix <<<"$t"
  size_tool=${prefix}size
  nm_tool=${prefix}nm
  for tool in "$cc" "$size_tool" "$nm_tool"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "size: $tool not found (scripts/deps.sh installs it)" >&2
      exit 2
    fi
  done
  tdir=$out/$tname
  rm -rf "$tdir"
  mkdir -p "$tdir"
  echo "== $tname ($cc ${tflags})"
  # shellcheck disable=SC2206
  tf=($tflags)
  # The core may include <string.h> (ARCHITECTURE.md). A bare-metal gcc
  # without a C library (Debian's riscv64-unknown-elf-gcc has no newlib)
  # lacks it: declare the usual functions ourselves, as a board's SDK would;
  # the nm check below still decides which of them the core may call.
  if ! echo '#include <string.h>' | "$cc" "${tf[@]}" -ffreestanding -x c -fsyntax-only - 2>/dev/null; then
    mkdir -p "$tdir/sysinc"
    cat >"$tdir/sysinc/string.h" <<'HDR'
/* size.sh: stand-in <string.h> for a toolchain without a C library. */
#ifndef EOTA_SIZE_STRING_H
#define EOTA_SIZE_STRING_H
#include <stddef.h>
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strcpy(char *restrict dst, const char *restrict src);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
char *strcat(char *restrict dst, const char *restrict src);
char *strstr(const char *h, const char *n);
#endif
HDR
    tf+=(-isystem "$tdir/sysinc")
    echo "note: $cc has no <string.h>; using a stand-in that only declares it"
  fi

  printf '%-24s %8s %8s %8s %8s\n' object text data bss total
  sum_text=0 sum_data=0 sum_bss=0
  json_objs=()
  undef_report=()
  # Compile everything first: a core file may call another core file's
  # functions (bootstate.c -> crc32.c); those symbols are not "the world".
  core_defs=" "
  for src in "${srcs[@]}"; do
    base=$(basename "$src" .c)
    if "$cc" "${tf[@]}" "${cflags[@]}" "${extra[@]}" -c "$src" -o "$tdir/$base.o" 2>/dev/null; then
      core_defs+="$("$nm_tool" --defined-only "$tdir/$base.o" | awk '$2 ~ /^[TDBRSV]$/ { print $3 }' | tr '\n' ' ')"
    fi
  done
  for src in "${srcs[@]}"; do
    base=$(basename "$src" .c)
    obj=$tdir/$base.o
    if ! "$cc" "${tf[@]}" "${cflags[@]}" "${extra[@]}" -c "$src" -o "$obj"; then
      echo "size: $src does not compile freestanding for $tname" >&2
      status=1
      continue
    fi
    # Berkeley format: text data bss dec hex filename
    read -r text data bss _ < <("$size_tool" -B "$obj" | awk 'NR == 2 { print $1, $2, $3, $4 }')
    printf '%-24s %8d %8d %8d %8d\n' "$base.o" "$text" "$data" "$bss" $((text + data + bss))
    sum_text=$((sum_text + text)); sum_data=$((sum_data + data)); sum_bss=$((sum_bss + bss))

    undef=$("$nm_tool" -u "$obj" | awk '{ print $NF }' | sort -u)
    bad=()
    names=()
    for sym in $undef; do
      names+=("\"$sym\"")
      if [[ $allow_exact == *" $sym "* ]] || [[ $sym =~ $allow_re ]] || [[ $core_defs == *" $sym "* ]]; then
        continue
      fi
      bad+=("$sym")
    done
    line="  $base.o: ${undef//$'\n'/ }"
    [ -n "$undef" ] || line="  $base.o: (none)"
    if [ ${#bad[@]} -gt 0 ]; then
      status=1
      why=()
      for sym in "${bad[@]}"; do
        if [[ $forbidden == *" $sym "* ]]; then why+=("$sym (forbidden in the core)"); else why+=("$sym (not in the allowlist)"); fi
      done
      line+="   <-- NOT ALLOWED: ${why[*]}"
    fi
    undef_report+=("$line")
    bad_json=()
    for sym in "${bad[@]+"${bad[@]}"}"; do bad_json+=("\"$sym\""); done
    json_objs+=("$(printf '{"object":"%s","source":"%s","text":%d,"data":%d,"bss":%d,"total":%d,"undefined":[%s],"not_allowed":[%s]}' \
      "$base.o" "$src" "$text" "$data" "$bss" $((text + data + bss)) \
      "$(IFS=,; echo "${names[*]+"${names[*]}"}")" "$(IFS=,; echo "${bad_json[*]+"${bad_json[*]}"}")")")
  done
  printf '%-24s %8d %8d %8d %8d\n' TOTAL "$sum_text" "$sum_data" "$sum_bss" $((sum_text + sum_data + sum_bss))
  echo "undefined symbols needed:"
  printf '%s\n' "${undef_report[@]+"${undef_report[@]}"}"
  if [ $((sum_data + sum_bss)) -ne 0 ]; then
    echo "note: the core has $((sum_data + sum_bss)) bytes of data/bss (global state?)"
  fi
  echo
  json_targets+=("$(printf '{"target":"%s","cc":"%s","cc_version":"%s","flags":"%s","objects":[%s],"total":{"text":%d,"data":%d,"bss":%d,"total":%d}}' \
    "$tname" "$cc" "$("$cc" -dumpversion)" "$tflags ${cflags[*]} ${extra[*]+"${extra[*]}"}" \
    "$(IFS=,; echo "${json_objs[*]+"${json_objs[*]}"}")" \
    "$sum_text" "$sum_data" "$sum_bss" $((sum_text + sum_data + sum_bss)))")
done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
printf '{"commit":"%s","ok":%s,"targets":[%s]}\n' "$commit" \
  "$([ $status -eq 0 ] && echo true || echo false)" \
  "$(IFS=,; echo "${json_targets[*]}")" >"$out/size.json"
echo "wrote $out/size.json"
if [ $status -ne 0 ]; then
  echo "size: FAILED: the core does not build freestanding or needs symbols it may not use" >&2
fi
exit $status
