"""Who is asking, and may they: users and page sessions, API keys, roles, rate limits.

One verifier for both APIs. ``stores`` keep users and keys in the catalog; ``sessions`` signs the
page's short-lived tokens; ``verifier`` turns a request's credential into a ``Principal`` and
decides; ``ratelimit`` counts in Redis; ``http`` is the FastAPI glue (the only part that knows
HTTP). Needs the ``web`` extra (argon2-cffi, PyJWT, limits).
"""
