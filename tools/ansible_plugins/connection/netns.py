# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: netns
short_description: Run tasks inside a Linux network namespace on the controller
version_added: 0.1.0
description:
  - Runs commands with C(ip netns exec <namespace>) on the local machine, passing an argv list;
    no shell string is built by the plugin.
  - Namespaces share the controller's filesystem, so files are copied locally.
  - The nodenet.fabric lab's own connection (not shipped in the collection), where every inventory
    host is a namespace of the same name. The project's ansible.cfg and the molecule scenarios find
    it in tools/ansible_plugins/connection.
author: nodenet.fabric developers (!UNKNOWN)
options:
  namespace:
    description: Network namespace to run in. Defaults to the inventory host name.
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_netns_name
  ip_executable:
    description: Path of the C(ip) command.
    type: str
    default: ip
    vars:
      - name: ansible_netns_ip_executable
"""

import os
import shutil
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()


class Connection(ConnectionBase):
    transport = "netns"
    has_pipelining = True
    has_tty = False

    def _netns(self):
        return self.get_option("namespace")

    def _connect(self):
        if os.geteuid() != 0:
            raise AnsibleConnectionFailure("the netns connection needs root")
        name = self._netns()
        if not os.path.exists(os.path.join("/run/netns", name)):
            raise AnsibleConnectionFailure("network namespace %s does not exist (is the lab up?)" % name)
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        ip = shutil.which(self.get_option("ip_executable")) or "/usr/sbin/ip"
        shell = self._play_context.executable or "/bin/sh"
        argv = [ip, "netns", "exec", self._netns(), shell, "-c", cmd]
        display.vvv("EXEC %s" % argv, host=self._netns())
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout, stderr = proc.communicate(to_bytes(in_data) if in_data is not None else None)
        return proc.returncode, stdout, stderr

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        display.vvv("PUT %s TO %s" % (in_path, out_path), host=self._netns())
        try:
            shutil.copyfile(in_path, out_path)
        except OSError as exc:
            raise AnsibleError("failed to copy %s to %s: %s" % (in_path, out_path, exc))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        display.vvv("FETCH %s TO %s" % (in_path, out_path), host=self._netns())
        try:
            shutil.copyfile(in_path, out_path)
        except OSError as exc:
            raise AnsibleError("failed to copy %s to %s: %s" % (in_path, out_path, exc))

    def close(self):
        self._connected = False
