"""eota upload and eota discover over mDNS (issue 12), in network
namespaces joined by veth pairs: NAME.local uploads where the system has
no mDNS resolver, a fleet where one name never resolves, the last good
address, and discovery of a stock-like ESPHome device (python3-zeroconf)
and of eota devices whose TXT records follow uploads and rollbacks."""

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from devicelib import app_image
from mdnslib import StockEsphome, devices, eota_in, missing_facility  # noqa: F401
from mdnslib import net4 as net  # noqa: F401
from mdnslib import start_device as start

_why = missing_facility()
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")

APP = 'app:\n  command: ["{image}", "%s"]\n  stop_timeout: 2s\nsafe_mode:\n  num_attempts: 3\n  boot_is_good_after: 1s\n'


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="eota-mdns-up-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def firmware(tmp, version, data=None):
    p = os.path.join(tmp, version + ".bin")
    with open(p, "wb") as f:
        f.write(data if data is not None else app_image(version, 30000))
    return p


def jsons(out):
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def test_upload_to_name_local_without_nss_mdns(net, devices, tmp):
    d = start(devices, net, 1, name="kitchen")
    # the machine's resolver cannot find it: no mDNS in nsswitch.conf
    r = eota_in(net, 2, ["--help"], tmp)  # the mount namespace works
    assert r.returncode == 0, r.stderr
    nss = os.path.join(tmp, "nsswitch.conf")
    g = net.run(2, ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/nsswitch.conf && getent hosts kitchen.local',
                    nss])
    assert g.returncode != 0, g.stdout
    r = eota_in(net, 2, ["upload", firmware(tmp, "v1"), "-d", "kitchen.local:3232", "--json"], tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    (j,) = jsons(r.stdout)
    assert j["result"] == "ok" and j["address"] == net.addr[1], j
    d.wait_log("Update complete")
    with open(os.path.join(tmp, "cache", "eota", "addresses")) as f:
        assert f.read() == "kitchen.local %s\n" % net.addr[1]


def test_last_good_address_when_the_name_does_not_answer(net, devices, tmp):
    os.makedirs(os.path.join(tmp, "cache", "eota"), mode=0o700)
    with open(os.path.join(tmp, "cache", "eota", "addresses"), "w") as f:
        f.write("quiet.local %s\n" % net.addr[1])
    start(devices, net, 1, name="quiet", mdns="off")
    t0 = time.monotonic()
    r = eota_in(net, 2, ["upload", firmware(tmp, "v1"), "-d", "quiet.local:3232", "--json"], tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "quiet.local:3232: 'quiet.local' did not resolve (no answer to mDNS within 5.0 s; system resolver: " \
           in r.stderr, r.stderr
    assert "trying its last good address %s" % net.addr[1] in r.stderr
    assert jsons(r.stdout)[0]["result"] == "ok"
    assert time.monotonic() - t0 < 15


def test_fleet_with_a_name_that_never_resolves(net, devices, tmp):
    start(devices, net, 1, name="alpha")
    start(devices, net, 2, name="beta")
    fw = firmware(tmp, "v1")
    specs = "ghost.local:3232\nalpha.local:3232\nbeta.local:3232\nnowhere.invalid:3232\n"
    t0 = time.monotonic()
    r = eota_in(net, 3, ["upload", fw, "--devices-from", "-", "--json", "--jobs", "4"], tmp, input=specs)
    took = time.monotonic() - t0
    js = {j["device"]: j for j in jsons(r.stdout)}
    assert r.returncode != 0
    assert js["alpha.local:3232"]["result"] == "ok" and js["beta.local:3232"]["result"] == "ok", js
    # the good ones did not wait for the name that never answers
    assert js["alpha.local:3232"]["seconds"] < 4 and js["beta.local:3232"]["seconds"] < 4, js
    g = js["ghost.local:3232"]
    assert g["result"] != "ok" and g["attempts"] == 0, g
    assert "cannot resolve 'ghost.local': no answer to mDNS within 5.0 s" in g["message"], g
    assert js["nowhere.invalid:3232"]["result"] != "ok"
    assert "cannot resolve 'nowhere.invalid'" in js["nowhere.invalid:3232"]["message"]
    order = [j["device"] for j in jsons(r.stdout)]
    assert order.index("ghost.local:3232") > max(order.index("alpha.local:3232"), order.index("beta.local:3232"))
    assert took < 20


def discover(net, i, tmp, *args):
    r = eota_in(net, i, ["discover"] + list(args), tmp, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_discover_esphome_and_eota_devices(net, devices, tmp):
    stock = StockEsphome(net, 2, "living")
    try:
        kd = start(devices, net, 1, name="kitchen", friendly="Kitchen")
        t0 = time.monotonic()
        found = {d["instance"]: d for d in json.loads(discover(net, 3, tmp, "--json"))}
        assert time.monotonic() - t0 < 6
        e = found["living._esphomelib._tcp.local."]
        assert e["kind"] == "esphome" and e["spec"] == "living.local:6053" and e["address"] == net.addr[2]
        t = e["txt"]
        assert (t["version"], t["platform"], t["board"], t["mac"]) == ("2024.6.0", "ESP32", "esp32dev", "a0b1c2d3e4f5")
        assert t["api_encryption"] == "Noise_NNpsk0_25519_ChaChaPoly_SHA256"
        k = found["kitchen._eota._tcp.local."]
        assert k["kind"] == "eota" and k["spec"] == "kitchen.local:3232" and k["address"] == net.addr[1], kd.log()
        assert k["txt"]["name"] == "kitchen" and k["txt"]["state"] == "none" and k["txt"]["platform"] == "host"
        # the table feeds eota upload --devices-from
        table = discover(net, 3, tmp)
        eota_lines = "".join(x + "\n" for x in table.splitlines() if "# eota" in x)
        assert eota_lines.startswith("kitchen.local:3232 "), table
        r = eota_in(net, 3, ["upload", firmware(tmp, "v1"), "--devices-from", "-", "--json"], tmp, input=eota_lines)
        assert r.returncode == 0 and jsons(r.stdout)[0]["result"] == "ok", r.stdout + r.stderr
    finally:
        stock.close()


def wait_txt(proc, pred, timeout=20):
    end = time.monotonic() + timeout
    seen = []
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        ev = json.loads(line)
        seen.append(ev)
        if pred(ev):
            return ev
    raise AssertionError("no such change in: %s" % seen)


def test_discover_watch_sees_upload_and_rollback(net, devices, tmp):
    marker = os.path.join(tmp, "running")
    start(devices, net, 1, name="shed", extra=APP % marker)
    nss = os.path.join(tmp, "nsswitch.conf")
    eota_in(net, 3, ["--help"], tmp)
    w = net.popen(3, ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"', nss,
                      os.environ.get("EOTA_BIN") or __import__("devicelib").eota_bin(), "discover", "--watch",
                      "--json"], stdout=subprocess.PIPE, text=True)
    try:
        ev = wait_txt(w, lambda e: e["event"] == "added")
        assert ev["txt"]["slot"] == "none" and ev["txt"]["last_update"] == "none"
        r = eota_in(net, 2, ["upload", firmware(tmp, "v1"), "-d", "shed.local:3232", "--json"], tmp)
        assert jsons(r.stdout)[0]["result"] == "ok", r.stdout + r.stderr
        ev = wait_txt(w, lambda e: e["txt"].get("state") == "trial")
        assert ev["event"] == "changed" and ev["txt"]["slot"] == "a" and ev["txt"]["last_update"] == "installed"
        sha_v1 = ev["txt"]["sha256"]
        assert len(sha_v1) == 12
        wait_txt(w, lambda e: e["txt"].get("state") == "confirmed" and e["txt"]["slot"] == "a")
        bad = b"#!/bin/sh\necho bad >&2\nexit 3\n"
        r = eota_in(net, 2, ["upload", firmware(tmp, "bad", bad), "-d", "shed.local:3232", "--json"], tmp)
        assert jsons(r.stdout)[0]["result"] == "ok", r.stdout + r.stderr
        ev = wait_txt(w, lambda e: e["txt"].get("last_update") == "rolled_back")
        assert ev["txt"]["slot"] == "a" and ev["txt"]["sha256"] == sha_v1
        assert ev["txt"]["last_update_why"] == "the image on trial was never confirmed"
        # a fresh look sees the same
        (k,) = [d for d in json.loads(discover(net, 0, tmp, "--json")) if d["kind"] == "eota"]
        assert k["txt"]["last_update"] == "rolled_back" and k["txt"]["slot"] == "a"
    finally:
        w.kill()
        w.wait()
