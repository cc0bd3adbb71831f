// Package cache is a byte-bounded, concurrency-safe LRU of small objects (thumbnails, small
// originals), so that repeated requests for them are answered from memory instead of MinIO.
//
// Staleness: object keys name content-addressed bytes (the id is their SHA-256), so the bytes
// under a key never change; but an image can be deleted from MinIO by another service. An entry
// is therefore served for at most Config.TTL after it was fetched; then it is dropped and the
// next request fetches the object again (and answers 404 if it is gone). TTL is the bound on how
// long a deleted image can still be served by one cdnapi process.
package cache

import (
	"container/list"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// EntryOverhead is the bookkeeping cost charged per entry on top of its bytes and key, so that
// many tiny objects cannot grow the cache without bound.
const EntryOverhead = 256

// Eviction reasons, the values of the `reason` label of cdnapi_cache_evictions_total.
const (
	// ReasonCapacity: the least recently used entry made room for a new one.
	ReasonCapacity = "capacity"
	// ReasonExpired: the entry outlived the TTL and was dropped when next looked up.
	ReasonExpired = "expired"
)

// Entry is one cached object. Its Data is shared by every reader and must never be modified.
type Entry struct {
	// Data is the whole object.
	Data []byte
	// ContentType is the stored Content-Type.
	ContentType string
	// LastModified is when the object was written.
	LastModified time.Time
	// Size is the object's length in bytes, len(Data).
	Size int64
}

// Deps are the collaborators of a Cache.
type Deps struct {
	// Now is the clock that ages entries; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
}

// item is an entry in the LRU list.
type item struct {
	key     string
	entry   Entry
	cost    int64
	expires time.Time
}

// Cache is a byte-bounded LRU of Entries keyed by object key with a TTL per entry. It is safe for
// concurrent use and is a prometheus.Collector of its hit, miss, eviction and size metrics.
// A nil *Cache, or one whose Config is not Enabled, caches nothing.
type Cache struct {
	cfg Config
	now func() time.Time

	mu    sync.Mutex
	order *list.List // of *item; front is the most recently used
	items map[string]*list.Element
	bytes int64

	hits      prometheus.Counter
	misses    prometheus.Counter
	evictions *prometheus.CounterVec
	sizeBytes prometheus.Gauge
	entries   prometheus.Gauge
}

// New returns an empty Cache for cfg.
func New(cfg Config, deps Deps) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	c := &Cache{
		cfg:   cfg,
		now:   now,
		order: list.New(),
		items: map[string]*list.Element{},
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnapi_cache_hits_total",
			Help: "Object lookups answered from the in-process cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnapi_cache_misses_total",
			Help: "Object lookups that found no fresh entry (objects too large to cache included).",
		}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnapi_cache_evictions_total",
			Help: "Entries removed from the cache, by reason (capacity or expired).",
		}, []string{"reason"}),
		sizeBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnapi_cache_bytes",
			Help: "Bytes charged to the cache: object bytes plus key and per-entry overhead.",
		}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnapi_cache_entries",
			Help: "Entries in the cache.",
		}),
	}
	c.evictions.WithLabelValues(ReasonCapacity)
	c.evictions.WithLabelValues(ReasonExpired)
	return c, nil
}

// Enabled reports whether the cache stores anything.
func (c *Cache) Enabled() bool {
	return c != nil && c.cfg.Enabled()
}

// Fits reports whether an object of size bytes may be cached.
func (c *Cache) Fits(size int64) bool {
	return c.Enabled() && size >= 0 && size <= c.cfg.MaxObjectBytes
}

// Get returns the fresh entry under key and marks it most recently used, counting a hit or a miss.
// An entry older than the TTL is removed and reported as a miss.
func (c *Cache) Get(key string) (Entry, bool) {
	e, ok := c.lookup(key)
	if c.Enabled() {
		if ok {
			c.hits.Inc()
		} else {
			c.misses.Inc()
		}
	}
	return e, ok
}

// Peek is Get without counting a hit or miss; it still refreshes recency and drops expired entries.
func (c *Cache) Peek(key string) (Entry, bool) {
	return c.lookup(key)
}

// lookup finds a fresh entry.
func (c *Cache) lookup(key string) (Entry, bool) {
	if !c.Enabled() {
		return Entry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return Entry{}, false
	}
	it := el.Value.(*item)
	if !c.now().Before(it.expires) {
		c.remove(el, ReasonExpired)
		return Entry{}, false
	}
	c.order.MoveToFront(el)
	return it.entry, true
}

// Add stores e under key for the TTL, replacing an entry already there and evicting the least
// recently used entries until the cache is within MaxBytes. It returns false (storing nothing)
// when the cache is off or e is larger than MaxObjectBytes or inconsistent (Size != len(Data)).
func (c *Cache) Add(key string, e Entry) bool {
	if !c.Fits(e.Size) || e.Size != int64(len(e.Data)) {
		return false
	}
	cost := e.Size + int64(len(key)) + EntryOverhead
	if cost > c.cfg.MaxBytes {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el, "")
	}
	c.items[key] = c.order.PushFront(&item{key: key, entry: e, cost: cost, expires: c.now().Add(c.cfg.TTL)})
	c.bytes += cost
	for c.bytes > c.cfg.MaxBytes {
		c.remove(c.order.Back(), ReasonCapacity)
	}
	c.publish()
	return true
}

// remove drops el, counting an eviction when reason is set. The caller holds mu.
func (c *Cache) remove(el *list.Element, reason string) {
	it := c.order.Remove(el).(*item)
	delete(c.items, it.key)
	c.bytes -= it.cost
	if reason != "" {
		c.evictions.WithLabelValues(reason).Inc()
	}
	c.publish()
}

// publish updates the size gauges. The caller holds mu.
func (c *Cache) publish() {
	c.sizeBytes.Set(float64(c.bytes))
	c.entries.Set(float64(len(c.items)))
}

// Len is the number of entries, expired ones not yet dropped included.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Bytes is the cost charged to the cache right now; it never exceeds Config.MaxBytes.
func (c *Cache) Bytes() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// collectors are the cache's metrics.
func (c *Cache) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.hits, c.misses, c.evictions, c.sizeBytes, c.entries}
}

// Describe sends the descriptors of the cache's metrics (prometheus.Collector).
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.collectors() {
		m.Describe(ch)
	}
}

// Collect sends the cache's current metric values (prometheus.Collector).
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.collectors() {
		m.Collect(ch)
	}
}
