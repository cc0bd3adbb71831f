"""``python -m searchapi.reindex`` (``make reindex``): re-index with the configured model.

Every original is re-embedded into a new collection, then the ``images`` alias moves to it in
one step. The work is ``searchapi.service.reindex.Reindexer``, built by the searchapi container.
After the move, restart searchapi and the workers with the new model configuration (they refuse
to start otherwise).
"""

from __future__ import annotations

import argparse
import time

from searchapi.config import SearchSettings
from searchapi.container import Container
from shared.logging import configure_logging, get_logger

log = get_logger("reindex")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--drop-previous", action="store_true", help="drop the old collection after"
    )
    args = parser.parse_args(argv)
    settings = SearchSettings()
    configure_logging(settings.log, "reindex")
    container = Container(settings=settings)
    started = time.perf_counter()
    new = container.reindexer(batch_size=args.batch_size).run(args.drop_previous)
    log.info("re-index done", collection=new, seconds=round(time.perf_counter() - started, 1))
    print(
        f"'{settings.milvus.alias}' now points at {new}. Restart searchapi and the workers with "
        f"MODEL__NAME={settings.model.name} MODEL__PRETRAINED={settings.model.pretrained}."
    )


if __name__ == "__main__":
    main()
