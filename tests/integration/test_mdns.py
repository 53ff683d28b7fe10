"""eota device on mDNS (issue 12), in network namespaces joined by veth
pairs, with real peers: python3-zeroconf (what ESPHome's resolver is built
on) and avahi-daemon/avahi-resolve. The device publishes through its
embedded responder (libmdnsd) and through a running avahi-daemon."""

import os

import pytest

from devicelib import eota_bin

from mdnslib import Avahi, NsDevice, devices, missing_avahi, missing_facility, zeroconf_resolve  # noqa: F401
from mdnslib import net3 as net  # noqa: F401

_why = missing_facility()
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")


def start(devices, *a, **kw):
    d = NsDevice(*a, **kw)
    devices.append(d)
    return d


def test_embedded_name_and_service_resolved_by_zeroconf(net, devices):
    d = start(devices, net, 1, name="kitchen", mdns="embedded")
    d.wait_log("through embedded")
    r = zeroconf_resolve(net, 2, "kitchen.local")
    assert r["a"] == [net.addr[1]]
    assert r["aaaa"], "no AAAA record for kitchen.local"
    assert r["port"] == 3232 and r["server"] == "kitchen.local."
    txt = r["txt"]
    assert txt["name"] == "kitchen" and txt["friendly_name"] == "Kitchen"
    assert txt["platform"] == "host" and txt["eota_version"]
    assert txt["slot"] == "none" and txt["safe_mode"] == "no" and txt["last_update"] == "none"
    assert txt["encryption"] == "none"


def test_txt_says_whether_encryption_is_required_or_offered(net, devices):
    key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="  # bytes 1..32
    start(devices, net, 1, name="vault", extra="    encryption:\n      key: %s\n" % key)
    start(devices, net, 2, name="porch", extra="api:\n  encryption:\n    key: %s\n" % key)
    for d in devices:
        d.wait_log("through embedded")
    assert zeroconf_resolve(net, 0, "vault.local")["txt"]["encryption"] == "required"
    assert zeroconf_resolve(net, 0, "porch.local")["txt"]["encryption"] == "offered"


@pytest.mark.skipif(missing_avahi() is not None, reason=missing_avahi() or "")
def test_embedded_name_resolved_by_avahi_resolve(net, devices):
    av = Avahi(net, 2)
    try:
        d = start(devices, net, 1, name="pantry", mdns="embedded")
        d.wait_log("through embedded")
        r = av.resolve(net, 2, "pantry.local")
        assert r.returncode == 0 and r.stdout.split() == ["pantry.local", net.addr[1]], r.stdout + r.stderr
    finally:
        av.close()


@pytest.mark.skipif(missing_avahi() is not None, reason=missing_avahi() or "")
def test_published_through_avahi_daemon(net, devices):
    av_dev = Avahi(net, 1)
    av_peer = Avahi(net, 2)
    try:
        d = start(devices, net, 1, name="garage", mdns="avahi", env=av_dev.env)
        d.wait_log("avahi-daemon publishes garage.local")
        r = av_peer.resolve(net, 2, "garage.local")
        assert r.returncode == 0 and r.stdout.split() == ["garage.local", net.addr[1]], r.stdout + r.stderr
        z = zeroconf_resolve(net, 0, "garage.local")
        assert net.addr[1] in z["a"]
        assert z["port"] == 3232 and z["txt"]["name"] == "garage" and z["txt"]["state"] == "none"
        # the TXT records follow the state through the daemon too
        fw = os.path.join(d.dir, "fw.bin")
        with open(fw, "wb") as f:
            f.write(b"#!/bin/sh\nsleep 60\n")
        r = net.run(0, [eota_bin(), "upload", fw, "-d", "%s:3232" % net.addr[1]])
        assert r.returncode == 0, r.stdout + r.stderr
        for _ in range(20):
            z = zeroconf_resolve(net, 0, "garage.local")
            if z.get("txt", {}).get("last_update") == "installed":
                break
        assert z["txt"]["last_update"] == "installed" and z["txt"]["slot"] == "a", z
        assert z["txt"]["state"] in ("trial", "confirmed") and len(z["txt"]["sha256"]) == 12, z
        assert d.stop() == 0
    finally:
        av_dev.close()
        av_peer.close()


def test_auto_without_daemon_uses_embedded(net, devices):
    d = start(devices, net, 1, name="attic", mdns="auto", env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"})
    d.wait_log("through embedded")
    assert zeroconf_resolve(net, 2, "attic.local")["a"] == [net.addr[1]]


def test_disabled_by_config(net, devices):
    d = start(devices, net, 1, name="cellar", mdns="auto", extra="mdns:\n  disabled: true\n")
    d.wait_log("mDNS is off (mdns: disabled: true)")
    assert zeroconf_resolve(net, 2, "cellar.local")["a"] == []


def test_goodbye_on_shutdown(net, devices):
    d = start(devices, net, 1, name="porch", mdns="embedded")
    d.wait_log("through embedded")
    script = r"""
import sys, time
from zeroconf import Zeroconf, ServiceBrowser, IPVersion
gone = []
class L:
    def add_service(self, zc, t, n): print("add", n, flush=True)
    def update_service(self, zc, t, n): pass
    def remove_service(self, zc, t, n): gone.append(n)
zc = Zeroconf(ip_version=IPVersion.V4Only)
ServiceBrowser(zc, "_eota._tcp.local.", L())
time.sleep(3)
print("stop", flush=True)
sys.stdin.readline()
end = time.time() + 5
while not gone and time.time() < end:
    time.sleep(0.1)
print("gone" if gone else "still there", flush=True)
zc.close()
"""
    import subprocess
    p = net.popen(2, ["/usr/bin/python3", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().split() == ["add", "porch._eota._tcp.local."]
        assert p.stdout.readline().strip() == "stop"
        assert d.stop() == 0
        p.stdin.write("\n")
        p.stdin.flush()
        assert p.stdout.readline().strip() == "gone"
    finally:
        p.kill()
        p.wait()


def test_name_conflict_renames_the_second(net, devices):
    first = start(devices, net, 1, name="twin", mdns="embedded")
    first.wait_log("through embedded")
    import time
    time.sleep(1.5)  # probed and announced
    second = start(devices, net, 2, name="twin", mdns="embedded")
    second.wait_log("this device is renamed to twin-2.local (RFC 6762 9)")
    line = [x for x in second.log().splitlines() if "Name conflict" in x][0]
    # by the first device's IPv4 or IPv6 address, whichever answer came first
    assert "Name conflict: twin.local is claimed on the network by " in line
    assert net.addr[1] in line or "fe80::" in line
    time.sleep(1.5)
    assert zeroconf_resolve(net, 0, "twin-2.local")["a"] == [net.addr[2]]
    assert zeroconf_resolve(net, 0, "twin.local")["a"] == [net.addr[1]]
    assert "conflict" not in first.log()


@pytest.mark.skipif(missing_avahi() is not None, reason=missing_avahi() or "")
def test_name_conflict_through_avahi_daemon(net, devices):
    av = Avahi(net, 2)
    try:
        first = start(devices, net, 1, name="twin", mdns="embedded")
        first.wait_log("through embedded")
        import time
        time.sleep(1.5)
        second = start(devices, net, 2, name="twin", mdns="avahi", env=av.env)
        second.wait_log("this device is renamed to twin-2.local (RFC 6762 9)")
        second.wait_log("avahi-daemon publishes twin-2.local")
        assert av.resolve(net, 2, "twin-2.local").stdout.split() == ["twin-2.local", net.addr[2]]
    finally:
        av.close()
