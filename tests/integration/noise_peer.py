#!/usr/bin/env python3
"""A stock-like ESPHome device with Noise-encrypted OTA (PROTOCOL.md section
10), written independently of eota's C code from the Noise specification
(revision 34) and python3-cryptography's primitives (X25519,
ChaCha20-Poly1305, HMAC-SHA256): the peer eota's uploader is checked
against.

    with NoisePeer(key=KEY, mode="offer") as peer:   # or "require", "plain"
        ... eota upload ... --device peer.spec()
        peer.sessions[0]   # what happened: features, encrypted, image, result

Modes: "plain" has no key (server flags without 0x04); "offer" offers Noise
and still serves plaintext clients; "require" answers 94 to a client that
did not set 0x08 and 0x04, right after the feature byte. A wrong key gets the
reject frame `01 00 16 01` "Handshake MAC failure" and the connection
closes. Version 2 only, no password, no gzip (the uploader is told so).

Noise_NNpsk0_25519_ChaChaPoly_SHA256, initiator = uploader:
  -> psk, e      (48 bytes: e.pub, tag of the empty payload)
  <- e, ee       (48 bytes)
`fixed_ephemeral` (32 bytes) makes the responder's ephemeral key fixed, for
transcripts that repeat. With hold=True a connection waits (the uploader
with it) until peer.go is set; peer.accepted says one came. close_after=N
ends a session once N image bytes came, after sending code_after if given
(an error byte, as a device that gives up does).
"""

import hashlib
import hmac
import socket
import struct
import threading

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization
from cryptography.exceptions import InvalidTag

MAGIC = bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45])
PROTOCOL_NAME = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
BLOCK = 8192
MAC_FAILURE = b"Handshake MAC failure"


def _hmac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def hkdf(ck, ikm, n):
    """Noise's HKDF: n outputs of 32 bytes."""
    temp = _hmac(ck, ikm)
    outs, prev = [], b""
    for i in range(1, n + 1):
        prev = _hmac(temp, prev + bytes([i]))
        outs.append(prev)
    return outs


def nonce(n):
    return b"\x00" * 4 + struct.pack("<Q", n)


class CipherState:
    def __init__(self, k=None):
        self.k, self.n = k, 0

    def encrypt(self, ad, p):
        if self.k is None:
            return p
        c = ChaCha20Poly1305(self.k).encrypt(nonce(self.n), p, ad)
        self.n += 1
        return c

    def decrypt(self, ad, c):
        if self.k is None:
            return c
        p = ChaCha20Poly1305(self.k).decrypt(nonce(self.n), c, ad)  # InvalidTag on failure
        self.n += 1
        return p


class Handshake:
    """The symmetric state of NNpsk0, for either role."""

    def __init__(self, psk, prologue):
        self.h = hashlib.sha256(PROTOCOL_NAME).digest() if len(PROTOCOL_NAME) > 32 else \
            PROTOCOL_NAME.ljust(32, b"\x00")
        self.ck = self.h
        self.cs = CipherState()
        self.psk = psk
        self.mix_hash(prologue)

    def mix_hash(self, data):
        self.h = hashlib.sha256(self.h + data).digest()

    def mix_key(self, ikm):
        self.ck, k = hkdf(self.ck, ikm, 2)
        self.cs = CipherState(k)

    def mix_key_and_hash(self, ikm):
        self.ck, th, k = hkdf(self.ck, ikm, 3)
        self.mix_hash(th)
        self.cs = CipherState(k)

    def encrypt_and_hash(self, p):
        c = self.cs.encrypt(self.h, p)
        self.mix_hash(c)
        return c

    def decrypt_and_hash(self, c):
        p = self.cs.decrypt(self.h, c)
        self.mix_hash(c)
        return p

    def split(self):
        k1, k2 = hkdf(self.ck, b"", 2)
        return CipherState(k1), CipherState(k2)


def pub_bytes(priv):
    return priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def initiator_message1(hs, e_priv):
    """-> psk, e (for tests of the responder side)."""
    hs.mix_key_and_hash(hs.psk)
    e = pub_bytes(e_priv)
    hs.mix_hash(e)
    hs.mix_key(e)
    return e + hs.encrypt_and_hash(b"")


def responder_read1(hs, msg):
    """<- psk, e: the initiator's ephemeral public key; InvalidTag on a wrong key."""
    hs.mix_key_and_hash(hs.psk)
    re = msg[:32]
    hs.mix_hash(re)
    hs.mix_key(re)
    hs.decrypt_and_hash(msg[32:])
    return re


def responder_write2(hs, e_priv, re):
    """-> e, ee."""
    e = pub_bytes(e_priv)
    hs.mix_hash(e)
    hs.mix_key(e)
    hs.mix_key(e_priv.exchange(X25519PublicKey.from_public_bytes(re)))
    return e + hs.encrypt_and_hash(b"")


def prologue(version, client_features, server_flags):
    return b"NoiseOTAInit" + MAGIC + bytes([0, version, client_features, 0x48, server_flags])


class _Closed(Exception):
    pass


class Session:
    """One connection, run to its end; what happened goes to self.info."""

    def __init__(self, sock, peer):
        self.s, self.peer = sock, peer
        self.info = {"features": None, "encrypted": False, "result": None, "image": None,
                     "frames": [], "reply": None}
        self.tx = self.rx = None  # transport cipher states

    def exact(self, n):
        b = b""
        while len(b) < n:
            got = self.s.recv(n - len(b))
            if not got:
                raise _Closed()
            b += got
        return b

    def drain(self, limit=2.0):
        """Read until the uploader closes (at most limit seconds), so that
        closing does not reset the connection under the byte just sent."""
        self.s.settimeout(limit)
        try:
            while self.s.recv(65536):
                pass
        except OSError:
            pass

    def read_frame(self):
        hdr = self.exact(3)
        if hdr[0] != 1:
            raise ValueError("frame type 0x%02x" % hdr[0])
        n = struct.unpack(">H", hdr[1:])[0]
        return self.exact(n)

    def send_frame(self, payload):
        self.s.sendall(b"\x01" + struct.pack(">H", len(payload)) + payload)

    def reply(self, code):
        if self.rx is None:
            self.s.sendall(bytes([code]))
        else:
            self.send_frame(self.tx.encrypt(b"", bytes([code])))

    def field(self, n):
        """A control field of exactly n plaintext bytes (its own frame)."""
        if self.rx is None:
            return self.exact(n)
        p = self.rx.decrypt(b"", self.read_frame())
        self.info["frames"].append(len(p))
        if len(p) != n:
            raise ValueError("field of %d bytes, expected %d" % (len(p), n))
        return p

    def data(self, want):
        if self.rx is None:
            return self.s.recv(min(want, 65536)) or b""
        p = self.rx.decrypt(b"", self.read_frame())
        self.info["frames"].append(len(p))
        if not 1 <= len(p) <= 1024:
            raise ValueError("data frame of %d plaintext bytes" % len(p))
        return p

    def handshake(self, features, flags):
        hs = Handshake(self.peer.key, prologue(2, features, flags))
        msg = self.read_frame()
        if not msg or msg[0] != 0:
            raise ValueError("handshake payload does not start with 00")
        try:
            re = responder_read1(hs, msg[1:])
        except InvalidTag:
            self.send_frame(b"\x01" + MAC_FAILURE)
            self.info["result"] = "reject"
            return False
        e = self.peer.ephemeral()
        self.send_frame(b"\x00" + responder_write2(hs, e, re))
        self.rx, self.tx = hs.split()  # c1 initiator -> responder, c2 back
        self.info["encrypted"] = True
        return True

    def preamble(self):
        if self.exact(5) != MAGIC:
            self.s.sendall(b"\x80")
            return None
        self.s.sendall(b"\x00\x02")
        features = self.exact(1)[0]
        self.info["features"] = features
        noise_client = features & 0x0C == 0x0C
        if self.peer.mode == "require" and not noise_client:
            self.s.sendall(b"\x94")
            self.info["result"] = "required"
            return None
        flags = 0x04 if self.peer.key else 0x00
        if not features & 0x04:
            self.s.sendall(b"\x40")
            return False
        self.s.sendall(bytes([0x48, flags]))
        if noise_client and flags & 0x04:
            return self.handshake(features, flags) or None
        return False

    def run(self):
        try:
            if self.preamble() is None:
                return
            self.exchange()
        except (_Closed, ConnectionError):
            self.info["result"] = self.info["result"] or "closed"
        except (ValueError, InvalidTag) as e:
            self.info["result"] = "protocol: %s" % e
        finally:
            self.s.close()

    def exchange(self):
        self.reply(0x41)
        self.info["type"] = self.field(1)[0]
        size = struct.unpack(">I", self.field(4))[0]
        self.reply(0x42)
        md5 = self.field(32).decode()
        self.reply(0x43)
        img = bytearray()
        acked = 0
        while len(img) < size:
            chunk = self.data(size - len(img))
            if not chunk:
                raise _Closed()
            img += chunk
            if self.peer.close_after is not None and len(img) >= self.peer.close_after:
                if self.peer.code_after is not None:
                    self.reply(self.peer.code_after)
                    self.drain()
                self.info["result"] = "cut"
                return
            while acked + BLOCK <= len(img) or (len(img) == size and acked < size):
                acked += BLOCK
                self.reply(0x47)
        if len(img) != size:
            raise ValueError("%d bytes for a size of %d" % (len(img), size))
        self.reply(0x44)
        if hashlib.md5(img).hexdigest() != md5:
            self.reply(0x8B)
            self.info["result"] = "md5"
            return
        self.info["image"] = bytes(img)
        self.reply(0x45)
        self.info["result"] = "ok"
        try:
            self.info["final"] = self.field(1)
        except (_Closed, ConnectionError, ValueError, InvalidTag):
            self.info["final"] = None


class NoisePeer:
    """A listening device in a thread; serves connections one at a time."""

    def __init__(self, key=None, mode="offer", host="127.0.0.1", fixed_ephemeral=None, hold=False,
                 close_after=None, code_after=None):
        assert mode in ("plain", "offer", "require")
        self.key = None if mode == "plain" else key
        self.mode, self.fixed = mode, fixed_ephemeral
        self.close_after, self.code_after = close_after, code_after
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.srv = socket.socket(fam, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((host, 0))
        self.srv.listen(1)
        self.host, self.port = host, self.srv.getsockname()[1]
        self.sessions = []
        self.closing = False
        self.accepted = threading.Event()  # a connection came
        self.go = threading.Event()        # hold: the first session waits for this
        if not hold:
            self.go.set()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def spec(self):
        return "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (self.host, self.port)

    def ephemeral(self):
        if self.fixed:
            return X25519PrivateKey.from_private_bytes(self.fixed)
        return X25519PrivateKey.generate()

    def _serve(self):
        while not self.closing:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            c.settimeout(20)
            self.accepted.set()
            self.go.wait(20)
            s = Session(c, self)
            s.run()
            self.sessions.append(s.info)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.closing = True
        try:
            self.srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.srv.close()
        self.thread.join(5)
