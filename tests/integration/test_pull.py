"""Pull updates (issue 15): `eota publish` writes an image and an
ESPHome-compatible manifest.json; `eota device` with `update: - platform:
http_request` polls it from a real nginx (started here, on loopback, with
an access log the tests read), installs newer releases through the same
ingest as uploads, and names every failure in its log.
"""

import json
import os
import re
import subprocess
import threading
import time

import pytest

from devicelib import app_image, eota_bin, free_port
from pulllib import CutProxy, Nginx, StallServer, device, nginx, publish, pull_body, www  # noqa: F401


def ok_publish(*args):
    p = publish(*args)
    assert p.returncode == 0, p.stderr
    return p


# ------------------------------------------------------------ the manifest

HEX = re.compile(r"^[0-9a-f]+$")


def check_esphome_manifest(m):
    """ESPHome's documented manifest (components/update/http_request): name,
    version and builds[] with chipFamily and ota {path, md5}, required;
    summary and release_url optional strings. eota's size and sha256."""
    assert isinstance(m["name"], str) and m["name"]
    assert isinstance(m["version"], str) and m["version"]
    assert isinstance(m["builds"], list) and m["builds"]
    for b in m["builds"]:
        assert isinstance(b["chipFamily"], str) and b["chipFamily"]
        ota = b["ota"]
        assert isinstance(ota["path"], str) and ota["path"]
        assert isinstance(ota["md5"], str) and len(ota["md5"]) == 32 and HEX.match(ota["md5"])
        for opt in ("summary", "release_url"):
            assert opt not in ota or isinstance(ota[opt], str)
        assert isinstance(ota["size"], int) and ota["size"] > 0
        assert isinstance(ota["sha256"], str) and len(ota["sha256"]) == 64 and HEX.match(ota["sha256"])


def test_publish_writes_esphomes_manifest(www):
    import hashlib
    img = app_image("1.0.0", 5000)
    p = ok_publish(img, "1.0.0", www, "--name", "Demo", "--chip-family", "ESP32",
                   "--summary", "first", "--release-url", "https://example.com/r/1")
    assert "published Demo 1.0.0 for ESP32" in p.stdout
    ok_publish(img + b"x", "1.0.0", www, "--chip-family", "ESP8266")
    with open(os.path.join(www, "manifest.json")) as f:
        m = json.load(f)
    check_esphome_manifest(m)
    assert m["name"] == "Demo" and m["version"] == "1.0.0"
    fams = {b["chipFamily"]: b["ota"] for b in m["builds"]}
    assert sorted(fams) == ["ESP32", "ESP8266"]
    esp32 = fams["ESP32"]
    assert esp32["summary"] == "first" and esp32["release_url"] == "https://example.com/r/1"
    assert esp32["md5"] == hashlib.md5(img).hexdigest() and esp32["sha256"] == hashlib.sha256(img).hexdigest()
    assert esp32["size"] == len(img)
    with open(os.path.join(www, esp32["path"]), "rb") as f:
        assert f.read() == img
    # republishing a family replaces its build; a new version drops the others
    ok_publish(img, "1.1.0", www, "--chip-family", "ESP32")
    with open(os.path.join(www, "manifest.json")) as f:
        m = json.load(f)
    check_esphome_manifest(m)
    assert m["version"] == "1.1.0" and [b["chipFamily"] for b in m["builds"]] == ["ESP32"]
    assert not [n for n in os.listdir(www) if n.endswith(".tmp")]


def test_publish_refuses_bad_input(www):
    p = publish(b"abc", "", www)
    assert p.returncode == 2 and "--version and --dir are required" in p.stderr
    with open(os.path.join(www, "manifest.json"), "w") as f:
        f.write("not json")
    p = publish(b"abc", "1.0.0", www)
    assert p.returncode == 1 and "not a JSON object" in p.stderr
    p = publish(b"", "1.0.0", www + "/x")
    assert p.returncode == 1 and "empty" in p.stderr


# ------------------------------------------------------------ installs

def wait_for(pred, timeout=20.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


def test_poll_installs_then_costs_one_304(nginx, www):
    ok_publish(app_image("1.0.0", 20000), "1.0.0", www)
    with device(pull_body(nginx.url("manifest.json"))) as dev:
        assert dev.running_version(timeout=20, expect="1.0.0") == "1.0.0"
        dev.wait_log(r"Up to date: the manifest has 1.0.0, installed 1.0.0", 10, count=2)
        rows = nginx.log()
        after = [r for r in rows if r["uri"] == "/manifest.json"][1:]
        assert after and all(r["status"] == 304 and r["if_none_match"] for r in after), after
        print("a check that finds nothing new: %d B request, %d B response (304)"
              % (after[-1]["request_length"], after[-1]["bytes_sent"]))
        # a newer release: installed once, the app runs it
        ok_publish(app_image("1.1.0", 20000), "1.1.0", www)
        assert dev.running_version(timeout=20, expect="1.1.0") == "1.1.0"
        dev.wait_log(r"Up to date: the manifest has 1.1.0, installed 1.1.0", 10, count=2)
        images = [r for r in nginx.log() if r["uri"].endswith(".bin")]
        assert len(images) == 2 and "-1.0.0-HOST" in images[0]["uri"] and "-1.1.0-HOST" in images[1]["uri"], images
        # an older version is not newer
        ok_publish(app_image("1.0.5", 20000), "1.0.5", www)
        dev.wait_log(r"Up to date: the manifest has 1.0.5, installed 1.1.0", 10)
        assert len([r for r in nginx.log() if r["uri"].endswith(".bin")]) == 2
        assert "Starting update of 20000 bytes" in dev.log() and "Update complete" in dev.log()


def test_https_checks_certificates_by_default(www):
    tls = Nginx(www, tls=True)
    try:
        ok_publish(app_image("4.0.0", 3000), "4.0.0", www)
        with device(pull_body(tls.url("manifest.json"))) as dev:
            dev.wait_log(r"Update check failed: .*the server's certificate was refused", 15)
            assert dev.boot_state()["installs"] == "0"
            assert not tls.log(), "a request got through an unverified TLS connection"
        with device(pull_body(tls.url("manifest.json"), http_extra="  ca_file: %s\n" % tls.cert)) as dev:
            assert dev.running_version(timeout=20, expect="4.0.0") == "4.0.0"
            assert "TLS checks on" in dev.log()
    finally:
        tls.stop()


def test_rolled_back_release_is_skipped_until_a_newer_one(nginx, www):
    body = pull_body(nginx.url("manifest.json")) + \
        "safe_mode:\n  num_attempts: 3\n  reboot_timeout: 2s\n  boot_is_good_after: 1s\n"
    ok_publish(app_image("1.0.0", 3000), "1.0.0", www)
    with device(body) as dev:
        assert dev.running_version(timeout=20, expect="1.0.0") == "1.0.0"
        dev.wait_log(r"Boot is good", 10)
        # 2.0.0 dies at boot: rolled back to 1.0.0, and never fetched again
        ok_publish(b"#!/bin/sh\nexit 3\n", "2.0.0", www)
        dev.wait_log(r"rolled back to slot a", 20)
        dev.wait_log(r"Version 2.0.0 was rolled back on this device: skipped until a newer one appears", 10, count=2)
        assert dev.running_version() == "1.0.0"
        assert len([r for r in nginx.log() if "-2.0.0-" in r["uri"]]) == 1
        assert re.search(r"Up to date|installed 1.0.0", dev.log())
        ok_publish(app_image("2.0.1", 3000), "2.0.1", www)
        assert dev.running_version(timeout=20, expect="2.0.1") == "2.0.1"


# ------------------------------------------------------------ resume

SIZE = 400000


def test_cut_download_resumes_with_range(nginx, www):
    ok_publish(app_image("2.0.0", SIZE), "2.0.0", www, "--image-name", "fw.bin")
    proxy = CutProxy(nginx.port, "fw.bin")
    try:
        src = "http://127.0.0.1:%d/manifest.json" % proxy.port
        with device(pull_body(src)) as dev:
            assert dev.running_version(timeout=30, expect="2.0.0") == "2.0.0"
            assert "resuming with a Range request" in dev.log(), dev.log()[-5000:]
            rows = [r for r in nginx.log() if r["uri"] == "/fw.bin"]
            assert [r["status"] for r in rows] == [200, 206], rows
            first, second = rows
            assert second["range"].startswith("bytes=") and second["if_range"], second
            start = int(second["range"][6:-1])
            assert 0 < start < SIZE and second["body_bytes"] == SIZE - start, (start, second)
            print("cut after %d of %d bytes; the Range request fetched the other %d"
                  % (start, SIZE, second["body_bytes"]))
            assert dev.log().count("Starting update of") == 1
    finally:
        proxy.stop()


def test_download_resumes_after_a_restart(nginx, www):
    """Half the image arrives, the connection hangs, the device is stopped
    and started again: it feeds the bytes it kept through the ingest and
    asks nginx for the rest only (Range, If-Range with the ETag)."""
    ok_publish(app_image("2.5.0", SIZE), "2.5.0", www, "--image-name", "fw.bin")
    release = threading.Event()
    proxy = CutProxy(nginx.port, "fw.bin", on_cut=lambda: release.wait(60))
    try:
        src = "http://127.0.0.1:%d/manifest.json" % proxy.port
        with device(pull_body(src)) as dev:
            wait_for(lambda: proxy.cuts == 1, 20, "the cut")
            time.sleep(0.5)  # the half on its way
            dev.stop()
            assert "kept: it resumes after the restart" in dev.log(), dev.log()[-3000:]
            kept = os.path.getsize(os.path.join(dev.state, "pull_partial.bin"))
            assert 0 < kept < SIZE
            release.set()
            dev.start()
            assert dev.running_version(timeout=30, expect="2.5.0") == "2.5.0", dev.log()[-3000:]
            assert "Resuming the download of version 2.5.0 kept from before the restart" in dev.log()
            rows = [r for r in nginx.log() if r["uri"] == "/fw.bin"]
            assert [r["status"] for r in rows] == [200, 206], rows
            assert rows[1]["range"] == "bytes=%d-" % kept and rows[1]["if_range"].startswith('"'), rows
            assert rows[1]["body_bytes"] == SIZE - kept, rows
            assert not os.path.exists(os.path.join(dev.state, "pull_partial.bin"))
            print("stopped after %d of %d bytes; after the restart the Range request fetched the other %d"
                  % (kept, SIZE, rows[1]["body_bytes"]))
    finally:
        release.set()
        proxy.stop()


def test_changed_image_restarts_download(nginx, www):
    ok_publish(app_image("3.0.0", SIZE), "3.0.0", www, "--image-name", "fw.bin")
    changed = app_image("3.0.1", SIZE + 1000)
    proxy = CutProxy(nginx.port, "fw.bin",
                     on_cut=lambda: ok_publish(changed, "3.0.1", www, "--image-name", "fw.bin"))
    try:
        src = "http://127.0.0.1:%d/manifest.json" % proxy.port
        with device(pull_body(src)) as dev:
            assert dev.running_version(timeout=30, expect="3.0.1") == "3.0.1"
            assert "changed on the server (If-Range answered 200): the download starts over" in dev.log()
            rows = [r for r in nginx.log() if r["uri"] == "/fw.bin"]
            # the cut one, the Range request the changed file answered whole, the new download
            assert [r["status"] for r in rows] == [200, 200, 200], rows
            assert rows[1]["range"] and rows[1]["if_range"] and not rows[2]["range"], rows
            assert rows[2]["body_bytes"] == SIZE + 1000
            assert "Update aborted" in dev.log()
    finally:
        proxy.stop()


# ------------------------------------------------------------ errors

def write(www, rel, text):
    path = os.path.join(www, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def manifest_text(md5, family="HOST", path="fw.bin", version="9.0.0"):
    return json.dumps({"name": "x", "version": version,
                       "builds": [{"chipFamily": family, "ota": {"path": path, "md5": md5}}]})


ERRORS = {
    "unreachable": ("closed", r"the server is unreachable"),
    "404": ("nothing/manifest.json", r"HTTP 404 \(not found\)"),
    "500": ("e500/manifest.json", r"HTTP 500 \(server error\)"),
    "not_json": ("notjson/manifest.json", r"the manifest is not JSON"),
    "incomplete": ("incomplete/manifest.json", r"the manifest lacks 'version'"),
    "no_build": ("esp32only/manifest.json", r"no build for chip family HOST in the manifest \(it has: ESP32\)"),
    "wrong_md5": ("badmd5/manifest.json", r"the image's MD5 is not the manifest's"),
    "redirect_loop": ("loop/manifest.json", r"too many redirects"),
    "stall": ("stall", r"the server stalled"),
}


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_error_is_named_and_nothing_installed(nginx, www, kind):
    img = app_image("9.0.0", 3000)
    with open(os.path.join(www, "fw.bin"), "wb") as f:
        f.write(img)
    write(www, "notjson/manifest.json", "<html>not json</html>")
    write(www, "incomplete/manifest.json", json.dumps({"name": "x", "builds": []}))
    write(www, "esp32only/manifest.json", manifest_text("0" * 32, family="ESP32", path="/fw.bin"))
    write(www, "badmd5/manifest.json", manifest_text("0" * 32, path="/fw.bin"))
    where, pattern = ERRORS[kind]
    stall = StallServer() if kind == "stall" else None
    if kind == "closed" or kind == "unreachable":
        src = "http://127.0.0.1:%d/manifest.json" % free_port()
    elif stall:
        src = "http://127.0.0.1:%d/manifest.json" % stall.port
    else:
        src = nginx.url(where)
    try:
        with device(pull_body(src, timeout="1s")) as dev:
            # named, and tried again later
            dev.wait_log(r"Update check failed: .*" + pattern + r".*; next check in", 20, count=2)
            print(re.search(r"\[E\]\[update\]: Update check failed: .*" + pattern + ".*", dev.log()).group(0))
            st = dev.boot_state()
            assert st["active"] == "-" and st["installs"] == "0", st
            assert dev.running_version(timeout=0.1) is None
            if kind == "wrong_md5":
                assert "ERROR_MD5_MISMATCH" in dev.log()
    finally:
        if stall:
            stall.stop()


# ------------------------------------------------------------ status in mDNS

def discover_txt(name, want, timeout=20.0):
    """The _eota._tcp TXT of device `name` as `eota discover` reads it, once
    want(txt) holds."""
    end, txt = time.monotonic() + timeout, None
    while time.monotonic() < end:
        p = subprocess.run([eota_bin(), "discover", "--timeout", "2", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        found = [d["txt"] for d in json.loads(p.stdout or "[]") if d.get("txt", {}).get("name") == name]
        txt = found[0] if found else None
        if txt and want(txt):
            return txt
    raise AssertionError("no TXT of %s with what was wanted; last: %r" % (name, txt))


def test_pull_state_in_the_eota_txt(nginx, www):
    name = "pulltxt%d" % os.getpid()
    ok_publish(app_image("1.0.0", 3000), "1.0.0", www)
    with device(pull_body(nginx.url("manifest.json")), name=name, args=("--mdns", "embedded")) as dev:
        if not re.search(r"Publishing %s\.local" % name, dev.log()):
            pytest.skip("mDNS does not start here (no multicast interface)")
        assert dev.running_version(timeout=20, expect="1.0.0") == "1.0.0"
        txt = discover_txt(name, lambda t: t.get("pull_available") == "1.0.0" and t.get("pull_error") == "none")
        assert abs(int(txt["pull_checked"]) - time.time()) < 60, txt
        print("after an install:", {k: v for k, v in txt.items() if k.startswith("pull_")})
        os.unlink(os.path.join(www, "manifest.json"))
        dev.wait_log(r"Update check failed: .*HTTP 404", 10)
        txt = discover_txt(name, lambda t: t.get("pull_error", "").startswith("HTTP 404"))
        assert txt["pull_error"] == "HTTP 404 (not found)" and txt["last_update"] == "installed", txt
        print("after a 404:", {k: v for k, v in txt.items() if k.startswith("pull_")})
