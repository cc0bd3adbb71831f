// Package handler holds cdnapi's HTTP handlers: image bytes (originals, thumbnails, variants)
// from the caches or MinIO, redirects to presigned MinIO URLs, the signed-link check of private
// reads, request ids, health, and the RFC 9457 error writer.
package handler

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// Route parameters.
const (
	// ParamID carries the image id.
	ParamID = "id"
	// ParamVariant carries the variant id.
	ParamVariant = "variant"
)

// StatusClientClosedRequest is recorded (never really sent) when the client went away before an answer.
const StatusClientClosedRequest = 499

// ObjectStore reads stored objects by key; *storage.Client implements it.
// Errors wrap storage.ErrNotFound or storage.ErrUnavailable.
type ObjectStore interface {
	// GetObject opens an object's bytes.
	GetObject(ctx context.Context, key string) (*storage.Object, error)
	// StatObject tells an object's metadata.
	StatObject(ctx context.Context, key string) (storage.Info, error)
}

// ImagesDeps are the collaborators of Images; Store and Logger are required.
type ImagesDeps struct {
	// Store holds the objects.
	Store ObjectStore
	// Memory keeps small objects in memory; nil or off: none.
	Memory *cache.Cache
	// Disk keeps larger objects on disk; nil: none.
	Disk *cache.Disk
	// Presigner answers redirect=storage; nil: such requests are answered 503.
	Presigner Presigner
	// Links makes reads private: the byte routes are behind its check (LinkCheck) and answers
	// are cached privately until the link expires; nil: public reads.
	Links *SignedLinks
	// Logger receives storage errors.
	Logger *slog.Logger
}

// Images serves image originals, thumbnails and variants from an ObjectStore, keeping small
// objects in memory and larger ones on disk (see package cache); the rest is streamed. The bytes
// under a key never change (ids are SHA-256 hashes), so a cached answer is always the right one
// while the object exists.
type Images struct {
	ImagesDeps
	flight singleflight.Group // one MinIO request per object key at a time, on a cache miss
}

// NewImages returns the image handlers.
func NewImages(deps ImagesDeps) (*Images, error) {
	if deps.Store == nil {
		return nil, errors.New("handler: nil ObjectStore")
	}
	if deps.Logger == nil {
		return nil, errors.New("handler: nil logger")
	}
	return &Images{ImagesDeps: deps}, nil
}

// object is what one request asks for.
type object struct {
	key     string // in storage
	etag    string // quoted
	what    string // for a 404's detail: "image", "thumbnail" or "variant"
	id      string
	variant string // the variant id, for variants
}

// description names the object in a 404's detail.
func (o object) description() string {
	if o.variant != "" {
		return "variant " + o.variant + " of image " + o.id
	}
	return o.what + " with id " + o.id
}

// Original answers GET/HEAD /images/{id} with the object originals/{id}; ETag "<id>".
func (h *Images) Original(c *gin.Context) {
	if id, ok := h.imageID(c); ok {
		h.serve(c, object{key: storage.OriginalKey(id), etag: `"` + id + `"`, what: "image", id: id})
	}
}

// Thumb answers GET/HEAD /images/{id}/thumb with the object thumbs/{id}.webp; ETag "<id>-thumb".
func (h *Images) Thumb(c *gin.Context) {
	if id, ok := h.imageID(c); ok {
		h.serve(c, object{key: storage.ThumbKey(id), etag: `"` + id + `-thumb"`, what: "thumbnail", id: id})
	}
}

// Variant answers GET/HEAD /images/{id}/variants/{variant} with the object
// variants/{id}/{variant}; ETag "<variant>" (a variant id already names one image's rendering).
func (h *Images) Variant(c *gin.Context) {
	id, ok := h.imageID(c)
	if !ok {
		return
	}
	variantID := c.Param(ParamVariant)
	if !storage.ValidID(variantID) {
		WriteProblem(c, ProblemInvalidID, "variant id must be exactly 64 lowercase hex characters (a SHA-256)")
		return
	}
	h.serve(c, object{key: storage.VariantKey(id, variantID), etag: `"` + variantID + `"`, what: "variant",
		id: id, variant: variantID})
}

// imageID is the route's image id, or false after answering 400 for a malformed one.
func (h *Images) imageID(c *gin.Context) (string, bool) {
	id := c.Param(ParamID)
	if !storage.ValidID(id) {
		WriteProblem(c, ProblemInvalidID, "image id must be exactly 64 lowercase hex characters (a SHA-256)")
		return "", false
	}
	return id, true
}

// serve answers with one object: a redirect to storage when asked, else its bytes from memory,
// from disk, or fetched from MinIO (and then cached in the tier its size fits, or streamed).
func (h *Images) serve(c *gin.Context, obj object) {
	if target, asked := queryValue(c.Request.URL.RawQuery, ParamRedirect); asked {
		h.redirect(c, obj, target)
		return
	}
	if entry, ok := h.Memory.Get(obj.key); ok {
		h.sendEntry(c, obj.etag, entry)
		return
	}
	if f, file, found := h.Disk.Open(obj.key); found != cache.Miss {
		defer func() { _ = f.Close() }()
		if h.serveDisk(c, obj, f, file, found) {
			return
		}
	}
	got, err := h.fetch(c.Request.Context(), obj.key)
	if err != nil {
		h.storageError(c, obj, err)
		return
	}
	defer got.close()
	switch {
	case got.file != nil:
		h.sendFile(c, obj.etag, got.meta, got.file)
	case got.stream != nil:
		h.sendStream(c, obj, got.stream)
	default:
		h.sendEntry(c, obj.etag, got.entry)
	}
}

// serveDisk answers from a file of the disk tier, first asking MinIO whether a Stale one is still
// the object. It returns false, having answered nothing, when the file must be fetched again.
func (h *Images) serveDisk(c *gin.Context, obj object, f *os.File, file cache.File, found cache.Lookup) bool {
	if found == cache.Stale {
		info, err := h.Store.StatObject(c.Request.Context(), obj.key)
		if errors.Is(err, storage.ErrNotFound) {
			h.Disk.Remove(obj.key)
		}
		if err != nil {
			h.storageError(c, obj, err)
			return true
		}
		var ok bool
		if file, ok = h.Disk.Revalidate(obj.key, info); !ok {
			return false
		}
	}
	h.sendFile(c, obj.etag, file, f)
	return true
}

// storageError answers a failed storage request: 499 (recorded only) when the client left,
// 404 for a missing object, else 503.
func (h *Images) storageError(c *gin.Context, obj object, err error) {
	switch {
	case c.Request.Context().Err() != nil:
		c.Status(StatusClientClosedRequest)
		c.Abort()
	case errors.Is(err, storage.ErrNotFound):
		WriteProblem(c, ProblemNotFound, "no "+obj.description())
	default:
		h.Logger.Warn("storage error", "key", obj.key, "error", err.Error(), "request_id", RequestID(c))
		WriteProblem(c, ProblemDependencyUnavailable, "image storage is unavailable, retry later")
	}
}
