"""Integration tests of `eota upload` against real `eota device` processes
over loopback: versions 1 and 2, SHA-256 passwords and where they come from,
gzip and the compression trial, wrong password and the previous-password
fallback, address fallback (IPv6 refused, IPv4 listening), injected device
errors with their words and phases, the config file, --devices-from, the
output modes and the exit codes.

Every upload that should work is checked on the device: the active slot
holds exactly the image, and the application runs it.
"""

import json
import os
import subprocess
import tempfile

import pytest

from devicelib import Device, app_image, eota_bin, free_port

OTA = "ota:\n  - platform: esphome\n"


def eota_upload(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.pop("EOTA_PASSWORD", None)
    if env:
        e.update(env)
    p = subprocess.run([eota_bin(), "upload"] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=timeout, env=e)
    objs = []
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            objs.append(json.loads(line))
    return p.returncode, p.stdout, p.stderr, objs


def write_tmp(data, suffix=".bin"):
    fd, path = tempfile.mkstemp(prefix="eota-up-", suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def dev_spec(dev):
    return "127.0.0.1:%d" % dev.port


def upload_ok(dev, img, *args, version=None, env=None):
    fw = write_tmp(img)
    try:
        rc, out, err, js = eota_upload(fw, "--device", dev_spec(dev), "--json", *args, env=env)
    finally:
        os.unlink(fw)
    assert rc == 0, "rc %d\nstdout: %s\nstderr: %s\ndevice log: %s" % (rc, out, err, dev.log()[-2000:])
    assert len(js) == 1 and js[0]["result"] == "ok", js
    assert dev.active_image(expect=img) == img, "the device does not hold the image"
    if version:
        assert dev.running_version(expect=version) == version
    return js[0], err


def upload_fail(dev, img, *args, env=None, spec=None):
    fw = write_tmp(img)
    try:
        rc, out, err, js = eota_upload(fw, "--device", spec or dev_spec(dev), "--json", *args, env=env)
    finally:
        os.unlink(fw)
    assert rc == 1, "rc %d\nstdout: %s\nstderr: %s" % (rc, out, err)
    assert len(js) == 1 and js[0]["result"] == "failed", js
    return js[0], err


# ---------------------------------------------------------------- versions

@pytest.mark.device(OTA)
def test_version_2_no_password(dev):
    img = app_image("v1", 120000)
    j, err = upload_ok(dev, img, "--compress", "never", version="v1")
    assert j["protocol_version"] == 2 and j["auth"] == "none", j
    assert j["bytes_sent"] == len(img) == j["wire_size"] == j["image_size"], j
    assert j["compressed"] is False and j["attempts"] == 1 and j["received_whole_image"], j
    assert j["address"] == "127.0.0.1" and j["port"] == dev.port, j
    assert "installed" in err, err


@pytest.mark.device(OTA + "    version: 1\n")
def test_version_1(dev):
    img = app_image("v1", 90000)
    j, _ = upload_ok(dev, img, version="v1")
    assert j["protocol_version"] == 1, j
    # stop-and-wait makes no difference to a version-1 device
    img2 = app_image("v2", 30000)
    j, _ = upload_ok(dev, img2, "--window", "1", version="v2")
    assert j["protocol_version"] == 1, j


@pytest.mark.device(OTA)
def test_windows(dev):
    for i, w in enumerate(("1", "2", "8", "64")):
        img = app_image("w%d" % i, 150000 + i)
        j, _ = upload_ok(dev, img, "--window", w, "--compress", "never", version="w%d" % i)
        assert j["bytes_sent"] == len(img), j


# ---------------------------------------------------------------- passwords

PW = OTA + "    password: !secret ota_pw\n"
SECRETS = "ota_pw: 'p@ss word'\n"


@pytest.mark.device(PW, secrets=SECRETS)
def test_sha256_password_sources(dev):
    # --password
    j, _ = upload_ok(dev, app_image("a", 20000), "--password", "p@ss word", version="a")
    assert j["auth"] == "sha256" and j["password"] == "current", j
    # --password-file (first line; the newline is not part of it)
    pf = write_tmp("p@ss word\nsecond line ignored\n", ".txt")
    try:
        j, _ = upload_ok(dev, app_image("b", 20000), "--password-file", pf, version="b")
    finally:
        os.unlink(pf)
    assert j["auth"] == "sha256", j
    # EOTA_PASSWORD
    j, _ = upload_ok(dev, app_image("c", 20000), env={"EOTA_PASSWORD": "p@ss word"}, version="c")
    # --password wins over EOTA_PASSWORD
    j, _ = upload_ok(dev, app_image("d", 20000), "--password", "p@ss word",
                     env={"EOTA_PASSWORD": "wrong"}, version="d")
    assert "p@ss word" not in dev.log()


@pytest.mark.device(PW, secrets=SECRETS)
def test_wrong_password(dev):
    old = upload_ok(dev, app_image("v1", 10000), "-P", "p@ss word")
    j, err = upload_fail(dev, app_image("v2", 10000), "-P", "nope")
    assert j["error"] == "device_error" and j["error_code"] == 0x82, j
    assert j["error_name"] == "ERROR_AUTH_INVALID" and j["phase"] == "auth", j
    assert j["attempts"] == 1 and not j["received_whole_image"], j
    assert "0x82 ERROR_AUTH_INVALID during authentication" in err, err
    assert "is the password right?" in err, err
    assert dev.running_version() == "v1" and old


@pytest.mark.device(PW, secrets=SECRETS)
def test_password_required(dev):
    j, err = upload_fail(dev, app_image("v1", 10000))
    assert j["error"] == "password_required" and j["phase"] == "auth", j
    assert "asks for a password" in err and "--password" in err, err
    assert dev.active_image() is None


@pytest.mark.device(PW, secrets=SECRETS)
def test_previous_password_fallback(dev):
    j, err = upload_ok(dev, app_image("v1", 30000), "-P", "brand new", "--previous-password", "older",
                       "--previous-password", "p@ss word", version="v1")
    assert j["password"] == "previous-2" and j["auth"] == "sha256", j
    assert "authentication failed with the current password" in err, err
    assert "authenticated with --previous-password #2" in err, err
    # when none works: the last 82 is reported, with how many were tried
    j, err = upload_fail(dev, app_image("v2", 30000), "-P", "x", "--previous-password", "y")
    assert j["error_code"] == 0x82, j
    assert "tried 2 passwords" in err, err
    # no password given, but a previous one works
    j, err = upload_ok(dev, app_image("v3", 30000), "--previous-password", "p@ss word", version="v3")
    assert j["password"] == "previous-1", j


@pytest.mark.device(OTA + "    password: pw\n    allow_md5_auth: true\n")
def test_md5_opt_in_device_gets_sha256(dev):
    # eota upload always offers SHA-256, so an opt-in device uses it
    j, _ = upload_ok(dev, app_image("v1", 10000), "-P", "pw")
    assert j["auth"] == "sha256", j


# ---------------------------------------------------------------- compression

@pytest.mark.device(OTA, platform="host:\n  gzip: true\n")
def test_gzip_device(dev):
    img = app_image("v1", 400000)   # text padding: compresses very well
    j, err = upload_ok(dev, img, version="v1")
    assert j["compressed"] is True and j["bytes_sent"] < len(img) // 5, j
    assert j["image_size"] == len(img) and j["wire_size"] == j["bytes_sent"], j
    assert j["compress_seconds"] >= 0, j
    assert j["server_flags"] & 1, j
    assert "compressed the image" in err, err
    # never: raw, even to a device that accepts gzip
    img2 = app_image("v2", 400000)
    j, _ = upload_ok(dev, img2, "--compress", "never", version="v2")
    assert j["compressed"] is False and j["bytes_sent"] == len(img2), j


@pytest.mark.device(OTA, app=False, platform="host:\n  gzip: true\n")
def test_gzip_trial_random(dev):
    img = os.urandom(500000)
    j, err = upload_ok(dev, img)
    assert j["compressed"] is False and j["bytes_sent"] == len(img), j
    assert "does not pay" in err, err
    # always: compressed whenever the device accepts it, paying or not
    j, err = upload_ok(dev, img, "--compress", "always")
    assert j["compressed"] is True, j


@pytest.mark.device(OTA, platform="esp32:\n  board: esp32dev\n")
def test_no_gzip_on_esp32(dev):
    img = app_image("v1", 200000)
    j, _ = upload_ok(dev, img, "--compress", "always", version="v1")
    assert j["compressed"] is False and j["bytes_sent"] == len(img), j


# ---------------------------------------------------------------- errors

INJECTED = (("prepare", 0x81, "prepare", "could not prepare its storage"),
            ("write", 0x83, None, "failed to write the image"),
            ("end", 0x84, "verify", "failed to finish the update"),
            ("write", 0x8D, None, "not signed with a key the device trusts"))


@pytest.mark.parametrize("where, code, phase, words", INJECTED, ids=["%s-%02X" % c[:2] for c in INJECTED])
def test_injected_errors(where, code, phase, words):
    body = OTA + "simulate:\n  fail_at: %s\n  fail_code: 0x%02X\n" % (where, code)
    dev = Device(body)
    try:
        j, err = upload_fail(dev, app_image("v1", 60000), "--compress", "never")
        assert j["error"] == "device_error" and j["error_code"] == code, (where, j)
        if phase:
            assert j["phase"] == phase, (where, j)
        else:
            assert j["phase"] in ("data", "receive", "verify"), (where, j)
        assert words in err, (where, err)
        assert j["attempts"] == 1, j
        assert dev.active_image() is None
        dev.stop()
    finally:
        dev.cleanup()


@pytest.mark.device(OTA + "simulate:\n  slot_size: 200000\n", platform="esp32:\n  board: esp32dev\n")
def test_too_big(dev):
    j, err = upload_fail(dev, os.urandom(300000))
    assert j["error_code"] == 0x89 and j["phase"] == "prepare", j
    assert "OTA partition is too small" in err, err


@pytest.mark.device(OTA)
def test_unsupported_ota_type(dev):
    j, err = upload_fail(dev, app_image("v1", 5000), "--ota-type", "bootloader")
    assert j["error_code"] == 0x8E, j
    assert "cannot take this kind of image" in err, err


# ---------------------------------------------------------------- addresses

def test_address_fallback():
    # only IPv4 listens: the IPv6 address of the same device refuses first
    dev = Device(OTA)
    try:
        spec = "[::1]:%d,127.0.0.1:%d" % (dev.port, dev.port)
        fw = write_tmp(app_image("v1", 50000))
        rc, out, err, js = eota_upload(fw, "--device", spec, "--json")
        os.unlink(fw)
        assert rc == 0, err
        j = js[0]
        assert j["address"] == "127.0.0.1" and j["attempts"] == 2, j
        assert "connection refused by [::1]:%d" % dev.port in err, err
        assert "trying the next address" in err, err
        assert dev.running_version(expect="v1") == "v1"
        dev.stop()
    finally:
        dev.cleanup()
    # and the other way round: IPv6 only
    dev = Device(OTA, listen="::1")
    try:
        spec = "127.0.0.1:%d,[::1]:%d" % (dev.port, dev.port)
        fw = write_tmp(app_image("v2", 50000))
        rc, out, err, js = eota_upload(fw, "--device", spec, "--json")
        os.unlink(fw)
        assert rc == 0, err
        assert js[0]["address"] == "::1" and js[0]["attempts"] == 2, js
        assert dev.running_version(expect="v2") == "v2"
        dev.stop()
    finally:
        dev.cleanup()


def test_refused_and_retries():
    port = free_port()
    fw = write_tmp(b"x" * 1000)
    try:
        rc, out, err, js = eota_upload(fw, "--device", "127.0.0.1:%d" % port, "--json", "--retry-delay", "0.1")
        assert rc == 1
        j = js[0]
        assert j["error"] == "refused" and j["phase"] == "connect", j
        # each address once, plus 2
        assert j["attempts"] == 3, j
        assert "connection refused by 127.0.0.1:%d" % port in err, err
        assert err.count("retrying in 0.1 s") == 2, err
        rc, out, err, js = eota_upload(fw, "--device", "127.0.0.1:%d" % port, "--json", "--retries", "0")
        assert rc == 1 and js[0]["attempts"] == 1, js
        # a name that does not resolve
        rc, out, err, js = eota_upload(fw, "--device", "no-such-host.invalid", "--json")
        assert rc == 1 and js[0]["error"] == "resolve_error", js
        assert "cannot resolve 'no-such-host.invalid'" in err, err
    finally:
        os.unlink(fw)


def test_connect_timeout():
    # A listener whose accept queue is full and that never accepts: the SYN
    # is dropped (connect times out), or, where the stack completes the
    # connection anyway, nobody ever answers the magic (hello times out).
    import socket
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    fw = write_tmp(b"x" * 1000)
    try:
        rc, out, err, js = eota_upload(fw, "--device", "127.0.0.1:%d" % port, "--json", "--retries", "0",
                                       "--handshake-timeout", "0.5")
        assert rc == 1, err
        j = js[0]
        assert j["error"] == "timeout" and j["phase"] in ("connect", "hello"), j
        if j["phase"] == "connect":
            assert "timed out connecting to 127.0.0.1:%d" % port in err, err
        else:
            assert "timed out during the handshake (waiting for the protocol version)" in err, err
        assert 0.4 < j["seconds"] < 3, j
    finally:
        os.unlink(fw)
        for c in fillers:
            c.close()
        ls.close()


# ---------------------------------------------------------------- config, lists, output

def test_config_file():
    port = free_port()
    body = OTA + "    port: %d\n    password: !secret ota_pw\n" % port
    dev = Device(body, secrets=SECRETS, port=port)
    try:
        img = app_image("v1", 40000)
        fw = write_tmp(img)
        # port and password from the config, device given without a port
        rc, out, err, js = eota_upload(dev.config, "--file", fw, "--device", "127.0.0.1", "--json")
        assert rc == 0, err
        assert js[0]["port"] == port and js[0]["auth"] == "sha256", js
        assert dev.running_version(expect="v1") == "v1"
        # --password overrides the config's
        rc, out, err, js = eota_upload(dev.config, "--file", fw, "--device", "127.0.0.1", "--json",
                                       "-P", "wrong")
        assert rc == 1 and js[0]["error_code"] == 0x82, js
        # a config without a firmware
        rc, out, err, js = eota_upload(dev.config, "--device", "127.0.0.1")
        assert rc == 2 and "--file" in err, err
        os.unlink(fw)
        dev.stop()
    finally:
        dev.cleanup()
    # a broken config is a usage error naming the file and line
    bad = write_tmp("esphome:\n  name: x\nhost:\nota:\n  - platform: esphome\n    port: abc\n", ".yaml")
    fw = write_tmp(b"x" * 10)
    try:
        rc, out, err, js = eota_upload(bad, "--file", fw, "--device", "127.0.0.1")
        assert rc == 2 and os.path.basename(bad) in err and "port" in err, err
    finally:
        os.unlink(bad)
        os.unlink(fw)


def test_devices_from_and_table():
    devs = [Device(OTA, app=False) for _ in range(3)]
    dead = free_port()
    lst = write_tmp("# the lab\n127.0.0.1:%d\n\n  127.0.0.1:%d   # bench\n127.0.0.1:%d\n127.0.0.1:%d\n"
                    % (devs[0].port, devs[1].port, devs[2].port, dead), ".txt")
    img = os.urandom(70000)
    fw = write_tmp(img)
    try:
        rc, out, err, js = eota_upload(fw, "--devices-from", lst, "--retries", "0")
        assert rc == 1, err
        assert "DEVICE" in out and "RESULT" in out, out
        assert out.count(" ok ") == 3 and "FAILED" in out, out
        assert "1 of 4 devices failed." in out, out
        for d in devs:
            assert d.active_image(expect=img) == img
        # all reachable: exit 0
        lst2 = write_tmp("\n".join("127.0.0.1:%d" % d.port for d in devs) + "\n", ".txt")
        rc, out, err, js = eota_upload(fw, "--devices-from", lst2, "--json", "--jobs", "2")
        os.unlink(lst2)
        assert rc == 0 and len(js) == 3 and all(j["result"] == "ok" for j in js), (out, err)
        assert sorted(j["port"] for j in js) == sorted(d.port for d in devs)
        for d in devs:
            d.stop()
    finally:
        os.unlink(lst)
        os.unlink(fw)
        for d in devs:
            d.cleanup()


@pytest.mark.device(OTA, app=False)
def test_quiet_and_progress(dev):
    img = os.urandom(3 << 20)
    fw = write_tmp(img)
    try:
        rc, out, err, js = eota_upload(fw, "--device", dev_spec(dev), "--quiet")
        assert rc == 0 and err == "" and out == "", (out, err)
        rc, out, err, js = eota_upload(fw, "--device", "127.0.0.1:%d" % free_port(), "--quiet",
                                       "--retries", "0")
        assert rc == 1 and out == "" and len(err.strip().splitlines()) == 1, (out, err)
        assert "FAILED" in err and "connection refused" in err, err
    finally:
        os.unlink(fw)


def test_usage_errors():
    fw = write_tmp(b"abc")
    try:
        rc, out, err, _ = eota_upload("--help")
        assert rc == 0
        for word in ("--device", "--devices-from", "--file", "--port", "--password", "--password-file",
                     "--previous-password", "--window", "--compress", "--jobs", "--retries",
                     "--retry-delay", "--handshake-timeout", "--data-timeout", "--quiet", "--json",
                     "--ota-type", "EOTA_PASSWORD", "exit status", "examples"):
            assert word in out, word
        for args in ((fw,), (fw, "--device", "h", "--window", "0"), (fw, "--device", "h", "--compress", "x"),
                     (fw, "--device", "h:99999"), ("/nonexistent/fw.bin", "--device", "h"),
                     (fw, "--device", "h", "--bogus"), (fw, fw, "--device", "h"),
                     (fw, "--device", "[::1")):
            rc, out, err, _ = eota_upload(*args)
            assert rc == 2, (args, rc, err)
            assert err.strip(), args
        empty = write_tmp(b"")
        rc, out, err, _ = eota_upload(empty, "--device", "h")
        os.unlink(empty)
        assert rc == 2 and "empty" in err, err
    finally:
        os.unlink(fw)

