"""``python -m ingestapi.migrate`` (``make migrate``): bring the catalog to the newest schema.

Every service does this at start-up anyway (under a lock, so only one migrates); this runs it
ahead, e.g. as a deployment step before the services roll.
"""

from ingestapi.config import IngestSettings
from ingestapi.container import Container
from shared.catalog import migrate
from shared.logging import configure_logging, get_logger


def main() -> None:
    settings = IngestSettings()
    configure_logging(settings.log, "migrate")
    catalog = Container(settings=settings).catalog()
    migrate.upgrade(catalog)
    get_logger("migrate").info("catalog at the newest schema", revision=migrate.current(catalog))
    catalog.close()


if __name__ == "__main__":
    main()
