"""The application is the device's, and goes with it (issue 18): an
`eota device` killed with SIGKILL leaves no application running, and a
restarted device does not start a second copy (nor keep what the first one
left in its process group); a `setsid` grandchild of the application does
not survive an update; the device answers OTA while an application that
ignores SIGTERM is being stopped.

Shell-script applications installed over the native OTA port by the
stock-like uploader; processes looked up in /proc.
"""

import os
import signal
import socket
import tempfile
import time

from devicelib import Device

import espota_stock as stock

OTA = "ota:\n  - platform: esphome\n"


def alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_gone(pids, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def read_pid(path, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError("no pid in %s" % path)


def running_copies(image_dir):
    """Processes whose command line names a slot file of image_dir."""
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit() or not alive(int(d)):
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if image_dir.encode() in cmd and b"slot_" in cmd:
            n += 1
    return n


def script(version, body, ignore_term=False):
    """An application: writes its pid to $1.pid, runs body (a few shell
    lines), says its version in $1, then loops until SIGTERM (or for ever
    when ignore_term)."""
    trap = "trap '' TERM" if ignore_term else "trap 'exit 0' TERM"
    return ("#!/bin/sh\n"
            "echo $$ > \"$1.pid\"\n"
            "%s\n"
            "%s\n"
            "echo %s > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n"
            "while :; do sleep 0.2; done\n" % (trap, body, version)).encode()


def install(dev, img, version):
    for p in (dev.marker, dev.marker + ".pid"):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
    res = stock.upload("127.0.0.1", dev.port, img, handshake_timeout=10, data_timeout=30)
    assert res["result"] == "ok", res
    assert dev.running_version(expect=version, timeout=15) == version, dev.log()[-3000:]
    return read_pid(dev.marker + ".pid")


def device(stop_timeout="2s"):
    markers = tempfile.mkdtemp(prefix="eota-app-")
    marker = os.path.join(markers, "running")
    body = OTA + 'app:\n  command: ["{image}", "%s"]\n  stop_timeout: %s\n' % (marker, stop_timeout)
    dev = Device(body, app=False)
    dev.marker = marker
    return dev


def test_sigkill_of_the_device_takes_the_application():
    """SIGKILL the device: its application is gone within a moment; the
    restarted device stops what the first copy left in its process group
    and runs exactly one copy. Three rounds."""
    dev = device()
    left = []
    try:
        img = script("v1", "sleep 1000 &\necho $! > \"$1.bg\"")
        pid = install(dev, img, "v1")
        for rnd in range(3):
            bg = read_pid(dev.marker + ".bg")
            left += [pid, bg]
            assert alive(pid) and alive(bg), (rnd, pid, bg)
            dev.proc.kill()
            dev.proc.wait()
            dev.logf.close()
            assert wait_gone([pid], 3.0) == [], "round %d: the application survived the device" % rnd
            os.unlink(dev.marker)
            dev.start()
            assert dev.running_version(expect="v1", timeout=10) == "v1", dev.log()[-3000:]
            new = read_pid(dev.marker + ".pid")
            assert wait_gone([bg], 3.0) == [], "round %d: the old copy's child still runs" % rnd
            assert running_copies(dev.state) == 1, "round %d: %d copies" % (rnd, running_copies(dev.state))
            pid = new
        dev.stop()
        assert wait_gone([pid], 3.0) == []
    finally:
        dev.cleanup()
        for p in left:
            if alive(p):
                os.kill(p, signal.SIGKILL)  # what a failed round left


def stat_field(pid, index):
    """A field of /proc/PID/stat after the command name (0: the state)."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[index]


def test_setsid_grandchild_does_not_survive_an_update():
    """Two that left the application's process group and session: a setsid
    grandchild whose parent (the application) still runs, and a daemon
    whose parent ended at once (it is reparented to the device)."""
    dev = device()
    left = []
    try:
        img = script("v1", "setsid sh -c 'echo $$ > \"$0.setsid\"; exec sleep 1000' \"$1\" &\n"
                           "(setsid sh -c 'echo $$ > \"$0.daemon\"; exec sleep 1000' \"$1\" &)")
        install(dev, img, "v1")
        left = [read_pid(dev.marker + ".setsid"), read_pid(dev.marker + ".daemon")]
        for p in left:
            assert alive(p) and int(stat_field(p, 3)) == p, "not in a session of its own"
        assert int(stat_field(left[1], 1)) == dev.proc.pid, "the daemon was not reparented to the device"
        install(dev, script("v2", ""), "v2")
        assert wait_gone(left, 3.0) == [], "a setsid grandchild survived the update"
        dev.stop()
    finally:
        dev.cleanup()
        for p in left:
            if alive(p):
                os.kill(p, signal.SIGKILL)  # out of the device's reach after a SIGKILL


def hello_seconds(port):
    """Seconds until the device answers the magic bytes with 00 VV."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        s.settimeout(15)
        s.sendall(bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45]))
        got = b""
        while len(got) < 2:
            b = s.recv(2 - len(got))
            if not b:
                break
            got += b
        assert got[:1] == b"\x00", got
        return time.monotonic() - t0
    finally:
        s.close()


def test_device_answers_while_the_application_ignores_sigterm():
    """stop_timeout 6 s and an application that ignores SIGTERM: after an
    upload the device waits for it to stop, answering OTA meanwhile; a
    whole upload made meanwhile is the one that boots."""
    dev = device(stop_timeout="6s")
    try:
        install(dev, script("v1", "", ignore_term=True), "v1")
        res = stock.upload("127.0.0.1", dev.port, script("v2", ""), handshake_timeout=10, data_timeout=30)
        assert res["result"] == "ok", res
        dev.wait_log(r"Stopping the application", 5)
        took = hello_seconds(dev.port)
        assert took < 2.0, "the device answered after %.1f s (it waited for the application)" % took
        res = stock.upload("127.0.0.1", dev.port, script("v3", ""), handshake_timeout=10, data_timeout=30)
        assert res["result"] == "ok", res
        assert dev.running_version(expect="v3", timeout=15) == "v3", dev.log()[-3000:]
        assert "did not stop within 6000 ms" in dev.log(), dev.log()[-3000:]
        dev.signal(signal.SIGTERM)
        dev.stop()
    finally:
        dev.cleanup()
