"""Staged rollouts with `eota upload` (src/app/upload/rollout.c) against
real `eota device` processes on loopback: the canary catches a failing
image before any other device gets it, the halt comes at exactly the
configured number of failures, waves wait for the one before, the journal
lets a killed rollout go on without sending any device the image twice, a
power cut between the journal's write and its rename loses nothing, a
device started late is waited for (--wait-online), and the first interrupt
lets the devices in flight finish.

Every device's outcome is read from the rollout's JSON events and checked
against the devices themselves (their active image, the updates in their
log).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from devicelib import Device, eota_bin, free_port, start_devices, stop_devices

OTA = "ota:\n  - platform: esphome\nlogger:\n  level: INFO\n"
FAIL = "simulate:\n  fail_at: write\n  fail_after_bytes: 1000\n"


def image(tmp_path, size=20000, tag=b"v1"):
    data = tag + os.urandom(size - len(tag))
    path = os.path.join(str(tmp_path), "fw.bin")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def fleet(n, failing=(), extra=""):
    return start_devices([OTA + extra + (FAIL if i in failing else "") for i in range(n)], app=False)


stop_all = stop_devices


def rollout_cmd(fw, devs, *args):
    cmd = [eota_bin(), "upload", fw, "--json", "--retries", "2", "--retry-delay", "1", "--verify-timeout", "20"]
    for d in devs:
        cmd += ["--device", "127.0.0.1:%d" % d.port]
    return cmd + list(args)


def run(fw, devs, *args, env=None, timeout=300):
    p = subprocess.run(rollout_cmd(fw, devs, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env)
    return p.returncode, events(p.stdout), p.stderr


def events(stdout):
    return [e for e in (json.loads(l) for l in stdout.splitlines() if l.startswith("{")) if "event" in e]


def final_states(evs):
    last = {}
    for e in evs:
        last[e["device"]] = e["state"]
    return last


def spec(d):
    return "127.0.0.1:%d" % d.port


def updates_in_log(d):
    return d.log().count("Update complete:")


def test_canary_catches_a_failing_image(tmp_path):
    fw, data = image(tmp_path)
    devs = fleet(6, failing=(0,))
    try:
        rc, evs, err = run(fw, devs, "--canary", "1", "--wave", "5")
        assert rc == 3, (rc, err)
        st = final_states(evs)
        assert st[spec(devs[0])] == "failed", st
        for d in devs[1:]:
            assert st[spec(d)] == "not_attempted", st
            assert d.active_image() is None
        assert "HALTED after 1 failure" in err, err
        assert not any(e["state"] == "uploading" and e["device"] != spec(devs[0]) for e in evs), evs
    finally:
        stop_all(devs)


def test_halt_at_exactly_the_threshold(tmp_path):
    fw, data = image(tmp_path)
    failing = (1, 3, 5, 7)
    devs = fleet(10, failing=failing)
    try:
        rc, evs, err = run(fw, devs, "--max-failures", "3", "--jobs", "1")
        assert rc == 3, (rc, err)
        st = final_states(evs)
        assert [st[spec(devs[i])] for i in range(10)] == \
            ["installed", "failed", "installed", "failed", "installed", "failed"] + ["not_attempted"] * 4, st
        for i in (0, 2, 4):
            assert devs[i].active_image(expect=data) == data
        for i in range(6, 10):
            assert devs[i].active_image() is None
        assert "rollout: 3 installed, 0 skipped, 3 failed, 0 rolled back, 4 not attempted; halted" in err, err
    finally:
        stop_all(devs)


def test_waves_wait_for_the_wave_before(tmp_path):
    fw, data = image(tmp_path)
    devs = fleet(8)
    try:
        rc, evs, err = run(fw, devs, "--canary", "1", "--wave", "50%")
        assert rc == 0, (rc, err)
        wave_of = {e["device"]: e["wave"] for e in evs}
        assert sorted(wave_of.values()) == [1, 2, 2, 2, 2, 3, 3, 3], wave_of
        done = set()
        for e in evs:
            if e["state"] == "uploading":
                earlier = [dv for dv, w in wave_of.items() if w < e["wave"]]
                assert all(dv in done for dv in earlier), (e, done)
            if e["state"] == "installed":
                done.add(e["device"])
        assert all(d.active_image(expect=data) == data for d in devs)
        assert "came back" in err, err
    finally:
        stop_all(devs)


def journal_records(path):
    try:
        with open(path) as f:
            return {r["device"]: r["outcome"] for r in json.load(f)["devices"]}
    except (OSError, ValueError):
        return {}


def test_killed_rollout_goes_on_from_its_journal(tmp_path):
    fw, data = image(tmp_path, size=150000)
    devs = fleet(12, extra="simulate:\n  flash_write_speed: 300000\n")
    journal = os.path.join(str(tmp_path), "rollout.json")
    try:
        p = subprocess.Popen(rollout_cmd(fw, devs, "--journal", journal, "--jobs", "2"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while sum(v == "installed" for v in journal_records(journal).values()) < 4:
            assert time.monotonic() < deadline and p.poll() is None
            time.sleep(0.05)
        p.kill()
        p.wait()
        before = journal_records(journal)
        rc, evs, err = run(fw, devs, "--journal", journal, "--jobs", "4")
        assert rc == 0, (rc, err)
        st = final_states(evs)
        for d in devs:
            assert d.active_image(expect=data) == data
            if before.get(spec(d)) == "installed":
                assert st[spec(d)] == "skipped", (before, st)
            if before.get(spec(d)) in ("installed", "sent"):
                assert updates_in_log(d) == 1, (spec(d), before, d.log()[-2000:])
        assert all(v == "installed" for v in journal_records(journal).values())
        assert len(journal_records(journal)) == 12
    finally:
        stop_all(devs)


def test_power_cut_between_the_journal_write_and_its_rename(tmp_path):
    fw, data = image(tmp_path)
    devs = fleet(4)
    journal = os.path.join(str(tmp_path), "rollout.json")
    try:
        # the 4th write is device 1's "installed": it is cut before the rename
        rc, evs, err = run(fw, devs, "--journal", journal, "--jobs", "1",
                           env=dict(os.environ, EOTA_TEST_JOURNAL_CUT="4"))
        assert rc == 137, (rc, err)
        before = journal_records(journal)
        assert before == {spec(devs[0]): "installed", spec(devs[1]): "sent"}, before
        rc, evs, err = run(fw, devs, "--journal", journal, "--jobs", "1")
        assert rc == 0, (rc, err)
        st = final_states(evs)
        assert st[spec(devs[0])] == "skipped" and st[spec(devs[1])] == "installed", st
        assert any(e["device"] == spec(devs[1]) and e["state"] == "verifying" for e in evs)
        assert not any(e["device"] == spec(devs[1]) and e["state"] == "uploading" for e in evs), evs
        for d in devs:
            assert d.active_image(expect=data) == data
            assert updates_in_log(d) == 1, spec(d)
    finally:
        stop_all(devs)


def test_wait_online_gets_a_late_device(tmp_path):
    fw, data = image(tmp_path)
    devs = fleet(2)
    late_port = free_port()
    late = None
    try:
        p = subprocess.Popen(rollout_cmd(fw, devs, "--device", "127.0.0.1:%d" % late_port, "--wait-online", "90"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(30)  # as the issue has it: a device started 30 s after the rollout began
        late = Device(OTA, app=False, port=late_port)
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        st = final_states(events(out))
        assert st["127.0.0.1:%d" % late_port] == "installed", st
        assert any(e["state"] == "offline" for e in events(out))
        assert late.active_image(expect=data) == data
    finally:
        stop_all(devs + ([late] if late else []))


def test_first_interrupt_lets_devices_in_flight_finish(tmp_path):
    fw, data = image(tmp_path, size=300000)
    devs = fleet(6, extra="simulate:\n  flash_write_speed: 300000\n")
    try:
        p = subprocess.Popen(rollout_cmd(fw, devs, "--jobs", "2", "--max-failures", "6"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             text=True)
        first = p.stdout.readline()  # the first device began: the rollout is under way
        assert '"uploading"' in first, first
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        out = first + out
        assert p.returncode == 4, err
        st = final_states(events(out))
        installed = [d for d in devs if st.get(spec(d)) == "installed"]
        assert len(installed) == 2, st
        assert sum(v == "not_attempted" for v in st.values()) == 4, st
        for d in installed:
            assert d.active_image(expect=data) == data
        assert "interrupted" in err, err
    finally:
        stop_all(devs)


def test_second_interrupt_cuts_devices_in_flight(tmp_path):
    fw, data = image(tmp_path, size=600000)
    devs = fleet(4, extra="simulate:\n  flash_write_speed: 200000\n")
    try:
        p = subprocess.Popen(rollout_cmd(fw, devs, "--jobs", "2", "--max-failures", "4"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        first = p.stdout.readline()
        assert '"uploading"' in first, first
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        assert p.returncode == 4, err
        st = final_states(events(first + out))
        assert sorted(st.values()) == ["failed", "failed", "not_attempted", "not_attempted"], st
        assert "cut by a second interrupt" in err, err
        for d in devs:
            assert d.active_image() is None  # the old image (none) stays
            assert d.idle() and not d.parts()
    finally:
        stop_all(devs)


def quirky(count):
    """The project's stock-like device (quirky_device.py, script ok), serving
    count sessions (0: for ever); returns (process, port)."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.Popen([sys.executable, os.path.join(here, "quirky_device.py"), "--port", "0", "--script", "ok",
                          "--count", str(count)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    assert "listening on" in line, line
    return p, int(line.rsplit(":", 1)[1])


def test_stock_like_devices_are_verified_by_the_probe(tmp_path):
    fw, data = image(tmp_path)
    peers = [quirky(0), quirky(0), quirky(1)]  # the last one never comes back after its install
    try:
        cmd = [eota_bin(), "upload", fw, "--json", "--retry-delay", "1", "--verify-timeout", "4", "--canary", "1",
               "--max-failures", "2"]
        for _, port in peers:
            cmd += ["--device", "127.0.0.1:%d" % port]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        assert p.returncode == 1, p.stderr
        st = final_states(events(p.stdout))
        ports = [port for _, port in peers]
        assert [st["127.0.0.1:%d" % port] for port in ports] == ["installed", "installed", "failed"], st
        assert "did not answer again within --verify-timeout" in p.stderr, p.stderr
        assert "came back" in p.stderr, p.stderr
    finally:
        for proc, _ in peers:
            proc.kill()
            proc.wait()
