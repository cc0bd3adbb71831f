// Command cdnapi serves image originals and thumbnails from MinIO over HTTP; while reads are
// private (auth.public_read false), only through links signed with signing.secret.
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

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/config"
	"github.com/imagesearch/cdnapi/internal/handler"
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
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))

	store, err := storage.New(cfg.MinIO)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	objects, err := cache.New(cfg.Cache, cache.Deps{})
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	images, err := handler.NewImages(store, objects, logger)
	if err != nil {
		return err
	}
	health, err := handler.NewHealth(store, logger)
	if err != nil {
		return err
	}
	links, err := signedLinks(cfg)
	if err != nil {
		return err
	}
	srv, err := server.New(cfg.HTTP, server.Deps{
		Images: images, Health: health, Links: links, Logger: logger, Collectors: []prometheus.Collector{objects},
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	logger.Info("starting", "addr", cfg.HTTP.Addr(), "minio", cfg.MinIO.Endpoint, "bucket", cfg.MinIO.Bucket,
		"cache_max_bytes", cfg.Cache.MaxBytes, "cache_max_object_bytes", cfg.Cache.MaxObjectBytes,
		"cache_ttl", cfg.Cache.TTL.String(), "public_read", cfg.Auth.PublicRead)
	err = srv.Run(ctx)
	if err != nil {
		return err
	}
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
