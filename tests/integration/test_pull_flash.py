"""ESPHome's `ota.http_request.flash` action and the update entry's
`on_update_available` trigger (issue 15), against a real nginx: the action
downloads through the pull path (the same ingest, events and checks, MD5
from md5: or md5_url:, eota's sha256:), a wrong MD5 installs nothing, and
on_update_available fires once for each newer version seen.
"""

import hashlib
import os
import re

from devicelib import app_image
from pulllib import device, nginx, publish, www  # noqa: F401

HTTP = "http_request:\n  timeout: 2s\n"


def flash_device(action, **kw):
    """A device whose on_boot runs the flash action (no update: entry)."""
    on_boot = ("  on_boot:\n    then:\n      - ota.http_request.flash:\n" +
               "".join("          %s: %s\n" % kv for kv in action))
    return device("ota:\n  - platform: esphome\n  - platform: http_request\n" + HTTP,
                  platform=on_boot + "host:", **kw)


def put(www, name, data):
    with open(os.path.join(www, name), "wb") as f:
        f.write(data)


def test_flash_action_with_md5_url_installs(nginx, www):
    img = app_image("5.0.0", 30000)
    put(www, "fw.bin", img)
    put(www, "fw.md5", (hashlib.md5(img).hexdigest() + "  fw.bin\n").encode())
    action = [("url", nginx.url("fw.bin")), ("md5_url", nginx.url("fw.md5")),
              ("sha256", hashlib.sha256(img).hexdigest())]
    with flash_device(action) as dev:
        assert dev.running_version(timeout=20, expect="5.0.0") == "5.0.0", dev.log()[-3000:]
        assert "ota.http_request.flash: downloading %s, its MD5 from %s" % (nginx.url("fw.bin"), nginx.url("fw.md5")) \
            in dev.log()
        assert "Starting update of" in dev.log() and "Update complete" in dev.log()  # the ingest's events
        # on_boot runs again after the reboot: with the image gone, the flash fails, nothing more installed
        os.unlink(os.path.join(www, "fw.bin"))
        dev.wait_log(r"Update failed: the download of version \(ota.http_request.flash\) failed: .*HTTP 404", 20)
        assert dev.running_version() == "5.0.0"
        rows = [r for r in nginx.log() if r["uri"] == "/fw.md5"]
        assert rows and all(r["status"] == 200 for r in rows), rows


def test_flash_action_wrong_md5_installs_nothing(nginx, www):
    put(www, "fw.bin", app_image("6.0.0", 3000))
    with flash_device([("url", nginx.url("fw.bin")), ("md5", "0" * 32)]) as dev:
        dev.wait_log(r"the image's MD5 is not the manifest's", 20)
        assert "ERROR_MD5_MISMATCH" in dev.log()
        assert dev.boot_state()["installs"] == "0" and dev.running_version(timeout=0.2) is None


def test_on_update_available_fires_once_per_version(nginx, www):
    marker = os.path.join(www, "..", "available-%d" % os.getpid())
    body = ("ota:\n  - platform: esphome\n  - platform: http_request\n" + HTTP +
            "update:\n  - platform: http_request\n    source: %s\n    update_interval: 1s\n"
            "    on_update_available:\n      then:\n        - logger.log: \"update available\"\n"
            "        - shell: \"echo seen >> %s\"\n" % (nginx.url("manifest.json"), marker))
    assert publish(app_image("1.0.0", 3000), "1.0.0", www).returncode == 0
    try:
        with device(body) as dev:
            assert dev.running_version(timeout=20, expect="1.0.0") == "1.0.0"
            dev.wait_log(r"Up to date: the manifest has 1.0.0", 10, count=2)
            assert publish(app_image("1.1.0", 3000), "1.1.0", www).returncode == 0
            assert dev.running_version(timeout=20, expect="1.1.0") == "1.1.0"
            dev.wait_log(r"Up to date: the manifest has 1.1.0", 10, count=3)
            assert len(re.findall(r"\[main\]: update available", dev.log())) == 2, dev.log()[-3000:]
            with open(marker) as f:
                assert f.read().split() == ["seen", "seen"]
    finally:
        if os.path.exists(marker):
            os.unlink(marker)
