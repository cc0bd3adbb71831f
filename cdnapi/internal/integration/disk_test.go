package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// accessLines are the access log lines in logs, decoded.
func accessLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err == nil && entry["msg"] == "request" {
			out = append(out, entry)
		}
	}
	return out
}

// TestOriginalsAndVariantsAreServedFromDisk fetches a 2 MB original and a variant once, removes
// them from MinIO to prove the later answers come from the disk tier (sent with sendfile over a
// real connection), and checks bytes, Range, 304, HEAD and what the access log counts.
func TestOriginalsAndVariantsAreServedFromDisk(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, original := putRandom(t, mc, 2<<20, storage.OriginalKey, "image/jpeg")
	variantID, variant := putRandom(t, mc, 400<<10, func(v string) string { return storage.VariantKey(id, v) }, "image/webp")
	logs := &lockedBuffer{}
	cdn := newCDNServer(t, cdnOptions{endpoint: shared.endpoint, bucket: bucket, logs: logs})
	originalPath, variantPath := "/images/"+id, "/images/"+id+"/variants/"+variantID
	// In this order: the access log's lines are checked in the order of the requests.
	for _, first := range []struct {
		path string
		want []byte
	}{{originalPath, original}, {variantPath, variant}} {
		if resp, body := get(t, http.MethodGet, cdn.URL+first.path); resp.StatusCode != http.StatusOK || !bytes.Equal(body, first.want) {
			t.Fatalf("first GET %s = %d, %d bytes", first.path, resp.StatusCode, len(body))
		}
	}
	for _, key := range []string{storage.OriginalKey(id), storage.VariantKey(id, variantID)} {
		check(t, mc.RemoveObject(t.Context(), bucket, key, minio.RemoveObjectOptions{}))
	}

	resp, body := get(t, http.MethodGet, cdn.URL+originalPath)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, original) {
		t.Fatalf("GET from disk = %d, %d bytes (want %d exact)", resp.StatusCode, len(body), len(original))
	}
	for k, v := range map[string]string{"ETag": `"` + id + `"`, "Content-Type": "image/jpeg",
		"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff",
		"Content-Length": strconv.Itoa(len(original))} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	resp, body = get(t, http.MethodGet, cdn.URL+variantPath, "Range", "bytes=100000-100099")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, variant[100000:100100]) {
		t.Errorf("variant Range from disk = %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodGet, cdn.URL+variantPath, "If-None-Match", `"`+variantID+`"`)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("variant If-None-Match = %d with %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodHead, cdn.URL+originalPath)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(original)) {
		t.Errorf("HEAD from disk = %d, %d bytes, length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	if got := metricLine(t, cdn.URL, `cdnapi_cache_hits_total{tier="disk"}`); got != "4" {
		t.Errorf("disk hits = %q, want 4", got)
	}

	lines := accessLines(t, logs.String())
	wantBytes := []float64{float64(len(original)), float64(len(variant)), float64(len(original)), 100, 0, 0}
	if len(lines) < len(wantBytes) {
		t.Fatalf("%d access log lines, want %d: %s", len(lines), len(wantBytes), logs.String())
	}
	for i, want := range wantBytes {
		if lines[i]["bytes"] != want {
			t.Errorf("access log line %d: bytes %v, want %v (sendfile counted too)", i, lines[i]["bytes"], want)
		}
	}
	got, err := strconv.ParseFloat(metricLine(t, cdn.URL, `cdnapi_http_response_bytes_total{route="/images/:id"}`), 64)
	if err != nil || got != float64(2*len(original)) {
		t.Errorf("response bytes of /images/:id = %v (%v), want %d", got, err, 2*len(original))
	}
}
