#!/usr/bin/env python3
"""golden_to_c.py: turn the golden transcripts (tests/golden/*.txt, format in
tests/golden/README.md) into C arrays for the replayer that runs on an
emulated Cortex-M (tests/mcu/golden_play.c), which has no file system and no
libc to parse text with.

Each transcript becomes: its config, its client steps (each with the device
bytes expected right after it and, for a T line, the state of the S line),
the outcome lines as values, and the hash sessions the engine will run. The
device has no MD5 or SHA-256 of its own (the core leaves hashing to the
port), so for each hash session the input bytes are derived here from the
transcript and PROTOCOL.md (the auth response hashes password || nonce ||
cnonce; the image check hashes the `size` bytes that follow the 43 reply),
and the digest is computed with Python's hashlib, which is OpenSSL's. The
MCU side compares the bytes it is fed with these, byte for byte, before it
hands a digest back.

usage: golden_to_c.py OUT.c OUT.h TRANSCRIPT.txt...
Exits 1 with file:line on anything it cannot convert.
"""
import hashlib
import pathlib
import re
import sys

OUTCOME = {
    "end": r"end: (busy|idle), connection closed (\d+) time\(s\), reboot requested (\d+) time\(s\)",
    "result": r"result: begin=(\d+) committed=(\d+) committed_len=(\d+) image=(none|pattern|other) "
              r"aborted=(\d+) begin_size=(\d+) begin_type=([0-9A-F]{2}) begin_gzip=(\d+)",
    "info": r"info: client_features=([0-9A-F]{2}) server_flags=([0-9A-F]{2}) auth=(none|sha256|md5) "
            r"version=(\d+) ota_type=([0-9A-F]{2}) size=(\d+) received=(\d+) error_code=([0-9A-F]{2})",
}
CONFIG = (r'config: version=(\d+) password="([^"]*)" allow_md5=(\d+) caps=([0-9A-F]{2}) '
          r"capacity=(\d+) too_big=([0-9A-F]{2}) xfer=(\d+)")
EVENT = r"(\w+)(?: code=([0-9A-F]{2}))? (\d+)/(\d+)"


class Bad(Exception):
    pass


def pattern(n, start):
    return bytes(((start + i) * 7) & 0xFF for i in range(n))


def tokens(s):
    """Hex bytes and "ascii" strings, as in golden_parse_tokens."""
    out = bytearray()
    for m in re.finditer(r'\s*(?:"([^"]*)"|([0-9A-Fa-f]{2})(?= |$)|(\S+))', s):
        if m.group(3) is not None:
            raise Bad("bad token " + m.group(3))
        out += m.group(1).encode() if m.group(1) is not None else bytes([int(m.group(2), 16)])
    return bytes(out)


def match(regex, line):
    m = re.fullmatch(regex, line)
    if not m:
        raise Bad("cannot convert")
    return m.groups()


class Transcript:
    def __init__(self, name):
        self.name = name
        self.config = None
        self.ops = [{"kind": "ACCEPT", "line": 0, "expect": b""}]
        self.stream = bytearray()      # every byte the client sent
        self.replies = []              # (stream position, device reply)
        self.outcome = {}

    def step(self, line, lineno):
        if line.startswith("#") and self.config is None:
            return
        if line.startswith("config: ") and self.config is None:
            self.config = match(CONFIG, line)
            return
        if self.config is None:
            raise Bad("a config line must come first")
        for key, regex in OUTCOME.items():
            if line.startswith(key + ": "):
                self.outcome[key] = match(regex, line)
                return
        if line.startswith("events:"):
            rest = line[len("events:"):].strip()
            self.outcome["events"] = [] if rest == "none" else [match(EVENT, e.strip()) for e in rest.split(",")]
        elif line.startswith("D: "):
            reply = tokens(line[3:])
            self.ops[-1]["expect"] += reply
            self.replies.append((len(self.stream), reply))
        elif line.startswith("S: "):
            busy, reboots = match(r"S: (busy|idle), reboot requested (\d+) time\(s\)", line)
            if self.ops[-1]["kind"] != "WAIT":
                raise Bad("an S line follows a T line")
            self.ops[-1].update(busy=int(busy == "busy"), reboots=int(reboots))
        else:
            self.ops.append(self.client_op(line, lineno))

    def client_op(self, line, lineno):
        op = {"line": lineno, "expect": b""}
        if line == "C: <close>":
            op["kind"] = "CLOSE"
        elif line.startswith("C: <data "):
            count, start = map(int, match(r"C: <data (\d+) bytes from offset (\d+)>", line))
            op.update(kind="DATA", arg=count, start=start)
            self.stream += pattern(count, start)
        elif line.startswith("C: "):
            op.update(kind="SEND", send=tokens(line[3:]))
            self.stream += op["send"]
        elif line.startswith("T: +"):
            op.update(kind="WAIT", arg=int(match(r"T: \+(\d+) ms", line)[0]))
        else:
            raise Bad("cannot convert")
        return op

    def hash_sessions(self):
        """(alg, input, digest) for every hash the engine finishes."""
        password = self.config[1].encode()
        size = int(self.outcome["info"][5])
        out = []
        for pos, reply in self.replies:
            if reply[:1] in (b"\x01", b"\x02") and len(reply) in (33, 65):
                alg, n = ("md5", 32) if reply[0] == 1 else ("sha256", 64)
                if len(self.stream) >= pos + 2 * n:
                    out.append((alg, password + reply[1:] + bytes(self.stream[pos:pos + n])))
            elif reply == b"\x43" and len(self.stream) >= pos + size:
                out.append(("md5", bytes(self.stream[pos:pos + size])))
        if len(out) > 32:
            raise Bad("more than 32 hash sessions (golden_hash.c keeps a 32-bit mask)")
        return [(alg, data, hashlib.new(alg, data).digest()) for alg, data in out]


def parse(path):
    t = Transcript(re.sub(r"\W", "_", path.stem))
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        try:
            t.step(line, lineno)
        except Bad as e:
            raise SystemExit(f"{path}:{lineno}: {e}: {line}")
    missing = {"end", "result", "info", "events"} - set(t.outcome)
    if t.config is None or missing:
        raise SystemExit(f"{path}: incomplete transcript (missing {sorted(missing) or 'config'})")
    try:
        t.hashes = t.hash_sessions()
    except Bad as e:
        raise SystemExit(f"{path}: {e}")
    return t


class Pool:
    """Byte arrays, each written once however often it is used."""

    def __init__(self):
        self.names, self.lines = {}, []

    def ref(self, data):
        if not data:
            return "{0, 0}"
        if data not in self.names:
            name = f"bytes_{len(self.names)}"
            self.names[data] = name
            body = ",\n".join("    " + ", ".join(f"0x{b:02X}" for b in data[i:i + 16]) for i in range(0, len(data), 16))
            self.lines.append(f"static const uint8_t {name}[{len(data)}] = {{\n{body}\n}};")
        return f"{{{self.names[data]}, {len(data)}}}"


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emit_transcript(t, pool):
    ops = []
    for op in t.ops:
        ops.append(f"    {{GOLDEN_{op['kind']}, {op['line']}, {pool.ref(op.get('send', b''))}, {op.get('arg', 0)}, "
                   f"{op.get('start', 0)}, {pool.ref(op['expect'])}, {op.get('busy', -1)}, {op.get('reboots', -1)}}},")
    hashes = [f"    {{GOLDEN_HASH_{alg.upper()}, {pool.ref(data)}, {{{', '.join(f'0x{b:02X}' for b in digest)}}}}},"
              for alg, data, digest in t.hashes]
    events = [f'    {{"{st}", 0x{code or "00"}, {rx}, {total}}},' for st, code, rx, total in t.outcome["events"]]
    v, pw, md5, caps, capacity, too_big, xfer = t.config
    busy, closed, reboots = t.outcome["end"]
    b, c, clen, image, ab, bsize, btype, bgz = t.outcome["result"]
    cf, sf, auth, ver, otype, size, rx, err = t.outcome["info"]
    body = [f"static const golden_op {t.name}_ops[] = {{", *ops, "};"]
    body += [f"static const golden_hash_entry {t.name}_hashes[] = {{", *hashes, "};"] if hashes else []
    body += [f"static const golden_event {t.name}_events[] = {{", *events, "};"] if events else []
    entry = (f"    {{{c_string(t.name)}, {{{v}, {c_string(pw)}, {md5}, 0x{caps}, {capacity}, 0x{too_big}, {xfer}}},\n"
             f"     {t.name}_ops, {len(ops)}, {t.name + '_hashes' if hashes else '0'}, {len(hashes)},\n"
             f"     {{{int(busy == 'busy')}, {closed}, {reboots}, {b}, {c}, {clen}, \"{image}\", {ab}, {bsize}, "
             f"0x{btype}, {bgz},\n      0x{cf}, 0x{sf}, \"{auth}\", {ver}, 0x{otype}, {size}, {rx}, 0x{err}, "
             f"{t.name + '_events' if events else '0'}, {len(events)}}}}},")
    return body, entry


def main(argv):
    if len(argv) < 4:
        raise SystemExit("usage: golden_to_c.py OUT.c OUT.h TRANSCRIPT.txt...")
    out_c, out_h = pathlib.Path(argv[1]), pathlib.Path(argv[2])
    transcripts = [parse(pathlib.Path(p)) for p in sorted(argv[3:])]
    pool, bodies, entries = Pool(), [], []
    for t in transcripts:
        body, entry = emit_transcript(t, pool)
        bodies += body
        entries.append(entry)
    head = "/* Generated by tests/mcu/golden_to_c.py from the transcripts of tests/golden: do not edit. */\n"
    out_h.write_text(head + "#ifndef GOLDEN_DATA_H\n#define GOLDEN_DATA_H\n"
                     f"#define GOLDEN_INPUT_MAX {max(len(t.stream) for t in transcripts)}u\n"
                     f"#define GOLDEN_OUTPUT_MAX {max(sum(len(o['expect']) for o in t.ops) for t in transcripts)}u\n"
                     f"#define GOLDEN_EVENTS_MAX {max(len(t.outcome['events']) for t in transcripts)}u\n#endif\n")
    out_c.write_text(head + '#include "golden_mcu.h"\n\n' + "\n".join(pool.lines + bodies) +
                     "\n\nconst golden_transcript golden_transcripts[] = {\n" + "\n".join(entries) +
                     f"\n}};\nconst uint32_t golden_transcript_count = {len(entries)}u;\n")


if __name__ == "__main__":
    main(sys.argv)
