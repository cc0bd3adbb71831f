// Package invalidate listens on the Redis channel where ingestapi announces deleted images
// (payload: the image id) and makes cdnapi forget them at once: memory and disk cache entries
// and cached presigned URLs.
//
// Redis is not needed to serve bytes: while it is unreachable the listener logs, waits with a
// growing pause and reconnects, and the caches' TTL bounds how long a deletion can go unseen.
// Messages published while the connection was down are lost, so after a reconnection every cache
// entry is expired (the disk tier keeps its files and checks each with MinIO on next use).
package invalidate

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/presign"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// Channel is where image deletions are published.
const Channel = "imagesearch:deleted"

// Timing of the listener.
const (
	// pingEvery is how long a quiet connection waits before a PING checks that it is alive.
	pingEvery = 30 * time.Second
	// minPause and maxPause bound the wait between reconnection attempts.
	minPause = 100 * time.Millisecond
	maxPause = 5 * time.Second
)

// Deps are what the Listener invalidates; Redis and Logger are required, the rest optional.
type Deps struct {
	// Redis carries the channel.
	Redis *redis.Client
	// Memory is the memory cache tier.
	Memory *cache.Cache
	// Disk is the disk cache tier.
	Disk *cache.Disk
	// Presigned caches presigned URLs.
	Presigned *presign.Presigner
	// Logger receives deletions and connection trouble.
	Logger *slog.Logger
}

// Listener applies deletion messages until its context ends.
type Listener struct {
	Deps
}

// New returns a Listener; Run starts it.
func New(deps Deps) (*Listener, error) {
	if deps.Redis == nil || deps.Logger == nil {
		return nil, errors.New("invalidate: Redis and Logger are required")
	}
	return &Listener{Deps: deps}, nil
}

// Run subscribes and applies messages until ctx ends, reconnecting after failures.
func (l *Listener) Run(ctx context.Context) {
	sub := l.Redis.Subscribe(ctx, Channel)
	// A receive waits on the network, deaf to ctx: closing the subscription ends it.
	context.AfterFunc(ctx, func() { _ = sub.Close() })
	pause, lost := minPause, false // lost: messages may have been missed since the last subscription
	for ctx.Err() == nil {
		msg, err := sub.ReceiveTimeout(ctx, pingEvery)
		var netErr net.Error
		switch {
		case err == nil:
			pause = minPause
			if l.handle(ctx, msg, lost) {
				lost = false
			}
		case ctx.Err() != nil:
		case errors.As(err, &netErr) && netErr.Timeout():
			if err := sub.Ping(ctx); err != nil { // go-redis reconnects and subscribes again
				l.Logger.Warn("invalidation channel ping failed, reconnecting", "channel", Channel, "error", err.Error())
				lost = true
			}
		default:
			if !lost {
				l.Logger.Warn("invalidation channel unavailable, reconnecting", "channel", Channel, "error", err.Error())
			}
			lost = true
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			pause = min(2*pause, maxPause)
		}
	}
}

// handle applies one message of the subscription; it returns whether the message confirmed the
// subscription. A confirmation after a failure (lost) means messages may have been missed
// meanwhile, so everything cached is expired.
func (l *Listener) handle(ctx context.Context, msg any, lost bool) bool {
	switch m := msg.(type) {
	case *redis.Subscription:
		if m.Kind != "subscribe" {
			return false
		}
		if lost {
			memory, disk := l.Memory.ExpireAll(), l.Disk.ExpireAll()
			l.Logger.Warn("invalidation channel reconnected, caches expired", "channel", Channel,
				"memory_entries", memory, "disk_entries", disk)
		} else {
			l.Logger.Info("listening for deletions", "channel", Channel)
		}
		return true
	case *redis.Message:
		l.Drop(ctx, m.Payload)
	}
	return false
}

// Drop forgets image id everywhere it may be cached; a payload that is not an image id is logged.
func (l *Listener) Drop(ctx context.Context, id string) {
	if !storage.ValidID(id) {
		l.Logger.Warn("ignored deletion message", "channel", Channel, "payload_bytes", len(id))
		return
	}
	memory, disk := l.Memory.DropImage(id), l.Disk.DropImage(id)
	if l.Presigned != nil {
		if err := l.Presigned.DropImage(ctx, id); err != nil {
			l.Logger.Warn("presigned URLs of a deleted image not dropped", "image_id", id, "error", err.Error())
		}
	}
	l.Logger.Info("image deleted, cache dropped", "image_id", id, "memory_entries", memory, "disk_entries", disk)
}
