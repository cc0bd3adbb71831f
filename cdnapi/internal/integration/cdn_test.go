package integration

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/invalidate"
	"github.com/imagesearch/cdnapi/internal/presign"
	"github.com/imagesearch/cdnapi/internal/server"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// cdnOptions say how newCDNServer builds the cdnapi under test; zero values are production's
// defaults, except that the disk tier lives in a temporary directory.
type cdnOptions struct {
	endpoint, bucket string
	cache            *cache.Config        // nil: cache.NewDefaultConfig()
	now              func() time.Time     // nil: time.Now
	links            *handler.SignedLinks // nil: public reads
	redis            *redis.Client        // presigned URL cache and deletion listener; nil: neither
	presignTTL       time.Duration        // 0: presign.NewDefaultConfig()
	logs             io.Writer            // nil: discarded
}

// cdnUnderTest is a cdnapi router served over real loopback HTTP, with its cache tiers.
type cdnUnderTest struct {
	URL    string
	memory *cache.Cache
	disk   *cache.Disk
}

// newCDN serves the full router reading endpoint/bucketName with the default caches.
func newCDN(t *testing.T, endpoint, bucketName string) *cdnUnderTest {
	t.Helper()
	return newCDNServer(t, cdnOptions{endpoint: endpoint, bucket: bucketName})
}

// newCDNWithCache is newCDN with a given cache configuration and clock (nil: time.Now).
func newCDNWithCache(t *testing.T, endpoint, bucketName string, cacheCfg cache.Config, now func() time.Time) *cdnUnderTest {
	t.Helper()
	return newCDNServer(t, cdnOptions{endpoint: endpoint, bucket: bucketName, cache: &cacheCfg, now: now})
}

// newCDNServer wires cdnapi as main does, from opts; the listener, when opts.redis is set, runs
// until the test ends.
func newCDNServer(t *testing.T, opts cdnOptions) *cdnUnderTest {
	t.Helper()
	cfg := storage.NewDefaultConfig()
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey, cfg.Bucket = opts.endpoint, rootUser, rootPassword, opts.bucket
	store, err := storage.New(cfg)
	check(t, err)
	if opts.logs == nil {
		opts.logs = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(opts.logs, nil))
	cacheCfg := cache.NewDefaultConfig()
	if opts.cache != nil {
		cacheCfg = *opts.cache
	}
	if cacheCfg.DiskDir == cache.NewDefaultConfig().DiskDir {
		cacheCfg.DiskDir = t.TempDir()
	}
	memory, err := cache.New(cacheCfg, cache.Deps{Now: opts.now})
	check(t, err)
	disk, err := cache.OpenDisk(cacheCfg, opts.bucket, cache.Deps{Now: opts.now})
	check(t, err)
	presignCfg := presign.NewDefaultConfig()
	if opts.presignTTL != 0 {
		presignCfg.TTL = opts.presignTTL
	}
	presigner, err := presign.New(presignCfg, presign.Deps{Storage: store, Redis: opts.redis, Logger: logger})
	check(t, err)
	images, err := handler.NewImages(handler.ImagesDeps{Store: store, Memory: memory, Disk: disk, Presigner: presigner,
		Links: opts.links, Logger: logger})
	check(t, err)
	health, err := handler.NewHealth(store, logger)
	check(t, err)
	collectors := []prometheus.Collector{memory}
	if disk != nil {
		collectors = append(collectors, disk)
	}
	srv, err := server.New(server.NewDefaultConfig(), server.Deps{
		Images: images, Health: health, Logger: logger, AccessLog: opts.logs, Collectors: collectors,
	})
	check(t, err)
	if opts.redis != nil {
		listener, err := invalidate.New(invalidate.Deps{Redis: opts.redis, Memory: memory, Disk: disk,
			Presigned: presigner, Logger: logger})
		check(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); listener.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &cdnUnderTest{URL: ts.URL, memory: memory, disk: disk}
}

// check fails the test on an error.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
