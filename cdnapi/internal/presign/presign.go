// Package presign issues the presigned MinIO URLs that `redirect=storage` answers with, and keeps
// each in Redis under cdn:presign:{object key} until a minute before it expires, so repeated
// redirects cost neither a MinIO request nor a signature.
//
// A URL works until the sooner of the configured TTL and the expiry of the signed link that asked
// for it; a cached URL is reused only when it does not outlive the asking link. The object is
// checked to exist (StatObject) before a URL is issued, so a missing one is a 404, not a redirect
// to an error. Redis is optional: when it fails, URLs are issued without the cache.
package presign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// KeyPrefix starts the Redis key of a cached URL; the object key follows.
const KeyPrefix = "cdn:presign:"

// Margin is how long before its expiry a cached URL is dropped: one handed out lasts at least this.
const Margin = time.Minute

// MaxTTL is the longest validity S3 allows a presigned URL.
const MaxTTL = 7 * 24 * time.Hour

// Config holds the redirect settings (YAML section `cdn`, env prefix `CDN__`).
type Config struct {
	// TTL is the longest a presigned URL works.
	TTL time.Duration `yaml:"presign_ttl"`
}

// NewDefaultConfig returns presigned URLs valid for 15 minutes.
func NewDefaultConfig() Config {
	return Config{TTL: 15 * time.Minute}
}

// Validate checks that TTL is between one second and MaxTTL.
func (c Config) Validate() error {
	if c.TTL < time.Second || c.TTL > MaxTTL {
		return fmt.Errorf("cdn.presign_ttl %s: must be between 1s and %s", c.TTL, MaxTTL)
	}
	return nil
}

// Storage checks objects and presigns URLs for them; *storage.Client implements it.
type Storage interface {
	// StatObject tells an object's metadata; errors wrap storage.ErrNotFound or storage.ErrUnavailable.
	StatObject(ctx context.Context, key string) (storage.Info, error)
	// PresignGet returns a URL that GETs key until expiry has passed.
	PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error)
}

// Deps are the collaborators of a Presigner; Storage and Logger are required.
type Deps struct {
	// Storage holds the objects.
	Storage Storage
	// Redis caches the URLs; nil: no cache.
	Redis *redis.Client
	// Logger receives Redis failures.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Presigner issues presigned URLs through the Redis cache.
type Presigner struct {
	cfg Config
	Deps
}

// New returns a Presigner for cfg.
func New(cfg Config, deps Deps) (*Presigner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Storage == nil || deps.Logger == nil {
		return nil, errors.New("presign: Storage and Logger are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Presigner{cfg: cfg, Deps: deps}, nil
}

// PresignedURL returns a URL that GETs key from MinIO, valid for the TTL but not past notAfter
// (zero: the TTL alone). Errors wrap storage.ErrNotFound or storage.ErrUnavailable.
func (p *Presigner) PresignedURL(ctx context.Context, key string, notAfter time.Time) (string, error) {
	if u, expires, ok := p.cached(ctx, key); ok && (notAfter.IsZero() || !expires.After(notAfter)) {
		return u, nil
	}
	if _, err := p.Storage.StatObject(ctx, key); err != nil {
		return "", err
	}
	now := p.Now()
	validity := p.cfg.TTL
	if !notAfter.IsZero() {
		validity = min(validity, notAfter.Sub(now))
	}
	validity = max(validity.Truncate(time.Second), time.Second)
	u, err := p.Storage.PresignGet(ctx, key, validity)
	if err != nil {
		return "", fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	p.remember(ctx, key, u.String(), now.Add(validity))
	return u.String(), nil
}

// cached returns the URL cached for key and when it expires; false on a miss or a Redis failure.
func (p *Presigner) cached(ctx context.Context, key string) (string, time.Time, bool) {
	if p.Redis == nil {
		return "", time.Time{}, false
	}
	value, err := p.Redis.Get(ctx, KeyPrefix+key).Result()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			p.Logger.Warn("presign cache read failed", "key", key, "error", err.Error())
		}
		return "", time.Time{}, false
	}
	seconds, u, ok := strings.Cut(value, " ")
	unix, err := strconv.ParseInt(seconds, 10, 64)
	if !ok || err != nil {
		return "", time.Time{}, false
	}
	return u, time.Unix(unix, 0), true
}

// remember caches u, expiring at expires, until Margin before that; a shorter-lived URL is not cached.
func (p *Presigner) remember(ctx context.Context, key, u string, expires time.Time) {
	keep := expires.Sub(p.Now()) - Margin
	if p.Redis == nil || keep <= 0 {
		return
	}
	value := strconv.FormatInt(expires.Unix(), 10) + " " + u
	if err := p.Redis.Set(ctx, KeyPrefix+key, value, keep).Err(); err != nil {
		p.Logger.Warn("presign cache write failed", "key", key, "error", err.Error())
	}
}

// DropImage removes the cached URLs of image id's objects (original, thumbnail, variants).
func (p *Presigner) DropImage(ctx context.Context, id string) error {
	if p.Redis == nil {
		return nil
	}
	keys := []string{KeyPrefix + storage.OriginalKey(id), KeyPrefix + storage.ThumbKey(id)}
	iter := p.Redis.Scan(ctx, 0, KeyPrefix+storage.VariantsPrefix(id)+"*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return p.Redis.Del(ctx, keys...).Err()
}
