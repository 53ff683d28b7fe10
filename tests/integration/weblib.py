"""Helpers for the web server tests of `eota device` (test_web*.py).

- WebDevice: a devicelib.Device with its web server on a free loopback port;
- curl(): runs the real curl command and returns (status, headers, body);
- raw_post(): a multipart POST over a plain socket, for shapes curl does not
  make (cut bodies, odd framing, bytes trickled one at a time);
- Chromium: a headless Chromium driven through its DevTools protocol over a
  minimal WebSocket client (RFC 6455, client side), standard library only.
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

from devicelib import Device, free_port


# ---------------------------------------------------------------- curl

def curl(url, *args, timeout=120, data_file=None, field="update"):
    """curl [args] URL; with data_file, a stock-shaped upload
    (-F "update=@FILE"). Returns (status, headers dict lower-case, body)."""
    with tempfile.NamedTemporaryFile(prefix="eota-web-h-") as hf:
        cmd = ["curl", "-s", "-S", "-D", hf.name, "-o", "-", "--max-time", str(timeout)]
        if data_file:
            cmd += ["-F", "%s=@%s" % (field, data_file)]
        cmd += list(args) + [url]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 10)
        with open(hf.name, "rb") as f:
            raw = f.read().decode(errors="replace")
    status, headers = 0, {}
    # with digest or 100-continue there are several header blocks: keep the last
    for block in raw.split("\r\n\r\n"):
        lines = [l for l in block.split("\r\n") if l]
        if not lines or not lines[0].startswith("HTTP/"):
            continue
        code = int(lines[0].split()[1])
        if code == 100:
            continue
        status, headers = code, {}
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                headers[k.strip().lower()] = v.strip()
    if status == 0:
        raise AssertionError("curl got no answer (rc %d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
    return status, headers, p.stdout.decode(errors="replace")


def curl_bg(url, *args, data_file=None, timeout=120):
    """Start a curl upload in the background; .result() waits for it."""
    import threading

    class Bg:
        def __init__(self):
            self.res = None
            self.err = None
            self.t = threading.Thread(target=self._run, daemon=True)
            self.t.start()

        def _run(self):
            try:
                self.res = curl(url, *args, data_file=data_file, timeout=timeout)
            except Exception as e:  # noqa: BLE001
                self.err = e

        def result(self, timeout=180):
            self.t.join(timeout)
            if self.t.is_alive():
                raise AssertionError("curl still running after %s s" % timeout)
            if self.err:
                raise self.err
            return self.res
    return Bg()


# ---------------------------------------------------------------- a device with a web server

class WebDevice(Device):
    """An eota device with its web server on a free loopback port."""

    def __init__(self, body, **kw):
        self.web_port = free_port()
        kw["args"] = list(kw.get("args", ())) + ["--web-port", str(self.web_port)]
        super().__init__(body, **kw)
        self.wait_log(r"Listening for HTTP", 10)

    def spec(self):
        return "127.0.0.1:%d" % self.web_port

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.web_port, path)

    def upload(self, data, *args, name="fw.bin", **kw):
        """A stock-shaped upload with the curl command: (status, headers, body)."""
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return curl(self.url("/update"), *args, data_file=path, **kw)


# ---------------------------------------------------------------- raw HTTP

def multipart(parts, boundary="eotaBoundary7d1", preamble=b"", epilogue=b"\r\n", closing=True):
    """Build a multipart/form-data body. parts: list of (name, filename or
    None, bytes)."""
    out = bytearray(preamble)
    for i, (name, filename, data) in enumerate(parts):
        out += (b"" if i == 0 and not preamble else b"\r\n") + b"--" + boundary.encode() + b"\r\n"
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += b"Content-Disposition: " + disp.encode() + b"\r\n"
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + data
    if closing:
        out += b"\r\n--" + boundary.encode() + b"--" + epilogue
    return bytes(out)


def raw_post(port, body, boundary="eotaBoundary7d1", path="/update", content_length=None, send=None,
             headers=(), ctype=None, close_after_send=False, host="127.0.0.1", timeout=60):
    """POST body; send(sock, body) may send it its own way (slowly, cut).
    Returns (status, body text) or (None, why) when the connection ended
    without an answer."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        cl = len(body) if content_length is None else content_length
        head = "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n" % (path, host, port, cl)
        head += "Content-Type: %s\r\n" % (ctype or "multipart/form-data; boundary=%s" % boundary)
        for h in headers:
            head += h + "\r\n"
        s.sendall((head + "\r\n").encode())
        try:
            if send:
                send(s, body)
            else:
                s.sendall(body)
        except OSError as e:
            return None, "send: %s" % e
        if close_after_send:
            s.close()
            return None, "closed by the client"
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    hdr, rest = data.split(b"\r\n\r\n", 1)
                    m = [l for l in hdr.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if m and len(rest) >= int(m[0].split(b":")[1]):
                        break
        except OSError as e:
            if not data:
                return None, "recv: %s" % e
        if not data:
            return None, "no answer"
        hdr, _, rest = data.partition(b"\r\n\r\n")
        return int(hdr.split(b" ")[1]), rest.decode(errors="replace")
    finally:
        s.close()


# ---------------------------------------------------------------- Chromium

def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--no-default-browser-check"]


def dump_dom(url, timeout=60):
    exe = chromium_path()
    prof = tempfile.mkdtemp(prefix="eota-chromium-")
    try:
        p = subprocess.run([exe] + CHROMIUM_FLAGS + ["--user-data-dir=" + prof, "--dump-dom", url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.stdout.decode(errors="replace")
    finally:
        shutil.rmtree(prof, ignore_errors=True)


class WebSocket:
    """The client side of RFC 6455, enough for the DevTools protocol: text
    frames, masked, with fragmentation and control frames on receipt."""

    def __init__(self, url, timeout=30):
        assert url.startswith("ws://")
        hostport, _, path = url[5:].partition("/")
        host, _, port = hostport.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key))
        self.sock.sendall(req.encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            resp += chunk
        head, _, self.buf = resp.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError("websocket handshake refused: %r" % head[:200])

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text):
        payload = text.encode()
        head = bytearray([0x81])
        n = len(payload)
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head.append(0x80 | 126)
            head += struct.pack(">H", n)
        else:
            head.append(0x80 | 127)
            head += struct.pack(">Q", n)
        mask = os.urandom(4)
        head += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(head) + masked)

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            op = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if op == 0x8:
                raise ConnectionError("websocket closed by the peer")
            if op == 0x9:  # ping: answer with a pong
                self.sock.sendall(bytes([0x8A, 0x80 | len(data)]) + b"\0\0\0\0" + data)
                continue
            if op == 0xA:
                continue
            message += data
            if b0 & 0x80:
                return message.decode(errors="replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Chromium:
    """A headless Chromium with one page, driven over DevTools."""

    def __init__(self, timeout=30):
        self.exe = chromium_path()
        if not self.exe:
            raise RuntimeError("chromium is not installed")
        self.profile = tempfile.mkdtemp(prefix="eota-chromium-")
        self.proc = subprocess.Popen(
            [self.exe] + CHROMIUM_FLAGS + ["--user-data-dir=" + self.profile, "--remote-debugging-port=0",
                                            "--remote-debugging-address=127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        portfile = os.path.join(self.profile, "DevToolsActivePort")
        end = time.monotonic() + timeout
        port = None
        while time.monotonic() < end and port is None:
            try:
                with open(portfile) as f:
                    port = int(f.readline().strip())
            except (OSError, ValueError):
                if self.proc.poll() is not None:
                    raise RuntimeError("chromium exited with %s" % self.proc.returncode)
                time.sleep(0.1)
        if port is None:
            self.close()
            raise RuntimeError("chromium did not open its DevTools port")
        page = None
        while time.monotonic() < end and page is None:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
                targets = json.loads(r.read())
            page = next((t for t in targets if t.get("type") == "page"), None)
            if page is None:
                time.sleep(0.1)
        if page is None:
            self.close()
            raise RuntimeError("chromium shows no page target")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0

    def call(self, method, timeout=30, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        self.ws.sock.settimeout(timeout)
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r.get("result", {}).get("value")

    def goto(self, url, timeout=30):
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if self.eval("document.readyState") == "complete" and self.eval("location.href").startswith(url):
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        raise AssertionError("page %s did not load" % url)

    def set_file(self, selector, path):
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise AssertionError("no %s on the page" % selector)
        self.call("DOM.setFileInputFiles", files=[path], nodeId=node)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
