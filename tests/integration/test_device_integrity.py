"""Integration tests of `eota device` under faults (issue 18): a small disk
takes updates for ever (room for two images, not three); a damaged boot
state is rebuilt from the slots, with a WARN line; a damaged slot is not
started; a broken newest boot record does not roll a confirmed image back;
fsync failing on the .part file leaks nothing; one device per state
directory; a read-only state directory runs the installed application with
updates off.

Some tests need root (tmpfs and bind mounts); they are skipped without it.
"""

import os
import re
import shutil
import subprocess
import time

import pytest

from devicelib import Device, app_image, eota_bin
from test_device_boot import bad_image, up, wait_state
from weblib import WebDevice

OTA = "ota:\n  - platform: esphome\n"
GOOD_FAST = "safe_mode:\n  num_attempts: 5\n  reboot_timeout: 5s\n  boot_is_good_after: 1s\n"
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root (mount)")


def mount(*args):
    subprocess.run(["mount"] + list(args), check=True)


def umount(path):
    subprocess.run(["umount", "-l", path], check=False)


def two_confirmed_images(dev):
    """v1 in slot a, then v2 in slot b, each confirmed; v2 runs."""
    assert up(dev, app_image("v1", 20000))["result"] == "ok"
    wait_state(dev, lambda s: s["active"] == "a" and s["slot_a"] == "valid")
    assert up(dev, app_image("v2", 30000))["result"] == "ok"
    wait_state(dev, lambda s: s["active"] == "b" and s["slot_b"] == "valid")
    assert dev.running_version(expect="v2") == "v2"
    dev.stop()


def restart(dev):
    os.unlink(dev.marker) if os.path.exists(dev.marker) else None
    dev.start()


# --- 1. room for two images ---------------------------------------------

@needs_root
def test_small_disk_takes_updates_for_ever():
    """On a 3 MiB state directory, 1.1 MiB images install one after the
    other, every time (the target slot's old image is freed first)."""
    dev = Device(OTA + GOOD_FAST)
    try:
        dev.stop()
        mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", dev.state)
        try:
            restart(dev)
            for i in range(8):
                img = app_image("s%d" % i, 1100 * 1024)
                res = up(dev, img)
                assert res["result"] == "ok", (i, res, dev.log()[-2000:])
                assert dev.running_version(expect="s%d" % i) == "s%d" % i, dev.log()[-2000:]
            assert not dev.parts()
            dev.stop()
        finally:
            umount(dev.state)
    finally:
        dev.cleanup()


# --- 2. the boot state and the slots check each other -------------------

def damage_boot_state(path, how):
    size = os.path.getsize(path)
    if how == "deleted":
        os.unlink(path)
        return
    data = {"empty": b"", "zeroed": bytes(size), "erased": b"\xff" * size,
            "random": os.urandom(size), "truncated": b"\xff" * 1000}[how]
    with open(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("how", ["deleted", "empty", "zeroed", "erased", "random", "truncated"])
@pytest.mark.device(OTA + GOOD_FAST)
def test_damaged_boot_state_is_rebuilt_from_the_slots(dev, how):
    two_confirmed_images(dev)
    damage_boot_state(os.path.join(dev.state, "boot.flash"), how)
    restart(dev)
    log = dev.log().split("Listening for OTA")[-2]
    assert re.search(r"W.*boot\.flash.*rebuilt from the slots", log), log[-3000:]
    # the newest image runs again (on trial, the older one as fallback)
    assert dev.running_version(expect="v2") == "v2", dev.log()[-3000:]
    st = wait_state(dev, lambda s: s["active"] == "b" and s["slot_a"] == "valid")
    assert st["slot_b"] in ("trial", "valid"), st
    # and the device still updates
    assert up(dev, app_image("v3"))["result"] == "ok"
    assert dev.running_version(expect="v3") == "v3"
    dev.stop()


@pytest.mark.device(OTA)
def test_rebuild_keeps_an_unconfirmed_image_on_trial(dev):
    """The only image, never confirmed (boot_is_good_after is 1 min): the
    rebuild runs it on trial, not as a confirmed one."""
    assert up(dev, app_image("v1"))["result"] == "ok"
    wait_state(dev, lambda s: s["active"] == "a" and s["slot_a"] == "trial")
    dev.stop()
    os.unlink(os.path.join(dev.state, "boot.flash"))
    restart(dev)
    dev.wait_log(r"W.*boot\.flash: missing; rebuilt from the slots: slot a holds .*never confirmed.*: "
                 r"slot a runs on trial")
    assert dev.running_version(expect="v1") == "v1"
    wait_state(dev, lambda s: s["active"] == "a" and s["slot_a"] == "trial")
    dev.stop()


@pytest.mark.device(OTA + GOOD_FAST)
def test_rebuild_never_picks_an_image_that_failed(dev):
    """An image rolled back after a failed trial loses its record: a later
    rebuild runs the good image, not the newest one."""
    assert up(dev, app_image("v1"))["result"] == "ok"
    wait_state(dev, lambda s: s["slot_a"] == "valid")
    assert up(dev, bad_image())["result"] == "ok"
    wait_state(dev, lambda s: s["active"] == "a" and s["slot_b"] == "invalid")
    assert dev.running_version(expect="v1") == "v1"
    dev.stop()
    assert not os.path.exists(os.path.join(dev.state, "slot_b.bin.check"))
    os.unlink(os.path.join(dev.state, "boot.flash"))
    restart(dev)
    dev.wait_log(r"W.*boot\.flash: missing; rebuilt from the slots: .*slot b unusable.*: slot a runs")
    assert dev.running_version(expect="v1") == "v1"
    wait_state(dev, lambda s: s["active"] == "a" and s["slot_a"] == "valid")
    dev.stop()


@pytest.mark.parametrize("how", ["truncated", "corrupted", "deleted"])
@pytest.mark.device(OTA + GOOD_FAST)
def test_damaged_slot_is_not_started(dev, how):
    two_confirmed_images(dev)
    path = os.path.join(dev.state, "slot_b.bin")
    if how == "deleted":
        os.unlink(path)
    else:
        with open(path, "r+b") as f:
            if how == "truncated":
                f.truncate(1000)
            else:
                f.seek(500)
                f.write(b"X")
    restart(dev)
    dev.wait_log(r"W.*slot_b\.bin.*(size|CRC|missing)")
    assert dev.running_version(expect="v1") == "v1", dev.log()[-3000:]
    st = wait_state(dev, lambda s: s["active"] == "a")
    assert st["slot_b"] == "invalid", st
    dev.stop()


@pytest.mark.device(OTA + GOOD_FAST)
def test_both_slots_damaged_runs_no_image(dev):
    two_confirmed_images(dev)
    for s in "ab":
        with open(os.path.join(dev.state, "slot_%s.bin" % s), "r+b") as f:
            f.truncate(100)
    restart(dev)
    dev.wait_log(r"slot_a\.bin")
    time.sleep(0.5)
    assert dev.running_version(timeout=0.2) is None
    assert "Started the application" not in dev.log().split("Listening for OTA")[-1]
    assert up(dev, app_image("v3"))["result"] == "ok"
    assert dev.running_version(expect="v3") == "v3"
    dev.stop()


def newest_copy(path):
    """Offset of the boot record copy with the higher sequence number."""
    with open(path, "rb") as f:
        data = f.read()
    seqs = [int.from_bytes(data[o + 8:o + 12], "little") if data[o:o + 4] == b"EOBS" else -1
            for o in (0, 4096)]
    return 0 if seqs[0] > seqs[1] else 4096


@pytest.mark.device(OTA + GOOD_FAST)
def test_broken_newest_record_keeps_the_confirmed_image(dev):
    two_confirmed_images(dev)
    path = os.path.join(dev.state, "boot.flash")
    off = newest_copy(path)
    with open(path, "r+b") as f:
        f.seek(off + 20)
        b = f.read(1)
        f.seek(off + 20)
        f.write(bytes([b[0] ^ 0x40]))
    restart(dev)
    assert dev.running_version(expect="v2") == "v2", dev.log()[-3000:]
    assert "rolled back to slot" not in dev.log()
    dev.wait_log(r"W.*boot\.flash: slot b is on trial .* says it was confirmed.*kept confirmed")
    st = wait_state(dev, lambda s: s["active"] == "b" and s["slot_b"] == "valid")
    assert st["slot_a"] == "valid", st
    dev.stop()


@pytest.mark.device(OTA)
def test_unreadable_boot_state_names_the_file(dev):
    dev.stop()
    path = os.path.join(dev.state, "boot.flash")
    os.unlink(path)
    os.mkdir(path)  # not a file at all
    p = subprocess.run([eota_bin(), "device", "--config", dev.config, "--state-dir", dev.state,
                        "--listen", "127.0.0.1", "--port", str(dev.port)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    assert p.returncode != 0
    assert "boot.flash" in p.stdout, p.stdout
    assert not re.search(r": Invalid argument$", p.stdout, re.M), p.stdout


# --- 3. every error path releases what it holds -------------------------

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* The call EOTA_SHIM_FAIL names (fsync, write, rename) fails with EIO on
 * files whose name ends in .part, while the file EOTA_SHIM_ARM exists. */
static int fails(const char *call)
{
    const char *f = getenv("EOTA_SHIM_FAIL"), *arm = getenv("EOTA_SHIM_ARM");
    return f && !strcmp(f, call) && arm && access(arm, F_OK) == 0;
}
static int is_part(const char *name) { size_t n = strlen(name); return n > 5 && !strcmp(name + n - 5, ".part"); }
static int fd_is_part(int fd)
{
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = 0;
    return is_part(target);
}
int fsync(int fd)
{
    if (fails("fsync") && fd_is_part(fd)) { errno = EIO; return -1; }
    return ((int (*)(int))dlsym(RTLD_NEXT, "fsync"))(fd);
}
ssize_t write(int fd, const void *buf, size_t len)
{
    if (fails("write") && fd_is_part(fd)) { errno = EIO; return -1; }
    return ((ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write"))(fd, buf, len);
}
int rename(const char *from, const char *to)
{
    if (fails("rename") && is_part(from)) { errno = EIO; return -1; }
    return ((int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename"))(from, to);
}
"""


def build_shim(tmp):
    src = os.path.join(tmp, "fsync_fail.c")
    so = os.path.join(tmp, "fsync_fail.so")
    with open(src, "w") as f:
        f.write(SHIM)
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run([cc, "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True)
    return so


def device_with_shim(tmp_path, call, web):
    """A device whose `call` fails on .part files while tmp_path/armed
    exists (the shim above, built here, in LD_PRELOAD)."""
    so = build_shim(str(tmp_path))
    arm = os.path.join(str(tmp_path), "armed")
    open(arm, "w").close()
    saved = {k: os.environ.get(k) for k in ("LD_PRELOAD", "ASAN_OPTIONS", "EOTA_SHIM_FAIL", "EOTA_SHIM_ARM")}
    os.environ["EOTA_SHIM_FAIL"] = call
    os.environ["EOTA_SHIM_ARM"] = arm
    os.environ["LD_PRELOAD"] = so
    os.environ["ASAN_OPTIONS"] = ((saved["ASAN_OPTIONS"] + ":") if saved["ASAN_OPTIONS"] else "") + \
        "verify_asan_link_order=0"
    try:
        if web:
            return WebDevice(OTA + "  - platform: web_server\nweb_server:\n", app=False), arm
        return Device(OTA, app=False), arm
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def upload_ok(dev, img, web):
    if web:
        return dev.upload(img)[0] == 200
    return up(dev, img)["result"] == "ok"


@pytest.mark.parametrize("call,web", [("fsync", False), ("write", False), ("rename", False), ("fsync", True)])
def test_failing_call_on_part_file_leaks_nothing(tmp_path, call, web):
    """fsync (the issue's case), write or rename failing on the .part file
    20 times (native OTA; fsync also through the web upload): the fd count
    stays, no .part is left, no deleted file is held, the error names the
    file; once the call works again, an update goes in."""
    dev, arm = device_with_shim(tmp_path, call, web)
    try:
        img = os.urandom(50000)
        assert not upload_ok(dev, img, web)
        dev.idle()
        fds = dev.fds()
        for i in range(20):
            assert not upload_ok(dev, img, web)
            assert dev.idle()
            assert not dev.parts(), (i, dev.parts())
        assert dev.fds() == fds, "fds went from %d to %d" % (fds, dev.fds())
        held = [l for l in os.listdir("/proc/%d/fd" % dev.proc.pid)
                if "(deleted)" in os.readlink("/proc/%d/fd/%s" % (dev.proc.pid, l))]
        assert not held, held
        assert re.search(r"slot_a\.bin\.part.*Input/output error", dev.log()), dev.log()[-2000:]
        os.unlink(arm)
        assert upload_ok(dev, app_image("after"), web)
        assert wait_state(dev, lambda s: s["active"] == "a")
        dev.stop()
    finally:
        dev.cleanup()


# --- 4. one device per state directory ----------------------------------

@pytest.mark.device(OTA + GOOD_FAST)
def test_second_device_on_same_state_dir_refuses(dev):
    assert up(dev, app_image("v1"))["result"] == "ok"
    before = open(os.path.join(dev.state, "slot_a.bin"), "rb").read()
    p = subprocess.run([eota_bin(), "device", "--config", dev.config, "--state-dir", dev.state,
                        "--listen", "127.0.0.1", "--port", str(dev.port + 1)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    assert p.returncode != 0, p.stdout
    assert re.search(r"state directory .* is in use by another eota device", p.stdout), p.stdout
    assert open(os.path.join(dev.state, "slot_a.bin"), "rb").read() == before
    # the first one goes on
    assert up(dev, app_image("v2"))["result"] == "ok"
    assert dev.running_version(expect="v2") == "v2"
    dev.stop()
    # once it stopped, the directory is free
    restart(dev)
    dev.stop()


# --- 6. a read-only state directory -------------------------------------

@needs_root
@pytest.mark.device(OTA + GOOD_FAST)
def test_read_only_state_dir_runs_the_app_with_updates_off(dev):
    assert up(dev, app_image("v1"))["result"] == "ok"
    wait_state(dev, lambda s: s["slot_a"] == "valid")
    dev.stop()
    mount("--bind", dev.state, dev.state)
    try:
        mount("-o", "remount,ro,bind", dev.state)
        restart(dev)
        dev.wait_log(r"W.*read-only.*updates are off until it is writable")
        assert dev.running_version(expect="v1") == "v1", dev.log()[-3000:]
        res = up(dev, app_image("v2"))
        assert res["result"] == "error", res
        dev.wait_log(r"Update failed.*read-only")
        assert dev.running_version() == "v1"
        dev.stop()
    finally:
        umount(dev.state)
