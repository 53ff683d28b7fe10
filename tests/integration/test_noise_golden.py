"""The encrypted golden transcripts (tests/golden/noise/*.txt, made and
replayed by tests/unit/test_server_noise.c) decrypted by the independent
Python reference (tests/support/noise_ref.py): the handshake frames are
the reference's for the same keys (device key from the file's config,
uploader ephemeral 11 x 32, device ephemeral 00 01 .. 1F), and every
transport frame opens and holds exactly what PROTOCOL.md section 10 says:
one control field or up to 1024 image bytes a frame from the uploader,
one reply byte a frame from the device."""
import glob
import hashlib
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

import noise_ref  # noqa: E402

FILES = sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "noise", "*.txt")))

# What the device says inside Noise, in each file, one byte a frame.
DEVICE_REPLIES = {
    "offered_upload.txt": "41 42 43 47 47 47 44 45",
    "required_upload.txt": "41 42 43 47 47 44 45",
    "required_md5_mismatch.txt": "41 42 43 47 44 8B",
}


def pattern(n):
    return bytes((i * 7) & 0xFF for i in range(n))


def parse(path):
    lines, cfg = [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("config:"):
                cfg = dict(kv.split("=") for kv in line.split()[1:])
            elif line[:3] in ("C: ", "D: ") and line[3:] != "<close>":
                lines.append((line[0], bytes.fromhex(line[3:].replace(" ", ""))))
    return cfg, lines


def test_files_exist():
    assert len(FILES) >= 6, FILES


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_golden_frames_decrypt(path):
    name = os.path.basename(path)
    cfg, lines = parse(path)
    first = int(cfg["key"], 16)
    psk = bytes((first + i) & 0xFF for i in range(32))
    assert lines[0] == ("C", bytes.fromhex("6C26F75C45")) and lines[1] == ("D", b"\x00\x02")
    feats, reply = lines[2][1][0], lines[3][1]
    if feats != 0x0F or reply[0] != 0x48:
        assert name in ("required_plain.txt", "offered_plain.txt"), name
        assert reply == (b"\x94" if cfg["noise"] == "required" else b"\x48\x04")
        return
    pro = noise_ref.prologue(2, feats, reply[1])
    ini = noise_ref.Handshake(True, bytes(range(1, 33)), pro, b"\x11" * 32)
    assert lines[4] == ("C", noise_ref.frame(b"\x00" + ini.write_message()))
    if name == "wrong_key.txt":
        assert lines[5] == ("D", noise_ref.frame(b"\x01Handshake MAC failure"))
        return
    res = noise_ref.Handshake(False, psk, pro, bytes(range(32)))
    res.read_message(lines[4][1][4:])
    assert lines[5] == ("D", noise_ref.frame(b"\x00" + res.write_message()))
    ini.read_message(lines[5][1][4:])
    up_send, up_recv = ini.split()
    up, dev = [], []
    for who, frame in lines[6:]:
        assert frame[0] == 1 and int.from_bytes(frame[1:3], "big") == len(frame) - 3, frame[:3]
        if who == "C":
            up.append(up_send.decrypt(frame[3:]))  # the reference's send state as the device's receive
        else:
            plain = up_recv.decrypt(frame[3:])
            assert len(plain) == 1
            dev.append(plain[0])
    assert " ".join("%02X" % b for b in dev) == DEVICE_REPLIES[name]
    size = int.from_bytes(up[1], "big")
    assert up[0] == b"\x00" and len(up[1]) == 4
    image = b"".join(up[3:3 + (size + 1023) // 1024])
    assert all(1 <= len(p) <= 1024 for p in up[3:3 + (size + 1023) // 1024])
    assert image == pattern(size)
    md5 = hashlib.md5(image).hexdigest().encode()
    assert (up[2] == md5) == (name != "required_md5_mismatch.txt")
    assert re.fullmatch(rb"[0-9a-f]{32}", up[2])
