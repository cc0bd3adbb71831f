// Package storage reads image objects from MinIO as seekable streams.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultContentType is reported for objects stored without a Content-Type.
const DefaultContentType = "application/octet-stream"

// ErrNotFound means the object does not exist.
var ErrNotFound = errors.New("object not found")

// ErrUnavailable means MinIO could not be reached or could not answer.
var ErrUnavailable = errors.New("storage unavailable")

// OriginalKey is the object key of an image's original bytes.
func OriginalKey(id string) string { return "originals/" + id }

// ThumbKey is the object key of an image's WebP thumbnail.
func ThumbKey(id string) string { return "thumbs/" + id + ".webp" }

// Object is an opened object: its metadata and a body streamed from MinIO as it is read.
type Object struct {
	// Body streams the object's bytes; the caller must Close it.
	Body io.ReadSeekCloser
	// Size is the object's length in bytes.
	Size int64
	// ContentType is the stored Content-Type, or DefaultContentType.
	ContentType string
	// LastModified is when the object was written.
	LastModified time.Time
}

// Client reads objects from one MinIO bucket.
type Client struct {
	mc     *minio.Client
	core   minio.Core
	bucket string
	ready  time.Duration
}

// New returns a Client for cfg. It does not contact MinIO; use Ready for that.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("minio transport: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = cfg.ResponseHeaderTimeout
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	mc, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		Transport:  tr,
		MaxRetries: cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("minio client for %s: %w", cfg.Endpoint, err)
	}
	return &Client{mc: mc, core: minio.Core{Client: mc}, bucket: cfg.Bucket, ready: cfg.ReadyTimeout}, nil
}

// GetObject opens key with a single GET: its response headers give the size, Content-Type and
// Last-Modified, and its body is streamed as Body is read (never buffered whole). Seeking is free
// until a read lands elsewhere, which re-requests the object from there (same ETag).
// It returns an error wrapping ErrNotFound or ErrUnavailable, or the context's error.
func (c *Client) GetObject(ctx context.Context, key string) (*Object, error) {
	body, info, _, err := c.core.GetObject(ctx, c.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, classify(key, err)
	}
	contentType := info.ContentType
	if contentType == "" {
		contentType = DefaultContentType
	}
	stream := &objectStream{ctx: ctx, core: c.core, bucket: c.bucket, key: key, etag: info.ETag,
		size: info.Size, body: body}
	return &Object{Body: stream, Size: info.Size, ContentType: contentType, LastModified: info.LastModified}, nil
}

// Ready reports whether MinIO answers and the bucket exists, within the configured ready timeout.
func (c *Client) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.ready)
	defer cancel()
	ok, err := c.mc.BucketExists(ctx, c.bucket)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		return fmt.Errorf("%w: bucket %q does not exist", ErrUnavailable, c.bucket)
	}
	return nil
}

// classify maps a minio-go error to ErrNotFound or ErrUnavailable, keeping the cause.
func classify(key string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
