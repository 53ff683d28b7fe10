"""Helpers for the pull update tests (test_pull.py): a real nginx started
by the test on a free loopback port, with its own prefix and an access
log the tests read; a proxy that cuts a download halfway; a server that
stalls; and `eota publish`. Standard library only (nginx from Debian's
nginx-light, scripts/deps.sh).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import expect_clean_stop
from devicelib import Device, eota_bin, free_port

LOG_FIELDS = ("method", "uri", "status", "body_bytes", "bytes_sent", "request_length", "range",
              "if_range", "if_none_match", "if_modified_since")

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log %(dir)s/error.log;
pid %(dir)s/nginx.pid;
events { worker_connections 1024; }
http {
  log_format eota escape=none '$request_method\\t$uri\\t$status\\t$body_bytes_sent\\t$bytes_sent\\t'
                              '$request_length\\t$http_range\\t$http_if_range\\t$http_if_none_match\\t'
                              '$http_if_modified_since';
  access_log %(dir)s/access.log eota;
  client_body_temp_path %(dir)s/tmp; proxy_temp_path %(dir)s/tmp; fastcgi_temp_path %(dir)s/tmp;
  uwsgi_temp_path %(dir)s/tmp; scgi_temp_path %(dir)s/tmp;
  types { application/json json; application/octet-stream bin; }
  server {
    listen 127.0.0.1:%(port)d %(ssl)s;
    %(certs)s
    root %(root)s;
    location = /e500/manifest.json { return 500; }
    location = /loop/manifest.json { return 302 /loop/manifest.json; }
  }
}
"""


class Nginx:
    """nginx serving root on a free loopback port, in the foreground."""

    def __init__(self, root, tls=False):
        if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
            raise AssertionError("nginx is not installed (apt-get install nginx-light; scripts/deps.sh)")
        self.dir = tempfile.mkdtemp(prefix="eota-nginx-")
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.root = root
        self.port = free_port()
        self.scheme = "https" if tls else "http"
        certs = self._make_cert() if tls else ""
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"dir": self.dir, "port": self.port, "root": root,
                                  "ssl": "ssl" if tls else "", "certs": certs})
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([exe, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError("nginx exited: %s" % self.proc.stderr.read().decode())
                time.sleep(0.05)
        raise AssertionError("nginx did not listen")

    def _make_cert(self):
        """A self-signed certificate for 127.0.0.1 (self.cert, the CA a
        device must be given to trust it)."""
        self.cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", self.cert], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return "ssl_certificate %s; ssl_certificate_key %s;" % (self.cert, key)

    def url(self, path):
        return "%s://127.0.0.1:%d/%s" % (self.scheme, self.port, path.lstrip("/"))

    def log(self):
        """The access log as a list of dicts (LOG_FIELDS)."""
        path = os.path.join(self.dir, "access.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            rows = [dict(zip(LOG_FIELDS, line.rstrip("\n").split("\t"))) for line in f if line.strip()]
        for r in rows:
            for k in ("status", "body_bytes", "bytes_sent", "request_length"):
                r[k] = int(r[k])
        return rows

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # not seen: nginx stops on SIGTERM
            self.proc.kill()
            self.proc.communicate()
        shutil.rmtree(self.dir, ignore_errors=True)


def publish(firmware_bytes, version, dirpath, *args):
    """eota publish of these bytes; returns the CompletedProcess."""
    fd, path = tempfile.mkstemp(prefix="eota-fw-", suffix=".bin")
    with os.fdopen(fd, "wb") as f:
        f.write(firmware_bytes)
    try:
        p = subprocess.run([eota_bin(), "publish", path, "--version", version, "--dir", dirpath] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        os.unlink(path)
    return p


def pull_body(source, interval="1s", timeout="2s", http_extra=""):
    """The config of a device that polls source."""
    return ("ota:\n  - platform: esphome\n  - platform: http_request\n"
            "http_request:\n  timeout: %s\n%s"
            "update:\n  - platform: http_request\n    source: %s\n    update_interval: %s\n"
            % (timeout, http_extra, source, interval))


class CutProxy:
    """A TCP proxy to nginx. The first request whose line contains `cut`
    gets the response's head and half its body, then the connection is
    closed (on_cut runs just before); every other connection is relayed
    whole."""

    def __init__(self, upstream_port, cut, on_cut=None):
        self.upstream = upstream_port
        self.cut = cut.encode()
        self.on_cut = on_cut
        self.cuts = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        up = socket.create_connection(("127.0.0.1", self.upstream))
        req = c.recv(65536)
        # one request per connection, so that each is seen here
        up.sendall(req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
        cut_this = self.cuts == 0 and self.cut in req.split(b"\r\n", 1)[0]
        if cut_this:
            self.cuts += 1
            self._relay_half(c, up)
        else:
            threading.Thread(target=self._pipe, args=(c, up), daemon=True).start()
            self._pipe(up, c)

    def _relay_half(self, c, up):
        data = b""
        while b"\r\n\r\n" not in data:
            data += up.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
        while len(body) < length // 2:
            body += up.recv(65536)
        c.sendall(head + b"\r\n\r\n" + body[: length // 2])
        time.sleep(0.2)
        if self.on_cut:
            self.on_cut()
        c.close()
        up.close()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.sock.close()


class StallServer:
    """Accepts connections, reads the request, and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


# ------------------------------------------------------------ fixtures
# (imported by the test_pull*.py files)

@pytest.fixture
def www():
    """The directory nginx serves."""
    d = tempfile.mkdtemp(prefix="eota-www-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def nginx(www):
    n = Nginx(www)
    yield n
    n.stop()


@contextlib.contextmanager
def device(body, **kw):
    """A Device that must stop cleanly, removed afterwards."""
    dev = Device(body, **kw)
    try:
        yield dev
        expect_clean_stop(dev)
    finally:
        dev.cleanup()
