"""Pull updates of signed images (issues 14 and 15): `eota publish` copies
a signed image's trailer data into the manifest (ota.signature: key ids,
version, security counter, payload size, fields ESPHome ignores), and a
device with `ota: signature:` uses it before downloading: an unsigned
build, one signed by no trusted key, or a downgrade is skipped without a
request for the image (nginx's access log shows none); a tampered image
whose manifest lies is downloaded and refused by the signature check,
nothing installed, and not fetched again.
"""

import hashlib
import json
import os
import re
import tempfile

import signlib as sl
from devicelib import app_image
from pulllib import device, nginx, publish, www  # noqa: F401

KEYDIR = tempfile.mkdtemp(prefix="eota-pullkeys-")
K_GOOD = sl.Key(KEYDIR, "good")
K_EVIL = sl.Key(KEYDIR, "evil")


def signed_body(source, keys, required=True):
    return ("ota:\n  - platform: esphome\n    signature:\n      keys: [%s]\n      required: %s\n"
            "  - platform: http_request\n"
            "http_request:\n  timeout: 2s\n"
            "update:\n  - platform: http_request\n    source: %s\n    update_interval: 1s\n"
            % (", ".join(k.pub for k in keys), str(required).lower(), source))


def signed(version, counter, keys=(K_GOOD,), size=6000):
    tmp = tempfile.mkdtemp(prefix="eota-sign-")
    try:
        return sl.eota_sign(tmp, app_image(version, size), list(keys), version, counter)
    finally:
        os.system("rm -rf '%s'" % tmp)


def ok_publish(img, version, www):
    p = publish(img, version, www, "--image-name", "fw-%s.bin" % version)
    assert p.returncode == 0, p.stderr
    return p


def key_id(k):
    return hashlib.sha256(k.raw).digest()[:8].hex()


def image_requests(nginx, version):
    return [r for r in nginx.log() if r["uri"] == "/fw-%s.bin" % version]


def test_publish_copies_the_signature_data(www):
    img = sl.eota_sign(KEYDIR, app_image("2.1.0", 5000), [K_GOOD, K_EVIL], "2.1.0", 7)
    p = ok_publish(img, "2.1.0", www)
    assert "signed: version 2.1.0, security counter 7, 2 signature(s)" in p.stdout, p.stdout
    with open(os.path.join(www, "manifest.json")) as f:
        m = json.load(f)
    ota = m["builds"][0]["ota"]
    # ESPHome's fields untouched; eota's beside them
    assert isinstance(ota["path"], str) and len(ota["md5"]) == 32 and ota["size"] == len(img)
    assert ota["signature"] == {"key_ids": [key_id(K_GOOD), key_id(K_EVIL)], "version": "2.1.0",
                                "security_counter": 7, "payload_size": 5000}, ota
    # unsigned: no signature data
    p = ok_publish(app_image("2.2.0", 100), "2.2.0", www)
    assert "unsigned" in p.stdout
    with open(os.path.join(www, "manifest.json")) as f:
        assert "signature" not in json.load(f)["builds"][0]["ota"]
    # a trailer that does not parse is refused, nothing written
    bad = bytearray(img)
    bad[-11] ^= 0x01  # the footer's payload length
    p = publish(bytes(bad), "2.3.0", www)
    assert p.returncode == 1 and "signature trailer that does not parse" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(www, "fw-2.3.0.bin"))


def skipped(dev, nginx, version, why):
    dev.wait_log(r"Update skipped: version %s is not downloaded: .*%s" % (version.replace(".", r"\."), why), 15,
                 count=2)
    assert image_requests(nginx, version) == [], "the image of %s was requested" % version
    print(re.findall(r"\[W\]\[update\]: Update skipped: version %s .*" % re.escape(version), dev.log())[0])


def test_signed_installs_and_what_would_be_refused_is_not_downloaded(nginx, www):
    ok_publish(signed("1.0.0", 3), "1.0.0", www)
    with device(signed_body(nginx.url("manifest.json"), [K_GOOD])) as dev:
        assert dev.running_version(timeout=20, expect="1.0.0") == "1.0.0", dev.log()[-3000:]
        dev.wait_log(r"Signed image accepted: version 1.0.0, security counter 3", 5)
        assert len(image_requests(nginx, "1.0.0")) == 1
        # unsigned, on a device that requires signatures
        ok_publish(app_image("2.0.0", 6000), "2.0.0", www)
        skipped(dev, nginx, "2.0.0", r"has no signature data \(ota.signature\) and this device requires signed")
        # signed by a key the device does not trust
        ok_publish(signed("2.0.1", 3, keys=(K_EVIL,)), "2.0.1", www)
        skipped(dev, nginx, "2.0.1", r"signed by key %s, none of them trusted here" % key_id(K_EVIL))
        # a lower security counter: a downgrade, whatever the version says
        ok_publish(signed("2.0.2", 2), "2.0.2", www)
        skipped(dev, nginx, "2.0.2", r"its security counter 2 is lower than the running image's 3")
        assert dev.running_version() == "1.0.0" and dev.boot_state()["installs"] == "1"
        print("skipped without a request for their images: unsigned, untrusted key, lower counter")


def test_tampered_image_is_refused_and_not_fetched_again(nginx, www):
    ok_publish(signed("1.0.0", 1), "1.0.0", www)
    with device(signed_body(nginx.url("manifest.json"), [K_GOOD])) as dev:
        assert dev.running_version(timeout=20, expect="1.0.0") == "1.0.0", dev.log()[-3000:]
        before = dev.active_image()
        # the web server's files rewritten: a payload byte changed, the
        # manifest's MD5, SHA-256 and signature data made to match
        bad = bytearray(signed("1.1.0", 1))
        bad[100] ^= 0x01
        ok_publish(bytes(bad), "1.1.0", www)
        dev.wait_log(r"version 1\.1\.0 was refused by the signature check", 15)
        dev.wait_log(r"was refused by the signature check already", 10, count=2)
        print("\n".join(re.findall(r"\[E\]\[(?:ota|update)\]: Update (?:failed|check failed): .*", dev.log())[-2:]))
        assert len(image_requests(nginx, "1.1.0")) == 1  # fetched once, never again
        assert dev.active_image() == before and dev.running_version() == "1.0.0"
        assert dev.boot_state()["installs"] == "1"
        assert "ERROR_SIGNATURE" in dev.log() or "8D" in dev.log() or "signature" in dev.log()
        # the next good release installs
        ok_publish(signed("1.2.0", 1), "1.2.0", www)
        assert dev.running_version(timeout=20, expect="1.2.0") == "1.2.0"
