# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real Kubernetes control plane per lab cluster: Debian's etcd and kube-apiserver built from
source (tools/k8s), on 127.0.0.1 with distinct ports, token auth from a 0600 file, a generated
CA and serving cert, RBAC, and a 0600 kubeconfig. Every process is recorded by PID and stopped by
PID; its data lives under the lab's run folder in the checkout."""

import base64
import datetime
import ipaddress
import json
import os
import secrets
import signal
import ssl
import subprocess
import time
import urllib.request

BASE_PORT = 26400  # cluster k: etcd client 26400+10k, etcd peer +1, apiserver +2


def ports(index):
    base = BASE_PORT + 10 * index
    return {"etcd": base, "etcd_peer": base + 1, "apiserver": base + 2}


def write_secret(path, data):
    """A file only its owner can read, created so (never world-readable, not even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())


def certificates(folder):
    """A CA, a serving certificate for 127.0.0.1, and the service-account key pair, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    def key():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def pem_key(k):
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                               serialization.NoEncryption())

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, server_key, sa_key = key(), key(), key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nodenet-lab-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                          x509.DNSName("localhost")]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "server.crt": server.public_bytes(serialization.Encoding.PEM),
        "server.key": pem_key(server_key),
        "sa.key": pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    for name, data in files.items():
        write_secret(os.path.join(folder, name), data)
    return files["ca.crt"]


def kubeconfig(cluster, server, ca_pem, token):
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster,
        "clusters": [{"name": cluster, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "nodenet-admin", "user": {"token": token}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "nodenet-admin"}}],
    }, indent=2)


def start(cluster, index, run_dir, bin_dir, service_cidr):
    """Start etcd and kube-apiserver for one cluster; returns its record (PIDs, ports, files)."""
    folder = os.path.join(run_dir, "k8s", cluster)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    port = ports(index)
    ca_pem = certificates(folder)
    token = secrets.token_hex(24)
    write_secret(os.path.join(folder, "tokens.csv"), "%s,nodenet-admin,nodenet-admin,system:masters\n" % token)
    server = "https://127.0.0.1:%d" % port["apiserver"]
    path = os.path.join(folder, "kubeconfig")
    write_secret(path, kubeconfig(cluster, server, ca_pem, token))
    record = {"cluster": cluster, "folder": folder, "kubeconfig": path, "server": server, "ports": port,
              "pids": [], "argv": {}}
    record["argv"]["etcd"] = [
        "etcd", "--name", cluster, "--data-dir", os.path.join(folder, "etcd"),
        "--listen-client-urls", "http://127.0.0.1:%d" % port["etcd"],
        "--advertise-client-urls", "http://127.0.0.1:%d" % port["etcd"],
        "--listen-peer-urls", "http://127.0.0.1:%d" % port["etcd_peer"],
        "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % port["etcd_peer"],
        "--initial-cluster", "%s=http://127.0.0.1:%d" % (cluster, port["etcd_peer"]),
        "--listen-metrics-urls", "", "--log-level", "warn"]
    record["argv"]["apiserver"] = [
        os.path.join(bin_dir, "kube-apiserver"),
        "--etcd-servers", "http://127.0.0.1:%d" % port["etcd"],
        # The advertised address must be of the primary service family (an IPv6-only cluster's is
        # ::1); clients reach the API on 127.0.0.1 either way.
        "--bind-address", "127.0.0.1", "--advertise-address", "::1" if ":" in service_cidr.split(",")[0] else "127.0.0.1",
        "--secure-port", str(port["apiserver"]),
        "--tls-cert-file", os.path.join(folder, "server.crt"),
        "--tls-private-key-file", os.path.join(folder, "server.key"),
        "--client-ca-file", os.path.join(folder, "ca.crt"),
        "--token-auth-file", os.path.join(folder, "tokens.csv"),
        "--authorization-mode", "RBAC", "--allow-privileged=true",  # node DaemonSets (kube-proxy, kube-router) are privileged
        "--service-cluster-ip-range", service_cidr,
        "--service-account-issuer", "https://kubernetes.default.svc",
        "--service-account-key-file", os.path.join(folder, "sa.pub"),
        "--service-account-signing-key-file", os.path.join(folder, "sa.key"),
        "--cert-dir", os.path.join(folder, "certs"),
        "--enable-priority-and-fairness=false", "--profiling=false", "--v=0"]
    for name in ("etcd", "apiserver"):
        launch(record, name)
    return record


def launch(record, name):
    """Start one of the cluster's processes (etcd, apiserver) and record its PID."""
    proc = subprocess.Popen(record["argv"][name], stdout=open(os.path.join(record["folder"], name + ".log"), "a"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    record.setdefault("roles", {})[name] = proc.pid
    record["pids"].append(proc.pid)
    return proc.pid


def stop_process(pid, record, timeout=15):
    if not ours(pid, record):
        return
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def wait_ready(record, timeout=90):
    """Until /readyz answers ok with the cluster's own CA and token."""
    with open(os.path.join(record["folder"], "tokens.csv")) as handle:
        token = handle.read().split(",")[0]
    context = ssl.create_default_context(cafile=os.path.join(record["folder"], "ca.crt"))
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(record["server"] + "/readyz",
                                             headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(request, context=context, timeout=5) as reply:
                if reply.read().strip() == b"ok":
                    return
        except OSError as exc:
            last = exc
        for pid in record["roles"].values():  # the processes running now
            if not alive(pid):
                raise RuntimeError("%s: a control-plane process (pid %d) exited; see %s"
                                   % (record["cluster"], pid, record["folder"]))
        time.sleep(0.5)
    raise RuntimeError("%s: kube-apiserver not ready after %d s (%s)" % (record["cluster"], timeout, last))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours counts as gone
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def ours(pid, record):
    """The PID is still the process we started: its command line names the cluster's folder."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return record["folder"].encode() in handle.read()
    except OSError:
        return False


def stop(record):
    """Stop the cluster's processes by PID (apiserver first), then remove its data. A PID that
    now belongs to another process is left alone."""
    for pid in reversed(record.get("pids", [])):
        stop_process(pid, record)
    subprocess.run(["rm", "-rf", record["folder"]], check=False)
