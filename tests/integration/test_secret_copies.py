"""One copy of each secret in the memory of `eota device` (issue 17, part 5).

A real device process runs with an OTA password, a web password and a Noise
key, read through `!secret` (secrets.yaml) and a YAML alias. After uploads
with the right and a wrong password, a Noise upload, web requests with the
right and wrong credentials and a SIGHUP reload that changes the password,
every readable and writable mapping of the process (heap, stacks, the
libraries' data; /proc/PID/maps and /proc/PID/mem, as root) is searched and
the occurrences printed: the OTA password in force exactly once, the old one
never, the web password once, the key's 32 raw bytes at most once and its
base64 text never. Freed buffers count too: the config reader's file and
parser buffers, the authentication's, the old password after the reload;
and fragments (a secret's tail without the rest: a freed block loses its
first bytes to the allocator) must be none. A third run has the password
set by an on_boot ota.set_auth_password action: it once, the ota: entry's
(never in force) never.

Mappings larger than 1 GiB are not read: a sanitizer build's shadow memory
(shadow bytes, not data); each skipped one is printed.
"""
import base64
import os
import signal

from devicelib import Device, app_image
import espota_stock as stock
import noise_uploader as nup
from weblib import WebDevice, curl

# long enough for a freed buffer that held one to keep its tail: an
# allocator reuses the first 8 or 16 bytes of a freed block; the tails are
# counted too (a fragment is a tail without its whole secret)
OTA_PW = "OtaPw-Qx7Zr2Lk9Vw-Tb8Nc3Ry6Me1Ua4"
OTA_PW2 = "OtaPw2-Hn4Ty8Ub3Sd-Wg5Kp2Fz7Lq9Vc"
WEB_PW = "WebPw-Jc5Mf1Xo6Ep-Rd3Gs8Hy2Nb7Kt"
# long: freed heap blocks lose their first bytes to the allocator, and the
# password must lie past them in a "user:password" buffer to be seen there
USER = "the-owner-of-this-device"
KEY = bytes(range(101, 133))
KEY2 = bytes(range(151, 183))
B64 = base64.b64encode(KEY).decode()
B64_2 = base64.b64encode(KEY2).decode()
BIG = 1 << 30


def readable_memory(pid):
    """(regions as (name, bytes), skipped mappings) of the process, stopped
    while it is read."""
    regions, skipped = [], []
    os.kill(pid, signal.SIGSTOP)
    try:
        with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
            for line in maps:
                f = line.split()
                lo, hi = (int(x, 16) for x in f[0].split("-"))
                if not f[1].startswith("rw"):
                    continue
                name = f[5] if len(f) > 5 else "[anon]"
                if hi - lo > BIG:
                    skipped.append("%s %s (%d MiB)" % (f[0], name, (hi - lo) >> 20))
                    continue
                try:
                    mem.seek(lo)
                    regions.append((name, mem.read(hi - lo)))
                except OSError:
                    skipped.append("%s %s (unreadable)" % (f[0], name))
    finally:
        os.kill(pid, signal.SIGCONT)
    return regions, skipped


def count(regions, needle):
    """Occurrences of needle, and where (mapping names)."""
    n, where = 0, {}
    for name, data in regions:
        k = data.count(needle)
        if k:
            n += k
            where[name] = where.get(name, 0) + k
    return n, where


TAIL = 14  # bytes of a secret's end that a freed block keeps


def search(dev, secrets):
    """Print and return {what: (whole copies, fragments)}."""
    # no session open: a Noise session holds the key in its own state until
    # it ends (wiped then)
    assert dev.idle(), "the device still holds a connection"
    regions, skipped = readable_memory(dev.proc.pid)
    total = sum(len(d) for _, d in regions)
    print("\n[secrets] read %d mappings, %.1f MiB, of pid %d" % (len(regions), total / 2**20, dev.proc.pid))
    for s in skipped:
        print("[secrets] not read: %s" % s)
    counts = {}
    for what, needle in secrets.items():
        whole, where = count(regions, needle)
        tails = count(regions, needle[-TAIL:])[0]
        counts[what] = (whole, tails - whole)
        print("[secrets] %-30s %d whole, %d fragments  %s" % (what, whole, tails - whole, where or ""))
    return counts


def exercised(dev, steps, secrets):
    """steps(dev), then the device's memory searched (search); the device
    is stopped and removed."""
    try:
        steps(dev)
        c = search(dev, secrets)
        dev.stop()
    finally:
        dev.cleanup()
    return c


def expect(c, once=(), at_most_once=()):
    """Each secret of once: one whole copy; of at_most_once: one or none;
    any other: none. No fragment of any."""
    for what, (whole, fragments) in c.items():
        most = 1 if what in once or what in at_most_once else 0
        least = 1 if what in once else 0
        assert least <= whole <= most and fragments == 0, "%s: %d whole, %d fragments: %r" % (
            what, whole, fragments, c)


def sighup(dev, config, secrets):
    with open(dev.config, "w") as f:
        f.write(config)
    with open(os.path.join(dev.dir, "secrets.yaml"), "w") as f:
        f.write(secrets)
    n = dev.log().count("Reloaded ")
    dev.signal(signal.SIGHUP)
    dev.wait_log(r"Reloaded ", count=n + 1)


def plain(dev, version, pw):
    return stock.upload("127.0.0.1", dev.port, app_image(version, 3000), password=pw, handshake_timeout=10,
                        data_timeout=20)


def web_status(dev, *auth):
    return curl(dev.url("/"), *auth, timeout=10)[0]


def config_text(dev, body):
    return "esphome:\n  name: itest\nhost:\n%s\napp:\n  command: [\"{image}\", \"%s\"]\n  stop_timeout: 2s\n" % (
        body, dev.marker)


# The OTA password through an alias (its anchor in wifi:, which eota does
# not read), the web password and the API key through !secret.
OFFER = ("wifi:\n  ap:\n    password: &otapw %s\n"
         "api:\n  encryption:\n    key: !secret api_key\n"
         "ota:\n  - platform: esphome\n    password: *otapw\n  - platform: web_server\n"
         "web_server:\n  auth:\n    username: the-owner-of-this-device\n    password: !secret web_pw\n" % OTA_PW)
OFFER_SECRETS = "web_pw: %s\napi_key: %s\n" % (WEB_PW, B64)
# after the reload: the new password through !secret
OFFER2 = OFFER.replace("password: *otapw", "password: !secret ota_pw")
OFFER2_SECRETS = OFFER_SECRETS + "ota_pw: %s\n" % OTA_PW2


def test_one_copy_password_web_and_api_key():
    def steps(dev):
        assert plain(dev, "v1", OTA_PW)["result"] == "ok"
        assert plain(dev, "v2", OTA_PW[::-1])["result"] == "error"
        res = nup.upload("127.0.0.1", dev.port, app_image("v3", 3000), KEY)
        assert res["result"] == "ok", res
        assert web_status(dev, "-u", USER + ":" + WEB_PW) == 200
        assert web_status(dev, "-u", USER + ":" + WEB_PW[::-1]) == 401
        sighup(dev, config_text(dev, OFFER2), OFFER2_SECRETS)
        assert plain(dev, "v4", OTA_PW)["result"] == "error"
        assert plain(dev, "v5", OTA_PW2)["result"] == "ok"
        assert dev.running_version(expect="v5") == "v5"
    c = exercised(WebDevice(OFFER, secrets=OFFER_SECRETS), steps,
                  {"OTA password in force": OTA_PW2.encode(), "old OTA password": OTA_PW.encode(),
                   "web password": WEB_PW.encode(), "API key, 32 raw bytes": KEY,
                   "API key, base64 text": B64.encode()})
    expect(c, once=("OTA password in force", "web password"), at_most_once=("API key, 32 raw bytes",))


# ota: encryption: bare (the API key reused: the device requires Noise), the
# web server with digest authentication; the reload changes the key.
REQUIRE = ("api:\n  encryption:\n    key: !secret api_key\n"
           "ota:\n  - platform: esphome\n    encryption:\n  - platform: web_server\n"
           "web_server:\n  auth:\n    username: the-owner-of-this-device\n    password: &webpw %s\n    type: digest\n"
           "wifi:\n  ap:\n    password: *webpw\n" % WEB_PW)


def test_one_copy_required_key_and_digest_web():
    def steps(dev):
        res = nup.upload("127.0.0.1", dev.port, app_image("v1", 3000), KEY2)
        assert res["result"] == "rejected", res
        res = nup.upload("127.0.0.1", dev.port, app_image("v2", 3000), KEY)
        assert res["result"] == "ok", res
        assert web_status(dev, "--digest", "-u", USER + ":" + WEB_PW) == 200
        assert web_status(dev, "--digest", "-u", USER + ":" + WEB_PW[::-1]) == 401
        sighup(dev, config_text(dev, REQUIRE), "api_key: %s\n" % B64_2)
        res = nup.upload("127.0.0.1", dev.port, app_image("v3", 3000), KEY2)
        assert res["result"] == "ok", res
    c = exercised(WebDevice(REQUIRE, secrets="api_key: %s\n" % B64), steps,
                  {"key in force, 32 raw bytes": KEY2, "key in force, base64 text": B64_2.encode(),
                   "old key, 32 raw bytes": KEY, "old key, base64 text": B64.encode(),
                   "web password": WEB_PW.encode()})
    expect(c, once=("web password",), at_most_once=("key in force, 32 raw bytes",))


# An esphome: on_boot: ota.set_auth_password action sets the password in
# force: the engine refers to the action's own text (it stays in the config:
# the action may run again); the ota: entry's password, never in force, is
# wiped.
ACTION_PW = "ActPw-Vb6Np1Qs4Xe-Zk9Hd2Lm7Gc3Rw"
ACTION = ("ota:\n  - platform: esphome\n    id: main_ota\n    password: !secret ota_pw\n"
          "wifi:\n  ap:\n    password: *act\n")
ACTION_BOOT = ("  on_boot:\n    then:\n      - ota.set_auth_password:\n          id: main_ota\n"
               "          password: &act %s" % ACTION_PW)


def test_one_copy_with_set_auth_password_action():
    def steps(dev):
        dev.wait_log(r"OTA password changed")
        assert plain(dev, "v1", OTA_PW)["result"] == "error"
        assert plain(dev, "v2", ACTION_PW)["result"] == "ok"
    c = exercised(Device(ACTION, secrets="ota_pw: %s\n" % OTA_PW, name="itest\n" + ACTION_BOOT), steps,
                  {"action's password (in force)": ACTION_PW.encode(), "ota: entry's password": OTA_PW.encode()})
    expect(c, once=("action's password (in force)",))
