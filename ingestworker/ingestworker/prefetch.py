"""``python -m ingestworker.prefetch``: fetch the configured model's weights into the cache.

Run once where the model hub is reachable (``make docker-init`` does), so services start warm.
The embedder is the worker container's, so it is the model the worker will load.
"""

from ingestworker.config import WorkerSettings
from ingestworker.container import Container
from shared.logging import configure_logging, get_logger


def main() -> None:
    settings = WorkerSettings()
    configure_logging(settings.log, "prefetch")
    embedder = Container(settings=settings).embedder()
    embedder.load()
    get_logger("prefetch").info(
        "model cached", model=embedder.identity.key, cache=settings.model.cache_dir
    )


if __name__ == "__main__":
    main()
