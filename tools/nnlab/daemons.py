# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's routing daemons, each started in its namespace and recorded by PID: BIRD per Calico
node (with the calico-node stand-in that configures it), FRR's zebra and bgpd per ToR router.
A record names a folder that is part of the process's command line, so a PID that now belongs
to another process is never signalled."""

import json
import os
import pwd
import subprocess
import sys
import time

from nnlab import calico_node, controlplane

FRR = "/usr/lib/frr"


def launch(record, name, argv, log):
    proc = subprocess.Popen(argv, stdout=open(log, "a"), stderr=subprocess.STDOUT, start_new_session=True)
    record.setdefault("roles", {})[name] = proc.pid
    record.setdefault("pids", []).append(proc.pid)
    return proc.pid


def stop(record, name=None):
    """Stop the record's processes (or one of them) by PID, newest first."""
    pids = [record["roles"][name]] if name else list(reversed(record.get("pids", [])))
    for pid in pids:
        controlplane.stop_process(pid, record, timeout=15 if record["kind"] == "kubelet" else 5)
    if record.get("children") and os.path.exists(record["children"]):  # should the kubelet have died first
        with open(record["children"]) as handle:
            for pid in json.load(handle):
                controlplane.stop_process(pid, record, timeout=5)


def start_bird(run_dir, host, version=4):
    """BIRD of one family in the node's namespace (calico-node runs bird and bird6), in the
    foreground so its PID is the one recorded."""
    paths = calico_node.bird_paths(run_dir, host, version)
    record = {"kind": "bird", "host": host, "family": version, "folder": paths["folder"], "argv": [
        "ip", "netns", "exec", host, "bird", "-f", "-c", paths["conf"], "-s", paths["socket"]]}
    if os.path.exists(paths["socket"]):
        os.remove(paths["socket"])
    launch(record, "bird", record["argv"], os.path.join(paths["folder"], "bird.log"))
    wait_for(lambda: os.path.exists(paths["socket"]), "BIRD (IPv%d) of %s" % (version, host))
    return record


def start_standin(run_dir, cluster, kubeconfig, hosts):
    folder = os.path.join(run_dir, "calico-node-%s" % cluster)
    os.makedirs(folder, exist_ok=True)
    # Its command line names the run folder, which is how its PID is recognised as ours.
    record = {"kind": "calico-node", "cluster": cluster, "folder": run_dir,
              "argv": [sys.executable, os.path.abspath(calico_node.__file__), run_dir, cluster, kubeconfig] + hosts}
    launch(record, "standin", record["argv"], os.path.join(folder, "calico-node.log"))
    return record


def start_api_relay(run_dir, relays):
    """One process relaying each cluster's API server into its node namespaces (NS=PORT ...)."""
    from nnlab import api_relay
    folder = os.path.join(run_dir, "api-relay")
    os.makedirs(folder, exist_ok=True)
    record = {"kind": "api-relay", "folder": folder,
              "argv": [sys.executable, os.path.abspath(api_relay.__file__), "--folder=" + folder] + relays}
    launch(record, "relay", record["argv"], os.path.join(folder, "api-relay.log"))
    return record


def start_kubelet(run_dir, cluster, kubeconfig, hosts, programs, flannel_namespace=None, interfaces=None):
    """The kubelet stand-in of one cluster, running `programs` from their DaemonSets; the programs
    it starts are its children, stopped with it (their PIDs are also in its folder's pids.json)."""
    from nnlab import kubelet
    folder = kubelet.folder_of(run_dir, cluster)
    os.makedirs(folder, exist_ok=True)
    options = ["--folder=" + folder, "--run=" + ",".join(programs)]
    if flannel_namespace:
        options.append("--flannel-namespace=" + flannel_namespace)
    if interfaces:
        options.append("--node-interfaces=" + ",".join("%s=%s" % kv for kv in sorted(interfaces.items())))
    record = {"kind": "kubelet", "cluster": cluster, "folder": folder, "children": os.path.join(folder, "pids.json"),
              "argv": [sys.executable, os.path.abspath(kubelet.__file__)] + options + [run_dir, cluster,
                                                                                      kubeconfig, "kube-system"] + hosts}
    launch(record, "kubelet", record["argv"], os.path.join(folder, "kubelet.log"))
    return record


def frr_folder(run_dir, host):
    return os.path.join(run_dir, host, "frr")


def vtysh(run_dir, host):
    folder = frr_folder(run_dir, host)
    return ["vtysh", "--vty_socket", folder, "--config_dir", folder]


def start_frr(run_dir, host):
    """zebra and bgpd in the router's namespace, as user frr, with their own sockets and config
    under the run folder; vty only on the unix socket (no TCP)."""
    folder = frr_folder(run_dir, host)
    os.makedirs(folder, exist_ok=True)
    frr = pwd.getpwnam("frr")
    os.chown(folder, frr.pw_uid, frr.pw_gid)
    os.chmod(folder, 0o770)
    conf = os.path.join(folder, "frr.conf")
    with open(conf, "a"):
        pass
    os.chown(conf, frr.pw_uid, frr.pw_gid)
    os.chmod(conf, 0o600)
    with open(os.path.join(folder, "vtysh.conf"), "w") as handle:
        handle.write("service integrated-vtysh-config\n")
    record = {"kind": "frr", "host": host, "folder": folder}
    common = ["-u", "frr", "-g", "frr", "-N", host, "-z", os.path.join(folder, "zserv.api"),
              "--vty_socket", folder, "-A", "127.0.0.1", "-P", "0", "-f", conf]
    for daemon in ("zebra", "bgpd"):
        argv = ["ip", "netns", "exec", host, os.path.join(FRR, daemon), "-i", os.path.join(folder, daemon + ".pid")] + common
        launch(record, daemon, argv, os.path.join(folder, daemon + ".log"))
        wait_for(lambda d=daemon: os.path.exists(os.path.join(folder, d + ".vty")), "%s of %s" % (daemon, host))
    return record


def wait_for(check, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("lab: %s did not start" % what)
        time.sleep(0.1)
