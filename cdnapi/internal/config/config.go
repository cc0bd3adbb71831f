// Package config loads cdnapi's settings the way the Python services do: defaults, then
// $CONF_DIR/common.yaml, then $CONF_DIR/cdnapi.yaml, then environment variables named
// SECTION__KEY in upper case (MINIO__ENDPOINT, HTTP__PORT, CACHE__MAX_BYTES, LOG__LEVEL, ...).
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/server"
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
	// Cache is the in-process cache of small objects (section `cache`).
	Cache cache.Config `yaml:"cache"`
	// Log is the logging setup (section `log`).
	Log LogConfig `yaml:"log"`
}

// NewDefaultConfig returns every section's defaults.
func NewDefaultConfig() Config {
	return Config{
		MinIO: storage.NewDefaultConfig(),
		HTTP:  server.NewDefaultConfig(),
		Cache: cache.NewDefaultConfig(),
		Log:   NewDefaultLogConfig(),
	}
}

// Validate reports every invalid setting of every section.
func (c Config) Validate() error {
	return errors.Join(c.MinIO.Validate(), c.HTTP.Validate(), c.Cache.Validate(), c.Log.Validate())
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
