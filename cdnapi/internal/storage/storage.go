// Package storage reads image objects from MinIO as seekable streams, tells their metadata, and
// presigns GET URLs that let a client fetch an object from MinIO directly.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
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
	// ETag is MinIO's entity tag of this version of the object (unquoted).
	ETag string
}

// Info is an object's metadata, as a HEAD request tells it.
type Info struct {
	// Size is the object's length in bytes.
	Size int64
	// ContentType is the stored Content-Type, or DefaultContentType.
	ContentType string
	// LastModified is when the object was written.
	LastModified time.Time
	// ETag is MinIO's entity tag of this version of the object (unquoted).
	ETag string
}

// Client reads objects from one MinIO bucket.
type Client struct {
	mc     *minio.Client
	core   minio.Core
	public *minio.Client // presigns for the public endpoint; never sends a request
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
	public, err := presignClient(cfg, mc)
	if err != nil {
		return nil, err
	}
	return &Client{mc: mc, core: minio.Core{Client: mc}, public: public, bucket: cfg.Bucket, ready: cfg.ReadyTimeout}, nil
}

// presignClient is the client whose host presigned URLs name: mc itself, or one for
// cfg.PublicEndpoint. A presigned URL is signed for its host, so it cannot be rewritten after.
// With the region set, presigning is local computation: this client never contacts its host.
func presignClient(cfg Config, mc *minio.Client) (*minio.Client, error) {
	if cfg.PublicEndpoint == "" {
		return mc, nil
	}
	u, err := url.Parse(cfg.PublicEndpoint)
	if err != nil {
		return nil, fmt.Errorf("minio.public_endpoint: %w", err)
	}
	public, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("minio client for %s: %w", cfg.PublicEndpoint, err)
	}
	return public, nil
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
	return &Object{Body: stream, Size: info.Size, ContentType: contentType, LastModified: info.LastModified,
		ETag: info.ETag}, nil
}

// StatObject returns key's metadata without its bytes. It returns an error wrapping ErrNotFound
// or ErrUnavailable, or the context's error.
func (c *Client) StatObject(ctx context.Context, key string) (Info, error) {
	info, err := c.mc.StatObject(ctx, c.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, classify(key, err)
	}
	contentType := info.ContentType
	if contentType == "" {
		contentType = DefaultContentType
	}
	return Info{Size: info.Size, ContentType: contentType, LastModified: info.LastModified, ETag: info.ETag}, nil
}

// PresignGet returns a URL on the public endpoint (or the endpoint) that GETs key from MinIO
// until expiry has passed, 1 s to 7 days. It contacts nobody and does not check that key exists.
func (c *Client) PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error) {
	u, err := c.public.PresignedGetObject(ctx, c.bucket, key, expiry, nil)
	if err != nil {
		return nil, fmt.Errorf("presign %s: %w", key, err)
	}
	return u, nil
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
