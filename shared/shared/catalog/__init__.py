"""The catalog: the relational system of record (SQLite by default, PostgreSQL in production).

``db`` owns the engine and the units of work, ``models`` the tables, ``migrate`` the schema's
lifecycle (Alembic, run once under a lock); ``images`` and ``jobs`` are the stores services use.
Milvus and MinIO hold what the catalog names: the catalog says which images exist.
"""
