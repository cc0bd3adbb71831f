"""Session fixtures for every test suite: the real servers and per-suite stacks."""

# Import the real packages before collection: pytest's importlib mode would otherwise make a
# namespace module for the project directory (``ingestapi/``) when it imports ``ingestapi/tests``.
import ingestapi  # noqa: F401
import ingestworker  # noqa: F401
import searchapi  # noqa: F401
import shared  # noqa: F401

pytest_plugins = ["tests.support.servers", "tests.support.stack"]
