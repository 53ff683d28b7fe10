#!/usr/bin/env python3
"""Golden transcripts of the uploader engine (src/core/client.c) as Noise
initiator, computed by an independent implementation: the Noise code of
tests/integration/noise_peer.py (Python, python3-cryptography), playing
both sides of PROTOCOL.md section 10 with fixed ephemeral keys:

- the uploader's: the 32 bytes its random seam gives first, which the
  unit test's counting fake random makes 00 01 .. 1f;
- the device's: 80 81 .. 9f.

tests/unit/test_client_noise.c replays the D: lines against the engine and
checks that it writes exactly the C: lines. Regenerate (then review):

    python3 tests/golden/client/gen_noise.py tests/golden/client

Format: `config:` (key, device key, image size, server flags, window),
`C:`/`D:` a frame or field in hex (text after ';' is a comment), `end:` the
outcome. The image is byte[i] = i*7 mod 256.
"""

import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from noise_peer import (MAC_FAILURE, MAGIC, Handshake, initiator_message1, prologue,  # noqa: E402
                        responder_read1, responder_write2)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey  # noqa: E402
from cryptography.exceptions import InvalidTag  # noqa: E402

KEY = bytes(range(1, 33))
WRONG = bytes(range(33, 65))
E_CLIENT = bytes(range(32))
E_DEVICE = bytes(range(0x80, 0xA0))


def frame(payload):
    return b"\x01" + struct.pack(">H", len(payload)) + payload


class Transcript:
    def __init__(self, name, what):
        self.name, self.lines = name, ["# " + w for w in what]

    def c(self, b, note=""):
        self.lines.append("C: %s%s" % (b.hex(" ").upper(), "  ; " + note if note else ""))

    def d(self, b, note=""):
        self.lines.append("D: %s%s" % (b.hex(" ").upper(), "  ; " + note if note else ""))

    def write(self, where):
        with open(os.path.join(where, self.name), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def preamble(t, features, flags):
    t.c(MAGIC, "magic")
    t.d(b"\x00\x02", "version 2")
    t.c(bytes([features]), "features")
    t.d(bytes([0x48, flags]), "feature flags")


def handshake(t, key, dev_key, features, flags):
    """Both sides; returns the uploader's (tx, rx) cipher states, or None."""
    pro = prologue(2, features, flags)
    ini, res = Handshake(key, pro), Handshake(dev_key, pro)
    ce = X25519PrivateKey.from_private_bytes(E_CLIENT)
    m1 = b"\x00" + initiator_message1(ini, ce)
    t.c(frame(m1), "handshake: 00 + e + tag")
    try:
        re = responder_read1(res, m1[1:])
    except InvalidTag:
        t.d(frame(b"\x01" + MAC_FAILURE), "reject: Handshake MAC failure")
        return None
    m2 = responder_write2(res, X25519PrivateKey.from_private_bytes(E_DEVICE), re)
    t.d(frame(b"\x00" + m2), "handshake: 00 + e + tag")
    e = m2[:32]  # the initiator reads message 2 with its own code path
    ini.mix_hash(e)
    ini.mix_key(e)
    ini.mix_key(ce.exchange(X25519PublicKey.from_public_bytes(e)))
    ini.decrypt_and_hash(m2[32:])
    return ini.split()


def image(n):
    return bytes((i * 7) & 0xFF for i in range(n))


def upload(where, size=9000):
    t = Transcript("noise_upload.txt", ["A whole encrypted upload: Noise offered, the uploader holds the key;",
                                        "control fields one frame each, the image in 1024-byte frames."])
    t.lines.append("config: key=%s device_key=%s size=%d flags=04 window=1" % (KEY.hex(), KEY.hex(), size))
    preamble(t, 0x0E, 0x04)
    tx, rx = handshake(t, KEY, KEY, 0x0E, 0x04)
    dtx, drx = tx.__class__(tx.k), tx.__class__(rx.k)  # the device's view: receives with c1, sends with c2

    def dev(code, note):
        t.d(frame(drx.encrypt(b"", bytes([code]))), note)

    def cli(p, note):
        t.c(frame(tx.encrypt(b"", p)), note)
    dev(0x41, "41 auth ok")
    cli(b"\x00", "type 00")
    cli(struct.pack(">I", size), "size")
    dev(0x42, "42 prepare ok")
    img = image(size)
    cli(hashlib.md5(img).hexdigest().encode(), "md5")
    dev(0x43, "43 md5 ok")
    for off in range(0, size, 8192):
        block = img[off:off + 8192]
        for k in range(0, len(block), 1024):
            cli(block[k:k + 1024], "data %d" % (off + k))
        dev(0x47, "47")
    dev(0x44, "44 received")
    dev(0x45, "45 installed")
    cli(b"\x00", "final 00")
    t.lines.append("end: done encrypted=1")
    t.write(where)


def wrong_key(where):
    t = Transcript("noise_wrong_key.txt", ["The device holds another key: its reject frame, exactly",
                                           "`Handshake MAC failure`; the uploader sends nothing more."])
    t.lines.append("config: key=%s device_key=%s size=1000 flags=04 window=1" % (KEY.hex(), WRONG.hex()))
    preamble(t, 0x0E, 0x04)
    assert handshake(t, KEY, WRONG, 0x0E, 0x04) is None
    t.lines.append("end: failed wrong_key noise")
    t.write(where)


def unoffered(where):
    t = Transcript("noise_unoffered.txt", ["A key, and a device that does not offer Noise (flags 00): the",
                                           "uploader closes after the feature reply; nothing in plaintext."])
    t.lines.append("config: key=%s device_key=- size=1000 flags=00 window=1" % KEY.hex())
    preamble(t, 0x0E, 0x00)
    t.lines.append("end: failed encryption_unavailable features")
    t.write(where)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    upload(out)
    wrong_key(out)
    unoffered(out)
