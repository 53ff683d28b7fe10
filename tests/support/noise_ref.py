#!/usr/bin/env python3
"""noise_ref.py: an independent reference of the Noise layer of PROTOCOL.md
section 10, written from the Noise spec (revision 34) over Python's
`cryptography` primitives (not over eota's C code):
Noise_NNpsk0_25519_ChaChaPoly_SHA256, the 22-byte prologue, the frames.

Used by the tests: `python3 noise_ref.py vectors` prints the fixed-ephemeral
handshake vectors that tests/unit/test_noise.c compares the C layer with;
tests/integration/noise_uploader.py speaks to `eota device` with it.
"""
import hashlib
import hmac
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.exceptions import InvalidTag

PROTOCOL_NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
MAGIC = bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45])
MAX_PLAINTEXT = 1024


class NoiseMacError(Exception):
    """A tag did not verify."""


def prologue(version, client_features, server_flags):
    return b"NoiseOTAInit" + MAGIC + bytes([0x00, version, client_features, 0x48, server_flags])


def frame(payload):
    return bytes([0x01]) + struct.pack(">H", len(payload)) + payload


def _hkdf(ck, ikm, n):
    temp = hmac.new(ck, ikm, hashlib.sha256).digest()
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(temp, prev + bytes([i]), hashlib.sha256).digest()
        out.append(prev)
    return out


def _nonce(n):
    return b"\x00" * 4 + struct.pack("<Q", n)


def _pub(priv):
    return priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class CipherState:
    def __init__(self, key):
        self.aead = ChaCha20Poly1305(key)
        self.n = 0

    def encrypt(self, pt, ad=b""):
        ct = self.aead.encrypt(_nonce(self.n), pt, ad)
        self.n += 1
        return ct

    def decrypt(self, ct, ad=b""):
        try:
            pt = self.aead.decrypt(_nonce(self.n), ct, ad)
        except InvalidTag as e:
            raise NoiseMacError("tag") from e
        self.n += 1
        return pt


class Handshake:
    """NNpsk0: -> psk, e   <- e, ee. initiator=True for the uploader."""

    def __init__(self, initiator, psk, prologue_bytes, ephemeral=None):
        self.initiator = initiator
        self.h = hashlib.sha256(PROTOCOL_NAME).digest()
        self.ck = self.h
        self.k = None
        self.e = X25519PrivateKey.from_private_bytes(ephemeral) if ephemeral else X25519PrivateKey.generate()
        self.re = None
        self._mix_hash(prologue_bytes)
        self.ck, temp_h, k = _hkdf(self.ck, psk, 3)
        self._mix_hash(temp_h)
        self.k, self.n = k, 0

    def _mix_hash(self, data):
        self.h = hashlib.sha256(self.h + data).digest()

    def _mix_key(self, ikm):
        self.ck, self.k = _hkdf(self.ck, ikm, 2)
        self.n = 0

    def _encrypt_and_hash(self, pt):
        ct = ChaCha20Poly1305(self.k).encrypt(_nonce(self.n), pt, self.h)
        self.n += 1
        self._mix_hash(ct)
        return ct

    def _decrypt_and_hash(self, ct):
        try:
            pt = ChaCha20Poly1305(self.k).decrypt(_nonce(self.n), ct, self.h)
        except InvalidTag as e:
            raise NoiseMacError("Handshake MAC failure") from e
        self.n += 1
        self._mix_hash(ct)
        return pt

    def write_message(self, payload=b""):
        epub = _pub(self.e)
        self._mix_hash(epub)
        self._mix_key(epub)
        if not self.initiator:
            self._mix_key(self.e.exchange(X25519PublicKey.from_public_bytes(self.re)))
        return epub + self._encrypt_and_hash(payload)

    def read_message(self, msg):
        if len(msg) < 48:
            raise ValueError("short handshake message")
        self.re = msg[:32]
        self._mix_hash(self.re)
        self._mix_key(self.re)
        if self.initiator:
            self._mix_key(self.e.exchange(X25519PublicKey.from_public_bytes(self.re)))
        return self._decrypt_and_hash(msg[32:])

    def split(self):
        """(send, receive) cipher states for this side."""
        k1, k2 = _hkdf(self.ck, b"", 2)
        c1, c2 = CipherState(k1), CipherState(k2)
        return (c1, c2) if self.initiator else (c2, c1)


def _c_bytes(name, data):
    hexes = ", ".join("0x%02x" % b for b in data)
    return "static const uint8_t %s[%d] = {%s};" % (name, len(data), hexes)


def vectors():
    """The fixed-ephemeral handshake test_noise.c checks: key 0x01..0x20,
    initiator ephemeral 0x11 x 32, responder 0x22 x 32, prologue of
    version 2, client 0F, server flags 04; then the first frame each way."""
    psk = bytes(range(1, 33))
    pro = prologue(2, 0x0F, 0x04)
    ini = Handshake(True, psk, pro, bytes([0x11]) * 32)
    res = Handshake(False, psk, pro, bytes([0x22]) * 32)
    m1 = ini.write_message()
    res.read_message(m1)
    m2 = res.write_message()
    ini.read_message(m2)
    i_send, _ = ini.split()
    r_send, _ = res.split()
    out = [_c_bytes("vec_prologue", pro), _c_bytes("vec_frame1", frame(b"\x00" + m1)),
           _c_bytes("vec_frame2", frame(b"\x00" + m2)),
           _c_bytes("vec_dev_41", frame(r_send.encrypt(b"\x41"))),
           _c_bytes("vec_up_type", frame(i_send.encrypt(b"\x00"))),
           _c_bytes("vec_up_size", frame(i_send.encrypt(b"\x00\x00\x03\xe8")))]
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1:] == ["vectors"]:
        print(vectors())
    else:
        sys.exit("usage: noise_ref.py vectors")
