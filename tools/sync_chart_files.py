"""Copy into the Helm chart the files it packages from elsewhere in the repository.

Helm reads only files inside the chart directory, so ``deploy/helm/imagesearch/files/`` holds
copies: ``conf/`` of the services' ``conf/*.yaml`` (the chart's ConfigMap is built from them) and
``dashboards/`` of the Grafana dashboards under ``deploy/observability`` (one ConfigMap each).
Run ``python tools/sync_chart_files.py`` after changing either; ``--check`` only reports, and
tests/deploy fails while a copy differs from its source or has none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHART = Path("deploy/helm/imagesearch")
# chart folder -> (source folder, glob), relative to the repository root
SOURCES = {
    CHART / "files" / "conf": (Path("conf"), "*.yaml"),
    CHART / "files" / "dashboards": (Path("deploy/observability"), "**/dashboards/*.json"),
}


def expected(root: Path) -> dict[Path, Path]:
    """Every copy the chart should hold, mapped to its source."""
    copies: dict[Path, Path] = {}
    for folder, (source, pattern) in SOURCES.items():
        for path in sorted((root / source).glob(pattern)):
            copies[root / folder / path.name] = path
    return copies


def drift(root: Path) -> list[str]:
    """What differs between the chart's copies and their sources; empty when in step."""
    copies = expected(root)
    problems = [
        f"{copy.relative_to(root)} differs from {source.relative_to(root)}"
        for copy, source in copies.items()
        if not copy.is_file() or copy.read_bytes() != source.read_bytes()
    ]
    for folder in SOURCES:
        for stale in sorted((root / folder).glob("*")):
            if stale not in copies:
                problems.append(f"{stale.relative_to(root)} has no source any more")
    return problems


def sync(root: Path) -> list[str]:
    """Make the copies equal to their sources; returns what it changed."""
    changed = drift(root)
    copies = expected(root)
    for folder in SOURCES:
        (root / folder).mkdir(parents=True, exist_ok=True)
        for stale in (root / folder).glob("*"):
            if stale not in copies:
                stale.unlink()
    for copy, source in copies.items():
        copy.write_bytes(source.read_bytes())
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    args = parser.parse_args()
    problems = drift(ROOT) if args.check else sync(ROOT)
    for problem in problems:
        print(problem)
    if args.check and problems:
        sys.exit("the chart's copies are stale: run python tools/sync_chart_files.py")


if __name__ == "__main__":
    main()
