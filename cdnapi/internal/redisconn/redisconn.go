// Package redisconn builds the Redis client cdnapi shares between the cache of presigned URLs
// and the subscription to image deletions. Redis is never on the path of bytes: when it is down,
// redirects are presigned without the cache and deletions are caught by the caches' TTL.
package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Config holds the Redis connection settings (YAML section `redis`, env prefix `REDIS__`).
type Config struct {
	// URL is redis://[:password@]host:port/db, as the Python services read it; empty: no Redis.
	URL string `yaml:"url"`
	// Timeout bounds dialling and each command, so a Redis outage costs a redirect little.
	Timeout time.Duration `yaml:"timeout"`
}

// NewDefaultConfig returns the local Redis, database 0, with a 500 ms timeout.
func NewDefaultConfig() Config {
	return Config{URL: "redis://127.0.0.1:6379/0", Timeout: 500 * time.Millisecond}
}

// Validate checks that URL is empty or one go-redis parses, and that Timeout is positive.
func (c Config) Validate() error {
	if c.Timeout <= 0 {
		return fmt.Errorf("redis.timeout must be positive, got %s", c.Timeout)
	}
	if c.URL == "" {
		return nil
	}
	if _, err := redis.ParseURL(c.URL); err != nil {
		return fmt.Errorf("redis.url: want redis://[:password@]host:port/db: %w", err)
	}
	return nil
}

// New returns a client for cfg, or nil when URL is empty. It does not contact Redis.
func New(cfg Config) (*redis.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.URL == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = cfg.Timeout, cfg.Timeout, cfg.Timeout
	opts.MaxRetries = 1
	opts.DisableIdentity = true // CLIENT SETINFO is unknown before Redis 7.2
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opts), nil
}

// Logger adapts slog to go-redis's internal logger (redis.SetLogger), so its few messages are
// structured lines like every other.
type Logger struct {
	// Log receives the messages at warning level.
	Log *slog.Logger
}

// Printf logs one go-redis message.
func (l Logger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
