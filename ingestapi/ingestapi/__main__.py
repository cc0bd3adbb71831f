"""``python -m ingestapi``: serve on the configured host and port (HTTP__HOST, HTTP__PORT)."""

from ingestapi.config import IngestSettings
from ingestapi.main import create_app
from shared.web import serve


def main() -> None:
    settings = IngestSettings()
    serve(create_app(settings), settings.http)


if __name__ == "__main__":
    main()
