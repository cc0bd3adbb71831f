package handler_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// benchThumb serves a 20 KB thumbnail from the memory tier, over path (signed or not), the way a
// keep-alive connection asks for it again and again.
func benchThumb(b *testing.B, links *handler.SignedLinks, path func(string) string) {
	store := newFakeStore()
	store.put(storage.ThumbKey(testID), make([]byte, 20<<10), "image/webp")
	memory, err := cache.New(cache.NewDefaultConfig(), cache.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	r := newRouterWith(b, handler.ImagesDeps{Store: store, Memory: memory}, links)
	req := httptest.NewRequest(http.MethodGet, path("/images/"+testID+"/thumb"), nil)
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		r.ServeHTTP(w, req)
		if w.code != http.StatusOK || w.written != 20<<10 {
			b.Fatalf("status %d, %d bytes", w.code, w.written)
		}
		w.code, w.written = 0, 0
	}
}

// discardWriter is a ResponseWriter that keeps the status and counts the body, so that a
// benchmark measures the handlers rather than a recorder's buffer.
type discardWriter struct {
	header  http.Header
	code    int
	written int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) { w.code = code }

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.written += len(p)
	return len(p), nil
}

func BenchmarkThumbFromMemory(b *testing.B) {
	benchThumb(b, nil, func(p string) string { return p })
}

func BenchmarkSignedThumbFromMemory(b *testing.B) {
	benchThumb(b, newLinks(b), func(p string) string { return signed(b, p, 1<<40) })
}
