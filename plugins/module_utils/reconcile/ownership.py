# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ownership policy: whatever changes or removes what it finds (kernel objects, another
program's leftovers, FRR's configuration, Kubernetes objects) asks its owner `owns(kind, item)`
first, and leaves everything else byte-identical. Each owner answers in its own implementation:

- reconcile.kinds.Ownership: neighbors and FDB entries on our device, routes and nexthops by
  route protocol (felix's route ownership policy);
- leftover.owners.Owner: another program's chains, ipsets, dummy link and nftables tables, by
  that program's own cleanup list (its routes are read by their protocol);
- frr.FrrOwnership: BGP neighbors by description, prefix-lists and route-maps by name;
- plugin_utils cluster/owners.py: Kubernetes objects by label, their fields by field manager.

It lives in the reconcile package because the boot-time core carries that package alone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Policy:
    """An owner. KINDS names what it answers for; `owns_<kind>(item)` answers for each."""

    __slots__ = ()
    KINDS = ()

    def owns(self, kind, item):
        answer = getattr(self, "owns_" + kind, None) if kind in self.KINDS else None
        if answer is None:
            raise ValueError("%s answers for %s, not %s" % (type(self).__name__, ", ".join(self.KINDS), kind))
        return bool(answer(item))
