"""The worker's tasks as the other services name them: ingestapi sends them by name, never
importing the worker. Job records themselves live in the catalog (``shared.catalog.jobs``)."""

INGEST_TASK = "ingestworker.process_image"
INGEST_QUEUE = "ingest"
VARIANT_TASK = "ingestworker.render_variant"
VARIANT_QUEUE = "variants"
VARIANT_JOB_KIND = "variant"
CAPTURE_TASK = "ingestworker.capture_stream"
CAPTURE_QUEUE = "capture"
CAPTURE_JOB_KIND = "capture"
