package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestKeys(t *testing.T) {
	if got := OriginalKey("ab"); got != "originals/ab" {
		t.Errorf("OriginalKey = %q", got)
	}
	if got := ThumbKey("ab"); got != "thumbs/ab.webp" {
		t.Errorf("ThumbKey = %q", got)
	}
}

func TestClassify(t *testing.T) {
	notFound := minio.ErrorResponse{Code: minio.NoSuchKey, StatusCode: 404}
	if err := classify("k", notFound); !errors.Is(err, ErrNotFound) {
		t.Errorf("NoSuchKey -> %v", err)
	}
	for _, cause := range []error{
		errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
		minio.ErrorResponse{Code: "NoSuchBucket", StatusCode: 404},
		minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403},
	} {
		err := classify("k", cause)
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("%v -> %v, want ErrUnavailable", cause, err)
		}
	}
	if err := classify("k", fmt.Errorf("get: %w", context.Canceled)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled -> %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := NewDefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := Config{Endpoint: "http://host", Bucket: "B!"}
	err := bad.Validate()
	for _, want := range []string{"minio.endpoint", "access_key", "secret_key", "minio.bucket",
		"connect_timeout", "response_header_timeout", "max_retries", "ready_timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want mention of %s", err, want)
		}
	}
	if _, err := New(bad); err == nil {
		t.Error("New accepted an invalid config")
	}
}

func TestObjectStreamSeekNeedsNoRequest(t *testing.T) {
	s := &objectStream{size: 10} // no body, no client: Seek and reads at the end must not use them
	for _, c := range []struct {
		off    int64
		whence int
		want   int64
	}{{0, io.SeekEnd, 10}, {-4, io.SeekEnd, 6}, {2, io.SeekCurrent, 8}, {3, io.SeekStart, 3}} {
		if got, err := s.Seek(c.off, c.whence); err != nil || got != c.want {
			t.Errorf("Seek(%d, %d) = %d, %v; want %d", c.off, c.whence, got, err, c.want)
		}
	}
	if _, err := s.Seek(-1, io.SeekStart); err == nil {
		t.Error("negative Seek succeeded")
	}
	if _, err := s.Seek(0, 42); err == nil {
		t.Error("bad whence succeeded")
	}
	if _, err := s.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("Read at end = %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}
