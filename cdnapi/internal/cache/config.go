package cache

import (
	"errors"
	"fmt"
	"time"
)

// MaxObjectBytesLimit is the largest cache.max_object_bytes Validate accepts: the memory tier is
// for thumbnails and small originals; bigger objects go to the disk tier or are streamed.
const MaxObjectBytesLimit = 16 << 20

// Config holds the object cache settings (YAML section `cache`, env prefix `CACHE__`): a memory
// tier for small objects and a disk tier for larger ones. Setting MaxBytes or MaxObjectBytes to 0
// turns the memory tier off; DiskMaxBytes 0 turns the disk tier off.
type Config struct {
	// MaxBytes bounds the memory the cache holds: object bytes plus EntryOverhead and the key per entry.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxObjectBytes is the largest object kept in memory.
	MaxObjectBytes int64 `yaml:"max_object_bytes"`
	// TTL is how long an entry is served before MinIO is asked again (the memory tier fetches the
	// object again, the disk tier asks for its metadata). It bounds how long an image deleted
	// from MinIO can be served when the deletion message was missed.
	TTL time.Duration `yaml:"ttl"`
	// DiskDir holds the disk tier, one subdirectory per bucket; relative to the working directory.
	DiskDir string `yaml:"disk_dir"`
	// DiskMaxBytes bounds the bytes of the files in the disk tier.
	DiskMaxBytes int64 `yaml:"disk_max_bytes"`
	// DiskMaxObjectBytes is the largest object kept on disk; bigger ones are streamed from MinIO.
	DiskMaxObjectBytes int64 `yaml:"disk_max_object_bytes"`
}

// NewDefaultConfig returns 64 MiB of memory for objects up to 256 KiB each (thumbnails), and
// 2 GiB of disk under data/cdn-cache for objects up to 20 MB (every image the APIs accept),
// each revalidated after 10 minutes.
func NewDefaultConfig() Config {
	return Config{
		MaxBytes:           64 << 20,
		MaxObjectBytes:     256 << 10,
		TTL:                10 * time.Minute,
		DiskDir:            "data/cdn-cache",
		DiskMaxBytes:       2 << 30,
		DiskMaxObjectBytes: 20_000_000,
	}
}

// Enabled reports whether the settings turn the memory tier on.
func (c Config) Enabled() bool {
	return c.MaxBytes > 0 && c.MaxObjectBytes > 0
}

// DiskEnabled reports whether the settings turn the disk tier on.
func (c Config) DiskEnabled() bool {
	return c.DiskMaxBytes > 0
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
		errs = append(errs, fmt.Errorf("cache.max_object_bytes %d: must not exceed %d (larger objects go to disk)",
			c.MaxObjectBytes, MaxObjectBytesLimit))
	}
	if c.Enabled() && c.MaxObjectBytes > c.MaxBytes {
		errs = append(errs, fmt.Errorf("cache.max_object_bytes %d must not exceed cache.max_bytes %d",
			c.MaxObjectBytes, c.MaxBytes))
	}
	if c.TTL < 0 || ((c.Enabled() || c.DiskEnabled()) && c.TTL == 0) {
		errs = append(errs, errors.New("cache.ttl must be positive while a cache tier is on"))
	}
	return errors.Join(append(errs, c.validateDisk()...)...)
}

// validateDisk reports the invalid disk tier settings.
func (c Config) validateDisk() []error {
	var errs []error
	if c.DiskMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("cache.disk_max_bytes %d: must be 0 (off) or positive", c.DiskMaxBytes))
	}
	if !c.DiskEnabled() {
		return errs
	}
	if c.DiskDir == "" {
		errs = append(errs, errors.New("cache.disk_dir must not be empty while cache.disk_max_bytes is positive"))
	}
	if c.DiskMaxObjectBytes <= 0 || c.DiskMaxObjectBytes > c.DiskMaxBytes {
		errs = append(errs, fmt.Errorf("cache.disk_max_object_bytes %d: must be positive and at most "+
			"cache.disk_max_bytes %d", c.DiskMaxObjectBytes, c.DiskMaxBytes))
	}
	return errs
}
