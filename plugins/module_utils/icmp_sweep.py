# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ICMP echo to many targets from one process over one socket: a round sends to every target
still silent, paced in bursts, then collects replies until the round's wait ends; the next round
asks only the silent ones again; a deadline bounds the whole sweep. The cost grows with the
number of targets in packets, not in processes."""

from __future__ import absolute_import, division, print_function

import errno
import os
import select
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

__metaclass__ = type

ECHO_REQUEST, ECHO_REPLY = 8, 0
# Per address family: (socket family, protocol, echo request, echo reply). The kernel fills in
# ICMPv6 checksums itself (they cover the IPv6 pseudo-header).
FAMILIES = {4: (socket.AF_INET, socket.IPPROTO_ICMP, ECHO_REQUEST, ECHO_REPLY),
            6: (socket.AF_INET6, socket.IPPROTO_ICMPV6, 128, 129)}
BURST = 8            # requests sent back to back; replies are read between bursts
# Seconds between bursts (1,600 requests a second): many nodes sweeping at once on one kernel (the
# lab) or one link must not overflow its queues.
BURST_PAUSE = 0.005
RECEIVE_BUFFER = 1 << 20  # room for a thousand replies; the kernel caps it without privilege
PING_WORKERS = 16  # the fallback's bound on ping processes at once


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident, seq, token, version=4):
    kind = FAMILIES[version][2]
    if version == 6:
        return struct.pack("!BBHHH", kind, 0, 0, ident, seq) + token
    header = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    return struct.pack("!BBHHH", kind, 0, checksum(header + token), ident, seq) + token


def family_of(target):
    return 6 if ":" in target else 4


def open_socket(version=4):
    """(socket, raw): a raw ICMP socket (root or CAP_NET_RAW), else an unprivileged ICMP datagram
    socket (net.ipv4.ping_group_range, for both families), else (None, None)."""
    family, protocol = FAMILIES[version][:2]
    for kind, raw in ((socket.SOCK_RAW, True), (socket.SOCK_DGRAM, False)):
        try:
            return socket.socket(family, kind, protocol), raw
        except (OSError, socket.error) as exc:
            if exc.errno not in (errno.EPERM, errno.EACCES, errno.EPROTONOSUPPORT):
                raise
    return None, None


def parse_reply(packet, raw, version=4):
    """(type, ident, seq, payload) of an ICMP message; a raw IPv4 socket's carries the IP header
    (an ICMPv6 socket never does)."""
    if raw and version == 4:
        if len(packet) < 20:
            return None
        packet = packet[(packet[0] & 0x0F) * 4:]
    if len(packet) < 8:
        return None
    kind, _code, _sum, ident, seq = struct.unpack("!BBHHH", packet[:8])
    return kind, ident, seq, packet[8:]


def readable(sock, timeout):
    return bool(select.select([sock], [], [], timeout)[0])


def sweep(targets, rounds=3, wait=1.0, deadline=10.0, clock=time.monotonic, sock=None, raw=True, poll=readable,
          version=4):
    """({target: rtt seconds} that answered, [targets that never did]) of targets of one family
    (`version`); None when no ICMP socket can be opened here (the caller falls back to the ping
    program). `clock` and `poll(sock, timeout) -> readable` are the time source and the wait
    (tests give fakes)."""
    targets = sorted(set(targets))
    reply_type = FAMILIES[version][3]
    if sock is None:
        sock, raw = open_socket(version)
        if sock is None:
            return None
    # A datagram socket's identifier is the kernel's (its local port); replies reach only it.
    ident = os.getpid() & 0xFFFF
    token = os.urandom(8)
    index = dict((t, i) for i, t in enumerate(targets))
    answered, sent_at = {}, {}
    end = clock() + deadline
    try:
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        except (OSError, socket.error):
            pass

        def collect():
            while True:
                try:
                    packet, address = sock.recvfrom(2048)
                except (OSError, socket.error):
                    return
                source = address[0]
                reply = parse_reply(bytearray(packet), raw, version)
                if not reply or reply[0] != reply_type or reply[3] != token:
                    continue  # another program's ICMP, or not an echo reply
                if raw and reply[1] != ident:
                    continue
                if source in index and source not in answered:
                    answered[source] = clock() - sent_at.get(source, clock())

        for attempt in range(rounds):
            queue = [t for t in targets if t not in answered]
            if not queue or clock() >= end:
                break
            round_end = None
            while len(answered) < len(targets):
                now = clock()
                if now >= end or (round_end is not None and now >= round_end):
                    break
                if queue:
                    for target in queue[:BURST]:
                        seq = (attempt * len(targets) + index[target]) & 0xFFFF
                        sent_at[target] = now
                        try:
                            sock.sendto(echo_request(ident, seq, token, version), (target, 0))
                        except (OSError, socket.error):
                            pass  # no route: the target stays silent
                    del queue[:BURST]
                    if not queue:
                        round_end = min(clock() + wait, end)
                    pause = BURST_PAUSE if queue else round_end - clock()
                else:
                    pause = round_end - now
                if poll(sock, max(0.0, min(pause, end - clock()))):
                    collect()
    finally:
        sock.close()
    return answered, [t for t in targets if t not in answered]


def canonical(target):
    """An address as the kernel gives a reply's source (fd00::1, not FD00:0::1)."""
    family = FAMILIES[family_of(target)][0]
    try:
        return socket.inet_ntop(family, socket.inet_pton(family, target))
    except (OSError, socket.error, ValueError):
        return target


def ping_all(run_command, ping, targets, attempts, timeout, deadline):
    """The fallback: the ping program, a bounded number at once, retrying the silent ones."""
    pending, reachable, end = list(targets), [], time.monotonic() + deadline

    def answers(target):
        return run_command([ping, "-n", "-q", "-c", "1", "-W", str(timeout), target])[0] == 0

    with ThreadPoolExecutor(max_workers=PING_WORKERS) as pool:
        for _attempt in range(attempts):
            if not pending or time.monotonic() >= end:
                break
            results = list(zip(pending, pool.map(answers, pending)))
            reachable += [t for t, ok in results if ok]
            pending = [t for t, ok in results if not ok]
    return reachable, pending


def reach(module, targets, attempts=3, timeout=1, deadline=0):
    """{reachable, unreachable, method} for `targets` from this node: the one-socket sweep, or
    the ping program where no ICMP socket opens. One function for every module that checks."""
    targets = sorted(set(canonical(t.strip()) for t in targets if t and t.strip()))
    if not targets:
        return dict(reachable=[], unreachable=[], method="none")
    deadline = deadline or attempts * timeout + 1
    by_family = {}
    for target in targets:
        by_family.setdefault(family_of(target), []).append(target)

    def sweep_family(version):
        return sweep(by_family[version], rounds=attempts, wait=timeout, deadline=deadline, version=version)
    with ThreadPoolExecutor(max_workers=len(by_family)) as pool:  # both families at once
        swept = dict(zip(by_family, pool.map(sweep_family, by_family)))
    reachable, unreachable, methods = [], [], set()
    for version, result in sorted(swept.items()):
        if result is not None:
            reachable += list(result[0])
            unreachable += result[1]
            methods.add("socket")
        else:
            ping = module.get_bin_path("ping", required=True)
            found, silent = ping_all(module.run_command, ping, by_family[version], attempts, timeout, deadline)
            reachable += found
            unreachable += silent
            methods.add("ping")
    return dict(reachable=sorted(reachable), unreachable=sorted(unreachable), method="+".join(sorted(methods)))
