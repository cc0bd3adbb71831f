package storage

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Config holds the MinIO connection settings (YAML section `minio`, env prefix `MINIO__`).
type Config struct {
	// Endpoint is the MinIO address as host:port, without a scheme.
	Endpoint string `yaml:"endpoint"`
	// PublicEndpoint is the MinIO base URL clients can reach (http://files.example.com), named
	// by presigned URLs; empty means Endpoint, with the scheme Secure selects.
	PublicEndpoint string `yaml:"public_endpoint"`
	// AccessKey is the MinIO access key (user).
	AccessKey string `yaml:"access_key"`
	// SecretKey is the MinIO secret key (password).
	SecretKey string `yaml:"secret_key"`
	// Bucket holds originals/{id} and thumbs/{id}.webp.
	Bucket string `yaml:"bucket"`
	// Secure selects HTTPS to MinIO.
	Secure bool `yaml:"secure"`
	// Region is sent with every request; setting it skips a bucket-location lookup.
	Region string `yaml:"region"`
	// ConnectTimeout bounds establishing a TCP connection to MinIO.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ResponseHeaderTimeout bounds waiting for MinIO's response headers.
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	// MaxRetries is the number of attempts per MinIO request (1 disables retries).
	MaxRetries int `yaml:"max_retries"`
	// ReadyTimeout bounds the readiness probe (bucket exists).
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
}

// NewDefaultConfig returns the settings for a local MinIO with its default credentials.
func NewDefaultConfig() Config {
	return Config{
		Endpoint:              "127.0.0.1:9000",
		AccessKey:             "minioadmin",
		SecretKey:             "minioadmin",
		Bucket:                "images",
		Secure:                false,
		Region:                "us-east-1",
		ConnectTimeout:        2 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxRetries:            2,
		ReadyTimeout:          2 * time.Second,
	}
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	host, port, err := net.SplitHostPort(c.Endpoint)
	if err != nil || host == "" {
		errs = append(errs, fmt.Errorf("minio.endpoint %q: want host:port without a scheme", c.Endpoint))
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		errs = append(errs, fmt.Errorf("minio.endpoint %q: port must be 1..65535", c.Endpoint))
	}
	if err := validPublicEndpoint(c.PublicEndpoint); err != nil {
		errs = append(errs, err)
	}
	if c.AccessKey == "" {
		errs = append(errs, errors.New("minio.access_key must not be empty"))
	}
	if c.SecretKey == "" {
		errs = append(errs, errors.New("minio.secret_key must not be empty"))
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		errs = append(errs, fmt.Errorf("minio.bucket %q: %w", c.Bucket, err))
	}
	if c.ConnectTimeout <= 0 {
		errs = append(errs, errors.New("minio.connect_timeout must be positive"))
	}
	if c.ResponseHeaderTimeout <= 0 {
		errs = append(errs, errors.New("minio.response_header_timeout must be positive"))
	}
	if c.MaxRetries < 1 {
		errs = append(errs, errors.New("minio.max_retries must be at least 1"))
	}
	if c.ReadyTimeout <= 0 {
		errs = append(errs, errors.New("minio.ready_timeout must be positive"))
	}
	return errors.Join(errs...)
}

// validPublicEndpoint accepts "" or an http(s) URL of a host alone: MinIO takes no path prefix.
func validPublicEndpoint(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("minio.public_endpoint %q: want an http(s) URL of a host, such as http://files.example.com", raw)
	}
	return nil
}
