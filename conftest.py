"""Session fixtures for every test suite: the real servers and per-suite stacks.

Two tiers: a test that needs real servers (it uses the ``servers`` or ``postgres`` fixture,
directly or through a stack) is marked ``integration`` here, automatically; everything else is the
fast tier, which ``make test-fast`` runs with no servers at all (``-m "not integration"``).
"""

import pytest

# Import the real packages before collection: pytest's importlib mode would otherwise make a
# namespace module for the project directory (``ingestapi/``) when it imports ``ingestapi/tests``.
import ingestapi  # noqa: F401
import ingestworker  # noqa: F401
import searchapi  # noqa: F401
import shared  # noqa: F401

pytest_plugins = [
    "tests.support.servers",
    "tests.support.stack",
    "tests.support.postgres",
    "tests.support.catalogs",
    "tests.support.figures",
]
SERVER_FIXTURES = {"servers", "postgres"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
