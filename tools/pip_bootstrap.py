"""Stands in for ansible-test's get-pip bootstrap, which it downloads from ci-files.testing.ansible.com
(unreachable here). Called as get-pip is (python this.py <pip args>), it installs pip from the wheels
tools/sanity downloaded into wheels/ beside it with the project's own pip."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap()
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
wheels = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wheels")
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", "--no-index", "--find-links", wheels] + args)
