#!/usr/bin/env python3
"""noise_uploader.py: a stock-like uploader for the Noise-encrypted native
OTA exchange (PROTOCOL.md section 10), written from the protocol text over
tests/support/noise_ref.py (Python's cryptography primitives), as the peer
of `eota device` in tests/integration/test_device_noise.py.

Like the stock uploader it sends features 0F, expects `48 SS` with 0x04,
runs Noise_NNpsk0 as initiator, sends each control field as one frame,
cuts each 8192-byte block into eight frames of 1024 bytes and waits for
one `47` per block (stop-and-wait). No gzip. upload() returns a dict:
result "ok", "error" (with "code", the device's byte), "rejected" (with
"reason", the reject frame's text), "not_offered", "closed" or "cut".
"""
import hashlib
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))

import noise_ref  # noqa: E402

MAGIC = bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45])
FEATURES = 0x0F
BLOCK = 8192


class _Closed(Exception):
    pass


class _Cut(Exception):
    pass


class _Conn:
    """A socket that counts the bytes written and can be cut after n."""

    def __init__(self, sock, cut_after):
        self.sock = sock
        self.sent = 0
        self.cut_after = cut_after

    def send(self, data):
        if self.cut_after is not None and self.sent + len(data) >= self.cut_after:
            self.sock.sendall(data[: self.cut_after - self.sent])
            raise _Cut()
        self.sock.sendall(data)
        self.sent += len(data)

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise _Closed()
            out += chunk
        return out

    def recv_frame(self):
        head = self.recv_exact(3)
        if head[0] != 0x01:
            raise ValueError("not a frame: %r" % head)
        return self.recv_exact(struct.unpack(">H", head[1:])[0])


class _Session:
    def __init__(self, conn, send_cs, recv_cs):
        self.conn, self.send_cs, self.recv_cs = conn, send_cs, recv_cs

    def send(self, plain):
        self.conn.send(noise_ref.frame(self.send_cs.encrypt(plain)))

    def reply(self):
        plain = self.recv_cs.decrypt(self.conn.recv_frame())
        if len(plain) != 1:
            raise ValueError("a reply of %d bytes" % len(plain))
        return plain[0]


def _handshake(conn, key, ephemeral):
    conn.send(MAGIC)
    ver = conn.recv_exact(2)
    conn.send(bytes([FEATURES]))
    reply = conn.recv_exact(1)[0]
    if reply != 0x48:
        return None, {"result": "error", "code": reply}
    flags = conn.recv_exact(1)[0]
    if not flags & 0x04:
        return None, {"result": "not_offered", "server_flags": flags}
    hs = noise_ref.Handshake(True, key, noise_ref.prologue(ver[1], FEATURES, flags), ephemeral)
    conn.send(noise_ref.frame(b"\x00" + hs.write_message()))
    payload = conn.recv_frame()
    if payload[:1] == b"\x01":
        return None, {"result": "rejected", "reason": payload[1:].decode("ascii", "replace")}
    hs.read_message(payload[1:])
    return _Session(conn, *hs.split()), None


def _expect(sess, want, step):
    got = sess.reply()
    if got != want:
        return {"result": "error", "code": got, "step": step}
    return None


def _exchange(sess, data, frame_size):
    for want, field, step in ((0x41, None, "auth"), (0x42, struct.pack(">I", len(data)), "size"),
                              (0x43, hashlib.md5(data).hexdigest().encode(), "md5")):
        if step == "size":
            sess.send(b"\x00")  # OTA type: app
        if field is not None:
            sess.send(field)
        err = _expect(sess, want, step)
        if err:
            return err
    for off in range(0, len(data), BLOCK):
        block = data[off:off + BLOCK]
        for i in range(0, len(block), frame_size):
            sess.send(block[i:i + frame_size])
        err = _expect(sess, 0x47, "data")
        if err:
            return err
    for want, step in ((0x44, "receive"), (0x45, "end")):
        err = _expect(sess, want, step)
        if err:
            return err
    sess.send(b"\x00")
    return {"result": "ok"}


def upload(host, port, data, key, *, timeout=20.0, cut_after=None, ephemeral=None, frame_size=1024, source=None):
    """Upload data (bytes) with the 32-byte key; see the module text."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if source:  # the address to come from (tests of per-address backoff)
            sock.bind((source, 0))
        sock.connect((host, port))
        conn = _Conn(sock, cut_after)
        sess, res = _handshake(conn, key, ephemeral)
        return res if res else _exchange(sess, bytes(data), frame_size)
    except _Cut:
        return {"result": "cut"}
    except (_Closed, ConnectionError):
        return {"result": "closed"}
    finally:
        sock.close()


if __name__ == "__main__":
    import base64
    if len(sys.argv) != 5:
        sys.exit("usage: noise_uploader.py HOST PORT FILE BASE64KEY")
    with open(sys.argv[3], "rb") as f:
        print(upload(sys.argv[1], int(sys.argv[2]), f.read(), base64.b64decode(sys.argv[4])))
