"""The shortened soak inside ``make test``: 200 images from four clients while the worker is
killed, Redis restarted, and MinIO, Milvus and the catalog each stopped for seconds. Every
accepted image must end ``done`` or ``duplicate``, once in the index and once in ``originals/``,
with nothing left in ``staging/`` and nothing for ``admin verify`` to report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak.plan import SHORT
from tests.soak.soak import run_soak
from tests.support.figures import Figures
from tests.support.processes import ROOT

# Its servers are private, not the `servers` fixture the root conftest marks by: say it here.
# About four minutes on an idle machine; the bound leaves room for a slow Milvus restart.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def test_nothing_accepted_is_lost_stuck_or_doubled_under_faults(
    tmp_path: Path, figures: Figures
) -> None:
    result = run_soak(SHORT, tmp_path, ROOT / "artifacts" / "logs" / "soak")
    figures.record(f"fault-injection soak ({result.seconds:.0f}s)", result.table)
    assert result.problems == [], "\n".join(result.problems[:50])
