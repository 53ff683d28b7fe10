"""`eota upload` against version-2 devices that skip or reorder their
acknowledgements (issue 18): the uploader believes only what it saw. A `44`
counts only after every `47` the image size calls for; a device that never
reads the image, skips a `47`, sends `44` before the last `47`, `45` without
`44`, or `44 45` right after `43` makes the upload fail (exit 1), with a
sentence saying what arrived, never "installed". The devices are
quirky_device.py --acks MODE, one process per case, on loopback.
"""

import json
import os
import select
import subprocess
import sys
import tempfile
import time

import pytest

from devicelib import eota_bin

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE = os.path.join(HERE, "quirky_device.py")


class Quirky:
    """quirky_device.py on a free loopback port, one session."""

    def __init__(self, *args):
        cmd = [sys.executable, DEVICE, "--port", "0", "--json", "--count", "1"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 10
        line = ""
        while time.monotonic() < end and "listening on" not in line:
            r, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if r:
                line = self.proc.stderr.readline()
                if not line:
                    break
        assert "listening on" in line, line
        self.port = int(line.rsplit(":", 1)[1])

    def session(self):
        out, _ = self.proc.communicate(timeout=20)
        return [json.loads(l) for l in out.splitlines() if l.startswith("{")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def image():
    fd, path = tempfile.mkstemp(prefix="eota-acks-", suffix=".bin")
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(20000))  # three blocks: 8192 + 8192 + 3616
    yield path
    os.unlink(path)


def upload(dev, img):
    cmd = [eota_bin(), "upload", img, "--device", "127.0.0.1:%d" % dev.port, "--json", "--retries", "0",
           "--data-timeout", "5"]
    env = dict(os.environ)
    env.pop("EOTA_PASSWORD", None)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    js = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert len(js) == 1, (p.stdout, p.stderr)
    return p.returncode, js[0], p.stderr


# mode: (the byte that ends the upload, words of the sentence)
CASES = {
    "none": (0x44, "after 0 of the 3 block acknowledgements (0x47)"),
    "skip-last": (0x44, "after 2 of the 3 block acknowledgements (0x47)"),
    "late-last": (0x44, "after 2 of the 3 block acknowledgements (0x47)"),
    "no-receive": (0x45, "0x45 UPDATE_END_OK (installed) without 0x44 before it"),
    "unread": (0x44, "0x44 RECEIVE_OK (the whole image received) after 0 of the 3"),
    "at-once": (0x44, "0x44 RECEIVE_OK"),
}


@pytest.mark.parametrize("mode", sorted(CASES))
def test_device_that_skips_or_reorders_acks(mode, image):
    code, words = CASES[mode]
    dev = Quirky("--acks", mode)
    try:
        rc, j, err = upload(dev, image)
        assert rc == 1, (rc, j, err)
        assert j["result"] == "failed" and j["error"] == "protocol_error", j
        assert j["error_code"] == code, j
        assert not j["received_whole_image"], j
        assert words in j["message"], j["message"]
        assert "nothing counts as installed" in j["message"], j["message"]
        assert "installed:" not in err and "FAILED" in err, err
        # a protocol error is the device's doing: never retried
        assert j["attempts"] == 1, j
    finally:
        dev.close()


def test_unread_device_under_sanitizer_timing(image):
    """The pause between 43 and 44 45 decides nothing: with no pause, a long
    one, and one longer than a block takes, the upload fails the same."""
    for wait in ("0", "0.05", "1.0"):
        dev = Quirky("--acks", "unread", "--unread-wait", wait)
        try:
            rc, j, _ = upload(dev, image)
            assert rc == 1 and j["error"] == "protocol_error" and j["error_code"] == 0x44, (wait, j)
        finally:
            dev.close()


def test_normal_device_still_succeeds(image):
    """The same device, acknowledging as it should: installed."""
    dev = Quirky("--acks", "normal")
    try:
        rc, j, err = upload(dev, image)
        assert rc == 0 and j["result"] == "ok", (j, err)
        s = dev.session()
        assert s and s[0]["result"] == "ok" and s[0]["acks"] == 3, s
    finally:
        dev.close()
