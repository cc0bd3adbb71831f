"""``python -m searchapi``: serve on the configured host and port (HTTP__HOST, HTTP__PORT)."""

import uvicorn

from searchapi.config import SearchSettings
from searchapi.main import create_app


def main() -> None:
    settings = SearchSettings()
    uvicorn.run(
        create_app(settings), host=settings.http.host, port=settings.http.port, log_config=None
    )


if __name__ == "__main__":
    main()
