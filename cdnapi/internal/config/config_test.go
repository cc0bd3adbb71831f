package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is a LookupEnv over a map.
func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// testSecret is a signing secret long enough for private reads.
const testSecret = "a-signing-secret-of-at-least-32-characters"

// withSecret is env(m) plus SIGNING__SECRET, which private reads (the default) require.
func withSecret(m map[string]string) LookupEnv {
	all := map[string]string{"SIGNING__SECRET": testSecret}
	for k, v := range m {
		all[k] = v
	}
	return env(all)
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultsWithoutFiles(t *testing.T) {
	cfg, err := Load(t.TempDir(), withSecret(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.PublicRead || cfg.Signing.Secret != testSecret {
		t.Errorf("auth/signing = %+v %+v, want private reads with the secret from the environment", cfg.Auth, cfg.Signing)
	}
	if cfg.MinIO.Endpoint != "127.0.0.1:9000" || cfg.MinIO.AccessKey != "minioadmin" ||
		cfg.MinIO.SecretKey != "minioadmin" || cfg.MinIO.Bucket != "images" || cfg.MinIO.Secure {
		t.Errorf("minio defaults = %+v", cfg.MinIO)
	}
	if cfg.HTTP.Addr() != "127.0.0.1:8002" || cfg.Log.Level != "INFO" {
		t.Errorf("http/log defaults = %+v %+v", cfg.HTTP, cfg.Log)
	}
	if cfg.Cache.MaxBytes != 64<<20 || cfg.Cache.MaxObjectBytes != 256<<10 || cfg.Cache.TTL != 10*time.Minute ||
		cfg.Cache.DiskDir != "data/cdn-cache" || cfg.Cache.DiskMaxBytes != 2<<30 || cfg.Cache.DiskMaxObjectBytes != 20_000_000 {
		t.Errorf("cache defaults = %+v", cfg.Cache)
	}
	if cfg.Redis.URL != "redis://127.0.0.1:6379/0" || cfg.CDN.TTL != 15*time.Minute || cfg.MinIO.PublicEndpoint != "" {
		t.Errorf("redis %+v, cdn %+v, public endpoint %q: want the defaults", cfg.Redis, cfg.CDN, cfg.MinIO.PublicEndpoint)
	}
}

func TestFilesThenEnv(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, CommonFile, `
minio: {endpoint: "minio:9000", access_key: a, secret_key: s, bucket: common, secure: false}
redis: {url: "redis://x"}
milvus: {uri: "http://milvus:19530"}   # other services' sections are ignored
log: {level: DEBUG}
auth: {public_read: false, jwt_secret: "the APIs' key, not ours"}
signing: {secret: "from-common-yaml-and-at-least-32-chars", link_ttl_s: 600}
`)
	writeFile(t, dir, ServiceFile, `
http: {host: 0.0.0.0, port: 9100, write_timeout: 90s}
minio: {bucket: service}
cache: {max_bytes: 1048576, ttl: 1m}
`)
	cfg, err := Load(dir, env(map[string]string{
		"MINIO__SECURE":           "true",
		"HTTP__PORT":              "9200",
		"HTTP__IDLE_TIMEOUT":      "45s",
		"HTTP__TRUSTED_PROXIES":   "10.0.0.0/8, 127.0.0.1",
		"LOG__LEVEL":              "warning",
		"MINIO__CONNECT_TIMEOUT":  "750ms",
		"CACHE__MAX_OBJECT_BYTES": "65536",
		"CACHE__TTL":              "30s",
		"AUTH__PUBLIC_READ":       "yes",
		"REDIS__URL":              "redis://:pw@redis:6379/2",
		"CDN__PRESIGN_TTL":        "5m",
		"CACHE__DISK_DIR":         "/var/cache/cdn",
		"CACHE__DISK_MAX_BYTES":   "1073741824",
		"MINIO__PUBLIC_ENDPOINT":  "https://files.example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinIO.Endpoint != "minio:9000" || cfg.MinIO.AccessKey != "a" {
		t.Errorf("common.yaml not applied: %+v", cfg.MinIO)
	}
	if cfg.MinIO.Bucket != "service" {
		t.Errorf("cdnapi.yaml must override common.yaml: bucket %q", cfg.MinIO.Bucket)
	}
	if cfg.HTTP.Host != "0.0.0.0" || cfg.HTTP.WriteTimeout != 90*time.Second {
		t.Errorf("cdnapi.yaml http = %+v", cfg.HTTP)
	}
	if cfg.HTTP.ReadHeaderTimeout != 5*time.Second {
		t.Errorf("keys absent from the files must keep their defaults: %+v", cfg.HTTP)
	}
	if !cfg.MinIO.Secure || cfg.HTTP.Port != 9200 || cfg.HTTP.IdleTimeout != 45*time.Second ||
		cfg.MinIO.ConnectTimeout != 750*time.Millisecond {
		t.Errorf("env not applied: %+v %+v", cfg.MinIO, cfg.HTTP)
	}
	if strings.Join(cfg.HTTP.TrustedProxies, "|") != "10.0.0.0/8|127.0.0.1" {
		t.Errorf("trusted proxies = %q", cfg.HTTP.TrustedProxies)
	}
	if cfg.Cache.MaxBytes != 1<<20 || cfg.Cache.MaxObjectBytes != 64<<10 || cfg.Cache.TTL != 30*time.Second {
		t.Errorf("cache = %+v, want max_bytes from the file, the rest from env", cfg.Cache)
	}
	if !cfg.Auth.PublicRead || cfg.Signing.Secret != "from-common-yaml-and-at-least-32-chars" {
		t.Errorf("auth/signing = %+v %+v", cfg.Auth, cfg.Signing)
	}
	if cfg.Log.SlogLevel() != slog.LevelWarn {
		t.Errorf("level = %v", cfg.Log.SlogLevel())
	}
	if cfg.Redis.URL != "redis://:pw@redis:6379/2" || cfg.CDN.TTL != 5*time.Minute ||
		cfg.Cache.DiskDir != "/var/cache/cdn" || cfg.Cache.DiskMaxBytes != 1<<30 ||
		cfg.MinIO.PublicEndpoint != "https://files.example.com" {
		t.Errorf("redis %+v, cdn %+v, cache %+v, public endpoint %q: want the environment's",
			cfg.Redis, cfg.CDN, cfg.Cache, cfg.MinIO.PublicEndpoint)
	}
}

func TestRepoConfFilesAreValid(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "conf")
	if _, err := os.Stat(filepath.Join(dir, ServiceFile)); err != nil {
		t.Fatalf("conf/%s missing: %v", ServiceFile, err)
	}
	cfg, err := Load(dir, withSecret(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Port != 8002 || cfg.MinIO.Bucket != "images" {
		t.Errorf("repo conf = %+v", cfg)
	}
	if !cfg.Cache.Enabled() || cfg.Cache.MaxObjectBytes > cfg.Cache.MaxBytes || !cfg.Cache.DiskEnabled() {
		t.Errorf("repo conf cache = %+v", cfg.Cache)
	}
}

func TestInvalidConfigsAreClearErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"bad port env", "", map[string]string{"HTTP__PORT": "http"}, "HTTP__PORT"},
		{"port range", "", map[string]string{"HTTP__PORT": "0"}, "http.port"},
		{"bad bool", "", map[string]string{"MINIO__SECURE": "maybe"}, "MINIO__SECURE"},
		{"bad duration", "", map[string]string{"HTTP__READ_TIMEOUT": "10"}, "HTTP__READ_TIMEOUT"},
		{"scheme in endpoint", "", map[string]string{"MINIO__ENDPOINT": "http://x:9000"}, "minio.endpoint"},
		{"bad bucket", "", map[string]string{"MINIO__BUCKET": "Images_!"}, "minio.bucket"},
		{"bad level", "", map[string]string{"LOG__LEVEL": "LOUD"}, "log.level"},
		{"negative cache", "", map[string]string{"CACHE__MAX_BYTES": "-1"}, "cache.max_bytes"},
		{"cache int", "", map[string]string{"CACHE__MAX_BYTES": "64MiB"}, "CACHE__MAX_BYTES"},
		{"cache ttl", "", map[string]string{"CACHE__TTL": "0s"}, "cache.ttl"},
		{"object over cache", "cache: {max_bytes: 1000, max_object_bytes: 2000}", nil, "cache.max_object_bytes"},
		{"public read not a bool", "", map[string]string{"AUTH__PUBLIC_READ": "sometimes"}, "AUTH__PUBLIC_READ"},
		{"disk object over disk", "cache: {disk_max_bytes: 1000, disk_max_object_bytes: 2000}", nil, "cache.disk_max_object_bytes"},
		{"disk without a dir", "", map[string]string{"CACHE__DISK_DIR": ""}, "cache.disk_dir"},
		{"redis url", "", map[string]string{"REDIS__URL": "http://redis:6379"}, "redis.url"},
		{"presign ttl", "", map[string]string{"CDN__PRESIGN_TTL": "30d"}, "CDN__PRESIGN_TTL"},
		{"presign ttl range", "", map[string]string{"CDN__PRESIGN_TTL": "200h"}, "cdn.presign_ttl"},
		{"public endpoint", "", map[string]string{"MINIO__PUBLIC_ENDPOINT": "files.example.com"}, "minio.public_endpoint"},
		{"yaml type", "http: {port: eighty}", nil, "cdnapi.yaml"},
		{"yaml syntax", "http: [", nil, "cdnapi.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.yaml != "" {
				writeFile(t, dir, ServiceFile, tc.yaml)
			}
			_, err := Load(dir, withSecret(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load() error = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestPrivateReadsNeedASigningSecret(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"private without a secret", nil, false},
		{"private with 31 characters", map[string]string{"SIGNING__SECRET": strings.Repeat("s", 31)}, false},
		{"private with 32 characters", map[string]string{"SIGNING__SECRET": strings.Repeat("s", 32)}, true},
		{"public without a secret", map[string]string{"AUTH__PUBLIC_READ": "true"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(t.TempDir(), env(tc.env))
			if tc.ok && err != nil {
				t.Errorf("Load() = %v, want no error", err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "signing.secret")) {
				t.Errorf("Load() = %v, want an error naming signing.secret", err)
			}
		})
	}
}

func TestDefaultMinIOPasswordOnlyOnLoopback(t *testing.T) {
	cases := []struct {
		host, secret string
		ok           bool
	}{
		{"127.0.0.1", "minioadmin", true},
		{"::1", "minioadmin", true},
		{"localhost", "minioadmin", true},
		{"0.0.0.0", "minioadmin", false},
		{"::", "minioadmin", false},
		{"192.168.1.10", "minioadmin", false},
		{"cdnapi", "minioadmin", false},
		{"0.0.0.0", "a-real-password", true},
		{"127.0.0.1", "", false}, // empty is never a password
	}
	for _, tc := range cases {
		_, err := Load(t.TempDir(), withSecret(map[string]string{"HTTP__HOST": tc.host, "MINIO__SECRET_KEY": tc.secret}))
		if tc.ok && err != nil {
			t.Errorf("host %s secret %q: %v, want no error", tc.host, tc.secret, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "minio.secret_key")) {
			t.Errorf("host %s secret %q: %v, want an error naming minio.secret_key", tc.host, tc.secret, err)
		}
	}
}

func TestDir(t *testing.T) {
	if got := Dir(env(nil)); got != "conf" {
		t.Errorf("Dir() = %q", got)
	}
	if got := Dir(env(map[string]string{"CONF_DIR": "/etc/imagesearch"})); got != "/etc/imagesearch" {
		t.Errorf("Dir() = %q", got)
	}
}

func TestParseListJSON(t *testing.T) {
	items, err := parseList(`["::1", "127.0.0.1"]`)
	if err != nil || len(items) != 2 || items[0] != "::1" {
		t.Errorf("parseList = %v, %v", items, err)
	}
}
