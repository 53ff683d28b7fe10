#!/usr/bin/env python3
"""A scripted fake ESPHome native-OTA device (TCP server) for testing uploaders.

Speaks the device side of /work/shared/PROTOCOL.md, correctly by default, and
misbehaves on request. Standard library only.

    python3 quirky_device.py --port P --script NAME [options]

Scripts (presets; the options below refine them):
  ok        current device: 00 02; 48 SS when the client set 0x04, else 46/40;
            SHA-256 challenge when --password is set (82 to clients without
            0x02 unless --accept-md5); 47 per 8192 wire bytes; 44; 45.
  v1        as ok, but protocol version 1: no 47 acknowledgements.
  gzip      older device that accepts gzip and knows no extended protocol:
            answers the single byte 46 (40 to clients without 0x01).
  md5       legacy device (before 2026.1): single-byte 40 (46 with --gzip),
            MD5 challenge 01 + 32 hex. Needs --password.
  extended  answers 48 + the byte given with --flags (when the client set 0x04,
            or always with --force-extended).
  reserved  as ok, but sets the reserved server flags 0x08|0x10 as well.
  error     as ok, but answers --code at --stage instead of the normal reply.
  stall     as ok, but never answers at --stage (reads and discards input,
            keeps the connection open until the client closes it).
  close     as ok, but closes without answering at --stage.

Stages: magic (instead of 00 VV), features (instead of 48 SS/46/40),
challenge (instead of the challenge; without password same place as auth),
auth (instead of 41), prepare (instead of 42), md5 (instead of 43), chunk
(instead of the --chunk'th 47, default the first; in version 1 at the place
where it would be), receive (instead of 44), end (instead of 45).
--inject error|stall|close applies the same to any script.

--acks MODE makes a version-2 device skip or reorder its acknowledgements
(what an uploader must not take for a success):
  none       never a 47; 44 45 once every byte arrived.
  skip-last  the last 47 never comes.
  late-last  the last 47 comes after 44.
  no-receive 45 without 44 before it.
  unread     never reads the image: 43, a pause (--unread-wait), 44 45.
  at-once    43 44 45 in one write, without reading the image.

Serves --count sessions one after the other (0: forever), then exits. Prints
one line per session on stdout (key=value, or a JSON object with --json).
--save FILE writes the received image (inflated when gzip was agreed) after
the MD5 was verified; '{n}' in FILE becomes the session number.
A line "quirky_device: listening on HOST:PORT" goes to stderr when ready.
"""

import argparse
import gzip
import hashlib
import hmac
import json
import os
import socket
import sys
import time
import zlib

MAGIC = bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45])
BLOCK = 8192
SCRIPTS = ("ok", "v1", "gzip", "md5", "extended", "reserved", "error", "stall", "close")
ACKS = ("normal", "none", "skip-last", "late-last", "no-receive", "unread", "at-once")
STAGES = ("magic", "features", "challenge", "auth", "prepare", "md5", "chunk", "receive",
          "end")


class _End(Exception):
    """The session is over (result already recorded)."""


class _Gone(Exception):
    def __init__(self, at, reset=False):
        self.at = at
        self.reset = reset


class _Timeout(Exception):
    def __init__(self, at):
        self.at = at


class Session:
    def __init__(self, sock, peer, cfg, n):
        self.sock = sock
        self.cfg = cfg
        self.t = []  # transcript: [direction, bytearray, mergeable]
        self.rx = 0
        self.tx = 0
        self.deadline = None
        self.info = {
            "session": n, "peer": peer[0], "result": None, "at": None, "code": None,
            "version": cfg.version, "client_features": None, "reply": None,
            "auth": None, "ota_type": None, "size": None, "md5": None, "bytes": 0,
            "rx": 0, "acks": 0, "md5_ok": None, "gzip": False, "image_size": None,
            "image_md5": None, "final": None, "saved": None, "client_waited": None,
            "note": None,
        }

    # ---- I/O ---------------------------------------------------------------
    def _timeout(self):
        if self.deadline is not None:
            return max(self.deadline - time.monotonic(), 0.001)
        return self.cfg.data_timeout

    def _rec(self, d, b, merge):
        if merge and self.t and self.t[-1][0] == d and self.t[-1][2]:
            self.t[-1][1] += b
        else:
            self.t.append([d, bytearray(b), merge])

    def read(self, n, at, merge=False, some=False, timeout=None):
        """Read exactly n bytes (or, with some=True, 1..n bytes)."""
        buf = bytearray()
        while len(buf) < n:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise _Timeout(at)
            self.sock.settimeout(timeout if timeout is not None else self._timeout())
            try:
                b = self.sock.recv(n - len(buf))
            except socket.timeout:
                if buf:
                    self._rec("C", buf, merge)
                raise _Timeout(at)
            except OSError:
                if buf:
                    self._rec("C", buf, merge)
                raise _Gone(at, reset=True)
            if not b:
                if buf:
                    self._rec("C", buf, merge)
                raise _Gone(at)
            buf += b
            self.rx += len(b)
            if some:
                break
        self._rec("C", buf, merge)
        return bytes(buf)

    def write(self, b, at):
        self.sock.settimeout(self._timeout())
        try:
            self.sock.sendall(b)
        except socket.timeout:
            raise _Timeout(at)
        except OSError:
            raise _Gone(at, reset=True)
        self.tx += len(b)
        self._rec("D", b, False)

    def _drain(self, limit):
        """Read and discard until EOF or `limit` seconds; return seconds waited."""
        t0 = time.monotonic()
        end = t0 + limit
        while True:
            rem = end - time.monotonic()
            if rem <= 0:
                break
            self.sock.settimeout(rem)
            try:
                b = self.sock.recv(65536)
            except OSError:
                break
            if not b:
                break
            self.rx += len(b)
            self._rec("C", b, True)
        return time.monotonic() - t0

    def send_error(self, code, at):
        """Send an error byte and close (after letting the client read it)."""
        self.info["result"] = "error"
        self.info["code"] = code
        self.info["at"] = at
        try:
            self.write(bytes([code]), at)
            self.sock.shutdown(socket.SHUT_WR)
        except (OSError, _Gone, _Timeout):
            pass
        self._drain(1.0)
        raise _End()

    def inject(self, stage, k=None):
        cfg = self.cfg
        if cfg.inject is None or cfg.stage != stage:
            return
        if stage == "chunk" and k != cfg.chunk:
            return
        if cfg.inject == "error":
            self.send_error(cfg.code, stage)
        if cfg.inject == "close":
            self.info["result"] = "closed"
            self.info["at"] = stage
            raise _End()
        if cfg.inject == "stall":
            self.info["result"] = "stalled"
            self.info["at"] = stage
            waited = self._drain(cfg.stall_max)
            self.info["client_waited"] = round(waited, 3)
            raise _End()

    # ---- the exchange ------------------------------------------------------
    def run(self):
        try:
            self._exchange()
        except _End:
            pass
        except _Gone as e:
            if self.info["result"] is None:
                self.info["result"] = "aborted"
                self.info["at"] = e.at
                if e.reset:
                    self.info["note"] = "connection reset"
        except _Timeout as e:
            self.info["result"] = "timeout"
            self.info["at"] = e.at
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
        self.info["rx"] = self.rx
        self.info["tx"] = self.tx
        self.info["transcript"] = self.transcript()
        return self.info

    def transcript(self):
        parts = []
        for d, b, _ in self.t:
            if len(b) <= 8:
                parts.append("%s %s" % (d, b.hex().upper()))
            else:
                parts.append("%s %dB" % (d, len(b)))
        return " . ".join(parts)

    def _feature_reply(self, cf):
        """Return (reply bytes, extended, gzip agreed)."""
        cfg = self.cfg
        script = cfg.script
        cgzip = bool(cf & 0x01)
        if script in ("gzip", "md5"):
            # Older devices: know no extended protocol.
            if script == "gzip" or cfg.gzip:
                if cgzip:
                    return b"\x46", False, True
            return b"\x40", False, False
        if cf & 0x04 or cfg.force_extended:
            if script == "extended":
                flags = cfg.flags if cfg.flags is not None else 0
            else:
                flags = 0
                if cfg.gzip and cgzip:
                    flags |= 0x01
                if cfg.allow_types:
                    flags |= 0x02
                if cfg.flags is not None:
                    flags = cfg.flags
                if script == "reserved":
                    flags |= 0x18
            return bytes([0x48, flags]), True, bool(flags & 0x01)
        gz = cgzip and (cfg.gzip or (script == "extended" and (cfg.flags or 0) & 0x01))
        return (b"\x46", False, True) if gz else (b"\x40", False, False)

    def _ack_now(self, position, total):
        """Whether the 47 of this block goes out in its place (--acks)."""
        acks = self.cfg.acks
        if acks == "none":
            return False
        return not (acks in ("skip-last", "late-last") and position == total)

    def _acks_unread(self):
        """--acks unread / at-once: 43 44 45 without reading the image."""
        if self.cfg.acks == "unread":
            self.write(b"\x43", "md5")
            time.sleep(self.cfg.unread_wait)
            self.write(b"\x44\x45", "receive")
        else:
            self.write(b"\x43\x44\x45", "md5")
        self.info["result"] = "ok"
        self.info["note"] = "acks %s: image not read" % self.cfg.acks
        self._drain(2.0)
        raise _End()

    def _exchange(self):
        cfg = self.cfg
        info = self.info
        self.deadline = time.monotonic() + cfg.handshake_timeout

        # 1-2: magic and version.
        magic = self.read(5, "magic")
        if magic != MAGIC:
            info["note"] = "bad magic %s" % magic.hex()
            self.send_error(0x80, "magic")
        self.inject("magic")
        self.write(bytes([0x00, cfg.version & 0xFF]), "magic")

        # 3-4: features.
        cf = self.read(1, "features")[0]
        info["client_features"] = "0x%02x" % cf
        self.inject("features")
        reply, extended, gz = self._feature_reply(cf)
        info["reply"] = reply.hex(" ")
        self.write(reply, "features")
        info["gzip"] = gz

        # 5-7: authentication.
        self.inject("challenge")
        if cfg.password:
            if cfg.script == "md5" or (not cf & 0x02 and cfg.accept_md5):
                kind, hfunc, code = "md5", hashlib.md5, 0x01
                nonce = hfunc(os.urandom(8)).hexdigest().encode()
            elif cf & 0x02:
                kind, hfunc, code = "sha256", hashlib.sha256, 0x02
                nonce = hfunc(os.urandom(16)).hexdigest().encode()
            else:
                info["note"] = "client cannot do SHA-256"
                self.send_error(0x82, "challenge")
            info["auth"] = kind
            self.write(bytes([code]) + nonce, "challenge")
            cnonce = self.read(len(nonce), "auth")
            response = self.read(len(nonce), "auth")
            expect = hfunc(cfg.password.encode() + nonce + cnonce).hexdigest()
            try:
                got = response.decode("ascii").lower()
            except UnicodeDecodeError:
                got = ""
            if not hmac.compare_digest(expect, got):
                info["note"] = "wrong auth response"
                self.send_error(0x82, "auth")
        else:
            info["auth"] = "none"
        self.inject("auth")
        self.write(b"\x41", "auth")

        # The data phase begins.
        self.deadline = None
        ota_type = 0
        rx_handshake = self.rx
        try:
            if extended:
                ota_type = self.read(1, "type")[0]
                info["ota_type"] = ota_type
            size_b = self.read(4, "size")
        except _Gone as e:
            # A client that leaves right after the handshake, before the type
            # or size, is a probe: no error.
            if self.rx == rx_handshake:
                info["result"] = "probe"
                info["at"] = e.at
                raise _End()
            raise
        size = int.from_bytes(size_b, "big")
        info["size"] = size
        self.inject("prepare")
        if ota_type != 0 and not (cfg.allow_types and ota_type in (1, 2)):
            self.send_error(0x8E, "prepare")
        if size == 0:
            self.send_error(0x81, "prepare")
        if size > cfg.max_size:
            self.send_error(0x89, "prepare")
        self.write(b"\x42", "prepare")

        md5 = self.read(32, "md5")
        info["md5"] = md5.decode("ascii", "replace")
        self.inject("md5")
        if cfg.acks in ("unread", "at-once"):
            self._acks_unread()
        self.write(b"\x43", "md5")

        # 13-14: data, one 47 per 8192 wire bytes plus one for a partial block.
        data = bytearray()
        positions = 0
        total = (size + BLOCK - 1) // BLOCK
        while len(data) < size:
            data += self.read(min(65536, size - len(data)), "data", merge=True, some=True)
            info["bytes"] = len(data)
            due = len(data) // BLOCK + (1 if len(data) == size and size % BLOCK else 0)
            while positions < due:
                positions += 1
                self.inject("chunk", positions)
                if cfg.version >= 2 and self._ack_now(positions, total):
                    self.write(b"\x47", "chunk")
                    info["acks"] += 1

        # 15-16: result.
        self.inject("receive")
        if cfg.acks != "no-receive":
            self.write(b"\x44", "receive")
        if cfg.acks == "late-last" and cfg.version >= 2:
            self.write(b"\x47", "chunk")
            info["acks"] += 1
        actual = hashlib.md5(data).hexdigest()
        info["md5_ok"] = hmac.compare_digest(actual, info["md5"].lower())
        image = bytes(data)
        if gz and image[:2] == b"\x1f\x8b":
            try:
                image = gzip.decompress(image)
            except (OSError, EOFError, zlib.error) as e:
                info["note"] = "gzip inflate failed: %s" % e
        info["image_size"] = len(image)
        info["image_md5"] = hashlib.md5(image).hexdigest()
        self.inject("end")
        if not info["md5_ok"]:
            self.send_error(0x8B, "end")
        if cfg.save:
            path = cfg.save.replace("{n}", str(info["session"]))
            with open(path, "wb") as f:
                f.write(image)
            info["saved"] = path
        self.write(b"\x45", "end")
        info["result"] = "ok"

        # 17: final acknowledgement; do not wait long for it.
        try:
            b = self.read(1, "final", timeout=cfg.final_wait)
            info["final"] = "yes" if b == b"\x00" else "0x%02x" % b[0]
        except (_Gone, _Timeout):
            info["final"] = "no"


def format_line(info, transcript=False):
    keys = ["session", "peer", "result", "at", "code", "version", "client_features",
            "reply", "auth", "ota_type", "size", "md5", "bytes", "rx", "tx", "acks",
            "md5_ok", "gzip", "image_size", "image_md5", "final", "saved",
            "client_waited", "note"]
    out = []
    for k in keys:
        v = info.get(k)
        if v is None:
            continue
        if k == "code":
            v = "0x%02x" % v
        v = str(v)
        if " " in v:
            v = '"%s"' % v
        out.append("%s=%s" % (k, v))
    if transcript:
        out.append('transcript="%s"' % info["transcript"])
    return " ".join(out)


def _int(s):
    return int(s, 0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Scripted fake ESPHome OTA device.",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True, help="0: pick a free one")
    p.add_argument("--script", choices=SCRIPTS, default="ok")
    p.add_argument("--stage", choices=STAGES)
    p.add_argument("--code", type=_int, default=0xFF, help="error code for --script error")
    p.add_argument("--chunk", type=int, default=1, help="which 47 --stage chunk replaces")
    p.add_argument("--inject", choices=("error", "stall", "close"))
    p.add_argument("--count", type=int, default=1, help="sessions to serve; 0: forever")
    p.add_argument("--save", metavar="FILE")
    p.add_argument("--password")
    p.add_argument("--version", type=int, help="protocol version to announce")
    p.add_argument("--flags", type=_int, help="server flags byte after 48")
    p.add_argument("--force-extended", action="store_true",
                   help="answer 48 SS even when the client did not set 0x04")
    p.add_argument("--gzip", action="store_true", help="accept gzip")
    p.add_argument("--allow-types", action="store_true",
                   help="server flag 0x02: accept OTA types 1 and 2")
    p.add_argument("--accept-md5", action="store_true",
                   help="MD5 challenge for clients without 0x02 (instead of 82)")
    p.add_argument("--max-size", type=int, default=16 << 20,
                   help="larger uploads get 89")
    p.add_argument("--handshake-timeout", type=float, default=20.0)
    p.add_argument("--data-timeout", type=float, default=105.0)
    p.add_argument("--final-wait", type=float, default=2.0,
                   help="how long to wait for the final 00")
    p.add_argument("--stall-max", type=float, default=300.0)
    p.add_argument("--acks", choices=ACKS, default="normal",
                   help="skip or reorder the acknowledgements (see above)")
    p.add_argument("--unread-wait", type=float, default=0.3,
                   help="--acks unread: the pause between 43 and 44 45")
    p.add_argument("--json", action="store_true", help="one JSON object per session")
    p.add_argument("--transcript", action="store_true",
                   help="add the byte transcript to the key=value lines")
    cfg = p.parse_args(argv)
    if cfg.script in ("error", "stall", "close"):
        cfg.inject = cfg.script
    if cfg.inject and not cfg.stage:
        p.error("--script %s / --inject needs --stage" % (cfg.inject))
    if cfg.script == "md5" and not cfg.password:
        p.error("--script md5 needs --password")
    if cfg.version is None:
        cfg.version = 1 if cfg.script == "v1" else 2
    if cfg.code < 0 or cfg.code > 0xFF:
        p.error("--code must be a byte")
    return cfg


def main(argv=None):
    cfg = parse_args(argv)
    infos = socket.getaddrinfo(cfg.host, cfg.port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                               0, socket.AI_PASSIVE)
    family, stype, proto, _, addr = infos[0]
    srv = socket.socket(family, stype, proto)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        try:
            srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        except OSError:
            pass
    srv.bind(addr)
    srv.listen(1)
    port = srv.getsockname()[1]
    host = cfg.host if ":" not in cfg.host else "[%s]" % cfg.host
    print("quirky_device: listening on %s:%d" % (host, port), file=sys.stderr, flush=True)
    n = 0
    try:
        while cfg.count == 0 or n < cfg.count:
            conn, peer = srv.accept()
            n += 1
            try:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            info = Session(conn, peer, cfg, n).run()
            if cfg.json:
                print(json.dumps(info, sort_keys=True), flush=True)
            else:
                print(format_line(info, cfg.transcript), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
