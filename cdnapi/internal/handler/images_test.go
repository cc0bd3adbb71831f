package handler_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

const testID = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// payload is 1000 distinct-ish bytes.
func payload() []byte {
	b := make([]byte, 1000)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func seeded(t *testing.T) (*fakeStore, http.Handler) {
	t.Helper()
	store := newFakeStore()
	store.put(storage.OriginalKey(testID), payload(), "image/jpeg")
	store.put(storage.ThumbKey(testID), []byte("RIFF....WEBPthumb"), "image/webp")
	return store, newRouter(t, store)
}

func TestBadIDIs400WithoutStorageCall(t *testing.T) {
	store, r := seeded(t)
	for _, path := range []string{
		"/images/abc", "/images/" + strings.ToUpper(testID), "/images/" + testID[:63],
		"/images/" + testID + "0/thumb", "/images/" + strings.Repeat("z", 64),
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := do(r, method, path)
			if method == http.MethodHead {
				if rec.Code != http.StatusBadRequest || rec.Body.Len() != 0 {
					t.Errorf("HEAD %s = %d with %d body bytes, want 400 and none", path, rec.Code, rec.Body.Len())
				}
				continue
			}
			assertProblem(t, rec, http.StatusBadRequest, "invalid-id", "64 lowercase hex")
		}
	}
	if n := store.callCount(); n != 0 {
		t.Errorf("storage called %d times for invalid ids", n)
	}
}

func TestOriginal200(t *testing.T) {
	store, r := seeded(t)
	rec := do(r, http.MethodGet, "/images/"+testID)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d: %s", rec.Code, rec.Body.String())
	}
	if !bytes.Equal(rec.Body.Bytes(), payload()) {
		t.Fatalf("body differs (%d bytes)", rec.Body.Len())
	}
	want := map[string]string{
		"ETag":                   `"` + testID + `"`,
		"Cache-Control":          "public, max-age=31536000, immutable",
		"Content-Type":           "image/jpeg",
		"Content-Length":         "1000",
		"X-Content-Type-Options": "nosniff",
		"Accept-Ranges":          "bytes",
		"Last-Modified":          "Wed, 01 May 2024 12:00:00 GMT",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if store.calls[0] != "originals/"+testID {
		t.Errorf("key = %q", store.calls[0])
	}
	if store.opened != store.closed {
		t.Errorf("opened %d bodies, closed %d", store.opened, store.closed)
	}
}

func TestThumb200HasItsOwnETag(t *testing.T) {
	store, r := seeded(t)
	rec := do(r, http.MethodGet, "/images/"+testID+"/thumb")
	if rec.Code != http.StatusOK || rec.Body.String() != "RIFF....WEBPthumb" {
		t.Fatalf("status = %d body %q", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("ETag"); got != `"`+testID+`-thumb"` {
		t.Errorf("ETag = %q", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "image/webp" {
		t.Errorf("Content-Type = %q", got)
	}
	if store.calls[0] != "thumbs/"+testID+".webp" {
		t.Errorf("key = %q", store.calls[0])
	}
	// The original's ETag must not validate the thumbnail.
	rec = do(r, http.MethodGet, "/images/"+testID+"/thumb", "If-None-Match", `"`+testID+`"`)
	if rec.Code != http.StatusOK {
		t.Errorf("thumb with the original's ETag = %d, want 200", rec.Code)
	}
}

func TestRange206(t *testing.T) {
	_, r := seeded(t)
	rec := do(r, http.MethodGet, "/images/"+testID, "Range", "bytes=10-19")
	if rec.Code != http.StatusPartialContent {
		t.Fatalf("status = %d", rec.Code)
	}
	if !bytes.Equal(rec.Body.Bytes(), payload()[10:20]) {
		t.Errorf("body = %v", rec.Body.Bytes())
	}
	if got := rec.Header().Get("Content-Range"); got != "bytes 10-19/1000" {
		t.Errorf("Content-Range = %q", got)
	}
	if got := rec.Header().Get("Content-Length"); got != "10" {
		t.Errorf("Content-Length = %q", got)
	}
	rec = do(r, http.MethodGet, "/images/"+testID, "Range", "bytes=-5")
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), payload()[995:]) {
		t.Errorf("suffix range: %d %v", rec.Code, rec.Body.Bytes())
	}
}

func TestUnsatisfiableRangeIs416Problem(t *testing.T) {
	store, r := seeded(t)
	rec := do(r, http.MethodGet, "/images/"+testID, "Range", "bytes=5000-")
	assertProblem(t, rec, http.StatusRequestedRangeNotSatisfiable, "range-not-satisfiable", "range")
	if got := rec.Header().Get("Content-Range"); got != "bytes */1000" {
		t.Errorf("Content-Range = %q", got)
	}
	if store.opened != store.closed {
		t.Errorf("opened %d bodies, closed %d", store.opened, store.closed)
	}
}

func TestIfNoneMatch304(t *testing.T) {
	_, r := seeded(t)
	for _, inm := range []string{`"` + testID + `"`, `W/"` + testID + `"`, `"other", "` + testID + `"`, "*"} {
		rec := do(r, http.MethodGet, "/images/"+testID, "If-None-Match", inm)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and none", inm, rec.Code, rec.Body.Len())
		}
		if got := rec.Header().Get("ETag"); got != `"`+testID+`"` {
			t.Errorf("304 ETag = %q", got)
		}
	}
	rec := do(r, http.MethodGet, "/images/"+testID, "If-None-Match", `"nope"`)
	if rec.Code != http.StatusOK {
		t.Errorf("non-matching If-None-Match = %d, want 200", rec.Code)
	}
	rec = do(r, http.MethodGet, "/images/"+testID, "If-Modified-Since", "Thu, 02 May 2024 00:00:00 GMT")
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-Modified-Since after Last-Modified = %d, want 304", rec.Code)
	}
}

func TestHeadHasHeadersNoBody(t *testing.T) {
	_, r := seeded(t)
	rec := do(r, http.MethodHead, "/images/"+testID)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD = %d with %d body bytes", rec.Code, rec.Body.Len())
	}
	for k, v := range map[string]string{"Content-Length": "1000", "ETag": `"` + testID + `"`, "Content-Type": "image/jpeg"} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("HEAD %s = %q, want %q", k, got, v)
		}
	}
}

func TestMissingIs404Problem(t *testing.T) {
	_, r := seeded(t)
	other := strings.Repeat("a", 64)
	assertProblem(t, do(r, http.MethodGet, "/images/"+other), http.StatusNotFound, "not-found", other)
	assertProblem(t, do(r, http.MethodGet, "/images/"+other+"/thumb"), http.StatusNotFound, "not-found", "thumbnail")
}

func TestStorageDownIs503Problem(t *testing.T) {
	store, r := seeded(t)
	store.err = fmt.Errorf("%w: dial tcp: connection refused", storage.ErrUnavailable)
	rec := do(r, http.MethodGet, "/images/"+testID)
	assertProblem(t, rec, http.StatusServiceUnavailable, "dependency-unavailable", "unavailable")
	if strings.Contains(rec.Body.String(), "dial tcp") {
		t.Errorf("problem leaks the internal cause: %s", rec.Body.String())
	}
	store.err = errors.New("something unexpected")
	assertProblem(t, do(r, http.MethodGet, "/images/"+testID+"/thumb"), http.StatusServiceUnavailable, "dependency-unavailable", "unavailable")
}

func TestEmptyObject(t *testing.T) {
	store, r := seeded(t)
	store.put(storage.OriginalKey(testID), nil, storage.DefaultContentType)
	rec := do(r, http.MethodGet, "/images/"+testID)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "0" {
		t.Errorf("empty object: %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestConstructorsRejectNil(t *testing.T) {
	if _, err := handler.NewImages(handler.ImagesDeps{}); err == nil {
		t.Error("NewImages(nil) succeeded")
	}
	if _, err := handler.NewHealth(nil, nil); err == nil {
		t.Error("NewHealth(nil) succeeded")
	}
}
