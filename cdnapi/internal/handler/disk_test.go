package handler_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/cache/cachetest"
	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// diskTTL is how long the disk tier of these tests trusts a file.
const diskTTL = 10 * time.Minute

// newDiskRouter serves store with a memory tier for objects up to 100 bytes (the thumbnail) and
// a disk tier under dir for larger ones (the 1000-byte original), reading clk.
func newDiskRouter(t *testing.T, store *fakeStore, dir string, clk *cachetest.Clock) (*gin.Engine, *cache.Disk) {
	t.Helper()
	cfg := cache.Config{MaxBytes: 1 << 20, MaxObjectBytes: 100, TTL: diskTTL,
		DiskDir: dir, DiskMaxBytes: 1 << 20, DiskMaxObjectBytes: 1 << 20}
	disk, err := cache.OpenDisk(cfg, "images", cache.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	memory := newCache(t, cfg, clk.Now)
	return newRouterWith(t, handler.ImagesDeps{Store: store, Memory: memory, Disk: disk}, nil), disk
}

func newClock() *cachetest.Clock {
	return cachetest.NewClock(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
}

func TestDiskCachedAnswersMatchStreamedOnes(t *testing.T) {
	_, streamed := seeded(t)
	diskStore, _ := seeded(t)
	cached, disk := newDiskRouter(t, diskStore, t.TempDir(), newClock())
	orig := "/images/" + testID
	do(cached, http.MethodGet, orig) // fills the disk tier
	if disk.Len() != 1 || diskStore.callCount() != 1 {
		t.Fatalf("after one GET: %d files on disk, %d storage calls; want 1, 1", disk.Len(), diskStore.callCount())
	}
	inm := `"` + testID + `"`
	for _, headers := range [][]string{
		nil, {"Range", "bytes=10-19"}, {"Range", "bytes=-5"}, {"Range", "bytes=5000-"},
		{"If-None-Match", inm}, {"If-Modified-Since", "Thu, 02 May 2024 00:00:00 GMT"}, {"If-Match", `"other"`},
		{"Range", "bytes=0-3", "If-Range", inm},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			name := method + " " + strings.Join(headers, " ")
			want, got := do(streamed, method, orig, headers...), do(cached, method, orig, headers...)
			if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Errorf("%s: disk %d %q, streamed %d %q", name, got.Code, got.Body.Bytes(), want.Code, want.Body.Bytes())
			}
			for _, h := range comparedHeaders {
				if g, w := got.Header().Get(h), want.Header().Get(h); g != w {
					t.Errorf("%s: %s from disk %q, streamed %q", name, h, g, w)
				}
			}
		}
	}
	if n := diskStore.callCount() + diskStore.statCount(); n != 1 {
		t.Errorf("a warm disk tier made %d storage calls, want none", n-1)
	}
	if !diskStore.balanced() {
		t.Error("bodies left open")
	}
}

func TestDiskEntryIsCheckedWithAStatAfterTheTTL(t *testing.T) {
	store, _ := seeded(t)
	clk := newClock()
	r, disk := newDiskRouter(t, store, t.TempDir(), clk)
	orig := "/images/" + testID
	do(r, http.MethodGet, orig)

	clk.Advance(diskTTL)
	rec := do(r, http.MethodGet, orig)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), payload()) {
		t.Fatalf("after the TTL: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if store.callCount() != 1 || store.statCount() != 1 {
		t.Errorf("revalidation made %d GETs and %d stats, want the first GET and one stat", store.callCount(), store.statCount())
	}
	do(r, http.MethodGet, orig)
	if store.statCount() != 1 {
		t.Errorf("a revalidated entry was checked again within the TTL (%d stats)", store.statCount())
	}

	// Deleted from MinIO while no message said so: found out at the next check, file removed.
	store.remove(storage.OriginalKey(testID))
	clk.Advance(diskTTL)
	assertProblem(t, do(r, http.MethodGet, orig), http.StatusNotFound, "not-found", testID)
	if disk.Len() != 0 {
		t.Errorf("the deleted image's file is still indexed (%d entries)", disk.Len())
	}
}

func TestDiskTierSurvivesARestart(t *testing.T) {
	store, _ := seeded(t)
	dir, clk := t.TempDir(), newClock()
	first, _ := newDiskRouter(t, store, dir, clk)
	do(first, http.MethodGet, "/images/"+testID)

	second, disk := newDiskRouter(t, store, dir, clk) // a new process over the same directory
	rec := do(second, http.MethodGet, "/images/"+testID)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), payload()) || rec.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("after a restart: %d, %d bytes, Content-Type %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Type"))
	}
	if store.callCount() != 1 || store.statCount() != 1 || disk.Len() != 1 {
		t.Errorf("after a restart: %d GETs, %d stats; want the bytes kept and only their metadata asked for",
			store.callCount(), store.statCount())
	}
}

func TestDiskThatCannotBeWrittenFallsBackToStreaming(t *testing.T) {
	store, _ := seeded(t)
	dir := t.TempDir()
	r, disk := newDiskRouter(t, store, dir, newClock())
	// A file where the originals directory should be: every write fails (even for root).
	if err := os.WriteFile(filepath.Join(dir, "images", "originals"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rec := do(r, http.MethodGet, "/images/"+testID)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), payload()) {
			t.Fatalf("with an unwritable disk tier: %d, %d bytes", rec.Code, rec.Body.Len())
		}
	}
	if disk.Len() != 0 || !store.balanced() {
		t.Errorf("%d entries, bodies balanced %v", disk.Len(), store.balanced())
	}
}

func TestHerdOnADiskObjectMakesOneStorageRequest(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		store, _ := seeded(t)
		release := store.holdFetches()
		defer release()
		r, disk := newDiskRouter(t, store, dir, newClock())
		const n = 30
		done := make(chan []*httptest.ResponseRecorder, 1)
		go func() { done <- herd(r, n, "/images/"+testID) }()
		synctest.Wait()
		if got := store.callCount(); got != 1 {
			t.Fatalf("%d concurrent requests are blocked in %d storage calls, want 1", n, got)
		}
		release()
		for i, rec := range <-done {
			if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), payload()) {
				t.Errorf("response %d = %d, %d bytes", i, rec.Code, rec.Body.Len())
			}
		}
		if store.callCount() != 1 || disk.Len() != 1 || !store.balanced() {
			t.Errorf("%d storage calls, %d files, balanced %v; want 1, 1, true", store.callCount(), disk.Len(), store.balanced())
		}
	})
}
