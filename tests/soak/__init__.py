"""The fault-injection soak: many clients ingest while the worker, Redis, MinIO, Milvus and the
catalog database fail on a schedule; afterwards nothing accepted is lost, stuck or doubled."""
