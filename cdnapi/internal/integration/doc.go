// Package integration holds cdnapi's end-to-end tests against a real MinIO server and a real
// Redis, started once by TestMain from $MINIO_BIN or <repo root>/.bin/minio and from $REDIS_BIN
// or redis-server on the PATH. It has no non-test code.
package integration
