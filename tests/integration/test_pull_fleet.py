"""A fleet polling one web server (issue 15): 50 `eota device` processes
poll one nginx for a manifest published by `eota publish`; all of them
install the release; the server's access log tells how many requests and
bytes that cost, and what a check that finds nothing new costs
(docs/pull-updates.md does the arithmetic for a large fleet from these).
EOTA_FLEET_DEVICES sets the size (default 50).
"""

import os
import tempfile
import time

from conftest import expect_clean_stop
from devicelib import Device, app_image
from pulllib import Nginx, publish, pull_body

N = int(os.environ.get("EOTA_FLEET_DEVICES", "50"))
SIZE = 100000


def test_fleet_of_devices_polls_one_nginx():
    www = tempfile.mkdtemp(prefix="eota-www-")
    os.chmod(www, 0o755)
    nginx = Nginx(www)
    devs = []
    try:
        img = app_image("5.0.0", SIZE)
        p = publish(img, "5.0.0", www, "--image-name", "fw.bin")
        assert p.returncode == 0, p.stderr
        body = pull_body(nginx.url("manifest.json"), interval="3s", timeout="5s")
        t0 = time.monotonic()
        for i in range(N):
            devs.append(Device(body, app=False, name="fleet%d" % i))
        end = time.monotonic() + 120
        pending = list(devs)
        while pending and time.monotonic() < end:
            pending = [d for d in pending if d.active_image() != img]
            time.sleep(0.2)
        assert not pending, "%d devices not updated:\n%s" % (len(pending), pending[0].log()[-3000:])
        updated = time.monotonic() - t0
        rows = nginx.log()
        images = [r for r in rows if r["uri"] == "/fw.bin"]
        assert len(images) == N and all(r["status"] == 200 and r["body_bytes"] == SIZE for r in images)
        # a further round of checks: each one conditional, answered 304
        mark = len(rows)
        time.sleep(4)
        later = [r for r in nginx.log()[mark:] if r["uri"] == "/manifest.json"]
        assert len(later) >= N // 2 and all(r["status"] == 304 for r in later), later[:5]
        req = sum(r["request_length"] for r in later) / len(later)
        resp = sum(r["bytes_sent"] for r in later) / len(later)
        print("%d devices updated in %.1f s: %d requests, %d bytes sent (%d images of %d B); "
              "a check with nothing new: %.0f B in, %.0f B out (304)"
              % (N, updated, len(rows), sum(r["bytes_sent"] for r in rows), len(images), SIZE, req, resp))
        for d in devs:
            expect_clean_stop(d)
    finally:
        for d in devs:
            d.cleanup()
        nginx.stop()
        os.system("rm -rf '%s'" % www)
