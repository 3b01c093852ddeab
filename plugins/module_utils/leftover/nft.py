# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nftables: the owner's tables, from nft list tables, deleted in one nft -f batch."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def parse_nft_tables(text):
    """["FAMILY NAME"] from `nft list tables`."""
    return [" ".join(line.split()[1:3]) for line in text.splitlines() if line.split()[:1] == ["table"]]


def nft_batch(tables):
    return "".join("delete table %s\n" % table for table in tables)
