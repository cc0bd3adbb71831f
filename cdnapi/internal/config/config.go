// Package config loads cdnapi's settings the way the Python services do: defaults, then
// $CONF_DIR/common.yaml, then $CONF_DIR/cdnapi.yaml, then environment variables named
// SECTION__KEY in upper case (MINIO__ENDPOINT, HTTP__PORT, CACHE__MAX_BYTES, LOG__LEVEL,
// AUTH__PUBLIC_READ, SIGNING__SECRET, REDIS__URL, CDN__PRESIGN_TTL, ...).
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/presign"
	"github.com/imagesearch/cdnapi/internal/redisconn"
	"github.com/imagesearch/cdnapi/internal/server"
	"github.com/imagesearch/cdnapi/internal/signing"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// Names of the configuration sources.
const (
	// EnvConfDir names the environment variable holding the YAML directory.
	EnvConfDir = "CONF_DIR"
	// DefaultConfDir is the YAML directory when CONF_DIR is unset, relative to the working directory.
	DefaultConfDir = "conf"
	// CommonFile is read first; it is shared by every service.
	CommonFile = "common.yaml"
	// ServiceFile is read second and overrides CommonFile.
	ServiceFile = "cdnapi.yaml"
	// EnvDelimiter joins nested keys in environment variable names.
	EnvDelimiter = "__"
)

// LookupEnv finds an environment variable; os.LookupEnv in production, a map in tests.
type LookupEnv func(key string) (string, bool)

// Config is the whole of cdnapi's settings; sections of common.yaml it does not know are ignored.
type Config struct {
	// MinIO is the object storage connection (section `minio`).
	MinIO storage.Config `yaml:"minio"`
	// HTTP is the listener (section `http`).
	HTTP server.Config `yaml:"http"`
	// Cache is the memory and disk cache of objects (section `cache`).
	Cache cache.Config `yaml:"cache"`
	// Redis carries deletion messages and caches presigned URLs (section `redis`).
	Redis redisconn.Config `yaml:"redis"`
	// CDN holds the redirect to storage settings (section `cdn`).
	CDN presign.Config `yaml:"cdn"`
	// Log is the logging setup (section `log`).
	Log LogConfig `yaml:"log"`
	// Auth says whether reads are public (section `auth`).
	Auth AuthConfig `yaml:"auth"`
	// Signing keys the signed byte links checked while reads are private (section `signing`).
	Signing signing.Config `yaml:"signing"`
}

// NewDefaultConfig returns every section's defaults.
func NewDefaultConfig() Config {
	return Config{
		MinIO:   storage.NewDefaultConfig(),
		HTTP:    server.NewDefaultConfig(),
		Cache:   cache.NewDefaultConfig(),
		Redis:   redisconn.NewDefaultConfig(),
		CDN:     presign.NewDefaultConfig(),
		Log:     NewDefaultLogConfig(),
		Auth:    NewDefaultAuthConfig(),
		Signing: signing.NewDefaultConfig(),
	}
}

// Validate reports every invalid setting of every section, and the settings unsafe together:
// private reads without a signing secret, or MinIO's default password on a listener that is
// reachable from other machines.
func (c Config) Validate() error {
	errs := []error{c.MinIO.Validate(), c.HTTP.Validate(), c.Cache.Validate(), c.Redis.Validate(),
		c.CDN.Validate(), c.Log.Validate()}
	if !c.Auth.PublicRead {
		errs = append(errs, c.Signing.Validate())
	}
	if c.MinIO.SecretKey == DefaultMinIOSecret && !loopback(c.HTTP.Host) {
		errs = append(errs, fmt.Errorf("minio.secret_key is MinIO's default %q while http.host %q is reachable "+
			"from other machines: set MINIO__SECRET_KEY", DefaultMinIOSecret, c.HTTP.Host))
	}
	return errors.Join(errs...)
}

// DefaultMinIOSecret is the password every MinIO starts with, refused off loopback.
const DefaultMinIOSecret = "minioadmin"

// AuthConfig says who may read (section `auth`); the other keys of the section are the APIs'.
type AuthConfig struct {
	// PublicRead serves image bytes to anyone; false requires a signed link (and signing.secret).
	PublicRead bool `yaml:"public_read"`
}

// NewDefaultAuthConfig returns private reads, as the APIs default to.
func NewDefaultAuthConfig() AuthConfig {
	return AuthConfig{PublicRead: false}
}

// loopback reports whether host (a listen address) accepts connections from this machine only.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// LogConfig selects the log level (section `log`).
type LogConfig struct {
	// Level is a Python logging level name: DEBUG, INFO, WARNING, ERROR or CRITICAL.
	Level string `yaml:"level"`
}

// NewDefaultLogConfig returns level INFO.
func NewDefaultLogConfig() LogConfig {
	return LogConfig{Level: "INFO"}
}

// levels maps Python level names to slog levels.
func levels() map[string]slog.Level {
	return map[string]slog.Level{
		"DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo, "WARNING": slog.LevelWarn,
		"WARN": slog.LevelWarn, "ERROR": slog.LevelError, "CRITICAL": slog.LevelError + 4,
	}
}

// Validate checks that Level is a known level name (case-insensitive).
func (c LogConfig) Validate() error {
	if _, ok := levels()[strings.ToUpper(c.Level)]; !ok {
		return fmt.Errorf("log.level %q: want DEBUG, INFO, WARNING, ERROR or CRITICAL", c.Level)
	}
	return nil
}

// SlogLevel is Level as a slog.Level (INFO when invalid; call Validate first).
func (c LogConfig) SlogLevel() slog.Level {
	if l, ok := levels()[strings.ToUpper(c.Level)]; ok {
		return l
	}
	return slog.LevelInfo
}

// Dir is the YAML directory: $CONF_DIR, or DefaultConfDir.
func Dir(lookup LookupEnv) string {
	if dir, ok := lookup(EnvConfDir); ok && dir != "" {
		return dir
	}
	return DefaultConfDir
}

// Load reads defaults, dir/common.yaml, dir/cdnapi.yaml (missing files are skipped) and the
// environment, in that order of precedence, then validates the result.
func Load(dir string, lookup LookupEnv) (Config, error) {
	cfg := NewDefaultConfig()
	for _, name := range []string{CommonFile, ServiceFile} {
		if err := mergeFile(&cfg, filepath.Join(dir, name)); err != nil {
			return Config{}, err
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), "", lookup); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

// mergeFile overlays the keys present in a YAML file onto cfg; a missing file is fine.
func mergeFile(cfg *Config, path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := yaml.Unmarshal(data, cfg); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
