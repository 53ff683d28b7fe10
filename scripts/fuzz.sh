#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer targets (the engines; mDNS) with clang
# (ASan + UBSan) in build-fuzz and run them: fuzz_server for SECONDS
# (default 60) from the checked-in seeds (tests/fuzz/corpus) and seeds
# generated fresh by fuzz_seedgen (which also checks that each seed still
# does what it should); fuzz_signature, the signed-image trailer and its
# layer (seeds in tests/fuzz/corpus_signature), for a third of SECONDS (at
# least 10); fuzz_noise, the encrypted path (PROTOCOL.md section 10:
# handshake, frames, bad tags, bad lengths; seeds in tests/fuzz/corpus_noise),
# for half of SECONDS (at least 10); fuzz_mdns, the mDNS packet guard, the
# responder and the querier (seeds from tests/support/mdns_packets.c and the
# inputs that once crashed it, tests/fuzz/corpus_mdns), for
# half of SECONDS (at least 20).

# Exits non-zero on any crash, leak, sanitizer report or broken invariant;
# the input that did it is left in build-fuzz/artifacts/.
#
# usage: scripts/fuzz.sh [SECONDS]
#        scripts/fuzz.sh --update-seeds   rewrite tests/fuzz/corpus
# Environment: FUZZ_JOBS (parallel workers, default 1), FUZZ_ARGS (extra
# libFuzzer flags).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bdir=$root/build-fuzz
update=0
secs=60
case "${1:-}" in
  --update-seeds) update=1 ;;
  "") ;;
  *[!0-9]*) echo "usage: $0 [SECONDS] | --update-seeds" >&2; exit 2 ;;
  *) secs=$1 ;;
esac

command -v clang >/dev/null || { echo "fuzz: clang not found (scripts/deps.sh)" >&2; exit 2; }
CC=clang cmake -S "$root" -B "$bdir" -G Ninja -DEOTA_FUZZ=ON -DEOTA_BUILD_TESTS=OFF \
  -DEOTA_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$bdir" fuzz_server fuzz_seedgen fuzz_signature fuzz_noise fuzz_mdns fuzz_mdns_seeds

seeds=$root/tests/fuzz/corpus
if [ $update -eq 1 ]; then
  rm -rf "$seeds"
  mkdir -p "$seeds"
  "$bdir/tests/fuzz/fuzz_seedgen" "$seeds"
  echo "fuzz: seeds written to $seeds"
  exit 0
fi

# Fresh seeds each run: a seed that no longer commits (or fails as meant)
# stops the script here, before any fuzzing.
rm -rf "$bdir/seeds"
mkdir -p "$bdir/seeds" "$bdir/corpus" "$bdir/artifacts"
"$bdir/tests/fuzz/fuzz_seedgen" "$bdir/seeds"

dirs=("$bdir/corpus" "$bdir/seeds")
if [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ]; then
  dirs+=("$seeds")
fi

# shellcheck disable=SC2206
extra=(${FUZZ_ARGS:-})
jobs=${FUZZ_JOBS:-1}
par=()
if [ "$jobs" -gt 1 ]; then
  par=(-fork="$jobs")
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# run_fuzzer NAME SECONDS MAX_LEN TIMEOUT ARTIFACT_PREFIX PARALLEL CORPUS...:
# one libFuzzer target, its first corpus the one it grows; PARALLEL 1 passes
# FUZZ_JOBS's -fork on.
run_fuzzer() {
  local name=$1 s=$2 max_len=$3 timeout=$4 prefix=$5 parallel=$6
  shift 6
  local fork=()
  if [ "$parallel" -eq 1 ]; then
    fork=("${par[@]+"${par[@]}"}")
  fi
  echo "fuzz: running $name for ${s}s (corpus: $*)"
  "$bdir/tests/fuzz/$name" -max_total_time="$s" -max_len="$max_len" -timeout="$timeout" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$prefix" \
    "${fork[@]+"${fork[@]}"}" "${extra[@]+"${extra[@]}"}" "$@"
  echo "fuzz: no crash in $name in ${s}s"
}

run_fuzzer fuzz_server "$secs" 4096 20 "$bdir/artifacts/" 1 "${dirs[@]}"

mkdir -p "$bdir/corpus_signature"
run_fuzzer fuzz_signature $((secs / 3 > 10 ? secs / 3 : 10)) 2048 20 "$bdir/artifacts/" 0 \
  "$bdir/corpus_signature" "$root/tests/fuzz/corpus_signature"

mkdir -p "$bdir/corpus_noise"
run_fuzzer fuzz_noise $((secs / 2 > 10 ? secs / 2 : 10)) 4096 20 "$bdir/artifacts/" 1 \
  "$bdir/corpus_noise" "$root/tests/fuzz/corpus_noise"

# The mDNS target (src/app/mdns): the packet guard, libmdnsd behind it, the
# responder and the querier; seeds from tests/support/mdns_packets.c (good
# packets, truncated, looping compression pointers, oversized).
rm -rf "$bdir/mdns-seeds"
mkdir -p "$bdir/mdns-seeds" "$bdir/mdns-corpus"
"$bdir/tests/fuzz/fuzz_mdns_seeds" "$bdir/mdns-seeds"
run_fuzzer fuzz_mdns "${FUZZ_MDNS_SECONDS:-$((secs / 2 > 20 ? secs / 2 : 20))}" 9000 10 "$bdir/artifacts/mdns-" 0 \
  "$bdir/mdns-corpus" "$bdir/mdns-seeds" "$root/tests/fuzz/corpus_mdns"
