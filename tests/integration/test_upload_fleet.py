"""A fleet: 50 `eota device` processes on loopback, updated by one
`eota upload` run (one process, one poll loop), every image verified on its
device; then the same fleet with a password change done in one step
(--previous-password), and a run where some devices are down, which must
end with exit code 1 and a summary table naming them.
"""

import json
import os
import subprocess
import time

from devicelib import Device, app_image, eota_bin

OTA = "ota:\n  - platform: esphome\n"
N = 50


def run_upload(args, timeout=300):
    env = dict(os.environ)
    env.pop("EOTA_PASSWORD", None)
    p = subprocess.run([eota_bin(), "upload"] + args, capture_output=True, text=True, timeout=timeout,
                       env=env)
    js = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    return p.returncode, p.stdout, p.stderr, js


def test_fleet_of_50(tmp_path):
    devs = []
    tmp = str(tmp_path)
    try:
        for i in range(N):
            # half with a password, some on version 1, both gzip and raw
            body = OTA
            if i % 2:
                body += "    password: fleet-pw\n"
            if i % 5 == 0:
                body += "    version: 1\n"
            platform = "host:\n  gzip: true\n" if i % 3 else "esp32:\n  board: esp32dev\n"
            devs.append(Device(body, app=False, platform=platform))
        img = app_image("fleet-v1", 300000) + os.urandom(100000)
        fw = os.path.join(tmp, "fw.bin")
        with open(fw, "wb") as f:
            f.write(img)
        lst = os.path.join(tmp, "fleet.txt")
        with open(lst, "w") as f:
            f.write("# %d devices\n" % N)
            for d in devs:
                f.write("127.0.0.1:%d\n" % d.port)
        # devices without a password ignore it; the others need it
        t0 = time.monotonic()
        rc, out, err, js = run_upload([fw, "--devices-from", lst, "--jobs", "50", "--json", "-P", "fleet-pw"])
        took = time.monotonic() - t0
        assert rc == 0, "rc %d\n%s\n%s" % (rc, out[-3000:], err[-3000:])
        assert len(js) == N and all(j["result"] == "ok" for j in js), [j for j in js if j["result"] != "ok"]
        by_port = {j["port"]: j for j in js}
        for i, d in enumerate(devs):
            j = by_port[d.port]
            assert d.active_image(expect=img) == img, "device %d does not hold the image" % i
            assert j["protocol_version"] == (1 if i % 5 == 0 else 2), j
            assert j["auth"] == ("sha256" if i % 2 else "none"), j
            assert j["compressed"] == bool(i % 3), j
        print("  50 devices in %.1f s" % took)

        # a password change in one step: the uploader is given the new
        # password and the old one; the devices that still have the old one
        # take it at the second try
        img2 = app_image("fleet-v2", 200000)
        with open(fw, "wb") as f:
            f.write(img2)
        rc, out, err, js = run_upload([fw, "--devices-from", lst, "--json", "-P", "new-pw",
                                       "--previous-password", "fleet-pw"])
        assert rc == 0, err[-3000:]
        for i, d in enumerate(devs):
            j = [x for x in js if x["port"] == d.port][0]
            assert d.active_image(expect=img2) == img2, i
            if i % 2:
                assert j["password"] == "previous-1", j

        # some devices down: exit 1, a table that names them
        for d in devs[:3]:
            d.stop()
        rc, out, err, js = run_upload([fw, "--devices-from", lst, "-P", "fleet-pw", "--retries", "0"])
        assert rc == 1, (out, err)
        assert "3 of %d devices failed." % N in out, out
        assert out.count("FAILED") == 3 and out.count(" ok ") == N - 3, out
        for d in devs[:3]:
            assert "127.0.0.1:%d" % d.port in out
        assert err.count("connection refused") >= 3, err
    finally:
        for d in devs:
            try:
                d.stop(expect_rc=None)
            finally:
                d.cleanup()
