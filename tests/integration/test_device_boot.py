"""Integration tests of the boot decisions of `eota device` (issue 5): an
application that keeps dying rolls a trial image back or leads to safe
mode, exactly as configured; one that lives long enough is confirmed; a
device killed with SIGKILL during an upload boots the old image with a
consistent state; SIGUSR1 requests safe mode like the stock button."""

import os
import signal
import threading
import time
import zlib

from devicelib import Device, app_image

import espota_stock as stock

OTA = "ota:\n  - platform: esphome\n"


def bad_image(tag="bad"):
    """An application that dies at once (a firmware that crashes at boot)."""
    return ("#!/bin/sh\necho %s >&2\nexit 3\n" % tag).encode()


def up(dev, data, **kw):
    return stock.upload("127.0.0.1", dev.port, data, handshake_timeout=10, data_timeout=30, **kw)


def wait_state(dev, pred, timeout=10.0):
    end = time.monotonic() + timeout
    st = {}
    while time.monotonic() < end:
        st = dev.boot_state()
        if st and pred(st):
            return st
        time.sleep(0.05)
    raise AssertionError("boot state never matched; last: %r\n%s" % (st, dev.log()[-3000:]))


def safe_mode_block(attempts=3, reboot="2s", good="1s", extra=""):
    return ("safe_mode:\n  num_attempts: %d\n  reboot_timeout: %s\n  boot_is_good_after: %s\n%s"
            % (attempts, reboot, good, extra))


def test_good_app_is_confirmed():
    dev = Device(OTA + safe_mode_block())
    try:
        img = app_image("v1", 70000)
        res = up(dev, img)
        assert res["result"] == "ok", res
        st = wait_state(dev, lambda s: s["active"] == "a")
        assert st["slot_a"] == "trial", st
        # the boot state records the image's size and CRC-32
        assert int(st["slot_a_size"]) == len(img), st
        assert int(st["slot_a_crc"], 16) == zlib.crc32(img), st
        assert dev.running_version(expect="v1") == "v1"
        st = wait_state(dev, lambda s: s["slot_a"] == "valid")
        assert st["attempts"] == "0", st
        dev.wait_log(r"Boot is good")
        dev.stop()
    finally:
        dev.cleanup()


def test_dying_trial_image_rolls_back():
    dev = Device(OTA + safe_mode_block())
    try:
        assert up(dev, app_image("v1"))["result"] == "ok"
        wait_state(dev, lambda s: s["slot_a"] == "valid")
        assert up(dev, bad_image())["result"] == "ok"
        st = wait_state(dev, lambda s: s["active"] == "a" and s["slot_b"] == "invalid")
        dev.wait_log(r"rolled back to slot a")
        assert dev.running_version(expect="v1") == "v1"
        # the device is ready for the next upload, which goes to slot b
        assert up(dev, app_image("v3"))["result"] == "ok"
        st = wait_state(dev, lambda s: s["active"] == "b")
        assert dev.running_version(expect="v3") == "v3"
        dev.stop()
    finally:
        dev.cleanup()


def test_dying_app_without_fallback_enters_safe_mode(tmp_path):
    mark = str(tmp_path)
    body = OTA + safe_mode_block(attempts=3, reboot="3s", extra="  on_safe_mode:\n    - shell: 'touch %s/entered'\n" % mark)
    dev = Device(body)
    try:
        assert up(dev, bad_image())["result"] == "ok"
        dev.wait_log(r"Entering safe mode after failed boots", timeout=15)
        # the 3 failed boots before it: attempts 1, 2, 3; safe mode on the 4th
        log = dev.log()
        assert "Boot attempt 4" in log, log[-3000:]
        assert "Boot attempt 5" not in log.split("Entering safe mode")[0], "safe mode came late"
        end = time.monotonic() + 5
        while not os.path.exists(mark + "/entered") and time.monotonic() < end:
            time.sleep(0.05)
        assert os.path.exists(mark + "/entered"), "on_safe_mode did not run"
        # in safe mode no application runs, but OTA does: a good image goes in
        before = log.count("Started the application")
        time.sleep(0.5)
        assert dev.log().count("Started the application") == before
        assert up(dev, app_image("fixed"))["result"] == "ok"
        assert dev.running_version(expect="fixed") == "fixed"
        wait_state(dev, lambda s: s["slot_b"] == "valid" and s["active"] == "b")
        dev.stop()
    finally:
        dev.cleanup()


def test_safe_mode_ends_after_reboot_timeout():
    dev = Device(OTA + safe_mode_block(attempts=2, reboot="1s"))
    try:
        assert up(dev, bad_image())["result"] == "ok"
        dev.wait_log(r"Entering safe mode", timeout=15)
        dev.wait_log(r"Safe mode is over: rebooting", timeout=10)
        dev.stop()
    finally:
        dev.cleanup()


def test_safe_mode_disabled():
    dev = Device(OTA + safe_mode_block(attempts=2, extra="  disabled: true\n"))
    try:
        assert up(dev, bad_image())["result"] == "ok"
        dev.wait_log(r"Boot attempt 6", timeout=15)
        assert "Entering safe mode" not in dev.log()
        dev.stop()
    finally:
        dev.cleanup()


def test_sigusr1_requests_safe_mode():
    dev = Device(OTA + safe_mode_block(reboot="30s"))
    try:
        assert up(dev, app_image("v1"))["result"] == "ok"
        assert dev.running_version(expect="v1") == "v1"
        dev.signal(signal.SIGUSR1)
        dev.wait_log(r"Entering safe mode \(requested\)")
        st = dev.boot_state()
        assert st["safe_mode_requested"] == "0", st  # the request was consumed
        dev.stop()
    finally:
        dev.cleanup()


def test_kill9_during_upload_boots_old_image():
    dev = Device(OTA + safe_mode_block() + "simulate:\n  flash_write_speed: 300000\n")
    try:
        old = app_image("v1", 2000)
        assert up(dev, old)["result"] == "ok"
        wait_state(dev, lambda s: s["slot_a"] == "valid")
        for cut_after in (0.3, 0.9):
            t = threading.Thread(target=lambda: up(dev, app_image("v2", 600000), compress=False))
            t.start()
            dev.wait_log(r"Starting update")
            time.sleep(cut_after)
            dev.proc.kill()
            dev.proc.wait()
            t.join(30)
            # the application of the killed device is orphaned: stop it
            os.system("pkill -f '%s' >/dev/null 2>&1" % dev.marker)
            if os.path.exists(dev.marker):
                os.unlink(dev.marker)
            dev.logf.close()
            st = dev.boot_state()
            assert st["active"] == "a" and st["slot_a"] == "valid", st
            assert st["slot_b"] in ("empty",), st
            dev.start()
            assert dev.running_version(expect="v1") == "v1", dev.log()[-2000:]
            assert dev.active_image(expect=old) == old
            assert not dev.parts(), dev.parts()
        assert up(dev, app_image("v3"))["result"] == "ok"
        assert dev.running_version(expect="v3") == "v3"
        dev.stop()
    finally:
        dev.cleanup()

