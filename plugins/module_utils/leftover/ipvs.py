# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVS: the virtual services kube-proxy would have made (on kube-ipvs0, in a service CIDR, or a
NodePort on a node address), read with ipvsadm -S -n and deleted in one ipvsadm -R batch."""

from __future__ import absolute_import, division, print_function

import ipaddress

from ansible_collections.nodenet.fabric.plugins.module_utils.leftover.owners import KUBE_PROXY

__metaclass__ = type


IPVS_FLAGS = {"-t": "tcp", "--tcp-service": "tcp", "-u": "udp", "--udp-service": "udp", "--sctp-service": "sctp",
              "-f": "fwmark", "--fwmark-service": "fwmark"}


def parse_ipvs_save(text):
    """[{key, proto, address, port}] of the virtual services in `ipvsadm -S -n` output; key is
    the service as ipvsadm takes it (`-t 10.96.0.1:443`)."""
    services = []
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 3 or tokens[0] != "-A" or tokens[1] not in IPVS_FLAGS:
            continue
        proto, spec = IPVS_FLAGS[tokens[1]], tokens[2]
        service = {"key": "%s %s" % (tokens[1], spec), "proto": proto, "address": None, "port": None}
        if proto != "fwmark":
            host, _sep, port = spec.rpartition(":")
            service["address"], service["port"] = host.strip("[]"), int(port)
        services.append(service)
    return services


def node_addresses(links):
    """The addresses kube-proxy puts NodePorts on: every one not on kube-ipvs0, without loopback
    and IPv6 link-local (GetAllLocalAddressesExcept with isValidForSet)."""
    found = set()
    for name, link in links.items():
        if name == KUBE_PROXY.dummy:
            continue
        for text in link["addresses"]:
            ip = ipaddress.ip_address(u"%s" % text)
            if not ip.is_loopback and not (ip.version == 6 and ip.is_link_local):
                found.add(ip)
    return found


def ipvs_reason(service, bound, nodes, nodeport_range, cidrs):
    """Why a virtual service is one kube-proxy would have made, or None."""
    if service["proto"] == "fwmark":
        return None  # kube-proxy makes none
    ip = ipaddress.ip_address(u"%s" % service["address"])
    if ip in bound:
        return "bound to %s" % KUBE_PROXY.dummy
    for cidr in cidrs:
        if ip.version == cidr.version and ip in cidr:
            return "in service CIDR %s" % cidr
    if nodeport_range and ip in nodes and nodeport_range[0] <= service["port"] <= nodeport_range[1]:
        return "NodePort on a node address"
    return None


def plan_ipvs(services, links, nodeport_range, cidrs):
    """(keys to delete, kept count): the virtual services kube-proxy would have made."""
    bound = set(ipaddress.ip_address(u"%s" % a) for a in (links.get(KUBE_PROXY.dummy) or {}).get("addresses", []))
    nodes = node_addresses(links)
    remove = [s["key"] for s in services if ipvs_reason(s, bound, nodes, nodeport_range, cidrs)]
    return remove, len(services) - len(remove)


def ipvs_batch(keys):
    return "".join("-D %s\n" % key for key in keys)
