"""Integration tests of the web server of `eota device` (issue 7): the page
at GET /, the web upload POST /update with stock-shaped requests (the real
curl command, `curl -F "update=@fw.bin"`), authentication, failures that
keep the old image, mutual exclusion with native uploads, the same
automations, flat memory for big images, a real headless Chromium, and the
"I no longer know my OTA password" recovery walkthrough of the README.

Real processes and sockets; Python standard library only (plus the curl and
chromium commands, which scripts/deps.sh installs).
"""

import gzip
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from devicelib import app_image, eota_bin, free_port

import espota_stock as stock
from weblib import Chromium, WebDevice, chromium_path, curl, curl_bg, dump_dom, multipart, raw_post

assert shutil.which("curl"), "curl is not installed (scripts/deps.sh installs it)"

OTA = "ota:\n  - platform: esphome\n  - platform: web_server\n"
AUTOS = ("ota:\n  - platform: esphome\n"
         "    on_begin:\n      - logger.log: 'AUTO begin'\n"
         "    on_progress:\n      - logger.log:\n          format: 'AUTO progress %.0f'\n          args: [x]\n"
         "    on_end:\n      - logger.log: 'AUTO end'\n"
         "    on_abort:\n      - logger.log: 'AUTO abort'\n"
         "    on_error:\n      - logger.log:\n          format: 'AUTO error %d'\n          args: [x]\n"
         "  - platform: web_server\n")
BASIC = "web_server:\n  auth:\n    username: admin\n    password: 'w3b pass'\n"
DIGEST = BASIC + "    type: digest\n"
SLOW = "simulate:\n  flash_write_speed: %s\n"


@pytest.fixture
def dev(web_dev):
    """In this file, the device of @pytest.mark.device has its web server on."""
    return web_dev


def expect_ok(res):
    status, _, body = res
    assert status == 200 and body == "Update Successful!", "expected success, got %r" % (res,)


def expect_fail(res, status):
    got, _, body = res
    assert got == status and body.startswith("Update Failed!"), "expected %d, got %r" % (status, res)
    return body


def install_web(dev, version, size=0, *args):
    img = app_image(version, size)
    expect_ok(dev.upload(img, *args))
    assert dev.running_version(expect=version) == version, "app not running %s:\n%s" % (
        version, dev.log()[-2000:])
    assert dev.active_image(expect=img) == img
    return img


def random_app(version, size):
    """app_image with incompressible padding (a native uploader would gzip
    the usual padding down to nothing, and the upload would be over at once)."""
    head = app_image(version)
    return head + os.urandom(size - len(head))


def native(dev, data, **kw):
    return stock.upload("127.0.0.1", dev.port, data, handshake_timeout=10, data_timeout=30, **kw)


# ---------------------------------------------------------------- basics

@pytest.mark.device(OTA + "web_server:\n")
def test_open_upload_and_page(dev):
    assert re.search(r"\[W\]\[web_server\]: The web upload is open", dev.log()), "no warning about the open upload"
    status, headers, page = curl(dev.url("/"))
    assert status == 200 and "text/html" in headers["content-type"], (status, headers)
    assert 'id="device">itest<' in page and 'id="platform">host<' in page, page
    assert "none installed yet" in page and 'type="file"' in page and "<progress" in page, page
    assert "http://" not in page and "https://" not in page, "the page loads something from outside"
    img = install_web(dev, "v1", 30000)
    # the device reboots 100 ms after the reply, into the new image
    log = dev.log()
    assert log.index("200 Update Successful!") < log.index("Boot attempt 1: slot a"), log[-2000:]
    install_web(dev, "v2", 20000)
    st = dev.boot_state()
    assert st["active"] == "b" and st["slot_b"] == "trial" and st["slot_a"] == "valid", st
    _, _, page = curl(dev.url("/"))
    import hashlib
    v2 = dev.active_image()
    assert 'id="slot">b<' in page and 'id="size">%d<' % len(v2) in page, page
    assert hashlib.md5(v2).hexdigest() in page, page
    assert re.search(r'id="last">successful: %d bytes \(web upload' % len(v2), page), page
    # a native upload works afterwards, and the page tells
    res = native(dev, img)
    assert res["result"] == "ok", res
    assert dev.running_version(expect="v1") == "v1"
    _, _, page = curl(dev.url("/"))
    assert "native upload" in page, page


@pytest.mark.device(OTA + BASIC)
def test_basic_auth(dev):
    assert "The web upload is open" not in dev.log()
    img = app_image("v1", 5000)
    status, headers, body = dev.upload(img)
    assert status == 401 and headers.get("www-authenticate", "").startswith("Basic "), (status, headers)
    assert body.startswith("Update Failed!"), body
    expect_fail(dev.upload(img, "-u", "admin:wrong"), 401)
    expect_fail(dev.upload(img, "-u", "root:w3b pass"), 401)
    assert dev.active_image() is None and not dev.parts(), "something was written"
    dev.wait_log(r"Update failed: ERROR_AUTH_INVALID \(0x82\)")
    assert "w3b pass" not in dev.log(), "the password leaked into the log"
    # the page is protected too
    assert curl(dev.url("/"))[0] == 401
    assert curl(dev.url("/"), "-u", "admin:w3b pass")[0] == 200
    install_web(dev, "v1", 5000, "-u", "admin:w3b pass")


@pytest.mark.device(OTA + DIGEST)
def test_digest_auth(dev):
    img = app_image("v1", 70000)
    status, headers, _ = dev.upload(img)
    assert status == 401 and headers.get("www-authenticate", "").startswith("Digest "), (status, headers)
    assert 'realm="itest"' in headers["www-authenticate"], headers
    expect_fail(dev.upload(img, "--digest", "-u", "admin:wrong"), 401)
    # basic credentials are not accepted by a digest server
    expect_fail(dev.upload(img, "-u", "admin:w3b pass"), 401)
    assert dev.active_image() is None and not dev.parts(), "something was written"
    install_web(dev, "v1", 70000, "--digest", "-u", "admin:w3b pass")
    install_web(dev, "v2", 3000, "--digest", "-u", "admin:w3b pass")


@pytest.mark.device(OTA + "web_server:\n", platform="esp32:\n  board: esp32dev")
def test_profile_gzip_off_and_too_big(dev):
    # esp32: slot 0x1C0000 bytes, no gzip: refused at once from Content-Length
    big = os.urandom(0x1C0000 + 100000)
    body = expect_fail(dev.upload(big), 413)
    assert "larger than the slot" in body, body
    assert dev.active_image() is None and not dev.parts()
    assert "Starting update" not in dev.log(), "a refused upload started"


@pytest.mark.device(OTA + "web_server:\n" + "simulate:\n  slot_size: 100000\n", app=False, platform="host:\n  gzip: true\n")
def test_too_big_while_streaming(dev):
    ok = os.urandom(90000)
    expect_ok(dev.upload(ok))
    dev.wait_log(r"Boot attempt \d+: slot a")
    # host accepts gzip, so only the inflated size tells: 413 once it overflows
    body = expect_fail(dev.upload(os.urandom(150000)), 413)
    assert "larger than the slot" in body, body
    assert dev.active_image(expect=ok) == ok and dev.idle()
    dev.wait_log(r"Update failed: ERROR_UPDATE_PREPARE \(0x81\)")


@pytest.mark.device(OTA + "web_server:\n", app=False, platform="host:\n  gzip: true\n")
def test_gzip_inflated(dev):
    img = app_image("v1", 400000)
    gz = gzip.compress(img, 9)
    expect_ok(dev.upload(gz, name="firmware.bin.gz"))
    dev.wait_log(r"Boot attempt \d+: slot a")
    assert dev.active_image(expect=img) == img
    # a gzip stream cut short fails verification; the old image stays
    body = expect_fail(dev.upload(gz[: len(gz) // 2]), 500)
    assert "truncated" in body, body
    assert dev.active_image(expect=img) == img


@pytest.mark.device(AUTOS + "web_server:\n" + "simulate:\n  fail_at: write\n  fail_after_bytes: 20000\n")
def test_write_failure_and_automations(dev):
    body = expect_fail(dev.upload(app_image("v1", 80000)), 500)
    assert "ERROR_WRITING_FLASH (0x83)" in body and "simulated failure" in body, body
    assert dev.active_image() is None and dev.idle()
    dev.wait_log(r"(?m)\[E\]\[ota\]: Update failed: ERROR_WRITING_FLASH \(0x83\): .*; simulated failure while writing$")
    dev.wait_log(r"AUTO begin")
    dev.wait_log(r"AUTO error 131")  # 0x83
    assert "AUTO end" not in dev.log()


def outcome_lines(log):
    """What an upload told the automations and the log: the triggers fired
    (progress aside, which depends on timing) and the failure line."""
    return re.findall(r"AUTO (?:begin|end|abort|error \d+)|Update failed: .*", log)


def failing_at(stage):
    return pytest.param(stage, marks=pytest.mark.device(
        AUTOS + "web_server:\n" + "simulate:\n  fail_at: %s\n" % stage, app=False))


@pytest.mark.parametrize("fail_at", [failing_at("prepare"), failing_at("write"), failing_at("end")])
def test_native_and_web_fail_alike(dev, fail_at):
    """The same failure through the native protocol and through the web
    upload (one ingest path, one storage stack) gives the same triggers, the
    same response code and the same detail."""
    img = random_app("v1", 40000)
    seen = {}
    for via in ("native", "web"):
        mark = len(dev.log())
        if via == "native":
            res = native(dev, img, compress=False)
            assert res["result"] == "error", res
        else:
            res = dev.upload(img)
            assert res[0] == 500, res
        dev.wait_log(r"AUTO error \d+", count=1 if via == "native" else 2)
        assert dev.idle(), "the device still holds a connection"
        seen[via] = outcome_lines(dev.log()[mark:])
    print("outcomes (native, web): %r" % seen)
    assert seen["native"] == seen["web"], seen
    assert seen["native"][0] == "AUTO begin" and len(seen["native"]) == 3, seen


@pytest.mark.device(AUTOS + "web_server:\n" + SLOW % "400KB/s", app=False)
def test_automations_progress_end(dev):
    t0 = time.monotonic()
    expect_ok(dev.upload(os.urandom(1200000)))
    secs = time.monotonic() - t0
    assert secs > 2.0, "the emulated flash speed was not applied (%.1f s)" % secs
    dev.wait_log(r"AUTO end")
    log = dev.log()
    progress = re.findall(r"AUTO progress (\d+)", log)
    assert 1 <= len(progress) <= int(secs) + 1, "on_progress at most once a second: %r in %.1f s" % (progress, secs)
    assert log.index("AUTO begin") < log.index("AUTO progress") < log.index("AUTO end"), log[-3000:]


def test_web_port_in_use(tmp_path):
    """The web port is taken (here by the device's own native OTA port):
    the device refuses to start and says why."""
    d = str(tmp_path)
    cfg = os.path.join(d, "device.yaml")
    with open(cfg, "w") as f:
        f.write("esphome:\n  name: clash\nhost:\n" + OTA + "web_server:\n")
    port = free_port()
    p = subprocess.run([eota_bin(), "device", "--config", cfg, "--state-dir", os.path.join(d, "st"),
                        "--listen", "127.0.0.1", "--port", str(port), "--web-port", str(port)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 1, (p.returncode, out)
    assert re.search(r"\[E\]\[web_server\]: listen on \[127.0.0.1\]:%d: Address already in use" % port, out), out


# ---------------------------------------------------------------- cut and malformed bodies

@pytest.mark.device(AUTOS + "web_server:\n")
def test_truncated_body_keeps_old_image(dev):
    old = install_web(dev, "v1", 9000)
    fds = dev.fds()
    new = app_image("v2", 300000)
    body = multipart([("update", "fw.bin", new)])

    # 1. the client declares the whole body, sends half, and goes away
    def half(s, b):
        s.sendall(b[: len(b) // 2])
        time.sleep(0.3)
    status, why = raw_post(dev.web_port, body, send=half, close_after_send=True)
    assert status is None, (status, why)
    dev.wait_log(r"AUTO abort")
    dev.wait_log(r"aborted by the client closing the connection")
    assert dev.idle() and not dev.parts(), dev.parts()
    assert dev.active_image(expect=old) == old and dev.running_version() == "v1"

    # 2. a complete body whose multipart ends inside the image
    cut = multipart([("update", "fw.bin", new)], closing=False)
    status, text = raw_post(dev.web_port, cut)
    assert status == 400 and "ended inside the image" in text, (status, text)
    # 3. the image part ends but the closing boundary never comes
    cut2 = multipart([("update", "fw.bin", new)], closing=False) + b"\r\n--eotaBoundary7d1\r\n"
    status, text = raw_post(dev.web_port, cut2)
    assert status == 400 and "malformed" in text, (status, text)
    dev.wait_log(r"AUTO error 132", count=2)  # 0x84 for both
    # 4. not multipart, no file, empty file
    status, text = raw_post(dev.web_port, b"abc", ctype="application/octet-stream")
    assert status == 400 and "multipart/form-data" in text, (status, text)
    status, text = raw_post(dev.web_port, multipart([("note", None, b"hello")]))
    assert status == 400 and "no file" in text, (status, text)
    status, text = raw_post(dev.web_port, multipart([("update", "", b"")]))
    assert status == 400 and "empty" in text, (status, text)
    assert dev.active_image(expect=old) == old and dev.running_version() == "v1" and not dev.parts()
    time.sleep(0.2)
    assert dev.fds() == fds, "descriptors leaked: %d -> %d" % (fds, dev.fds())
    # and the device takes the next upload
    install_web(dev, "v3", 12000)


@pytest.mark.device(OTA + "web_server:\n", app=False)
def test_multipart_shapes(dev):
    """Framing a browser or another client may send: a preamble, fields
    before and after the image, a quoted boundary, image bytes that look
    like the start of a boundary, and bytes trickled in small pieces."""
    b = "----WebKitFormBoundaryAbC123xyz"
    tricky = (b"\r\n--" + b[:10].encode() + b"\r\n-\r\r\n--" + os.urandom(5000) + b"\r\n--" +
              b.encode()[:-1] + b"X" + os.urandom(70000) + b"\r")
    body = multipart([("note", None, b"first a text field"), ("update", "fw.bin", tricky),
                      ("other", "second.bin", b"not the image")],
                     boundary=b, preamble=b"This is a preamble.")

    def trickle(s, data):
        i, step = 0, 1
        while i < len(data):
            s.sendall(data[i:i + step])
            i += step
            step = 1 if i < 400 else 7919
            if i < 400:
                time.sleep(0.001)
    status, text = raw_post(dev.web_port, body, boundary=b, send=trickle,
                            ctype='multipart/form-data; boundary="%s"' % b)
    assert status == 200 and text == "Update Successful!", (status, text, dev.log()[-2000:])
    dev.wait_log(r"Boot attempt \d+: slot a")
    assert dev.active_image(expect=tricky) == tricky, "the stored image differs from the sent one"


@pytest.mark.device(OTA + "web_server:\n")
def test_other_paths(dev):
    assert curl(dev.url("/nothing"))[0] == 404
    assert curl(dev.url("/"), "-X", "DELETE")[0] == 405
    assert curl(dev.url("/update"))[0] == 200  # the page again


@pytest.mark.device("ota:\n  - platform: esphome\nweb_server:\n")
def test_page_without_web_ota(dev):
    _, _, page = curl(dev.url("/"))
    assert 'type="file"' not in page and "Uploads over the web are off" in page, page
    expect_fail(dev.upload(app_image("v1")), 404)
    assert dev.active_image() is None
    assert "The web upload is open" not in dev.log()


# ---------------------------------------------------------------- one upload at a time

@pytest.mark.device(OTA + "web_server:\n" + SLOW % "300KB/s")
def test_two_web_uploads(dev):
    first = app_image("v1", 900000)
    path = os.path.join(dev.dir, "first.bin")
    with open(path, "wb") as f:
        f.write(first)
    bg = curl_bg(dev.url("/update"), data_file=path)
    dev.wait_log(r"Starting update")
    t0 = time.monotonic()
    body = expect_fail(dev.upload(app_image("v2", 600000)), 409)
    took = time.monotonic() - t0
    assert "in progress (web)" in body, body
    assert took < 1.5, "the second upload was not turned away at once (%.1f s)" % took
    # also without Expect: 100-continue (the body comes whatever the answer)
    body = expect_fail(dev.upload(app_image("v2", 600000), "-H", "Expect:"), 409)
    expect_ok(bg.result())
    assert dev.running_version(expect="v1") == "v1" and dev.active_image(expect=first) == first


@pytest.mark.device(OTA + "web_server:\n" + SLOW % "300KB/s")
def test_native_during_web(dev):
    img = app_image("v1", 900000)
    path = os.path.join(dev.dir, "v1.bin")
    with open(path, "wb") as f:
        f.write(img)
    bg = curl_bg(dev.url("/update"), data_file=path)
    dev.wait_log(r"Starting update")
    t0 = time.monotonic()
    res = native(dev, app_image("v2", 5000))
    took = time.monotonic() - t0
    assert res["result"] == "error", res
    assert took < 2.0, "the native upload was not turned away at once (%.1f s)" % took
    dev.wait_log(r"turned away: a web upload is in progress")
    expect_ok(bg.result())
    assert dev.running_version(expect="v1") == "v1" and dev.active_image(expect=img) == img
    # once the web upload is done, native uploads work again
    res = native(dev, app_image("v2", 5000))
    assert res["result"] == "ok", res
    assert dev.running_version(expect="v2") == "v2"


@pytest.mark.device(OTA + "web_server:\n" + SLOW % "300KB/s")
def test_web_during_native(dev):
    img = random_app("v1", 900000)
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("res", native(dev, img)))
    t.start()
    dev.wait_log(r"Starting update")
    t0 = time.monotonic()
    body = expect_fail(dev.upload(app_image("v2", 600000)), 409)
    assert time.monotonic() - t0 < 1.5
    assert "native OTA" in body, body
    t.join(60)
    assert out["res"]["result"] == "ok", out
    assert dev.running_version(expect="v1") == "v1" and dev.active_image(expect=img) == img


@pytest.mark.device(OTA + "web_server:\n" + SLOW % "200KB/s", app=False)
def test_shutdown_during_web_upload(dev):
    path = os.path.join(dev.dir, "big.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(2000000))
    bg = curl_bg(dev.url("/update"), data_file=path)
    dev.wait_log(r"Starting update")
    time.sleep(0.5)
    dev.signal(signal.SIGTERM)
    dev.proc.wait(15)
    assert dev.proc.returncode == 0, dev.log()[-2000:]
    assert "Web upload in progress discarded by the shutdown" in dev.log()
    assert dev.active_image() is None and not dev.parts(), dev.parts()
    try:
        bg.result(30)
    except AssertionError:
        pass  # curl saw the connection close


# ---------------------------------------------------------------- memory

def test_rss_flat():
    """Peak RSS of `eota device` while 4 MiB and then 64 MiB stream in over
    HTTP: the second must not raise it by more than a few MiB."""
    dev = WebDevice(OTA + "web_server:\n", app=False)
    try:
        figures = []
        for mib in (4, 64):
            path = os.path.join(dev.dir, "img%d.bin" % mib)
            with open(path, "wb") as f:
                for _ in range(mib):
                    f.write(os.urandom(1 << 20))
            samples = []
            bg = curl_bg(dev.url("/update"), data_file=path)
            while bg.t.is_alive():
                samples.append(dev.rss_kb())
                time.sleep(0.02)
            expect_ok(bg.result())
            dev.wait_log(r"Boot attempt \d+: slot", count=len(figures) + 1)
            with open(path, "rb") as f:
                assert dev.active_image(expect=f.read) == f.read()
            os.unlink(path)
            figures.append((mib, max(samples or [0]), dev.hwm_kb()))
        for mib, peak, hwm in figures:
            print("  RSS while %2d MiB streamed in over HTTP: peak sampled %d KiB, VmHWM %d KiB" % (mib, peak, hwm))
        growth = figures[1][2] - figures[0][2]
        print("  VmHWM growth from 4 MiB to 64 MiB: %d KiB" % growth)
        assert growth < 8 * 1024, "RSS grows with the image: %r" % figures
        dev.stop()
    finally:
        dev.cleanup()


# ---------------------------------------------------------------- a real browser

def chromium_or_skip():
    if not chromium_path():
        pytest.skip("chromium is not installed (scripts/deps.sh installs it)")


@pytest.mark.device(OTA + "web_server:\n", name="kitchen-lights")
def test_browser_dump_dom(dev):
    chromium_or_skip()
    install_web(dev, "v1", 4000)
    dom = dump_dom(dev.url("/"))
    assert 'id="device">kitchen-lights<' in dom, dom[:2000]
    assert 'id="platform">host<' in dom and 'id="slot">a<' in dom, dom[:2000]
    assert "successful: 4000 bytes" in dom, dom[:2000]


@pytest.mark.device(OTA + "web_server:\n" + SLOW % "2MB/s", name="garage")
def test_browser_upload(dev):
    chromium_or_skip()
    install_web(dev, "v1", 4000)
    img = random_app("v2", 12000000)
    path = os.path.join(dev.dir, "firmware.bin")
    with open(path, "wb") as f:
        f.write(img)
    br = Chromium()
    try:
        br.goto(dev.url("/"))
        assert br.eval("document.getElementById('device').textContent") == "garage"
        assert br.eval("document.getElementById('slot').textContent") == "a"
        br.set_file("#file", path)
        br.eval("document.getElementById('go').click()")
        seen = set()
        end = time.monotonic() + 60
        status = ""
        while time.monotonic() < end:
            seen.add(br.eval("document.getElementById('bar').value"))
            status = br.eval("document.getElementById('status').textContent")
            if "Update Successful!" in status or "Failed" in status:
                break
            time.sleep(0.05)
        assert status.startswith("200 Update Successful!"), status
        middle = sorted(v for v in seen if v and 0 < v < 100)
        print("  progress bar values seen: %s" % " ".join(str(v) for v in sorted(v for v in seen if v is not None)))
        assert middle, "the progress bar never moved between 0 and 100: %r" % sorted(seen)
        assert dev.running_version(expect="v2") == "v2" and dev.active_image(expect=img) == img
        # the page reloads itself after a success and shows the new image
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                if br.eval("document.getElementById('slot') && document.getElementById('slot').textContent") == "b":
                    break
            except RuntimeError:
                pass
            time.sleep(0.2)
        assert br.eval("document.getElementById('slot').textContent") == "b"
        assert "successful: 12000000 bytes (web upload" in br.eval("document.getElementById('last').textContent")
        shot = os.environ.get("EOTA_WEB_SCREENSHOT")
        if shot:
            br.screenshot(shot)
    finally:
        br.close()


# ---------------------------------------------------------------- the README walkthrough

def test_recovery_walkthrough():
    """README, "I no longer know my OTA password": the web server's own
    credentials still work. A small recovery image, uploaded over the web,
    writes a new OTA password into secrets.yaml and asks the device to
    reread it (SIGHUP to its parent, eota device); then the real firmware
    goes over native OTA with the new password."""
    body = (OTA.replace("  - platform: esphome\n", "  - platform: esphome\n    password: !secret ota_password\n")
            + "web_server:\n  auth:\n    username: !secret web_username\n    password: !secret web_password\n")
    secrets = "ota_password: 'long-forgotten'\nweb_username: admin\nweb_password: 'still known'\n"
    dev = WebDevice(body, secrets=secrets)
    try:
        secrets_path = os.path.join(dev.dir, "secrets.yaml")
        # the device runs v1, installed long ago with the password now lost
        res = native(dev, app_image("v1", 20000), password="long-forgotten")
        assert res["result"] == "ok", res
        assert dev.running_version(expect="v1") == "v1"
        fw = os.path.join(dev.dir, "firmware.bin")
        with open(fw, "wb") as f:
            f.write(app_image("v2", 30000))

        def eota_upload(password):
            return subprocess.run([eota_bin(), "upload", fw, "--device", "127.0.0.1:%d" % dev.port,
                                   "--password", password, "--quiet"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        # 1. the password is lost: every guess is refused (README: eota upload)
        p = eota_upload("was it this?")
        assert p.returncode == 1 and b"ERROR_AUTH_INVALID" in p.stdout, p.stdout
        # 2. the recovery image, over the web server with its credentials
        recovery = ("#!/bin/sh\n"
                    "# eota recovery image: set a new OTA password, then idle\n"
                    "sed -i \"s/^ota_password:.*/ota_password: 'n3w-ota-pass'/\" '%s'\n"
                    "kill -HUP \"$PPID\"\n"
                    "echo recovery > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n"
                    "trap 'exit 0' TERM\n"
                    "while :; do sleep 1; done\n" % secrets_path).encode()
        expect_ok(dev.upload(recovery, "-u", "admin:still known", name="recovery.sh"))
        assert dev.running_version(expect="recovery") == "recovery", dev.log()[-2000:]
        dev.wait_log(r"Reloaded .*password set")
        # 3. native OTA with the new password installs the real firmware
        p = eota_upload("n3w-ota-pass")
        assert p.returncode == 0, p.stdout
        assert dev.running_version(expect="v2") == "v2"
        res = native(dev, app_image("v3"), password="long-forgotten")
        assert res["result"] == "error" and res.get("code") == 0x82, res
        for secret in ("long-forgotten", "n3w-ota-pass", "still known"):
            assert secret not in dev.log(), "a password leaked into the log"
        dev.stop()
    finally:
        dev.cleanup()

