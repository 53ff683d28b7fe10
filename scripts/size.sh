#!/usr/bin/env bash
# size.sh: build every src/core/*.c freestanding for the two microcontroller
# targets CI cares about (Cortex-M0+ as on the RP2040, RV32IMC as on the
# ESP32-C3) at -Os, in four variants of the build options (eota/opt.h):
#
#   full           everything (the defaults)
#   device         no uploader engine (EOTA_WITH_CLIENT 0), no signed-image
#                  check (EOTA_WITH_SIGNATURE 0)
#   device-signed  the same with the signed-image check: the trailer parser
#                  and its storage layer (eota/sig_layer.h) linked in
#   device-nodesc  also no sentences: none for the response codes and
#                  statuses, none in the log lines (only their level and
#                  number), no legacy MD5 challenge, and the bitwise CRC-32
#                  (EOTA_WITH_DESCRIPTIONS 0, EOTA_WITH_LOG_TEXT 0,
#                  EOTA_WITH_MD5_AUTH 0, EOTA_WITH_CRC_TABLE 0)
#
# It prints the text of every object per variant, then one table of text,
# data and bss per variant and target, with the text each program links
# (the objects linked with --gc-sections from a set of roots), and writes
# the same as JSON:
#
#   linked  what a device APPLICATION links: every public function of the
#           engine (server, ingest), boot state, safe mode, slot store and
#           flash backend, except the bootloader's eota_boot; in the full
#           variant, every public function of every module (no exception)
#   boot    the bootloader's part (examples/chip/boot_main.c), on its own
#           line so that nothing is hidden: eota_boot alone, with what it
#           calls (shared code such as the CRC and the record write is
#           counted in both programs, as each program carries its own copy)
#
# It fails
# when the core needs anything from the world beyond a few libc/libgcc
# builtins (ARCHITECTURE.md: no malloc, no OS, no stdio in the core).
#
# The core is compiled as CMake compiles it (cmake/core.cmake): without the
# system's headers (-nostdinc), with the compiler's own freestanding headers
# and cmake/core-include/string.h, so an OS header included by accident
# fails here too.
#
# usage: scripts/size.sh [BUILD_DIR]   (default: <repo>/build-size)
#   A relative BUILD_DIR is taken from the directory you run it in.
#   EXTRA_CFLAGS adds flags to every compile (e.g. -DEOTA_PASSWORD_MAX=64).
# Output: BUILD_DIR/<variant>/<target>/*.o and BUILD_DIR/size.json, whose
# "targets" is the full variant (what bench/run.py reads) and "variants" all
# four. Exit 1 on a compile error or a forbidden undefined symbol; 2 when a
# toolchain is missing.
set -euo pipefail

caller_pwd=$PWD
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build-size}
case $out in /*) ;; *) out=$caller_pwd/$out ;; esac
cd "$root"

# EOTA_ALLOW_PRIVATE_ACCESS: the core's own files see their structs' fields
# (eota/private_access.h), as in the CMake build.
cflags=(-std=c11 -ffreestanding -nostdlib -Os -Wall -Wextra -Werror -Iinclude -DEOTA_ALLOW_PRIVATE_ACCESS)
# shellcheck disable=SC2206
extra=(${EXTRA_CFLAGS:-})

# name | compiler | target flags | binutils prefix
targets=(
  "cortex-m0plus|arm-none-eabi-gcc|-mcpu=cortex-m0plus -mthumb|arm-none-eabi-"
  "rv32imc|riscv64-unknown-elf-gcc|-march=rv32imc -mabi=ilp32|riscv64-unknown-elf-"
)
# name | defines | objects whose public functions a firmware calls (linked)
#      | the bootloader's functions: left out of linked, and linked alone (boot)
app_roots="server ingest bootstate safemode slotstore flash_backend"
nodesc="-DEOTA_WITH_CLIENT=0 -DEOTA_WITH_DESCRIPTIONS=0 -DEOTA_WITH_LOG_TEXT=0 -DEOTA_WITH_MD5_AUTH=0 -DEOTA_WITH_CRC_TABLE=0 -DEOTA_WITH_SIGNATURE=0 -DEOTA_WITH_NOISE=0"
variants=(
  "full||bootstate client client_data client_hs client_noise client_poll client_words crc32 flash flash_backend lobby noise protocol safemode server status signature sig_layer|"
  "device|-DEOTA_WITH_CLIENT=0 -DEOTA_WITH_SIGNATURE=0 -DEOTA_WITH_NOISE=0|$app_roots|eota_boot"
  "device-noise|-DEOTA_WITH_CLIENT=0 -DEOTA_WITH_SIGNATURE=0|$app_roots|eota_boot"
  "device-signed|-DEOTA_WITH_CLIENT=0 -DEOTA_WITH_NOISE=0|$app_roots sig_layer|eota_boot"
  "device-nodesc|$nodesc|$app_roots|eota_boot"
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

status=0
declare -A CHIP_APP
declare -A TEXT DATA BSS       # [variant|target|object], and [variant|target|TOTAL]
declare -A LINKED BOOT         # [variant|target] = "text data bss"
declare -A OBJ_JSON UNDEF_LINE # [variant|target|object]

# compile DIR FLAGS...: every core source into DIR/<name>.o; 1 on a failure.
compile() {
  local dir=$1 rc=0 src
  shift
  mkdir -p "$dir"
  for src in "${srcs[@]}"; do
    if ! "$cc" "$@" -c "$src" -o "$dir/$(basename "$src" .c).o"; then
      echo "size: $src does not compile freestanding for $tname ($vname)" >&2
      rc=1
    fi
  done
  return $rc
}

# check_undefined OBJ CORE_DEFS: sets `undef` (all) and `bad` (not allowed).
check_undefined() {
  local sym
  undef=$("$nm_tool" -u "$1" | awk '{ print $NF }' | sort -u)
  bad=()
  for sym in $undef; do
    if [[ $allow_exact == *" $sym "* ]] || [[ $sym =~ $allow_re ]] || [[ $2 == *" $sym "* ]]; then
      continue
    fi
    bad+=("$sym")
  done
}

json_list() { # "a b c" (or one a line) -> "a","b","c"
  local items=() x
  for x in $1; do items+=("\"$x\""); done
  (IFS=,; echo "${items[*]+"${items[*]}"}")
}

# measure DIR: per-object sizes and the undefined-symbol check of one build.
measure() {
  local dir=$1 src base obj text data bss defs sym why line
  local st=0 sd=0 sb=0
  # A core file may call another core file's functions (bootstate.c ->
  # crc32.c); those symbols are not "the world".
  defs=" $("$nm_tool" --defined-only "$dir"/*.o | awk '$2 ~ /^[TDBRSV]$/ { print $3 }' | tr '\n' ' ')"
  for src in "${srcs[@]}"; do
    base=$(basename "$src" .c)
    obj=$dir/$base.o
    # Berkeley format: text data bss dec hex filename
    read -r text data bss < <("$size_tool" -B "$obj" | awk 'NR == 2 { print $1, $2, $3 }')
    TEXT[$key|$base]=$text; DATA[$key|$base]=$data; BSS[$key|$base]=$bss
    st=$((st + text)); sd=$((sd + data)); sb=$((sb + bss))
    check_undefined "$obj" "$defs"
    line="  $base.o: ${undef//$'\n'/ }"
    [ -n "$undef" ] || line="  $base.o: (none)"
    if [ ${#bad[@]} -gt 0 ]; then
      status=1
      why=()
      for sym in "${bad[@]}"; do
        if [[ $forbidden == *" $sym "* ]]; then why+=("$sym (forbidden in the core)"); else why+=("$sym (not in the allowlist)"); fi
      done
      line+="   <-- NOT ALLOWED: ${why[*]}"
      echo "size: $vname/$tname: $line" >&2
    fi
    UNDEF_LINE[$key|$base]=$line
    OBJ_JSON[$key|$base]=$(printf '{"object":"%s","source":"%s","text":%d,"data":%d,"bss":%d,"total":%d,"undefined":[%s],"not_allowed":[%s]}' \
      "$base.o" "$src" "$text" "$data" "$bss" $((text + data + bss)) \
      "$(json_list "$undef")" "$(json_list "${bad[*]+"${bad[*]}"}")")
  done
  TEXT[$key|TOTAL]=$st; DATA[$key|TOTAL]=$sd; BSS[$key|TOTAL]=$sb
}

# link_syms DIR NAME SYMBOLS...: the objects of DIR (built with
# -ffunction-sections) linked with --gc-sections, keeping SYMBOLS (and what
# they call), into DIR/programs/NAME.o; prints "text data bss".
link_syms() {
  local dir=$1 name=$2 sym keep=()
  shift 2
  for sym in "$@"; do keep+=("-Wl,--undefined=$sym"); done
  mkdir -p "$dir/programs"
  "$cc" "${tf[@]}" -nostdlib -Wl,-r -Wl,--gc-sections "${keep[@]}" "$dir"/*.o -o "$dir/programs/$name.o"
  "$size_tool" -B "$dir/programs/$name.o" | awk 'NR == 2 { print $1, $2, $3 }'
}

# link DIR ROOTS BOOT: LINKED keeps the public functions of the ROOTS
# objects except the bootloader's BOOT functions; BOOT keeps those alone.
link() {
  local dir=$1 roots=$2 boot=$3 o sym syms=()
  for o in $roots; do
    while read -r sym; do
      [[ " $boot " == *" $sym "* ]] || syms+=("$sym")
    done < <("$nm_tool" --defined-only "$dir/$o.o" | awk '$2 == "T" { print $3 }')
  done
  LINKED[$key]=$(link_syms "$dir" linked "${syms[@]}")
  # shellcheck disable=SC2086
  [ -z "$boot" ] || BOOT[$key]=$(link_syms "$dir" boot $boot)
}

# setup_target: tools, flags and include directories of target $t.
setup_target() {
  IFS='|' read -r tname cc tflags prefix <<<"$t"
  size_tool=${prefix}size
  nm_tool=${prefix}nm
  local tool inc
  for tool in "$cc" "$size_tool" "$nm_tool"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "size: $tool not found (scripts/deps.sh installs it)" >&2
      exit 2
    fi
  done
  # shellcheck disable=SC2206
  tf=($tflags)
  inc=$("$cc" -print-file-name=include)
  if [ ! -e "$inc/stddef.h" ]; then
    echo "size: $cc shows no freestanding include directory ($inc)" >&2
    exit 2
  fi
  tf+=(-nostdinc -isystem "$inc" -isystem "$root/cmake/core-include")
}

for t in "${targets[@]}"; do
  setup_target
  for v in "${variants[@]}"; do
    IFS='|' read -r vname vdefs roots boot <<<"$v"
    key="$vname|$tname"
    # shellcheck disable=SC2206
    vflags=("${tf[@]}" "${cflags[@]}" $vdefs "${extra[@]+"${extra[@]}"}")
    vdir=$out/$vname/$tname
    rm -rf "$vdir"
    if ! compile "$vdir" "${vflags[@]}" || ! compile "$vdir/sections" "${vflags[@]}" -ffunction-sections -fdata-sections; then
      status=1
      continue
    fi
    measure "$vdir"
    link "$vdir/sections" "$roots" "$boot"
  done
done

# chip_app DIR: the text of the core that a whole chip application links:
# examples/chip/app_main.c (engine, flash slot store, boot state, safe mode;
# the bootloader's eota_boot is in the other program) with the device-nodesc
# core of DIR, --gc-sections from main; the core's input sections are summed
# from the linker's map. The example is compiled as an integrator's code is,
# without access to private fields.
chip_app() {
  local dir=$1 app=$1/chip-app ex
  mkdir -p "$app"
  local exflags=("${tf[@]}" -std=c11 -ffreestanding -nostdlib -Os -Wall -Wextra -Werror -Iinclude -Iexamples/chip
    -ffunction-sections -fdata-sections)
  # shellcheck disable=SC2206
  exflags+=($nodesc)
  for ex in app_main chip_layout chip_flash chip_boot chip_ota; do
    "$cc" "${exflags[@]}" -c "examples/chip/$ex.c" -o "$app/$ex.o" || return 1
  done
  local core=() src
  for src in "${srcs[@]}"; do core+=("$dir/$(basename "$src" .c).o"); done
  "$cc" "${tf[@]}" -nostdlib -Wl,-r -Wl,--gc-sections -Wl,--undefined=main -Wl,-Map="$app/app.map" \
    "$app"/*.o "${core[@]}" -o "$app/app.o" || return 1
  awk -v core="$dir/" '
    function hex(h,   i, c, n) { n = 0; h = tolower(substr(h, 3))
      for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; n = n * 16 + c }
      return n }
    /^Linker script and memory map/ { mapped = 1; next }
    !mapped { next }
    function is_core(f) { return index(f, core) == 1 && index(f, "/chip-app/") == 0 }
    /^ \.(text|rodata)/ { if (NF >= 4) { if (is_core($4)) sum += hex($3); pend = 0 } else pend = 1; next }
    pend && NF == 3 && $1 ~ /^0x/ { if (is_core($3)) sum += hex($2) }
    { pend = 0 }
    END { print sum + 0 }' "$app/app.map"
}

for t in "${targets[@]}"; do
  setup_target
  CHIP_APP[$tname]=$(chip_app "$out/device-nodesc/$tname/sections") || CHIP_APP[$tname]=-
done

# --- the report ---
vnames=() tnames=()
for v in "${variants[@]}"; do vnames+=("${v%%|*}"); done
for t in "${targets[@]}"; do tnames+=("${t%%|*}"); done

for tname in "${tnames[@]}"; do
  for t in "${targets[@]}"; do [ "${t%%|*}" = "$tname" ] && flags=$(cut -d'|' -f2-3 <<<"$t" | tr '|' ' '); done
  echo "== $tname ($flags -Os): text of each object, in bytes"
  printf '%-18s' object; printf ' %14s' "${vnames[@]}"; echo
  for src in "${srcs[@]}" TOTAL; do
    base=$(basename "$src" .c)
    printf '%-18s' "$([ "$base" = TOTAL ] && echo TOTAL || echo "$base.o")"
    for vname in "${vnames[@]}"; do printf ' %14s' "${TEXT[$vname|$tname|$base]:--}"; done
    echo
  done
  printf '%-18s' "linked"
  for vname in "${vnames[@]}"; do l=${LINKED[$vname|$tname]:-- - -}; printf ' %14s' "${l%% *}"; done
  echo
  printf '%-18s' "boot (eota_boot)"
  for vname in "${vnames[@]}"; do l=${BOOT[$vname|$tname]:-- - -}; printf ' %14s' "${l%% *}"; done
  echo
  echo "undefined symbols needed (full):"
  for src in "${srcs[@]}"; do echo "${UNDEF_LINE[full|$tname|$(basename "$src" .c)]:-}"; done
  echo
done

echo "== core size at -Os, in bytes (text of the objects linked with --gc-sections:"
echo "   linked: a device application's roots, every public function of the engine (server,"
echo "   ingest), boot state, safe mode, slot store and flash backend except eota_boot; in full,"
echo "   every public function of every module. boot: the bootloader's eota_boot alone)"
printf '%-15s %-15s %8s %8s %8s %8s %8s %8s\n' variant target text data bss total "linked" "boot"
for vname in "${vnames[@]}"; do
  for tname in "${tnames[@]}"; do
    k="$vname|$tname"
    [ -n "${TEXT[$k|TOTAL]:-}" ] || continue
    read -r lt _ _ <<<"${LINKED[$k]}"
    bt=${BOOT[$k]:--}
    printf '%-15s %-15s %8d %8d %8d %8d %8d %8s\n' "$vname" "$tname" "${TEXT[$k|TOTAL]}" "${DATA[$k|TOTAL]}" \
      "${BSS[$k|TOTAL]}" $((TEXT[$k|TOTAL] + DATA[$k|TOTAL] + BSS[$k|TOTAL])) "$lt" "${bt%% *}"
    if [ $((DATA[$k|TOTAL] + BSS[$k|TOTAL])) -ne 0 ]; then
      echo "note: $vname/$tname has $((DATA[$k|TOTAL] + BSS[$k|TOTAL])) bytes of data/bss (global state?)"
    fi
  done
done

echo
echo "== the core in a whole chip application (examples/chip/app_main.c: engine, flash slot store,"
echo "   boot state, safe mode; device-nodesc options; the bootloader's eota_boot is the other program)"
for tname in "${tnames[@]}"; do
  printf '%-15s %-15s %8s\n' chip-app "$tname" "${CHIP_APP[$tname]:--}"
done

# target_json VARIANT TARGET: one target's object, in the shape bench/run.py reads.
target_json() {
  local k="$1|$2" objs=() src lt ld lb bt bd bb boot=null t
  for src in "${srcs[@]}"; do objs+=("${OBJ_JSON[$k|$(basename "$src" .c)]}"); done
  for t in "${targets[@]}"; do [ "${t%%|*}" = "$2" ] && IFS='|' read -r _ cc tflags _ <<<"$t"; done
  read -r lt ld lb <<<"${LINKED[$k]}"
  if [ -n "${BOOT[$k]:-}" ]; then
    read -r bt bd bb <<<"${BOOT[$k]}"
    boot=$(printf '{"text":%d,"data":%d,"bss":%d}' "$bt" "$bd" "$bb")
  fi
  printf '{"target":"%s","cc":"%s","cc_version":"%s","flags":"%s","objects":[%s],"total":{"text":%d,"data":%d,"bss":%d,"total":%d},"linked":{"text":%d,"data":%d,"bss":%d},"boot":%s}' \
    "$2" "$cc" "$("$cc" -dumpversion)" "$tflags ${cflags[*]} ${extra[*]+"${extra[*]}"}" \
    "$(IFS=,; echo "${objs[*]}")" "${TEXT[$k|TOTAL]}" "${DATA[$k|TOTAL]}" "${BSS[$k|TOTAL]}" \
    $((TEXT[$k|TOTAL] + DATA[$k|TOTAL] + BSS[$k|TOTAL])) "$lt" "$ld" "$lb" "$boot"
}

full_json=() variant_json=()
for v in "${variants[@]}"; do
  IFS='|' read -r vname vdefs roots boot <<<"$v"
  tj=()
  for tname in "${tnames[@]}"; do
    [ -n "${TEXT[$vname|$tname|TOTAL]:-}" ] || continue
    tj+=("$(target_json "$vname" "$tname")")
    [ "$vname" = full ] && full_json+=("${tj[-1]}")
  done
  variant_json+=("$(printf '{"variant":"%s","defines":"%s","linked_roots":[%s],"boot_roots":[%s],"targets":[%s]}' \
    "$vname" "$vdefs" "$(json_list "$roots")" "$(json_list "$boot")" \
    "$(IFS=,; echo "${tj[*]+"${tj[*]}"}")")")
done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
chip_json=()
for tname in "${tnames[@]}"; do
  [[ "${CHIP_APP[$tname]:--}" =~ ^[0-9]+$ ]] && chip_json+=("$(printf '{"target":"%s","core_text":%d}' "$tname" "${CHIP_APP[$tname]}")")
done
printf '{"commit":"%s","ok":%s,"targets":[%s],"variants":[%s],"chip_app":[%s]}\n' "$commit" \
  "$([ $status -eq 0 ] && echo true || echo false)" \
  "$(IFS=,; echo "${full_json[*]+"${full_json[*]}"}")" "$(IFS=,; echo "${variant_json[*]}")" \
  "$(IFS=,; echo "${chip_json[*]+"${chip_json[*]}"}")" >"$out/size.json"
echo "wrote $out/size.json"
if [ $status -ne 0 ]; then
  echo "size: FAILED: the core does not build freestanding or needs symbols it may not use" >&2
fi
exit $status
