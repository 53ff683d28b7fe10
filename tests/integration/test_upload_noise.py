"""Integration tests of `eota upload` with Noise encryption (PROTOCOL.md
section 10), the uploader as initiator: against noise_peer.py, a device
written independently in Python from the Noise specification, and against
`eota device` with an encryption key. Offer mode, required mode, a wrong
key, --previous-key, the API-key fallback and --allow-plaintext, over IPv4
and IPv6; where the key comes from and the errors of a malformed one.
"""

import base64
import os
import socket
import subprocess
import sys

import pytest

from devicelib import app_image, eota_bin
from noise_peer import NoisePeer
from test_upload import eota_upload, write_tmp

KEY = bytes(range(1, 33))
OLD = bytes(range(101, 133))
B64 = base64.b64encode(KEY).decode()
OLD64 = base64.b64encode(OLD).decode()


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def key_file(text):
    return write_tmp(text + "\n", suffix=".key")


def run(peer, img, *args, env=None, rc=None):
    fw = write_tmp(img)
    try:
        code, out, err, js = eota_upload(fw, "--device", peer.spec(), "--json", "--retries", "0", *args, env=env)
    finally:
        os.unlink(fw)
    if rc is not None:
        assert code == rc, "rc %d\nstdout: %s\nstderr: %s\nsessions: %r" % (code, out, err, peer.sessions)
    return code, (js[0] if js else None), err


def with_key(*args, key=B64):
    """--key-file with a fresh file (removed by the caller's tmp cleanup)."""
    return ("--key-file", key_file(key)) + args


def check_frames(s, size):
    """Control fields one frame each (type 1, size 4, MD5 32), the image in
    frames of 1024 bytes but the last, the final 00 a frame of 1."""
    f = s["frames"]
    assert f[:3] == [1, 4, 32], f
    data = f[3:-1]
    assert sum(data) == size and all(n == 1024 for n in data[:-1]) and 1 <= data[-1] <= 1024, data[:5]
    assert s["final"] == b"\x00", s


# ---------------------------------------------------------------- against the Python peer

@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_offer_mode(host):
    if host == "::1" and not have_ipv6():
        pytest.skip("no IPv6 loopback")
    with NoisePeer(key=KEY, mode="offer", host=host) as peer:
        img = os.urandom(200000)
        _, j, err = run(peer, img, *with_key("--window", "4", "--compress", "never"), rc=0)
        s = peer.sessions[0]
        assert s["encrypted"] and s["image"] == img and s["features"] == 0x0E, s["features"]
        check_frames(s, len(img))
        assert j["encrypted"] is True and j["key"] == "current" and j["auth"] == "noise", j
        assert j["server_flags"] == 0x04 and j["bytes_sent"] == len(img), j
        assert "encrypted (Noise)" in j["message"], j


def test_required_mode():
    with NoisePeer(key=KEY, mode="require") as peer:
        img = os.urandom(30000)
        # without a key: 94, in words, with what to do
        _, j, err = run(peer, img, rc=1)
        assert j["error"] == "device_error" and j["error_code"] == 0x94, j
        assert "encrypted uploads only" in j["message"] and "EOTA_KEY" in j["message"], j
        assert peer.sessions[0]["features"] & 0x08 == 0, peer.sessions[0]
        # with it (from the variable EOTA_KEY)
        _, j, err = run(peer, img, env={"EOTA_KEY": B64}, rc=0)
        assert j["encrypted"] is True and peer.sessions[1]["image"] == img, j


def test_wrong_key():
    with NoisePeer(key=OLD, mode="offer") as peer:
        _, j, err = run(peer, os.urandom(30000), *with_key(), rc=1)
        assert j["error"] == "wrong_key" and j["phase"] == "noise" and j["encrypted"] is False, j
        assert "Handshake MAC failure" in j["message"] and "is the encryption key right?" in j["message"], j
        assert "--previous-key" in j["message"] and j["attempts"] == 1, j
        assert len(peer.sessions) == 1 and peer.sessions[0]["result"] == "reject", peer.sessions


def test_previous_key():
    with NoisePeer(key=OLD, mode="offer") as peer:
        img = os.urandom(70000)
        other = base64.b64encode(bytes([7] * 32)).decode()
        _, j, err = run(peer, img, *with_key("--previous-key", other, "--previous-key", OLD64), rc=0)
        assert j["encrypted"] is True and j["key"] == "previous-2", j
        assert "trying --previous-key #1" in err and "trying --previous-key #2" in err, err
        assert "encrypted with --previous-key #2 (the device still had the old key)" in j["message"], j
        assert [s["result"] for s in peer.sessions] == ["reject", "reject", "ok"], peer.sessions
        assert peer.sessions[2]["image"] == img
        # every key wrong: says so
        _, j, err = run(peer, img, *with_key("--previous-key", other), rc=1)
        assert j["error"] == "wrong_key" and "every --previous-key was tried" in j["message"], j


def test_fleet_key_rotation_in_one_run():
    """Some devices still hold the old key: one run installs on all, and
    each result says which key worked."""
    peers = [NoisePeer(key=k, mode=m) for k, m in ((OLD, "offer"), (KEY, "require"), (OLD, "require"))]
    fw = write_tmp(os.urandom(50000))
    try:
        args = ["--device", peers[0].spec(), "--device", peers[1].spec(), "--device", peers[2].spec()]
        code, out, err, js = eota_upload(fw, *args, "--json", *with_key("--previous-key", OLD64))
        assert code == 0, err
        keys = {j["device"]: j["key"] for j in js}
        assert keys == {peers[0].spec(): "previous-1", peers[1].spec(): "current", peers[2].spec(): "previous-1"}, js
        assert all(j["encrypted"] for j in js), js
    finally:
        os.unlink(fw)
        for p in peers:
            p.close()


def test_device_without_noise():
    with NoisePeer(mode="plain") as peer:
        img = os.urandom(30000)
        # a key from the command line: never plaintext
        _, j, err = run(peer, img, *with_key(), rc=1)
        assert j["error"] == "encryption_unavailable" and j["bytes_sent"] == 0, j
        assert "does not offer encryption" in j["message"] and "--allow-plaintext" in j["message"], j
        s = peer.sessions[0]
        assert s["features"] == 0x0E and "type" not in s, s
        # --allow-plaintext: the migration install, with a warning
        _, j, err = run(peer, img, *with_key("--allow-plaintext"), rc=0)
        assert j["encrypted"] is False and j["key"] is None and peer.sessions[1]["image"] == img, j
        assert "warning: the device does not offer encryption" in err, err


@pytest.mark.parametrize("code", [None, 0x83])
def test_device_gives_up_in_the_data_phase(code):
    """Closed without answering, or an encrypted error byte, mid-image: named,
    with its phase, and not retried once the image might be complete."""
    with NoisePeer(key=KEY, mode="offer", close_after=100000, code_after=code) as peer:
        _, j, err = run(peer, os.urandom(400000), *with_key("--retry-delay", "0.1", "--retries", "1"), rc=1)
        if code is None:
            assert j["error"] == "closed" and j["phase"] == "data", j
        else:
            assert j["error"] == "device_error" and j["error_code"] == 0x83 and "failed to write the image" in j["message"], j
        assert j["bytes_sent"] < 400000 and j["encrypted"] is True, j


def test_golden_transcripts_are_the_generators(tmp_path):
    """tests/golden/client/*.txt (replayed by tests/unit/test_client_noise.c)
    are exactly what the independent Python implementation computes."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "client")
    subprocess.run([sys.executable, os.path.join(here, "gen_noise.py"), str(tmp_path)], check=True)
    names = sorted(n for n in os.listdir(here) if n.endswith(".txt"))
    assert names == sorted(os.listdir(tmp_path)) and len(names) == 3, names
    for n in names:
        with open(os.path.join(here, n)) as a, open(os.path.join(tmp_path, n)) as b:
            assert a.read() == b.read(), "%s differs from gen_noise.py's output" % n


# ---------------------------------------------------------------- keys: where from, malformed

def upload_usage(*args, env=None):
    fw = write_tmp(b"x" * 100)
    try:
        return eota_upload(fw, "--device", "127.0.0.1:1", *args, env=env)
    finally:
        os.unlink(fw)


@pytest.mark.parametrize("text,why", [
    ("not base64!", "not base64"),
    (base64.b64encode(b"k" * 16).decode(), "decodes to 16 bytes"),
    (base64.b64encode(bytes(32)).decode(), "all zeros"),
])
def test_malformed_key(text, why):
    kf = key_file(text)
    try:
        for args, env, where in ((("--key-file", kf), None, "--key-file " + kf),
                                 ((), {"EOTA_KEY": text}, "the variable EOTA_KEY"),
                                 (("--key", B64, "--previous-key", text), None, "--previous-key #1")):
            rc, out, err, _ = upload_usage(*args, env=env)
            assert rc == 2, (rc, err)
            assert "encryption key from %s is malformed" % where in err and why in err, err
            assert "openssl rand -base64 32" in err, err
            assert text not in err or why == "not base64", err
    finally:
        os.unlink(kf)
    rc, _, err, _ = upload_usage("--key-file", "/nonexistent/k")
    assert rc == 2 and "cannot open --key-file '/nonexistent/k'" in err, err
    rc, _, err, _ = upload_usage("--previous-key", B64)
    assert rc == 2 and "--previous-key is tried when a device rejects the current key" in err, err
    rc, _, err, _ = upload_usage("--key", B64, "--ota-platform", "web_server")
    assert rc == 2 and "go with native OTA" in err, err


def test_key_on_the_command_line_warns_and_is_hidden():
    with NoisePeer(key=KEY, mode="offer", hold=True) as peer:
        fw = write_tmp(os.urandom(5000))
        p = subprocess.Popen([eota_bin(), "upload", fw, "-d", peer.spec(), "--json", "--key", B64,
                              "--previous-key", OLD64], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert peer.accepted.wait(20)
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                argv = f.read().split(b"\0")
            assert B64.encode() not in argv and OLD64.encode() not in argv, argv
            assert b"x" * len(B64) in argv, argv
            peer.go.set()
            out, err = p.communicate(timeout=60)
        finally:
            p.kill() if p.poll() is None else None
            os.unlink(fw)
        assert p.returncode == 0, err
        assert "a key on the command line" in err and "prefer --key-file" in err, err
        assert B64 not in err and '"encrypted":true' in out, (out, err)


# ---------------------------------------------------------------- against eota device

API = 'api:\n  encryption:\n    key: "%s"\n' % B64
OTA = "ota:\n  - platform: esphome\n"
OFFER = API + OTA
REQUIRE = API + OTA + "    encryption:\n"
REQUIRE_OLD = OTA + "    encryption:\n      key: %s\n" % OLD64


def dev_upload(dev, img, *args, config=None, host="127.0.0.1", rc=0, version=None, env=None):
    """eota upload to a device (with CONFIG --file when config is given);
    an upload that should work is checked on the device."""
    fw = write_tmp(img)
    spec = "[%s]:%d" % (host, dev.port) if ":" in host else "%s:%d" % (host, dev.port)
    head = (config, "--file", fw) if config else (fw,)
    try:
        code, out, err, js = eota_upload(*head, "--device", spec, "--json", "--retries", "0", *args, env=env)
    finally:
        os.unlink(fw)
    assert code == rc, "rc %d\nstdout: %s\nstderr: %s\ndevice log: %s" % (code, out, err, dev.log()[-2000:])
    assert B64 not in out + err and OLD64 not in out + err, "a key in the output"
    if rc == 0:
        assert dev.active_image(expect=img) == img, "the device does not hold the image"
        if version:
            assert dev.running_version(expect=version) == version
    return js[0], err


@pytest.mark.device(OFFER)
def test_device_offer_mode_key_from_the_config(dev):
    # the key the device has, read by the uploader from the same config
    j, _ = dev_upload(dev, app_image("v1", 120000), config=dev.config, version="v1")
    assert j["encrypted"] is True and j["key"] == "current" and j["server_flags"] & 0x04, j
    # without a key, the device still serves plaintext
    j, _ = dev_upload(dev, app_image("v2", 30000), version="v2")
    assert j["encrypted"] is False and j["auth"] == "none", j
    assert B64 not in dev.log()


@pytest.mark.device(REQUIRE)
def test_device_required_mode(dev):
    j, _ = dev_upload(dev, app_image("v1", 30000), rc=1)
    assert j["error_code"] == 0x94 and "encrypted uploads only" in j["message"], j
    j, _ = dev_upload(dev, app_image("v2", 90000), "--window", "2", env={"EOTA_KEY": B64}, version="v2")
    assert j["encrypted"] is True and j["protocol_version"] == 2, j


@pytest.mark.device(REQUIRE_OLD)
def test_device_wrong_key_then_previous_key(dev):
    before = dev.active_image()
    j, _ = dev_upload(dev, app_image("v1", 30000), *with_key(), rc=1)
    assert j["error"] == "wrong_key" and "is the encryption key right?" in j["message"], j
    assert dev.active_image() == before, "a rejected upload changed the device"
    # the rotation in one step: the new key first, the device's old one as --previous-key
    j, err = dev_upload(dev, app_image("v2", 50000), *with_key("--previous-key", OLD64), version="v2")
    assert j["encrypted"] is True and j["key"] == "previous-1", j
    assert "trying --previous-key #1" in err, err


def plain_device_cases(dev, host):
    """A device without a key: the config's api: key falls back with a
    warning; an ota: key or --key-file never sends plaintext;
    --allow-plaintext does."""
    cfg_api = write_tmp("esphome:\n  name: x\nhost:\n" + OFFER, suffix=".yaml")
    cfg_ota = write_tmp("esphome:\n  name: x\nhost:\n" + REQUIRE, suffix=".yaml")
    try:
        j, err = dev_upload(dev, app_image("v1", 40000), config=cfg_api, host=host, version="v1")
        assert j["encrypted"] is False and "does not offer encryption" in err and "2027.3" in err, (j, err)
        j, _ = dev_upload(dev, app_image("v2", 40000), config=cfg_ota, host=host, rc=1)
        assert j["error"] == "encryption_unavailable" and cfg_ota in j["message"], j
        j, _ = dev_upload(dev, app_image("v3", 40000), *with_key(), host=host, rc=1)
        assert j["error"] == "encryption_unavailable" and "--allow-plaintext" in j["message"], j
        j, err = dev_upload(dev, app_image("v4", 40000), *with_key("--allow-plaintext"), host=host, version="v4")
        assert j["encrypted"] is False and "--allow-plaintext" in err, (j, err)
    finally:
        os.unlink(cfg_api)
        os.unlink(cfg_ota)


@pytest.mark.device(OTA)
def test_device_without_a_key(dev):
    plain_device_cases(dev, "127.0.0.1")


@pytest.mark.skipif(not have_ipv6(), reason="no IPv6 loopback")
@pytest.mark.device(OTA, listen="::1")
def test_device_without_a_key_over_ipv6(dev):
    plain_device_cases(dev, "::1")


@pytest.mark.skipif(not have_ipv6(), reason="no IPv6 loopback")
@pytest.mark.device(REQUIRE_OLD, listen="::1")
def test_device_over_ipv6(dev):
    j, _ = dev_upload(dev, app_image("v1", 30000), *with_key(), host="::1", rc=1)
    assert j["error"] == "wrong_key", j
    j, _ = dev_upload(dev, app_image("v2", 70000), *with_key("--previous-key", OLD64), host="::1", version="v2")
    assert j["encrypted"] is True and j["key"] == "previous-1" and j["address"] == "::1", j
