"""Integration tests of `eota device` with Noise-encrypted OTA (PROTOCOL.md
section 10): a stock-like Noise uploader (noise_uploader.py, over the
independent reference tests/support/noise_ref.py) and the stock-like
plaintext uploader (espota_stock.py) against real device processes.

Offer mode (only `api: encryption: key:`): both uploaders install. Required
mode (`ota: encryption:`): plaintext gets 94, Noise installs. A wrong key
gets the reject frame `Handshake MAC failure` and changes nothing. IPv4 and
IPv6; SIGHUP rereads the key; a disconnect sweep through the encrypted
handshake and data phase leaves the device as it was.
"""
import base64
import socket

import pytest

from devicelib import Device, app_image

import espota_stock as stock
import noise_uploader as nup

KEY = bytes(range(1, 33))
KEY2 = bytes(range(2, 34))
B64 = base64.b64encode(KEY).decode()
B64_2 = base64.b64encode(KEY2).decode()
API = "api:\n  encryption:\n    key: \"%s\"\n" % B64
OFFER = API + "ota:\n  - platform: esphome\n"
REQUIRE = API + "ota:\n  - platform: esphome\n    encryption:\n"
REQUIRE_OWN = "ota:\n  - platform: esphome\n    encryption:\n      key: %s\n" % B64_2


def nup_ok(dev, data, key=KEY, host="127.0.0.1", **kw):
    res = nup.upload(host, dev.port, data, key, **kw)
    assert res["result"] == "ok", "Noise upload failed: %r\n%s" % (res, dev.log()[-2000:])


def install(dev, version, size=20000, host="127.0.0.1", key=KEY):
    img = app_image(version, size)
    nup_ok(dev, img, key=key, host=host)
    assert dev.running_version(expect=version) == version, dev.log()[-2000:]
    assert dev.active_image(expect=img) == img
    return img


def plain(dev, data, host="127.0.0.1"):
    return stock.upload(host, dev.port, data, handshake_timeout=10, data_timeout=30)


@pytest.mark.device(OFFER)
def test_offer_mode_serves_both(dev):
    dev.wait_log(r"OTA encryption \(Noise\): offered")
    install(dev, "v1", 30000)
    img = app_image("v2", 25000)
    res = plain(dev, img)
    assert res["result"] == "ok", res
    assert res["server_flags"] & 0x04, res  # the offer is visible to a plain client
    assert dev.running_version(expect="v2") == "v2"
    assert B64 not in dev.log()


@pytest.mark.device(REQUIRE)
def test_required_mode_refuses_plaintext(dev):
    dev.wait_log(r"OTA encryption \(Noise\): required")
    old = install(dev, "v1", 9000)
    res = plain(dev, app_image("v2", 9000))
    assert res["result"] == "error" and res["code"] == 0x94, res
    assert dev.idle(5)
    assert dev.active_image() == old
    install(dev, "v3", 70000)  # several blocks: the 47s inside Noise


@pytest.mark.device(REQUIRE_OWN)
def test_wrong_key_gets_reject_frame(dev):
    old = install(dev, "v1", 5000, key=KEY2)
    res = nup.upload("127.0.0.1", dev.port, app_image("v2", 5000), KEY)
    assert res == {"result": "rejected", "reason": "Handshake MAC failure"}, res
    assert dev.idle(5)
    assert dev.active_image() == old
    assert "the client uses another key" in dev.log()
    install(dev, "v3", 5000, key=KEY2)
    assert B64_2 not in dev.log()


def _no_ipv6_loopback():
    with socket.socket(socket.AF_INET6) as s:
        try:
            s.bind(("::1", 0))
        except OSError:
            return True
    return False


@pytest.mark.skipif(_no_ipv6_loopback(), reason="no IPv6 loopback")
def test_required_over_ipv6():
    dev = Device(REQUIRE, listen="::1")
    try:
        install(dev, "v1", 40000, host="::1")
        res = plain(dev, app_image("v2"), host="::1")
        assert res["result"] == "error" and res["code"] == 0x94, res
        dev.stop()
    finally:
        dev.cleanup()


@pytest.mark.device(REQUIRE_OWN)
def test_sighup_rereads_the_key(dev):
    install(dev, "v1", 3000, key=KEY2)
    with open(dev.config) as f:
        text = f.read()
    with open(dev.config, "w") as f:
        f.write(text.replace(B64_2, B64))
    dev.signal(1)  # SIGHUP
    dev.wait_log(r"Reloaded .*encryption required")
    res = nup.upload("127.0.0.1", dev.port, app_image("v2", 3000), KEY2)
    assert res["result"] == "rejected", res
    install(dev, "v3", 3000, key=KEY)


@pytest.mark.device(REQUIRE)
def test_disconnect_sweep_encrypted(dev):
    """Cut after every byte of the plaintext preamble and the handshake
    frame, and at 40 points of the encrypted fields and data: the old
    image stays, no descriptor leaks, the next upload succeeds."""
    old = install(dev, "v1", 4000)
    assert dev.idle()
    fds0 = dev.fds()
    img = app_image("v2", 60000)
    preamble = 5 + 1 + 52  # magic, features, handshake frame
    fields = 20 + 23 + 51  # type, size, MD5 frames
    data_wire = (len(img) + 1023) // 1024 * 19 + len(img)
    points = list(range(0, preamble + 1))
    points += [preamble + 1 + (i * (fields + data_wire - 2)) // 39 for i in range(40)]
    for n in points:
        res = nup.upload("127.0.0.1", dev.port, img, KEY, cut_after=n)
        assert res["result"] in ("cut", "closed"), (n, res)
        assert dev.idle(5), "device still busy after a cut at byte %d" % n
        assert dev.active_image() == old, "image changed after a cut at %d" % n
    assert not dev.parts(), dev.parts()
    assert dev.fds() == fds0
    install(dev, "v3", 50000)
