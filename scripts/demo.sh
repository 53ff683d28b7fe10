#!/usr/bin/env bash
# The demo: builds eota, starts `eota device` with a built-in default config
# in a temporary directory, uploads two versions of a sample application to
# it with `eota upload`, and shows the application restarting on each new
# image. Everything stays on loopback; the temporary directory is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
echo "== building eota"
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEOTA_BUILD_TESTS=OFF >/dev/null
if ! ninja -C build-demo eota_cli >build-demo.log 2>&1; then
  cat build-demo.log >&2
  exit 1
fi
EOTA=$PWD/build-demo/eota

work=$(mktemp -d /tmp/eota-demo.XXXXXX)
dev_pid=""
cleanup() {
  [ -n "$dev_pid" ] && kill "$dev_pid" 2>/dev/null && wait "$dev_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=${EOTA_DEMO_PORT:-18082}
cat >"$work/demo.yaml" <<YAML
esphome:
  name: demo-device
host:
ota:
  - platform: esphome
    password: !secret ota_password
    port: $port
    on_begin:
      - logger.log: "OTA update starting"
    on_end:
      - logger.log: "OTA update finished"
app:
  command: ["{image}"]
  stop_timeout: 2s
YAML
echo 'ota_password: "demo-secret"' >"$work/secrets.yaml"

make_app() { # version file
  cat >"$2" <<APP
#!/bin/sh
echo "[app] sample application version $1 running from \$EOTA_IMAGE (slot \$EOTA_SLOT)"
trap 'echo "[app] version $1 stopping"; exit 0' TERM
while :; do sleep 1; done
APP
}
make_app 1 "$work/app-v1.bin"
make_app 2 "$work/app-v2.bin"

echo "== starting eota device (config: $work/demo.yaml)"
"$EOTA" device --config "$work/demo.yaml" --state-dir "$work/state" --listen 127.0.0.1 \
  >"$work/device.log" 2>&1 &
dev_pid=$!
for _ in $(seq 50); do grep -q "Listening" "$work/device.log" && break; sleep 0.1; done

for v in 1 2; do
  echo "== eota upload app-v$v.bin"
  "$EOTA" upload "$work/demo.yaml" --file "$work/app-v$v.bin" --device 127.0.0.1
  sleep 1.5
done
echo "== the device's log"
cat "$work/device.log"
echo "== state directory"
ls -l "$work/state"
"$EOTA" device --show-state --state-dir "$work/state"
grep -q "sample application version 2 running" "$work/device.log"
echo "demo: OK (the application restarted on version 2)"
