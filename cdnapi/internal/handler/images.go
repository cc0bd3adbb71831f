// Package handler holds cdnapi's HTTP handlers: image bytes, health, and the RFC 9457 error writer.
package handler

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// IDLength is the length of an image id: a lowercase hex SHA-256.
const IDLength = 64

// ParamID is the route parameter that carries the image id.
const ParamID = "id"

// StatusClientClosedRequest is recorded (never really sent) when the client went away before an answer.
const StatusClientClosedRequest = 499

// ObjectGetter opens a stored object by key; *storage.Client implements it.
// Errors wrap storage.ErrNotFound or storage.ErrUnavailable.
type ObjectGetter interface {
	GetObject(ctx context.Context, key string) (*storage.Object, error)
}

// ValidID reports whether id is exactly 64 lowercase hex characters.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			return false
		}
	}
	return true
}

// Images serves image originals and thumbnails from an ObjectGetter, keeping small objects in an
// in-process cache. The bytes under a key never change (ids are SHA-256 of the bytes), so a cached
// answer is always the right one while the object exists; one deleted from MinIO by another
// service can still be served from the cache until the entry's TTL runs out, and then answers 404.
type Images struct {
	store  ObjectGetter
	cache  *cache.Cache
	flight singleflight.Group // one MinIO request per object key at a time, on a cache miss
	logger *slog.Logger
}

// NewImages returns the image handlers reading from store. Objects that objects.Fits are kept in
// objects and answered from memory until its TTL; objects may be nil (or off) to stream everything.
func NewImages(store ObjectGetter, objects *cache.Cache, logger *slog.Logger) (*Images, error) {
	if store == nil {
		return nil, errors.New("handler: nil ObjectGetter")
	}
	if logger == nil {
		return nil, errors.New("handler: nil logger")
	}
	return &Images{store: store, cache: objects, logger: logger}, nil
}

// Original answers GET/HEAD /images/{id} with the object originals/{id}; ETag "<id>".
func (h *Images) Original(c *gin.Context) {
	h.serve(c, "image", storage.OriginalKey, "")
}

// Thumb answers GET/HEAD /images/{id}/thumb with the object thumbs/{id}.webp; ETag "<id>-thumb".
func (h *Images) Thumb(c *gin.Context) {
	h.serve(c, "thumbnail", storage.ThumbKey, "-thumb")
}

// serve answers with one object through http.ServeContent, which handles Range (206/416),
// If-None-Match / If-Modified-Since (304), If-Match (412) and HEAD (no body). A cached object is
// served from memory; otherwise it is fetched, and either cached (small) or streamed (large).
func (h *Images) serve(c *gin.Context, what string, key func(string) string, etagSuffix string) {
	id := c.Param(ParamID)
	if !ValidID(id) {
		WriteProblem(c, ProblemInvalidID, "image id must be exactly 64 lowercase hex characters (a SHA-256)")
		return
	}
	objectKey := key(id)
	etag := `"` + id + etagSuffix + `"`
	if h.cache.Enabled() {
		if entry, ok := h.cache.Get(objectKey); ok {
			h.serveEntry(c, etag, entry)
			return
		}
	}
	ctx := c.Request.Context()
	obj, entry, err := h.fetch(ctx, objectKey)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		c.Status(StatusClientClosedRequest)
		c.Abort()
		return
	case errors.Is(err, storage.ErrNotFound):
		WriteProblem(c, ProblemNotFound, "no "+what+" with id "+id)
		return
	default:
		h.logger.Warn("storage error", "key", objectKey, "error", err.Error())
		WriteProblem(c, ProblemDependencyUnavailable, "image storage is unavailable, retry later")
		return
	}
	if obj == nil {
		h.serveEntry(c, etag, entry)
		return
	}
	defer func() { _ = obj.Body.Close() }()
	body := &errRecorder{ReadSeeker: obj.Body}
	h.serveContent(c, etag, obj.ContentType, obj.LastModified, body)
	if body.err != nil && ctx.Err() == nil {
		h.logger.Warn("stream interrupted", "key", objectKey, "error", body.err.Error())
	}
}

// serveEntry answers from a cached object's bytes.
func (h *Images) serveEntry(c *gin.Context, etag string, entry cache.Entry) {
	h.serveContent(c, etag, entry.ContentType, entry.LastModified, bytes.NewReader(entry.Data))
}

// serveContent sets the image headers and lets http.ServeContent answer from content; an error
// status it writes itself (412, 416, 500) is replaced by a problem.
func (h *Images) serveContent(c *gin.Context, etag, contentType string, modified time.Time, content io.ReadSeeker) {
	hdr := c.Writer.Header()
	hdr.Set(HeaderETag, etag)
	hdr.Set(HeaderCacheControl, cacheControl(c))
	hdr.Set(HeaderContentType, contentType)
	hdr.Set(HeaderContentTypeOptions, NoSniff)

	catcher := &problemCatcher{ResponseWriter: c.Writer}
	http.ServeContent(catcher, c.Request, "", modified, content)
	if catcher.status != 0 {
		WriteProblem(c, problemCodeFor(catcher.status), strings.TrimSpace(string(catcher.detail)))
	}
}

// fetch opens key in storage. With the cache on, concurrent fetches of one key share a single
// MinIO request (singleflight): an object that fits the cache is read whole, cached and returned
// as an Entry (obj nil) to every caller; a larger one is returned as a stream (obj) to the caller
// that made the request, while the callers that waited on it open their own stream.
func (h *Images) fetch(ctx context.Context, key string) (*storage.Object, cache.Entry, error) {
	if !h.cache.Enabled() {
		obj, err := h.store.GetObject(ctx, key)
		return obj, cache.Entry{}, err
	}
	var stream *storage.Object // set only in the caller that ran the function below
	v, err, shared := h.flight.Do(key, func() (any, error) {
		// A flight that started just after another one cached the object finds it here.
		if entry, ok := h.cache.Peek(key); ok {
			return entry, nil
		}
		obj, err := h.store.GetObject(ctx, key)
		if err != nil {
			return nil, err
		}
		if !h.cache.Fits(obj.Size) {
			stream = obj
			return nil, nil
		}
		defer func() { _ = obj.Body.Close() }()
		entry, err := readEntry(obj)
		if err != nil {
			return nil, err
		}
		h.cache.Add(key, entry)
		return entry, nil
	})
	switch {
	case stream != nil:
		return stream, cache.Entry{}, nil
	case err != nil && shared && ctx.Err() == nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// The request that fetched for us went away mid-flight; we are still here, so go alone.
		obj, err := h.store.GetObject(ctx, key)
		return obj, cache.Entry{}, err
	case err != nil:
		return nil, cache.Entry{}, err
	case v == nil:
		// Too large to cache, and the stream belongs to the request that fetched it.
		obj, err := h.store.GetObject(ctx, key)
		return obj, cache.Entry{}, err
	}
	return nil, v.(cache.Entry), nil
}

// readEntry reads a small object whole; Size comes from the GET response headers.
func readEntry(obj *storage.Object) (cache.Entry, error) {
	data := make([]byte, obj.Size)
	if _, err := io.ReadFull(obj.Body, data); err != nil {
		return cache.Entry{}, err
	}
	return cache.Entry{Data: data, ContentType: obj.ContentType, LastModified: obj.LastModified, Size: obj.Size}, nil
}

// errRecorder remembers the first read error other than io.EOF, which ServeContent discards.
type errRecorder struct {
	io.ReadSeeker
	err error
}

// Read reads from the object and records a failure.
func (r *errRecorder) Read(p []byte) (int, error) {
	n, err := r.ReadSeeker.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// maxCaughtDetail bounds the error text kept from http.ServeContent.
const maxCaughtDetail = 512

// problemCatcher lets a successful response through, but holds back an error status and its
// text/plain body that http.ServeContent writes itself (416, 500), so WriteProblem answers instead.
type problemCatcher struct {
	http.ResponseWriter
	status int
	detail []byte
}

// WriteHeader forwards codes below 400 and records the others.
func (p *problemCatcher) WriteHeader(code int) {
	if code >= http.StatusBadRequest {
		p.status = code
		return
	}
	p.ResponseWriter.WriteHeader(code)
}

// Write forwards the body of a success and keeps (a bounded prefix of) the body of an error.
func (p *problemCatcher) Write(b []byte) (int, error) {
	if p.status == 0 {
		return p.ResponseWriter.Write(b)
	}
	if room := maxCaughtDetail - len(p.detail); room > 0 {
		p.detail = append(p.detail, b[:min(room, len(b))]...)
	}
	return len(b), nil
}
