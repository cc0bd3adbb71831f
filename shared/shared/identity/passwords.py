"""Password hashing: Argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).

argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes) take ~0.7 s of two busy cores per sign-in
here: a sign-in flood would cost more than the rate limit lets through. Hashes made with other
parameters still verify, and are re-hashed with these at the next sign-in.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024  # Argon2 takes any length; this bounds the work one request can ask for

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a wrong name costs as long as a wrong password."""
    return _hasher.hash("not a password anyone has")


def check_strength(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user (``None``) costs the same and is False."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
