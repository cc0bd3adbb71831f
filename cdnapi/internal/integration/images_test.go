package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// get sends method to url with header pairs and returns the response and its whole body.
func get(t *testing.T, method, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// wantProblem checks an RFC 9457 answer of type urn:imagesearch:problem:<code>.
func wantProblem(t *testing.T, resp *http.Response, body []byte, status int, code string) handler.Problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var p handler.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	if p.Status != status || p.Title == "" || p.Type != "urn:imagesearch:problem:"+code || p.Detail == "" {
		t.Errorf("problem = %+v, want status %d code %s", p, status, code)
	}
	return p
}

func TestOriginalAndThumbFromMinIO(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 3<<20+17, storage.OriginalKey, "image/jpeg")
	thumb := []byte("RIFF\x10\x00\x00\x00WEBPVP8 fake thumbnail")
	if _, err := mc.PutObject(t.Context(), bucket, storage.ThumbKey(id), bytes.NewReader(thumb),
		int64(len(thumb)), minioPut("image/webp")); err != nil {
		t.Fatal(err)
	}
	cdn := newCDN(t, shared.endpoint, bucket)

	resp, body := get(t, http.MethodGet, cdn.URL+"/images/"+id)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET original = %d, %d bytes (want %d exact)", resp.StatusCode, len(body), len(data))
	}
	for k, v := range map[string]string{
		"ETag": `"` + id + `"`, "Cache-Control": "public, max-age=31536000, immutable",
		"Content-Type": "image/jpeg", "X-Content-Type-Options": "nosniff",
		"Content-Length": strconv.Itoa(len(data)), "Accept-Ranges": "bytes",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	lm, err := http.ParseTime(resp.Header.Get("Last-Modified"))
	if err != nil || time.Since(lm) > time.Hour || time.Until(lm) > time.Minute {
		t.Errorf("Last-Modified = %q (%v)", resp.Header.Get("Last-Modified"), err)
	}

	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id+"/thumb")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, thumb) {
		t.Fatalf("GET thumb = %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("ETag") != `"`+id+`-thumb"` || resp.Header.Get("Content-Type") != "image/webp" {
		t.Errorf("thumb headers = %v", resp.Header)
	}

	// Range: a slice in the middle, a suffix, and two ranges at once (multipart/byteranges).
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id, "Range", "bytes=1000000-1000099")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[1000000:1000100]) {
		t.Errorf("Range = %d, %d bytes", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Content-Range"); got != "bytes 1000000-1000099/"+strconv.Itoa(len(data)) {
		t.Errorf("Content-Range = %q", got)
	}
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id, "Range", "bytes=-10")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[len(data)-10:]) {
		t.Errorf("suffix Range = %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id, "Range", "bytes=0-9,2000000-2000009")
	checkMultipart(t, resp, body, [][]byte{data[0:10], data[2000000:2000010]})
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id, "Range", "bytes=99999999-")
	wantProblem(t, resp, body, http.StatusRequestedRangeNotSatisfiable, "range-not-satisfiable")

	// Conditional and HEAD.
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id, "If-None-Match", `"`+id+`"`)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match = %d with %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id+"/thumb", "If-None-Match", `"`+id+`-thumb"`)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("thumb If-None-Match = %d with %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodHead, cdn.URL+"/images/"+id)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(data)) {
		t.Errorf("HEAD = %d, %d body bytes, length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	if resp.Header.Get("ETag") != `"`+id+`"` {
		t.Errorf("HEAD ETag = %q", resp.Header.Get("ETag"))
	}
}

// checkMultipart checks a multipart/byteranges answer part by part.
func checkMultipart(t *testing.T, resp *http.Response, body []byte, parts [][]byte) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusPartialContent || err != nil || mediaType != "multipart/byteranges" {
		t.Fatalf("multi-range = %d %q (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for i, want := range parts {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, want) {
			t.Errorf("part %d = %x, want %x", i, got, want)
		}
	}
}

func TestErrorsFromMinIO(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	cdn := newCDN(t, shared.endpoint, bucket)
	missing := strings.Repeat("0", 64)

	resp, body := get(t, http.MethodGet, cdn.URL+"/images/"+missing)
	wantProblem(t, resp, body, http.StatusNotFound, "not-found")
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+missing+"/thumb")
	wantProblem(t, resp, body, http.StatusNotFound, "not-found")
	resp, body = get(t, http.MethodHead, cdn.URL+"/images/"+missing)
	if resp.StatusCode != http.StatusNotFound || len(body) != 0 {
		t.Errorf("HEAD missing = %d with %d bytes", resp.StatusCode, len(body))
	}
	for _, bad := range []string{"abc", strings.ToUpper(strings.Repeat("ab", 32)), strings.Repeat("a", 65), strings.Repeat("g", 64)} {
		resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+bad)
		wantProblem(t, resp, body, http.StatusBadRequest, "invalid-id")
	}
	resp, body = get(t, http.MethodGet, cdn.URL+"/no/such/route")
	wantProblem(t, resp, body, http.StatusNotFound, "http-404")
	resp, body = get(t, http.MethodPut, cdn.URL+"/images/"+missing)
	wantProblem(t, resp, body, http.StatusMethodNotAllowed, "http-405")
}

func TestProbes(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	resp, body := get(t, http.MethodGet, newCDN(t, shared.endpoint, bucket).URL+"/readyz")
	if resp.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` {
		t.Errorf("readyz = %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, http.MethodGet, newCDN(t, shared.endpoint, "no-such-bucket").URL+"/readyz")
	if p := wantProblem(t, resp, body, http.StatusServiceUnavailable, "dependency-unavailable"); !strings.Contains(p.Detail, "no-such-bucket") {
		t.Errorf("readyz detail = %q", p.Detail)
	}
}

func TestMinIOUnreachableIs503(t *testing.T) {
	port, err := freePort() // nothing listens there once freePort returns
	if err != nil {
		t.Fatal(err)
	}
	cdn := newCDN(t, "127.0.0.1:"+strconv.Itoa(port), bucket)
	id := strings.Repeat("ab", 32)
	for _, path := range []string{"/images/" + id, "/images/" + id + "/thumb", "/readyz"} {
		start := time.Now()
		resp, body := get(t, http.MethodGet, cdn.URL+path)
		wantProblem(t, resp, body, http.StatusServiceUnavailable, "dependency-unavailable")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s took %s to give up", path, took)
		}
	}
	resp, body := get(t, http.MethodGet, cdn.URL+"/healthz")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz while MinIO is down = %d %s", resp.StatusCode, body)
	}
}
