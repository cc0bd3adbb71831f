package integration

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/presign"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// noFollow answers a redirect itself instead of following it.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// redirectOf sends GET url without following and returns the 307's Location, failing otherwise.
func redirectOf(t *testing.T, url string) *url.URL {
	t.Helper()
	resp, err := noFollow.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET %s = %d, Cache-Control %q; want 307, no-store", url, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// expiresIn is the X-Amz-Expires (seconds) of a presigned URL.
func expiresIn(t *testing.T, u *url.URL) int {
	t.Helper()
	n, err := strconv.Atoi(u.Query().Get("X-Amz-Expires"))
	if err != nil {
		t.Fatalf("presigned URL without X-Amz-Expires: %s", u)
	}
	return n
}

func TestRedirectToStorageServesTheExactBytesAndIsCachedInRedis(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 300<<10, storage.OriginalKey, "image/jpeg")
	variantID, variant := putRandom(t, mc, 5000, func(v string) string { return storage.VariantKey(id, v) }, "image/webp")
	rdb := newRedisClient(t)
	cdn := newCDNServer(t, cdnOptions{endpoint: shared.endpoint, bucket: bucket, redis: rdb})

	for path, want := range map[string][]byte{
		"/images/" + id: data, "/images/" + id + "/variants/" + variantID: variant,
	} {
		loc := redirectOf(t, cdn.URL+path+"?redirect=storage")
		if loc.Host != shared.endpoint || expiresIn(t, loc) != 900 {
			t.Errorf("Location %s: want the MinIO endpoint and the 15 min TTL", loc)
		}
		resp, body := get(t, http.MethodGet, cdn.URL+path+"?redirect=storage") // followed
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Fatalf("following the redirect of %s: %d, %d bytes (want %d exact)", path, resp.StatusCode, len(body), len(want))
		}
		if again := redirectOf(t, cdn.URL+path+"?redirect=storage"); again.String() != loc.String() {
			t.Errorf("second redirect presigned anew (%s), want the cached %s", again, loc)
		}
	}
	key := presign.KeyPrefix + storage.OriginalKey(id)
	ttl, err := rdb.TTL(t.Context(), key).Result()
	if err != nil || ttl <= 13*time.Minute || ttl > 14*time.Minute {
		t.Errorf("Redis TTL of %s = %s (%v), want the URL's 15 min less a minute", key, ttl, err)
	}

	missing := "/images/" + strings.Repeat("0", 64) + "?redirect=storage"
	resp, body := get(t, http.MethodGet, cdn.URL+missing)
	wantProblem(t, resp, body, http.StatusNotFound, "not-found")
	if n, _ := rdb.Exists(t.Context(), presign.KeyPrefix+storage.OriginalKey(strings.Repeat("0", 64))).Result(); n != 0 {
		t.Error("a URL was cached for a missing object")
	}
}

func TestSignedRedirectDoesNotOutliveItsLink(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 1000, storage.OriginalKey, "image/png")
	rdb := newRedisClient(t)
	signer := newTestSigner(t)
	links, err := handler.NewSignedLinks(signer, nil)
	check(t, err)
	cdn := newCDNServer(t, cdnOptions{endpoint: shared.endpoint, bucket: bucket, redis: rdb, links: links})
	path := "/images/" + id
	link := func(life time.Duration) string {
		return cdn.URL + path + "?" + signer.Sign(path, time.Now().Add(life)) + "&redirect=storage"
	}

	resp, body := get(t, http.MethodGet, cdn.URL+path+"?redirect=storage")
	wantProblem(t, resp, body, http.StatusForbidden, "bad-signature")

	short := redirectOf(t, link(3*time.Minute)) // shorter than the 15 min TTL: bound by the link
	if n := expiresIn(t, short); n < 170 || n > 180 {
		t.Errorf("URL of a 3 min link lives %d s, want about 180", n)
	}
	cached, err := rdb.Get(t.Context(), presign.KeyPrefix+storage.OriginalKey(id)).Result()
	if err != nil || !strings.HasSuffix(cached, " "+short.String()) {
		t.Fatalf("cached %q (%v), want the URL just issued", cached, err)
	}
	if brief := redirectOf(t, link(30*time.Second)); expiresIn(t, brief) > 30 || brief.String() == short.String() {
		t.Errorf("a 30 s link got %s, want a URL of its own that dies with it", brief)
	}
	if after, _ := rdb.Get(t.Context(), presign.KeyPrefix+storage.OriginalKey(id)).Result(); after != cached {
		t.Error("a URL living under a minute replaced the cached one")
	}
	if again := redirectOf(t, link(time.Hour)); again.String() != short.String() {
		t.Errorf("a longer link did not reuse the cached URL, which dies before it")
	}
	resp, body = get(t, http.MethodGet, link(time.Hour)) // followed
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("following the signed redirect: %d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestRedirectWorksWhileRedisIsDown(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 1000, storage.OriginalKey, "image/png")
	port, err := freePort() // nothing listens there
	check(t, err)
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	cdn := newCDNServer(t, cdnOptions{endpoint: shared.endpoint, bucket: bucket, redis: down})

	redirectOf(t, cdn.URL+"/images/"+id+"?redirect=storage")
	resp, body := get(t, http.MethodGet, cdn.URL+"/images/"+id+"?redirect=storage")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("redirect with Redis down: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(t, http.MethodGet, cdn.URL+"/images/"+id)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("bytes with Redis down: %d, %d bytes", resp.StatusCode, len(body))
	}
}
