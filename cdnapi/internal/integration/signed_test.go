package integration

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

// signingSecret is the secret of the private-read cdnapi in these tests.
const signingSecret = "integration-signing-secret-32-chars-or-more"

func newTestSigner(t *testing.T) *signing.Signer {
	t.Helper()
	signer, err := signing.New(signing.Config{Secret: signingSecret})
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// newPrivateCDN serves the full router with private reads: byte routes need a signed link.
func newPrivateCDN(t *testing.T) (string, *signing.Signer) {
	t.Helper()
	signer := newTestSigner(t)
	links, err := handler.NewSignedLinks(signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	return newCDNServer(t, cdnOptions{endpoint: shared.endpoint, bucket: bucket, links: links}).URL, signer
}

func TestPrivateReadsServeOnlySignedLinksFromMinIO(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 1<<20+3, storage.OriginalKey, "image/jpeg")
	base, signer := newPrivateCDN(t)
	original := "/images/" + id
	link := original + "?" + signer.Sign(original, time.Now().Add(10*time.Minute))

	resp, body := get(t, http.MethodGet, base+original)
	wantProblem(t, resp, body, http.StatusForbidden, "bad-signature")

	resp, body = get(t, http.MethodGet, base+link)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("signed GET = %d, %d bytes (want %d exact)", resp.StatusCode, len(body), len(data))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "private, max-age=599" && cc != "private, max-age=600" {
		t.Errorf("Cache-Control = %q, want private until the link expires", cc)
	}
	if resp.Header.Get("ETag") != `"`+id+`"` {
		t.Errorf("ETag = %q", resp.Header.Get("ETag"))
	}
	resp, body = get(t, http.MethodGet, base+link, "Range", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[100:200]) {
		t.Errorf("signed Range = %d, %d bytes", resp.StatusCode, len(body))
	}

	expired := original + "?" + signer.Sign(original, time.Now().Add(-time.Second))
	resp, body = get(t, http.MethodGet, base+expired)
	wantProblem(t, resp, body, http.StatusForbidden, "link-expired")

	// The original's signature does not open its thumbnail, nor another image.
	query := link[strings.Index(link, "?"):]
	resp, body = get(t, http.MethodGet, base+original+"/thumb"+query)
	wantProblem(t, resp, body, http.StatusForbidden, "bad-signature")
	other, _ := putRandom(t, mc, 10, storage.OriginalKey, "image/png")
	resp, body = get(t, http.MethodGet, base+"/images/"+other+query)
	wantProblem(t, resp, body, http.StatusForbidden, "bad-signature")

	resp, body = get(t, http.MethodGet, base+"/readyz")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz = %d %s, want it open", resp.StatusCode, body)
	}
}
