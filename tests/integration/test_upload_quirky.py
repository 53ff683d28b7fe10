"""`eota upload` against a scripted, quirky device (in this file, threads
over real loopback sockets): every response code at every stage, a stall at
every stage, a close without answer at every stage, odd bytes, unknown
versions, legacy devices (version 1, MD5 challenge, one-byte feature
replies, gzip by 46), reserved server flags, and the retry rules (network
errors only, never once the whole image was sent). Each case checks the exit
code, the JSON fields and the sentence on stderr.
"""

import concurrent.futures
import hashlib
import json
import os
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from devicelib import eota_bin

MAGIC = bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45])
BLOCK = 8192
STAGES = ("hello", "features", "challenge", "auth", "prepare", "md5", "data", "receive", "verify")
PHASE = {"hello": "hello", "features": "features", "challenge": "auth", "auth": "auth",
         "prepare": "prepare", "md5": "md5", "data": "data", "receive": "receive", "verify": "verify"}
WHERE = {
    "hello": "the handshake (waiting for the protocol version)",
    "features": "the handshake (waiting for the feature reply)",
    "auth": "authentication",
    "prepare": "preparation (waiting for the device to accept the image size)",
    "md5": "preparation (waiting for the device to take the image's MD5)",
    "data": "the data transfer",
    "receive": "the end of the transfer (waiting for the device to confirm it has every byte)",
    "verify": "verification (waiting for the device to check and install the image)",
}
CODES = {
    0x80: ("ERROR_MAGIC", "not an OTA peer"),
    0x81: ("ERROR_UPDATE_PREPARE", "could not prepare its storage"),
    0x82: ("ERROR_AUTH_INVALID", "is the password right?"),
    0x83: ("ERROR_WRITING_FLASH", "failed to write the image"),
    0x84: ("ERROR_UPDATE_END", "failed to finish the update"),
    0x85: ("ERROR_INVALID_BOOTSTRAPPING", "serial-download boot mode"),
    0x86: ("ERROR_WRONG_CURRENT_FLASH_CONFIG", "wrong flash size"),
    0x87: ("ERROR_WRONG_NEW_FLASH_CONFIG", "more flash than the chip has"),
    0x88: ("ERROR_ESP8266_NOT_ENOUGH_SPACE", "not enough space on the ESP8266"),
    0x89: ("ERROR_ESP32_NOT_ENOUGH_SPACE", "OTA partition is too small"),
    0x8A: ("ERROR_NO_UPDATE_PARTITION", "has no OTA partition"),
    0x8B: ("ERROR_MD5_MISMATCH", "MD5 mismatch"),
    0x8C: ("ERROR_RP2040_NOT_ENOUGH_SPACE", "RP2040"),
    0x8D: ("ERROR_SIGNATURE_INVALID", "not signed with a key"),
    0x8E: ("ERROR_UNSUPPORTED_OTA_TYPE", "cannot take this kind of image"),
    0x8F: ("ERROR_PARTITION_TABLE_VERIFY", "partition table did not verify"),
    0x90: ("ERROR_PARTITION_TABLE_UPDATE", "writing the partition table failed"),
    0x91: ("ERROR_BOOTLOADER_VERIFY", "bootloader did not verify"),
    0x92: ("ERROR_BOOTLOADER_UPDATE", "writing the bootloader failed"),
    0x93: ("ERROR_VERSION_DOWNGRADE", "refuses downgrades"),
    0x94: ("ERROR_ENCRYPTION_REQUIRED", "encrypted uploads only"),
    0xFF: ("ERROR_UNKNOWN", "unspecified error"),
    0xA5: ("UNKNOWN_0xA5", "does not know"),
}


class Done(Exception):
    pass


class Scripted:
    """A device on a loopback port. `plan` says how every connection goes;
    `plans` (a list) overrides it for the first connections, in order."""

    def __init__(self, **plan):
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.plan = dict(version=2, reply="ext", flags=0, gzip=False, auth=None, password="pw",
                         at=None, act=None, code=0, bytes=b"")
        self.plan.update(plan)
        self.plans = []
        self.sessions = []
        self.lock = threading.Lock()
        self.stop = False
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def close(self):
        self.stop = True
        try:
            self.ls.close()
        except OSError:
            pass

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                plan = self.plans.pop(0) if self.plans else self.plan
                rec = {"stage": None, "got": 0, "md5_ok": None, "final": None, "gzip": False}
                self.sessions.append(rec)
            threading.Thread(target=self._serve, args=(c, dict(plan), rec), daemon=True).start()

    # ---------------------------------------------------------------- a session
    def _serve(self, c, plan, rec):
        c.settimeout(30)
        try:
            self._session(c, plan, rec)
        except (Done, OSError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    @staticmethod
    def _exact(c, n):
        b = bytearray()
        while len(b) < n:
            x = c.recv(n - len(b))
            if not x:
                raise Done()
            b += x
        return bytes(b)

    @staticmethod
    def _drain(c, limit):
        end = time.monotonic() + limit
        c.settimeout(0.2)
        while time.monotonic() < end:
            try:
                if not c.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def _act(self, c, plan, rec, stage):
        rec["stage"] = stage
        if plan["at"] != stage:
            return
        a = plan["act"]
        if a == "code":
            c.sendall(bytes([plan["code"]]))
            # linger as devices do, so the byte is not lost to a reset
            self._drain(c, 1.0)
            raise Done()
        if a == "code-rst":
            c.sendall(bytes([plan["code"]]))
            raise Done()
        if a == "close":
            raise Done()
        if a == "stall":
            self._drain(c, 60)
            raise Done()
        if a == "bytes":
            c.sendall(plan["bytes"])
            if plan.get("then_close"):
                self._drain(c, 1.0)
                raise Done()

    def _session(self, c, plan, rec):
        assert self._exact(c, 5) == MAGIC
        self._act(c, plan, rec, "hello")
        c.sendall(bytes([0x00, plan["version"]]))
        feat = self._exact(c, 1)[0]
        rec["features"] = feat
        self._act(c, plan, rec, "features")
        gz = plan["gzip"] and (feat & 1)
        ext = plan["reply"] == "ext" and (feat & 4)
        if ext:
            c.sendall(bytes([0x48, plan["flags"] | (1 if gz else 0)]))
        else:
            c.sendall(bytes([0x46 if gz else 0x40]))
        if plan["auth"]:
            self._act(c, plan, rec, "challenge")
            n = 64 if plan["auth"] == "sha256" else 32
            nonce = os.urandom(n // 2).hex()
            c.sendall(bytes([0x02 if n == 64 else 0x01]) + nonce.encode())
            got = self._exact(c, 2 * n)
            cn, resp = got[:n], got[n:]
            h = hashlib.sha256 if n == 64 else hashlib.md5
            want = h(plan["password"].encode() + nonce.encode() + cn).hexdigest().encode()
            if resp.lower() != want:
                c.sendall(b"\x82")
                self._drain(c, 1.0)
                raise Done()
        self._act(c, plan, rec, "auth")
        c.sendall(b"\x41")
        if ext:
            rec["type"] = self._exact(c, 1)[0]
        size = int.from_bytes(self._exact(c, 4), "big")
        rec["size"] = size
        self._act(c, plan, rec, "prepare")
        c.sendall(b"\x42")
        md5 = self._exact(c, 32).decode()
        self._act(c, plan, rec, "md5")
        c.sendall(b"\x43")
        h = hashlib.md5()
        got = acked = 0
        first = True
        while got < size:
            b = c.recv(min(65536, size - got))
            if not b:
                raise Done()
            h.update(b)
            got += len(b)
            rec["got"] = got
            if first and (got >= BLOCK or got == size):
                first = False
                self._act(c, plan, rec, "data")
            if plan["version"] >= 2:
                while acked + BLOCK <= got or (got == size and acked < size):
                    c.sendall(b"\x47")
                    acked = size if size - acked < BLOCK else acked + BLOCK
        rec["md5_ok"] = h.hexdigest() == md5
        self._act(c, plan, rec, "receive")
        c.sendall(b"\x44")
        self._act(c, plan, rec, "verify")
        c.sendall(b"\x45" if rec["md5_ok"] else b"\x8b")
        c.settimeout(1.0)
        try:
            rec["final"] = c.recv(1)
        except socket.timeout:
            rec["final"] = None


def upload(dev, img_path, *args, timeout=60):
    cmd = [eota_bin(), "upload", img_path, "--device", "127.0.0.1:%d" % dev.port, "--json"] + list(args)
    env = dict(os.environ)
    env.pop("EOTA_PASSWORD", None)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    js = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert len(js) == 1, (p.stdout, p.stderr)
    return p.returncode, js[0], p.stderr


IMG = None
IMG_LOCK = threading.Lock()  # the first callers are parallel() threads


def image():
    global IMG
    with IMG_LOCK:
        if IMG is None:
            fd, path = tempfile.mkstemp(prefix="eota-quirky-", suffix=".bin")
            with os.fdopen(fd, "wb") as f:
                # larger than the default window (32 x 8 KiB), so that a device can
                # answer in the data phase before the whole image is sent
                f.write(os.urandom(600000))
            IMG = path
    return IMG


@pytest.fixture(scope="module", autouse=True)
def remove_image():
    """The image is made once, by the first test that needs it, and removed
    after the last test of this file."""
    yield
    if IMG:
        os.unlink(IMG)


def parallel(cases, fn, workers=8):
    """Run fn(case) for every case on a few threads; raise the first
    failure with its case."""
    errors = []
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        futs = {ex.submit(fn, c): c for c in cases}
        for f in concurrent.futures.as_completed(futs):
            try:
                f.result()
            except Exception as e:  # noqa: BLE001
                errors.append("%r: %s" % (futs[f], e))
    if errors:
        raise AssertionError("%d of %d cases failed; first: %s" % (len(errors), len(cases), errors[0]))


# ---------------------------------------------------------------- the matrices

def one_code(case):
    stage, code = case
    dev = Scripted(auth="sha256", at=stage, act="code", code=code)
    try:
        rc, j, err = upload(dev, image(), "-P", "pw", "--retries", "2", "--retry-delay", "0.05")
        name, words = CODES[code]
        assert rc == 1, (rc, err)
        assert j["result"] == "failed" and j["error"] == "device_error", j
        assert j["error_code"] == code and j["error_name"] == name, j
        assert j["phase"] == PHASE[stage], j
        shown = name if code != 0xA5 else "(unknown code)"
        assert "answered 0x%02X %s during %s" % (code, shown, WHERE[PHASE[stage]]) in err, err
        assert words in err, err
        # a device's verdict is never retried
        assert len(dev.sessions) == 1 and j["attempts"] == 1, (len(dev.sessions), j)
        assert j["received_whole_image"] == (stage == "verify"), j
    finally:
        dev.close()


def test_every_code_at_every_stage():
    parallel([(s, c) for s in STAGES for c in CODES], one_code)


def one_close(stage):
    dev = Scripted(auth="sha256", at=stage, act="close")
    try:
        rc, j, err = upload(dev, image(), "-P", "pw", "--retries", "1", "--retry-delay", "0.05")
        assert rc == 1, err
        assert j["error"] == "closed" and j["phase"] == PHASE[stage], j
        assert "closed the connection without answering during %s" % WHERE[PHASE[stage]] in err, err
        whole = stage in ("receive", "verify")
        if whole:
            # the device may have the whole image: never retried
            assert len(dev.sessions) == 1 and j["attempts"] == 1, j
            assert "so it was not retried" in err, err
        else:
            assert len(dev.sessions) == 2 and j["attempts"] == 2, (len(dev.sessions), j)
            assert "retrying in" in err, err
    finally:
        dev.close()


def test_close_at_every_stage():
    parallel(STAGES, one_close)


def one_stall(stage):
    dev = Scripted(auth="sha256", at=stage, act="stall")
    try:
        t0 = time.monotonic()
        rc, j, err = upload(dev, image(), "-P", "pw", "--retries", "0", "--handshake-timeout", "0.6",
                            "--data-timeout", "1")
        took = time.monotonic() - t0
        assert rc == 1, err
        assert j["error"] == "timeout" and j["phase"] == PHASE[stage], j
        assert "timed out during %s" % WHERE[PHASE[stage]] in err, err
        assert took < 10, took
        if stage in ("receive", "verify"):
            assert "so it was not retried" in err, err
    finally:
        dev.close()


def test_stall_at_every_stage():
    parallel(STAGES, one_stall)


def test_version_1_stages():
    """A version-1 device sends no 47: the same matrix where it applies."""
    def case(c):
        stage, act = c
        dev = Scripted(version=1, auth="sha256", at=stage, act=act, code=0x83)
        try:
            rc, j, err = upload(dev, image(), "-P", "pw", "--retries", "0", "--handshake-timeout", "0.6",
                                "--data-timeout", "1")
            assert rc == 1, err
            want = {"code": "device_error", "close": "closed", "stall": "timeout"}[act]
            assert j["error"] == want, j
            # everything may already sit in the socket buffers: data or receive
            ok_phases = ("data", "receive") if stage == "data" else (PHASE[stage],)
            assert j["phase"] in ok_phases, j
            assert j["protocol_version"] == (None if stage == "hello" else 1), j
        finally:
            dev.close()
    parallel([(s, a) for s in STAGES for a in ("code", "close", "stall")], case)


# ---------------------------------------------------------------- odd devices

@pytest.mark.parametrize("v", (0, 3, 0x7F))
def test_unsupported_versions(v):
    dev = Scripted(version=v)
    try:
        rc, j, err = upload(dev, image(), "--retry-delay", "0.05")
        assert rc == 1 and j["error"] == "unsupported_version" and j["error_code"] == v, j
        assert "speaks OTA protocol version %d" % v in err, err
        assert len(dev.sessions) == 1, "not a network error: no retry"
    finally:
        dev.close()


UNEXPECTED = (("hello", b"\x01\x02", "hello", 0x01), ("features", b"\x41", "features", 0x41),
              ("challenge", b"\x03", "auth", 0x03), ("md5", b"\x43\x44", "data", 0x44))


@pytest.mark.parametrize("stage, b, phase, code", UNEXPECTED, ids=[c[0] for c in UNEXPECTED])
def test_unexpected_bytes(stage, b, phase, code):
    dev = Scripted(auth="sha256", at=stage, act="bytes", bytes=b)
    try:
        rc, j, err = upload(dev, image(), "-P", "pw", "--handshake-timeout", "1")
        assert rc == 1 and j["error"] == "protocol_error", (stage, j)
        assert j["error_code"] == code and j["phase"] == phase, (stage, j)
        assert "unexpected byte 0x%02X" % code in err, err
    finally:
        dev.close()


def test_legacy_md5_device():
    dev = Scripted(reply="plain", auth="md5", password="old")
    try:
        rc, j, err = upload(dev, image(), "-P", "old")
        assert rc == 0, err
        assert j["auth"] == "md5" and j["protocol_version"] == 2, j
        s = dev.sessions[0]
        assert s["md5_ok"] and s["final"] == b"\x00", s
        assert "type" not in s, "no OTA type byte without the extended protocol"
        assert s["features"] == 0x07 or s["features"] == 0x06, s
        rc, j, err = upload(dev, image(), "-P", "wrong")
        assert rc == 1 and j["error_code"] == 0x82 and j["auth"] == "md5", j
    finally:
        dev.close()


def test_version_1_device_ok():
    dev = Scripted(version=1, reply="plain")
    try:
        for w in ("1", "8"):
            rc, j, err = upload(dev, image(), "--window", w)
            assert rc == 0 and j["protocol_version"] == 1, (j, err)
        assert all(s["md5_ok"] for s in dev.sessions)
    finally:
        dev.close()


def test_gzip_by_one_byte_reply():
    fd, path = tempfile.mkstemp(suffix=".bin")
    data = b"".join(b"firmware line %06d\n" % i for i in range(30000))
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    dev = Scripted(reply="plain", gzip=True)
    try:
        rc, j, err = upload(dev, path)
        assert rc == 0, err
        assert j["compressed"] is True and j["bytes_sent"] < len(data) // 3, j
        s = dev.sessions[0]
        assert s["md5_ok"] and s["size"] == j["bytes_sent"], s
        assert s["features"] & 1, s
        # --compress never: bit 0x01 is not even offered
        rc, j, err = upload(dev, path, "--compress", "never")
        assert rc == 0 and not j["compressed"], j
        assert not (dev.sessions[1]["features"] & 1), dev.sessions[1]
    finally:
        dev.close()
        os.unlink(path)


def test_reserved_and_noise_flags_ignored():
    dev = Scripted(flags=0x1E)
    try:
        rc, j, err = upload(dev, image())
        assert rc == 0 and j["server_flags"] == 0x1E, (j, err)
        s = dev.sessions[0]
        assert s["features"] & 0x38 == 0, "never Noise or the reserved bits: %r" % s
        assert s["type"] == 0, s
    finally:
        dev.close()


def test_retry_then_success():
    dev = Scripted()
    dev.plans = [dict(dev.plan, at="hello", act="close"), dict(dev.plan, at="features", act="close")]
    try:
        rc, j, err = upload(dev, image(), "--retry-delay", "0.1")
        assert rc == 0, err
        assert j["attempts"] == 3 and len(dev.sessions) == 3, j
        assert err.count("retrying in 0.1 s") == 2, err
    finally:
        dev.close()


def test_timeout_is_retried_before_the_data():
    dev = Scripted()
    dev.plans = [dict(dev.plan, at="prepare", act="stall")]
    try:
        rc, j, err = upload(dev, image(), "--retry-delay", "0.1", "--handshake-timeout", "0.5")
        assert rc == 0 and j["attempts"] == 2, (j, err)
        assert "timed out during preparation" in err, err
    finally:
        dev.close()


def test_error_byte_then_reset():
    """The device sends its code and closes at once while we still write:
    the reset must not hide the code."""
    def case(_):
        dev = Scripted(at="data", act="code-rst", code=0x83)
        try:
            rc, j, err = upload(dev, image(), "--window", "16", "--compress", "never")
            assert rc == 1 and j["error"] == "device_error" and j["error_code"] == 0x83, (j, err)
        finally:
            dev.close()
    parallel(list(range(10)), case, workers=5)

