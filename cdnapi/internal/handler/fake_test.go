package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// fakeObject is one stored object of the fake store.
type fakeObject struct {
	data        []byte
	contentType string
	modified    time.Time
}

// fakeStore is an in-memory ObjectGetter and ReadinessChecker that records its calls.
type fakeStore struct {
	mu       sync.Mutex
	objects  map[string]fakeObject
	err      error // returned by every GetObject when set
	readyErr error
	calls    []string // GetObject keys
	stats    []string // StatObject keys
	opened   int
	closed   int
	gate     chan struct{} // when set, GetObject waits for it to close (or its context to end)
}

func newFakeStore() *fakeStore {
	return &fakeStore{objects: map[string]fakeObject{}}
}

func (f *fakeStore) put(key string, data []byte, contentType string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = fakeObject{data: data, contentType: contentType, modified: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeStore) remove(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, key)
}

// holdFetches makes every GetObject wait at a gate until the returned function opens it; calling
// that function again does nothing. Call it before any request is sent.
func (f *fakeStore) holdFetches() (release func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	return sync.OnceFunc(func() { close(gate) })
}

// GetObject returns the object, storage.ErrNotFound, or the configured error.
func (f *fakeStore) GetObject(ctx context.Context, key string) (*storage.Object, error) {
	f.mu.Lock()
	f.calls = append(f.calls, key)
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	obj, ok := f.objects[key]
	if !ok {
		return nil, errors.Join(storage.ErrNotFound, errors.New(key))
	}
	f.opened++
	return &storage.Object{
		Body:         &closeCounter{ReadSeeker: bytes.NewReader(obj.data), store: f},
		Size:         int64(len(obj.data)),
		ContentType:  obj.contentType,
		LastModified: obj.modified,
	}, nil
}

// StatObject returns the object's metadata, storage.ErrNotFound, or the configured error.
func (f *fakeStore) StatObject(_ context.Context, key string) (storage.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats = append(f.stats, key)
	if f.err != nil {
		return storage.Info{}, f.err
	}
	obj, ok := f.objects[key]
	if !ok {
		return storage.Info{}, errors.Join(storage.ErrNotFound, errors.New(key))
	}
	return storage.Info{Size: int64(len(obj.data)), ContentType: obj.contentType, LastModified: obj.modified}, nil
}

func (f *fakeStore) statCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stats)
}

// Ready returns the configured readiness error.
func (f *fakeStore) Ready(context.Context) error { return f.readyErr }

func (f *fakeStore) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// balanced reports whether every body the store opened was closed.
func (f *fakeStore) balanced() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened == f.closed
}

// closeCounter counts Close calls on the fake store.
type closeCounter struct {
	io.ReadSeeker
	store *fakeStore
}

func (c *closeCounter) Close() error {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	c.store.closed++
	return nil
}

// newRouter mounts the handlers the way the server does, on a bare gin engine, without a cache:
// every request streams from the store.
func newRouter(t *testing.T, store *fakeStore) *gin.Engine {
	t.Helper()
	return newCachedRouter(t, store, nil)
}

// newCache returns a cache with cfg and a clock; nil clock means time.Now.
func newCache(t *testing.T, cfg cache.Config, now func() time.Time) *cache.Cache {
	t.Helper()
	objects, err := cache.New(cfg, cache.Deps{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return objects
}

// newCachedRouter is newRouter with objects as the image handlers' memory cache (nil: none).
func newCachedRouter(t *testing.T, store *fakeStore, objects *cache.Cache) *gin.Engine {
	t.Helper()
	return newRouterWith(t, handler.ImagesDeps{Store: store, Memory: objects}, nil)
}

// newRouterWith mounts the handlers built from deps (the store also answers /readyz), with
// private reads checked by links when set; a nil Logger discards.
func newRouterWith(t testing.TB, deps handler.ImagesDeps, links *handler.SignedLinks) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	deps.Links = links
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	images, err := handler.NewImages(deps)
	if err != nil {
		t.Fatal(err)
	}
	health, err := handler.NewHealth(deps.Store.(handler.ReadinessChecker), deps.Logger)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	bytesRoutes := r.Group("")
	if check := images.LinkCheck(); check != nil {
		bytesRoutes.Use(check)
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		bytesRoutes.Handle(m, "/images/:id", images.Original)
		bytesRoutes.Handle(m, "/images/:id/thumb", images.Thumb)
		bytesRoutes.Handle(m, "/images/:id/variants/:variant", images.Variant)
	}
	r.GET("/healthz", health.Live)
	r.GET("/readyz", health.Ready)
	return r
}

// do sends one request with optional header pairs and returns the recorded response.
func do(r http.Handler, method, path string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

// assertProblem checks an RFC 9457 answer: status, media type, type urn:imagesearch:problem:<code>
// and its title, fields, no caching headers.
func assertProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, code, detailContains string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != handler.ContentTypeProblem {
		t.Errorf("Content-Type = %q, want %q", ct, handler.ContentTypeProblem)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != handler.CacheNoStore {
		t.Errorf("Cache-Control = %q, want %q", cc, handler.CacheNoStore)
	}
	if etag := rec.Header().Get("ETag"); etag != "" {
		t.Errorf("an error carries ETag %q", etag)
	}
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, rec.Body.String())
	}
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("problem lacks %q: %v", k, raw)
		}
	}
	var p handler.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	wantTitle := handler.ProblemCode(code).Title()
	if p.Status != status || p.Type != "urn:imagesearch:problem:"+code || p.Title != wantTitle {
		t.Errorf("problem = %+v, want status %d type urn:imagesearch:problem:%s title %q", p, status, code, wantTitle)
	}
	if !strings.Contains(p.Detail, detailContains) {
		t.Errorf("detail %q does not contain %q", p.Detail, detailContains)
	}
}
