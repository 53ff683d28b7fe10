#!/usr/bin/env python3
"""A stand-alone uploader for the ESPHome native OTA protocol.

It behaves like the stock ESPHome uploader (`esphome upload`) as described in
/work/shared/PROTOCOL.md, and serves as an independent peer in eota's
integration tests. Standard library only.

Command line:
    python3 espota_stock.py --host 127.0.0.1 --port 8082 [--password P] FILE

As a module:
    import espota_stock
    res = espota_stock.upload("127.0.0.1", 8082, data, password="x")
    res["result"]  # 'ok', 'error', or for the test misbehaviours 'cut'/'stalled'

Exit status: 0 on success (and when a requested --cut-after / --stall-after
misbehaviour was carried out), 1 on any error, 2 on bad usage.
"""

import argparse
import gzip
import hashlib
import json
import os
import socket
import sys
import time

MAGIC = bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45])
BLOCK = 8192

HANDSHAKE_TIMEOUT = 20.0
DATA_TIMEOUT = 160.0

# Client feature bits (PROTOCOL.md section 3).
FEAT_GZIP = 0x01
FEAT_SHA256 = 0x02
FEAT_EXTENDED = 0x04
FEAT_NOISE = 0x08
DEFAULT_FEATURES = FEAT_GZIP | FEAT_SHA256 | FEAT_EXTENDED

# Server flag bits.
SFLAG_GZIP = 0x01
SFLAG_TYPES = 0x02
SFLAG_NOISE = 0x04
SFLAG_RESERVED = 0x08 | 0x10

# Response codes (PROTOCOL.md section 4): code -> (name, sentence for the user).
CODES = {
    0x00: ("OK", ""),
    0x01: ("REQUEST_AUTH", "MD5 challenge follows"),
    0x02: ("REQUEST_SHA256_AUTH", "SHA-256 challenge follows"),
    0x40: ("HEADER_OK", ""),
    0x41: ("AUTH_OK", ""),
    0x42: ("UPDATE_PREPARE_OK", ""),
    0x43: ("BIN_MD5_OK", ""),
    0x44: ("RECEIVE_OK", ""),
    0x45: ("UPDATE_END_OK", ""),
    0x46: ("SUPPORTS_COMPRESSION", ""),
    0x47: ("CHUNK_OK", ""),
    0x48: ("FEATURE_FLAGS", "one flags byte follows"),
    0x80: ("ERROR_MAGIC",
           "invalid magic bytes (not an OTA peer, or not a valid image)"),
    0x81: ("ERROR_UPDATE_PREPARE",
           "could not prepare storage; image too big? restart the device"),
    0x82: ("ERROR_AUTH_INVALID",
           "authentication failed; is the password right? (also: SHA-256 required)"),
    0x83: ("ERROR_WRITING_FLASH", "writing the image failed"),
    0x84: ("ERROR_UPDATE_END", "finishing the update failed"),
    0x85: ("ERROR_INVALID_BOOTSTRAPPING",
           "ESP8266 still in serial-download boot mode: power-cycle it once "
           "after a serial flash"),
    0x86: ("ERROR_WRONG_CURRENT_FLASH_CONFIG",
           "device flashed with the wrong flash size; flash over USB with the right board"),
    0x87: ("ERROR_WRONG_NEW_FLASH_CONFIG",
           "the image asks for more flash than the chip has (wrong board)"),
    0x88: ("ERROR_ESP8266_NOT_ENOUGH_SPACE",
           "not enough space for the image; flash a minimal firmware first"),
    0x89: ("ERROR_ESP32_NOT_ENOUGH_SPACE", "the OTA partition is too small"),
    0x8A: ("ERROR_NO_UPDATE_PARTITION", "no OTA partition found"),
    0x8B: ("ERROR_MD5_MISMATCH",
           "the image arrived corrupted (MD5 mismatch); retry"),
    0x8C: ("ERROR_RP2040_NOT_ENOUGH_SPACE",
           "not enough space for the image (RP2040)"),
    0x8D: ("ERROR_SIGNATURE_INVALID",
           "the image is not signed with a key the device trusts"),
    0x8E: ("ERROR_UNSUPPORTED_OTA_TYPE", "the device cannot take this kind of image"),
    0x8F: ("ERROR_PARTITION_TABLE_VERIFY",
           "partition table not verified; nothing changed"),
    0x90: ("ERROR_PARTITION_TABLE_UPDATE",
           "partition table write failed; device degraded"),
    0x91: ("ERROR_BOOTLOADER_VERIFY", "bootloader not verified; nothing changed"),
    0x92: ("ERROR_BOOTLOADER_UPDATE", "bootloader write failed; device degraded"),
    0x93: ("ERROR_VERSION_DOWNGRADE",
           "the image is older than the running one and downgrades are refused"),
    0x94: ("ERROR_ENCRYPTION_REQUIRED", "the device accepts encrypted uploads only"),
    0xFF: ("ERROR_UNKNOWN", "unspecified device error"),
}


def code_name(code):
    if code is None:
        return None
    ent = CODES.get(code)
    if ent:
        return ent[0]
    return "ERROR_UNDEFINED_%02X" % code if code >= 0x80 else "UNDEFINED_%02X" % code


def code_sentence(code):
    ent = CODES.get(code)
    if ent and ent[1]:
        return ent[1]
    if code >= 0x80:
        return "device error 0x%02X, not defined by the protocol" % code
    return ""


def describe_code(code):
    """'0x8B ERROR_MD5_MISMATCH: the image arrived corrupted ...'"""
    s = "0x%02X %s" % (code, code_name(code))
    sent = code_sentence(code)
    return s + (": " + sent if sent else "")


class OTAError(Exception):
    def __init__(self, message, step=None, code=None, network=False):
        super().__init__(message)
        self.message = message
        self.step = step
        self.code = code
        # True for errors that a retry may cure (connect failures, lost
        # connections before the whole image reached the device).
        self.network = network


class _Cut(Exception):
    pass


class _Stall(Exception):
    pass


def _fmt_hostport(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


class _Uploader:
    def __init__(self, host, port, data, password=None, features=DEFAULT_FEATURES,
                 ota_type=0, compress=True, handshake_timeout=HANDSHAKE_TIMEOUT,
                 data_timeout=DATA_TIMEOUT, cut_after=None, cut_rst=False,
                 corrupt_md5=False, stall_after=None, stall_max=None,
                 size_override=None, no_final_ack=False, password_wrong=False,
                 log=None, progress=None, filename=None):
        self.host = host
        self.port = int(port)
        self.data = bytes(data)
        self.password = password if password else None
        self.features = int(features) & 0xFF
        self.ota_type = int(ota_type) & 0xFF
        self.compress = compress
        self.handshake_timeout = float(handshake_timeout)
        self.data_timeout = float(data_timeout)
        self.cut_after = cut_after
        self.cut_rst = cut_rst
        self.corrupt_md5 = corrupt_md5
        self.stall_after = stall_after
        self.stall_max = stall_max
        self.size_override = size_override
        self.no_final_ack = no_final_ack
        self.password_wrong = password_wrong
        self.log = log or (lambda msg: None)
        self.progress = progress
        self.filename = filename
        self.sock = None
        self.deadline = None  # handshake deadline (monotonic), None in data phase
        self.res = {
            "result": None, "code": None, "code_name": None, "message": "",
            "step": None, "host": host, "port": self.port, "address": None,
            "version": None, "features_sent": self.features,
            "features_reply": None, "extended": False, "server_flags": None,
            "auth": None, "ota_type": None, "gzip": False,
            "image_size": len(self.data), "upload_size": None,
            "announced_size": None, "md5": None, "bytes_sent": 0,
            "chunk_acks": 0, "final_ack_sent": False, "warnings": [],
            "elapsed": None,
        }

    # ---- low level -------------------------------------------------------
    def _timeout(self):
        if self.deadline is not None:
            return max(self.deadline - time.monotonic(), 0.001)
        return self.data_timeout

    def _check_deadline(self, step):
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise OTAError("timed out during %s" % step, step, network=True)

    def _pending_error_byte(self):
        """After a failed send: the device may have sent an error byte before
        closing. Return it if one can be read quickly."""
        try:
            self.sock.settimeout(0.5)
            b = self.sock.recv(64)
        except OSError:
            return None
        for c in b:
            if c >= 0x80:
                return c
        return None

    def recv_exact(self, n, step, raw=False):
        """Read n bytes. Unless raw, a first byte >= 0x80 is an error code."""
        buf = b""
        while len(buf) < n:
            self._check_deadline(step)
            self.sock.settimeout(self._timeout())
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise OTAError("timed out during %s" % step, step, network=True)
            except ConnectionResetError:
                if buf and not raw and buf[0] >= 0x80:
                    break
                raise OTAError("connection reset by the device (during %s)" % step,
                               step, network=True)
            except OSError as e:
                raise OTAError("network error during %s: %s" % (step, e), step,
                               network=True)
            if not chunk:
                if buf and not raw and buf[0] >= 0x80:
                    break
                raise OTAError("device closed the connection without answering "
                               "(during %s)" % step, step, network=True)
            buf += chunk
            if not raw and buf[0] >= 0x80:
                # An error byte: the device closes after it; do not wait for
                # the rest of a multi-byte answer.
                break
        if not raw and buf[0] >= 0x80:
            raise OTAError("device answered %s (during %s)" % (describe_code(buf[0]), step),
                           step, code=buf[0])
        return buf

    def expect(self, want, step):
        c = self.recv_exact(1, step)[0]
        if c != want:
            raise OTAError("unexpected response 0x%02X %s during %s (expected 0x%02X %s)"
                           % (c, code_name(c), step, want, code_name(want)), step, code=c)

    def _sendall(self, data, step):
        view = memoryview(data)
        while view:
            self._check_deadline(step)
            self.sock.settimeout(self._timeout())
            try:
                n = self.sock.send(view)
            except socket.timeout:
                raise OTAError("timed out during %s (sending)" % step, step, network=True)
            except (BrokenPipeError, ConnectionResetError) as e:
                c = self._pending_error_byte()
                if c is not None:
                    raise OTAError("device answered %s (during %s)"
                                   % (describe_code(c), step), step, code=c)
                raise OTAError("connection lost while sending (during %s): %s"
                               % (step, e.strerror or e), step, network=True)
            except OSError as e:
                raise OTAError("network error during %s: %s" % (step, e), step,
                               network=True)
            self.res["bytes_sent"] += n
            view = view[n:]

    def send(self, data, step, final=False):
        sent = self.res["bytes_sent"]
        for limit, exc in ((self.cut_after, _Cut), (self.stall_after, _Stall)):
            if limit is not None and sent + len(data) > limit:
                if limit > sent:
                    self._sendall(data[:limit - sent], step)
                self.res["step"] = step
                raise exc()
        self._sendall(data, step)
        sent = self.res["bytes_sent"]
        if not final:
            for limit, exc in ((self.cut_after, _Cut), (self.stall_after, _Stall)):
                if limit is not None and sent == limit:
                    self.res["step"] = step
                    raise exc()

    # ---- misbehaviours ---------------------------------------------------
    def _do_cut(self):
        s = self.sock
        self.sock = None
        if self.cut_rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
            return
        # Graceful: make sure all N bytes reach the device, then close.
        try:
            s.shutdown(socket.SHUT_WR)
            self._wait_outq_empty(s, 2.0)
            s.setblocking(False)
            while True:
                if not s.recv(4096):
                    break
        except OSError:
            pass
        s.close()

    @staticmethod
    def _wait_outq_empty(s, limit):
        try:
            import fcntl
            import termios
            import struct
        except ImportError:
            return
        end = time.monotonic() + limit
        while time.monotonic() < end:
            try:
                q = struct.unpack("i", fcntl.ioctl(s.fileno(), termios.TIOCOUTQ,
                                                   b"\0\0\0\0"))[0]
            except OSError:
                return
            if q == 0:
                return
            time.sleep(0.005)

    def _do_stall(self):
        """Send nothing more; read whatever the device says until it closes."""
        limit = self.stall_max
        if limit is None:
            limit = self.handshake_timeout if self.deadline is not None else self.data_timeout
        t0 = time.monotonic()
        end = t0 + limit
        got = b""
        outcome = "timeout"
        code = None
        while True:
            rem = end - time.monotonic()
            if rem <= 0:
                break
            self.sock.settimeout(rem)
            try:
                b = self.sock.recv(4096)
            except socket.timeout:
                break
            except ConnectionResetError:
                outcome = "reset"
                break
            except OSError as e:
                outcome = "error: %s" % e
                break
            if not b:
                outcome = "closed"
                break
            got += b
        for c in got:
            if c >= 0x80:
                code = c
                break
        waited = time.monotonic() - t0
        self.res["stall"] = {"outcome": outcome, "seconds": round(waited, 3),
                             "received": got.hex()}
        if code is not None:
            self.res["code"] = code
            self.res["code_name"] = code_name(code)
        return outcome, waited, code

    # ---- the exchange ----------------------------------------------------
    def connect(self):
        self.res["step"] = "connect"
        try:
            infos = socket.getaddrinfo(self.host, self.port, socket.AF_UNSPEC,
                                       socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise OTAError("cannot resolve %s: %s" % (self.host, e), "connect")
        last = None
        for family, stype, proto, _, addr in infos:
            s = socket.socket(family, stype, proto)
            s.settimeout(self.handshake_timeout)
            try:
                s.connect(addr)
            except OSError as e:
                s.close()
                last = e
                continue
            self.sock = s
            self.res["address"] = addr[0]
            return
        where = _fmt_hostport(self.host, self.port)
        if isinstance(last, ConnectionRefusedError):
            msg = "connection refused by %s" % where
        elif isinstance(last, socket.timeout):
            msg = "timed out during connect to %s" % where
        else:
            msg = "cannot connect to %s: %s" % (where, getattr(last, "strerror", None) or last)
        raise OTAError(msg, "connect", network=True)

    def run(self):
        t_start = time.monotonic()
        res = self.res
        try:
            self.log("Connecting to %s" % _fmt_hostport(self.host, self.port))
            self.connect()
            self.deadline = time.monotonic() + self.handshake_timeout
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            self.log("Connected to %s" % _fmt_hostport(res["address"], self.port))
            if self.cut_after == 0:
                raise _Cut()
            if self.stall_after == 0:
                raise _Stall()
            self._exchange()
            res["result"] = "ok"
            res["message"] = "OTA successful"
            res["step"] = None
            self.log("OTA successful")
        except _Cut:
            res["result"] = "cut"
            res["message"] = ("connection closed by the uploader after %d bytes, as asked"
                              " (during %s)" % (res["bytes_sent"], res["step"]))
            self._do_cut()
            self.log(res["message"])
        except _Stall:
            outcome, waited, code = self._do_stall()
            res["result"] = "stalled"
            msg = "stalled after %d bytes (during %s); " % (res["bytes_sent"], res["step"])
            if outcome == "timeout":
                msg += "the device kept the connection open for %.1f s" % waited
            elif outcome == "closed":
                msg += "the device closed the connection after %.1f s" % waited
            elif outcome == "reset":
                msg += "the device reset the connection after %.1f s" % waited
            else:
                msg += "%s after %.1f s" % (outcome, waited)
            if code is not None:
                msg += " (it answered %s)" % describe_code(code)
            res["message"] = msg
            self.log(msg)
        except OTAError as e:
            res["result"] = "error"
            res["message"] = e.message
            res["step"] = e.step
            res["code"] = e.code
            res["code_name"] = code_name(e.code)
            res["_network"] = e.network
            self.log("ERROR " + e.message)
        finally:
            if self.sock is not None:
                try:
                    self.sock.close()
                except OSError:
                    pass
                self.sock = None
            res["elapsed"] = round(time.monotonic() - t_start, 3)
        return res

    def _exchange(self):
        res = self.res
        # 1-2: magic, version.
        self.send(MAGIC, "magic")
        reply = self.recv_exact(2, "magic")
        if reply[0] != 0x00:
            raise OTAError("unexpected response 0x%02X %s during magic (expected 0x00 OK)"
                           % (reply[0], code_name(reply[0])), "magic", code=reply[0])
        version = reply[1]
        res["version"] = version
        if version not in (1, 2):
            raise OTAError("unsupported protocol version %d (this uploader speaks 1 and 2)"
                           % version, "magic")

        # 3-4: features.
        self.send(bytes([self.features]), "features")
        c = self.recv_exact(1, "features")[0]
        extended = False
        device_gzip = False
        if c == 0x48:
            flags = self.recv_exact(1, "features", raw=True)[0]
            res["features_reply"] = "48 %02x" % flags
            res["server_flags"] = flags
            if not self.features & FEAT_EXTENDED:
                raise OTAError("device answered FEATURE_FLAGS although the extended "
                               "protocol was not requested", "features", code=c)
            extended = True
            if flags & SFLAG_GZIP:
                if self.features & FEAT_GZIP:
                    device_gzip = True
                else:
                    res["warnings"].append("server flag 0x01 (gzip) set although the "
                                           "client did not offer gzip; ignored")
            if flags & SFLAG_RESERVED:
                res["warnings"].append("reserved server flags 0x%02x ignored"
                                       % (flags & SFLAG_RESERVED))
        elif c in (0x40, 0x46):
            res["features_reply"] = "%02x" % c
            if c == 0x46:
                if self.features & FEAT_GZIP:
                    device_gzip = True
                else:
                    res["warnings"].append("SUPPORTS_COMPRESSION although the client "
                                           "did not offer gzip; ignored")
        else:
            raise OTAError("unexpected response 0x%02X %s during features (expected "
                           "0x40, 0x46 or 0x48)" % (c, code_name(c)), "features", code=c)
        res["extended"] = extended

        # 5-7: authentication.
        c = self.recv_exact(1, "auth")[0]
        if c in (0x01, 0x02):
            if c == 0x02 and not self.features & FEAT_SHA256:
                # An uploader without SHA-256 does not know this code.
                raise OTAError("unexpected response 0x02 REQUEST_SHA256_AUTH during auth "
                               "(this uploader offered no SHA-256)", "auth", code=c)
            kind, hfunc, nlen = (("md5", hashlib.md5, 32) if c == 0x01
                                 else ("sha256", hashlib.sha256, 64))
            res["auth"] = kind
            nonce = self.recv_exact(nlen, "auth", raw=True)
            try:
                nonce.decode("ascii")
            except UnicodeDecodeError:
                raise OTAError("device sent a non-ASCII nonce", "auth")
            if not self.password:
                raise OTAError("device requires a password", "auth")
            password = self.password
            if self.password_wrong:
                password = password + "-wrong"
            cnonce = hfunc(os.urandom(nlen // 2)).hexdigest().encode()
            assert len(cnonce) == nlen
            response = hfunc(password.encode() + nonce + cnonce).hexdigest().encode()
            self.send(cnonce, "auth")
            self.send(response, "auth")
            self.expect(0x41, "auth")
        elif c == 0x41:
            res["auth"] = "none"
        else:
            raise OTAError("unexpected response 0x%02X %s during auth (expected 0x01, "
                           "0x02 or 0x41)" % (c, code_name(c)), "auth", code=c)

        # The data phase begins.
        self.deadline = None

        # 8: OTA type.
        if extended:
            res["ota_type"] = self.ota_type
            self.send(bytes([self.ota_type]), "type")

        # 9-12: size and MD5.
        payload = self.data
        if device_gzip and self.compress:
            payload = gzip.compress(self.data, compresslevel=9)
            res["gzip"] = True
            self.log("Compressed to %d bytes" % len(payload))
        res["upload_size"] = len(payload)
        size = len(payload) if self.size_override is None else int(self.size_override)
        res["announced_size"] = size
        md5 = hashlib.md5(payload).hexdigest()
        if self.corrupt_md5:
            md5 = hashlib.md5(payload + b"corrupt").hexdigest()
        res["md5"] = md5
        self.send(size.to_bytes(4, "big"), "prepare")
        self.expect(0x42, "prepare")
        self.send(md5.encode(), "md5")
        self.expect(0x43, "md5")

        # 13-14: data.
        total = len(payload)
        name = self.filename or "image"
        self.log("Uploading %s (%d bytes)" % (name, total))
        offset = 0
        if self.progress:
            self.progress(0, total)
        while offset < total:
            block = payload[offset:offset + BLOCK]
            self.send(block, "data")
            offset += len(block)
            if version == 2:
                self.expect(0x47, "chunk")
                res["chunk_acks"] += 1
            if self.progress:
                self.progress(offset, total)
        self.log("Waiting for result...")

        # 15-17: result and final acknowledgement.
        self.expect(0x44, "receive")
        self.expect(0x45, "end")
        if not self.no_final_ack:
            self.send(b"\x00", "final", final=True)
            res["final_ack_sent"] = True


def upload(host, port, data, password=None, *, features=DEFAULT_FEATURES, ota_type=0,
           compress=True, handshake_timeout=HANDSHAKE_TIMEOUT, data_timeout=DATA_TIMEOUT,
           cut_after=None, cut_rst=False, corrupt_md5=False, stall_after=None,
           stall_max=None, size_override=None, no_final_ack=False,
           password_wrong=False, retries=0, retry_delay=5.0, log=None, progress=None,
           filename=None):
    """Upload `data` (bytes) to host:port. Returns a dict (see the module
    docstring and print_json); never raises for protocol or network errors.

    retries: extra attempts after a network error (stock uses 2, 5 s apart);
    never after the whole image reached the device, never for device error
    codes and never for the test misbehaviours."""
    attempt = 0
    while True:
        up = _Uploader(host, port, data, password=password, features=features,
                       ota_type=ota_type, compress=compress,
                       handshake_timeout=handshake_timeout, data_timeout=data_timeout,
                       cut_after=cut_after, cut_rst=cut_rst, corrupt_md5=corrupt_md5,
                       stall_after=stall_after, stall_max=stall_max,
                       size_override=size_override, no_final_ack=no_final_ack,
                       password_wrong=password_wrong, log=log, progress=progress,
                       filename=filename)
        res = up.run()
        network = res.pop("_network", False)
        res["attempts"] = attempt + 1
        if (res["result"] == "error" and network and attempt < retries
                and res["step"] not in ("receive", "end", "final")):
            attempt += 1
            if log:
                log("Retrying in %.0f s (attempt %d of %d)" % (retry_delay, attempt + 1,
                                                              retries + 1))
            time.sleep(retry_delay)
            continue
        return res


class _ProgressBar:
    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = -1

    def __call__(self, done, total):
        pct = 100 if total == 0 else done * 100 // total
        if pct == self.last:
            return
        self.last = pct
        width = 60
        filled = width * pct // 100
        line = "Uploading: [%s%s] %d%%" % ("=" * filled, " " * (width - filled), pct)
        if self.tty:
            self.stream.write("\r" + line + ("\n" if pct == 100 else ""))
            self.stream.flush()
        elif pct == 100:
            self.stream.write(line + "\n")
            self.stream.flush()


def _int(s):
    return int(s, 0)


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Stock-like ESPHome native OTA uploader (test peer).")
    p.add_argument("file", help="firmware image to upload")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--password", default=None)
    p.add_argument("--features", type=_int, default=DEFAULT_FEATURES,
                   help="client feature byte (default 0x07; 0x03: no extended "
                        "protocol; 0x01: no SHA-256)")
    p.add_argument("--ota-type", type=_int, default=0,
                   help="OTA type byte for the extended protocol (0 app, 1 partition "
                        "table, 2 bootloader)")
    p.add_argument("--no-compress", action="store_true",
                   help="never gzip, even when the device accepts it")
    p.add_argument("--handshake-timeout", type=float, default=HANDSHAKE_TIMEOUT)
    p.add_argument("--data-timeout", "--timeout", type=float, default=DATA_TIMEOUT)
    p.add_argument("--retries", type=int, default=0,
                   help="extra attempts after network errors (stock: 2)")
    p.add_argument("--retry-delay", type=float, default=5.0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no human lines on stderr")
    t = p.add_argument_group("test-only misbehaviours")
    t.add_argument("--cut-after", type=int, metavar="N",
                   help="close after sending exactly N bytes in total")
    t.add_argument("--cut-rst", action="store_true",
                   help="with --cut-after: close with a TCP reset instead of a FIN")
    t.add_argument("--corrupt-md5", action="store_true", help="send a wrong MD5")
    t.add_argument("--stall-after", type=int, metavar="N",
                   help="stop sending after N bytes and wait for the device")
    t.add_argument("--stall-max", type=float, metavar="S",
                   help="with --stall-after: give up waiting after S seconds "
                        "(default: the timeout of the current phase)")
    t.add_argument("--size-override", type=int, metavar="N",
                   help="announce size N instead of the real one")
    t.add_argument("--no-final-ack", action="store_true",
                   help="do not send the final 00")
    t.add_argument("--password-wrong", action="store_true",
                   help="answer the challenge with a wrong password")
    a = p.parse_args(argv)

    try:
        with open(a.file, "rb") as f:
            data = f.read()
    except OSError as e:
        print("ERROR cannot read %s: %s" % (a.file, e.strerror), file=sys.stderr)
        return 2
    if not data:
        print("ERROR %s is empty" % a.file, file=sys.stderr)
        return 2

    def log(msg):
        if not a.quiet:
            print(msg, file=sys.stderr, flush=True)

    res = upload(a.host, a.port, data, password=a.password, features=a.features,
                 ota_type=a.ota_type, compress=not a.no_compress,
                 handshake_timeout=a.handshake_timeout, data_timeout=a.data_timeout,
                 cut_after=a.cut_after, cut_rst=a.cut_rst, corrupt_md5=a.corrupt_md5,
                 stall_after=a.stall_after, stall_max=a.stall_max,
                 size_override=a.size_override, no_final_ack=a.no_final_ack,
                 password_wrong=a.password_wrong, retries=a.retries,
                 retry_delay=a.retry_delay, log=log,
                 progress=None if a.quiet else _ProgressBar(sys.stderr),
                 filename=os.path.basename(a.file))
    if a.json:
        print(json.dumps(res, sort_keys=True), flush=True)
    return 1 if res["result"] == "error" else 0


if __name__ == "__main__":
    sys.exit(main())
