"""The cluster engine's verbs and run, against an API server in memory (fake_cluster): what each
verb reads, decides and changes, check mode, diffs without a Secret's values, failures naming
cluster and object, render-only clusters, and the orders' gates. The lab's kube-apiserver tests
(tests/integration) judge the same engine against the real server."""
import pytest
import yaml
from fake_cluster import FakeApi

from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster import engine, objects, steps, verbs

CM = {"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "a", "namespace": "kube-system", "labels": {"app.kubernetes.io/managed-by": "nodenet.fabric"}},
      "data": {"k": "1"}}
OURS = {"api_version": "v1", "kind": "ConfigMap", "label_selector": "app.kubernetes.io/managed-by=nodenet.fabric"}


def item(cluster="east", api=True, **keys):
    return dict({"cluster": cluster, "kubeconfig": "/k/%s" % cluster, "context": None, "api": api}, **keys)


def run(order, fake, check_mode=False, **keys):
    fakes = fake if isinstance(fake, dict) else {"/k/east": fake}
    return engine.run_steps(order, check_mode=check_mode, api=lambda kubeconfig, context: fakes[kubeconfig],
                            sleep=0, **keys)


def named(obj, name):
    return dict(obj, metadata=dict(obj["metadata"], name=name))


def test_apply_creates_then_changes_nothing_and_check_mode_only_reports():
    fake = FakeApi()
    order = steps.apply([item(manifests=[CM])], "config")
    assert run(order, fake, check_mode=True).result()["changes"] == ["cluster east, config: created ConfigMap kube-system/a"]
    assert fake.objects == {}
    first = run(order, fake)
    assert first.changed and fake.objects[("ConfigMap", "kube-system", "a")]["data"] == {"k": "1"}
    again = run(order, fake)
    assert not again.changed and again.rows == []
    assert not run(order, fake, check_mode=True).changed


def test_an_update_is_reported_with_its_diff_and_a_secret_never_shows_its_value():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kube-system"},
              "stringData": {"peer": "hunter2-secret"}}
    fake = FakeApi()
    run(steps.apply([item(manifests=[CM, secret])], "x"), fake)
    changed = run(steps.apply([item(manifests=[dict(CM, data={"k": "2"}),
                                               dict(secret, stringData={"peer": "other-secret"})])], "x"), fake)
    assert changed.rows == ["cluster east, x: updated ConfigMap kube-system/a", "cluster east, x: updated Secret kube-system/s"]
    (cm_diff, secret_diff) = changed.diffs
    assert (cm_diff["before"]["data"], cm_diff["after"]["data"]) == ({"k": "1"}, {"k": "2"})
    assert "managedFields" not in cm_diff["after"]["metadata"] and "resourceVersion" not in cm_diff["after"]["metadata"]
    assert "secret" not in repr(secret_diff).replace("Secret", "")
    assert (secret_diff["before"]["stringData"], secret_diff["after"]["stringData"]) == (
        {"peer": objects.REDACTED}, {"peer": objects.REDACTED_CHANGED})


def test_prune_deletes_only_ours_that_the_step_no_longer_names():
    theirs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": "kube-system"}}
    fake = FakeApi([theirs])
    run(steps.apply([item(manifests=[CM, named(CM, "b")], prune=OURS)], "pools"), fake)
    result = run(steps.apply([item(manifests=[CM], prune=OURS)], "pools"), fake)
    assert result.rows == ["cluster east, pools: deleted ConfigMap kube-system/b"]
    assert sorted(k[2] for k in fake.objects) == ["a", "theirs"]
    assert not run(steps.apply([item(manifests=[CM], prune=OURS)], "pools"), fake).changed


def test_prune_reads_the_label_again_and_never_deletes_what_a_selector_let_through_unlabelled():
    theirs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": "kube-system"}}

    class Loose(FakeApi):  # a server whose list ignores the selector
        def list(self, api_version, kind, namespace=None, label_selector=None):
            return super().list(api_version, kind, namespace)
    fake = Loose([theirs])
    result = run(steps.apply([item(manifests=[CM], prune=OURS)], "pools"), fake)
    assert sorted(k[2] for k in fake.objects) == ["a", "theirs"] and "deleted" not in " ".join(result.rows)


def test_a_field_another_manager_owns_is_a_conflict_unless_forced_and_the_failure_names_cluster_and_object():
    fake = FakeApi()
    run(steps.apply([item(manifests=[CM])], "x", field_manager="someone-else"), fake)
    failed = run(steps.apply([item(manifests=[dict(CM, data={"k": "mine"})])], "x"), fake).result()
    assert failed["failed"] and failed["msg"].startswith("cluster east, ConfigMap kube-system/a: Apply failed with 1 conflict")
    assert not failed["changed"]
    forced = run(steps.apply([item(manifests=[dict(CM, data={"k": "mine"})])], "x", force=True), fake)
    assert forced.changed and fake.objects[("ConfigMap", "kube-system", "a")]["data"] == {"k": "mine"}


def test_after_a_failure_the_same_step_still_runs_on_the_other_clusters_and_nothing_after_it():
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "kube-system"},
           "data": {"k": "token: abcdef0123456789"}}

    class Refusing(FakeApi):
        def apply(self, obj, *args, **kwargs):
            raise verbs.ApiError(422, "invalid: Bearer abcdef0123456789 token: abcdef0123456789")

    east, west = Refusing(), FakeApi()
    order = (steps.apply([item(manifests=[bad]), item("west", manifests=[CM])], "first")
             + steps.apply([item("west", manifests=[named(CM, "later")])], "second"))
    result = run(order, {"/k/east": east, "/k/west": west}).result()
    assert result["failed"] and result["msg"].splitlines() == [
        "cluster east, ConfigMap kube-system/a: invalid: Bearer <redacted> token: <redacted>"]
    assert ("ConfigMap", "kube-system", "a") in west.objects  # the same step, on the other cluster
    assert ("ConfigMap", "kube-system", "later") not in west.objects  # nothing after the failed step
    assert result["changed"]  # the west cluster changed before the run failed


def test_a_render_only_cluster_gets_its_file_and_no_call(tmp_path):
    fake = FakeApi()
    result = run(steps.apply([item(api=False, manifests=[CM])], "x", file="x.yml"), fake, folder=str(tmp_path))
    assert result.files == [str(tmp_path / "east" / "x.yml")] and fake.calls == []
    assert yaml.safe_load((tmp_path / "east" / "x.yml").read_text()) == CM
    assert not run(steps.apply([item(api=False, manifests=[CM])], "x", file="x.yml"), fake, folder=str(tmp_path)).changed
    assert run([steps.step(item(api=False), "delete", "y", objects=[CM])], fake).rows == []


DS = {"apiVersion": "apps/v1", "kind": "DaemonSet",
      "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"},
                   "uid": "8d1c", "creationTimestamp": "2025-01-01T00:00:00Z", "ownerReferences": [{"name": "x"}]},
      "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}, "template": {"spec": {"containers": []}}}}
DS_REF = objects.ref("apps/v1", "DaemonSet", "kube-proxy", "kube-system")
COPY = ("ConfigMap", "kube-system", "kube-proxy-kept")
LABELS = {"app.kubernetes.io/managed-by": "nodenet.fabric"}


def keep_step():
    return steps.step(item(), "keep", "kept", objects=[DS_REF], copy="kube-proxy-kept", labels=LABELS)


def restore_step():
    return steps.step(item(), "restore", "restored", objects=[DS_REF], copy="kube-proxy-kept")


def test_a_copy_keeps_the_object_without_the_servers_fields_and_follows_it_while_it_runs():
    fake = FakeApi([DS])
    assert run([keep_step()], fake).rows == ["cluster east, kept: created ConfigMap kube-system/kube-proxy-kept"]
    kept = fake.objects[COPY]
    assert kept["metadata"]["labels"] == LABELS and list(kept["data"]) == ["daemonset.yaml"]
    copy_ = yaml.safe_load(kept["data"]["daemonset.yaml"])
    assert copy_["metadata"] == {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}}
    assert "status" not in copy_ and copy_["spec"] == DS["spec"]
    assert not run([keep_step()], fake).changed
    fake.objects[("DaemonSet", "kube-system", "kube-proxy")]["spec"]["template"]["spec"]["hostNetwork"] = True
    assert run([keep_step()], fake).changed  # the copy follows the running object


def test_an_object_gone_or_going_keeps_the_copy_there_is_and_one_going_without_a_copy_is_kept_now():
    fake = FakeApi([DS])
    run([keep_step()], fake)
    kept = fake.objects[COPY]["data"]
    fake.objects[("DaemonSet", "kube-system", "kube-proxy")]["metadata"]["deletionTimestamp"] = "now"
    fake.objects[("DaemonSet", "kube-system", "kube-proxy")]["spec"]["template"]["spec"]["hostNetwork"] = True
    assert not run([keep_step()], fake).changed and fake.objects[COPY]["data"] == kept
    del fake.objects[("DaemonSet", "kube-system", "kube-proxy")]
    assert not run([keep_step()], fake).changed and fake.objects[COPY]["data"] == kept
    going = FakeApi([dict(DS, metadata=dict(DS["metadata"], deletionTimestamp="now", finalizers=["foregroundDeletion"]))])
    assert run([keep_step()], going).changed
    meta = yaml.safe_load(going.objects[COPY]["data"]["daemonset.yaml"])["metadata"]
    assert "deletionTimestamp" not in meta and "finalizers" not in meta


def test_a_restore_creates_only_what_is_not_there_and_waits_out_one_being_deleted():
    fake = FakeApi([DS])
    run([keep_step()], fake)
    assert not run([restore_step()], fake).changed  # there
    del fake.objects[("DaemonSet", "kube-system", "kube-proxy")]
    assert run([restore_step()], fake, check_mode=True).changed and ("DaemonSet", "kube-system", "kube-proxy") not in fake.objects
    assert run([restore_step()], fake).rows == ["cluster east, restored: created DaemonSet kube-system/kube-proxy"]
    assert fake.objects[("DaemonSet", "kube-system", "kube-proxy")]["spec"] == DS["spec"]
    going = FakeApi([DS], terminating_reads=2)
    run([keep_step()], going)
    going.delete(DS_REF)
    assert run([restore_step()], going).changed
    assert "deletionTimestamp" not in going.objects[("DaemonSet", "kube-system", "kube-proxy")]["metadata"]
    assert not run([restore_step()], FakeApi()).changed  # never kept: nothing to bring back


def test_an_edit_sets_one_value_in_the_yaml_a_key_holds_keeping_every_other_field():
    config = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
              "apiServer": {"certSANs": ["172.26.6.1"]}}
    kubeadm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
               "data": {"ClusterConfiguration": yaml.safe_dump(config), "ClusterStatus": "x: 1\n"}}
    fake = FakeApi([kubeadm])
    ref = objects.ref("v1", "ConfigMap", "kubeadm-config", "kube-system")

    def edit(value):
        return [steps.step(item(), "edit", "kubeadm", objects=[ref], key="ClusterConfiguration", path="proxy.disabled",
                           value=value, force=True)]

    assert run(edit(True), fake).changed
    data = fake.objects[("ConfigMap", "kube-system", "kubeadm-config")]["data"]
    assert yaml.safe_load(data["ClusterConfiguration"]) == dict(config, proxy={"disabled": True})
    assert data["ClusterStatus"] == "x: 1\n"
    assert not run(edit(True), fake).changed
    assert run(edit(False), fake).changed
    assert yaml.safe_load(fake.objects[("ConfigMap", "kube-system", "kubeadm-config")]["data"]["ClusterConfiguration"])[
        "proxy"] == {"disabled": False}
    assert not run(edit(True), FakeApi()).changed  # no kubeadm-config: nothing to tell


def service(name, annotations=None):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default",
                                                                "annotations": annotations or {}}}


def test_a_release_gives_back_only_what_our_manager_applied_under_the_prefix_on_objects_no_longer_named():
    fake = FakeApi([service("nginx"), service("web"), service("theirs"), service("other")])
    run(steps.apply([item(manifests=[service("nginx", {"kube-router.io/service.dsr": "tunnel"}),
                                     service("web", {"kube-router.io/service.dsr": "tunnel"}),
                                     service("other", {"example.com/x": "1"})])], "annotate"), fake)
    run(steps.apply([item(manifests=[service("theirs", {"kube-router.io/service.dsr": "tunnel"})])], "theirs",
                    field_manager="kubectl"), fake)
    release = [steps.step(item(), "release", "released", api_version="v1", kind="Service", prefix="kube-router.io/",
                          objects=[service("nginx")])]
    assert run(release, fake).rows == ["cluster east, released: updated Service default/web"]
    notes = dict((k[2], o["metadata"].get("annotations", {})) for k, o in fake.objects.items())
    assert notes["web"] == {} and notes["nginx"] == {"kube-router.io/service.dsr": "tunnel"}
    assert notes["theirs"] == {"kube-router.io/service.dsr": "tunnel"} and notes["other"] == {"example.com/x": "1"}
    assert not run(release, fake).changed


def test_a_wait_names_what_it_waited_for_and_if_present_skips_what_is_not_there():
    rolling = FakeApi([DS], ready=False)
    result = run([steps.step(item(), "wait", "ready", objects=[DS_REF], until="ready")], rolling, timeout=0.01).result()
    assert result["failed"] and result["msg"] == "cluster east, DaemonSet kube-system/kube-proxy: still not ready after 0.01 s"
    assert not run([steps.step(item(), "wait", "ready", objects=[DS_REF], until="ready")], FakeApi([DS])).failures
    assert not run([steps.step(item(), "wait", "ready", objects=[DS_REF], until="ready", if_present=True)],
                   FakeApi()).failures
    assert run([steps.step(item(), "wait", "ready", objects=[DS_REF], until="ready")], rolling, check_mode=True,
               timeout=0.01).failures == []  # check mode awaits nothing


def test_a_delete_waits_until_the_object_is_gone():
    fake = FakeApi([DS], terminating_reads=3)
    result = run([steps.step(item(), "delete", "gone", objects=[DS_REF], propagation="Foreground", wait=True)], fake)
    assert result.rows == ["cluster east, gone: deleted DaemonSet kube-system/kube-proxy"] and fake.objects == {}
    assert ("delete", ("DaemonSet", "kube-system", "kube-proxy"), "Foreground") in fake.calls
    assert not run([steps.step(item(), "delete", "gone", objects=[DS_REF], wait=True)], fake).changed


def decide(step, found, changed):
    return "first" in changed or found["ds"]["metadata"]["labels"].get("restart") == "yes"


def test_a_step_with_only_if_runs_when_its_facets_function_says_so(monkeypatch):
    import sys
    import types
    module = types.ModuleType("fake_facet")
    module.decide = decide
    monkeypatch.setitem(sys.modules, steps.PLUGIN_UTILS + "fake_facet", module)
    read = {"ds": {"api_version": "apps/v1", "kind": "DaemonSet", "namespace": "kube-system", "name": "kube-proxy"}}
    restart = [steps.step(item(), "restart", "restart", objects=[DS_REF], only_if="fake_facet.decide", read=read)]
    fake = FakeApi([DS])
    assert not run(restart, fake).changed
    first = steps.apply([item(manifests=[CM])], "first")
    result = run(first + restart, fake)
    assert result.rows[-1] == "cluster east, restart: restarted DaemonSet kube-system/kube-proxy"
    stamp = fake.objects[("DaemonSet", "kube-system", "kube-proxy")]["spec"]["template"]["metadata"]["annotations"]
    assert list(stamp) == ["kubectl.kubernetes.io/restartedAt"]
    missing = [steps.step(item(), "restart", "r", objects=[DS_REF], only_if="fake_facet.nothing", read=read)]
    assert "no such function" in run(missing, fake).result()["msg"]


def test_a_check_returns_its_facets_problems_and_changes_nothing():
    fake = FakeApi([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}])
    check = [steps.step(item(), "check", "nodes", check="cluster.checks.missing",
                        read={"nodes": {"api_version": "v1", "kind": "Node"}}, expect={"nodes": ["n1", "n2"]},
                        hint=" (host names are Node names)")]
    result = run(check, fake).result()
    assert result["problems"] == ["cluster east: no Node named n2 in its API (host names are Node names)"]
    assert not result["changed"] and [c[0] for c in fake.calls] == ["list"]


def test_an_order_is_cut_at_its_gates():
    order = [{"action": "apply", "name": "a"}, steps.gate("one"), {"action": "apply", "name": "b"},
             {"action": "apply", "name": "c"}, steps.gate("two"), {"action": "wait", "name": "d"}]
    assert [s["name"] for s in steps.stage(order)] == ["a"]
    assert [s["name"] for s in steps.stage(order, "one")] == ["b", "c"]
    assert [s["name"] for s in steps.stage(order, "two")] == ["d"]
    assert steps.gates(order) == ["one", "two"]
    with pytest.raises(ValueError, match="no gate 'three'"):
        steps.stage(order, "three")


def test_an_api_that_cannot_be_reached_is_one_line_for_its_cluster():
    class Down(FakeApi):
        def get(self, ref):
            raise verbs.ApiError(0, "no answer from https://127.0.0.1:1: Connection refused")

    result = run(steps.apply([item(manifests=[CM])], "x"), Down()).result()
    assert result["msg"] == "cluster east, ConfigMap kube-system/a: no answer from https://127.0.0.1:1: Connection refused"


def test_the_kubeconfig_is_the_steps_else_k8s_auth_kubeconfig_as_kubernetes_core_and_awx_give_it(monkeypatch):
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster.api import Api
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    assert Api(None, "east").kubeconfig_file() is None  # the client's own default (KUBECONFIG, ~/.kube/config)
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", "/run/awx/kubeconfig")
    assert Api(None, "east").kubeconfig_file() == "/run/awx/kubeconfig"
    assert Api("/k/east", None).kubeconfig_file() == "/k/east"


def test_a_kind_the_api_does_not_serve_is_an_error_and_an_absent_object_is_none():
    from ansible_collections.nodenet.fabric.plugins.plugin_utils.cluster import api as cluster_api

    class Discovery(cluster_api.Api):
        """Discovery serves ConfigMaps in v1 and no calico group; a GET of an object is a 404."""

        def request(self, method, path, body=None, query=None, content_type=None):
            if path == "/api/v1":
                return {"resources": [{"kind": "ConfigMap", "name": "configmaps", "namespaced": True}]}
            raise cluster_api.ApiError(404, "not found (NotFound)")

    client = Discovery()
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "kube-system"}}
    assert client.get(ref) is None and client.delete(ref) is False
    for missing in ({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "x"}},
                    {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "x"}}):
        with pytest.raises(cluster_api.NotServed) as found:
            client.get(missing)
        assert "does not serve" in found.value.message and found.value.status == 404
        with pytest.raises(cluster_api.NotServed):
            client.delete(missing)
