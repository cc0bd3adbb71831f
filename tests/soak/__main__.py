"""``make soak``: the full soak (1,000 images, MinIO and Milvus down 30 s each), table on stdout.

    .venv/bin/python -m tests.soak [--images N]

Exits 1 when anything accepted was lost, stuck, failed or doubled (each problem printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from tests.soak.plan import FULL
from tests.soak.soak import run_soak
from tests.support.processes import ROOT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=FULL.images, help="uploads to send")
    args = parser.parse_args()
    plan = dataclasses.replace(FULL, images=args.images)
    with tempfile.TemporaryDirectory(prefix="soak-") as work:
        result = run_soak(plan, Path(work), ROOT / "artifacts" / "logs" / "soak-full")
    sys.stdout.write(f"fault-injection soak: {result.seconds:.0f}s\n")
    sys.stdout.write("\n".join(result.table) + "\n")
    for problem in result.problems:
        sys.stdout.write(f"PROBLEM {problem}\n")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
