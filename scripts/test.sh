#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds under
# ASan+UBSan, runs every test with CTest, then the freestanding size check,
# the golden transcripts and the chip example on an emulated Cortex-M, a
# bounded fuzz run, and the unit tests under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

echo "== build (ASan + UBSan)"
cmake -S . -B build-test -G Ninja -DEOTA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
ninja -C build-test
echo "== tests"
ctest --test-dir build-test --output-on-failure -j2

echo "== install: library, headers, pkg-config, CMake package, command"
scripts/check_install.sh

if [ -x scripts/size.sh ]; then
  echo "== freestanding core for Cortex-M0+ and RV32IMC"
  scripts/size.sh build-size
fi
if [ -x scripts/qemu_golden.sh ]; then
  echo "== the core on an emulated Cortex-M: golden transcripts, the chip example"
  scripts/qemu_golden.sh build-qemu
fi
if [ -x scripts/fuzz.sh ]; then
  echo "== fuzz (bounded)"
  scripts/fuzz.sh "${EOTA_FUZZ_SECONDS:-60}"
fi
if [ "${EOTA_SKIP_BENCH:-0}" != 1 ]; then
  echo "== benchmarks, quick mode (so that they cannot rot; figures are not checked here)"
  python3 bench/run.py --quick --json build-bench/bench-quick.json
fi
echo "== valgrind (unit tests, no sanitizers)"
cmake -S . -B build-vg -G Ninja -DEOTA_SANITIZE=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
ninja -C build-vg
fails=0
for t in build-vg/tests/test_*; do
  [ -x "$t" ] || continue
  if ! valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
      "$t" >"$t.valgrind.log" 2>&1; then
    echo "valgrind: $t FAILED"; tail -30 "$t.valgrind.log"; fails=$((fails + 1))
  else
    echo "valgrind: $t clean"
  fi
done
[ "$fails" -eq 0 ]
echo "all checks passed"
