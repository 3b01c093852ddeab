# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SSH lab mode (tools/lab up --ssh): every node namespace runs sshd bound to its own underlay
address, with its own host key, hostname (a UTS namespace) and /etc/hosts (a mount namespace),
so a playbook reaches it as it reaches a real node: ansible.builtin.ssh as an unprivileged user,
Python discovery, and sudo for what needs root.

Two users are created for the lab and removed by `down`: USER with passwordless sudo (every sudo
command it runs is logged, with the node's hostname, to <run>/ssh/sudo.log), and NOSUDO_USER
without any sudo rule (a node whose SSH user cannot become root). Their GECOS field names the
checkout, so a user the lab did not create is never touched."""

import os
import pwd
import subprocess
import sys
import time

USER = "nnfabric"
NOSUDO_USER = "nnfabric-nosudo"
SUDOERS = "/etc/sudoers.d/nnfabric-lab"
SSHD = "/usr/sbin/sshd"
PROXY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netns_proxy.py")


def folder_of(run_dir):
    return os.path.join(run_dir, "ssh")


def gecos(run_dir):
    return "nodenet.fabric lab %s" % os.path.dirname(os.path.dirname(os.path.abspath(run_dir)))


def run(argv, stdin=None):
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("lab: %s failed: %s" % (" ".join(argv), (proc.stderr or proc.stdout).strip()))
    return proc.stdout


def missing_programs():
    return [p for p in (SSHD, "/usr/bin/sudo", "/usr/bin/ssh-keygen") if not os.access(p, os.X_OK)]


def setup(run_dir, record):
    """Keys, the two users, the sudo rule and the sshd configuration; recorded before each is made."""
    missing = missing_programs()
    if missing:
        sys.exit("lab: --ssh needs %s (make setup installs openssh-server and sudo)" % ", ".join(missing))
    folder = folder_of(run_dir)
    os.makedirs(os.path.join(folder, "home"), exist_ok=True)
    os.chmod(folder, 0o755)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    key = os.path.join(folder, "id_ed25519")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nodenet.fabric lab", "-f", key])
    with open(key + ".pub") as handle, open(os.path.join(folder, "authorized_keys"), "w") as out:
        out.write(handle.read())
    record["ssh"] = {"folder": folder, "users": [], "sudoers": None, "key": key}
    for user in (USER, NOSUDO_USER):
        record["ssh"]["users"].append(user)
        claim_user(run_dir, user)
    record["ssh"]["sudoers"] = SUDOERS
    rule = ("# nodenet.fabric lab (%s): removed by tools/lab down\n"
            "%s ALL=(ALL:ALL) NOPASSWD: ALL\n"
            "Defaults:%s logfile=%s, log_host\n" % (gecos(run_dir), USER, USER, os.path.join(folder, "sudo.log")))
    staged = SUDOERS + ".new"  # sudo ignores names with a dot; checked before it is moved in place
    with open(staged, "w") as handle:
        handle.write(rule)
    os.chmod(staged, 0o440)
    check = subprocess.run(["visudo", "-cqf", staged], capture_output=True, text=True)
    if check.returncode != 0:
        os.remove(staged)
        sys.exit("lab: the lab's sudo rule does not parse: %s" % check.stdout + check.stderr)
    os.replace(staged, SUDOERS)
    with open(os.path.join(folder, "sshd_config"), "w") as handle:
        handle.write("\n".join([
            "# nodenet.fabric lab: one sshd per node namespace, started with -o ListenAddress and -o HostKey",
            "Port 22",
            "AuthorizedKeysFile %s" % os.path.join(folder, "authorized_keys"),
            "AllowUsers %s %s" % (USER, NOSUDO_USER),
            "PermitRootLogin no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",  # the keys live in the checkout, whose parents the user does not own
            "PidFile none",
            "MaxStartups 100:30:200",
            "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp",
        ]) + "\n")


def claim_user(run_dir, user):
    """Create the user, or reuse one this checkout's lab left (its GECOS names the checkout)."""
    home = os.path.join(folder_of(run_dir), "home", user)
    try:
        found = pwd.getpwnam(user)
    except KeyError:
        found = None
    if found is not None and found.pw_gecos != gecos(run_dir):
        sys.exit("lab: user %s exists and this checkout's lab did not create it (%r); remove it, or run the "
                 "tools/lab down of the checkout that made it" % (user, found.pw_gecos))
    if found is None:
        run(["useradd", "--system", "--user-group", "--shell", "/bin/sh", "--comment", gecos(run_dir),
             "--home-dir", home, user])
    else:
        run(["usermod", "--home", home, user])
    run(["usermod", "--password", "*", user])  # no password, not locked: key login only
    os.makedirs(home, exist_ok=True)
    entry = pwd.getpwnam(user)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o700)


def start(run_dir, host, address):
    """sshd in the node's namespace, in the foreground so that its PID is the one recorded, with
    the node's own hostname and /etc/hosts and its own host key."""
    folder = folder_of(run_dir)
    node = os.path.join(folder, "nodes", host)
    os.makedirs(node, exist_ok=True)
    host_key = os.path.join(node, "ssh_host_ed25519_key")
    if not os.path.exists(host_key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host, "-f", host_key])
    with open(os.path.join(node, "hosts"), "w") as handle:
        handle.write("127.0.0.1 localhost\n127.0.1.1 %s\n%s %s\n" % (host, address, host))
    script = "hostname %s && mount --bind %s /etc/hosts && exec %s -D -e -f %s -o ListenAddress=%s -o HostKey=%s" % (
        host, os.path.join(node, "hosts"), SSHD, os.path.join(folder, "sshd_config"), address, host_key)
    argv = ["ip", "netns", "exec", host, "unshare", "--uts", "--mount", "sh", "-c", script]
    with open(host_key + ".pub") as handle:
        public = handle.read().split()
    return {"kind": "sshd", "host": host, "folder": folder, "argv": argv,
            "known_host": "%s %s %s" % (address, public[0], public[1])}


def write_known_hosts(run_dir, lines):
    with open(os.path.join(folder_of(run_dir), "known_hosts"), "w") as handle:
        handle.write("\n".join(sorted(lines)) + "\n")


def overlay(run_dir, host, address, user=USER):
    """The host's connection variables: SSH to its underlay address as `user`. The ProxyCommand
    stands in for the controller's route to the nodes: it opens the TCP connection from inside the
    node's namespace, to the sshd bound to the node's own address."""
    folder = folder_of(run_dir)
    common = ("-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o ProxyCommand=\"ip netns exec %s %s %s %%h %%p\""
              % (os.path.join(folder, "known_hosts"), host, sys.executable, PROXY))
    return {"ansible_connection": "ansible.builtin.ssh", "ansible_host": address, "ansible_user": user,
            "ansible_ssh_private_key_file": os.path.join(folder, "id_ed25519"),
            "ansible_ssh_common_args": common}


def teardown(record):
    """The users' processes (their SSH sessions), the users and the sudo rule."""
    ssh = record.get("ssh") or {}
    ours = gecos(os.path.dirname(ssh["folder"])) if ssh.get("folder") else None
    for user in ssh.get("users", []):
        try:
            found = pwd.getpwnam(user)
        except KeyError:
            continue
        if found.pw_gecos != ours:
            continue
        for _attempt in range(20):  # userdel refuses while the user has processes
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
            if subprocess.run(["userdel", user], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
    sudoers = ssh.get("sudoers")
    if sudoers and os.path.exists(sudoers):
        with open(sudoers) as handle:
            if handle.read().startswith("# nodenet.fabric lab"):
                os.remove(sudoers)
