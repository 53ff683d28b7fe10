"""Integration tests of `eota device`: real sockets, real processes, a
stock-like uploader (espota_stock.py, written from PROTOCOL.md) as the peer.

Each test starts a device with its own config and state directory, uploads,
and checks the active image, the application that runs it, and that
failures leave the old image running and the device ready.
"""

import gzip
import os
import signal
import socket
import threading
import time

import pytest

from devicelib import Device, app_image

import espota_stock as stock

OTA = "ota:\n  - platform: esphome\n"


def up(dev, data, **kw):
    host = kw.pop("host", "127.0.0.1")
    return stock.upload(host, dev.port, data, handshake_timeout=10, data_timeout=30, **kw)


def expect_ok(res):
    assert res["result"] == "ok", "upload failed: %r" % (res,)


def expect_code(res, code):
    assert res["result"] == "error" and res.get("code") == code, \
        "expected code 0x%02X, got %r" % (code, res)


def install(dev, version, size=0, **kw):
    img = app_image(version, size)
    expect_ok(up(dev, img, **kw))
    assert dev.running_version(expect=version) == version, "app not running %s:\n%s" % (
        version, dev.log()[-2000:])
    assert dev.active_image(expect=img) == img
    return img


@pytest.mark.device(OTA)
def test_upload_v2_no_password(dev):
    install(dev, "v1", 30000)
    install(dev, "v2", 20000)
    # v1 went to slot a, v2 to slot b (on trial: boot_is_good_after is 1 min;
    # starting the v2 upload confirmed v1), so a third goes to a again
    st = dev.boot_state()
    assert st["active"] == "b" and st["slot_b"] == "trial" and st["slot_a"] == "valid", st
    assert int(st["slot_b_install"]) > int(st["slot_a_install"]), st
    install(dev, "v3", 9000)
    st = dev.boot_state()
    assert st["active"] == "a" and st["slot_a"] == "trial" and st["slot_b"] == "valid", st


@pytest.mark.device(OTA + "    version: 1\n")
def test_upload_version_1(dev):
    res = up(dev, app_image("v1", 50000))
    expect_ok(res)
    assert res["version"] == 1, res
    assert dev.running_version(expect="v1") == "v1"


@pytest.mark.device(OTA + "    password: !secret ota_pw\n", secrets="ota_pw: 'p@ss word'\n")
def test_sha256_password(dev):
    res = up(dev, app_image("v1", 10000), password="p@ss word")
    expect_ok(res)
    assert res["auth"] == "sha256", res
    assert dev.running_version(expect="v1") == "v1"
    expect_code(up(dev, app_image("v2"), password="wrong"), 0x82)
    # no password from a client that must give one
    res = up(dev, app_image("v2"))
    assert res["result"] == "error", res
    assert dev.running_version() == "v1" and dev.idle()
    assert "p@ss word" not in dev.log(), "the password leaked into the log"


@pytest.mark.device(OTA + "    password: old\n    allow_md5_auth: true\n")
def test_md5_opt_in(dev):
    res = up(dev, app_image("v1"), password="old", features=0x01)
    expect_ok(res)
    assert res["auth"] == "md5", res
    expect_code(up(dev, app_image("v2"), password="bad", features=0x01), 0x82)


@pytest.mark.device(OTA + "    password: pw\n")
def test_md5_refused_by_default(dev):
    expect_code(up(dev, app_image("v1"), password="pw", features=0x01), 0x82)
    assert dev.active_image() is None


@pytest.mark.device(OTA, platform="host:\n  gzip: true\n")
def test_gzip_host(dev):
    img = app_image("v1", 400000)
    res = up(dev, img)
    expect_ok(res)
    assert res.get("gzip") is True, res
    assert res["bytes_sent"] < len(img) // 5, res
    assert dev.active_image(expect=img) == img
    assert dev.running_version(expect="v1") == "v1"
    # a raw upload to the same gzip-capable device also works
    img2 = app_image("v2", 5000)
    expect_ok(up(dev, img2, compress=False))
    assert dev.active_image(expect=img2) == img2


PROFILES = [
    # block, gzip offered, too-big code
    ("esp32:\n  board: esp32dev\n  framework:\n    type: esp-idf\n", False, 0x89),
    ("esp8266:\n  board: d1_mini\n", True, 0x88),
    ("rp2040:\n  board: rpipicow\n", False, 0x8C),
    ("bk72xx:\n  board: generic-bk7231n-qfn32-tuya\n", False, None),
    ("rtl87xx:\n  board: generic-rtl8710bn-2mb-788k\n", False, None),
    ("ln882x:\n  board: generic-ln882hki\n", False, None),
]


@pytest.mark.parametrize("block, gz, too_big", PROFILES, ids=[p[0].split(":")[0] for p in PROFILES])
def test_profiles(block, gz, too_big):
    dev = Device(OTA + "simulate:\n  slot_size: 200000\n", platform=block)
    try:
        img = app_image("v1", 150000)
        res = up(dev, img)
        expect_ok(res)
        assert bool(res.get("gzip")) == gz, (block, res)
        assert dev.active_image(expect=img) == img, block
        assert dev.running_version(expect="v1") == "v1", block
        res = up(dev, os.urandom(300000))
        assert res["result"] == "error", (block, res)
        if too_big is not None:
            expect_code(res, too_big)
        assert dev.active_image(expect=img) == img and dev.running_version() == "v1"
        dev.stop()
        assert not dev.parts()
    finally:
        dev.cleanup()


def test_default_port_esp32():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 3232))
    except OSError:
        pytest.skip("port 3232 busy: default-port check skipped")
    finally:
        s.close()
    dev = Device(OTA, platform="esp32:\n  board: esp32dev\n", port=0)
    try:
        dev.port = 3232
        assert "port 3232" in dev.log()
        expect_ok(up(dev, app_image("v1")))
        dev.stop()
    finally:
        dev.cleanup()


@pytest.mark.device(OTA)
def test_md5_mismatch_keeps_old_image(dev):
    old = install(dev, "v1", 20000)
    expect_code(up(dev, app_image("v2", 20000), corrupt_md5=True), 0x8B)
    assert dev.active_image(expect=old) == old and dev.running_version() == "v1"
    assert dev.idle()
    install(dev, "v3")


@pytest.mark.parametrize("where, code", [("prepare", 0x81), ("write", 0x83), ("end", 0x84), ("write", 0x8D)],
                         ids=["prepare-81", "write-83", "end-84", "write-8D"])
def test_injected_errors(where, code):
    body = OTA + "simulate:\n  fail_at: %s\n  fail_code: 0x%02X\n" % (where, code)
    dev = Device(body)
    try:
        expect_code(up(dev, app_image("v1", 30000)), code)
        assert dev.active_image() is None
        assert dev.idle()
        assert "0x%02X" % code in dev.log()
        dev.stop()
        assert not dev.parts(), dev.parts()
    finally:
        dev.cleanup()


def test_automation_shell_env(tmp_path):
    mark = str(tmp_path)
    body = (OTA + "    on_error:\n      - shell: 'echo \"$EOTA_ERROR_NAME $EOTA_X\" > %s/err'\n"
            "    on_end:\n      - shell: 'echo \"$EOTA_STATE\" > %s/end'\n"
            "    on_state_change:\n      - logger.log:\n          format: 'state now %%d'\n"
            "          args: [state]\n" % (mark, mark))
    dev = Device(body)
    try:
        install(dev, "v1", 5000)
        end = time.monotonic() + 5
        while not os.path.exists(mark + "/end") and time.monotonic() < end:
            time.sleep(0.05)
        assert open(mark + "/end").read().strip() == "COMPLETED"
        expect_code(up(dev, app_image("v2"), corrupt_md5=True), 0x8B)
        end = time.monotonic() + 5
        while not os.path.exists(mark + "/err") and time.monotonic() < end:
            time.sleep(0.05)
        assert open(mark + "/err").read().strip() == "ERROR_MD5_MISMATCH 139", open(mark + "/err").read()
        assert "state now 1" in dev.log() and "state now 0" in dev.log() and "state now 4" in dev.log()
        dev.stop()
    finally:
        dev.cleanup()


@pytest.mark.device(OTA + "    password: !secret pw\n", secrets="pw: first\n")
def test_sighup_changes_password(dev):
    expect_ok(up(dev, app_image("v1"), password="first"))
    with open(os.path.join(dev.dir, "secrets.yaml"), "w") as f:
        f.write("pw: second\n")
    dev.signal(signal.SIGHUP)
    dev.wait_log(r"Reloaded")
    expect_code(up(dev, app_image("v2"), password="first"), 0x82)
    expect_ok(up(dev, app_image("v3"), password="second"))
    assert dev.running_version(expect="v3") == "v3"
    # a broken edit is refused and the running password stays
    with open(dev.config, "a") as f:
        f.write("bogus_key: 1\n")
    dev.signal(signal.SIGHUP)
    dev.wait_log(r"Reload refused")
    expect_ok(up(dev, app_image("v4"), password="second"))


def test_on_boot_set_auth_password():
    body = (OTA + "    id: my_ota\n    password: yaml-pw\n")
    platform = ("host:\n")
    text_extra = ("  on_boot:\n    - ota.set_auth_password:\n        id: my_ota\n"
                  "        password: boot-pw\n"
                  "    - logger.log: 'AUTO on_boot ran'\n")
    dev = Device(body, platform=platform)
    try:
        dev.stop()
        with open(dev.config) as f:
            cfg = f.read()
        cfg = cfg.replace("  name: itest\n", "  name: itest\n" + text_extra)
        with open(dev.config, "w") as f:
            f.write(cfg)
        dev.start()
        dev.wait_log(r"AUTO on_boot ran")
        expect_code(up(dev, app_image("v1"), password="yaml-pw"), 0x82)
        expect_ok(up(dev, app_image("v1"), password="boot-pw"))
        # on_boot runs at every boot: the upload's reboot is the second
        dev.wait_log(r"AUTO on_boot ran", count=2)
        assert dev.running_version(expect="v1") == "v1"
        expect_ok(up(dev, app_image("v2"), password="boot-pw"))
        dev.stop()
    finally:
        dev.cleanup()


@pytest.mark.device(OTA + "    id: my_ota\n    password: old-pw\n"
                    "    on_error:\n      - ota.set_auth_password:\n          id: my_ota\n"
                    "          password: new-pw\n")
def test_set_auth_password_in_a_trigger(dev):
    """ota.set_auth_password as an OTA trigger's action: a refused password
    (on_error) changes it, from the next connection on."""
    expect_code(up(dev, app_image("v1"), password="wrong"), 0x82)
    dev.wait_log(r"on_error: OTA password changed \(effective from the next connection; "
                 r"a handshake in progress is refused\)")
    expect_code(up(dev, app_image("v1"), password="old-pw"), 0x82)
    expect_ok(up(dev, app_image("v1"), password="new-pw"))


@pytest.mark.device(OTA + "simulate:\n  flash_write_speed: 400000\n")
def test_second_client_turned_away(dev):
    img = app_image("v1", 800000)  # about 2 s at 400 KB/s
    out = {}
    t = threading.Thread(target=lambda: out.update(up(dev, os.urandom(0) + img, compress=False)))
    t.start()
    dev.wait_log(r"Starting update")
    s = socket.create_connection(("127.0.0.1", dev.port), timeout=5)
    t0 = time.monotonic()
    s.sendall(bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45]))
    try:
        got = s.recv(10)
    except ConnectionResetError:
        got = b""
    s.close()
    assert got == b"", "second client got %r" % got
    assert time.monotonic() - t0 < 2
    t.join(30)
    expect_ok(out)
    assert dev.active_image(expect=img) == img
    assert "turned away" in dev.log()


def test_ipv6_listen():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    dev = Device(OTA, listen="::1")
    try:
        res = up(dev, app_image("v1"), host="::1")
        expect_ok(res)
        dev.stop()
    finally:
        dev.cleanup()


@pytest.mark.device(OTA + "simulate:\n  flash_write_speed: 200000\n")
def test_sigterm_during_upload(dev):
    old = install(dev, "v1", 3000)
    t = threading.Thread(target=lambda: up(dev, app_image("v2", 1000000), compress=False))
    t.start()
    dev.wait_log(r"Starting update", count=2)
    time.sleep(0.5)
    dev.stop()
    t.join(30)
    assert not dev.parts(), dev.parts()
    assert dev.active_image(expect=old) == old
    dev.start()
    assert dev.running_version(expect="v1") == "v1"


@pytest.mark.device(OTA + "    password: sweep\n")
def test_disconnect_sweep(dev):
    """Cut the connection after every byte of the handshake and at 60 points
    of the data phase: the old image keeps running, nothing is left behind,
    no descriptor leaks, and the next upload succeeds."""
    old = install(dev, "v1", 4000, password="sweep")
    assert dev.idle()
    fds0 = dev.fds()
    rss0 = dev.rss_kb()
    img = app_image("v2", 120000)
    # handshake: magic 5 + features 1 + cnonce/response 128 + type 1 + size 4 + md5 32
    handshake = 5 + 1 + 128 + 1 + 4 + 32
    points = list(range(0, handshake + 1))
    data_points = [handshake + 1 + (i * (len(img) - 2)) // 59 for i in range(60)]
    points += data_points
    for i, n in enumerate(points):
        res = up(dev, img, password="sweep", compress=False, cut_after=n, cut_rst=(i % 3 == 0))
        assert res["result"] == "cut", (n, res)
        assert dev.idle(5), "device still busy after a cut at byte %d" % n
        assert dev.active_image(expect=old) == old, "image changed after a cut at %d" % n
    assert not dev.parts(), dev.parts()
    assert dev.running_version() == "v1"
    fds1 = dev.fds()
    assert fds1 == fds0, "descriptors: %d before the sweep, %d after" % (fds0, fds1)
    rss1 = dev.rss_kb()
    assert rss1 - rss0 < 4096, "RSS grew from %d to %d kB over the sweep" % (rss0, rss1)
    print("  sweep: %d cuts (%d in the handshake, %d in the data phase), fds %d -> %d, RSS %d -> %d kB"
          % (len(points), handshake + 1, len(data_points), fds0, fds1, rss0, rss1))
    install(dev, "v3", 50000, password="sweep")


@pytest.mark.device(OTA, app=False)
def test_without_app_stores_images(dev):
    img = os.urandom(70000)
    expect_ok(up(dev, img, compress=False))
    assert dev.active_image(expect=img) == img
    img2 = gzip.compress(b"x" * 1000)
    # gzip bytes from a client that did not offer gzip are an image like any other
    expect_ok(up(dev, img2, features=0x06))
    assert dev.active_image(expect=img2) == img2

