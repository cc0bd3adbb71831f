package cache

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/cache/cachetest"
	"github.com/imagesearch/cdnapi/internal/storage"
)

const (
	testBucket  = "images"
	imageA      = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	imageB      = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	variantOfA  = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	variantOfA2 = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
)

// diskConfig is a disk tier of max bytes (objects up to max) under dir, TTL one minute.
func diskConfig(dir string, max int64) Config {
	cfg := NewDefaultConfig()
	cfg.DiskDir, cfg.DiskMaxBytes, cfg.DiskMaxObjectBytes, cfg.TTL = dir, max, max, time.Minute
	return cfg
}

func openDisk(t *testing.T, cfg Config, clk *cachetest.Clock) *Disk {
	t.Helper()
	d, err := OpenDisk(cfg, testBucket, Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// store writes n bytes of b under key and closes the returned file.
func store(t *testing.T, d *Disk, key string, n int, b byte) File {
	t.Helper()
	data := bytes.Repeat([]byte{b}, n)
	info := storage.Info{Size: int64(n), ContentType: "image/jpeg", LastModified: time.Unix(1_700_000_000, 0), ETag: "e-" + key}
	f, file, err := d.Store(key, info, bytes.NewReader(data), d.Epoch())
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Store returned a file reading %d bytes (%v), want the %d stored", len(got), err, n)
	}
	return file
}

// lookup opens key, closes the file and reports what was found.
func lookup(d *Disk, key string) (File, Lookup) {
	f, file, found := d.Open(key)
	if f != nil {
		_ = f.Close()
	}
	return file, found
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestDiskStoresUnderTheObjectKeyAndServesFresh(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	dir := t.TempDir()
	d := openDisk(t, diskConfig(dir, 1000), clk)
	key := storage.VariantKey(imageA, variantOfA)
	file := store(t, d, key, 100, 'v')

	if want := filepath.Join(dir, testBucket, "variants", imageA, variantOfA); file.Path != want {
		t.Errorf("path = %s, want %s", file.Path, want)
	}
	got, found := lookup(d, key)
	if found != Fresh || got.ContentType != "image/jpeg" || got.Size != 100 || got.ETag != "e-"+key {
		t.Fatalf("Open = %+v, %v; want the Fresh file", got, found)
	}
	if _, found := lookup(d, storage.OriginalKey(imageA)); found != Miss {
		t.Errorf("another key = %v, want Miss", found)
	}
	entries, _ := os.ReadDir(filepath.Dir(file.Path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the object alone (no temporary file left)", len(entries))
	}
	wantTierMetrics(t, d, map[string]float64{"cdnapi_cache_hits_total": 1, "cdnapi_cache_misses_total": 1,
		"cdnapi_cache_bytes": 100, "cdnapi_cache_entries": 1})
}

func TestDiskEvictsLeastRecentlyUsedBySize(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	d := openDisk(t, diskConfig(t.TempDir(), 300), clk)
	a, b, c := storage.OriginalKey(imageA), storage.OriginalKey(imageB), storage.ThumbKey(imageA)
	fileA, fileB := store(t, d, a, 100, 'a'), store(t, d, b, 100, 'b')
	store(t, d, c, 100, 'c')
	lookup(d, a) // a is now more recently used than b

	fileD := store(t, d, storage.ThumbKey(imageB), 150, 'd')
	if _, found := lookup(d, b); found != Miss || exists(fileB.Path) {
		t.Errorf("b (least recently used) found %v, file kept %v; want it evicted and removed", found, exists(fileB.Path))
	}
	if _, found := lookup(d, a); found != Fresh || !exists(fileA.Path) || !exists(fileD.Path) {
		t.Error("a recently used entry or the new one was evicted")
	}
	if _, found := lookup(d, c); found != Miss || d.Bytes() != 250 || d.Len() != 2 {
		t.Errorf("c: %v, %d bytes in %d entries; want c evicted too, 250 bytes in 2", found, d.Bytes(), d.Len())
	}
	if d.Fits(301) || !d.Fits(300) {
		t.Error("Fits disagrees with disk_max_object_bytes")
	}
}

func TestDiskWriteIsAtomic(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	d := openDisk(t, diskConfig(t.TempDir(), 1000), clk)
	key := storage.OriginalKey(imageA)
	info := storage.Info{Size: 100, ContentType: "image/png"}
	failing := io.MultiReader(bytes.NewReader(make([]byte, 50)), iotestErrReader{})
	if _, _, err := d.Store(key, info, failing, d.Epoch()); err == nil {
		t.Fatal("Store of a body that failed half-way succeeded")
	}
	if _, _, err := d.Store(key, info, bytes.NewReader(make([]byte, 99)), d.Epoch()); err == nil {
		t.Fatal("Store of a body shorter than its size succeeded")
	}
	if _, _, err := d.Store(key, info, bytes.NewReader(make([]byte, 101)), d.Epoch()); err == nil {
		t.Fatal("Store of a body longer than its size succeeded")
	}
	if _, found := lookup(d, key); found != Miss || d.Len() != 0 || d.Bytes() != 0 {
		t.Errorf("after failed writes: %v, %d entries, %d bytes; want nothing", found, d.Len(), d.Bytes())
	}
	leftovers, _ := filepath.Glob(filepath.Join(d.dir, "originals", "*"))
	if len(leftovers) != 0 {
		t.Errorf("failed writes left files: %v", leftovers)
	}
	if _, _, err := d.Store("../escape", storage.Info{Size: 1}, strings.NewReader("x"), d.Epoch()); err == nil {
		t.Error("Store accepted a key that leaves the directory")
	}
}

// wantTierMetrics checks the disk tier's metrics, named without their tier label.
func wantTierMetrics(t *testing.T, d *Disk, want map[string]float64) {
	t.Helper()
	got := metricValues(t, d)
	for name, v := range want {
		if got[name+"{tier=disk}"] != v {
			t.Errorf("%s{tier=disk} = %v, want %v (all: %v)", name, got[name+"{tier=disk}"], v, got)
		}
	}
}

// iotestErrReader fails every read.
type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestDiskIndexIsRebuiltOnStartAsStale(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	dir := t.TempDir()
	first := openDisk(t, diskConfig(dir, 250), clk)
	older, newer := storage.OriginalKey(imageA), storage.VariantKey(imageA, variantOfA)
	olderFile, newerFile := store(t, first, older, 100, 'o'), store(t, first, newer, 100, 'n')
	past := time.Unix(1_700_000_000, 0)
	if err := os.Chtimes(olderFile.Path, past, past); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, testBucket, "originals", tempPrefix+"123")
	foreign := filepath.Join(dir, testBucket, "notes.txt")
	for _, p := range []string{leftover, foreign} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	second := openDisk(t, diskConfig(dir, 250), clk)
	if second.Len() != 2 || second.Bytes() != 200 {
		t.Fatalf("rebuilt index: %d entries, %d bytes; want 2, 200", second.Len(), second.Bytes())
	}
	file, found := lookup(second, newer)
	if found != Stale || file.Size != 100 || file.ContentType != "" {
		t.Errorf("rebuilt entry = %+v, %v; want Stale, its size known, its metadata not", file, found)
	}
	if exists(leftover) || !exists(foreign) {
		t.Errorf("temporary leftover kept %v, foreign file kept %v; want removed, kept", exists(leftover), exists(foreign))
	}
	store(t, second, storage.ThumbKey(imageB), 100, 't') // over 250: the oldest file goes
	if _, found := lookup(second, older); found != Miss || exists(olderFile.Path) || !exists(newerFile.Path) {
		t.Error("the entry with the oldest modification time was not the one evicted")
	}
	if _, err := OpenDisk(diskConfig(filepath.Join(dir, testBucket, "notes.txt"), 250), testBucket, Deps{}); err == nil {
		t.Error("OpenDisk under a regular file succeeded")
	}
}

func TestDiskRevalidationRefreshesOrDrops(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	d := openDisk(t, diskConfig(t.TempDir(), 1000), clk)
	key := storage.OriginalKey(imageA)
	file := store(t, d, key, 100, 'x')
	clk.Advance(time.Minute)
	if _, found := lookup(d, key); found != Stale {
		t.Fatalf("after the TTL: %v, want Stale", found)
	}
	info := storage.Info{Size: 100, ContentType: "image/avif", LastModified: time.Unix(1_750_000_000, 0), ETag: file.ETag}
	got, ok := d.Revalidate(key, info)
	if !ok || got.ContentType != "image/avif" || !got.LastModified.Equal(info.LastModified) {
		t.Fatalf("Revalidate = %+v, %v; want the entry with MinIO's metadata", got, ok)
	}
	if _, found := lookup(d, key); found != Fresh {
		t.Errorf("after revalidation: %v, want Fresh", found)
	}
	clk.Advance(time.Minute)
	if _, ok := d.Revalidate(key, storage.Info{Size: 100, ETag: "another-version"}); ok || exists(file.Path) {
		t.Error("an entry whose ETag changed in MinIO was kept")
	}
	store(t, d, key, 100, 'x')
	clk.Advance(time.Minute)
	if _, ok := d.Revalidate(key, storage.Info{Size: 99}); ok || d.Len() != 0 {
		t.Error("an entry whose size changed in MinIO was kept")
	}
	store(t, d, key, 100, 'x')
	d.Remove(key)
	if _, found := lookup(d, key); found != Miss || exists(file.Path) {
		t.Error("Remove kept the entry or its file")
	}
}

func TestDiskOpenOfAFileRemovedBehindItsBackIsAMiss(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	d := openDisk(t, diskConfig(t.TempDir(), 1000), clk)
	key := storage.OriginalKey(imageA)
	file := store(t, d, key, 100, 'x')
	if err := os.Remove(file.Path); err != nil { // another process sharing the directory evicted it
		t.Fatal(err)
	}
	if _, found := lookup(d, key); found != Miss || d.Len() != 0 || d.Bytes() != 0 {
		t.Errorf("Open of a vanished file: %v, %d entries, %d bytes; want a Miss and no entry", found, d.Len(), d.Bytes())
	}
}

func TestDiskOffIsNil(t *testing.T) {
	cfg := diskConfig(t.TempDir(), 0)
	d, err := OpenDisk(cfg, testBucket, Deps{})
	if err != nil || d != nil {
		t.Fatalf("OpenDisk with disk_max_bytes 0 = %v, %v; want nil, nil", d, err)
	}
	if d.Enabled() || d.Fits(1) || d.Len() != 0 || d.Epoch() != 0 || d.DropImage(imageA) != 0 || d.ExpireAll() != 0 {
		t.Error("a nil Disk claims to keep something")
	}
	if _, _, found := d.Open("originals/" + imageA); found != Miss {
		t.Error("a nil Disk found an entry")
	}
}
