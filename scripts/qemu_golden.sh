#!/usr/bin/env bash
# qemu_golden.sh: show that the core runs, not only compiles, on a 32-bit
# microcontroller. Builds freestanding images (no C library: tests/mcu/
# supplies the vector table, the reset path, semihosting and the five string
# functions) and runs them on an emulated Cortex-M:
#
#   golden.elf  every golden transcript (tests/golden/*.txt, converted to C
#               arrays by tests/mcu/golden_to_c.py) replayed against the
#               device engine: one `PASS name` / `FAIL name: reason` each;
#   chip.elf    the chip integration example (examples/chip/): the v2 upload
#               through it into the flash slot store, then its bootloader's
#               choices (trial, confirmation, rollback);
#   mutants.elf a control: three transcripts with one wrong line each, which
#               must FAIL.
#
# Before that, examples/chip's two programs (bootloader, application) are
# linked freestanding with the core for Cortex-M0+ and RV32IMC: they must
# need nothing but the board's functions (chip_board.h) and memcpy, memmove,
# memset, memcmp, strlen.
#
# The code is built for the Cortex-M0+ (-mcpu=cortex-m0plus: ARMv6-M, the
# RP2040's core and the size table's target). qemu 7.2 has no Cortex-M0+
# board, and its only ARMv6-M board (microbit, 16 KiB RAM) is too small for
# the transcripts' 1 MiB backend; ARMv6-M code runs unchanged on ARMv7-M, so
# the images run on the mps2-an385 board (Cortex-M3, 4 MiB code + 4 MiB RAM).
#
# usage: scripts/qemu_golden.sh [BUILD_DIR]   (default: <repo>/build-qemu)
# Exit 0 when every image passes; 1 on a build error or a failure; 2 when
# a tool is missing (scripts/deps.sh installs them).
set -euo pipefail

caller_pwd=$PWD
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build-qemu}
case $out in /*) ;; *) out=$caller_pwd/$out ;; esac
cd "$root"

for tool in arm-none-eabi-gcc riscv64-unknown-elf-gcc qemu-system-arm python3 timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "qemu_golden: $tool not found (scripts/deps.sh installs it)" >&2
    exit 2
  fi
done

mkdir -p "$out"
cpu=(-mcpu=cortex-m0plus -mthumb)
cflags=("${cpu[@]}" -std=c11 -ffreestanding -nostdlib -Os -g -Wall -Wextra -Werror
        -ffunction-sections -fdata-sections -isystem tests/mcu/sysinc -Iinclude -Itests/mcu)
# shellcheck disable=SC2054  # the commas are the linker's (-Wl,...)
ldflags=("${cpu[@]}" -nostdlib -T tests/mcu/mps2_an385.ld -Wl,--gc-sections,--fatal-warnings)
runtime=(tests/mcu/startup.c tests/mcu/semihost.c)

# The five string functions on their own, so that -fno-builtin cannot change
# how the core is compiled.
arm-none-eabi-gcc "${cflags[@]}" -fno-builtin -fno-tree-loop-distribute-patterns \
  -c tests/mcu/libc_min.c -o "$out/libc_min.o"

# core_lib CC DIR FLAGS...: the core compiled into DIR/libcore.a. Only the
# core's own sources may see the private fields (EOTA_PRIVATE): the example
# and the replayer are compiled without that, as an integrator's code is.
core_lib() {
  local cc=$1 dir=$2 src
  shift 2
  mkdir -p "$dir"
  rm -f "$dir/libcore.a"
  for src in src/core/*.c; do
    "$cc" "$@" -DEOTA_ALLOW_PRIVATE_ACCESS -c "$src" -o "$dir/$(basename "$src" .c).o"
  done
  "${cc%gcc}ar" rcs "$dir/libcore.a" "$dir"/*.o
}
core_lib arm-none-eabi-gcc "$out/core" "${cflags[@]}"

# link NAME SOURCES...: one image from the core, the runtime and SOURCES.
link() {
  local name=$1
  shift
  arm-none-eabi-gcc "${cflags[@]}" "${ldflags[@]}" -o "$out/$name.elf" \
    "${runtime[@]}" "$out/libc_min.o" "$@" "$out/core/libcore.a" -lgcc
}

# emulate NAME: run NAME.elf on the board, print what it says (kept in
# NAME.log); returns qemu's exit status, which is the image's.
emulate() {
  local rc=0
  echo "\$ qemu-system-arm -M mps2-an385 -cpu cortex-m3 -semihosting-config enable=on,target=native -kernel $1.elf"
  timeout 60 qemu-system-arm -M mps2-an385 -cpu cortex-m3 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$out/$1.elf" >"$out/$1.log" 2>&1 || rc=$?
  sed 's/^/  /' "$out/$1.log"
  return $rc
}

# expect NAME STATUS PASSES FAILS: NAME's run ended so, or say what differs.
expect() {
  local pass fail
  pass=$(grep -c '^PASS ' "$out/$1.log" || true)
  fail=$(grep -c '^FAIL ' "$out/$1.log" || true)
  if [ "$2" != "$5" ] || [ "$pass" -ne "$3" ] || [ "$fail" -ne "$4" ]; then
    echo "qemu_golden: $1: exit $5 with $pass PASS and $fail FAIL lines; expected exit $2, $3 PASS, $4 FAIL" >&2
    return 1
  fi
}

# golden_image NAME TRANSCRIPTS...: the replayer image over those transcripts.
golden_image() {
  local name=$1
  shift
  mkdir -p "$out/$name.gen"
  python3 tests/mcu/golden_to_c.py "$out/$name.gen/golden_data.c" "$out/$name.gen/golden_data.h" "$@"
  link "$name" -I"$out/$name.gen" tests/mcu/golden_main.c tests/mcu/golden_play.c tests/mcu/golden_hash.c \
    -Itests/support tests/support/mem_backend.c "$out/$name.gen/golden_data.c"
}

# The control: copies of v2.txt with one wrong line each (a device byte, an
# event, the backend's result) must each FAIL, so that a replayer that
# compares nothing cannot pass.
mkdir -p "$out/mutants"
sed 's/^D: 48 00$/D: 48 01/' tests/golden/v2.txt >"$out/mutants/wrong_reply.txt"
sed 's/COMPLETED 20000\/20000$/COMPLETED 19999\/20000/' tests/golden/v2.txt >"$out/mutants/wrong_event.txt"
sed 's/committed_len=20000/committed_len=19999/' tests/golden/v2.txt >"$out/mutants/wrong_result.txt"

golden=(tests/golden/*.txt)
golden_image golden "${golden[@]}"
golden_image mutants "$out"/mutants/*.txt

# The chip example (examples/chip) with tests/mcu/chip_main.c as its board:
# the v2 upload through it, then the bootloader's choices.
mkdir -p "$out/chip.gen"
python3 tests/mcu/golden_to_c.py "$out/chip.gen/golden_data.c" "$out/chip.gen/golden_data.h" tests/golden/v2.txt
link chip -Iexamples/chip -I"$out/chip.gen" tests/mcu/chip_main.c tests/mcu/golden_play.c tests/mcu/golden_hash.c \
  examples/chip/chip_layout.c examples/chip/chip_flash.c examples/chip/chip_boot.c examples/chip/chip_ota.c \
  "$out/chip.gen/golden_data.c"

# chip_programs NAME CC FLAGS: compile examples/chip for one target and link
# each of its two programs (the bootloader, the application) with the core,
# leaving undefined only what the board supplies (chip_board.h) and the five
# string functions; anything else fails. Prints what each program needs and
# its size.
chip_programs() {
  local tname=$1 cc=$2 dir=$out/chip-$1
  # shellcheck disable=SC2206
  local tf=($3)
  local prefix=${cc%gcc} flags=(-std=c11 -ffreestanding -nostdlib -Os -Wall -Wextra -Werror
    -ffunction-sections -fdata-sections -isystem tests/mcu/sysinc -Iinclude -Iexamples/chip)
  mkdir -p "$dir"
  core_lib "$cc" "$dir/core" "${tf[@]}" "${flags[@]}"
  local common=(examples/chip/chip_layout.c examples/chip/chip_flash.c examples/chip/chip_boot.c
    examples/chip/chip_ota.c "$dir/core/libcore.a")
  local prog need bad
  for prog in boot_main app_main; do
    "$cc" "${tf[@]}" "${flags[@]}" -e main -Wl,--gc-sections -Wl,--warn-unresolved-symbols \
      -o "$dir/$prog.elf" "examples/chip/$prog.c" "${common[@]}" -lgcc 2>"$dir/$prog.link.log" || {
      cat "$dir/$prog.link.log" >&2
      return 1
    }
    need=$(grep -o "undefined reference to \`[A-Za-z0-9_]*'" "$dir/$prog.link.log" | sed "s/.*\`//; s/'//" |
      sort -u | tr '\n' ' ')
    bad=$(tr ' ' '\n' <<<"$need" | grep -Ev '^(board_[a-z_]+|memcpy|memmove|memset|memcmp|strlen|)$' | tr '\n' ' ' || true)
    read -r text data bss _ < <("${prefix}size" -B "$dir/$prog.elf" | awk 'NR == 2 { print $1, $2, $3, $4 }')
    printf '  %-9s %-14s text %6d data %4d bss %5d  needs: %s\n' "$prog" "$tname" "$text" "$data" "$bss" \
      "$need"
    if [ -n "$bad" ]; then
      echo "qemu_golden: examples/chip/$prog.c for $tname needs what no board supplies: $bad" >&2
      return 1
    fi
  done
}

status=0
echo "== examples/chip, freestanding: the two programs linked with the core"
chip_programs cortex-m0plus arm-none-eabi-gcc "-mcpu=cortex-m0plus -mthumb" || status=1
chip_programs rv32imc riscv64-unknown-elf-gcc "-march=rv32imc -mabi=ilp32" || status=1
rc=0; emulate golden || rc=$?
expect golden 0 "${#golden[@]}" 0 $rc || status=1
echo "== the chip example: an upload, then the bootloader's choices"
rc=0; emulate chip || rc=$?
expect chip 0 8 0 $rc || status=1
echo "== control: three wrong transcripts must fail"
rc=0; emulate mutants || rc=$?
expect mutants 1 0 3 $rc || status=1

[ $status -eq 0 ] && echo "qemu_golden: all passed"
exit $status
