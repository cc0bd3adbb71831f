package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

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

func TestPublicEndpointMustBeAURLOfAHost(t *testing.T) {
	for _, ok := range []string{"", "http://files.example.com", "https://files.example.com:8443/", "http://127.0.0.1:9000"} {
		cfg := NewDefaultConfig()
		cfg.PublicEndpoint = ok
		if err := cfg.Validate(); err != nil {
			t.Errorf("public_endpoint %q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"files.example.com", "ftp://files.example.com", "http://", "http://h/prefix",
		"http://user:pw@h", "http://h?x=1", "http://h#f"} {
		cfg := NewDefaultConfig()
		cfg.PublicEndpoint = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "minio.public_endpoint") {
			t.Errorf("public_endpoint %q: Validate() = %v, want a minio.public_endpoint error", bad, err)
		}
	}
}

func TestPresignNamesThePublicEndpoint(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.PublicEndpoint = "https://files.example.com"
	client, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := client.PresignGet(t.Context(), OriginalKey(testID), 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "https" || u.Host != "files.example.com" || u.Path != "/images/"+OriginalKey(testID) ||
		q.Get("X-Amz-Expires") != "90" || q.Get("X-Amz-Signature") == "" {
		t.Errorf("presigned URL = %s", u)
	}
	cfg.PublicEndpoint = ""
	client, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if u, err = client.PresignGet(t.Context(), OriginalKey(testID), time.Minute); err != nil || u.Host != cfg.Endpoint || u.Scheme != "http" {
		t.Errorf("presigned URL without a public endpoint = %v, %v; want on %s", u, err, cfg.Endpoint)
	}
}
