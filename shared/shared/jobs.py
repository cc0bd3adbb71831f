"""The worker's task as the other services name it: ingestapi sends it by name, never importing
the worker. Job records themselves live in the catalog (``shared.catalog.jobs``)."""

INGEST_TASK = "ingestworker.process_image"
INGEST_QUEUE = "ingest"
