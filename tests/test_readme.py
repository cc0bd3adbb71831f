"""The README is the front door: its configuration table names every setting the services read."""

from pathlib import Path

from pydantic import BaseModel

from ingestapi.config import IngestSettings
from ingestworker.config import WorkerSettings
from searchapi.config import SearchSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def env_names(model: type[BaseModel], prefix: str = "") -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= env_names(annotation, f"{key}__")
        else:
            names.add(key)
    return names


def test_readme_documents_every_setting() -> None:
    names = set().union(*(env_names(s) for s in (IngestSettings, WorkerSettings, SearchSettings)))
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"settings missing from README's configuration table: {missing}"
