package cache

import (
	"errors"
	"fmt"
	"time"
)

// MaxObjectBytesLimit is the largest cache.max_object_bytes Validate accepts: the cache is for
// thumbnails and small originals; anything bigger is streamed from MinIO, never buffered whole.
const MaxObjectBytesLimit = 16 << 20

// Config holds the in-process object cache settings (YAML section `cache`, env prefix `CACHE__`).
// Setting MaxBytes or MaxObjectBytes to 0 disables the cache.
type Config struct {
	// MaxBytes bounds the memory the cache holds: object bytes plus EntryOverhead and the key per entry.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxObjectBytes is the largest object that is cached; bigger objects are always streamed.
	MaxObjectBytes int64 `yaml:"max_object_bytes"`
	// TTL is how long an entry is served before it is fetched from MinIO again. It bounds how long
	// an image deleted from MinIO can still be served from memory.
	TTL time.Duration `yaml:"ttl"`
}

// NewDefaultConfig returns 64 MiB of objects up to 256 KiB each (thumbnails), kept for 10 minutes.
func NewDefaultConfig() Config {
	return Config{
		MaxBytes:       64 << 20,
		MaxObjectBytes: 256 << 10,
		TTL:            10 * time.Minute,
	}
}

// Enabled reports whether the settings turn the cache on.
func (c Config) Enabled() bool {
	return c.MaxBytes > 0 && c.MaxObjectBytes > 0
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("cache.max_bytes %d: must be 0 (off) or positive", c.MaxBytes))
	}
	if c.MaxObjectBytes < 0 {
		errs = append(errs, fmt.Errorf("cache.max_object_bytes %d: must be 0 (off) or positive", c.MaxObjectBytes))
	}
	if c.MaxObjectBytes > MaxObjectBytesLimit {
		errs = append(errs, fmt.Errorf("cache.max_object_bytes %d: must not exceed %d (larger objects are streamed)",
			c.MaxObjectBytes, MaxObjectBytesLimit))
	}
	if c.Enabled() && c.MaxObjectBytes > c.MaxBytes {
		errs = append(errs, fmt.Errorf("cache.max_object_bytes %d must not exceed cache.max_bytes %d",
			c.MaxObjectBytes, c.MaxBytes))
	}
	if c.TTL < 0 || (c.Enabled() && c.TTL == 0) {
		errs = append(errs, errors.New("cache.ttl must be positive while the cache is on"))
	}
	return errors.Join(errs...)
}
