"""Staged rollouts to eota devices verified by what they publish on mDNS
(issue 13 with issue 12): after the 45 the rollout waits until the
device's _eota._tcp TXT shows the new image (with --wait-confirmed: shows
it confirmed); a device whose application crashes until it rolls back is
named "rolled_back" with the reason it gives; a device already running the
image is skipped; and fleets of 50 eota devices: the canary catches a bad
image, the halt comes at exactly the threshold, and a rollout killed with
SIGKILL goes on from its journal without sending any device the image
twice (the mDNS skip covers a kill between a 45 and its journal record).

The devices run in one network namespace, the uploader in another, joined
by veth pairs on a bridge (mdnslib.Net): that is where multicast works.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from devicelib import app_image, eota_bin
from mdnslib import Net, NsDevice, missing_facility

_why = missing_facility()
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")

APP = ('app:\n  command: ["{image}", "%s"]\n  stop_timeout: 2s\n'
       'safe_mode:\n  num_attempts: 3\n  boot_is_good_after: %s\n')
FAIL = "simulate:\n  fail_at: write\n  fail_after_bytes: 1000\n"
CRASH = b"#!/bin/sh\necho bad >&2\nexit 3\n" + b"#" * 3000 + b"\n"
BASE_PORT = 3300


@pytest.fixture
def net():
    n = Net(3)  # 0: the hub, 1: the devices, 2: the uploader
    yield n
    n.close()


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="eota-ro-mdns-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Fleet:
    """n eota devices in namespace 1, ports BASE_PORT.., names dev00..;
    those in failing fail every upload (simulate:)."""

    def __init__(self, net, n, failing=(), good_after="1s"):
        self.net, self.devs = net, []
        for k in range(n):
            marker = tempfile.mktemp(prefix="eota-marker-")
            extra = APP % (marker, good_after) + (FAIL if k in failing else "")
            d = NsDevice(net, 1, name="dev%02d" % k, extra=extra, port=BASE_PORT + k)
            d.marker = marker
            self.devs.append(d)
        for d in self.devs:
            d.wait_log("Publishing", timeout=30)

    def spec(self, k):
        return "%s:%d" % (self.net.addr[1], BASE_PORT + k)

    def updates(self, k):
        return self.devs[k].log().count("Update complete:")

    def running(self, k):
        try:
            with open(self.devs[k].marker) as f:
                return f.read().strip()
        except OSError:
            return None

    def close(self):
        for d in self.devs:
            d.cleanup()
            if os.path.exists(d.marker):
                os.unlink(d.marker)


def firmware(tmp, version, data=None, size=4000):
    p = os.path.join(tmp, version + ".bin")
    with open(p, "wb") as f:
        f.write(data if data is not None else app_image(version, size))
    return p


def upload_cmd(fw, fleet, ks, *args):
    cmd = [eota_bin(), "upload", fw, "--json", "--jobs", "50", "--verify-timeout", "40"]
    for k in ks:
        cmd += ["--device", fleet.spec(k)]
    if "--max-failures" not in args:  # a rollout, that does not halt
        cmd += ["--max-failures", "100%"]
    return cmd + list(args)


def rollout(net, fw, fleet, ks, *args, timeout=240):
    r = net.run(2, upload_cmd(fw, fleet, ks, *args), timeout=timeout)
    evs = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    return r.returncode, [e for e in evs if "event" in e], r.stderr


def last_events(evs):
    out = {}
    for e in evs:
        out[e["device"]] = e
    return out


def wait_running(fleet, k, version, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fleet.running(k) == version:
            return
        time.sleep(0.1)
    raise AssertionError("dev%02d runs %r, not %r:\n%s" % (k, fleet.running(k), version, fleet.devs[k].log()))


def seconds_between(evs, device, a, b):
    t = {e["state"]: e["seconds"] for e in evs if e["device"] == device}
    return t[b] - t[a]


def test_rolled_back_skipped_and_wait_confirmed(net, tmp):
    fleet = Fleet(net, 3, good_after="4s")
    try:
        v1, v2 = firmware(tmp, "v1"), firmware(tmp, "v2")
        # dev00 and dev01 get v1: verified by their TXT, not by the probe
        rc, evs, err = rollout(net, v1, fleet, [0, 1])
        assert rc == 0, err
        assert "waiting for its _eota._tcp to show the new image" in err, err
        ends = last_events(evs)
        assert {ends[fleet.spec(k)]["state"] for k in (0, 1)} == {"installed"}, evs
        quick = seconds_between(evs, fleet.spec(0), "verifying", "installed")
        assert quick < 4, evs  # on trial is enough without --wait-confirmed
        # dev02 with --wait-confirmed: not before boot_is_good_after (4 s)
        rc, evs, err = rollout(net, v1, fleet, [2], "--wait-confirmed")
        assert rc == 0, err
        slow = seconds_between(evs, fleet.spec(2), "verifying", "installed")
        assert slow >= 4, evs
        assert "showed the new image confirmed" in err, err
        # all three run v1: a rollout of v1 skips them, v2 goes to none of them
        rc, evs, err = rollout(net, v1, fleet, [0, 1, 2])
        assert rc == 0, err
        for k in range(3):
            e = last_events(evs)[fleet.spec(k)]
            assert e["state"] == "skipped" and "already running this image" in e["reason"], evs
            assert fleet.updates(k) == 1, fleet.devs[k].log()
        # --force sends anyway
        rc, evs, err = rollout(net, v1, fleet, [0], "--force")
        assert rc == 0 and last_events(evs)[fleet.spec(0)]["state"] == "installed", err
        assert fleet.updates(0) == 2
        # an application that crashes: dev01 rolls back, named as such
        # (--wait-confirmed: an image on trial may still roll back)
        bad = firmware(tmp, "bad", CRASH)
        journal = os.path.join(tmp, "journal.json")
        args = ("--max-failures", "1", "--wait-confirmed", "--journal", journal)
        rc, evs, err = rollout(net, bad, fleet, [1], *args)
        assert rc == 3, err  # halted at one failure
        e = last_events(evs)[fleet.spec(1)]
        assert e["state"] == "rolled_back", evs
        assert "rolled back" in e["reason"] and "the image on trial was never confirmed" in e["reason"], e
        assert "1 rolled back" in err and "  rolled back: %s: rolled back" % fleet.spec(1) in err, err
        wait_running(fleet, 1, "v1")
        with open(journal) as f:
            doc = json.load(f)
        (rec,) = doc["devices"]
        assert rec["outcome"] == "rolled_back" and "never confirmed" in rec["reason"], rec
        # as if the run had been killed while it waited: the journal says sent;
        # run again, the device's TXT says it rolled back: named so, not sent again
        rec["outcome"] = "sent"
        with open(journal, "w") as f:
            json.dump(doc, f)
        updates = fleet.updates(1)
        rc, evs, err = rollout(net, bad, fleet, [1], *args)
        assert rc == 3, err
        e = last_events(evs)[fleet.spec(1)]
        assert e["state"] == "rolled_back" and "an earlier run sent it this image" in e["reason"], evs
        assert fleet.updates(1) == updates
        del v2
    finally:
        fleet.close()


FAILING = (5, 12, 17, 30)  # injected write errors (simulate:)


def test_fleet_of_50_canary_halt_rolled_back(net, tmp):
    fleet = Fleet(net, 50, failing=FAILING)
    try:
        t0 = time.monotonic()
        # all of them get v1 and confirm it; the failing four fail
        rc, evs, err = rollout(net, firmware(tmp, "v1"), fleet, range(50), "--max-failures", "10",
                               "--wait-confirmed")
        t_v1 = time.monotonic() - t0
        ends = last_events(evs)
        assert rc == 1, err
        assert [k for k in range(50) if ends[fleet.spec(k)]["state"] != "installed"] == list(FAILING), err
        assert "rollout: 46 installed, 0 skipped, 4 failed, 0 rolled back, 0 not attempted" in err, err
        # a bad image (it crashes at boot): the canary rolls back, no other device gets it
        t0 = time.monotonic()
        rc, evs, err = rollout(net, firmware(tmp, "bad", CRASH), fleet, range(50), "--canary", "1", "--wave",
                               "10", "--max-failures", "1", "--wait-confirmed")
        t_bad = time.monotonic() - t0
        ends = last_events(evs)
        assert rc == 3, err
        assert ends[fleet.spec(0)]["state"] == "rolled_back", evs
        assert "the image on trial was never confirmed" in ends[fleet.spec(0)]["reason"]
        assert all(ends[fleet.spec(k)]["state"] == "not_attempted" for k in range(1, 50)), evs
        assert all(fleet.updates(k) == 1 for k in range(1, 50) if k not in FAILING)
        assert "rollout: 0 installed, 0 skipped, 0 failed, 1 rolled back, 49 not attempted; halted" in err, err
        wait_running(fleet, 0, "v1")
        # a good v2 in waves of 10 with a halt at 3: failures at 5 (wave 1), 12 and 17 (wave 2)
        t0 = time.monotonic()
        rc, evs, err = rollout(net, firmware(tmp, "v2"), fleet, range(50), "--canary", "1", "--wave", "10",
                               "--max-failures", "3")
        t_v2 = time.monotonic() - t0
        ends = last_events(evs)
        assert rc == 3, err
        assert "HALTED after 3 failure(s) (the limit is 3)" in err, err
        states = [ends[fleet.spec(k)]["state"] for k in range(50)]
        assert [k for k in range(50) if states[k] == "failed"] == [5, 12, 17], states
        assert [k for k in range(50) if states[k] == "installed"] == [k for k in range(21) if k not in (5, 12, 17)]
        assert all(s == "not_attempted" for s in states[21:]), states
        assert "rollout: 18 installed, 0 skipped, 3 failed, 0 rolled back, 29 not attempted; halted" in err, err
        # the waves followed one another: nothing of wave 3 began
        assert all(fleet.updates(k) == 1 for k in range(21, 50) if k not in FAILING)
        print("50 devices: v1 with --wait-confirmed %.1f s, the bad canary %.1f s, v2 to the halt %.1f s"
              % (t_v1, t_bad, t_v2))
    finally:
        fleet.close()


def journal_outcomes(path):
    with open(path) as f:
        return {d["device"]: d["outcome"] for d in json.load(f)["devices"]}


def test_fleet_of_50_killed_and_resumed_from_its_journal(net, tmp):
    fleet = Fleet(net, 50)
    try:
        fw = firmware(tmp, "v1", size=60000)
        journal = os.path.join(tmp, "journal.json")
        cmd = upload_cmd(fw, fleet, range(50), "--journal", journal, "--wave", "5") + ["--jobs", "5"]
        p = net.popen(2, cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 120
        while sum(fleet.updates(k) for k in range(50)) < 25 and time.monotonic() < end and p.poll() is None:
            time.sleep(0.02)
        os.kill(p.pid, signal.SIGKILL)  # ip netns exec execs: this is eota itself
        p.wait()
        sent_before = [k for k in range(50) if fleet.updates(k) == 1]
        assert 20 <= len(sent_before) < 50, sent_before
        # the kill may land between a 45 and its record: as if it had, for
        # three devices recorded installed and for every one recorded sent
        with open(journal) as f:
            doc = json.load(f)
        installed = [d for d in doc["devices"] if d["outcome"] == "installed"]
        dropped = {d["device"] for d in installed[:3]} | {d["device"] for d in doc["devices"] if d["outcome"] == "sent"}
        doc["devices"] = [d for d in doc["devices"] if d["device"] not in dropped]
        with open(journal, "w") as f:
            json.dump(doc, f)
        recorded = journal_outcomes(journal)
        installed_before = [k for k in range(50) if recorded.get(fleet.spec(k)) == "installed"]
        # the run goes on: no device is sent the image twice, all end on v1
        rc, evs, err = rollout(net, fw, fleet, range(50), "--journal", journal, "--wave", "5")
        assert rc == 0, err
        ends = last_events(evs)
        assert all(fleet.updates(k) == 1 for k in range(50)), [fleet.updates(k) for k in range(50)]
        for k in range(50):
            wait_running(fleet, k, "v1")
            assert ends[fleet.spec(k)]["state"] in ("installed", "skipped"), ends[fleet.spec(k)]
        assert all(ends[fleet.spec(k)]["state"] == "skipped" for k in installed_before)
        assert set(journal_outcomes(journal).values()) == {"installed"}
        by_mdns = [k for k in sent_before if "already running this image" in (ends[fleet.spec(k)]["reason"] or "")]
        # every device that had it without an installed record: skipped by its TXT
        assert by_mdns == [k for k in sent_before if k not in installed_before], (by_mdns, installed_before)
        assert dropped <= {fleet.spec(k) for k in by_mdns}, (by_mdns, dropped)
        print("killed after %d device(s) had the image (%d recorded installed after 3 records dropped, %d "
              "recorded sent); the second run skipped %d by the journal, %d by mDNS"
              % (len(sent_before), len(installed_before), len(dropped) - 3, len(installed_before), len(by_mdns)))
    finally:
        fleet.close()


def late_device(net, k, late):
    """dev<k> started now, after the fleet (kept in late for close_late)."""
    marker = tempfile.mktemp(prefix="eota-marker-")
    d = NsDevice(net, 1, name="dev%02d" % k, extra=APP % (marker, "1s"), port=BASE_PORT + k)
    d.marker = marker
    late.append(d)
    return d


def close_late(late):
    for d in late:
        d.cleanup()
        if os.path.exists(d.marker):
            os.unlink(d.marker)


def test_wait_online_tries_a_device_when_it_announces_itself(net, tmp):
    fleet = Fleet(net, 1)
    late = []
    try:
        # dev01 comes late; nothing ever answers at port 3399
        cmd = upload_cmd(firmware(tmp, "v1"), fleet, [0, 1, 99], "--wait-online", "20", "--retries", "0")
        p = net.popen(2, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # dev01 is offline meanwhile, tried at about 1.5, 3.5, 7.5 and 15.5 s:
        # it appears between two tries, and is tried when it announces itself
        time.sleep(8.5)
        d = late_device(net, 1, late)
        out, err = p.communicate(timeout=90)
        assert p.returncode == 1, err
        assert "rollout: 2 installed, 0 skipped, 1 failed (1 of them still offline), 0 rolled back" in err, err
        evs = [json.loads(x) for x in out.splitlines() if x.startswith('{"event"')]
        states = [e["state"] for e in evs if e["device"] == fleet.spec(1)]
        assert states[:2] == ["uploading", "offline"] and states[-1] == "installed", states
        assert "%s: it announced itself on mDNS; trying it now" % fleet.spec(1) in err, err
        assert "waiting for its _eota._tcp to show the new image" in err
        assert d.log().count("Update complete:") == 1
    finally:
        fleet.close()
        close_late(late)


def test_wait_online_waits_for_a_name_that_does_not_resolve_yet(net, tmp):
    """Under --wait-online a name that does not resolve is a device not
    online yet: dev01.local, whose responder starts only once the rollout
    has called it offline, is resolved again and installed; nobody.local,
    which never answers, fails once --wait-online has passed, saying why."""
    fleet = Fleet(net, 1)
    late = []
    try:
        cmd = [eota_bin(), "upload", firmware(tmp, "v1"), "--json", "--verify-timeout", "40", "--max-failures",
               "100%", "--wait-online", "20", "--retries", "0", "--device", "dev00.local:%d" % BASE_PORT,
               "--device", "dev01.local:%d" % (BASE_PORT + 1), "--device", "nobody.local:3399"]
        env = dict(os.environ, EOTA_CACHE_DIR="off")  # no last good address to fall back to
        p = net.popen(2, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        said = []
        while not any(line.startswith("dev01.local:3301: offline (") for line in said):
            line = p.stderr.readline()
            assert line, "the rollout ended without calling dev01 offline:\n" + "".join(said)
            said.append(line)
        t_offline = time.monotonic()
        d = late_device(net, 1, late)
        out, rest = p.communicate(timeout=120)
        err = "".join(said) + rest
        assert p.returncode == 1, err
        assert "dev01.local:3301: offline (cannot resolve 'dev01.local': no answer to mDNS within 5.0 s" in err, err
        assert "rollout: 2 installed, 0 skipped, 1 failed (1 of them still offline), 0 rolled back" in err, err
        assert "nobody.local:3399: FAILED: cannot resolve 'nobody.local': no answer to mDNS within 5.0 s" in err, err
        evs = [json.loads(x) for x in out.splitlines() if x.startswith('{"event"')]
        states = {s: [e["state"] for e in evs if e["device"] == s] for s in ("dev01.local:3301", "nobody.local:3399")}
        assert states["dev01.local:3301"][:2] == ["uploading", "offline"], states
        assert states["dev01.local:3301"][-1] == "installed", states
        assert states["nobody.local:3399"] == ["uploading", "offline", "failed"], states
        assert d.log().count("Update complete:") == 1
        assert time.monotonic() - t_offline < 60
    finally:
        fleet.close()
        close_late(late)
