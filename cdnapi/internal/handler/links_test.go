package handler_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/signing"
	"github.com/imagesearch/cdnapi/internal/storage"
)

const linkSecret = "a-signing-secret-of-at-least-32-characters"

// linkClock is the time the signed router's check reads: 400 ms into a second.
var linkClock = time.Unix(1_800_000_000, 400_000_000)

func newSigner(t testing.TB, secret string) *signing.Signer {
	t.Helper()
	s, err := signing.New(signing.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signedRouter is newRouter with the byte routes behind the signed-link check, as the server
// mounts them while reads are private, reading linkClock.
func signedRouter(t *testing.T, store *fakeStore) http.Handler {
	t.Helper()
	return newRouterWith(t, handler.ImagesDeps{Store: store}, newLinks(t))
}

// newLinks is the signed-link check with linkSecret, reading linkClock.
func newLinks(t testing.TB) *handler.SignedLinks {
	t.Helper()
	links, err := handler.NewSignedLinks(newSigner(t, linkSecret), func() time.Time { return linkClock })
	if err != nil {
		t.Fatal(err)
	}
	return links
}

// signed is path with a link signed by linkSecret that expires after lifetime from linkClock.
func signed(t testing.TB, path string, lifetime time.Duration) string {
	t.Helper()
	return path + "?" + newSigner(t, linkSecret).Sign(path, linkClock.Add(lifetime))
}

func signedSeeded(t *testing.T) (*fakeStore, http.Handler) {
	t.Helper()
	store := newFakeStore()
	store.put(storage.OriginalKey(testID), payload(), "image/jpeg")
	store.put(storage.ThumbKey(testID), []byte("RIFF....WEBPthumb"), "image/webp")
	return store, signedRouter(t, store)
}

func TestSignedLinkServesBytesCachedPrivatelyUntilItExpires(t *testing.T) {
	store, r := signedSeeded(t)
	original := "/images/" + testID
	rec := do(r, http.MethodGet, signed(t, original, 90*time.Second))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), payload()) {
		t.Fatalf("GET signed = %d with %d bytes", rec.Code, rec.Body.Len())
	}
	// 89.6 s are left at linkClock: whole seconds, never past the link.
	for k, v := range map[string]string{"Cache-Control": "private, max-age=89", "ETag": `"` + testID + `"`} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	thumb := "/images/" + testID + "/thumb"
	rec = do(r, http.MethodHead, signed(t, thumb, time.Hour))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Cache-Control") != "private, max-age=3599" {
		t.Errorf("HEAD signed thumb = %d, %d bytes, Cache-Control %q", rec.Code, rec.Body.Len(), rec.Header().Get("Cache-Control"))
	}
	if n := store.callCount(); n != 2 {
		t.Errorf("storage calls = %d, want 2", n)
	}
}

func TestSignedLinkKeepsRangeAndConditionalAnswers(t *testing.T) {
	_, r := signedSeeded(t)
	link := signed(t, "/images/"+testID, time.Minute)
	rec := do(r, http.MethodGet, link, "Range", "bytes=10-19")
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), payload()[10:20]) {
		t.Errorf("Range = %d %v", rec.Code, rec.Body.Bytes())
	}
	rec = do(r, http.MethodGet, link, "If-None-Match", `"`+testID+`"`)
	if rec.Code != http.StatusNotModified || rec.Header().Get("Cache-Control") != "private, max-age=59" {
		t.Errorf("If-None-Match = %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
}

func TestLinksThatDoNotVerifyAre403WithoutStorageCall(t *testing.T) {
	store, r := signedSeeded(t)
	original, thumb := "/images/"+testID, "/images/"+testID+"/thumb"
	good := signed(t, original, time.Minute)
	query := good[strings.Index(good, "?"):]
	forged := original + "?" + newSigner(t, linkSecret+"-other").Sign(original, linkClock.Add(time.Minute))
	cases := []struct{ name, target, code, detail string }{
		{"unsigned", original, "bad-signature", "signed"},
		{"unsigned thumbnail", thumb, "bad-signature", "signed"},
		{"another path", thumb + query, "bad-signature", "signed"},
		{"exp moved", strings.Replace(good, "exp=", "exp=1", 1), "bad-signature", "signed"},
		{"sig only", original + "?sig=" + good[strings.Index(good, "sig=")+4:], "bad-signature", "signed"},
		{"another secret", forged, "bad-signature", "signed"},
		{"expired", signed(t, original, 0), "link-expired", "expired"},
		{"expired long ago", signed(t, original, -time.Hour), "link-expired", "expired"},
		{"invalid id, unsigned", "/images/abc", "bad-signature", "signed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertProblem(t, do(r, http.MethodGet, tc.target), http.StatusForbidden, tc.code, tc.detail)
			rec := do(r, http.MethodHead, tc.target)
			if rec.Code != http.StatusForbidden || rec.Body.Len() != 0 {
				t.Errorf("HEAD = %d with %d body bytes, want 403 and none", rec.Code, rec.Body.Len())
			}
		})
	}
	if n := store.callCount(); n != 0 {
		t.Errorf("storage called %d times for refused links", n)
	}
}

func TestNewSignedLinksRejectsNil(t *testing.T) {
	if _, err := handler.NewSignedLinks(nil, nil); err == nil {
		t.Error("NewSignedLinks(nil) succeeded")
	}
}
