# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One cluster's API over REST: the kubeconfig loaded by the kubernetes client (its auth, TLS,
exec plugins; the file and context as kubernetes.core finds them), resources found by discovering only the group versions the steps name, and the
calls the verbs need (get, list, server-side apply, create, merge patch, delete)."""

from __future__ import annotations

import json
import os
from urllib.parse import quote, urlencode

REQUEST_TIMEOUT = 30


class ApiError(Exception):
    """An answer the verbs cannot go on with; `status` is the HTTP status (0: no answer)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class NotServed(ApiError):
    """The API does not serve a group version or kind (its CRD is not installed): a 404 that is
    not an absent object."""

    def __init__(self, what):
        super().__init__(404, "the API does not serve %s (is its CRD installed?)" % what)


def absent(exc):
    """A 404 for an object that is not there (not a kind the API does not serve)."""
    return exc.status == 404 and not isinstance(exc, NotServed)


def status_message(status, body):
    try:
        answer = json.loads(body)
        return "%s (%s)" % (answer.get("message") or answer.get("reason"), answer.get("reason") or status)
    except ValueError:
        return "HTTP %s: %s" % (status, " ".join(str(body)[:200].split()))


class Api:
    """The client of one cluster; `connect` loads the kubeconfig lazily, at the first call."""

    def __init__(self, kubeconfig=None, context=None):
        self.kubeconfig = kubeconfig
        self.context = context
        self._client = None
        self._resources = {}

    def kubeconfig_file(self):
        """The step's kubeconfig, else K8S_AUTH_KUBECONFIG (as kubernetes.core and AWX's
        credential give it), else the client's default (KUBECONFIG, ~/.kube/config)."""
        return self.kubeconfig or os.environ.get("K8S_AUTH_KUBECONFIG") or None

    def connect(self):
        if self._client is None:
            try:
                from kubernetes import config
            except ImportError as exc:
                raise ApiError(0, "the kubernetes Python client is missing on the controller (pip install kubernetes): %s" % exc)
            try:
                self._client = config.new_client_from_config(config_file=self.kubeconfig_file(),
                                                             context=self.context or os.environ.get("K8S_AUTH_CONTEXT"))
            except Exception as exc:  # the loader raises its own types and plain ones
                raise ApiError(0, "its kubeconfig could not be loaded: %s" % exc)
        return self._client

    def request(self, method, path, body=None, query=None, content_type="application/json"):
        client = self.connect()
        cfg = client.configuration
        headers = {"Accept": "application/json"}
        for auth in cfg.auth_settings().values():
            if auth.get("in") == "header" and auth.get("value"):
                headers[auth["key"]] = auth["value"]
        if body is not None:
            headers["Content-Type"] = content_type  # the client serialises the body as JSON
        url = cfg.host + path + ("?" + urlencode(query) if query else "")
        try:
            response = client.call_api(method, url, header_params=headers, body=body,
                                       _request_timeout=REQUEST_TIMEOUT)
            data = response.read()
        except Exception as exc:  # urllib3 and the client's own errors: no answer from the server
            status = getattr(exc, "status", None)
            if status:
                raise ApiError(status, status_message(status, getattr(exc, "body", b"") or b""))
            raise ApiError(0, "no answer from %s: %s" % (cfg.host, getattr(exc, "reason", None) or exc))
        if response.status >= 300:
            raise ApiError(response.status, status_message(response.status, data))
        return json.loads(data) if data else {}

    def resource(self, api_version, kind):
        """(plural, namespaced) of a kind, from its group version's discovery (once per run)."""
        if api_version not in self._resources:
            path = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            try:
                found = self.request("GET", path)
            except ApiError as exc:
                if exc.status == 404:
                    raise NotServed(api_version)
                raise
            self._resources[api_version] = dict((r["kind"], (r["name"], r["namespaced"]))
                                                for r in found.get("resources", []) if "/" not in r["name"])
        kinds = self._resources[api_version]
        if kind not in kinds:
            raise NotServed("%s %s" % (api_version, kind))
        return kinds[kind]

    def path(self, api_version, kind, namespace=None, name=None):
        plural, namespaced = self.resource(api_version, kind)
        base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
        if namespaced and namespace:
            base += "/namespaces/" + quote(namespace, safe="")
        base += "/" + plural
        return base + ("/" + quote(name, safe="") if name else "")

    def get(self, ref):
        """The object, or None when it is not there."""
        try:
            return self.request("GET", self.path(ref["apiVersion"], ref["kind"], namespace_of(ref), name_of(ref)))
        except ApiError as exc:
            if absent(exc):
                return None
            raise

    def list(self, api_version, kind, namespace=None, label_selector=None):
        query = {"labelSelector": label_selector} if label_selector else None
        return self.request("GET", self.path(api_version, kind, namespace), query=query).get("items", [])

    def apply(self, obj, field_manager, force=False, dry_run=False):
        query = {"fieldManager": field_manager, "force": "true" if force else "false"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request("PATCH", self.path(obj["apiVersion"], obj["kind"], namespace_of(obj), name_of(obj)),
                            body=obj, query=query, content_type="application/apply-patch+yaml")

    def create(self, obj, dry_run=False):
        return self.request("POST", self.path(obj["apiVersion"], obj["kind"], namespace_of(obj)), body=obj,
                            query={"dryRun": "All"} if dry_run else None)

    def patch(self, ref, patch, dry_run=False):
        return self.request("PATCH", self.path(ref["apiVersion"], ref["kind"], namespace_of(ref), name_of(ref)),
                            body=patch, query={"dryRun": "All"} if dry_run else None,
                            content_type="application/merge-patch+json")

    def delete(self, ref, propagation=None, dry_run=False):
        """Delete the object; False when it was not there."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation:
            body["propagationPolicy"] = propagation
        try:
            self.request("DELETE", self.path(ref["apiVersion"], ref["kind"], namespace_of(ref), name_of(ref)),
                         body=body, query={"dryRun": "All"} if dry_run else None)
        except ApiError as exc:
            if absent(exc):
                return False
            raise
        return True


def name_of(obj):
    return obj["metadata"]["name"]


def namespace_of(obj):
    return obj["metadata"].get("namespace")
