"""Integration tests of `eota upload --ota-platform web_server` (issue 7, the
uploader side): HTTP POST /update with a multipart body through libcurl,
against real `eota device` processes with a web_server: block, and against
a scripted HTTP peer on loopback for what a real device does not do (a
stock device's 200 "Update Failed!", a close in the middle of the body, an
endless silence, odd statuses).

Covered: no auth, basic, digest, credentials from the config and from the
flags, wrong credentials (exit 1, the 401 in words, nothing written), the
automatic choice of web_server from a config whose only ota: entry is
platform: web_server (and the web port from the config), a fleet of web
devices in one run (concurrently), a busy device (409), too big (413),
a write failure (500), a close mid-upload, timeouts, connection refused,
the --json fields, progress lines, gzip with --compress always, the memory
of the uploader for big images, --help, usage errors, and the README's
"Lost the OTA password?" walkthrough with eota upload instead of curl.

Real processes and sockets; Python standard library only (plus the curl
command for one background upload, which scripts/deps.sh installs).
"""

import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from devicelib import Device, app_image, eota_bin, free_port
from weblib import WebDevice, curl_bg

import espota_stock as stock

OTA_BOTH = "ota:\n  - platform: esphome\n  - platform: web_server\n"
OTA_WEB = "ota:\n  - platform: web_server\n"
BASIC = "web_server:\n  auth:\n    username: admin\n    password: 'w3b pass'\n"
DIGEST = BASIC + "    type: digest\n"
SLOW = "simulate:\n  flash_write_speed: %s\n"
CREDS = ("--web-username", "admin", "--web-password", "w3b pass")

# the fields of a native upload's JSON object; a web upload has them all
NATIVE_KEYS = {"device", "address", "port", "result", "error", "error_code", "error_name", "phase", "message",
               "bytes_sent", "wire_size", "image_size", "compressed", "compress_seconds", "seconds",
               "protocol_version", "auth", "server_flags", "attempts", "password", "encrypted", "key",
               "received_whole_image", "ota_platform"}


@pytest.fixture
def dev(web_dev):
    """In this file, the device of @pytest.mark.device has its web server on."""
    return web_dev


def eota_upload(*args, env=None, timeout=180):
    e = dict(os.environ)
    for k in ("EOTA_PASSWORD", "EOTA_WEB_PASSWORD", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        e.pop(k, None)
    if env:
        e.update(env)
    p = subprocess.run([eota_bin(), "upload"] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=e)
    objs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr[-3000:]
    return p.returncode, p.stdout, p.stderr, objs


def write_tmp(data, suffix=".bin", name=None):
    if name:
        d = tempfile.mkdtemp(prefix="eota-upw-")
        path = os.path.join(d, name)
    else:
        fd, path = tempfile.mkstemp(prefix="eota-upw-", suffix=suffix)
        os.close(fd)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def rm(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def web_upload(spec, img, *args, env=None, name=None):
    fw = write_tmp(img, name=name)
    try:
        return eota_upload(fw, "--device", spec, "--ota-platform", "web_server", "--json", *args, env=env)
    finally:
        rm(fw)
        if name:
            os.rmdir(os.path.dirname(fw))  # write_tmp's own directory


def upload_ok(dev, img, *args, version=None, env=None):
    rc, out, err, js = web_upload(dev.spec(), img, *args, env=env)
    assert rc == 0, "rc %d\nstdout: %s\nstderr: %s\ndevice log: %s" % (rc, out, err, dev.log()[-2000:])
    assert len(js) == 1 and js[0]["result"] == "ok", js
    j = js[0]
    assert j["http_status"] == 200 and j["reply"] == "Update Successful!", j
    assert j["ota_platform"] == "web_server" and j["error"] is None, j
    if version:
        assert dev.running_version(expect=version) == version, dev.log()[-2000:]
    wait_active(dev, img)  # the device reboots 100 ms after its reply
    return j, err


def upload_fail(spec, img, *args, env=None, name=None):
    rc, out, err, js = web_upload(spec, img, *args, env=env, name=name)
    assert rc == 1, "rc %d\nstdout: %s\nstderr: %s" % (rc, out, err)
    assert len(js) == 1 and js[0]["result"] == "failed", js
    assert "FAILED" in err, err
    return js[0], err


def wait_active(dev, img, timeout=10.0):
    """Wait until the device booted the image (after its 100 ms delay)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if dev.active_image(expect=img) == img:
            return
        time.sleep(0.02)
    raise AssertionError("the device does not run the image:\n" + dev.log()[-2000:])


def random_app(version, size):
    head = app_image(version)
    return head + os.urandom(size - len(head))


# ---------------------------------------------------------------- a scripted HTTP peer

class Stub:
    """An HTTP peer on loopback, one behaviour for every connection:
    answer: read the whole request, then answer status with body;
    close: read the headers and `after` bytes of the body, then close
           (with a reset when rst);
    silent: read everything, never answer;
    deaf: read the headers, then nothing (the client's sending stalls)."""

    def __init__(self, mode, status=200, body=b"", after=65536, rst=False):
        self.mode, self.status, self.body, self.after, self.rst = mode, status, body, after, rst
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.requests = []  # (head text, body bytes)
        self.conns = 0
        self.stop = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def spec(self):
        return "127.0.0.1:%d" % self.port

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            text = head.decode(errors="replace")
            m = re.search(r"(?im)^content-length:\s*(\d+)", text)
            length = int(m.group(1)) if m else 0
            if re.search(r"(?im)^expect:\s*100-continue", text) and self.mode != "close":
                c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if self.mode == "deaf":
                while not self.stop:
                    time.sleep(0.1)
                return
            if self.mode == "close":
                while len(rest) < self.after:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
                self.requests.append((text, rest))
                if self.rst:
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return
            while len(rest) < length:
                chunk = c.recv(65536)
                if not chunk:
                    break
                rest += chunk
            self.requests.append((text, rest))
            if self.mode == "silent":
                while c.recv(65536):
                    pass
                return
            c.sendall(b"HTTP/1.1 %d Whatever\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % (self.status, len(self.body)) + self.body)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()
        self.t.join(2)


# ---------------------------------------------------------------- uploads that work

@pytest.mark.device(OTA_WEB + "web_server:\n")
def test_no_auth(dev):
    img = app_image("v1", 120000)
    j, err = upload_ok(dev, img, version="v1")
    assert j["auth"] == "none" and j["attempts"] == 1 and j["received_whole_image"], j
    assert j["image_size"] == len(img) and j["wire_size"] > len(img) and j["bytes_sent"] == j["wire_size"], j
    assert j["address"] == "127.0.0.1" and j["port"] == dev.web_port and j["phase"] is None, j
    assert j["compressed"] is False and j["protocol_version"] is None and j["password"] is None, j
    assert "POST http://127.0.0.1:%d/update" % dev.web_port in err, err
    assert "installed" in err and "Update Successful!" in err, err
    # the device saw a stock-shaped form: the field `update` and the file name
    dev.wait_log(r"image 'eota-upw-[^']*\.bin'")
    # a second image, without --json: one line of result on stderr, nothing on stdout
    img2 = app_image("v2", 50000)
    fw = write_tmp(img2)
    try:
        rc, out, err, _ = eota_upload(fw, "--device", dev.spec(), "--ota-platform", "web_server")
    finally:
        rm(fw)
    assert rc == 0 and out == "" and "OK, installed" in err, (rc, out, err)
    assert dev.running_version(expect="v2") == "v2" and dev.active_image(expect=img2) == img2


@pytest.mark.device(OTA_WEB + BASIC)
def test_basic_auth(dev):
    img = app_image("v1", 60000)
    j, err = upload_ok(dev, img, *CREDS, "--web-auth", "basic", version="v1")
    assert j["auth"] == "basic", j
    # --web-auth any (the default without a config): the 401 challenge says basic
    img2 = app_image("v2", 70000)
    j, _ = upload_ok(dev, img2, *CREDS, version="v2")
    assert j["auth"] == "basic", j
    # the password from EOTA_WEB_PASSWORD
    img3 = app_image("v3", 80000)
    j, _ = upload_ok(dev, img3, "--web-username", "admin", env={"EOTA_WEB_PASSWORD": "w3b pass"}, version="v3")
    assert "w3b pass" not in dev.log()


@pytest.mark.device(OTA_WEB + DIGEST)
def test_digest_auth(dev):
    img = app_image("v1", 90000)
    j, _ = upload_ok(dev, img, *CREDS, "--web-auth", "digest", version="v1")
    assert j["auth"] == "digest", j
    # any: the challenge asks for digest; a big image (Expect: 100-continue)
    img2 = random_app("v2", 1500000)
    j, _ = upload_ok(dev, img2, *CREDS, version="v2")
    assert j["auth"] == "digest" and j["bytes_sent"] == j["wire_size"], j
    # the credentials and their type from the device's own config
    img3 = app_image("v3", 40000)
    fw = write_tmp(img3)
    try:
        rc, out, err, js = eota_upload(dev.config, "--file", fw, "--device", dev.spec(), "--json")
    finally:
        rm(fw)
    assert rc == 0 and js[0]["auth"] == "digest" and js[0]["ota_platform"] == "web_server", (out, err)
    assert dev.running_version(expect="v3") == "v3" and dev.active_image(expect=img3) == img3


# ---------------------------------------------------------------- credentials refused

def expect_nothing_written(dev, before):
    time.sleep(0.2)
    assert dev.active_image(expect=before) == before and not dev.parts(), "something was written: %r" % dev.parts()


@pytest.mark.device(OTA_WEB + BASIC)
def test_wrong_credentials_basic(dev):
    img = app_image("v1", 60000)
    j, err = upload_fail(dev.spec(), img, "--web-username", "admin", "--web-password", "wrong")
    assert j["error"] == "http_status" and j["http_status"] == 401, j
    assert "the web server refused the credentials" in j["message"] and "HTTP 401" in j["message"], j
    assert "wrong or missing credentials" in j["message"], j  # the device's reason
    assert j["reply"].startswith("Update Failed!"), j
    assert j["attempts"] == 1, "an HTTP answer was retried: %r" % j
    expect_nothing_written(dev, None)
    # no credentials at all: the message says which options give them
    j, err = upload_fail(dev.spec(), img)
    assert j["http_status"] == 401 and "none were given" in j["message"] and "Basic" in j["message"], j
    assert "--web-username" in j["message"], j
    expect_nothing_written(dev, None)
    dev.wait_log(r"Update failed: ERROR_AUTH_INVALID \(0x82\)")
    assert "wrong" not in re.findall(r"password.*", dev.log()), "a password in the log"


@pytest.mark.device(OTA_WEB + DIGEST)
def test_wrong_credentials_digest(dev):
    old = app_image("v0", 30000)
    upload_ok(dev, old, *CREDS, version="v0")
    img = app_image("v1", 60000)
    for extra in (("--web-auth", "digest"), ()):
        j, _ = upload_fail(dev.spec(), img, "--web-username", "admin", "--web-password", "nope", *extra)
        assert j["http_status"] == 401 and "the web server refused the credentials" in j["message"], j
        assert j["auth"] == "digest", j
    # basic credentials to a digest server: told to use digest
    j, _ = upload_fail(dev.spec(), img, *CREDS, "--web-auth", "basic")
    assert j["http_status"] == 401 and "--web-auth digest" in j["message"], j
    expect_nothing_written(dev, old)
    assert dev.running_version() == "v0"


# ---------------------------------------------------------------- choosing the platform from the config

def test_auto_from_config():
    port = free_port()
    body = OTA_WEB + "web_server:\n  port: %d\n  auth:\n    username: !secret wu\n    password: !secret wp\n" % port
    dev = Device(body, secrets="wu: admin\nwp: 's3cret web'\n", args=["--web-port", str(port)])
    try:
        dev.wait_log(r"Listening for HTTP")
        img = app_image("v1", 70000)
        fw = write_tmp(img)
        # only platform: web_server: no --ota-platform, the port and the
        # credentials (with !secret) from the config, device given without a port
        rc, out, err, js = eota_upload(dev.config, "--file", fw, "--device", "127.0.0.1", "--json")
        assert rc == 0, (out, err, dev.log()[-2000:])
        j = js[0]
        assert j["ota_platform"] == "web_server" and j["port"] == port and j["auth"] == "basic", j
        assert dev.running_version(expect="v1") == "v1" and dev.active_image(expect=img) == img
        # --web-password overrides the config's
        rc, out, err, js = eota_upload(dev.config, "--file", fw, "--device", "127.0.0.1", "--json",
                                       "--web-password", "wrong")
        assert rc == 1 and js[0]["http_status"] == 401, (out, err)
        # asking for native OTA with this config is a usage error that names the way out
        rc, out, err, js = eota_upload(dev.config, "--file", fw, "--device", "127.0.0.1",
                                       "--ota-platform", "esphome")
        assert rc == 2 and "--ota-platform web_server" in err, err
        rm(fw)
        dev.stop()
    finally:
        dev.cleanup()


def test_config_ports_and_choice(tmp_path):
    """The web port a config implies, without a device: 8080 for host:
    without port:, 80 for a chip, the given port: otherwise (80 included);
    a config with both entries stays native unless asked."""
    d = str(tmp_path)
    fw = write_tmp(b"x" * 1000)
    try:
        def cfg(name, text):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write("esphome:\n  name: cfgtest\n" + text)
            return p
        cases = [
            (cfg("host.yaml", "host:\n" + OTA_WEB), 8080),
            (cfg("host80.yaml", "host:\n" + OTA_WEB + "web_server:\n  port: 80\n"), 80),
            (cfg("hostblock.yaml", "host:\n" + OTA_WEB + "web_server:\n"), 8080),
            (cfg("chip.yaml", "esp32:\n  board: esp32dev\n" + OTA_WEB), 80),
            (cfg("chip81.yaml", "esp8266:\n  board: d1_mini\n" + OTA_WEB + "web_server:\n  port: 81\n"), 81),
        ]
        for path, want in cases:
            rc, out, err, js = eota_upload(path, "--file", fw, "--device", "192.0.2.1", "--json",
                                           "--retries", "0", "--handshake-timeout", "0.3")
            assert rc == 1 and js[0]["port"] == want and js[0]["ota_platform"] == "web_server", (path, js, err)
            # --web-port and HOST:PORT win over the config
            rc, out, err, js = eota_upload(path, "--file", fw, "--device", "192.0.2.1", "--json",
                                           "--retries", "0", "--handshake-timeout", "0.3", "--web-port", "8123")
            assert js[0]["port"] == 8123, js
        # both entries: native unless --ota-platform web_server
        both = cfg("both.yaml", "host:\nota:\n  - platform: esphome\n    port: 3999\n  - platform: web_server\n")
        rc, out, err, js = eota_upload(both, "--file", fw, "--device", "127.0.0.1", "--json", "--retries", "0")
        assert js[0]["ota_platform"] == "esphome" and js[0]["port"] == 3999, js
        rc, out, err, js = eota_upload(both, "--file", fw, "--device", "127.0.0.1", "--json", "--retries", "0",
                                       "--ota-platform", "web_server", "--web-port", str(free_port()))
        assert js[0]["ota_platform"] == "web_server" and js[0]["error"] == "refused", js
        # native only: asking for the web upload is a usage error
        native = cfg("native.yaml", "host:\nota:\n  - platform: esphome\n")
        rc, out, err, js = eota_upload(native, "--file", fw, "--device", "127.0.0.1", "--ota-platform",
                                       "web_server")
        assert rc == 2 and "platform: web_server" in err, err
    finally:
        rm(fw)


# ---------------------------------------------------------------- a fleet

def test_fleet_concurrent():
    """Five web devices whose emulated flash takes ~2 s per image, one of
    them with digest auth, plus one dead address: one run, all at once."""
    n = 5
    devs = []
    try:
        for i in range(n):
            auth = DIGEST if i == 2 else BASIC
            devs.append(WebDevice(OTA_WEB + auth + SLOW % "250KB/s", app=False))
        dead = free_port()
        img = os.urandom(500000)
        fw = write_tmp(img)
        lst = write_tmp("".join("%s\n" % d.spec() for d in devs) + "127.0.0.1:%d\n" % dead, ".txt")
        t0 = time.monotonic()
        rc, out, err, _ = eota_upload(fw, "--devices-from", lst, "--ota-platform", "web_server", *CREDS,
                                      "--retries", "0", "--jobs", str(n + 1))
        took = time.monotonic() - t0
        assert rc == 1, (out, err)
        assert "DEVICE" in out and out.count(" ok ") == n and "1 of %d devices failed." % (n + 1) in out, out
        assert "connection refused" in out, out
        for d in devs:
            wait_active(d, img)
        single = 500000 / 250000.0
        print("  %d web devices at ~%.0f s each: %.1f s in all" % (n, single, took))
        assert took < single * n / 2, "the uploads did not run concurrently (%.1f s)" % took
        # --json: one object each; exit 0 when all are reachable
        lst2 = write_tmp("".join("%s\n" % d.spec() for d in devs), ".txt")
        img2 = os.urandom(300000)
        fw2 = write_tmp(img2)
        t0 = time.monotonic()
        rc, out, err, js = eota_upload(fw2, "--devices-from", lst2, "--ota-platform", "web_server", *CREDS,
                                       "--json", "--jobs", "2")
        took2 = time.monotonic() - t0
        assert rc == 0 and len(js) == n and all(j["result"] == "ok" for j in js), (out, err)
        assert sorted(j["port"] for j in js) == sorted(d.web_port for d in devs), js
        assert {j["auth"] for j in js} == {"basic", "digest"}, js
        # --jobs 2: three rounds of ~1.2 s
        assert took2 > 2 * 300000 / 250000.0, "--jobs 2 was not honoured (%.1f s)" % took2
        for d in devs:
            wait_active(d, img2)
        for p in (fw, fw2, lst, lst2):
            rm(p)
        for d in devs:
            d.stop()
    finally:
        for d in devs:
            d.cleanup()


# ---------------------------------------------------------------- the device says no

@pytest.mark.device(OTA_WEB + "web_server:\n" + SLOW % "300KB/s")
def test_busy_409(dev):
    first = app_image("v1", 900000)
    path = os.path.join(dev.dir, "first.bin")
    with open(path, "wb") as f:
        f.write(first)
    bg = curl_bg(dev.url("/update"), data_file=path)
    dev.wait_log(r"Starting update")
    t0 = time.monotonic()
    j, err = upload_fail(dev.spec(), app_image("v2", 600000))
    took = time.monotonic() - t0
    assert j["error"] == "http_status" and j["http_status"] == 409, j
    assert "busy" in j["message"] and "in progress (web)" in j["message"], j
    assert j["attempts"] == 1 and took < 3.0, (j, took)
    status, _, body = bg.result()
    assert status == 200, (status, body)
    assert dev.running_version(expect="v1") == "v1" and dev.active_image(expect=first) == first


@pytest.mark.device(OTA_BOTH + "web_server:\n" + SLOW % "300KB/s")
def test_busy_native_409(dev):
    img = random_app("v1", 900000)
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("res", stock.upload(
        "127.0.0.1", dev.port, img, handshake_timeout=10, data_timeout=30)))
    t.start()
    dev.wait_log(r"Starting update")
    j, _ = upload_fail(dev.spec(), app_image("v2", 5000))
    assert j["http_status"] == 409 and "native OTA" in j["message"], j
    t.join(60)
    assert out["res"]["result"] == "ok", out
    wait_active(dev, img)


@pytest.mark.device(OTA_WEB + "web_server:\n", platform="esp32:\n  board: esp32dev")
def test_too_big_413(dev):
    big = os.urandom(0x1C0000 + 100000)
    t0 = time.monotonic()
    j, _ = upload_fail(dev.spec(), big)
    assert j["http_status"] == 413 and "too big" in j["message"] and "larger than the slot" in j["message"], j
    # refused from the headers: the body did not go out (Expect: 100-continue)
    assert j["bytes_sent"] < len(big) // 2 and time.monotonic() - t0 < 10, j
    assert dev.active_image() is None and not dev.parts()


@pytest.mark.device(OTA_WEB + "web_server:\n" + "simulate:\n  slot_size: 100000\n", app=False)
def test_too_big_while_streaming_413(dev):
    j, _ = upload_fail(dev.spec(), os.urandom(150000))
    assert j["http_status"] == 413 and "larger than the slot" in j["message"], j
    assert dev.active_image() is None and not dev.parts()


@pytest.mark.device(OTA_WEB + "web_server:\n" + "simulate:\n  fail_at: write\n  fail_after_bytes: 20000\n")
def test_write_failure_500(dev):
    j, _ = upload_fail(dev.spec(), app_image("v1", 80000))
    assert j["http_status"] == 500 and "could not write or verify" in j["message"], j
    assert "ERROR_WRITING_FLASH" in j["message"] and "old image is kept" in j["message"], j
    assert dev.active_image() is None


def test_not_enabled_404():
    dev = WebDevice("ota:\n  - platform: esphome\nweb_server:\n")
    try:
        j, _ = upload_fail(dev.spec(), app_image("v1", 5000))
        assert j["http_status"] == 404 and "platform: web_server" in j["message"], j
        dev.stop()
    finally:
        dev.cleanup()


# ---------------------------------------------------------------- scripted peers

def test_stock_200_failure():
    """A stock device answers 200 to a failed update; its body tells."""
    s = Stub("answer", 200, b"Update Failed! Error[8]: Magic byte is wrong, not 0xE9")
    try:
        img = os.urandom(70000)
        j, err = upload_fail(s.spec(), img, name="firmware.bin")
        assert j["error"] == "http_status" and j["http_status"] == 200, j
        assert 'without "Update Successful!"' in j["message"] and "Magic byte is wrong" in j["message"], j
        assert j["reply"] == "Update Failed! Error[8]: Magic byte is wrong, not 0xE9", j
        # the request was a stock-shaped multipart form: field update, the file's name, the bytes as they are
        head, body = s.requests[-1]
        assert head.startswith("POST /update HTTP/1.1"), head
        m = re.search(r"(?im)^content-type:\s*multipart/form-data;\s*boundary=(\S+)", head)
        assert m, head
        assert b'Content-Disposition: form-data; name="update"; filename="firmware.bin"' in body, body[:300]
        start = body.index(b"\r\n\r\n") + 4
        end = body.index(b"\r\n--" + m.group(1).encode() + b"--")
        assert body[start:end] == img, "the image in the form is not the file"
        assert re.search(r"(?im)^content-length:\s*%d" % len(body), head), "no exact Content-Length"
    finally:
        s.close()
    # a stock success is a success
    s = Stub("answer", 200, b"Update Successful!")
    try:
        rc, out, err, js = web_upload(s.spec(), os.urandom(1000))
        assert rc == 0 and js[0]["result"] == "ok", (out, err)
    finally:
        s.close()


OTHER_STATUSES = [(400, b"Update Failed! malformed multipart body", "malformed"),
                  (503, b"Service Unavailable", "HTTP 503"),
                  (200, b"", "empty body")]


@pytest.mark.parametrize("status, body, words", OTHER_STATUSES, ids=["400", "503", "200-empty"])
def test_other_statuses(status, body, words):
    s = Stub("answer", status, body)
    try:
        j, _ = upload_fail(s.spec(), os.urandom(5000))
        assert j["http_status"] == status and words in j["message"], j
        assert j["attempts"] == 1 and s.conns == 1, "an HTTP answer was retried"
    finally:
        s.close()


def test_close_mid_upload():
    """The peer reads 64 KiB of an 8 MiB body and closes: named as a close
    during the upload, with what was sent; retried like a native close
    (never once the whole image was sent)."""
    img = os.urandom(8 << 20)
    for rst in (False, True):
        s = Stub("close", after=65536, rst=rst)
        try:
            j, err = upload_fail(s.spec(), img, "--retries", "0")
            assert j["error"] == "closed" and j["phase"] == "data", j
            assert "closed the connection during the upload, after" in j["message"], j
            assert j["http_status"] is None and not j["received_whole_image"], j
            assert 0 < j["bytes_sent"] < j["wire_size"], j
            assert j["attempts"] == 1 and s.conns == 1, j
        finally:
            s.close()
    s = Stub("close", after=65536)
    try:
        j, err = upload_fail(s.spec(), img, "--retries", "2", "--retry-delay", "0.1")
        assert j["attempts"] == 3 and s.conns == 3 and "after 3 attempts" in j["message"], (j, s.conns)
        assert "retrying" in err, err
    finally:
        s.close()


def test_real_device_stops_mid_upload():
    dev = WebDevice(OTA_WEB + "web_server:\n" + SLOW % "200KB/s", app=False)
    try:
        fw = write_tmp(os.urandom(3000000))
        out = {}

        def run():
            out["r"] = eota_upload(fw, "--device", dev.spec(), "--ota-platform", "web_server", "--json",
                                   "--retries", "0")
        t = threading.Thread(target=run)
        t.start()
        dev.wait_log(r"Starting update")
        time.sleep(0.5)
        dev.stop()
        t.join(60)
        rc, o, err, js = out["r"]
        assert rc == 1 and js[0]["error"] in ("closed", "network_error"), js
        assert "closed the connection" in js[0]["message"] or "network error" in js[0]["message"], js
        assert dev.active_image() is None and not dev.parts()
        rm(fw)
    finally:
        dev.cleanup()


def test_timeouts_and_refused():
    s = Stub("silent")
    try:
        t0 = time.monotonic()
        j, _ = upload_fail(s.spec(), os.urandom(20000), "--data-timeout", "1", "--retries", "0")
        took = time.monotonic() - t0
        assert j["error"] == "timeout" and "timed out waiting for the device's answer" in j["message"], j
        assert j["phase"] == "reply" and "not retried" in j["message"], j
        assert took < 8, took
    finally:
        s.close()
    s = Stub("deaf")
    try:
        t0 = time.monotonic()
        j, _ = upload_fail(s.spec(), os.urandom(16 << 20), "--data-timeout", "1", "--retries", "0")
        assert time.monotonic() - t0 < 8, "the silence was not noticed in time"
        assert j["error"] == "timeout" and "timed out sending the image" in j["message"], j
        assert j["phase"] == "data" and 0 < j["bytes_sent"] < j["wire_size"], j
    finally:
        s.close()
    # a listener whose backlog is full drops the SYN: a connect timeout
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(lsock.getsockname())
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    try:
        t0 = time.monotonic()
        j, _ = upload_fail("127.0.0.1:%d" % lsock.getsockname()[1], os.urandom(2000), "--handshake-timeout", "1",
                           "--retries", "0")
        assert j["error"] == "timeout" and j["phase"] == "connect", j
        assert "timed out connecting to" in j["message"] and time.monotonic() - t0 < 5, j
    finally:
        for c in fillers:
            c.close()
        lsock.close()
    port = free_port()
    t0 = time.monotonic()
    j, err = upload_fail("127.0.0.1:%d" % port, os.urandom(2000), "--retry-delay", "0.1")
    assert j["error"] == "refused" and "connection refused" in j["message"], j
    assert "web server port" in j["message"] and j["attempts"] == 3 and j["phase"] == "connect", j
    assert j["auth"] is None and j["http_status"] is None and j["bytes_sent"] == 0, j
    # a native OTA port is not a web server
    dev = Device("ota:\n  - platform: esphome\n", app=False)
    try:
        j, _ = upload_fail("127.0.0.1:%d" % dev.port, os.urandom(2000), "--retries", "0",
                           "--data-timeout", "3")
        assert "web server port" in j["message"] or "not HTTP" in j["message"], j
        dev.stop()
    finally:
        dev.cleanup()


# ---------------------------------------------------------------- output

@pytest.mark.device(OTA_BOTH + DIGEST)
def test_json_fields(dev):
    img = app_image("v1", 100000)
    j, _ = upload_ok(dev, img, *CREDS, version="v1")
    assert NATIVE_KEYS <= set(j), NATIVE_KEYS - set(j)
    assert set(j) - NATIVE_KEYS == {"http_status", "reply"}, set(j) - NATIVE_KEYS
    assert isinstance(j["seconds"], float) and j["seconds"] >= 0, j
    assert j["device"] == dev.spec() and j["message"].startswith("installed"), j
    # a native upload of the same device has the same fields but these two
    fw = write_tmp(app_image("v2", 1000))
    rc, out, err, js = eota_upload(fw, "--device", "127.0.0.1:%d" % dev.port, "--json")
    rm(fw)
    assert rc == 0 and set(js[0]) == NATIVE_KEYS and js[0]["ota_platform"] == "esphome", js
    # a failure
    j, _ = upload_fail(dev.spec(), img, "--web-username", "admin", "--web-password", "x")
    assert j["error"] == "http_status" and j["error_code"] is None and j["phase"] in ("request", "data", "reply"), j
    assert set(j) == NATIVE_KEYS | {"http_status", "reply"}, j


@pytest.mark.device(OTA_WEB + "web_server:\n" + SLOW % "400KB/s", app=False)
def test_progress_and_quiet(dev):
    img = os.urandom(1600000)
    fw = write_tmp(img)
    try:
        rc, out, err, _ = eota_upload(fw, "--device", dev.spec(), "--ota-platform", "web_server")
        assert rc == 0, err
        # HTTP has no acknowledgements: the lines count what left for the
        # device, then say that the answer is awaited (the device writes slowly)
        spec = re.escape(dev.spec())
        lines = re.findall(r"(?m)^%s: (\d+%% \(.* of 1\.5 MiB, .*/s\)|1\.5 MiB sent, waiting for the device's answer)$"
                           % spec, err)
        assert lines, "no progress lines:\n" + err
        wait_active(dev, img)
        rc, out, err, _ = eota_upload(fw, "--device", dev.spec(), "--ota-platform", "web_server", "--quiet")
        assert rc == 0 and out == "" and err == "", (out, err)
        rc, out, err, _ = eota_upload(fw, "--device", "127.0.0.1:%d" % free_port(), "--ota-platform",
                                      "web_server", "--quiet", "--retries", "0")
        assert rc == 1 and out == "" and len(err.strip().splitlines()) == 1 and "refused" in err, (out, err)
    finally:
        rm(fw)


@pytest.mark.device(OTA_WEB + "web_server:\n", app=False, platform="host:\n  gzip: true\n")
def test_gzip_always(dev):
    img = app_image("v1", 600000)
    fw = write_tmp(img)
    try:
        rc, out, err, js = eota_upload(fw, "--device", dev.spec(), "--ota-platform", "web_server", "--json",
                                       "--compress", "always")
    finally:
        rm(fw)
    assert rc == 0 and js[0]["compressed"] is True, (out, err)
    assert js[0]["wire_size"] < len(img) // 2, js
    wait_active(dev, img)  # inflated by the device


def test_uploader_memory_flat():
    """Peak anonymous memory of eota upload while 4 MiB and 64 MiB go to a
    device, over HTTP and over native OTA: the image is mapped and streamed
    a libcurl buffer at a time, never copied, so the web upload grows no
    more than the native one (in an ASan build both grow by the shadow of
    the mapping, about 1/8 of it; without ASan neither grows)."""
    dev = WebDevice(OTA_BOTH + "web_server:\n", app=False)
    try:
        figures = {}
        for plat in ("web_server", "esphome"):
            for mib in (4, 64):
                path = os.path.join(dev.dir, "img%d.bin" % mib)
                with open(path, "wb") as f:
                    for _ in range(mib):
                        f.write(os.urandom(1 << 20))
                spec = dev.spec() if plat == "web_server" else "127.0.0.1:%d" % dev.port
                p = subprocess.Popen([eota_bin(), "upload", path, "--device", spec, "--ota-platform", plat,
                                      "--quiet", "--compress", "never"])
                peak = 0
                while p.poll() is None:
                    try:
                        with open("/proc/%d/status" % p.pid) as f:
                            for line in f:
                                if line.startswith("RssAnon:"):
                                    peak = max(peak, int(line.split()[1]))
                    except OSError:
                        pass
                    time.sleep(0.01)
                assert p.returncode == 0, plat
                with open(path, "rb") as f:
                    wait_active(dev, f.read())
                os.unlink(path)
                figures[(plat, mib)] = peak
                print("  eota upload --ota-platform %-10s %2d MiB: peak RssAnon %6d KiB" % (plat, mib, peak))
        web = figures[("web_server", 64)] - figures[("web_server", 4)]
        native = figures[("esphome", 64)] - figures[("esphome", 4)]
        print("  growth from 4 MiB to 64 MiB: web %d KiB, native %d KiB" % (web, native))
        assert web < native + 4096, "the web upload holds more of the image than the native one: %r" % figures
        assert figures[("web_server", 64)] < figures[("esphome", 64)] + 6144, figures
        dev.stop()
    finally:
        dev.cleanup()


def test_help_and_usage():
    rc, out, err, _ = eota_upload("--help")
    assert rc == 0
    for word in ("--ota-platform", "web_server", "--web-port", "--web-username", "--web-password", "--web-auth",
                 "EOTA_WEB_PASSWORD", "Update Successful!", "http_status", "--ota-platform web_server"):
        assert word in out, word
    assert re.search(r"(?m)^  eota upload .*--ota-platform web_server", out), "no web example"
    fw = write_tmp(b"abc")
    try:
        for args in ((fw, "-d", "h", "--ota-platform", "http"),
                     (fw, "-d", "h", "--web-username", "admin"),  # without --ota-platform web_server
                     (fw, "-d", "h", "--ota-platform", "web_server", "--web-auth", "ntlm"),
                     (fw, "-d", "h", "--ota-platform", "web_server", "--web-port", "0"),
                     (fw, "-d", "h", "--ota-platform", "web_server", "--web-username", "admin"),  # no password
                     (fw, "-d", "h", "--ota-platform", "web_server", "--web-password", "x"),  # no user
                     (fw, "-d", "h", "--ota-platform", "web_server", "--ota-type", "bootloader")):
            rc, out, err, _ = eota_upload(*args)
            assert rc == 2 and err.strip(), (args, rc, err)
    finally:
        rm(fw)


# ---------------------------------------------------------------- the README walkthrough

def test_recovery_walkthrough():
    """README, "Lost the OTA password?", with eota upload for the web step:
    the native password is lost; the recovery image goes over the web server
    with its own credentials (from the device's config and secrets.yaml),
    sets a new OTA password and makes eota device reread it; the real
    firmware then goes over native OTA with the new password."""
    body = (OTA_BOTH.replace("  - platform: esphome\n", "  - platform: esphome\n    password: !secret ota_password\n")
            + "web_server:\n  auth:\n    username: !secret web_username\n    password: !secret web_password\n")
    secrets = "ota_password: 'nobody-remembers-this'\nweb_username: admin\nweb_password: 'web-secret'\n"
    dev = WebDevice(body, secrets=secrets, name="lost-device")
    try:
        secrets_path = os.path.join(dev.dir, "secrets.yaml")
        res = stock.upload("127.0.0.1", dev.port, app_image("v1", 20000), password="nobody-remembers-this",
                           handshake_timeout=10, data_timeout=30)
        assert res["result"] == "ok", res
        assert dev.running_version(expect="v1") == "v1"
        fw = os.path.join(dev.dir, "firmware.bin")
        with open(fw, "wb") as f:
            f.write(app_image("v2", 30000))
        # 1. eota upload firmware.bin --device 127.0.0.1:8082 --password 'a-guess'
        rc, out, err, _ = eota_upload(fw, "--device", "127.0.0.1:%d" % dev.port, "--password", "a-guess")
        assert rc == 1 and "ERROR_AUTH_INVALID" in err, err
        # 2. eota upload device.yaml --file recovery.sh --ota-platform web_server --device 127.0.0.1
        #    (the README's port is the host default, 8080; here the test's free port)
        recovery = os.path.join(dev.dir, "recovery.sh")
        with open(recovery, "w") as f:
            f.write("#!/bin/sh\n"
                    "sed -i \"s/^ota_password:.*/ota_password: 'a-new-password'/\" '%s'\n"
                    "kill -HUP \"$PPID\"\n"
                    "echo recovery > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n"
                    "trap 'exit 0' TERM\n"
                    "while :; do sleep 1; done\n" % secrets_path)
        rc, out, err, _ = eota_upload(dev.config, "--file", recovery, "--ota-platform", "web_server",
                                      "--device", "127.0.0.1", "--web-port", str(dev.web_port))
        assert rc == 0 and "Update Successful!" in err, (out, err)
        assert dev.running_version(expect="recovery") == "recovery", dev.log()[-2000:]
        dev.wait_log(r"Reloaded .*password set")
        # 3. eota upload firmware.bin --device 127.0.0.1:8082 --password 'a-new-password'
        rc, out, err, _ = eota_upload(fw, "--device", "127.0.0.1:%d" % dev.port, "--password", "a-new-password")
        assert rc == 0, err
        assert dev.running_version(expect="v2") == "v2"
        for secret in ("nobody-remembers-this", "a-new-password", "web-secret"):
            assert secret not in dev.log(), "a password leaked into the log"
        dev.stop()
    finally:
        dev.cleanup()

