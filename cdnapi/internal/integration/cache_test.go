package integration

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/cache/cachetest"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// metricLine returns the value of the exposition line that starts with series, or "" if absent.
func metricLine(t *testing.T, baseURL, series string) string {
	t.Helper()
	_, body := get(t, http.MethodGet, baseURL+"/metrics")
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			return rest
		}
	}
	return ""
}

// TestThumbsAreServedFromTheCache fetches a real thumbnail once, deletes it from MinIO to prove
// the later answers come from memory, and checks they carry the same bytes and headers and that
// Range, 304 and HEAD still work; after the TTL the deletion shows (404). A larger original goes
// to the disk tier instead.
func TestThumbsAreServedFromTheCache(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, thumb := putRandom(t, mc, 20<<10, storage.ThumbKey, "image/webp")
	bigID, big := putRandom(t, mc, 1<<20, storage.OriginalKey, "image/jpeg") // over 256 KiB
	clk := cachetest.NewClock(time.Now())
	cdn := newCDNWithCache(t, shared.endpoint, bucket, cache.NewDefaultConfig(), clk.Now)
	url := cdn.URL + "/images/" + id + "/thumb"

	first, firstBody := get(t, http.MethodGet, url)
	if first.StatusCode != http.StatusOK || !bytes.Equal(firstBody, thumb) {
		t.Fatalf("first GET = %d, %d bytes", first.StatusCode, len(firstBody))
	}
	if err := mc.RemoveObject(t.Context(), bucket, storage.ThumbKey(id), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	for i := range 3 {
		resp, body := get(t, http.MethodGet, url)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, thumb) {
			t.Fatalf("cached GET %d = %d, %d bytes", i, resp.StatusCode, len(body))
		}
		for _, h := range []string{"ETag", "Cache-Control", "Content-Type", "Content-Length",
			"Last-Modified", "Accept-Ranges", "X-Content-Type-Options"} {
			if got, want := resp.Header.Get(h), first.Header.Get(h); got != want || want == "" {
				t.Errorf("cached %s = %q, first answer had %q", h, got, want)
			}
		}
	}
	if got := first.Header.Get("ETag"); got != `"`+id+`-thumb"` {
		t.Errorf("ETag = %q", got)
	}

	resp, body := get(t, http.MethodGet, url, "Range", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, thumb[100:200]) ||
		resp.Header.Get("Content-Range") != "bytes 100-199/"+strconv.Itoa(len(thumb)) {
		t.Errorf("Range = %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
	}
	resp, body = get(t, http.MethodGet, url, "Range", "bytes=-10")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, thumb[len(thumb)-10:]) {
		t.Errorf("suffix Range = %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodGet, url, "Range", "bytes=0-9,1000-1009")
	checkMultipart(t, resp, body, [][]byte{thumb[0:10], thumb[1000:1010]})
	resp, body = get(t, http.MethodGet, url, "Range", "bytes=99999-")
	wantProblem(t, resp, body, http.StatusRequestedRangeNotSatisfiable, "range-not-satisfiable")
	resp, body = get(t, http.MethodGet, url, "If-None-Match", `"`+id+`-thumb"`)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != `"`+id+`-thumb"` {
		t.Errorf("If-None-Match = %d with %d bytes, ETag %q", resp.StatusCode, len(body), resp.Header.Get("ETag"))
	}
	resp, body = get(t, http.MethodGet, url, "If-Modified-Since", first.Header.Get("Last-Modified"))
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-Modified-Since = %d with %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodHead, url)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(thumb)) {
		t.Errorf("HEAD = %d, %d body bytes, length %d", resp.StatusCode, len(body), resp.ContentLength)
	}

	// A 1 MiB original is too large for memory: it is fetched once into the disk tier.
	for range 2 {
		resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+bigID)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, big) {
			t.Fatalf("big original = %d, %d bytes", resp.StatusCode, len(body))
		}
	}
	// 1 fill + 3 GETs + 3 Ranges + 1 416 + 2 conditionals + 1 HEAD answered from memory.
	for series, want := range map[string]string{
		`cdnapi_cache_hits_total{tier="memory"}`:   "10",
		`cdnapi_cache_misses_total{tier="memory"}`: "3",
		`cdnapi_cache_entries{tier="memory"}`:      "1",
		`cdnapi_cache_hits_total{tier="disk"}`:     "1",
		`cdnapi_cache_misses_total{tier="disk"}`:   "2", // the thumbnail's first lookup went on to disk too
		`cdnapi_cache_entries{tier="disk"}`:        "1",
		`cdnapi_cache_bytes{tier="disk"}`:          "1.048576e+06",
	} {
		if got := metricLine(t, cdn.URL, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}

	// Past the TTL the entry is revalidated against MinIO, where the thumbnail is gone.
	clk.Advance(cache.NewDefaultConfig().TTL)
	resp, body = get(t, http.MethodGet, url)
	wantProblem(t, resp, body, http.StatusNotFound, "not-found")
	if got := metricLine(t, cdn.URL, `cdnapi_cache_evictions_total{reason="expired",tier="memory"}`); got != "1" {
		t.Errorf("expired evictions = %q, want 1", got)
	}
}
