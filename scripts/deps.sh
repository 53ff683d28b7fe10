#!/usr/bin/env bash
# Installs the Debian packages eota needs to build, test and benchmark, when
# any is missing. Safe to run again: it does nothing when all are there.
# (openssl and minisign: the command lines the signed-image tests check eota against.)
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
      libssl-dev zlib1g-dev libyaml-dev libcmocka-dev valgrind python3
      gcc-arm-none-eabi gcc-riscv64-unknown-elf iproute2 procps
      libmicrohttpd-dev libcurl4-openssl-dev curl chromium
      libcjson-dev python3-pytest python3-cryptography qemu-system-arm libisal-dev openssl minisign
      libavahi-client-dev avahi-daemon avahi-utils libmdnsd-dev libc-ares-dev
      python3-zeroconf dbus nginx-light)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
