"""Alembic's environment: always run by ``shared.catalog.migrate``, which hands over the connection.

Batch mode (``render_as_batch``) lets SQLite alter tables by copying them, as it must.
"""

from alembic import context

from shared.catalog.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
