# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pings between lab namespaces: a one-shot check of many pairs, and continuous pings
whose lost replies are counted across a change."""

import re
import subprocess
import time


def family(ip):
    """ping's family flag for a target (`ping -6` for IPv6)."""
    return "-6" if ":" in ip else "-4"


def ping_all(pairs, attempts=3):
    """{(src namespace, ip): answered}; pings run concurrently, failures are retried."""
    results = {}
    todo = list(pairs)
    for _ in range(attempts):
        procs = [(pair, subprocess.Popen(["ip", "netns", "exec", pair[0], "ping", family(pair[1]), "-n", "-q",
                                          "-c", "1", "-W", "1", pair[1]], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)) for pair in todo]
        todo = []
        for pair, proc in procs:
            results[pair] = proc.wait() == 0
            if not results[pair]:
                todo.append(pair)
        if not todo:
            break
        time.sleep(0.5)
    return results


def start_continuous(src, ip, interval, log):
    """A ping from namespace `src` to `ip` every `interval` seconds, logging to `log`."""
    with open(log, "w") as out:
        return subprocess.Popen(["ip", "netns", "exec", src, "ping", family(ip), "-n", "-i", str(interval), ip],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def count_lost(text):
    """(sent, answered, lost) from a stopped ping's log. The last request may still be in flight
    when ping is stopped; it is not counted as lost."""
    summary = re.search(r"(\d+) packets transmitted, (\d+) received", text)
    sent = int(summary.group(1)) if summary else 0
    answered = set(int(n) for n in re.findall(r"icmp_seq=(\d+) ttl=", text))
    return sent, len(answered), len(set(range(1, sent)) - answered)
