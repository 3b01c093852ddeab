import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="lab tests need root (network namespaces)")
        for item in items:
            item.add_marker(skip)
