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
echo "fuzz: running fuzz_server for ${secs}s (corpus: ${dirs[*]})"
"$bdir/tests/fuzz/fuzz_server" -max_total_time="$secs" -max_len=4096 -timeout=20 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$bdir/artifacts/" \
  "${par[@]+"${par[@]}"}" "${extra[@]+"${extra[@]}"}" "${dirs[@]}"
echo "fuzz: no crash in ${secs}s"

sig_secs=$((secs / 3 > 10 ? secs / 3 : 10))
mkdir -p "$bdir/corpus_signature"
echo "fuzz: running fuzz_signature for ${sig_secs}s"
"$bdir/tests/fuzz/fuzz_signature" -max_total_time="$sig_secs" -max_len=2048 -timeout=20 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$bdir/artifacts/" \
  "${extra[@]+"${extra[@]}"}" "$bdir/corpus_signature" "$root/tests/fuzz/corpus_signature"
echo "fuzz: no crash in fuzz_signature either"
noise_secs=$((secs / 2 > 10 ? secs / 2 : 10))
mkdir -p "$bdir/corpus_noise"
echo "fuzz: running fuzz_noise for ${noise_secs}s (corpus: $bdir/corpus_noise $root/tests/fuzz/corpus_noise)"
"$bdir/tests/fuzz/fuzz_noise" -max_total_time="$noise_secs" -max_len=4096 -timeout=20 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$bdir/artifacts/" \
  "${par[@]+"${par[@]}"}" "${extra[@]+"${extra[@]}"}" "$bdir/corpus_noise" "$root/tests/fuzz/corpus_noise"
echo "fuzz: no crash in fuzz_noise in ${noise_secs}s"
# The mDNS target (src/app/mdns): the packet guard, libmdnsd behind it, the
# responder and the querier; seeds from tests/support/mdns_packets.c (good
# packets, truncated, looping compression pointers, oversized).
msecs=${FUZZ_MDNS_SECONDS:-$(( secs / 2 > 20 ? secs / 2 : 20 ))}
rm -rf "$bdir/mdns-seeds"
mkdir -p "$bdir/mdns-seeds" "$bdir/mdns-corpus"
"$bdir/tests/fuzz/fuzz_mdns_seeds" "$bdir/mdns-seeds"
echo "fuzz: running fuzz_mdns for ${msecs}s"
"$bdir/tests/fuzz/fuzz_mdns" -max_total_time="$msecs" -max_len=9000 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$bdir/artifacts/mdns-" \
  "${extra[@]+"${extra[@]}"}" "$bdir/mdns-corpus" "$bdir/mdns-seeds" "$root/tests/fuzz/corpus_mdns"
echo "fuzz: fuzz_mdns: no crash in ${msecs}s"
