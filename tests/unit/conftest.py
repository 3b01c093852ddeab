import pytest
from helpers import inventory_of


@pytest.fixture(scope="session")
def seed_inventory():
    return inventory_of("inventories/seed")
