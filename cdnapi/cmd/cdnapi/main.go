// Command cdnapi serves image originals, thumbnails and variants from MinIO over HTTP, through a
// memory and a disk cache; while reads are private (auth.public_read false), only through links
// signed with signing.secret. It forgets deleted images announced on Redis, and redirects to
// presigned MinIO URLs on request (redirect=storage).
//
// It reads conf/common.yaml then conf/cdnapi.yaml (relative to the working directory, or
// $CONF_DIR), then SECTION__KEY environment variables, and stops gracefully on SIGTERM/SIGINT.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/config"
	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/invalidate"
	"github.com/imagesearch/cdnapi/internal/logging"
	"github.com/imagesearch/cdnapi/internal/presign"
	"github.com/imagesearch/cdnapi/internal/redisconn"
	"github.com/imagesearch/cdnapi/internal/server"
	"github.com/imagesearch/cdnapi/internal/signing"
	"github.com/imagesearch/cdnapi/internal/storage"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cdnapi:", err)
		os.Exit(1)
	}
}

// run wires the packages explicitly and serves until a signal arrives.
func run() error {
	cfg, err := config.Load(config.Dir(os.LookupEnv), os.LookupEnv)
	if err != nil {
		return err
	}
	logger, logs := logging.New(os.Stdout, cfg.Log.SlogLevel())
	defer func() { _ = logs.Close() }()
	goredis.SetLogger(redisconn.Logger{Log: logger}) // go-redis has only a package-level logger

	store, err := storage.New(cfg.MinIO)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	memory, disk, collectors, err := openCaches(cfg)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	redisClient, err := redisconn.New(cfg.Redis)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	presigner, err := presign.New(cfg.CDN, presign.Deps{Storage: store, Redis: redisClient, Logger: logger})
	if err != nil {
		return fmt.Errorf("presign: %w", err)
	}
	links, err := signedLinks(cfg)
	if err != nil {
		return err
	}
	images, err := handler.NewImages(handler.ImagesDeps{
		Store: store, Memory: memory, Disk: disk, Presigner: presigner, Links: links, Logger: logger,
	})
	if err != nil {
		return err
	}
	health, err := handler.NewHealth(store, logger)
	if err != nil {
		return err
	}
	srv, err := server.New(cfg.HTTP, server.Deps{
		Images: images, Health: health, Logger: logger, AccessLog: logs, Collectors: collectors,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := listen(ctx, redisClient, memory, disk, presigner, logger); err != nil {
		return err
	}
	logger.Info("starting", "addr", cfg.HTTP.Addr(), "minio", cfg.MinIO.Endpoint, "bucket", cfg.MinIO.Bucket,
		"cache_max_bytes", cfg.Cache.MaxBytes, "cache_max_object_bytes", cfg.Cache.MaxObjectBytes,
		"cache_ttl", cfg.Cache.TTL.String(), "disk_cache_dir", cfg.Cache.DiskDir,
		"disk_cache_max_bytes", cfg.Cache.DiskMaxBytes, "disk_cache_entries", disk.Len(),
		"redis", redisClient != nil, "public_read", cfg.Auth.PublicRead)
	return srv.Run(ctx)
}

// openCaches builds the memory tier and opens the disk tier (nil when off), and returns their
// metrics.
func openCaches(cfg config.Config) (*cache.Cache, *cache.Disk, []prometheus.Collector, error) {
	memory, err := cache.New(cfg.Cache, cache.Deps{})
	if err != nil {
		return nil, nil, nil, err
	}
	disk, err := cache.OpenDisk(cfg.Cache, cfg.MinIO.Bucket, cache.Deps{})
	if err != nil {
		return nil, nil, nil, err
	}
	if disk == nil {
		return memory, nil, []prometheus.Collector{memory}, nil
	}
	return memory, disk, []prometheus.Collector{memory, disk}, nil
}

// listen starts applying deletion messages in the background until ctx ends; without Redis
// (redis.url empty) deletions are caught by the caches' TTL alone.
func listen(ctx context.Context, client *goredis.Client, memory *cache.Cache, disk *cache.Disk,
	presigner *presign.Presigner, logger *slog.Logger) error {
	if client == nil {
		logger.Warn("no redis.url: deleted images are forgotten only when cache entries expire")
		return nil
	}
	listener, err := invalidate.New(invalidate.Deps{
		Redis: client, Memory: memory, Disk: disk, Presigned: presigner, Logger: logger,
	})
	if err != nil {
		return err
	}
	go listener.Run(ctx)
	return nil
}

// signedLinks is the check of the byte routes while reads are private; nil when they are public.
func signedLinks(cfg config.Config) (*handler.SignedLinks, error) {
	if cfg.Auth.PublicRead {
		return nil, nil
	}
	signer, err := signing.New(cfg.Signing)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return handler.NewSignedLinks(signer, time.Now)
}
