"""``python -m searchapi``: serve on the configured host and port (HTTP__HOST, HTTP__PORT)."""

from searchapi.config import SearchSettings
from searchapi.main import create_app
from shared.web import serve


def main() -> None:
    settings = SearchSettings()
    serve(create_app(settings), settings.http)


if __name__ == "__main__":
    main()
