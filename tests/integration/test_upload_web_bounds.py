"""A web upload (`eota upload --ota-platform web_server`) is bounded by more
than a silence timer (issue 18): HTTP peers on loopback that are never
silent yet never finish: an endless reply, a reply dripped a byte at a
time (body or headers); and a peer that closes in the middle of its reply
is named for what it did
("closed ... after sending N bytes of a reply"), not "without answering".
Each case must end within seconds of --data-timeout (today's code ran until
the test's own timeout).
"""

import json
import os
import re
import subprocess
import time

import pytest

from devicelib import eota_bin
from test_upload_web import Stub


class Peer(Stub):
    """One behaviour for every connection (test_upload_web.Stub's listener):
    endless:     reads the request, answers 200 with an endless chunked body;
    drip-body:   reads the request, answers 200 with Content-Length 100000
                 and then one byte every 0.2 s;
    drip-head:   reads the request, sends a status line and then one header
                 line every 0.2 s, never the end of the headers;
    half-reply:  reads the request, sends 200 with Content-Length 1000 and 20
                 bytes of body, closes."""

    def __init__(self, mode):
        self.sent_reply = 0
        super().__init__(mode)

    def _request(self, c):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        text = head.decode(errors="replace")
        if re.search(r"(?im)^expect:\s*100-continue", text):
            c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        m = re.search(r"(?im)^content-length:\s*(\d+)", text)
        length = int(m.group(1)) if m else 0
        while len(rest) < length and not self.stop:
            chunk = c.recv(65536)
            if not chunk:
                return None
            rest += chunk
        return text

    def _send(self, c, b):
        c.sendall(b)
        self.sent_reply += len(b)

    def _serve(self, c):
        try:
            c.settimeout(60)
            if self._request(c) is None or self.stop:
                return
            if self.mode == "endless":
                self._send(c, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"%x\r\n%s\r\n" % (4096, b"x" * 4096)
                while not self.stop:
                    self._send(c, chunk)
            elif self.mode == "drip-body":
                self._send(c, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nWorking")
                while not self.stop:
                    time.sleep(0.2)
                    self._send(c, b".")
            elif self.mode == "drip-head":
                self._send(c, b"HTTP/1.1 200 OK\r\n")
                while not self.stop:
                    time.sleep(0.2)
                    self._send(c, b"X-Drip: 1\r\n")
            elif self.mode == "half-reply":
                self._send(c, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nUpdate in progress, ")
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            c.close()


def upload(peer, size, *args):
    path = "/tmp/eota-webb-%d-%d.bin" % (os.getpid(), size)
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    env = dict(os.environ)
    for k in ("EOTA_PASSWORD", "EOTA_WEB_PASSWORD", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    t0 = time.monotonic()
    try:
        p = subprocess.run([eota_bin(), "upload", path, "--device", peer.spec(), "--ota-platform", "web_server",
                            "--json", "--retries", "0", "--data-timeout", "2", "--handshake-timeout", "2"]
                           + list(args), capture_output=True, text=True, timeout=40, env=env)
    finally:
        os.unlink(path)
    took = time.monotonic() - t0
    js = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert len(js) == 1, (p.stdout, p.stderr)
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr[-3000:]
    assert p.returncode == 1 and js[0]["result"] == "failed", (p.returncode, js, p.stderr)
    return js[0], took


# mode: (error, words of the message)
BOUNDS = {
    "endless": ("protocol_error", "sent an endless reply: more than 64 KiB (HTTP 200)"),
    "drip-body": ("timeout", "answer did not end: "),
    "drip-head": ("timeout", "answer did not end: "),
    "half-reply": ("closed", "closed the connection after sending "),
}


@pytest.mark.parametrize("mode", sorted(BOUNDS))
def test_reply_that_does_not_end_well(mode):
    error, words = BOUNDS[mode]
    peer = Peer(mode)
    try:
        j, took = upload(peer, 20000)
        assert took < 15, took
        assert j["error"] == error and j["phase"] == "reply", j
        assert words in j["message"], j["message"]
        assert "without answering" not in j["message"], j["message"]
        if mode == "drip-body":
            assert "bytes of a reply (HTTP 200) in 2.0 s" in j["message"] and "Working." in j["message"], j
        if mode == "half-reply":
            assert "bytes of a reply (HTTP 200, incomplete)" in j["message"], j["message"]
            assert "Update in progress," in j["message"], j["message"]
    finally:
        peer.close()
