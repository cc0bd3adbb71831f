package handler_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// fakePresigner answers from the fake store: a URL naming the key and the bound it was given.
type fakePresigner struct {
	store *fakeStore
	mu    sync.Mutex
	bound []time.Time
}

func (p *fakePresigner) PresignedURL(ctx context.Context, key string, notAfter time.Time) (string, error) {
	if _, err := p.store.StatObject(ctx, key); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bound = append(p.bound, notAfter)
	return "http://files.example.com/images/" + key + "?X-Amz-Signature=s", nil
}

func (p *fakePresigner) bounds() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.bound...)
}

func redirectRouter(t *testing.T, links *handler.SignedLinks) (*fakeStore, *fakePresigner, http.Handler) {
	t.Helper()
	store := newFakeStore()
	store.put(storage.OriginalKey(testID), payload(), "image/jpeg")
	store.put(storage.VariantKey(testID, testVariant), payload(), "image/webp")
	presigner := &fakePresigner{store: store}
	return store, presigner, newRouterWith(t, handler.ImagesDeps{Store: store, Presigner: presigner}, links)
}

func TestRedirectToStorageIs307ToThePresignedURL(t *testing.T) {
	store, presigner, r := redirectRouter(t, nil)
	for path, key := range map[string]string{
		"/images/" + testID: storage.OriginalKey(testID),
		variantPath:         storage.VariantKey(testID, testVariant),
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := do(r, method, path+"?redirect=storage")
			if rec.Code != http.StatusTemporaryRedirect {
				t.Fatalf("%s %s?redirect=storage = %d %s", method, path, rec.Code, rec.Body.String())
			}
			want := "http://files.example.com/images/" + key + "?X-Amz-Signature=s"
			if got := rec.Header().Get("Location"); got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != handler.CacheNoStore {
				t.Errorf("Cache-Control = %q, want no-store: the URL expires", cc)
			}
			if etag := rec.Header().Get("ETag"); etag != "" {
				t.Errorf("a redirect carries ETag %q", etag)
			}
		}
	}
	if store.callCount() != 0 {
		t.Errorf("a redirect read the object's bytes (%d GETs)", store.callCount())
	}
	for _, bound := range presigner.bounds() {
		if !bound.IsZero() {
			t.Errorf("public reads bounded the URL by %v, want no bound but the presigner's", bound)
		}
	}
}

func TestRedirectOfAMissingObjectIs404AndOfABadTargetIs400(t *testing.T) {
	_, presigner, r := redirectRouter(t, nil)
	missing := "/images/" + testID + "/thumb?redirect=storage"
	assertProblem(t, do(r, http.MethodGet, missing), http.StatusNotFound, "not-found", "thumbnail")
	assertProblem(t, do(r, http.MethodGet, "/images/"+testID+"?redirect=s3"), http.StatusBadRequest,
		"invalid-input", "redirect must be storage")
	assertProblem(t, do(r, http.MethodGet, "/images/"+testID+"?redirect="), http.StatusBadRequest,
		"invalid-input", "redirect must be storage")
	if n := len(presigner.bounds()); n != 0 {
		t.Errorf("%d URLs presigned for refused redirects", n)
	}
}

func TestSignedRedirectIsBoundByTheLink(t *testing.T) {
	store, presigner, r := redirectRouter(t, newLinks(t))
	path := "/images/" + testID
	assertProblem(t, do(r, http.MethodGet, path+"?redirect=storage"), http.StatusForbidden, "bad-signature", "signed")
	assertProblem(t, do(r, http.MethodGet, signed(t, path, -time.Second)+"&redirect=storage"),
		http.StatusForbidden, "link-expired", "expired")

	link := signed(t, path, 90*time.Second) // redirect is not part of the signature
	rec := do(r, http.MethodGet, link+"&redirect=storage")
	if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Cache-Control") != handler.CacheNoStore {
		t.Fatalf("signed redirect = %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	bounds := presigner.bounds()
	if want := time.Unix(linkClock.Unix()+90, 0); len(bounds) != 1 || !bounds[0].Equal(want) {
		t.Errorf("URL bounded by %v, want the link's expiry %v", bounds, want)
	}
	if store.callCount() != 0 {
		t.Errorf("the refused and redirected requests read bytes (%d GETs)", store.callCount())
	}
}

func TestRedirectWithoutAPresignerIs503(t *testing.T) {
	_, r := seeded(t)
	assertProblem(t, do(r, http.MethodGet, "/images/"+testID+"?redirect=storage"), http.StatusServiceUnavailable,
		"dependency-unavailable", "not available")
}
