# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node side's step engine: a facet's ordered node steps (module runs on one host, with
gates shared with its cluster order), run by the node_steps action."""
