"""The README is the front door: its configuration table names every setting the services read,
and its table of routes and roles is what the routes declare."""

from pathlib import Path

from ingestapi.config import IngestSettings
from ingestworker.config import WorkerSettings
from searchapi.config import SearchSettings
from tests.compose.checks import env_names
from tools.route_roles import END, START, table

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_documents_every_setting() -> None:
    names = set().union(*(env_names(s) for s in (IngestSettings, WorkerSettings, SearchSettings)))
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"settings missing from README's configuration table: {missing}"


def test_readme_routes_table_is_what_the_routes_declare() -> None:
    documented = README.split(START, 1)[1].split(END, 1)[0].strip()
    assert documented == table(), "run: python tools/route_roles.py --write"
