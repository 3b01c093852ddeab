"""The reachability module's sweep: one process, one socket, rounds that ask only the silent
targets again, a deadline for the whole sweep. The real sweep runs in a network namespace of
its own (unshare -n: loopback and a veth pair, nothing else), so it can fail for real."""
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.nodenet.fabric.plugins.module_utils import icmp_sweep

COLLECTIONS = str(Path(icmp_sweep.__file__).resolve().parents[5])


def test_a_request_carries_a_valid_checksum_and_a_reply_is_parsed_with_or_without_the_ip_header():
    request = icmp_sweep.echo_request(0x1234, 7, b"tokentok")
    assert icmp_sweep.checksum(request) == 0  # a correct checksum sums to zero
    reply = bytearray(struct.pack("!BBHHH", 0, 0, 0, 0x1234, 7) + b"tokentok")
    assert icmp_sweep.parse_reply(reply, raw=False) == (0, 0x1234, 7, b"tokentok")
    ip_header = bytearray([0x45] + [0] * 19)
    assert icmp_sweep.parse_reply(ip_header + reply, raw=True) == (0, 0x1234, 7, b"tokentok")
    assert icmp_sweep.parse_reply(bytearray(b"\x45\x00"), raw=True) is None


def test_no_icmp_socket_means_the_caller_falls_back(monkeypatch):
    monkeypatch.setattr(icmp_sweep, "open_socket", lambda version=4: (None, None))
    assert icmp_sweep.sweep(["127.0.0.1"]) is None


SWEEP = """
import json, socket, subprocess, sys, time
sys.path.insert(0, %r)
for line in ("link set lo up", "link add v0 type veth peer name v1", "addr add 10.9.0.1/24 dev v0",
             "addr add fd09::1/64 dev v0 nodad", "link set v0 up", "link set v1 up"):
    subprocess.run(["ip"] + line.split(), check=True)
from ansible_collections.nodenet.fabric.plugins.module_utils import icmp_sweep
kind, version = sys.argv[1], int(sys.argv[4])
family, protocol = icmp_sweep.FAMILIES[version][:2]
if kind == "dgram":
    subprocess.run(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"], check=True)
    sock = socket.socket(family, socket.SOCK_DGRAM, protocol)
else:
    sock = socket.socket(family, socket.SOCK_RAW, protocol)
started = time.monotonic()
answered, silent = icmp_sweep.sweep(json.loads(sys.argv[2]), rounds=3, wait=0.3, deadline=float(sys.argv[3]),
                                    sock=sock, raw=kind == "raw", version=version)
print(json.dumps({"answered": sorted(answered), "silent": silent, "took": time.monotonic() - started}))
"""


def sweep_in_own_namespace(kind, targets, deadline=5.0, version=4):
    proc = subprocess.run(["unshare", "-n", sys.executable, "-c", SWEEP % COLLECTIONS, kind, json.dumps(targets),
                           str(deadline), str(version)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


needs_root = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")


@needs_root
@pytest.mark.parametrize("kind", ["raw", "dgram"])
def test_the_sweep_names_exactly_the_silent_targets(kind):
    # 127.0.0.0/8 and the veth's own address answer; 10.9.0.2 has a route and no host, and
    # 10.255.0.1 has no route at all.
    result = sweep_in_own_namespace(kind, ["127.0.0.1", "127.0.0.2", "10.9.0.1", "10.9.0.2", "10.255.0.1"])
    assert result["answered"] == ["10.9.0.1", "127.0.0.1", "127.0.0.2"]
    assert result["silent"] == ["10.255.0.1", "10.9.0.2"]


@needs_root
@pytest.mark.parametrize("kind", ["raw", "dgram"])
def test_an_icmpv6_sweep_names_exactly_the_silent_targets(kind):
    # ::1 and the veth's own address answer; fd09::2 is on-link with no host, fd99::1 has no route.
    result = sweep_in_own_namespace(kind, ["::1", "fd09::1", "fd09::2", "fd99::1"], version=6)
    assert result["answered"] == ["::1", "fd09::1"]
    assert result["silent"] == ["fd09::2", "fd99::1"]


def test_reach_sweeps_each_family_on_its_own_socket(monkeypatch):
    calls = []

    def fake_sweep(targets, rounds, wait, deadline, version):
        calls.append((version, targets))
        return dict((t, 0.001) for t in targets if t.endswith("1")), [t for t in targets if not t.endswith("1")]
    monkeypatch.setattr(icmp_sweep, "sweep", fake_sweep)
    result = icmp_sweep.reach(None, ["10.0.0.1", "FD00:0::1", "fd00::2", " 10.0.0.2", ""])
    assert sorted(calls) == [(4, ["10.0.0.1", "10.0.0.2"]), (6, ["fd00::1", "fd00::2"])]
    assert result == {"reachable": ["10.0.0.1", "fd00::1"], "unreachable": ["10.0.0.2", "fd00::2"], "method": "socket"}


class SilentSocket:
    """Sends nothing anywhere and never receives; counts the requests."""
    def __init__(self):
        import socket
        self.inner, self.sent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), []

    def fileno(self):
        return self.inner.fileno()

    def setblocking(self, _flag):
        pass

    def setsockopt(self, *_args):
        pass

    def sendto(self, data, address):
        self.sent.append(address[0])

    def recvfrom(self, _size):
        raise OSError("nothing")

    def close(self):
        self.inner.close()


class FakeTime:
    """A clock that moves only when the sweep waits (by the time it waits) or reads it (a tick)."""
    def __init__(self):
        self.now = 0.0

    def clock(self):
        self.now += 0.0001
        return self.now

    def poll(self, _sock, timeout):
        self.now += timeout
        return False


@pytest.mark.parametrize("deadline, rounds_sent", [(100.0, 3), (1.1, 1)])
def test_each_round_asks_the_silent_targets_again_until_the_deadline(deadline, rounds_sent):
    targets = ["10.9.0.%d" % i for i in range(2, 200)]
    sock, fake = SilentSocket(), FakeTime()
    answered, silent = icmp_sweep.sweep(targets, rounds=3, wait=1.0, deadline=deadline, clock=fake.clock,
                                        sock=sock, raw=True, poll=fake.poll)
    assert answered == {} and silent == sorted(targets)
    assert sorted(sock.sent) == sorted(targets * rounds_sent)
