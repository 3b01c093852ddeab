"""make bench-fleet's verdicts: a ratio over its target is a FAIL, a no-op that changed something
or a pod that did not answer too; every size gets its own table."""
import importlib.util
import os
import time

from helpers import ROOT


def bench():
    spec = importlib.util.spec_from_file_location("bench_fleet", str(ROOT / "tools" / "bench_fleet.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(nodes, converge=30.0, noop=10.0, changed=0, pings=(180, 180)):
    found = {"nodes": nodes, "floor_median": 8.0, "lab_up": 1.0, "pings": pings,
             "static_noop_changed": changed, "plugin_noop_changed": 0}
    for key in ("static", "plugin"):
        found.update({key + "_converge": converge, key + "_noop": noop,
                      key + "_converge_runs": (3.0, 0), key + "_noop_runs": (1.0, 0)})
    return found


def test_targets_pass_and_fail_on_the_measured_ratios():
    module = bench()
    _text, verdicts = module.report([row(60)], time.time(), os.getloadavg())
    assert all(v.startswith("PASS") for v in verdicts) and len(verdicts) == 6
    _text, verdicts = module.report([row(60, converge=40.1, noop=24.1, changed=1, pings=(179, 180))],
                                    time.time(), os.getloadavg())
    assert [v.split()[0] for v in verdicts] == ["FAIL"] * 6, verdicts


def test_each_size_has_its_table_and_the_growth_is_reported():
    text, _verdicts = bench().report([row(60), row(150, converge=75.0)], time.time(), os.getloadavg())
    assert text.count("| nodes | floor s |") == 2
    assert "static_converge: 30.0 s -> 75.0 s (2.50x)" in text
