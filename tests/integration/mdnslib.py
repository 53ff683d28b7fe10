"""Helpers for the mDNS tests: network namespaces joined by a veth pair
(no traffic leaves the machine), `eota device` inside one, Avahi's daemon
with a private D-Bus, and python3-zeroconf (Debian's, run by
/usr/bin/python3) as the stock peer. Needs root and `ip netns`; the
tests skip, saying why, where a facility is missing.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from devicelib import eota_bin

SYS_PYTHON = "/usr/bin/python3"
_count = [0]


def missing_facility():
    """Why the mDNS tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not shutil.which("ip"):
        return "needs iproute2"
    if subprocess.run([SYS_PYTHON, "-c", "import zeroconf"], capture_output=True).returncode != 0:
        return "needs python3-zeroconf"
    name = "eota-probe-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        return "cannot create a network namespace"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def missing_avahi():
    for b in ("avahi-daemon", "avahi-resolve", "dbus-daemon"):
        if not shutil.which(b):
            return "needs %s (avahi-daemon, avahi-utils, dbus)" % b
    return None


class Net:
    """n namespaces on one veth bridge-less line: ns[0] is the hub; every
    other one is joined to it by its own veth pair, 10.R.K.1 (hub side) and
    10.R.K.2. addr[i] is namespace i's IPv4 address (the hub's first)."""

    def __init__(self, n=2):
        _count[0] += 1
        tag = "%d-%d" % (os.getpid() % 10000, _count[0])
        self.ns = ["eota%s-%d" % (tag, i) for i in range(n)]
        self.addr = []
        self.sub = 100 + (os.getpid() + _count[0]) % 100
        for ns in self.ns:
            self.ip("netns", "add", ns)
            self.ip("-n", ns, "link", "set", "lo", "up")
        self.bridge = "br0"
        self.ip("-n", self.ns[0], "link", "add", "br0", "type", "bridge")
        self.ip("-n", self.ns[0], "addr", "add", "10.%d.0.1/24" % self.sub, "dev", "br0")
        self.ip("-n", self.ns[0], "link", "set", "br0", "up")
        self.addr.append("10.%d.0.1" % self.sub)
        for i, ns in enumerate(self.ns[1:], start=1):
            a, b = "ve%s%da" % (tag, i), "ve%s%db" % (tag, i)
            a, b = a[-15:], b[-15:]
            self.ip("link", "add", a, "netns", self.ns[0], "type", "veth", "peer", "name", b, "netns", ns)
            self.ip("-n", self.ns[0], "link", "set", a, "master", "br0", "up")
            self.ip("-n", ns, "addr", "add", "10.%d.0.%d/24" % (self.sub, i + 1), "dev", b)
            self.ip("-n", ns, "link", "set", b, "up")
            self.addr.append("10.%d.0.%d" % (self.sub, i + 1))
        time.sleep(1.5)  # IPv6 link-local addresses settle (DAD)

    @staticmethod
    def ip(*args):
        subprocess.run(["ip"] + list(args), check=True, capture_output=True)

    def run(self, i, cmd, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns[i]] + cmd, capture_output=True, text=True, **kw)

    def popen(self, i, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns[i]] + cmd, **kw)

    def close(self):
        for ns in self.ns:
            for pid in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def wait_for(read, text, timeout, alive=lambda: True, who="the log"):
    """Wait until read() holds text, as long as alive(); else fail with it."""
    end = time.time() + timeout
    while time.time() < end:
        if text in read():
            return True
        if not alive():
            break
        time.sleep(0.1)
    raise AssertionError("no %r in %s:\n%s" % (text, who, read()))


@pytest.fixture
def net3():
    """Three namespaces (Net)."""
    n = Net(3)
    yield n
    n.close()


@pytest.fixture
def net4():
    """Four namespaces (Net)."""
    n = Net(4)
    yield n
    n.close()


@pytest.fixture
def devices():
    """The NsDevices a test starts (start_device), cleaned up after it."""
    made = []
    yield made
    for d in made:
        d.cleanup()


def start_device(devices, *a, **kw):
    """An NsDevice (arguments as its), once it publishes (or says mDNS is
    off)."""
    d = NsDevice(*a, **kw)
    devices.append(d)
    d.wait_log("mDNS is off" if kw.get("mdns") == "off" else "Publishing")
    return d


DEVICE_YAML = """esphome:
  name: {name}
  friendly_name: {friendly}
host:
ota:
  - platform: esphome
    port: {port}
{extra}"""


class NsDevice:
    """`eota device` in namespace i of net, in a temporary directory."""

    def __init__(self, net, i, name="kitchen", mdns="embedded", extra="", port=3232, env=None,
                 friendly="Kitchen"):
        self.dir = tempfile.mkdtemp(prefix="eota-mdns-")
        self.net, self.i, self.port, self.name = net, i, port, name
        self.config = os.path.join(self.dir, "dev.yaml")
        with open(self.config, "w") as f:
            f.write(DEVICE_YAML.format(name=name, friendly=friendly, port=port, extra=extra))
        self.logpath = os.path.join(self.dir, "device.log")
        self.logf = open(self.logpath, "w")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = net.popen(i, [eota_bin(), "device", "--config", self.config, "--state-dir",
                                  os.path.join(self.dir, "state"), "--mdns", mdns, "-v"],
                              stdout=self.logf, stderr=subprocess.STDOUT, env=e)

    def log(self):
        with open(self.logpath) as f:
            return f.read()

    def wait_log(self, text, timeout=10.0):
        return wait_for(self.log, text, timeout, lambda: self.proc.poll() is None, "the device log")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


AVAHI_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/> <allow send_destination="*"/> <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=yes
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[publish]
publish-hinfo=no
publish-workstation=no
"""


class Avahi:
    """avahi-daemon in namespace i of net, with a private D-Bus system bus
    (its socket in a temporary directory) and a private /run (a mount
    namespace), so that it never meets the machine's own. env is what a
    client (eota device, avahi-resolve) needs to reach it."""

    def __init__(self, net, i):
        self.dir = tempfile.mkdtemp(prefix="eota-avahi-")
        self.bus = os.path.join(self.dir, "bus")
        with open(os.path.join(self.dir, "bus.conf"), "w") as f:
            f.write(AVAHI_BUS.format(bus=self.bus))
        with open(os.path.join(self.dir, "avahi.conf"), "w") as f:
            f.write(AVAHI_CONF)
        self.env = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + self.bus}
        self.logpath = os.path.join(self.dir, "avahi.log")
        script = ("mount -t tmpfs tmpfs /run && mkdir -p /run/avahi-daemon /run/dbus && "
                  "dbus-daemon --config-file={d}/bus.conf --nofork --nopidfile & "
                  "for i in $(seq 50); do [ -S {bus} ] && break; sleep 0.1; done; "
                  "DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus} exec avahi-daemon -f {d}/avahi.conf "
                  "--no-drop-root --no-chroot --no-rlimits").format(d=self.dir, bus=self.bus)
        self.logf = open(self.logpath, "w")
        self.proc = net.popen(i, ["unshare", "-m", "sh", "-c", script], stdout=self.logf,
                              stderr=subprocess.STDOUT)
        self.wait_log("Server startup complete")

    def log(self):
        with open(self.logpath) as f:
            return f.read()

    def wait_log(self, text, timeout=15.0):
        return wait_for(self.log, text, timeout, who="avahi-daemon's log")

    def resolve(self, net, i, name, timeout=10):
        e = dict(os.environ)
        e.update(self.env)
        return net.run(i, ["timeout", str(timeout), "avahi-resolve", "-4", "-n", name], env=e)

    def close(self):
        self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


ZC_RESOLVE = r"""
import sys, time, json
from zeroconf import Zeroconf, ServiceInfo, IPVersion, DNSOutgoing, DNSQuestion, const
name = sys.argv[1]
zc = Zeroconf(ip_version=IPVersion.V4Only)
out = {"a": [], "aaaa": []}
info = ServiceInfo("_eota._tcp.local.", name.split(".")[0] + "._eota._tcp.local.")
if info.request(zc, 4000):
    out["port"] = info.port
    out["server"] = info.server
    out["txt"] = {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}
q = DNSOutgoing(const._FLAGS_QR_QUERY)
q.add_question(DNSQuestion(name + ".", const._TYPE_A, const._CLASS_IN))
q.add_question(DNSQuestion(name + ".", const._TYPE_AAAA, const._CLASS_IN))
for _ in range(3):
    zc.send(q)
    time.sleep(0.5)
    for e in zc.cache.entries_with_name(name + "."):
        if e.type == const._TYPE_A and e.address not in out["a"]:
            out["a"].append(e.address)
        if e.type == const._TYPE_AAAA and e.address not in out["aaaa"]:
            out["aaaa"].append(e.address)
    if out["a"]:
        break
out["a"] = [".".join(str(b) for b in x) for x in out["a"]]
out["aaaa"] = [x.hex() for x in out["aaaa"]]
zc.close()
print(json.dumps(out))
"""


def zeroconf_resolve(net, i, name):
    """Python's zeroconf in namespace i: NAME.local's addresses (A, AAAA)
    and its _eota._tcp service (port, server, TXT)."""
    import json
    r = net.run(i, [SYS_PYTHON, "-c", ZC_RESOLVE, name], timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


NO_NSS_MDNS = "hosts: files dns\n"


def eota_in(net, i, args, tmpdir, input=None, timeout=60, env=None):
    """eota ARGS in namespace i, in a mount namespace whose
    /etc/nsswitch.conf knows no mDNS (as on a machine without
    libnss-mdns), with its cache in tmpdir. The CompletedProcess."""
    nss = os.path.join(tmpdir, "nsswitch.conf")
    with open(nss, "w") as f:
        f.write(NO_NSS_MDNS)
    e = dict(os.environ)
    e["XDG_CACHE_HOME"] = os.path.join(tmpdir, "cache")
    e.update(env or {})
    script = 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"'
    return net.run(i, ["unshare", "-m", "sh", "-c", script, nss, eota_bin()] + args, input=input, timeout=timeout,
                   env=e)


ZC_ESPHOME = r"""
import socket, sys, time
from zeroconf import Zeroconf, ServiceInfo, IPVersion
name, addr = sys.argv[1], sys.argv[2]
zc = Zeroconf(ip_version=IPVersion.V4Only)
txt = {"version": "2024.6.0", "platform": "ESP32", "board": "esp32dev", "mac": "a0b1c2d3e4f5",
       "network": "wifi", "api_encryption": "Noise_NNpsk0_25519_ChaChaPoly_SHA256",
       "friendly_name": "Living Room"}
info = ServiceInfo("_esphomelib._tcp.local.", name + "._esphomelib._tcp.local.",
                   addresses=[socket.inet_aton(addr)], port=6053, properties=txt, server=name + ".local.")
zc.register_service(info)
print("registered", flush=True)
sys.stdin.readline()
zc.unregister_service(info)
zc.close()
"""


class StockEsphome:
    """A device advertised as stock ESPHome firmware does (python3-zeroconf,
    _esphomelib._tcp with ESPHome's TXT keys) in namespace i."""

    def __init__(self, net, i, name="living"):
        self.proc = net.popen(i, [SYS_PYTHON, "-c", ZC_ESPHOME, name, net.addr[i]], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "registered"

    def close(self):
        try:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
