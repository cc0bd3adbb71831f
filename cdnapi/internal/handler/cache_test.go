package handler_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/cache/cachetest"
	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// comparedHeaders are the headers a cached answer must share with a streamed one.
var comparedHeaders = []string{
	"ETag", "Cache-Control", "Content-Type", "Content-Length", "Content-Range", "Last-Modified",
	"Accept-Ranges", "X-Content-Type-Options",
}

func TestCachedAnswersMatchStreamedOnes(t *testing.T) {
	streamStore, streamed := seeded(t)
	cacheStore, _ := seeded(t)
	cached := newCachedRouter(t, cacheStore, newCache(t, cache.NewDefaultConfig(), nil))
	orig, thumb := "/images/"+testID, "/images/"+testID+"/thumb"
	do(cached, http.MethodGet, orig) // warm both objects
	do(cached, http.MethodGet, thumb)
	if n := cacheStore.callCount(); n != 2 {
		t.Fatalf("warming two objects made %d storage calls, want 2", n)
	}

	inm := `"` + testID + `"`
	requests := []struct {
		method, path string
		headers      []string
	}{
		{http.MethodGet, orig, nil},
		{http.MethodHead, orig, nil},
		{http.MethodGet, thumb, nil},
		{http.MethodHead, thumb, nil},
		{http.MethodGet, orig, []string{"Range", "bytes=10-19"}},
		{http.MethodGet, orig, []string{"Range", "bytes=-5"}},
		{http.MethodGet, orig, []string{"Range", "bytes=0-9,20-29"}},
		{http.MethodGet, orig, []string{"Range", "bytes=5000-"}},
		{http.MethodGet, orig, []string{"If-None-Match", inm}},
		{http.MethodGet, orig, []string{"If-None-Match", "W/" + inm}},
		{http.MethodGet, orig, []string{"If-None-Match", `"nope"`}},
		{http.MethodGet, orig, []string{"If-Modified-Since", "Thu, 02 May 2024 00:00:00 GMT"}},
		{http.MethodGet, orig, []string{"If-Match", `"other"`}},
		{http.MethodGet, orig, []string{"Range", "bytes=0-3", "If-Range", inm}},
		{http.MethodGet, thumb, []string{"If-None-Match", `"` + testID + `-thumb"`}},
	}
	for _, req := range requests {
		name := req.method + " " + req.path + " " + strings.Join(req.headers, " ")
		want := do(streamed, req.method, req.path, req.headers...)
		got := do(cached, req.method, req.path, req.headers...)
		if got.Code != want.Code {
			t.Errorf("%s: cached %d, streamed %d", name, got.Code, want.Code)
			continue
		}
		for _, h := range comparedHeaders {
			g, w := got.Header().Get(h), want.Header().Get(h)
			if h == "Content-Type" && strings.HasPrefix(w, "multipart/byteranges") {
				g, w = g[:len("multipart/byteranges")], w[:len("multipart/byteranges")] // random boundary
			}
			if g != w {
				t.Errorf("%s: %s cached %q, streamed %q", name, h, g, w)
			}
		}
		if strings.HasPrefix(want.Header().Get("Content-Type"), "multipart/") {
			if got.Body.Len() != want.Body.Len() || !bytes.Contains(got.Body.Bytes(), payload()[20:30]) {
				t.Errorf("%s: multipart body of %d bytes, streamed %d", name, got.Body.Len(), want.Body.Len())
			}
		} else if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Errorf("%s: cached body %q, streamed %q", name, got.Body.Bytes(), want.Body.Bytes())
		}
	}
	if n := cacheStore.callCount(); n != 2 {
		t.Errorf("a warm cache made %d storage calls, want none", n-2)
	}
	if n := streamStore.callCount(); n != len(requests) {
		t.Errorf("%d streamed requests made %d storage calls, want one each", len(requests), n)
	}
	if !streamStore.balanced() || !cacheStore.balanced() {
		t.Error("bodies left open")
	}
}

func TestPreconditionFailedIs412Problem(t *testing.T) {
	_, r := seeded(t)
	rec := do(r, http.MethodGet, "/images/"+testID, "If-Match", `"other"`)
	assertProblem(t, rec, http.StatusPreconditionFailed, "precondition-failed", "")
}

func TestSecondRequestDoesNotReachStorage(t *testing.T) {
	store, _ := seeded(t)
	objects := newCache(t, cache.NewDefaultConfig(), nil)
	r := newCachedRouter(t, store, objects)
	thumb := "/images/" + testID + "/thumb"
	first := do(r, http.MethodHead, thumb) // a HEAD fills the cache too
	if first.Code != http.StatusOK || store.callCount() != 1 {
		t.Fatalf("HEAD = %d, %d storage calls", first.Code, store.callCount())
	}
	for range 3 {
		rec := do(r, http.MethodGet, thumb)
		if rec.Code != http.StatusOK || rec.Body.String() != "RIFF....WEBPthumb" {
			t.Fatalf("GET = %d %q", rec.Code, rec.Body.String())
		}
	}
	if n := store.callCount(); n != 1 {
		t.Errorf("storage called %d times, want 1", n)
	}
	if !store.balanced() || objects.Len() != 1 {
		t.Errorf("balanced %v, %d cached entries", store.balanced(), objects.Len())
	}
	// The original is cached under its own key, apart from the thumbnail.
	do(r, http.MethodGet, "/images/"+testID)
	do(r, http.MethodGet, "/images/"+testID)
	if n := store.callCount(); n != 2 || objects.Len() != 2 {
		t.Errorf("after two originals: %d storage calls, %d entries", n, objects.Len())
	}
}

func TestLargeObjectsBypassTheCache(t *testing.T) {
	store, _ := seeded(t) // the original is 1000 bytes, the thumbnail 17
	objects := newCache(t, cache.Config{MaxBytes: 1 << 20, MaxObjectBytes: 999, TTL: time.Minute}, nil)
	r := newCachedRouter(t, store, objects)
	for i := 1; i <= 3; i++ {
		rec := do(r, http.MethodGet, "/images/"+testID)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), payload()) {
			t.Fatalf("GET %d = %d, %d bytes", i, rec.Code, rec.Body.Len())
		}
		if n := store.callCount(); n != i {
			t.Errorf("after %d GETs of a large object: %d storage calls", i, n)
		}
	}
	rec := do(r, http.MethodGet, "/images/"+testID, "Range", "bytes=990-")
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), payload()[990:]) {
		t.Errorf("streamed Range = %d %q", rec.Code, rec.Body.Bytes())
	}
	if objects.Len() != 0 || objects.Bytes() != 0 {
		t.Errorf("a large object was cached: %d entries, %d bytes", objects.Len(), objects.Bytes())
	}
	if !store.balanced() {
		t.Error("a streamed body was left open")
	}
	do(r, http.MethodGet, "/images/"+testID+"/thumb")
	do(r, http.MethodGet, "/images/"+testID+"/thumb")
	if n := store.callCount(); n != 5 || objects.Len() != 1 {
		t.Errorf("small thumbnail: %d storage calls in all, %d entries", n, objects.Len())
	}
}

func TestEntriesAreRefetchedAfterTheTTL(t *testing.T) {
	store, _ := seeded(t)
	clk := cachetest.NewClock(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	objects := newCache(t, cache.Config{MaxBytes: 1 << 20, MaxObjectBytes: 1 << 10, TTL: 10 * time.Minute}, clk.Now)
	r := newCachedRouter(t, store, objects)
	thumb := "/images/" + testID + "/thumb"
	do(r, http.MethodGet, thumb)

	// Deleted in MinIO: still served from memory within the TTL, 404 once it has passed.
	store.remove(storage.ThumbKey(testID))
	clk.Advance(10*time.Minute - time.Second)
	if rec := do(r, http.MethodGet, thumb); rec.Code != http.StatusOK || store.callCount() != 1 {
		t.Fatalf("within the TTL: %d, %d storage calls", rec.Code, store.callCount())
	}
	clk.Advance(time.Second)
	assertProblem(t, do(r, http.MethodGet, thumb), http.StatusNotFound, "not-found", "thumbnail")
	if store.callCount() != 2 || objects.Len() != 0 {
		t.Errorf("after the TTL: %d storage calls, %d entries", store.callCount(), objects.Len())
	}
	// A 404 is not cached: the thumbnail is found as soon as it exists again.
	store.put(storage.ThumbKey(testID), []byte("RIFF....WEBPthumb"), "image/webp")
	if rec := do(r, http.MethodGet, thumb); rec.Code != http.StatusOK {
		t.Errorf("re-created thumbnail = %d", rec.Code)
	}
}

// herd sends n concurrent GETs of path and returns their responses once all are answered.
func herd(r http.Handler, n int, path string) []*httptest.ResponseRecorder {
	out := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = do(r, http.MethodGet, path) })
	}
	wg.Wait()
	return out
}

// The herd tests run in a synctest bubble: synctest.Wait returns only once every request
// goroutine is durably blocked, either inside the fake store's GetObject (held at its gate) or
// waiting for another request's flight. So the storage calls counted at that moment are exactly
// the ones the herd makes, with no sleep and no chance of a request arriving after the fetch.

func TestThunderingHerdMakesOneStorageRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, _ := seeded(t)
		release := store.holdFetches()
		defer release() // lets the requests finish should the test stop early
		r := newCachedRouter(t, store, newCache(t, cache.NewDefaultConfig(), nil))
		const n = 50
		done := make(chan []*httptest.ResponseRecorder, 1)
		go func() { done <- herd(r, n, "/images/"+testID+"/thumb") }()
		synctest.Wait() // all n requests have missed the cache and are blocked
		if got := store.callCount(); got != 1 {
			t.Fatalf("%d concurrent requests are blocked in %d storage calls, want 1", n, got)
		}
		release()
		for i, rec := range <-done {
			if rec.Code != http.StatusOK || rec.Body.String() != "RIFF....WEBPthumb" {
				t.Errorf("response %d = %d %q", i, rec.Code, rec.Body.String())
			}
		}
		if got := store.callCount(); got != 1 {
			t.Errorf("%d concurrent requests made %d storage calls, want 1", n, got)
		}
		if !store.balanced() {
			t.Error("body left open")
		}
	})
}

func TestHerdOnAMissingObjectSharesThe404(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, _ := seeded(t)
		release := store.holdFetches()
		defer release() // lets the requests finish should the test stop early
		r := newCachedRouter(t, store, newCache(t, cache.NewDefaultConfig(), nil))
		const n = 20
		missing := "/images/" + strings.Repeat("e", 64) + "/thumb"
		done := make(chan []*httptest.ResponseRecorder, 1)
		go func() { done <- herd(r, n, missing) }()
		synctest.Wait() // all n requests have missed the cache and are blocked
		if got := store.callCount(); got != 1 {
			t.Fatalf("%d concurrent requests for a missing thumbnail are blocked in %d storage calls, want 1", n, got)
		}
		release()
		for _, rec := range <-done {
			assertProblem(t, rec, http.StatusNotFound, "not-found", "thumbnail")
		}
		// A 404 is not cached, so only sharing the one flight keeps this at 1.
		if got := store.callCount(); got != 1 {
			t.Errorf("%d concurrent requests for a missing thumbnail made %d storage calls, want 1", n, got)
		}
	})
}

func TestWaiterOutlivesACancelledFetcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, _ := seeded(t)
		release := store.holdFetches()
		defer release() // lets the requests finish should the test stop early
		r := newCachedRouter(t, store, newCache(t, cache.NewDefaultConfig(), nil))
		thumb := "/images/" + testID + "/thumb"

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		first := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, thumb, nil).WithContext(ctx))
			first <- rec
		}()
		synctest.Wait() // the first request is fetching, and waits on the gate
		second := make(chan *httptest.ResponseRecorder, 1)
		go func() { second <- do(r, http.MethodGet, thumb) }()
		synctest.Wait() // the second is blocked too: in the first one's flight, or in a call of its own
		if got := store.callCount(); got != 1 {
			t.Fatalf("the second request made its own storage call (%d calls) instead of joining the flight", got)
		}
		cancel()
		if rec := <-first; rec.Code != handler.StatusClientClosedRequest {
			t.Errorf("cancelled request recorded %d, want %d", rec.Code, handler.StatusClientClosedRequest)
		}
		synctest.Wait() // the second, its fetcher gone, fetches alone and waits on the gate
		if got := store.callCount(); got != 2 {
			t.Fatalf("after the fetcher went away: %d storage calls, want 2 (the waiter's own retry)", got)
		}
		release()
		if rec := <-second; rec.Code != http.StatusOK || rec.Body.String() != "RIFF....WEBPthumb" {
			t.Errorf("the waiting request got %d %q after the fetching one went away", rec.Code, rec.Body.String())
		}
		if got := store.callCount(); got != 2 {
			t.Errorf("%d storage calls in all, want 2", got)
		}
		if !store.balanced() {
			t.Error("body left open")
		}
	})
}
