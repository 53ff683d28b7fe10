"""Self-test of the two Python protocol peers against each other:
espota_stock.py (stock-like uploader) and quirky_device.py (scripted fake
device), on 127.0.0.1 ports picked free at random. Does not touch eota's C code.
"""

import gzip
import hashlib
import json
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
UPLOADER = os.path.join(HERE, "espota_stock.py")
DEVICE = os.path.join(HERE, "quirky_device.py")

import espota_stock

TMP = tempfile.mkdtemp(prefix="stock_peers_")
RNG = random.Random(0x0E07A)      # images: reproducible
PORT_RNG = random.Random()        # ports: differ between concurrent runs


def make_image(name, size, compressible=False):
    path = os.path.join(TMP, name)
    if compressible:
        # About 2 bits of entropy a byte: gzip gets it to roughly a third.
        data = bytes(RNG.choices(b"eota", k=size))
    else:
        data = RNG.randbytes(size)
    with open(path, "wb") as f:
        f.write(data)
    return path, data


IMG20K, DATA20K = make_image("img20k.bin", 20000)
IMGZ, DATAZ = make_image("imgz.bin", 120000, compressible=True)
IMGBIG, DATABIG = make_image("imgbig.bin", 300000)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    for _ in range(200):
        port = PORT_RNG.randrange(20000, 61000)
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.bind((host, port))
        except OSError:
            continue
        finally:
            s.close()
        return port
    raise RuntimeError("no free port")


class Device:
    def __init__(self, *args, host="127.0.0.1"):
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        err = ""
        for _ in range(5):  # another process may take the port meanwhile
            self.port = free_port(family, host)
            cmd = [sys.executable, DEVICE, "--host", host, "--port", str(self.port),
                   "--json"] + [str(a) for a in args]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
            end = time.monotonic() + 10
            line = ""
            while time.monotonic() < end:
                r, _, _ = select.select([self.proc.stderr], [], [], 0.2)
                if r:
                    line = self.proc.stderr.readline()
                    if "listening on" in line or not line:
                        break
                if self.proc.poll() is not None:
                    break
            if "listening on" in line:
                return
            self.proc.kill()
            out, err = self.proc.communicate()
            err = line + err
            if "Address already in use" not in err:
                break
        raise AssertionError("device did not start: %s" % err)

    def finish(self, timeout=20):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError("device did not finish; stderr: %s" % err)
        if self.proc.returncode != 0 or "Traceback" in err:
            raise AssertionError("device failed (rc %s): %s" % (self.proc.returncode, err))
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def uploader(port, image, *args, host="127.0.0.1", json_out=True):
    cmd = [sys.executable, UPLOADER, "--host", host, "--port", str(port), image]
    if json_out:
        cmd.append("--json")
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    res = json.loads(p.stdout) if json_out and p.stdout.strip() else None
    return p.returncode, res, p.stderr


def pair(device_args, image, *up_args, count=1):
    dev = Device(*device_args, "--count", count)
    try:
        rc, res, err = uploader(dev.port, image, *up_args)
        sessions = dev.finish()
    finally:
        dev.kill()
    return rc, res, err, sessions


def check(cond, what, *ctx):
    if not cond:
        raise AssertionError(what + "".join("\n    " + repr(c) for c in ctx))


def expect_ok(rc, res, sessions, data):
    check(rc == 0 and res["result"] == "ok", "upload not ok", rc, res)
    s = sessions[0]
    check(s["result"] == "ok" and s["md5_ok"] is True, "device not ok", s)
    check(s["image_md5"] == hashlib.md5(data).hexdigest(), "image differs", s)
    check(s["final"] == "yes", "final 00 missing", s)


def expect_error(rc, res, code, step):
    check(rc == 1 and res["result"] == "error", "expected an error", rc, res)
    check(res["code"] == code, "code %r != %r" % (res["code"], code), res)
    check(res["step"] == step, "step %r != %r" % (res["step"], step), res)
    if code is not None and code >= 0x80:
        name, sentence = espota_stock.CODES[code]
        check(res["code_name"] == name and name in res["message"]
              and sentence in res["message"], "code not named in words", res)


@pytest.fixture(scope="module", autouse=True)
def remove_tmp():
    """The images and saved files live in TMP until the last test is done."""
    yield
    shutil.rmtree(TMP, ignore_errors=True)


# ---------------------------------------------------------------------------
def test_worked_example():
    save = os.path.join(TMP, "we.bin")
    rc, res, err, ss = pair(["--script", "ok", "--save", save], IMG20K)
    expect_ok(rc, res, ss, DATA20K)
    want = ("C 6C26F75C45 . D 0002 . C 07 . D 4800 . D 41 . C 00 . C 00004E20 . D 42 . "
            "C 32B . D 43 . C 8192B . D 47 . C 8192B . D 47 . C 3616B . D 47 . D 44 . "
            "D 45 . C 00")
    check(ss[0]["transcript"] == want, "transcript differs from the worked example",
          ss[0]["transcript"])
    check(res["version"] == 2 and res["features_reply"] == "48 00" and res["auth"] == "none"
          and res["chunk_acks"] == 3 and res["bytes_sent"] == 20044 and not res["gzip"],
          "uploader summary", res)
    with open(save, "rb") as f:
        check(f.read() == DATA20K, "saved image differs")


def test_chunk_ack_counts():
    sizes = [1, 8191, 8192, 8193, 16384, 40000]
    dev = Device("--script", "ok", "--count", len(sizes))
    try:
        for size in sizes:
            path, data = make_image("s%d.bin" % size, size)
            rc, res, _ = uploader(dev.port, path)
            check(rc == 0 and res["chunk_acks"] == -(-size // 8192), "acks", size, res)
        ss = dev.finish()
    finally:
        dev.kill()
    for size, s in zip(sizes, ss):
        check(s["result"] == "ok" and s["acks"] == -(-size // 8192) and s["size"] == size,
              "device acks", size, s)


def test_sha256_password():
    rc, res, err, ss = pair(["--script", "ok", "--password", "s3cr3t"], IMG20K,
                            "--password", "s3cr3t")
    expect_ok(rc, res, ss, DATA20K)
    check(res["auth"] == "sha256" and ss[0]["auth"] == "sha256", "auth kind", res)
    # 5+1 + 64+64 + 1+4+32 + data + 1
    check(res["bytes_sent"] == 20000 + 172, "bytes sent", res)


def test_wrong_password():
    rc, res, err, ss = pair(["--script", "ok", "--password", "s3cr3t"], IMG20K,
                            "--password", "s3cr3t", "--password-wrong")
    expect_error(rc, res, 0x82, "auth")
    check(ss[0]["result"] == "error" and ss[0]["code"] == 0x82, "device", ss)


def test_password_missing():
    rc, res, err, ss = pair(["--script", "ok", "--password", "s3cr3t"], IMG20K)
    expect_error(rc, res, None, "auth")
    check(res["message"] == "device requires a password", "message", res)
    check(ss[0]["result"] == "aborted" and ss[0]["at"] == "auth", "device", ss)


def test_password_unneeded():
    rc, res, err, ss = pair(["--script", "ok"], IMG20K, "--password", "x")
    expect_ok(rc, res, ss, DATA20K)
    check(res["auth"] == "none", "auth", res)


def test_legacy_md5_device():
    rc, res, err, ss = pair(["--script", "md5", "--password", "old"], IMG20K,
                            "--password", "old")
    expect_ok(rc, res, ss, DATA20K)
    check(res["auth"] == "md5" and res["features_reply"] == "40" and not res["extended"]
          and res["ota_type"] is None and ss[0]["ota_type"] is None, "legacy", res, ss)
    check("C 07 . D 40 . D 33B . C 32B . C 32B . D 41 . C 00004E20" in ss[0]["transcript"], "transcript", ss[0]["transcript"])


def test_legacy_md5_gzip_device():
    rc, res, err, ss = pair(["--script", "md5", "--password", "old", "--gzip"], IMGZ,
                            "--password", "old")
    expect_ok(rc, res, ss, DATAZ)
    check(res["gzip"] and res["features_reply"] == "46", "gzip", res)


def test_old_uploader_without_sha256():
    # A current device refuses uploaders without 0x02 when a password is set.
    rc, res, err, ss = pair(["--script", "ok", "--password", "p"], IMG20K,
                            "--password", "p", "--features", "0x01")
    expect_error(rc, res, 0x82, "auth")
    # ... unless MD5 is explicitly accepted.
    rc, res, err, ss = pair(["--script", "ok", "--password", "p", "--accept-md5"], IMG20K,
                            "--password", "p", "--features", "0x01")
    expect_ok(rc, res, ss, DATA20K)
    check(res["auth"] == "md5" and res["features_reply"] == "40", "md5", res)


def test_version1_device():
    rc, res, err, ss = pair(["--script", "v1"], IMG20K)
    expect_ok(rc, res, ss, DATA20K)
    check(res["version"] == 1 and res["chunk_acks"] == 0 and ss[0]["acks"] == 0, "v1", res)
    check("D 47" not in ss[0]["transcript"], "no 47 in v1", ss[0]["transcript"])


def test_unsupported_version():
    rc, res, err, ss = pair(["--script", "ok", "--version", "3"], IMG20K)
    expect_error(rc, res, None, "magic")
    check("unsupported protocol version 3" in res["message"], "message", res)


def test_gzip_device():
    save = os.path.join(TMP, "gz.bin")
    rc, res, err, ss = pair(["--script", "gzip", "--save", save], IMGZ)
    expect_ok(rc, res, ss, DATAZ)
    # gzip level 9; the header holds a timestamp, so compare sizes, and the MD5
    # the uploader sent with the one the device got.
    gz = gzip.compress(DATAZ, compresslevel=9)
    check(res["gzip"] and res["features_reply"] == "46" and not res["extended"]
          and res["upload_size"] == len(gz) < len(DATAZ) // 2
          and ss[0]["size"] == len(gz) and ss[0]["md5"] == res["md5"], "gzip", res, ss)
    check(ss[0]["acks"] == -(-len(gz) // 8192) > 1, "acks count wire bytes", ss)
    with open(save, "rb") as f:
        check(f.read() == DATAZ, "inflated image differs")


def test_gzip_device_no_compress():
    rc, res, err, ss = pair(["--script", "gzip"], IMGZ, "--no-compress")
    expect_ok(rc, res, ss, DATAZ)
    check(not res["gzip"] and ss[0]["size"] == len(DATAZ), "no gzip", res)


def test_gzip_not_offered():
    rc, res, err, ss = pair(["--script", "gzip"], IMGZ, "--features", "0x06")
    expect_ok(rc, res, ss, DATAZ)
    check(not res["gzip"] and res["features_reply"] == "40", "no gzip", res)


def test_extended_gzip_flag():
    rc, res, err, ss = pair(["--script", "extended", "--flags", "0x01"], IMGZ)
    expect_ok(rc, res, ss, DATAZ)
    check(res["gzip"] and res["server_flags"] == 1 and res["extended"], "gzip", res)


def test_reserved_flags_ignored():
    rc, res, err, ss = pair(["--script", "reserved"], IMG20K)
    expect_ok(rc, res, ss, DATA20K)
    check(res["features_reply"] == "48 18" and res["warnings"], "reserved", res)


def test_non_extended_uploader():
    rc, res, err, ss = pair(["--script", "ok"], IMG20K, "--features", "0x03")
    expect_ok(rc, res, ss, DATA20K)
    check(res["features_reply"] == "40" and not res["extended"]
          and ss[0]["ota_type"] is None, "non-extended", res, ss)
    rc, res, err, ss = pair(["--script", "ok", "--gzip"], IMGZ, "--features", "0x03")
    expect_ok(rc, res, ss, DATAZ)
    check(res["features_reply"] == "46" and res["gzip"], "46", res)


def test_strict_feature_flags():
    rc, res, err, ss = pair(["--script", "extended", "--force-extended"], IMG20K,
                            "--features", "0x03")
    expect_error(rc, res, 0x48, "features")


def test_ota_types():
    rc, res, err, ss = pair(["--script", "ok"], IMG20K, "--ota-type", "1")
    expect_error(rc, res, 0x8E, "prepare")
    rc, res, err, ss = pair(["--script", "ok", "--allow-types"], IMG20K, "--ota-type", "2")
    expect_ok(rc, res, ss, DATA20K)
    check(ss[0]["ota_type"] == 2 and res["server_flags"] == 2, "type", res, ss)


STEP_OF_STAGE = {"magic": "magic", "features": "features", "challenge": "auth",
                 "auth": "auth", "prepare": "prepare", "md5": "md5", "chunk": "chunk",
                 "receive": "receive", "end": "end"}
STAGE_CODES = {"magic": 0x80, "features": 0xFF, "challenge": 0x82, "auth": 0x94,
               "prepare": 0x8C, "md5": 0x8A, "chunk": 0x83, "receive": 0x8D, "end": 0x93}


@pytest.mark.parametrize("stage, code", STAGE_CODES.items(), ids=list(STAGE_CODES))
def test_error_at_each_stage(stage, code):
    rc, res, err, ss = pair(["--script", "error", "--stage", stage, "--code", code,
                             "--password", "pw"], IMG20K, "--password", "pw")
    expect_error(rc, res, code, STEP_OF_STAGE[stage])
    check(ss[0]["result"] == "error" and ss[0]["code"] == code, "device", stage, ss)


def test_error_at_later_chunk():
    rc, res, err, ss = pair(["--script", "error", "--stage", "chunk", "--chunk", "3",
                             "--code", "0x83"], IMG20K)
    expect_error(rc, res, 0x83, "chunk")
    check(res["chunk_acks"] == 2, "two acks before the error", res)


def test_error_while_v1_streams():
    rc, res, err, ss = pair(["--script", "v1", "--inject", "error", "--stage", "chunk",
                             "--chunk", "2", "--code", "0x83"], IMGBIG)
    check(rc == 1 and res["code"] == 0x83 and "ERROR_WRITING_FLASH" in res["message"],
          "v1 error", res)


def test_undefined_and_rp2040_codes():
    rc, res, err, ss = pair(["--script", "error", "--stage", "prepare", "--code", "0xA5"],
                            IMG20K)
    check(rc == 1 and res["code"] == 0xA5 and "ERROR_UNDEFINED_A5" in res["message"],
          "undefined code", res)
    rc, res, err, ss = pair(["--script", "error", "--stage", "prepare", "--code", "0x8C"],
                            IMG20K)
    check("ERROR_RP2040_NOT_ENOUGH_SPACE" in res["message"], "8C named", res)


def test_code_table_complete():
    codes = [0x00, 0x01, 0x02] + list(range(0x40, 0x49)) + list(range(0x80, 0x95)) + [0xFF]
    for c in codes:
        check(c in espota_stock.CODES, "code 0x%02X missing" % c)
        if c >= 0x80:
            check(espota_stock.CODES[c][1], "code 0x%02X has no sentence" % c)


@pytest.mark.parametrize("stage, step", STEP_OF_STAGE.items(), ids=list(STEP_OF_STAGE))
def test_close_at_each_stage(stage, step):
    rc, res, err, ss = pair(["--script", "close", "--stage", stage,
                             "--password", "pw"], IMG20K, "--password", "pw")
    check(rc == 1 and res["result"] == "error" and res["code"] is None
          and res["step"] == step
          and res["message"] == "device closed the connection without answering "
                                "(during %s)" % step, "close at " + stage, res)
    check(ss[0]["result"] == "closed", "device", ss)


@pytest.mark.parametrize("stage", ("magic", "auth", "prepare", "chunk", "end"))
def test_stall_at_stages(stage):
    t0 = time.monotonic()
    rc, res, err, ss = pair(["--script", "stall", "--stage", stage, "--stall-max", 20],
                            IMG20K, "--handshake-timeout", 1, "--data-timeout", 1)
    step = STEP_OF_STAGE[stage]
    check(rc == 1 and res["message"] == "timed out during %s" % step,
          "stall at " + stage, res)
    check(ss[0]["result"] == "stalled" and 0.5 < ss[0]["client_waited"] < 5,
          "device", ss)
    check(time.monotonic() - t0 < 10, "took too long")


def test_connection_refused():
    port = free_port()
    rc, res, err = uploader(port, IMG20K)
    check(rc == 1 and res["result"] == "error" and res["step"] == "connect"
          and "connection refused" in res["message"], "refused", res)


def test_corrupt_md5():
    rc, res, err, ss = pair(["--script", "ok"], IMG20K, "--corrupt-md5")
    expect_error(rc, res, 0x8B, "end")
    check(ss[0]["md5_ok"] is False and ss[0]["bytes"] == 20000, "device", ss)


def test_size_overrides():
    rc, res, err, ss = pair(["--script", "ok"], IMG20K, "--size-override", 0)
    expect_error(rc, res, 0x81, "prepare")
    rc, res, err, ss = pair(["--script", "ok"], IMG20K, "--size-override", 10000)
    check(rc == 1 and res["result"] == "error", "smaller size", res)
    check(ss[0]["bytes"] == 10000 and ss[0]["md5_ok"] is False, "device", ss)
    rc, res, err, ss = pair(["--script", "ok", "--data-timeout", 3], IMG20K,
                            "--size-override", 20100, "--data-timeout", 1)
    check(rc == 1 and res["message"] == "timed out during chunk", "larger size", res)
    check(ss[0]["result"] in ("timeout", "aborted") and ss[0]["bytes"] == 20000,
          "device", ss)


def test_no_final_ack():
    rc, res, err, ss = pair(["--script", "ok", "--final-wait", 0.5], IMG20K,
                            "--no-final-ack")
    check(rc == 0 and res["result"] == "ok" and not res["final_ack_sent"], "ok", res)
    check(ss[0]["result"] == "ok" and ss[0]["final"] == "no", "device", ss)


def test_cut_sweep():
    total = 20044
    points = [0, 1, 4, 5, 6, 7, 10, 11, 12, 42, 43, 44, 5000, 8235, 8236, 8237,
              16428, 20043, total]
    dev = Device("--script", "ok", "--count", len(points), "--final-wait", 0.5)
    try:
        results = []
        for n in points:
            rc, res, _ = uploader(dev.port, IMG20K, "--cut-after", n)
            results.append(res)
            check(rc == 0, "exit status", n, res)
            if n < total:
                check(res["result"] == "cut" and res["bytes_sent"] == n, "cut", n, res)
            else:
                check(res["result"] == "ok", "no cut when N covers everything", res)
        ss = dev.finish()
    finally:
        dev.kill()
    for n, s in zip(points, ss):
        check(s["rx"] == n, "device received %d, expected %d" % (s["rx"], n), s)
        if n == 6:
            check(s["result"] == "probe", "probe", s)
        elif n == total - 1:
            check(s["result"] == "ok" and s["final"] == "no", "all but the final 00", s)
        elif n == total:
            check(s["result"] == "ok" and s["final"] == "yes", "complete", s)
        else:
            check(s["result"] == "aborted", "aborted", n, s)


def test_cut_sweep_password_and_rst():
    points = [70, 133, 134, 140]  # mid cnonce, mid response, after auth, mid md5
    dev = Device("--script", "ok", "--password", "pw", "--count", 2 * len(points))
    try:
        for n in points:
            rc, res, _ = uploader(dev.port, IMG20K, "--password", "pw", "--cut-after", n)
            check(rc == 0 and res["result"] == "cut", "cut", n, res)
        for n in points:
            rc, res, _ = uploader(dev.port, IMG20K, "--password", "pw", "--cut-after", n,
                                  "--cut-rst")
            check(rc == 0 and res["result"] == "cut", "cut rst", n, res)
        ss = dev.finish()
    finally:
        dev.kill()
    for n, s in zip(points, ss[:len(points)]):
        check(s["rx"] == n and s["result"] in ("aborted", "probe"), "device", n, s)
    for n, s in zip(points, ss[len(points):]):
        check(s["rx"] <= n and s["result"] in ("aborted", "probe"), "device rst", n, s)


def test_stall_after():
    # In the handshake: the device's handshake timeout ends it.
    rc, res, err, ss = pair(["--script", "ok", "--handshake-timeout", 1], IMG20K,
                            "--stall-after", 5, "--stall-max", 10)
    check(rc == 0 and res["result"] == "stalled" and res["stall"]["outcome"] == "closed"
          and 0.5 < res["stall"]["seconds"] < 5, "handshake stall", res)
    check(ss[0]["result"] == "timeout" and ss[0]["at"] == "features", "device", ss)
    # In the data phase: the device's silence timeout ends it.
    rc, res, err, ss = pair(["--script", "ok", "--data-timeout", 1], IMG20K,
                            "--stall-after", 9000, "--stall-max", 10)
    check(rc == 0 and res["result"] == "stalled" and res["stall"]["outcome"] == "closed",
          "data stall", res)
    # 43 handshake bytes + 8192: the first block is complete and acknowledged.
    check(res["chunk_acks"] == 1 and res["stall"]["received"] == "", "acks", res)
    check(ss[0]["result"] == "timeout" and ss[0]["at"] == "data"
          and ss[0]["rx"] == 9000, "device", ss)


def test_module_api():
    dev = Device("--script", "ok", "--password", "pw", "--gzip", "--count", 2)
    try:
        seen = []
        res = espota_stock.upload("127.0.0.1", dev.port, DATAZ, password="pw",
                                  progress=lambda d, t: seen.append((d, t)))
        check(res["result"] == "ok" and res["gzip"] and res["auth"] == "sha256", "api", res)
        check(seen and seen[-1][0] == seen[-1][1], "progress", seen)
        res = espota_stock.upload("127.0.0.1", dev.port, DATAZ, password="bad")
        check(res["result"] == "error" and res["code"] == 0x82, "api error", res)
        ss = dev.finish()
    finally:
        dev.kill()
    check(ss[0]["result"] == "ok" and ss[1]["code"] == 0x82, "device", ss)


def test_several_sessions_and_save():
    save = os.path.join(TMP, "multi_{n}.bin")
    dev = Device("--script", "ok", "--count", 3, "--save", save)
    try:
        for _ in range(3):
            rc, res, _ = uploader(dev.port, IMG20K)
            check(rc == 0, "upload", res)
        ss = dev.finish()
    finally:
        dev.kill()
    check([s["session"] for s in ss] == [1, 2, 3], "sessions", ss)
    for n in (1, 2, 3):
        with open(save.replace("{n}", str(n)), "rb") as f:
            check(f.read() == DATA20K, "saved %d" % n)


def test_human_output():
    dev = Device("--script", "ok", "--count", 2)
    try:
        rc, _, err = uploader(dev.port, IMG20K, json_out=False)
        check(rc == 0, "rc", err)
        for want in ("Connecting to 127.0.0.1:%d" % dev.port, "Uploading: [", "100%",
                     "OTA successful"):
            check(want in err, "missing %r" % want, err)
        rc, _, err = uploader(dev.port, IMG20K, "--corrupt-md5", json_out=False)
        check(rc == 1 and "ERROR" in err and "ERROR_MD5_MISMATCH" in err, "error", err)
        dev.finish()
    finally:
        dev.kill()


def test_bad_magic_to_device():
    dev = Device("--script", "ok")
    try:
        s = socket.create_connection(("127.0.0.1", dev.port), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        b = s.recv(10)
        s.close()
        check(b == b"\x80", "80 for bad magic", b)
        ss = dev.finish()
    finally:
        dev.kill()
    check(ss[0]["code"] == 0x80, "device", ss)


def test_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    dev = Device("--script", "ok", host="::1")
    try:
        rc, res, _ = uploader(dev.port, IMG20K, host="::1")
        ss = dev.finish()
    finally:
        dev.kill()
    expect_ok(rc, res, ss, DATA20K)
    check(res["address"] == "::1", "address", res)

