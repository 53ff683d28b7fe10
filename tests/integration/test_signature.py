"""Signed images (docs/signed-images.md): the tools against OpenSSL's
command line both ways, and `eota device` with `signature:` refusing every
altered, unsigned, untrusted or downgraded image with the right code
(nothing installed, the old image still running) and installing the
accepted ones (a dual-signed bridge, an equal counter), by the stock-like
uploader, unchanged, with gzip on the wire.
"""

import os
import struct
import tempfile

import pytest

import espota_stock as stock
import signlib as sl
from conftest import expect_clean_stop
from devicelib import Device, app_image

KEYDIR = tempfile.mkdtemp(prefix="eota-sigkeys-")
K_OLD = sl.Key(KEYDIR, "old")
K_NEW = sl.Key(KEYDIR, "new")
K_EVIL = sl.Key(KEYDIR, "evil")
K_SSL = sl.Key(KEYDIR, "ossl", openssl=True)

SIG_OK, SIG_BAD, DOWNGRADE = 0x45, 0x8D, 0x93


def ota(keys, required=True, allow_downgrade=False):
    return ("ota:\n  - platform: esphome\n    signature:\n      keys: [%s]\n"
            "      required: %s\n      allow_downgrade: %s\n"
            % (", ".join(k.pub for k in keys), str(required).lower(),
               str(allow_downgrade).lower()))


@pytest.fixture
def sdev(request):
    marker = request.node.get_closest_marker("device")
    d = Device(*marker.args, **marker.kwargs)
    try:
        yield d
        expect_clean_stop(d)
    finally:
        d.cleanup()


def up(dev, data):
    return stock.upload("127.0.0.1", dev.port, data, handshake_timeout=10, data_timeout=30)


def signed(tmp, version, counter=0, keys=(K_OLD,), size=4000):
    return sl.eota_sign(str(tmp), app_image(version, size), list(keys), version, counter)


def install(dev, img, version):
    res = up(dev, img)
    assert res["result"] == "ok", (res, dev.log()[-2000:])
    payload = sl.parse(img)[0] if img.endswith(sl.MAGIC) else img
    assert dev.running_version(expect=version) == version, dev.log()[-2000:]
    assert dev.active_image(expect=payload) == payload  # installed without its trailer


def refused(dev, img, code, running, why=None):
    before = dev.active_image()
    res = up(dev, img)
    assert res["result"] == "error" and res["code"] == code, (hex(code), res, dev.log()[-1500:])
    assert dev.active_image() == before  # nothing installed
    assert dev.running_version() == running  # the old image still running
    if why:
        dev.wait_log(why, 5)


# --- the tools against OpenSSL ---

def test_openssl_verifies_eota_sign(tmp_path):
    img = sl.eota_sign(str(tmp_path), os.urandom(5000), [K_OLD, K_NEW], "1.0", 7)
    payload, prot, fields, pairs = sl.parse(img)
    d = sl.digest(payload, prot)
    assert fields[sl.T_SHA256] == d and len(pairs) == 2
    assert pairs[0][0] == K_OLD.hash and pairs[1][0] == K_NEW.hash
    assert sl.openssl_verify(K_OLD, d, pairs[0][1])
    assert sl.openssl_verify(K_NEW, d, pairs[1][1])
    assert not sl.openssl_verify(K_NEW, d, pairs[0][1])
    assert not sl.openssl_verify(K_OLD, bytes([d[0] ^ 1]) + d[1:], pairs[0][1])


def test_eota_verify_accepts_openssl_signature(tmp_path):
    img = sl.sign_py(os.urandom(3000), [K_SSL], "2.5.1", counter=4)
    r = sl.eota_verify(str(tmp_path), img, [K_SSL])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "version: 2.5.1" in r.stdout and "counter: 4" in r.stdout and "verified: yes" in r.stdout
    r = sl.eota_verify(str(tmp_path), img, [K_OLD])
    assert r.returncode == 1 and "verified: NO" in r.stdout
    bad = bytearray(img)
    bad[10] ^= 1
    assert sl.eota_verify(str(tmp_path), bytes(bad), [K_SSL]).returncode == 1


def test_tools_errors(tmp_path):
    r = sl.run(sl.eota_bin(), "sign", "--key", K_OLD.keyfile, "nothere.bin", "-o", "x")
    assert r.returncode == 1 and b"nothere.bin" in r.stderr
    r = sl.run(sl.eota_bin(), "verify", "--pubkey", "A" * 43 + "=", "x")
    assert r.returncode == 2 and b"low-order" in r.stderr
    r = sl.run(sl.eota_bin(), "keygen")
    assert r.returncode == 2 and b"--out" in r.stderr
    for cmd in ("keygen", "sign", "verify"):
        r = sl.run(sl.eota_bin(), cmd, "--help")
        assert r.returncode == 0 and b"usage: eota " + cmd.encode() in r.stdout
    # adding a signature keeps the fields: another version is refused
    img = signed(tmp_path, "1.0")
    src = str(tmp_path / "s.bin")
    open(src, "wb").write(img)
    r = sl.run(sl.eota_bin(), "sign", "--key", K_NEW.keyfile, "--version", "2.0", src, "-o", src + ".2")
    assert r.returncode == 1 and b"signed already" in r.stderr


# --- the device ---

def tampered_images(tmp_path):
    """Each region altered by one byte, and the malformed trailers."""
    img = signed(tmp_path, "2.0", 5)
    payload, prot, fields, pairs = sl.parse(img)
    n_prot = len(payload) + 10  # inside the version entry
    n_unprot = len(payload) + len(prot) + 8  # inside the SHA256 entry
    out = {}
    for name, at in (("payload", 100), ("protected", n_prot), ("unprotected", n_unprot),
                     ("signature", len(img) - 20), ("footer", len(img) - 3)):
        b = bytearray(img)
        b[at] ^= 0x20
        out[name] = bytes(b)
    areas = len(img) - len(payload) - 16
    out["truncated"] = img[:len(payload) + 20] + img[-16:]
    out["longer_than_image"] = b"x" * 10 + struct.pack("<II", 400, 10) + sl.MAGIC
    out["footer_len"] = img[:-16] + struct.pack("<II", areas + 4, len(payload)) + sl.MAGIC
    return out


@pytest.mark.device(ota([K_OLD, K_NEW]))
def test_tampered_refused(sdev, tmp_path):
    install(sdev, signed(tmp_path, "1.0", 1), "1.0")
    for name, img in tampered_images(tmp_path).items():
        refused(sdev, img, SIG_BAD, "1.0")
    refused(sdev, signed(tmp_path, "2.0", 5, keys=(K_EVIL,)), SIG_BAD, "1.0", "no valid signature")
    refused(sdev, app_image("2.0", 4000), SIG_BAD, "1.0", "the image is not signed")
    assert not [n for n in os.listdir(sdev.state) if n.endswith(".tmp")]


@pytest.mark.device(ota([K_OLD]))
def test_downgrade_refused_equal_counter_installed(sdev, tmp_path):
    install(sdev, signed(tmp_path, "1.5", 3), "1.5")
    refused(sdev, signed(tmp_path, "1.6", 2), DOWNGRADE, "1.5", "security counter lower")
    refused(sdev, signed(tmp_path, "1.4", 3), DOWNGRADE, "1.5", "version lower")
    install(sdev, signed(tmp_path, "1.10", 3), "1.10")  # equal counter, 1.10 > 1.5
    install(sdev, signed(tmp_path, "1.10", 3, size=5000), "1.10")  # the same version again


@pytest.mark.device(ota([K_OLD], allow_downgrade=True))
def test_allow_downgrade_keeps_the_counter(sdev, tmp_path):
    install(sdev, signed(tmp_path, "3.0", 2), "3.0")
    install(sdev, signed(tmp_path, "2.0", 2), "2.0")
    refused(sdev, signed(tmp_path, "1.0", 1), DOWNGRADE, "2.0")


@pytest.mark.device(ota([K_NEW]))
def test_bridge_image_rotates_the_key(sdev, tmp_path):
    # the bridge: signed by the old key, then the new key's signature added
    bridge = signed(tmp_path, "2.0", 1, keys=(K_OLD,))
    bridge = sl.eota_sign(str(tmp_path), bridge, [K_NEW])
    assert len(sl.parse(bridge)[3]) == 2
    install(sdev, bridge, "2.0")  # a device trusting the new key only
    refused(sdev, signed(tmp_path, "3.0", 1, keys=(K_OLD,)), SIG_BAD, "2.0")
    install(sdev, signed(tmp_path, "3.0", 1, keys=(K_NEW,)), "3.0")


@pytest.mark.device(ota([K_OLD], required=False))
def test_not_required_takes_unsigned_refuses_bad(sdev, tmp_path):
    install(sdev, app_image("u1", 3000), "u1")
    b = bytearray(signed(tmp_path, "2.0", 1))
    b[50] ^= 1
    refused(sdev, bytes(b), SIG_BAD, "u1")
    install(sdev, signed(tmp_path, "2.0", 1), "2.0")


def test_low_order_key_refused_at_load(tmp_path):
    cfg = tmp_path / "d.yaml"
    cfg.write_text("esphome:\n  name: x\nhost:\n" + ota([K_OLD]).replace(K_OLD.pub, "A" * 43 + "="))
    r = sl.run(sl.eota_bin(), "device", "--config", str(cfg), "--state-dir", str(tmp_path / "s"))
    assert r.returncode != 0 and b"small order" in r.stderr, r.stderr


@pytest.mark.device(ota([K_OLD]))
def test_eota_upload_words(sdev, tmp_path):
    img = signed(tmp_path, "1.0", 1)
    path = str(tmp_path / "fw.signed.bin")
    open(path, "wb").write(img)
    spec = "127.0.0.1:%d" % sdev.port
    r = sl.run(sl.eota_bin(), "upload", path, "--device", spec, text=True)
    assert r.returncode == 0, r.stderr
    assert "sending a signed image: version 1.0, security counter 1, key %s" % K_OLD.hash[:8].hex() in r.stderr
    open(path, "wb").write(signed(tmp_path, "0.5", 1))
    r = sl.run(sl.eota_bin(), "upload", path, "--device", spec, text=True)
    assert r.returncode == 1 and "0x93 ERROR_VERSION_DOWNGRADE" in r.stdout + r.stderr
    assert "allow_downgrade: true" in r.stdout + r.stderr
    open(path, "wb").write(app_image("2.0", 3000))
    r = sl.run(sl.eota_bin(), "upload", path, "--device", spec, text=True)
    assert r.returncode == 1 and "0x8D ERROR_SIGNATURE_INVALID" in r.stdout + r.stderr
    assert "signed image" not in r.stderr and "eota sign --key" in r.stdout + r.stderr
    assert sdev.running_version() == "1.0"


@pytest.fixture
def wdev(request):
    from weblib import WebDevice
    d = WebDevice(ota([K_OLD]) + "  - platform: web_server\n")
    try:
        yield d
        expect_clean_stop(d)
    finally:
        d.cleanup()


def test_web_upload_checked(wdev, tmp_path):
    img = signed(tmp_path, "1.0", 1)
    status, _, body = wdev.upload(img)
    assert status == 200, body
    assert wdev.running_version(expect="1.0") == "1.0"
    assert wdev.active_image(expect=sl.parse(img)[0]) == sl.parse(img)[0]
    before = wdev.active_image()
    for bad in (app_image("2.0", 3000), signed(tmp_path, "3.0", 1, keys=(K_EVIL,)), signed(tmp_path, "0.1", 1)):
        status, _, body = wdev.upload(bad)
        assert status >= 400, (status, body)
        assert wdev.active_image() == before and wdev.running_version() == "1.0"


def test_minisign_detached_signature(tmp_path):
    src, out = str(tmp_path / "fw.bin"), str(tmp_path / "fw.signed.bin")
    open(src, "wb").write(os.urandom(7000))
    r = sl.run(sl.eota_bin(), "sign", "--key", K_OLD.keyfile, "--version", "1.0", "--minisig", src, "-o", out,
               text=True)
    assert r.returncode == 0, r.stderr
    pub = r.stdout.split("minisign -V -P ")[1].split()[0]
    r = sl.run("minisign", "-V", "-P", pub, "-m", out, text=True)
    assert r.returncode == 0 and "file:fw.signed.bin" in r.stdout, r.stdout + r.stderr
    with open(out, "ab") as f:
        f.write(b"\0")
    assert sl.run("minisign", "-V", "-P", pub, "-m", out).returncode != 0


@pytest.mark.device(ota([K_OLD]), platform="esp8266:\n  board: d1_mini\n")
def test_gzip_signature_covers_inflated_image(sdev, tmp_path):
    # a profile that offers gzip: the stock uploader compresses, the device
    # inflates while receiving, and the signature is of the inflated image
    img = signed(tmp_path, "1.0", 1, size=60000)
    res = up(sdev, img)
    assert res["result"] == "ok" and res["gzip"], res
    assert sdev.running_version(expect="1.0") == "1.0"
    assert sdev.active_image(expect=sl.parse(img)[0]) == sl.parse(img)[0]
    bad = bytearray(signed(tmp_path, "2.0", 1, size=60000))
    bad[30000] ^= 1
    res = up(sdev, bytes(bad))
    assert res["gzip"] and res["code"] == SIG_BAD, res
    assert sdev.running_version() == "1.0"
