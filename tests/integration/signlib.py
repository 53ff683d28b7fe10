"""Signed images for the integration tests, written a second time, from
docs/signed-images.md alone, in Python (an independent writer and reader of
the trailer), with OpenSSL's command line for the Ed25519 part, and the
`eota keygen`/`eota sign` wrappers. Standard library only.
"""

import base64
import hashlib
import os
import struct
import subprocess
import tempfile

from devicelib import eota_bin

PROT_MAGIC, INFO_MAGIC = 0x6908, 0x6907
T_KEYHASH, T_SHA256, T_ED25519, T_SEC_CNT = 0x01, 0x10, 0x24, 0x50
T_VERSION, T_CHIP, T_PAYLOAD_LEN = 0xA0, 0xA1, 0xA2
MAGIC = b"EOTASIG1"
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def run(*args, **kw):
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


class Key:
    """An Ed25519 key made by `eota keygen` (or by openssl, openssl=True)."""

    def __init__(self, dirpath, name, openssl=False):
        self.keyfile = os.path.join(dirpath, name + ".key")
        if openssl:
            r = run("openssl", "genpkey", "-algorithm", "ed25519", "-out", self.keyfile)
            assert r.returncode == 0, r.stderr
            der = run("openssl", "pkey", "-in", self.keyfile, "-pubout", "-outform", "DER").stdout
            self.raw = der[-32:]
            self.pub = base64.b64encode(self.raw).decode()
        else:
            r = run(eota_bin(), "keygen", "--out", os.path.join(dirpath, name))
            assert r.returncode == 0, r.stderr
            with open(os.path.join(dirpath, name + ".pub")) as f:
                self.pub = f.read().strip()
            self.raw = base64.b64decode(self.pub)
        self.pubpem = os.path.join(dirpath, name + ".pub.pem")
        with open(self.pubpem, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n"
                    % base64.b64encode(SPKI_PREFIX + self.raw).decode())
        self.hash = hashlib.sha256(self.raw).digest()


def openssl_sign(key, msg):
    with tempfile.NamedTemporaryFile() as m:
        m.write(msg)
        m.flush()
        r = run("openssl", "pkeyutl", "-sign", "-inkey", key.keyfile, "-rawin", "-in", m.name)
    assert r.returncode == 0 and len(r.stdout) == 64, r.stderr
    return r.stdout


def openssl_verify(key, msg, sig):
    with tempfile.NamedTemporaryFile() as m, tempfile.NamedTemporaryFile() as s:
        m.write(msg)
        m.flush()
        s.write(sig)
        s.flush()
        r = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key.pubpem, "-rawin",
                "-in", m.name, "-sigfile", s.name)
    return r.returncode == 0


def tlv(t, v):
    return struct.pack("<HH", t, len(v)) + v


def area(magic, entries):
    body = b"".join(entries)
    return struct.pack("<HH", magic, 4 + len(body)) + body


def protected(payload_len, version, counter=0, chip=None):
    e = [tlv(T_SEC_CNT, struct.pack("<I", counter)), tlv(T_VERSION, version.encode())]
    if chip is not None:
        e.append(tlv(T_CHIP, chip.encode()))
    e.append(tlv(T_PAYLOAD_LEN, struct.pack("<I", payload_len)))
    return area(PROT_MAGIC, e)


def digest(payload, prot):
    return hashlib.sha256(payload + prot).digest()


def assemble(payload, prot, pairs, sha=None):
    """pairs: [(keyhash, signature)]; sha: the SHA256 entry (default: the digest)."""
    entries = [tlv(T_SHA256, sha if sha is not None else digest(payload, prot))]
    for kh, sig in pairs:
        entries += [tlv(T_KEYHASH, kh), tlv(T_ED25519, sig)]
    unprot = area(INFO_MAGIC, entries)
    footer = struct.pack("<II", len(prot) + len(unprot), len(payload)) + MAGIC
    return payload + prot + unprot + footer


def sign_py(payload, keys, version, counter=0):
    """A signed image made here, with openssl signing the digest."""
    prot = protected(len(payload), version, counter)
    d = digest(payload, prot)
    return assemble(payload, prot, [(k.hash, openssl_sign(k, d)) for k in keys])


def parse(img):
    """(payload, protected area, {type: value} of the unprotected area, pairs)."""
    assert img[-8:] == MAGIC
    areas, plen = struct.unpack("<II", img[-16:-8])
    start = len(img) - 16 - areas
    prot_len = struct.unpack("<H", img[start + 2:start + 4])[0]
    prot = img[start:start + prot_len]
    unprot = img[start + prot_len:len(img) - 16]
    fields, pairs, i, kh = {}, [], 4, None
    while i < len(unprot):
        t, n = struct.unpack("<HH", unprot[i:i + 4])
        v = unprot[i + 4:i + 4 + n]
        if t == T_KEYHASH:
            kh = v
        elif t == T_ED25519:
            pairs.append((kh, v))
        else:
            fields[t] = v
        i += 4 + n
    return img[:start], prot, fields, pairs


def eota_sign(tmp, data, keys, version=None, counter=None, extra=()):
    """`eota sign` of data with keys; the signed bytes."""
    src, out = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
    with open(src, "wb") as f:
        f.write(data)
    args = [eota_bin(), "sign", src, "-o", out]
    for k in keys:
        args += ["--key", k.keyfile]
    if version is not None:
        args += ["--version", version]
    if counter is not None:
        args += ["--counter", str(counter)]
    r = run(*(args + list(extra)))
    assert r.returncode == 0, r.stderr
    with open(out, "rb") as f:
        return f.read()


def eota_verify(tmp, data, keys):
    path = os.path.join(tmp, "verify.bin")
    with open(path, "wb") as f:
        f.write(data)
    args = [eota_bin(), "verify", path]
    for k in keys:
        args += ["--pubkey", k.pub]
    return run(*args, text=True)
