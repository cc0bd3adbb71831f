package presign

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// fakeStorage knows one object and records the validity of each URL it presigns.
type fakeStorage struct {
	stats    int
	validity []time.Duration
}

func (f *fakeStorage) StatObject(_ context.Context, key string) (storage.Info, error) {
	f.stats++
	if key != "originals/x" {
		return storage.Info{}, errors.Join(storage.ErrNotFound, errors.New(key))
	}
	return storage.Info{Size: 1}, nil
}

func (f *fakeStorage) PresignGet(_ context.Context, key string, expiry time.Duration) (*url.URL, error) {
	f.validity = append(f.validity, expiry)
	return url.Parse("http://files.example.com/images/" + key + "?X-Amz-Expires=" + expiry.String())
}

var now = time.Unix(1_800_000_000, 300_000_000)

func newPresigner(t *testing.T, store *fakeStorage) *Presigner {
	t.Helper()
	p, err := New(NewDefaultConfig(), Deps{Storage: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidityIsTheTTLOrWhatIsLeftOfTheLink(t *testing.T) {
	store := &fakeStorage{}
	p := newPresigner(t, store)
	cases := []struct {
		notAfter time.Time
		want     time.Duration
	}{
		{time.Time{}, 15 * time.Minute},                                    // public reads: the TTL
		{now.Add(time.Hour), 15 * time.Minute},                             // a long link: the TTL
		{now.Add(90*time.Second + 700*time.Millisecond), 90 * time.Second}, // a short one: its rest, whole seconds
		{now.Add(200 * time.Millisecond), time.Second},                     // at least a second
	}
	for _, c := range cases {
		u, err := p.PresignedURL(t.Context(), "originals/x", c.notAfter)
		if err != nil || !strings.HasPrefix(u, "http://files.example.com/images/originals/x?") {
			t.Fatalf("PresignedURL = %q, %v", u, err)
		}
		if got := store.validity[len(store.validity)-1]; got != c.want {
			t.Errorf("link until %v: URL valid %s, want %s", c.notAfter, got, c.want)
		}
	}
}

func TestMissingObjectIsNotPresigned(t *testing.T) {
	store := &fakeStorage{}
	_, err := newPresigner(t, store).PresignedURL(t.Context(), "originals/gone", time.Time{})
	if !errors.Is(err, storage.ErrNotFound) || len(store.validity) != 0 {
		t.Errorf("missing object: %v, %d URLs presigned; want ErrNotFound and none", err, len(store.validity))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, ttl := range []time.Duration{0, 999 * time.Millisecond, MaxTTL + time.Second} {
		if err := (Config{TTL: ttl}).Validate(); err == nil || !strings.Contains(err.Error(), "cdn.presign_ttl") {
			t.Errorf("TTL %s: Validate() = %v", ttl, err)
		}
	}
	if err := NewDefaultConfig().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	if _, err := New(NewDefaultConfig(), Deps{}); err == nil {
		t.Error("New accepted missing deps")
	}
}
