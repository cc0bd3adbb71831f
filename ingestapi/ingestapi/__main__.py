"""``python -m ingestapi``: serve on the configured host and port (HTTP__HOST, HTTP__PORT)."""

import uvicorn

from ingestapi.config import IngestSettings
from ingestapi.main import create_app


def main() -> None:
    settings = IngestSettings()
    uvicorn.run(
        create_app(settings), host=settings.http.host, port=settings.http.port, log_config=None
    )


if __name__ == "__main__":
    main()
