# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark reports: a header with the machine's state, and replacing one marked section of
docs/performance.md (only when asked: `make bench-doc`)."""

import datetime
import os
import platform
import subprocess
import sys
import time


def header(title, started, load_start):
    iproute = subprocess.run(["ip", "-V"], capture_output=True, text=True).stdout.strip()
    return ["# %s" % title, "",
            "- date: %s UTC" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "- nproc: %d; kernel: %s; %s" % (os.cpu_count(), platform.release(), iproute),
            "- python: %s (%s)" % (platform.python_version(), sys.executable),
            "- load average at start: %.2f %.2f %.2f; at end: %.2f %.2f %.2f" % (load_start + os.getloadavg()),
            "- run time: %.0f s" % (time.time() - started),
            "- the machine is shared and noisy: variants run interleaved in one run, medians are reported"]


def replace_section(path, name, text):
    """Put `text` between <!-- bench:NAME --> and <!-- /bench:NAME --> (appended when absent)."""
    begin, end = "<!-- bench:%s -->" % name, "<!-- /bench:%s -->" % name
    body = open(path).read() if os.path.exists(path) else "# Performance\n"
    block = "%s\n%s%s" % (begin, demoted(text), end)
    if begin in body and end in body:
        body = body[:body.index(begin)] + block + body[body.index(end) + len(end):]
    else:
        body = body.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as handle:
        handle.write(body)


def demoted(text):
    """Headings one level down, so a report nests under the document's own title."""
    return "\n".join("#" + line if line.startswith("#") else line for line in text.split("\n"))
