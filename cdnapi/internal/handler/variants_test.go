package handler_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

const testVariant = "0b5e8d1f6a2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"

// variantPath is the route of testVariant of testID.
const variantPath = "/images/" + testID + "/variants/" + testVariant

func variantSeeded(t *testing.T) (*fakeStore, http.Handler) {
	t.Helper()
	store := newFakeStore()
	store.put(storage.VariantKey(testID, testVariant), payload(), "image/webp")
	return store, newRouter(t, store)
}

func TestMalformedVariantRouteIs400BeforeStorage(t *testing.T) {
	store, r := variantSeeded(t)
	cases := map[string]string{
		"/images/" + testID[:63] + "/variants/" + testVariant:             "image id",
		"/images/" + strings.ToUpper(testID) + "/variants/" + testVariant: "image id",
		"/images/" + testID + "/variants/" + testVariant[:63]:             "variant id",
		"/images/" + testID + "/variants/" + strings.ToUpper(testVariant): "variant id",
		"/images/" + testID + "/variants/" + testVariant + "0":            "variant id",
		"/images/" + testID + "/variants/" + strings.Repeat("g", 64):      "variant id",
		"/images/" + testID + "/variants/" + testVariant[:60] + "%2e%2e":  "variant id",
	}
	cases["/images/"+testID+"/variants/"+testVariant[:63]+"?redirect=storage"] = "variant id"
	for path, what := range cases {
		assertProblem(t, do(r, http.MethodGet, path), http.StatusBadRequest, "invalid-id", what)
		if rec := do(r, http.MethodHead, path); rec.Code != http.StatusBadRequest || rec.Body.Len() != 0 {
			t.Errorf("HEAD %s = %d with %d body bytes, want 400 and none", path, rec.Code, rec.Body.Len())
		}
	}
	if n := store.callCount() + store.statCount(); n != 0 {
		t.Errorf("storage called %d times for malformed ids", n)
	}
}

func TestVariantIsServedLikeAnOriginal(t *testing.T) {
	store, r := variantSeeded(t)
	rec := do(r, http.MethodGet, variantPath)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), payload()) {
		t.Fatalf("GET variant = %d, %d bytes", rec.Code, rec.Body.Len())
	}
	want := map[string]string{
		"ETag":                   `"` + testVariant + `"`,
		"Cache-Control":          handler.CacheImmutable,
		"Content-Type":           "image/webp",
		"Content-Length":         "1000",
		"X-Content-Type-Options": "nosniff",
		"Accept-Ranges":          "bytes",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if store.calls[0] != "variants/"+testID+"/"+testVariant {
		t.Errorf("key = %q", store.calls[0])
	}

	rec = do(r, http.MethodGet, variantPath, "Range", "bytes=100-109")
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), payload()[100:110]) ||
		rec.Header().Get("Content-Range") != "bytes 100-109/1000" {
		t.Errorf("Range = %d %q, %v", rec.Code, rec.Header().Get("Content-Range"), rec.Body.Bytes())
	}
	rec = do(r, http.MethodGet, variantPath, "If-None-Match", `"`+testVariant+`"`)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match = %d with %d bytes, want 304", rec.Code, rec.Body.Len())
	}
	// The image's own ETag does not validate one of its variants.
	if rec = do(r, http.MethodGet, variantPath, "If-None-Match", `"`+testID+`"`); rec.Code != http.StatusOK {
		t.Errorf("If-None-Match with the image's ETag = %d, want 200", rec.Code)
	}
	if rec = do(r, http.MethodHead, variantPath); rec.Code != http.StatusOK || rec.Body.Len() != 0 ||
		rec.Header().Get("Content-Length") != "1000" {
		t.Errorf("HEAD = %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
	if !store.balanced() {
		t.Error("a body opened from storage was not closed")
	}
}

func TestMissingVariantIs404Problem(t *testing.T) {
	_, r := variantSeeded(t)
	other := strings.Repeat("e", 64)
	assertProblem(t, do(r, http.MethodGet, "/images/"+testID+"/variants/"+other), http.StatusNotFound,
		"not-found", "variant "+other)
}

func TestPrivateVariantNeedsItsOwnSignedLink(t *testing.T) {
	store := newFakeStore()
	store.put(storage.VariantKey(testID, testVariant), payload(), "image/webp")
	r := newRouterWith(t, handler.ImagesDeps{Store: store}, newLinks(t))

	assertProblem(t, do(r, http.MethodGet, variantPath), http.StatusForbidden, "bad-signature", "signed")
	original := signed(t, "/images/"+testID, time.Hour)
	assertProblem(t, do(r, http.MethodGet, variantPath+original[strings.Index(original, "?"):]),
		http.StatusForbidden, "bad-signature", "signed")
	rec := do(r, http.MethodGet, signed(t, variantPath, time.Hour))
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "private, max-age=3599" {
		t.Errorf("signed variant = %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
}
