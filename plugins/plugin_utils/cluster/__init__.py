# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster-side engine: one client per cluster (api), the object rules (objects), one verb
per step kind (verbs), and the run over a facet's ordered steps (engine)."""
