// Package integration holds cdnapi's end-to-end tests against a real MinIO server, started
// once by TestMain from $MINIO_BIN or <repo root>/.bin/minio. It has no non-test code.
package integration
