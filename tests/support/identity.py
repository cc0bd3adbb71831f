"""Identity for in-process tests: settings that verify for real, and a key for a test client."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import SecretStr

from shared.catalog.db import Catalog
from shared.config import AuthSettings, RateLimitSettings
from shared.identity.keys import KeyStore
from shared.identity.roles import Role
from tests.support.stack import JWT_SECRET

TEST_AUTH = AuthSettings(jwt_secret=SecretStr(JWT_SECRET), public_read=True)
# Rate-limit windows in this process's memory: the fast tier has no Redis.
IN_MEMORY_LIMITS = RateLimitSettings(storage_url="memory://")


def grant(client: TestClient, catalog: Catalog, role: Role = Role.ADMIN) -> str:
    """Make a key with ``role`` in ``catalog`` (migrated) and send it with every request."""
    key = KeyStore(catalog).create(f"{role}-tests", role, "tests")[0]
    client.headers["Authorization"] = f"Bearer {key}"
    return key
