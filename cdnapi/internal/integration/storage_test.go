package integration

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// newStore is a storage.Client on the shared MinIO.
func newStore(t *testing.T, bucketName string) *storage.Client {
	t.Helper()
	cfg := storage.NewDefaultConfig()
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey, cfg.Bucket = shared.endpoint, rootUser, rootPassword, bucketName
	store, err := storage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func TestStorageStreamsAndSeeks(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 1<<20, storage.OriginalKey, "image/gif")
	store := newStore(t, bucket)

	obj, err := store.GetObject(t.Context(), storage.OriginalKey(id))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = obj.Body.Close() }()
	if obj.Size != int64(len(data)) || obj.ContentType != "image/gif" || obj.LastModified.IsZero() {
		t.Fatalf("object = size %d, type %q, modified %v", obj.Size, obj.ContentType, obj.LastModified)
	}
	readAt := func(off int64, n int) []byte {
		t.Helper()
		if _, err := obj.Body.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(obj.Body, buf); err != nil {
			t.Fatalf("read %d at %d: %v", n, off, err)
		}
		return buf
	}
	// The size probe http.ServeContent does, then reads forwards, backwards, and to the end.
	if end, err := obj.Body.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("Seek(0, End) = %d, %v", end, err)
	}
	for _, c := range []struct {
		off int64
		n   int
	}{{0, 100}, {100, 5000}, {700000, 10}, {5, 5}, {int64(len(data)) - 3, 3}} {
		if got := readAt(c.off, c.n); !bytes.Equal(got, data[c.off:c.off+int64(c.n)]) {
			t.Errorf("bytes at %d differ", c.off)
		}
	}
	if n, err := obj.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("read past the end = %d, %v", n, err)
	}
	if _, err := obj.Body.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(obj.Body)
	if err != nil || !bytes.Equal(all, data) {
		t.Errorf("full read after seeks: %d bytes, %v", len(all), err)
	}
}

func TestStorageErrors(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	_, err := newStore(t, bucket).GetObject(t.Context(), storage.OriginalKey(strings.Repeat("c", 64)))
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}
	if err := newStore(t, bucket).Ready(t.Context()); err != nil {
		t.Errorf("Ready: %v", err)
	}
	if err := newStore(t, "absent-bucket").Ready(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Ready without bucket: %v", err)
	}
}
