# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kubelet stand-in per lab cluster, for the node programs the lab builds: while a DaemonSet
it runs exists in the cluster's API, its program runs in every node namespace; a changed pod
template restarts it node by node, as the DaemonSet controller's rolling update does (at most
maxUnavailable pods down, the next once the new one is ready); a deleted DaemonSet stops it. So
the roles' orders act on real processes. The programs (--run):
- kube-proxy and kube-router, from their DaemonSets in kube-system;
- flannel: flanneld from the kube-flannel container of kube-flannel-ds (flannel) or canal (canal),
  with --kube-subnet-mgr against the cluster's API, NODE_NAME, --iface set to the node's
  underlay (--node-interfaces), its own subnet file and net-conf.json from the ConfigMap;
- flannel-cni: in a cluster that kube-router takes over from flannel, the pod of
  kube-flannel-ds only does what flannel's install-cni init container does at every start (its
  ConfigMap's cni-conf.json copied to /etc/cni/net.d/10-flannel.conflist) and then runs in
  flanneld's place without routing, so that a DaemonSet left behind would put the replaced CNI's
  config back, as the real one does.

What the pod would see is made from the API, per node, under the run folder:
- a configMap or secret volume: its keys as files (secrets 0600);
- the service account token: a real TokenRequest for the pod's service account, so RBAC is the
  API server's to judge; with the cluster CA beside it;
- a hostPath volume: the node's own root (node_base_root) + the path, as the role's files are.
Paths in args, env and configMap files are rewritten from the container's mount paths to these.
kube-router appends to iproute2's rt_tables, so it runs in a private mount namespace with a
per-node copy bound over that file: the machine's own file is never written.

    python kubelet.py --folder=FOLDER --run=PROGRAM,... [--flannel-namespace=NS]
        [--node-interfaces=HOST=IFACE,...] RUN_DIR CLUSTER KUBECONFIG NAMESPACE HOST ...
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
K8S_BIN = os.path.join(HERE, "..", "..", ".k8s", "bin")
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
RT_TABLES = "/etc/iproute2/rt_tables"
# program: [(namespace, DaemonSet name, container)]: the first DaemonSet found runs. None is the
# kubelet's namespace (kube-system) or, for flannel's own DaemonSet, --flannel-namespace; a
# container of None is the pod's first.
PROGRAMS = {"kube-proxy": [(None, "kube-proxy", None)], "kube-router": [(None, "kube-router", None)],
            "flannel": [("flannel", "kube-flannel-ds", "kube-flannel"), ("kube-system", "canal", "kube-flannel")],
            "flannel-cni": [("flannel", "kube-flannel-ds", None)]}
BINARIES = {"flannel": "flannel"}  # program -> the built binary (.k8s/bin), when named otherwise
FLANNEL_CONFIG = ("kube-flannel-cfg", "cni-conf.json", "/etc/cni/net.d/10-flannel.conflist")
STOPPING = []


def folder_of(run_dir, cluster):
    return os.path.join(run_dir, "kubelet-%s" % cluster)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path + ".tmp", mode)
    os.rename(path + ".tmp", path)


class Pod:
    """One DaemonSet's pod on one node: its files, its argv and its process."""

    def __init__(self, kubelet, program, host, daemonset):
        self.kubelet, self.program, self.host, self.daemonset = kubelet, program, host, daemonset
        self.folder = os.path.join(kubelet.folder, host, program)
        self.proc = None
        self.started = 0.0
        self.restarts = 0

    @property
    def spec(self):
        return self.daemonset["spec"]["template"]["spec"]

    @property
    def container(self):
        name = self.kubelet.containers.get(self.program)
        return next((c for c in self.spec["containers"] if c["name"] == name), self.spec["containers"][0])

    def materialize(self):
        """{container mount path: node path} for every volume the container mounts."""
        shutil.rmtree(self.folder, ignore_errors=True)
        os.makedirs(self.folder, mode=0o700)
        volumes = dict((v["name"], v) for v in self.spec.get("volumes", []))
        container = self.container
        paths = {SA_DIR: self.service_account()}
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            paths[mount["mountPath"].rstrip("/")] = self.volume(volume)
        return paths

    def service_account(self):
        folder = os.path.join(self.folder, "serviceaccount")
        name = self.spec.get("serviceAccountName") or "default"
        namespace = self.daemonset["metadata"]["namespace"]
        write(os.path.join(folder, "token"), self.kubelet.token(namespace, name), 0o600)
        write(os.path.join(folder, "ca.crt"), self.kubelet.ca, 0o644)
        write(os.path.join(folder, "namespace"), namespace)
        return folder

    def volume(self, volume):
        if "hostPath" in volume:
            path = self.kubelet.roots[self.host] + volume["hostPath"]["path"]
            if volume["hostPath"].get("type") == "FileOrCreate":
                if not os.path.exists(path):
                    write(path, b"")
            else:
                os.makedirs(path, exist_ok=True)
            return path
        folder = os.path.join(self.folder, "volumes", volume["name"])
        os.makedirs(folder, mode=0o700)
        namespace = self.daemonset["metadata"]["namespace"]
        if "configMap" in volume:
            data = self.kubelet.core.read_namespaced_config_map(volume["configMap"]["name"], namespace).data or {}
            for key, value in data.items():
                write(os.path.join(folder, key), value)
        elif "secret" in volume:
            data = self.kubelet.core.read_namespaced_secret(volume["secret"]["secretName"], namespace).data or {}
            for key, value in data.items():
                write(os.path.join(folder, key), base64.b64decode(value), 0o600)
        return folder

    def install_cni(self):
        """flannel's install-cni: `cp -f /etc/kube-flannel/cni-conf.json /etc/cni/net.d/10-flannel.conflist`."""
        name, key, target = FLANNEL_CONFIG
        namespace = self.daemonset["metadata"]["namespace"]
        data = self.kubelet.core.read_namespaced_config_map(name, namespace).data or {}
        write(self.kubelet.roots[self.host] + target, data[key])

    def argv(self):
        if self.program == "flannel-cni":
            self.install_cni()
            return ["ip", "netns", "exec", self.host, "sleep", "infinity"]
        paths = self.materialize()
        container = self.container
        # configMap files name container paths too (a kubeconfig's tokenFile and CA)
        for folder in paths.values():
            if folder.startswith(self.folder):
                for root, _, files in os.walk(folder):
                    for name in files:
                        path = os.path.join(root, name)
                        with open(path) as handle:
                            text = handle.read()
                        if rewrite(text, paths) != text:
                            write(path, rewrite(text, paths), os.stat(path).st_mode & 0o777)
        env = dict((e["name"], rewrite(self.env_value(e), paths)) for e in container.get("env", []))
        env["NODE_NAME"] = self.host
        args = [expand(rewrite(a, paths), env) for a in container.get("command", [])[1:] + container.get("args", [])]
        if self.program == "kube-proxy":
            args = self.kube_proxy_args(args, paths)
        if self.program == "flannel":
            args = args + self.flannel_args(paths)
        binary = os.path.abspath(os.path.join(K8S_BIN, BINARIES.get(self.program, self.program)))
        rt_tables = os.path.join(self.folder, "rt_tables")
        shutil.copyfile(RT_TABLES, rt_tables)
        return (["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                 'mount --bind "$1" %s && shift && exec ip netns exec "$@"' % RT_TABLES, "sh", rt_tables,
                 self.host, "env"] + ["%s=%s" % kv for kv in sorted(env.items())] + [binary] + args)

    def env_value(self, entry):
        """An env entry's value as the kubelet resolves it (fieldRef, configMapKeyRef)."""
        if "value" in entry:
            return entry["value"]
        source = entry.get("valueFrom", {})
        namespace = self.daemonset["metadata"]["namespace"]
        if "fieldRef" in source:
            return {"metadata.name": "%s-%s" % (self.daemonset["metadata"]["name"], self.host),
                    "metadata.namespace": namespace, "spec.nodeName": self.host}.get(source["fieldRef"]["fieldPath"], "")
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            return (self.kubelet.core.read_namespaced_config_map(ref["name"], namespace).data or {}).get(ref["key"], "")
        return ""

    def flannel_args(self, paths):
        """What flanneld would find at its default paths in the pod, made explicit because the
        lab's paths are per node: the in-cluster API (a kubeconfig with the pod's token), the
        subnet file under the node's /run/flannel, net-conf.json from the ConfigMap volume, and
        the node's underlay as --iface."""
        kubeconfig = os.path.join(self.folder, "kubeconfig")
        write(kubeconfig, json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "pod",
            "clusters": [{"name": "api", "cluster": {"server": self.kubelet.server,
                                                     "certificate-authority": paths[SA_DIR] + "/ca.crt"}}],
            "users": [{"name": "pod", "user": {"tokenFile": paths[SA_DIR] + "/token"}}],
            "contexts": [{"name": "pod", "context": {"cluster": "api", "user": "pod"}}]}), 0o600)
        return ["--kubeconfig-file=%s" % kubeconfig, "--iface=%s" % self.kubelet.interfaces[self.host],
                "--subnet-file=%s/subnet.env" % paths["/run/flannel"],
                "--net-config-path=%s/net-conf.json" % paths["/etc/kube-flannel"]]

    def kube_proxy_args(self, args, paths):
        """The DaemonSet's config file with what the pod's own environment gives: the API, the
        node name, and local-only health and metrics ports."""
        config_path = next((a.split("=", 1)[1] for a in args if a.startswith("--config=")), None)
        config = {}
        if config_path:
            with open(config_path) as handle:
                config = yaml.safe_load(handle) or {}
        config.setdefault("clientConnection", {})["kubeconfig"] = self.kubelet.kubeconfig
        config.update(hostnameOverride=self.host, healthzBindAddress="127.0.0.1:10256",
                      metricsBindAddress="127.0.0.1:10249")
        # Conntrack sizes are the machine's (global sysctls): leave them alone.
        config["conntrack"] = {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                               "tcpCloseWaitTimeout": "0s"}
        path = os.path.join(self.folder, "kube-proxy.conf")
        write(path, yaml.safe_dump(config))
        return [a for a in args if not a.startswith("--config=")] + ["--config=%s" % path]

    def start(self):
        argv = self.argv()
        log = open(os.path.join(self.kubelet.folder, "%s-%s.log" % (self.host, self.program)), "a")
        log.write("%s: start %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv)))
        log.flush()
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.monotonic()
        self.kubelet.save()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        self.kubelet.save()

    def ready(self):
        return self.proc is not None and self.proc.poll() is None and time.monotonic() - self.started > 1


def expand(text, env):
    """$(VAR) references in command and args, as the kubelet expands them from the env."""
    for name, value in env.items():
        text = text.replace("$(%s)" % name, value)
    return text


def rewrite(text, paths):
    for container_path, node_path in sorted(paths.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(container_path, node_path)
    return text


class Kubelet:
    def __init__(self, run_dir, cluster, kubeconfig, namespace, hosts, programs, flannel_namespace=None,
                 interfaces=None):
        from kubernetes import client, config
        self.run_dir, self.cluster, self.kubeconfig, self.namespace = run_dir, cluster, kubeconfig, namespace
        self.hosts = hosts
        self.programs = programs
        self.flannel_namespace = flannel_namespace or "kube-flannel"
        self.interfaces = interfaces or {}
        self.roots = dict((h, os.path.join(run_dir, h)) for h in hosts)
        self.folder = folder_of(run_dir, cluster)
        os.makedirs(self.folder, exist_ok=True)
        self.api = config.new_client_from_config(config_file=kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        with open(kubeconfig) as handle:
            cluster_entry = json.load(handle)["clusters"][0]["cluster"]
        self.ca = base64.b64decode(cluster_entry["certificate-authority-data"])
        self.server = cluster_entry["server"]  # relayed into every node namespace at the same address
        self.pods = {}  # (program, host) -> Pod
        self.containers = {}  # program -> the container of its DaemonSet that runs it

    def token(self, namespace, name):
        from kubernetes import client
        request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
            audiences=["https://kubernetes.default.svc"], expiration_seconds=86400))
        return self.core.create_namespaced_service_account_token(name, namespace, request).status.token

    def save(self):
        """The children's PIDs, for `tools/lab down` should this process die first."""
        pids = [p.proc.pid for p in self.pods.values() if p.proc and p.proc.poll() is None]
        write(os.path.join(self.folder, "pids.json"), json.dumps(pids))

    def daemonsets(self):
        """{program: its DaemonSet}: the first of the program's candidates that exists."""
        found = {}
        for program in self.programs:
            for namespace, name, container in PROGRAMS[program]:
                namespace = self.flannel_namespace if namespace == "flannel" else namespace or self.namespace
                try:
                    found[program] = self.api.sanitize_for_serialization(
                        self.apps.read_namespaced_daemon_set(name, namespace))
                except Exception as exc:  # 404: not there; anything else: try again next round
                    if getattr(exc, "status", None) != 404:
                        raise
                    continue
                self.containers[program] = container
                break
        return found

    def sync(self):
        wanted = self.daemonsets()
        for program, ds in list(wanted.items()):
            if ds["metadata"].get("deletionTimestamp"):  # foreground deletion: its pods go first
                for key in [k for k in self.pods if k[0] == program]:
                    print("%s: %s on %s stopped (DaemonSet deleting)" % (time.strftime("%H:%M:%S"), program, key[1]),
                          flush=True)
                    self.pods.pop(key).stop()
                self.release(program, ds)
                del wanted[program]
        for key in list(self.pods):
            pod = self.pods[key]
            if pod.program not in wanted or wanted[pod.program]["metadata"]["uid"] != pod.daemonset["metadata"]["uid"]:
                print("%s: %s on %s stopped (DaemonSet deleted)" % (time.strftime("%H:%M:%S"), pod.program, pod.host),
                      flush=True)
                pod.stop()
                del self.pods[key]
        for program, ds in sorted(wanted.items()):
            started = False
            for host in self.hosts:
                pod = self.pods.get((program, host))
                if pod is None:
                    # One new pod per sync (0.5 s apart): real kubelets never start a DaemonSet's
                    # pods in the same millisecond, and kube-router's gobgp, started so, once left
                    # two nodes' sessions in OpenConfirm for minutes (colliding connections).
                    if started:
                        continue
                    started = True
                    pod = self.pods[(program, host)] = Pod(self, program, host, ds)
                    self.launch(pod)
                elif pod.proc is None or pod.proc.poll() is not None:
                    if time.monotonic() - pod.started > min(30, 2 ** pod.restarts):
                        pod.restarts += 1
                        self.launch(pod)
            self.roll(program, ds)
            self.report(program, ds)

    def roll(self, program, ds):
        """A changed pod template: the DaemonSet controller's rolling update replaces the pods one
        node at a time (maxUnavailable), each next one once the new pod is ready."""
        if any((program, h) not in self.pods for h in self.hosts):
            return  # its pods are still starting
        pods = [self.pods[(program, h)] for h in self.hosts]
        outdated = [p for p in pods if template(p.daemonset) != template(ds)]
        if not outdated:
            return
        down = sum(1 for p in pods if not p.ready())
        if down >= max_unavailable(ds, len(pods)):
            return
        old = outdated[0]
        print("%s: %s on %s restarting (new template)" % (time.strftime("%H:%M:%S"), program, old.host), flush=True)
        old.stop()
        pod = self.pods[(program, old.host)] = Pod(self, program, old.host, ds)
        self.launch(pod)

    def launch(self, pod):
        try:
            pod.start()
            print("%s: %s on %s started (pid %d)" % (time.strftime("%H:%M:%S"), pod.program, pod.host, pod.proc.pid),
                  flush=True)
        except Exception as exc:  # e.g. its ServiceAccount or ConfigMap is not there yet
            pod.started = time.monotonic()
            print("%s: %s on %s cannot start: %s" % (time.strftime("%H:%M:%S"), pod.program, pod.host, exc),
                  flush=True)

    def release(self, program, ds):
        """What the garbage collector does once a foreground deletion's dependents are gone."""
        finalizers = [f for f in ds["metadata"].get("finalizers") or [] if f != "foregroundDeletion"]
        if finalizers != (ds["metadata"].get("finalizers") or []):
            self.apps.patch_namespaced_daemon_set(ds["metadata"]["name"], ds["metadata"]["namespace"],
                                                  {"metadata": {"finalizers": finalizers or None}})

    def report(self, program, ds):
        """The DaemonSet's status as the DaemonSet controller would write it from the pods."""
        pods = [self.pods.get((program, h)) for h in self.hosts]
        ready = sum(1 for p in pods if p and p.ready())
        updated = sum(1 for p in pods if p and template(p.daemonset) == template(ds))
        status = {"desiredNumberScheduled": len(self.hosts), "currentNumberScheduled": len(self.hosts),
                  "updatedNumberScheduled": updated, "numberAvailable": ready, "numberReady": ready,
                  "numberMisscheduled": 0, "numberUnavailable": len(self.hosts) - ready,
                  "observedGeneration": ds["metadata"].get("generation", 1)}
        if any(ds.get("status", {}).get(k) != v for k, v in status.items()):
            self.apps.patch_namespaced_daemon_set_status(ds["metadata"]["name"], ds["metadata"]["namespace"],
                                                         {"status": status})

    def stop_all(self, *_):
        """Every child at once (SIGTERM, then SIGKILL after 8 s), then exit."""
        STOPPING.append(True)
        running = [p.proc for p in self.pods.values() if p.proc and p.proc.poll() is None]
        for proc in running:
            os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 8
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.save()
        sys.exit(0)


def template(ds):
    return json.dumps(ds["spec"]["template"], sort_keys=True)


def max_unavailable(ds, count):
    """rollingUpdate.maxUnavailable as a number of pods (an int or a percentage; at least 1)."""
    value = ((ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", 1)
    if isinstance(value, str) and value.endswith("%"):
        return max(1, count * int(value[:-1]) // 100)
    return max(1, int(value))


def run(run_dir, cluster, kubeconfig, namespace, hosts, options):
    programs = options.get("run", "kube-proxy,kube-router").split(",")
    interfaces = dict(item.split("=", 1) for item in options.get("node-interfaces", "").split(",") if item)
    kubelet = Kubelet(run_dir, cluster, kubeconfig, namespace, hosts, programs, options.get("flannel-namespace"),
                      interfaces)
    signal.signal(signal.SIGTERM, kubelet.stop_all)
    print("kubelet stand-in for %s: %s" % (cluster, ", ".join(hosts)), flush=True)
    while not STOPPING:
        try:
            kubelet.sync()
        except Exception as exc:  # the API server is down (a test stops it): keep what runs
            print("%s: %s" % (time.strftime("%H:%M:%S"), exc), flush=True)
        time.sleep(0.5)


if __name__ == "__main__":
    # --folder= names the process as ours (tools/lab down checks it); --key=value are options.
    OPTIONS = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
    ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
    run(ARGS[0], ARGS[1], ARGS[2], ARGS[3], ARGS[4:], OPTIONS)
