"""The benchmarks' link emulator (bench/linkemu.c) models the link it claims.

The bench's link rows are only as true as linkemu: these tests check that a
rate limit binds (a transfer cannot beat size / rate), that the delay is
there (a ping-pong takes at least one RTT), that the bytes come through
intact and in order with jitter and delay spikes, that a receiver that stops
reading does not make it spin, and that its queue is bounded (a sender to a
stalled receiver gets only so far). Lower bounds only: they hold however
loaded the machine is; the CPU check has a wide margin.
"""

import os
import socket
import subprocess
import threading
import time

import pytest

from devicelib import eota_bin, free_port


def linkemu_bin():
    return os.path.join(os.path.dirname(eota_bin()), "linkemu")


class Pair:
    """A sink server behind a linkemu; .client is connected through it."""

    def __init__(self, *args):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        port = free_port()
        self.proc = subprocess.Popen([linkemu_bin(), "--listen", str(port), "--to",
                                      "127.0.0.1:%d" % self.srv.getsockname()[1]] + list(args))
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.server, _ = self.srv.accept()
        self.server.settimeout(30)

    def cpu_seconds(self):
        f = open("/proc/%d/stat" % self.proc.pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        self.proc.kill()
        self.proc.wait()
        for s in (self.client, self.server, self.srv):
            s.close()


@pytest.fixture
def pair_factory():
    made = []

    def make(*args):
        made.append(Pair(*args))
        return made[-1]
    yield make
    for p in made:
        p.close()


def receive_all(sock, want):
    got = bytearray()
    while len(got) < want:
        d = sock.recv(65536)
        if not d:
            break
        got += d
    return bytes(got)


def timed_transfer(p, size):
    """Send size random bytes through the pair; check them; return seconds."""
    data = os.urandom(size)
    t0 = time.monotonic()
    th = threading.Thread(target=p.client.sendall, args=(data,))
    th.start()
    got = receive_all(p.server, len(data))
    took = time.monotonic() - t0
    th.join()
    assert got == data
    return took


def test_rate_limit_binds(pair_factory):
    p = pair_factory("--delay-ms", "5", "--rate", "400000")
    took = timed_transfer(p, 600000)
    # 600 kB at 400 kB/s cannot arrive in less than 1.5 s (+ 5 ms delay)
    assert took >= 1.45, "the rate limit did not bind: %.3f s" % took
    print("600 kB at 400 kB/s took %.3f s (theory 1.505 s)" % took)


def test_delay_makes_the_round_trip(pair_factory):
    p = pair_factory("--delay-ms", "25")
    t0 = time.monotonic()
    for _ in range(4):
        p.client.sendall(b"x")
        assert p.server.recv(1) == b"x"
        p.server.sendall(b"y")
        assert p.client.recv(1) == b"y"
    took = time.monotonic() - t0
    assert took >= 4 * 0.050 - 0.004, "4 round trips of 50 ms took %.3f s" % took


def test_jitter_and_spikes_keep_bytes_in_order(pair_factory):
    p = pair_factory("--delay-ms", "2", "--rate", "2000000", "--jitter-ms", "3",
                     "--spike-ms", "40", "--spike-every-ms", "100", "--seed", "7")
    took = timed_transfer(p, 1 << 20)
    # 1 MiB at 2 MB/s is 0.52 s on the wire; the stalls add to that
    assert took >= 0.52
    print("1 MiB at 2 MB/s with jitter and 40 ms stalls took %.3f s" % took)


def test_stalled_receiver_neither_spins_nor_buffers_without_bound(pair_factory):
    p = pair_factory("--delay-ms", "1", "--rate", "10000000", "--queue", "65536", "--buffer", "262144")
    p.client.setblocking(False)
    sent = 0
    chunk = b"z" * 65536
    cpu0 = p.cpu_seconds()
    end = time.monotonic() + 1.5
    while time.monotonic() < end:   # the receiver reads nothing meanwhile
        try:
            sent += p.client.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
    cpu = p.cpu_seconds() - cpu0
    # what linkemu holds is bounded by --buffer; the rest sits in the two
    # sockets' kernel buffers (a few MiB at most on loopback)
    assert sent < 262144 + 3 * (6 << 20), "the sender got %d bytes in" % sent
    assert cpu < 0.5, "linkemu used %.2f s of CPU in 1.5 s while its receiver was stalled" % cpu
    print("stalled receiver: sender got %d bytes in, linkemu used %.3f s CPU in 1.5 s" % (sent, cpu))
