# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route protocol numbers of the collection: ownership is by protocol (as felix does).

One number per role, so one role's stale-route sweep never removes another's routes.
Clear of kernel (2), boot (3), static (4), zebra (11), bird (12), felix (80) and
FRR (186-192), and of every name in Debian's /etc/iproute2/rt_protos.
"""

ROUTE_PROTOCOLS = {"nodenet_mesh": 201, "nodenet_hostgw": 202, "nodenet_bgp": 203}
