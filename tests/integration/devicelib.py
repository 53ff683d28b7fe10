"""Helpers for integration tests that run `eota device` as a real process.

A Device starts the eota command with a config written into a fresh
temporary directory, on a free loopback port, and offers what the tests
check: the active image, the log, open descriptors, memory, the .part files.
Standard library only. The tests get their devices from the fixtures of
conftest.py; bench/run.py uses this module too.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SOURCE_DIR = os.environ.get("EOTA_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))


def eota_bin():
    b = os.environ.get("EOTA_BIN")
    if b:
        return b
    for d in ("build-test", "build"):
        p = os.path.join(SOURCE_DIR, d, "eota")
        if os.path.exists(p):
            return p
    raise SystemExit("EOTA_BIN is not set and no build/eota found")


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def app_image(version, size=0):
    """A shell-script application: it writes its version into the marker
    file named by its first argument, then sleeps until stopped. Padding
    after the exec is never read by the shell and makes the image `size`
    bytes long."""
    head = ("#!/bin/sh\n"
            "echo %s > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n"
            "trap 'exit 0' TERM\n"
            "while :; do sleep 0.2; done\n"
            "exit 0\n" % version).encode()
    if size > len(head):
        pad = bytearray()
        i = 0
        while len(head) + len(pad) < size:
            pad += ("# padding line %d of the sample application %s\n" % (i, version)).encode()
            i += 1
        head += bytes(pad[: size - len(head)])
    return head


class Device:
    def __init__(self, body, secrets=None, platform="host:", port=None, args=(), app=True,
                 listen="127.0.0.1", name="itest"):
        self.dir = tempfile.mkdtemp(prefix="eota-itest-")
        # port None: a free one; port 0: no --port (the profile's default)
        self.port = free_port() if port is None else port
        self.marker = os.path.join(self.dir, "running")
        self.state = os.path.join(self.dir, "state")
        text = "esphome:\n  name: %s\n%s\n%s\n" % (name, platform, body)
        if app:
            text += 'app:\n  command: ["{image}", "%s"]\n  stop_timeout: 2s\n' % self.marker
        self.config = os.path.join(self.dir, "device.yaml")
        with open(self.config, "w") as f:
            f.write(text)
        if secrets is not None:
            with open(os.path.join(self.dir, "secrets.yaml"), "w") as f:
                f.write(secrets)
        self.logpath = os.path.join(self.dir, "device.log")
        self.args = list(args)
        self.listen = listen
        self.proc = None
        self.start()

    def start(self):
        cmd = [eota_bin(), "device", "--config", self.config, "--state-dir", self.state,
               "--verbose"]
        if self.listen:
            cmd += ["--listen", self.listen]
        if self.port:
            cmd += ["--port", str(self.port)]
        cmd += self.args
        self.logf = open(self.logpath, "ab")
        starts = len(re.findall(r"Listening for OTA", self.log()))
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        self.wait_log(r"Listening for OTA", 10, count=starts + 1)
        self.listeners = self._sockets()

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, pattern, timeout=10.0, count=1):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(re.findall(pattern, self.log())) >= count:
                return True
            if self.proc.poll() is not None:
                raise AssertionError("device exited (%s) while waiting for %r:\n%s"
                                     % (self.proc.returncode, pattern, self.log()[-3000:]))
            time.sleep(0.02)
        raise AssertionError("timed out waiting for %r in the device log:\n%s"
                             % (pattern, self.log()[-3000:]))

    def boot_state(self):
        """The boot state as `eota device --show-state` prints it."""
        p = subprocess.run([eota_bin(), "device", "--show-state", "--state-dir", self.state],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            return {}
        return dict(l.strip().split("=", 1) for l in p.stdout.splitlines() if "=" in l)

    def active_image(self, expect=None, timeout=5.0):
        """The image in the active slot (None when there is none). With
        `expect`, wait up to `timeout` for it: a device switches slots when
        it reboots, a moment after it answered the upload."""
        end = time.monotonic() + timeout
        while True:
            img = self._read_active_image()
            if expect is None or img == expect or time.monotonic() >= end:
                return img
            time.sleep(0.05)

    def _read_active_image(self):
        st = self.boot_state()
        slot = st.get("active")
        if slot not in ("a", "b"):
            return None
        with open(os.path.join(self.state, "slot_%s.bin" % slot), "rb") as f:
            return f.read()

    def running_version(self, timeout=5.0, expect=None):
        end = time.monotonic() + timeout
        v = None
        while time.monotonic() < end:
            try:
                with open(self.marker) as f:
                    v = f.read().strip()
            except FileNotFoundError:
                v = None
            if expect is None or v == expect:
                return v
            time.sleep(0.05)
        return v

    def parts(self):
        return [n for n in os.listdir(self.state) if n.endswith(".part") or n.endswith(".tmp")]

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def status_kb(self, field):
        """A memory figure of /proc/PID/status (VmRSS, VmHWM...), in kB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def rss_kb(self):
        return self.status_kb("VmRSS")

    def hwm_kb(self):
        return self.status_kb("VmHWM")

    def idle(self, timeout=5.0):
        """Wait until the device holds no connection: its only sockets are
        the listeners it opened at start."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._sockets() == self.listeners:
                return True
            time.sleep(0.01)
        return False

    def _sockets(self):
        n = 0
        for fd in os.listdir("/proc/%d/fd" % self.proc.pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (self.proc.pid, fd)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
        return n

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, expect_rc=0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("device did not stop on SIGTERM")
        self.logf.close()
        rc = self.proc.returncode
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError("device exited with %s, expected %s:\n%s"
                                 % (rc, expect_rc, self.log()[-4000:]))
        return rc

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])



def start_devices(bodies, **kw):
    """One Device per config body (Device's other arguments in kw, the same
    for all); if one cannot start, those already started are stopped."""
    devs = []
    try:
        for body in bodies:
            devs.append(Device(body, **kw))
    except Exception:
        stop_devices(devs)
        raise
    return devs


def stop_devices(devs):
    for d in devs:
        d.stop(expect_rc=None)
        d.cleanup()
