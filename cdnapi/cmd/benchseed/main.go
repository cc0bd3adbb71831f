// Command benchseed puts one local file into MinIO (creating the bucket if needed); the
// benchmark script tools/bench_cdn.sh uses it to seed objects without extra tools.
//
//	benchseed -endpoint 127.0.0.1:9000 -bucket images -key originals/<id> -file f.bin -content-type image/jpeg
//
// Credentials come from MINIO__ACCESS_KEY / MINIO__SECRET_KEY (default minioadmin).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchseed:", err)
		os.Exit(1)
	}
}

// envOr returns the environment variable key, or fallback when unset or empty.
func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// run parses the flags and uploads the file.
func run() error {
	endpoint := flag.String("endpoint", envOr("MINIO__ENDPOINT", "127.0.0.1:9000"), "MinIO host:port")
	bucket := flag.String("bucket", envOr("MINIO__BUCKET", "images"), "bucket (created if missing)")
	key := flag.String("key", "", "object key, e.g. originals/<id>")
	file := flag.String("file", "", "local file to upload")
	contentType := flag.String("content-type", "application/octet-stream", "stored Content-Type")
	flag.Parse()
	if *key == "" || *file == "" {
		return errors.New("-key and -file are required")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mc, err := minio.New(*endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(envOr("MINIO__ACCESS_KEY", "minioadmin"),
			envOr("MINIO__SECRET_KEY", "minioadmin"), ""),
		Region: "us-east-1",
	})
	if err != nil {
		return err
	}
	exists, err := mc.BucketExists(ctx, *bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", *bucket, err)
	}
	if !exists {
		err = mc.MakeBucket(ctx, *bucket, minio.MakeBucketOptions{})
		if err != nil {
			return fmt.Errorf("make bucket %s: %w", *bucket, err)
		}
	}
	info, err := mc.FPutObject(ctx, *bucket, *key, *file, minio.PutObjectOptions{ContentType: *contentType})
	if err != nil {
		return fmt.Errorf("put %s: %w", *key, err)
	}
	fmt.Printf("put %s/%s (%d bytes)\n", *bucket, info.Key, info.Size)
	return nil
}
