package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/signing"
	"github.com/imagesearch/cdnapi/internal/storage"
)

const testID = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// memStore serves one original from memory.
type memStore struct{}

func (memStore) GetObject(_ context.Context, key string) (*storage.Object, error) {
	if key != storage.OriginalKey(testID) {
		return nil, storage.ErrNotFound
	}
	return &storage.Object{Body: nopCloser{bytes.NewReader([]byte("hello"))}, Size: 5, ContentType: "image/png"}, nil
}

func (m memStore) StatObject(ctx context.Context, key string) (storage.Info, error) {
	obj, err := m.GetObject(ctx, key)
	if err != nil {
		return storage.Info{}, err
	}
	return storage.Info{Size: obj.Size, ContentType: obj.ContentType}, nil
}

func (memStore) Ready(context.Context) error { return nil }

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestServer(t *testing.T, logs io.Writer) *Server {
	t.Helper()
	return newTestServerWithLinks(t, logs, nil)
}

// newTestServerWithLinks is newTestServer with the byte routes behind links (nil: public).
func newTestServerWithLinks(t *testing.T, logs io.Writer, links *handler.SignedLinks) *Server {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	objects, err := cache.New(cache.NewDefaultConfig(), cache.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	images, err := handler.NewImages(handler.ImagesDeps{Store: memStore{}, Memory: objects, Links: links, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	health, err := handler.NewHealth(memStore{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(NewDefaultConfig(), Deps{
		Images: images, Health: health, Logger: logger, AccessLog: logs, Collectors: []prometheus.Collector{objects},
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) handler.Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != handler.ContentTypeProblem {
		t.Fatalf("Content-Type = %q, body %q", ct, rec.Body.String())
	}
	var p handler.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnknownRouteIs404Problem(t *testing.T) {
	h := newTestServer(t, io.Discard).Handler()
	for _, path := range []string{"/nope", "/images", "/images/", "/images/" + testID + "/", "/images/" + testID + "/big"} {
		rec := serve(h, http.MethodGet, path)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d", path, rec.Code)
			continue
		}
		if p := problemOf(t, rec); p.Status != 404 || p.Type != "urn:imagesearch:problem:http-404" ||
			p.Title != "Not found" || !strings.Contains(p.Detail, path) {
			t.Errorf("GET %s problem = %+v", path, p)
		}
	}
}

func TestVariantRouteIsServed(t *testing.T) {
	h := newTestServer(t, io.Discard).Handler()
	rec := serve(h, http.MethodGet, "/images/"+testID+"/variants/"+testID)
	if p := problemOf(t, rec); rec.Code != http.StatusNotFound || p.Type != "urn:imagesearch:problem:not-found" {
		t.Errorf("missing variant = %d %+v, want the handler's 404, not an unknown route", rec.Code, p)
	}
	rec = serve(h, http.MethodGet, "/images/"+testID+"/variants/nope")
	if p := problemOf(t, rec); rec.Code != http.StatusBadRequest || p.Type != "urn:imagesearch:problem:invalid-id" {
		t.Errorf("malformed variant id = %d %+v", rec.Code, p)
	}
}

func TestWrongMethodIs405Problem(t *testing.T) {
	h := newTestServer(t, io.Discard).Handler()
	rec := serve(h, http.MethodDelete, "/images/"+testID)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE = %d", rec.Code)
	}
	if p := problemOf(t, rec); p.Status != 405 || p.Title != "Method not allowed" ||
		p.Type != "urn:imagesearch:problem:http-405" {
		t.Errorf("problem = %+v", p)
	}
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") {
		t.Errorf("Allow = %q", allow)
	}
	if rec := serve(h, http.MethodPost, "/healthz"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d", rec.Code)
	}
}

func TestPrivateReadsGuardEveryByteRouteButNotTheProbes(t *testing.T) {
	signer, err := signing.New(signing.Config{Secret: strings.Repeat("k", signing.MinSecretLength)})
	if err != nil {
		t.Fatal(err)
	}
	links, err := handler.NewSignedLinks(signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newTestServerWithLinks(t, io.Discard, links).Handler()
	for _, path := range []string{"/images/" + testID, "/images/" + testID + "/thumb",
		"/images/" + testID + "/variants/" + testID, "/images/" + testID + "?redirect=storage"} {
		rec := serve(h, http.MethodGet, path)
		if p := problemOf(t, rec); rec.Code != http.StatusForbidden || p.Type != "urn:imagesearch:problem:bad-signature" {
			t.Errorf("unsigned GET %s = %d %+v", path, rec.Code, p)
		}
	}
	path := "/images/" + testID
	rec := serve(h, http.MethodGet, path+"?"+signer.Sign(path, time.Now().Add(time.Hour)))
	if rec.Code != http.StatusOK || rec.Body.String() != "hello" ||
		!strings.HasPrefix(rec.Header().Get("Cache-Control"), "private, max-age=") {
		t.Errorf("signed GET = %d %q, Cache-Control %q", rec.Code, rec.Body.String(), rec.Header().Get("Cache-Control"))
	}
	for _, open := range []string{RouteHealthz, RouteReadyz, RouteMetrics} {
		if rec := serve(h, http.MethodGet, open); rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200 without a signature", open, rec.Code)
		}
	}
	if rec := serve(h, http.MethodGet, "/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown route = %d, want 404", rec.Code)
	}
}

func TestMetricsCountRequests(t *testing.T) {
	h := newTestServer(t, io.Discard).Handler()
	serve(h, http.MethodGet, "/images/"+testID)
	serve(h, http.MethodGet, "/images/"+testID) // from the cache
	serve(h, http.MethodGet, "/images/"+strings.Repeat("b", 64))
	serve(h, http.MethodGet, "/nope")
	rec := serve(h, http.MethodGet, "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`cdnapi_http_requests_total{method="GET",route="/images/:id",status="200"} 2`,
		`cdnapi_cache_hits_total{tier="memory"} 1`,
		`cdnapi_cache_misses_total{tier="memory"} 2`,
		`cdnapi_cache_entries{tier="memory"} 1`,
		`cdnapi_cache_bytes{tier="memory"} 335`, // 5 bytes + the 74-byte key + cache.EntryOverhead
		`cdnapi_cache_evictions_total{reason="capacity",tier="memory"} 0`,
		`cdnapi_http_requests_total{method="GET",route="/images/:id",status="404"} 1`,
		`cdnapi_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`cdnapi_http_response_bytes_total{route="/images/:id"}`,
		`cdnapi_http_request_duration_seconds_bucket{method="GET",route="/images/:id",le="0.001"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAccessLogIsJSON(t *testing.T) {
	logs := &syncBuffer{}
	h := newTestServer(t, logs).Handler()
	req := httptest.NewRequest(http.MethodGet, "/images/"+testID, nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line); err != nil {
		t.Fatalf("log is not one JSON line: %v: %q", err, logs.String())
	}
	for k, v := range map[string]any{
		"msg": "request", "method": "GET", "route": "/images/:id", "status": 200.0, "bytes": 5.0, "remote": "203.0.113.9",
	} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("log lacks numeric duration_ms: %v", line)
	}
}

func TestPanicIs500Problem(t *testing.T) {
	logs := &syncBuffer{}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(recovery(slog.New(slog.NewJSONHandler(logs, nil))))
	r.GET("/boom", func(*gin.Context) { panic("kaboom") })
	rec := serve(r, http.MethodGet, "/boom")
	if p := problemOf(t, rec); rec.Code != http.StatusInternalServerError || p.Status != 500 ||
		p.Type != "urn:imagesearch:problem:internal" || p.Title != "Internal error" {
		t.Errorf("panic = %d %q", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logs.String(), "kaboom") {
		t.Errorf("panic not logged: %q", logs.String())
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	srv := newTestServer(t, io.Discard)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := NewDefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := NewDefaultConfig()
	bad.Port = 70000
	bad.Host = ""
	bad.WriteTimeout = 0
	bad.TrustedProxies = []string{"not-an-ip"}
	err := bad.Validate()
	for _, want := range []string{"http.port", "http.host", "http.write_timeout", "trusted_proxies"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want mention of %s", err, want)
		}
	}
	if _, err := New(bad, Deps{}); err == nil {
		t.Error("New accepted an invalid config")
	}
	if _, err := New(NewDefaultConfig(), Deps{}); err == nil {
		t.Error("New accepted missing deps")
	}
}
