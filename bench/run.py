#!/usr/bin/env python3
"""eota benchmarks: one command that prints where eota stands on speed, cost
and size, side by side and from one run (issue 6).

    bench/run.py [--quick] [--json FILE] [--rows 1,2,...]

It builds what it needs (a Release build in build-bench), then measures:

 1. loopback throughput of a large upload to `eota device` vs the machine's
    ceiling (MD5 of the image + write and fsync of it), same run;
 2. emulated links (user-space delay proxy bench/linkemu.c; RTT 2, 20, 50 ms)
    to a device with flash writes emulated at 300 KB/s: --window 1 (stock
    stop-and-wait) vs eota's default window, and the ceiling size/speed;
 3. device CPU: instructions per MiB received by `eota device` (callgrind,
    difference of two upload sizes so start-up cancels) vs MD5 alone, and
    the same inside Noise (PROTOCOL.md section 10, uploaded by the Python
    Noise uploader of tests/integration);
 4. memory: peak RSS of `eota device` during the large upload; the engine's
    own RAM (sizeof state + transfer buffer);
 5. footprint of the core for Cortex-M0+ and RV32IMC (scripts/size.sh);
 6. fleet: one `eota upload` to 1, 10, 100 devices (flash at 300 KB/s);
 7. compression: an ELF executable with and without gzip.
 8. the window (issue 4): a 4 MiB image to a device without flash emulation
    over RTT 20 and 50 ms, for --window 1, 2, 4, ... 64: the figures that
    chose eota's default window.
 9. signed images (issue 14): the time the signature check adds to a 64 MiB
    upload on loopback (a device with `signature:` vs one without, the same
    signed file).
10. a staged rollout (issue 13) of 50 and 100 devices against ESPHome's
    "Update All" (stock-like, one after the other).
11. Noise (issue 11): the loopback upload of row 1 to a device that offers
    Noise, encrypted (--key-file) and in plaintext (no key), same device and
    run; target: encrypted >= 80% of plaintext.

Every figure has its unit and conditions; timed rows are medians of several
runs (one in --quick, which also shrinks the sizes so CI can run it).
The table is printed and written as JSON (default build-bench/bench.json).
"""

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
BUILD = os.path.join(ROOT, "build-bench")

from devicelib import Device, free_port, start_devices  # noqa: E402
import noise_uploader  # noqa: E402

NOISE_KEY = bytes(range(1, 33))

MiB = 1 << 20


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build():
    sh(["cmake", "-S", ROOT, "-B", BUILD, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
        "-DEOTA_SANITIZE=OFF", "-DEOTA_BUILD_TESTS=OFF"], stdout=subprocess.DEVNULL)
    sh(["ninja", "-C", BUILD, "eota_cli", "linkemu", "eota_bench_cost"], stdout=subprocess.DEVNULL)
    os.environ["EOTA_BIN"] = os.path.join(BUILD, "eota")


def eota(*args):
    return [os.path.join(BUILD, "eota")] + list(args)


def upload(port, image, *extra, devices=None, env=None):
    """Run one `eota upload`; returns (wall seconds, list of JSON results)."""
    devs = devices or ["127.0.0.1:%d" % port]
    cmd = eota("upload", image, "--json", "--quiet", "--retries", "0")
    for d in devs:
        cmd += ["--device", d]
    cmd += list(extra)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.monotonic() - t0
    res = [o for o in (json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")) if "result" in o]
    if p.returncode != 0 or len(res) != len(devs) or any(r.get("result") != "ok" for r in res):
        raise RuntimeError("eota upload failed (%d): %s %s" % (p.returncode, p.stderr[-2000:],
                                                               p.stdout[-2000:]))
    return wall, res


def random_file(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, MiB)
            f.write(os.urandom(n))
            left -= n


def median_of(fn, n):
    vals = [fn() for _ in range(n)]
    return statistics.median(vals), vals


class Bench:
    def __init__(self, quick):
        self.quick = quick
        self.tmp = tempfile.mkdtemp(prefix="eota-bench-")
        self.rows = []
        self.runs = 1 if quick else 3

    def add(self, row, name, value, unit, conditions, **extra):
        d = {"row": row, "name": name, "value": value, "unit": unit, "conditions": conditions}
        d.update(extra)
        self.rows.append(d)
        v = ("%.4g" % value) if isinstance(value, float) else str(value)
        print("  %-4s %-46s %12s %-10s %s" % (row, name, v, unit, conditions), flush=True)

    # -- row 1 and 4 ---------------------------------------------------
    def row1_loopback(self):
        size = (16 if self.quick else 64) * MiB
        img = os.path.join(self.tmp, "big.bin")
        random_file(img, size)
        dev = Device("ota:\n  - platform: esphome\n", app=False)
        peak = 0
        cold_env = dict(os.environ, EOTA_CACHE_DIR="off")
        warm_env = dict(os.environ, EOTA_CACHE_DIR=os.path.join(self.tmp, "cache"))
        try:
            t, all_t = median_of(lambda: upload(dev.port, img, "--compress", "never", env=cold_env)[0], self.runs)
            time.sleep(max(0.0, 2.5 - (time.time() - os.path.getmtime(img))))  # past the racy window
            upload(dev.port, img, "--compress", "never", env=warm_env)  # remembers the MD5
            tw, all_tw = median_of(lambda: upload(dev.port, img, "--compress", "never", env=warm_env)[0], self.runs)
            with open("/proc/%d/status" % dev.proc.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = int(line.split()[1])
        finally:
            dev.stop(expect_rc=None)
            dev.cleanup()

        def ceiling():
            t0 = time.monotonic()
            sh(["md5sum", img], stdout=subprocess.DEVNULL)
            t1 = time.monotonic()
            out = os.path.join(self.tmp, "copy.bin")
            sh(["dd", "if=" + img, "of=" + out, "bs=1M", "conv=fsync"], stderr=subprocess.DEVNULL)
            t2 = time.monotonic()
            os.unlink(out)
            return t2 - t0
        c, _ = median_of(ceiling, self.runs)
        mbs, wmbs = size / t / 1e6, size / tw / 1e6
        cmbs = size / c / 1e6
        cond = "%d MiB random image, host profile, loopback, median of %d" % (size // MiB, self.runs)
        self.add("1", "loopback upload, first send of the image", mbs, "MB/s",
                 cond + "; the uploader hashes it first", runs_s=all_t)
        self.add("1", "loopback upload, image sent before", wmbs, "MB/s",
                 cond + "; its MD5 from the digest cache", runs_s=all_tw)
        self.add("1", "ceiling: md5sum + dd conv=fsync", cmbs, "MB/s", "same file, same run")
        self.add("1", "ratio to the ceiling, first send", mbs / cmbs, "x",
                 "two MD5 passes in a row (uploader, then device) against one")
        self.add("1", "ratio to the ceiling, image sent before", wmbs / cmbs, "x", "target >= 0.8")
        self.add("4", "peak RSS of eota device during the upload", peak / 1024.0, "MiB",
                 "VmHWM, %d MiB upload" % (size // MiB))
        out = subprocess.run([os.path.join(BUILD, "eota_bench_cost"), "sizes"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        sizes = dict(l.split("=") for l in out.split())
        self.add("4", "engine RAM: eota_server state", int(sizes["server"]), "bytes", "sizeof, x86_64")
        self.add("4", "engine RAM: of which the Noise session (eota_noise)", int(sizes["noise"]), "bytes",
                 "sizeof, x86_64, EOTA_NOISE_TX_BUFFER %s" % sizes["noise_tx"])
        self.add("4", "engine RAM: + transfer buffer (MCU / eota device)",
                 "%d / %d" % (int(sizes["server"]) + 4096, int(sizes["server"]) + 65536), "bytes",
                 "4 KiB buffer on a chip, 64 KiB in eota device")

    # -- row 2 -----------------------------------------------------------
    def linkemu(self, dev_port, rtt, rate):
        """Start bench/linkemu in front of dev_port; returns (proc, port)."""
        lport = free_port()
        proxy = subprocess.Popen([os.path.join(BUILD, "linkemu"), "--listen", str(lport), "--to",
                                  "127.0.0.1:%d" % dev_port, "--delay-ms", str(rtt / 2.0)]
                                 + (["--rate", str(rate)] if rate else []))
        time.sleep(0.2)
        return proxy, lport

    def row2_links(self):
        size = 1536 * 1024 if not self.quick else 512 * 1024
        speed = 300000
        img = os.path.join(self.tmp, "link.bin")
        random_file(img, size)
        dev = Device("ota:\n  - platform: esphome\nsimulate:\n  flash_write_speed: %d\n" % speed,
                     platform="esp32:\n  board: esp32dev\n", app=False)
        links = ((20, 1000000),) if self.quick else ((2, 0), (20, 0), (50, 0), (20, 1000000), (50, 1000000))
        try:
            for rtt, rate in links:
                self.one_link(dev, img, size, speed, rtt, rate)
            self.add("2", "ceiling: image size / flash speed", size / speed, "s", "%d B at %d B/s" % (size, speed))
        finally:
            dev.stop(expect_rc=None)
            dev.cleanup()
        self.rate_sweep(img, size)

    def one_link(self, dev, img, size, speed, rtt, rate):
        proxy, lport = self.linkemu(dev.port, rtt, rate)
        try:
            res = {}
            for label, args in (("window 1", ["--window", "1"]), ("default", [])):
                res[label], _ = median_of(lambda: upload(lport, img, "--compress", "never", *args)[0], self.runs)
            res["stock"], _ = median_of(lambda: stock_upload(lport, img), self.runs)
        finally:
            proxy.kill()
            proxy.wait()
        link = "RTT %d ms%s" % (rtt, ", link %g MB/s" % (rate / 1e6) if rate else "")
        cond = "%s, flash 300 KB/s, %.1f MiB, median of %d" % (link, size / MiB, self.runs)
        self.add("2", "%s: stock-like uploader" % link, res["stock"], "s",
                 cond + "; stop-and-wait, gzip-9 when offered, 1 s sleep at the end")
        self.add("2", "%s: --window 1 (stock stop-and-wait)" % link, res["window 1"], "s", cond)
        self.add("2", "%s: default window" % link, res["default"], "s", cond)
        # With acks after the flash write (w = 8192 B / 300 KB/s = 27.3 ms
        # per block), stop-and-wait costs w + RTT (+ 8192 / rate on a
        # limited link) per block; the best any uploader can do is w.
        bound = (8192.0 / speed + rtt / 1000.0 + (8192.0 / rate if rate else 0)) / (8192.0 / speed)
        self.add("2", "%s: speed-up over stop-and-wait" % link, res["window 1"] / res["default"], "x",
                 "bound for any uploader: %.2f" % bound)
        self.add("2", "%s: speed-up over the stock-like uploader" % link, res["stock"] / res["default"], "x",
                 "same device, same link")
        self.add("2", "%s: fraction of the flash bound" % link, (size / speed) / res["default"], "x",
                 "image size / flash speed over the default window's time; target >= 0.95")

    def rate_sweep(self, img, size):
        """Stop-and-wait at RTT 20 ms on links of falling rate, to a device
        that acknowledges each block on arrival (host profile, no flash
        emulation): a block costs its time on the wire plus the round trip,
        so the time moves with the rate as theory says when the rate limit
        binds. (Behind a 300 KB/s flash the flash sets the pace instead: the
        device writes while the block arrives.)"""
        rtt = 20
        rates = (1000000,) if self.quick else (4000000, 2000000, 1000000, 500000)
        blocks = (size + 8191) // 8192
        dev = Device("ota:\n  - platform: esphome\nlogger:\n  level: WARN\n", app=False)
        try:
            for rate in rates:
                proxy, lport = self.linkemu(dev.port, rtt, rate)
                try:
                    t, _ = median_of(lambda: upload(lport, img, "--compress", "never", "--window", "1")[0],
                                     self.runs)
                finally:
                    proxy.kill()
                    proxy.wait()
                theory = blocks * (rtt / 1000.0 + 8192.0 / rate)
                self.add("2", "RTT 20 ms, link %g MB/s: --window 1, acks on arrival" % (rate / 1e6), t, "s",
                         "theory %.2f s = %d x (20 ms RTT + %.1f ms on the wire); measured/theory %.2f"
                         % (theory, blocks, 8192000.0 / rate, t / theory))
        finally:
            dev.stop(expect_rc=None)
            dev.cleanup()

    # -- row 3 -----------------------------------------------------------
    def callgrind_device(self, size, noise=False, mdns=False):
        img = os.path.join(self.tmp, "cg%d.bin" % size)
        random_file(img, size)
        port = free_port()
        cfg = os.path.join(self.tmp, "cg.yaml")
        enc = "    encryption:\n      key: %s\n" % base64.b64encode(NOISE_KEY).decode() if noise else ""
        with open(cfg, "w") as f:
            f.write("esphome:\n  name: cg\nhost:\nota:\n  - platform: esphome\n    port: %d\n%s"
                    "logger:\n  level: WARN\n%s" % (port, enc, "" if mdns else "mdns:\n  disabled: true\n"))
        out = os.path.join(self.tmp, "callgrind.%d.out" % size)
        state = os.path.join(self.tmp, "cgstate%d" % size)
        p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                              os.path.join(BUILD, "eota"), "device", "--config", cfg, "--state-dir", state,
                              "--listen", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait until it listens
        end = time.monotonic() + 60
        import socket
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(0.5)  # the probe connection above is served and closed
        if noise:
            with open(img, "rb") as f:
                res = noise_uploader.upload("127.0.0.1", port, f.read(), NOISE_KEY, timeout=120)
            if res["result"] != "ok":
                raise RuntimeError("Noise upload failed: %r" % res)
        else:
            upload(port, img, "--compress", "never")
        wait_idle(p.pid)  # the work an install leaves for idle turns (the image's hash for mDNS) counts too
        p.terminate()
        p.wait(120)
        shutil.rmtree(state, ignore_errors=True)
        return callgrind_total(out)

    def per_mib(self, small, big, **kw):
        """The device's instructions per MiB received: callgrind, two sizes."""
        return (self.callgrind_device(big, **kw) - self.callgrind_device(small, **kw)) / ((big - small) / MiB)

    def row3_cpu(self):
        small, big = 1 * MiB, (5 if self.quick else 9) * MiB
        per_mib = self.per_mib(small, big)
        md5 = []
        for n in (1, 2):
            out = os.path.join(self.tmp, "md5.%d.out" % n)
            sh(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                os.path.join(BUILD, "eota_bench_cost"), "md5", str(n)],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            md5.append(callgrind_total(out))
        md5_per_mib = md5[1] - md5[0]
        self.add("3", "eota device: instructions per MiB received", per_mib / 1e6, "M instr",
                 "callgrind, (I(%d MiB) - I(1 MiB)) / %d; mdns: disabled" % (big // MiB, (big - small) // MiB))
        self.add("3", "MD5 alone over 1 MiB (OpenSSL)", md5_per_mib / 1e6, "M instr", "callgrind, I(2)-I(1)")
        self.add("3", "ratio device / MD5 alone", per_mib / md5_per_mib, "x", "target <= 1.1")
        self.add("3", "eota device inside Noise: instructions per MiB received",
                 self.per_mib(small, big, noise=True) / 1e6, "M instr",
                 "callgrind, as above; ChaCha20-Poly1305 frames of 1024 bytes (OpenSSL)")
        self.add("3", "eota device with mDNS on: instructions per MiB received",
                 self.per_mib(small, big, mdns=True) / 1e6, "M instr",
                 "as the first line, plus the SHA-256 of each installed image for its _eota._tcp TXT")

    # -- row 5 -----------------------------------------------------------
    def row5_size(self):
        bdir = os.path.join(BUILD, "size")
        sh([os.path.join(ROOT, "scripts", "size.sh"), bdir], stdout=subprocess.DEVNULL)
        with open(os.path.join(bdir, "size.json")) as f:
            data = json.load(f)
        for target, t in data_targets(data):
            self.add("5", "core -Os for %s (text/data/bss)" % target,
                     "%d/%d/%d" % (t["text"], t["data"], t["bss"]), "bytes",
                     "%d objects, total %d" % (t.get("objects", 0), t["text"] + t["data"] + t["bss"]))

    # -- row 6 -----------------------------------------------------------
    def row6_fleet(self):
        counts = (1, 5, 10) if self.quick else (1, 10, 50, 100)
        stock_counts = (5,) if self.quick else (10, 50, 100)
        size = 256 * 1024
        img = os.path.join(self.tmp, "fleet.bin")
        random_file(img, size)
        times = {}
        for n in counts:
            devs = []
            try:
                devs = flash_devices(n)
                t, _ = upload(0, img, "--compress", "never", "--jobs", str(n),
                              devices=["127.0.0.1:%d" % d.port for d in devs])
                times[n] = t
                for d in devs:
                    with open(img, "rb") as f:
                        assert d.active_image() == f.read()
                self.add("6", "fleet of %d devices, one eota upload" % n, t, "s",
                         "256 KiB each, flash 300 KB/s, loopback")
                if n in stock_counts:
                    self.stock_fleet(devs, img, n)
            finally:
                for d in devs:
                    d.stop(expect_rc=None)
                    d.cleanup()
        self.add("6", "ratio %d devices / 1 device" % counts[-1], times[counts[-1]] / times[1], "x",
                 "1.0 would be perfect concurrency")

    def stock_fleet(self, devs, img, n):
        """The same fleet updated the way ESPHome's dashboards do it: one
        stock-like upload after the other, and nine at a time."""
        import concurrent.futures
        ports = [d.port for d in devs]
        t0 = time.monotonic()
        for p in ports:
            stock_upload(p, img)
        seq = time.monotonic() - t0
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=9) as pool:
            list(pool.map(lambda p: stock_upload(p, img), ports))
        par = time.monotonic() - t0
        cond = "stock-like uploader (stop-and-wait, 1 s sleep), 256 KiB each, flash 300 KB/s"
        self.add("6", "fleet of %d: stock-like, one after the other" % n, seq, "s", cond)
        self.add("6", "fleet of %d: stock-like, 9 at a time" % n, par, "s", cond)

    # -- row 7 -----------------------------------------------------------
    def row7_compression(self):
        elf = os.path.join(BUILD, "eota")
        size = os.path.getsize(elf)
        dev = Device("ota:\n  - platform: esphome\nsimulate:\n  flash_write_speed: 300000\n",
                     platform="esp8266:\n  board: d1_mini\n", app=False)
        try:
            for mode in ("never", "always"):
                res = []

                def once():
                    wall, r = upload(dev.port, elf, "--compress", mode)
                    res.append(r[0])
                    return wall
                t, _ = median_of(once, self.runs)
                r = res[-1]
                self.add("7", "ELF %d B, gzip %s: wire bytes" % (size, "on" if mode == "always" else "off"),
                         int(r.get("wire_size") or r.get("bytes_sent")), "bytes", "eota executable, esp8266 profile")
                self.add("7", "ELF, gzip %s: time (compress %.2f s)" % ("on" if mode == "always" else "off",
                                                                       r.get("compress_seconds", 0.0)),
                         t, "s", "flash 300 KB/s, loopback, median of %d" % self.runs)
                with open(elf, "rb") as f:
                    assert dev.active_image() == f.read()
        finally:
            dev.stop(expect_rc=None)
            dev.cleanup()


def row7_host_gzip(self):
    """What the host profile's gzip offer costs a stock uploader: it
    compresses whatever it sends at level 9 when offered, random data too.
    The measurement behind `host:`'s default of no gzip (`gzip: true` to
    offer it)."""
    import resource
    size = (16 if self.quick else 64) * MiB
    img = os.path.join(self.tmp, "hostgz.bin")
    random_file(img, size)
    for offer in (True, False):
        dev = Device("ota:\n  - platform: esphome\nlogger:\n  level: WARN\n", app=False,
                     platform="host:\n  gzip: %s\n" % ("true" if offer else "false"))
        try:
            def once():
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                wall = stock_upload(dev.port, img) - 1.0  # without the final sleep
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
                return wall
            cpu = []
            t, _ = median_of(once, self.runs)
        finally:
            dev.stop(expect_rc=None)
            dev.cleanup()
        label = "host: gzip: %s" % ("true" if offer else "false (default)")
        cond = "stock-like uploader, %d MiB random image, loopback, median of %d" % (size // MiB, self.runs)
        self.add("7", "%s: stock-like upload time" % label, t, "s", cond + ", without its 1 s sleep")
        self.add("7", "%s: stock-like uploader CPU" % label, statistics.median(cpu), "s", cond)


Bench.row7_host_gzip = row7_host_gzip


def row8_window(self):
    size = (1 if self.quick else 4) * MiB
    windows = (1, 8, 32) if self.quick else (1, 2, 4, 8, 16, 32, 64)
    img = os.path.join(self.tmp, "win.bin")
    random_file(img, size)
    dev = Device("ota:\n  - platform: esphome\nlogger:\n  level: WARN\n", app=False)
    try:
        for rtt in (20, 50):
            lport = free_port()
            proxy = subprocess.Popen([os.path.join(BUILD, "linkemu"), "--listen", str(lport), "--to",
                                      "127.0.0.1:%d" % dev.port, "--delay-ms", str(rtt / 2.0)])
            time.sleep(0.2)
            try:
                base = None
                for w in windows:
                    t, _ = median_of(lambda: upload(lport, img, "--compress", "never", "--window", str(w))[0],
                                     self.runs)
                    base = base or t
                    self.add("8", "RTT %d ms, --window %d" % (rtt, w), t, "s",
                             "%d MiB, host profile, no flash emulation; x%.1f vs window 1" % (size // MiB, base / t))
                t, _ = median_of(lambda: upload(lport, img, "--compress", "never")[0], self.runs)
                self.add("8", "RTT %d ms, default window" % rtt, t, "s", "speed-up vs window 1: x%.1f (target >= 2)"
                         % (base / t))
            finally:
                proxy.kill()
                proxy.wait()
    finally:
        dev.stop(expect_rc=None)
        dev.cleanup()


Bench.row8_window = row8_window


def row9_signature(self):
    size = (16 if self.quick else 64) * MiB
    raw, img = os.path.join(self.tmp, "sig.bin"), os.path.join(self.tmp, "sig.signed.bin")
    random_file(raw, size)
    key = os.path.join(self.tmp, "bench")
    sh(eota("keygen", "--out", key), stdout=subprocess.DEVNULL)
    sh(eota("sign", "--key", key + ".key", "--version", "1.0", raw, "-o", img), stdout=subprocess.DEVNULL)
    with open(key + ".pub") as f:
        pub = f.read().strip()
    times = {}
    for name, body in (("off", ""), ("on", "    signature:\n      keys: [%s]\n" % pub)):
        dev = Device("ota:\n  - platform: esphome\n" + body, app=False)
        try:
            times[name], _ = median_of(lambda: upload(dev.port, img, "--compress", "never")[0], self.runs)
        finally:
            dev.stop(expect_rc=None)
            dev.cleanup()
    cond = "%d MiB signed random image, loopback, median of %d" % (size // MiB, self.runs)
    self.add("9", "upload without the signature check", times["off"], "s", cond)
    self.add("9", "upload with the signature check", times["on"], "s", cond + " (SHA-256 + Ed25519)")
    self.add("9", "time the check adds", times["on"] - times["off"], "s",
             "%.1f%% of the upload" % (100.0 * (times["on"] - times["off"]) / times["off"]))


Bench.row9_signature = row9_signature


def row10_rollout(self):
    """A staged rollout (canary 1, then waves of 25%, each device probed
    after its install) against the sequential stop-and-wait upload of
    ESPHome's "Update All" (the stock-like uploader, one device after the
    other, its 1 s sleep each), the same 256 KiB image and devices."""
    counts = (10,) if self.quick else (50, 100)
    size = 256 * 1024
    img = os.path.join(self.tmp, "rollout.bin")
    random_file(img, size)
    for n in counts:
        devs = []
        try:
            devs = flash_devices(n)
            t, _ = upload(0, img, "--compress", "never", "--jobs", str(n), "--canary", "1", "--wave", "25%",
                          "--max-failures", "5%", devices=["127.0.0.1:%d" % d.port for d in devs])
            t0 = time.monotonic()
            for d in devs:
                stock_upload(d.port, img)
            seq = time.monotonic() - t0
        finally:
            for d in devs:
                d.stop(expect_rc=None)
                d.cleanup()
        cond = "256 KiB each, flash 300 KB/s, loopback"
        self.add("10", "rollout of %d: canary 1, waves of 25%%, probed" % n, t, "s", cond)
        self.add("10", "%d devices one after the other, stock-like" % n, seq, "s", cond + " (ESPHome's Update All)")
        self.add("10", "speed-up of the rollout over Update All, %d devices" % n, seq / t, "x", "same run")


Bench.row10_rollout = row10_rollout


def wait_idle(pid, timeout=300):
    """Until the process has used no CPU for a second."""
    end, last = time.monotonic() + timeout, -1.0
    while time.monotonic() < end:
        now = proc_cpu_s(pid)
        if now == last:
            return
        last = now
        time.sleep(1.0)


def proc_cpu_s(pid):
    """User + system CPU seconds of a running process."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def row11_noise(self):
    import base64
    import resource
    size = (16 if self.quick else 64) * MiB
    img = os.path.join(self.tmp, "noise.bin")
    random_file(img, size)
    key = base64.b64encode(os.urandom(32)).decode()
    kf = os.path.join(self.tmp, "noise.key")
    with open(kf, "w") as f:
        f.write(key + "\n")
    # mDNS off: the other devices on a shared machine multicast, and each
    # packet costs the device CPU that is no part of the upload.
    dev = Device("api:\n  encryption:\n    key: %s\nota:\n  - platform: esphome\nlogger:\n  level: WARN\n"
                 "mdns:\n  disabled: true\n" % key, app=False)
    cpu = {False: [], True: []}  # (uploader, device) CPU seconds per upload

    def once(*extra, env=None):
        kids, d0 = resource.getrusage(resource.RUSAGE_CHILDREN), proc_cpu_s(dev.proc.pid)
        wall, res = upload(dev.port, img, "--compress", "never", *extra, env=env)
        kids2 = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert res[0]["encrypted"] == bool(extra), res
        if env is cache:
            cpu[bool(extra)].append((kids2.ru_utime + kids2.ru_stime - kids.ru_utime - kids.ru_stime,
                                     proc_cpu_s(dev.proc.pid) - d0))
        return wall
    cache = dict(os.environ, EOTA_CACHE_DIR=os.path.join(self.tmp, "cache11"))
    cold = dict(os.environ, EOTA_CACHE_DIR="off")
    times = {k: [] for k in ("plain", "enc", "plain_first", "enc_first")}
    try:
        # The four kinds in turns, so that the load of the machine falls on
        # all alike: the image sent before (its MD5 from the digest cache,
        # past its racy window, as row 1) and a first send (the uploader
        # hashes the image first, in both modes).
        time.sleep(max(0.0, 2.5 - (time.time() - os.path.getmtime(img))))
        once(env=cache)
        cpu[False].clear()
        for _ in range(self.runs):
            times["plain"].append(once(env=cache))
            times["enc"].append(once("--key-file", kf, env=cache))
            times["plain_first"].append(once(env=cold))
            times["enc_first"].append(once("--key-file", kf, env=cold))
        med = {k: statistics.median(v) for k, v in times.items()}
    finally:
        dev.stop(expect_rc=None)
        dev.cleanup()
    cond = ("%d MiB random image, host profile, loopback, device offers Noise, in turns, median of %d"
            % (size // MiB, self.runs))
    for first, what in (("_first", "first send (the uploader hashes the image)"),
                        ("", "image sent before (MD5 cached)")):
        p, e = med["plain" + first], med["enc" + first]
        self.add("11", "loopback upload, plaintext, %s" % what, size / p / 1e6, "MB/s", cond,
                 runs_s=times["plain" + first])
        self.add("11", "loopback upload, Noise-encrypted, %s" % what, size / e / 1e6, "MB/s", cond,
                 runs_s=times["enc" + first])
        self.add("11", "encrypted / plaintext throughput, %s" % what.split(" (")[0], p / e, "x", "target >= 0.8")
    for who, i in (("uploader", 0), ("device", 1)):
        p = statistics.median(c[i] for c in cpu[False])
        e = statistics.median(c[i] for c in cpu[True])
        self.add("11", "%s CPU per upload, plaintext / encrypted" % who, "%.2f / %.2f" % (p, e), "s",
                 "median; user + system; MD5 cached; x%.2f" % (e / p if p else 0))


Bench.row11_noise = row11_noise


def data_targets(data):
    """size.json -> [(target name, totals)] whatever its exact shape."""
    out = []
    targets = data.get("targets", data) if isinstance(data, dict) else {}
    if isinstance(targets, dict):
        items = targets.items()
    else:
        items = [(t.get("target", t.get("name", "?")), t) for t in targets]
    for name, t in items:
        objs = t.get("objects", [])
        tot = t.get("total") if isinstance(t.get("total"), dict) else {
            k: sum(o.get(k, 0) for o in objs) for k in ("text", "data", "bss")}
        out.append((name, {"text": tot.get("text", 0), "data": tot.get("data", 0), "bss": tot.get("bss", 0),
                           "objects": len(objs)}))
    return out


def flash_devices(n):
    """n eota devices on loopback with flash writes emulated at 300 KB/s."""
    body = "ota:\n  - platform: esphome\nsimulate:\n  flash_write_speed: 300000\nlogger:\n  level: WARN\n"
    return start_devices([body] * n, app=False)


def stock_upload(port, image, host="127.0.0.1"):
    """The project's stock-like uploader (tests/integration/espota_stock.py:
    stop-and-wait, gzip level 9 whenever the device offers it) and the one
    second ESPHome's uploader sleeps after a success; returns wall seconds."""
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "integration", "espota_stock.py"),
                        "--host", host, "--port", str(port), "--quiet", image],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError("stock-like upload failed: %s" % p.stderr[-500:])
    time.sleep(1.0)
    return time.monotonic() - t0


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, one run each (for CI)")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench.json"), help="where to write the JSON")
    ap.add_argument("--rows", default="1,2,3,5,6,7,8,9,10,11", help="which rows (4 comes with 1)")
    a = ap.parse_args()
    rows = set(a.rows.split(","))
    build()
    b = Bench(a.quick)
    info = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": platform.node(),
            "cpus": os.cpu_count(), "kernel": platform.release(), "quick": a.quick}
    print("eota benchmarks, %s, %s, %d CPUs%s" % (info["date"], info["kernel"], info["cpus"],
                                                  " (quick)" if a.quick else ""))
    print("  %-4s %-46s %12s %-10s %s" % ("row", "what", "value", "unit", "conditions"))
    failed = []
    try:
        for r, fn in (("1", b.row1_loopback), ("2", b.row2_links), ("3", b.row3_cpu), ("5", b.row5_size),
                      ("6", b.row6_fleet), ("7", b.row7_compression), ("7", b.row7_host_gzip),
                      ("8", b.row8_window), ("9", b.row9_signature),
                      ("10", b.row10_rollout), ("11", b.row11_noise)):
            if r in rows:
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - a broken row must not hide the others
                    failed.append(r)
                    b.add(r, "ROW FAILED", 0, "", str(e).splitlines()[0][:200] if str(e) else repr(e))
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"info": info, "rows": b.rows, "failed_rows": failed}, f, indent=1)
    print("written: %s" % a.json)
    if failed:
        print("bench: rows %s failed" % ",".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
