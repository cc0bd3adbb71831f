"""The README is the front door: its configuration table names every setting the services read."""

from pathlib import Path

from ingestapi.config import IngestSettings
from ingestworker.config import WorkerSettings
from searchapi.config import SearchSettings
from tests.compose.checks import env_names

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_documents_every_setting() -> None:
    names = set().union(*(env_names(s) for s in (IngestSettings, WorkerSettings, SearchSettings)))
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"settings missing from README's configuration table: {missing}"
