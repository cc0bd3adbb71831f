package cache

import (
	"strings"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/cache/cachetest"
	"github.com/imagesearch/cdnapi/internal/storage"
)

func TestMemoryDropImageRemovesEveryObjectOfThatImageOnly(t *testing.T) {
	c := newCache(t, NewDefaultConfig(), nil)
	mine := []string{storage.OriginalKey(imageA), storage.ThumbKey(imageA), storage.VariantKey(imageA, variantOfA)}
	others := []string{storage.OriginalKey(imageB), storage.ThumbKey(imageB), storage.VariantKey(imageB, variantOfA)}
	for _, key := range append(append([]string{}, mine...), others...) {
		c.Add(key, entry(10, key[0]), c.Epoch())
	}
	if n := c.DropImage(imageA); n != len(mine) {
		t.Errorf("DropImage removed %d entries, want %d", n, len(mine))
	}
	for _, key := range mine {
		if _, ok := c.Peek(key); ok {
			t.Errorf("%s survived its image's deletion", key)
		}
	}
	for _, key := range others {
		if _, ok := c.Peek(key); !ok {
			t.Errorf("%s of another image was dropped", key)
		}
	}
	wantMetrics(t, c, map[string]float64{"cdnapi_cache_evictions_total{reason=deleted}{tier=memory}": 3,
		"cdnapi_cache_entries{tier=memory}": 3})
}

func TestMemoryRefusesAFetchThatBeganBeforeAnInvalidation(t *testing.T) {
	c := newCache(t, NewDefaultConfig(), nil)
	key := storage.OriginalKey(imageA)
	before := c.Epoch() // a request reads the epoch, then fetches from MinIO...
	c.DropImage(imageA) // ...while the image is deleted
	if c.Add(key, entry(10, 'a'), before) {
		t.Error("an object fetched before its deletion was cached")
	}
	if !c.Add(key, entry(10, 'a'), c.Epoch()) {
		t.Error("a fetch after the invalidation was refused")
	}
	if n := c.ExpireAll(); n != 1 || c.Len() != 0 {
		t.Errorf("ExpireAll removed %d, left %d entries; want all gone", n, c.Len())
	}
	if c.Add(key, entry(10, 'a'), before) {
		t.Error("ExpireAll did not advance the epoch")
	}
}

func TestDiskDropImageRemovesFilesOfThatImageOnly(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	d := openDisk(t, diskConfig(t.TempDir(), 10_000), clk)
	mine := []string{storage.OriginalKey(imageA), storage.VariantKey(imageA, variantOfA), storage.VariantKey(imageA, variantOfA2)}
	others := []string{storage.OriginalKey(imageB), storage.VariantKey(imageB, variantOfA)}
	paths := map[string]string{}
	for _, key := range append(append([]string{}, mine...), others...) {
		paths[key] = store(t, d, key, 10, key[0]).Path
	}
	if n := d.DropImage(imageA); n != len(mine) {
		t.Errorf("DropImage removed %d files, want %d", n, len(mine))
	}
	for _, key := range mine {
		if _, found := lookup(d, key); found != Miss || exists(paths[key]) {
			t.Errorf("%s survived its image's deletion", key)
		}
	}
	if exists(paths[mine[1]][:len(paths[mine[1]])-len(variantOfA)]) {
		t.Error("the deleted image's variants directory was left behind")
	}
	for _, key := range others {
		if _, found := lookup(d, key); found != Fresh || !exists(paths[key]) {
			t.Errorf("%s of another image was dropped", key)
		}
	}
	wantTierMetrics(t, d, map[string]float64{"cdnapi_cache_entries": 2, "cdnapi_cache_bytes": 20})
}

func TestDiskStoresAFetchThatBeganBeforeAnInvalidationAsStale(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	d := openDisk(t, diskConfig(t.TempDir(), 1000), clk)
	key := storage.OriginalKey(imageA)
	before := d.Epoch()
	d.DropImage(imageA)
	f, _, err := d.Store(key, storage.Info{Size: 3}, strings.NewReader("abc"), before)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	if _, found := lookup(d, key); found != Stale {
		t.Errorf("a fetch that began before a deletion is %v, want Stale (checked with MinIO before use)", found)
	}
}

func TestDiskExpireAllKeepsFilesButChecksEachAgain(t *testing.T) {
	clk := cachetest.NewClock(time.Unix(1_800_000_000, 0))
	d := openDisk(t, diskConfig(t.TempDir(), 1000), clk)
	key := storage.OriginalKey(imageA)
	file := store(t, d, key, 10, 'a')
	if n := d.ExpireAll(); n != 1 {
		t.Errorf("ExpireAll = %d, want 1", n)
	}
	if _, found := lookup(d, key); found != Stale || !exists(file.Path) {
		t.Errorf("after ExpireAll: %v, file kept %v; want Stale with its file", found, exists(file.Path))
	}
}
