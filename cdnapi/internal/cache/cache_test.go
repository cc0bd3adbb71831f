package cache

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/cache/cachetest"
	"github.com/prometheus/client_golang/prometheus"
)

// entry is an Entry of n bytes filled with b.
func entry(n int, b byte) Entry {
	return Entry{Data: bytes.Repeat([]byte{b}, n), ContentType: "image/webp",
		LastModified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Size: int64(n)}
}

// cost is what an entry of n bytes under key is charged.
func cost(key string, n int) int64 { return int64(n) + int64(len(key)) + EntryOverhead }

func newCache(t *testing.T, cfg Config, clk *cachetest.Clock) *Cache {
	t.Helper()
	deps := Deps{}
	if clk != nil {
		deps.Now = clk.Now
	}
	c, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// metricValues gathers c's metrics as "name{label=value}" -> value.
func metricValues(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func wantMetrics(t *testing.T, c *Cache, want map[string]float64) {
	t.Helper()
	got := metricValues(t, c)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestGetReturnsWhatWasAdded(t *testing.T) {
	c := newCache(t, NewDefaultConfig(), nil)
	if _, ok := c.Get("thumbs/a.webp"); ok {
		t.Fatal("hit on an empty cache")
	}
	e := entry(100, 'a')
	if !c.Add("thumbs/a.webp", e, c.Epoch()) {
		t.Fatal("Add refused a small entry")
	}
	got, ok := c.Get("thumbs/a.webp")
	if !ok || !bytes.Equal(got.Data, e.Data) || got.ContentType != e.ContentType ||
		!got.LastModified.Equal(e.LastModified) || got.Size != 100 {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	if c.Len() != 1 || c.Bytes() != cost("thumbs/a.webp", 100) {
		t.Errorf("Len %d Bytes %d", c.Len(), c.Bytes())
	}
	wantMetrics(t, c, map[string]float64{
		"cdnapi_cache_hits_total{tier=memory}": 1, "cdnapi_cache_misses_total{tier=memory}": 1,
		"cdnapi_cache_bytes{tier=memory}": float64(cost("thumbs/a.webp", 100)), "cdnapi_cache_entries{tier=memory}": 1,
		"cdnapi_cache_evictions_total{reason=capacity}{tier=memory}": 0, "cdnapi_cache_evictions_total{reason=expired}{tier=memory}": 0,
	})
}

func TestEvictsLeastRecentlyUsedByBytes(t *testing.T) {
	// Room for exactly three 1000-byte entries under 1-character keys.
	cfg := Config{MaxBytes: 3 * cost("k", 1000), MaxObjectBytes: 1000, TTL: time.Minute}
	c := newCache(t, cfg, nil)
	for _, k := range []string{"a", "b", "c"} {
		if !c.Add(k, entry(1000, k[0]), c.Epoch()) {
			t.Fatalf("Add(%s) refused", k)
		}
	}
	if c.Bytes() != cfg.MaxBytes || c.Len() != 3 {
		t.Fatalf("full cache: %d bytes, %d entries", c.Bytes(), c.Len())
	}
	c.Get("a") // a is now more recent than b and c
	c.Add("d", entry(1000, 'd'), c.Epoch())
	if _, ok := c.Peek("b"); ok {
		t.Error("b, the least recently used, was not evicted")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Peek(k); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
	// The Peeks above refreshed a, c, d in that order, so a is now the least recently used: even a
	// 1-byte entry must evict it, the cache being full.
	c.Add("e", entry(1, 'e'), c.Epoch())
	want := cost("c", 1000) + cost("d", 1000) + cost("e", 1)
	if _, ok := c.Peek("a"); ok || c.Len() != 3 || c.Bytes() != want {
		t.Errorf("after adding e: a kept %v, %d entries, %d bytes (want 3 entries, %d bytes)", ok, c.Len(), c.Bytes(), want)
	}
	wantMetrics(t, c, map[string]float64{"cdnapi_cache_evictions_total{reason=capacity}{tier=memory}": 2})

	// An entry needing the room of two evicts the two least recently used, and no more.
	c2 := newCache(t, Config{MaxBytes: 3 * cost("k", 1000), MaxObjectBytes: 2000, TTL: time.Minute}, nil)
	for _, k := range []string{"a", "b", "c"} {
		c2.Add(k, entry(1000, k[0]), c2.Epoch())
	}
	c2.Add("z", entry(2000, 'z'), c2.Epoch())
	_, aKept := c2.Peek("a")
	_, bKept := c2.Peek("b")
	_, cKept := c2.Peek("c")
	_, zKept := c2.Peek("z")
	if aKept || bKept || !cKept || !zKept || c2.Bytes() != cost("c", 1000)+cost("z", 2000) {
		t.Errorf("after a 2000-byte add: kept a %v b %v c %v z %v, %d bytes", aKept, bKept, cKept, zKept, c2.Bytes())
	}
	wantMetrics(t, c2, map[string]float64{"cdnapi_cache_evictions_total{reason=capacity}{tier=memory}": 2})
}

func TestReplacingAKeyKeepsTheAccounting(t *testing.T) {
	c := newCache(t, NewDefaultConfig(), nil)
	c.Add("k", entry(500, 'x'), c.Epoch())
	c.Add("k", entry(200, 'y'), c.Epoch())
	got, _ := c.Get("k")
	if c.Len() != 1 || c.Bytes() != cost("k", 200) || got.Data[0] != 'y' {
		t.Errorf("after replace: %d entries, %d bytes, data %q", c.Len(), c.Bytes(), got.Data[:1])
	}
	wantMetrics(t, c, map[string]float64{"cdnapi_cache_evictions_total{reason=capacity}{tier=memory}": 0})
}

func TestRefusesWhatDoesNotFit(t *testing.T) {
	cfg := Config{MaxBytes: 10000, MaxObjectBytes: 1000, TTL: time.Minute}
	c := newCache(t, cfg, nil)
	if c.Fits(1001) || !c.Fits(1000) || !c.Fits(0) || c.Fits(-1) {
		t.Error("Fits disagrees with MaxObjectBytes")
	}
	if c.Add("big", entry(1001, 'b'), c.Epoch()) {
		t.Error("Add stored an object larger than MaxObjectBytes")
	}
	bad := entry(10, 'b')
	bad.Size = 5
	if c.Add("bad", bad, c.Epoch()) {
		t.Error("Add stored an entry whose Size is not len(Data)")
	}
	if !c.Add("empty", entry(0, 0), c.Epoch()) {
		t.Error("Add refused an empty object")
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d", c.Len())
	}
	// An object within MaxObjectBytes whose key pushes it past MaxBytes is refused, not half-stored.
	tight := newCache(t, Config{MaxBytes: 1000, MaxObjectBytes: 1000, TTL: time.Minute}, nil)
	if tight.Add("k", entry(1000, 'k'), tight.Epoch()) || tight.Len() != 0 || tight.Bytes() != 0 {
		t.Errorf("tight cache: %d entries, %d bytes", tight.Len(), tight.Bytes())
	}
}

func TestEntriesExpireAfterTTL(t *testing.T) {
	clk := cachetest.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	c := newCache(t, Config{MaxBytes: 1 << 20, MaxObjectBytes: 1 << 10, TTL: 10 * time.Minute}, clk)
	c.Add("k", entry(10, 'k'), c.Epoch())
	clk.Advance(10*time.Minute - time.Nanosecond)
	if _, ok := c.Get("k"); !ok {
		t.Fatal("entry gone before its TTL")
	}
	clk.Advance(time.Nanosecond)
	if _, ok := c.Get("k"); ok {
		t.Fatal("entry served at its TTL")
	}
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Errorf("expired entry kept: %d entries, %d bytes", c.Len(), c.Bytes())
	}
	// Re-adding (the refetch) starts a new TTL; a hit does not extend it.
	c.Add("k", entry(10, 'k'), c.Epoch())
	clk.Advance(9 * time.Minute)
	c.Get("k")
	clk.Advance(time.Minute)
	if _, ok := c.Peek("k"); ok {
		t.Error("a hit extended the TTL")
	}
	wantMetrics(t, c, map[string]float64{
		"cdnapi_cache_evictions_total{reason=expired}{tier=memory}": 2, "cdnapi_cache_hits_total{tier=memory}": 2,
		"cdnapi_cache_misses_total{tier=memory}": 1, "cdnapi_cache_entries{tier=memory}": 0, "cdnapi_cache_bytes{tier=memory}": 0,
	})
}

func TestDisabledAndNilCachesStoreNothing(t *testing.T) {
	for _, cfg := range []Config{{MaxBytes: 0, MaxObjectBytes: 1024}, {MaxBytes: 1 << 20, MaxObjectBytes: 0}} {
		c := newCache(t, cfg, nil)
		if c.Enabled() || c.Fits(1) || c.Add("k", entry(1, 'k'), c.Epoch()) {
			t.Errorf("%+v: cache is on", cfg)
		}
		if _, ok := c.Get("k"); ok {
			t.Errorf("%+v: hit", cfg)
		}
		wantMetrics(t, c, map[string]float64{"cdnapi_cache_misses_total{tier=memory}": 0})
	}
	var c *Cache
	if c.Enabled() || c.Fits(1) || c.Add("k", entry(1, 'k'), c.Epoch()) || c.Len() != 0 || c.Bytes() != 0 {
		t.Error("nil cache is on")
	}
	if _, ok := c.Get("k"); ok {
		t.Error("nil cache hit")
	}
}

// Shape of the concurrency tests: stormGoroutines goroutines each take stormSteps Get-or-Add
// steps over stormKeys keys of equal cost, in a cache with room for exactly stormSlots of them.
// Every other step looks up one of the first stormHotKeys keys, which therefore stay cached
// (and are hit) until they expire; the other steps cycle through all keys and force evictions.
const (
	stormGoroutines = 8
	stormSteps      = 2000
	stormKeys       = 50
	stormHotKeys    = 8
	stormSlots      = 20
	stormSize       = 300
)

// stormKey is the i-th key of the concurrency tests; every one is 6 bytes long, so all entries cost the same.
func stormKey(i int) string { return fmt.Sprintf("key-%02d", i) }

// stormConfig is a cache with room for exactly stormSlots storm entries.
func stormConfig() Config {
	return Config{MaxBytes: stormSlots * cost(stormKey(0), stormSize), MaxObjectBytes: 512, TTL: time.Second}
}

// storm runs the concurrent Get-or-Add workload on c: a hit must hold the key's bytes, a miss
// Adds them. With clk set, each goroutine advances it by 100ms every 50 steps, so entries expire
// under concurrent use. It returns the hits and misses the goroutines saw.
func storm(t *testing.T, c *Cache, clk *cachetest.Clock) (hits, misses int64) {
	t.Helper()
	var nHits, nMisses atomic.Int64
	var wg sync.WaitGroup
	for g := range stormGoroutines {
		wg.Go(func() {
			for i := range stormSteps {
				key := stormKey((g*7 + i) % stormKeys)
				if i%2 == 0 {
					key = stormKey((g + i/2) % stormHotKeys)
				}
				if clk != nil && i%50 == 0 {
					clk.Advance(100 * time.Millisecond)
				}
				if e, ok := c.Get(key); ok {
					nHits.Add(1)
					if len(e.Data) != stormSize || e.Data[0] != key[5] {
						t.Errorf("%s holds %d bytes starting %q", key, len(e.Data), e.Data[:min(1, len(e.Data))])
						return
					}
					continue
				}
				nMisses.Add(1)
				if !c.Add(key, entry(stormSize, key[5]), c.Epoch()) {
					t.Errorf("Add(%s) refused", key)
					return
				}
			}
		})
	}
	wg.Wait()
	return nHits.Load(), nMisses.Load()
}

// checkAccounting verifies c's bookkeeping: the LRU list and the map hold the same entries, bytes
// is exactly the sum of their costs, and the gauges agree.
func checkAccounting(t *testing.T, c *Cache) {
	t.Helper()
	c.mu.Lock()
	var sum int64
	listed := 0
	for el := c.order.Front(); el != nil; el = el.Next() {
		it := el.Value.(*item)
		sum += it.cost
		listed++
		if c.items[it.key] != el {
			t.Errorf("%s is listed but not mapped to its list element", it.key)
		}
	}
	bytes, mapped := c.bytes, len(c.items)
	c.mu.Unlock()
	if sum != bytes || listed != mapped {
		t.Errorf("accounting: list sum %d, bytes %d, list %d, map %d", sum, bytes, listed, mapped)
	}
	wantMetrics(t, c, map[string]float64{"cdnapi_cache_bytes{tier=memory}": float64(bytes), "cdnapi_cache_entries{tier=memory}": float64(mapped)})
}

// checkStormTallies verifies that the hit and miss counters match what the storm's goroutines saw.
func checkStormTallies(t *testing.T, c *Cache, hits, misses int64) {
	t.Helper()
	if hits+misses != stormGoroutines*stormSteps {
		t.Errorf("%d hits + %d misses, want %d lookups", hits, misses, stormGoroutines*stormSteps)
	}
	wantMetrics(t, c, map[string]float64{
		"cdnapi_cache_hits_total{tier=memory}": float64(hits), "cdnapi_cache_misses_total{tier=memory}": float64(misses),
	})
}

// Without expiry (the fake clock never moves), entries leave only to make room, and all entries
// cost the same: once stormSlots distinct keys were added the cache stays exactly full, whatever
// the interleaving.
func TestConcurrentUseLeavesTheCacheExactlyFull(t *testing.T) {
	cfg := stormConfig()
	c := newCache(t, cfg, cachetest.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)))
	hits, misses := storm(t, c, nil)
	checkStormTallies(t, c, hits, misses)
	checkAccounting(t, c)
	if c.Len() != stormSlots || c.Bytes() != cfg.MaxBytes {
		t.Errorf("after the storm: %d entries, %d bytes; want %d entries, %d bytes", c.Len(), c.Bytes(), stormSlots, cfg.MaxBytes)
	}
	wantMetrics(t, c, map[string]float64{"cdnapi_cache_evictions_total{reason=expired}{tier=memory}": 0})
}

// With entries expiring mid-storm the number left is up to the interleaving, so the test counts
// them and then checks exact outcomes: expiring them all empties the cache to 0 bytes with one
// expired eviction each, and refilling it holds exactly stormSlots entries again.
func TestConcurrentUseWithExpiryKeepsExactAccounting(t *testing.T) {
	clk := cachetest.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	cfg := stormConfig()
	c := newCache(t, cfg, clk)
	hits, misses := storm(t, c, clk)
	checkStormTallies(t, c, hits, misses)
	checkAccounting(t, c)
	left := c.Len()
	if c.Bytes() != int64(left)*cost(stormKey(0), stormSize) {
		t.Errorf("%d entries are charged %d bytes, want %d", left, c.Bytes(), int64(left)*cost(stormKey(0), stormSize))
	}
	expiredBefore := metricValues(t, c)["cdnapi_cache_evictions_total{reason=expired}{tier=memory}"]

	clk.Advance(cfg.TTL)
	for i := range stormKeys {
		if _, ok := c.Peek(stormKey(i)); ok {
			t.Errorf("%s served past its TTL", stormKey(i))
		}
	}
	checkAccounting(t, c)
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Errorf("all expired: %d entries, %d bytes left", c.Len(), c.Bytes())
	}
	wantMetrics(t, c, map[string]float64{"cdnapi_cache_evictions_total{reason=expired}{tier=memory}": expiredBefore + float64(left)})

	capacityBefore := metricValues(t, c)["cdnapi_cache_evictions_total{reason=capacity}{tier=memory}"]
	for i := range stormSlots + 1 {
		c.Add(fmt.Sprintf("new-%02d", i), entry(stormSize, 'n'), c.Epoch())
	}
	checkAccounting(t, c)
	if _, ok := c.Peek("new-00"); ok || c.Len() != stormSlots || c.Bytes() != cfg.MaxBytes {
		t.Errorf("refilled: oldest kept %v, %d entries, %d bytes; want %d entries, %d bytes",
			ok, c.Len(), c.Bytes(), stormSlots, cfg.MaxBytes)
	}
	wantMetrics(t, c, map[string]float64{"cdnapi_cache_evictions_total{reason=capacity}{tier=memory}": capacityBefore + 1})
}

func TestConfigValidate(t *testing.T) {
	if err := NewDefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	def := NewDefaultConfig()
	if def.MaxBytes != 64<<20 || def.MaxObjectBytes != 256<<10 || def.TTL != 10*time.Minute || !def.Enabled() {
		t.Errorf("defaults = %+v", def)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("all-zero (off) config rejected: %v", err)
	}
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{MaxBytes: -1, MaxObjectBytes: 1, TTL: time.Second}, "cache.max_bytes"},
		{Config{MaxBytes: 1 << 20, MaxObjectBytes: -1, TTL: time.Second}, "cache.max_object_bytes"},
		{Config{MaxBytes: 1 << 30, MaxObjectBytes: MaxObjectBytesLimit + 1, TTL: time.Second}, "must not exceed"},
		{Config{MaxBytes: 1000, MaxObjectBytes: 2000, TTL: time.Second}, "cache.max_bytes 1000"},
		{Config{MaxBytes: 1 << 20, MaxObjectBytes: 1000}, "cache.ttl"},
		{Config{TTL: -time.Second}, "cache.ttl"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want mention of %q", tc.cfg, err, tc.want)
		}
		if _, err := New(tc.cfg, Deps{}); err == nil {
			t.Errorf("New(%+v) accepted an invalid config", tc.cfg)
		}
	}
}
