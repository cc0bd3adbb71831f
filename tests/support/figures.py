"""Figures that tests measure (precision tables, group counts) printed at the end of the run.

pytest captures a passing test's output, so a table printed inside a test is lost. A test calls
``figures.record(title, lines)`` (the ``figures`` fixture) and the table shows in the terminal
summary of ``make test``, whether the test passed or failed.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest


class Figures:
    def __init__(self) -> None:
        self.tables: list[tuple[str, list[str]]] = []

    def record(self, title: str, lines: Iterable[str]) -> None:
        self.tables.append((title, list(lines)))


_FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for title, lines in _FIGURES.tables:
        terminalreporter.section(title, sep="-")
        for line in lines:
            terminalreporter.write_line(line)
