// Package cache keeps objects near cdnapi so that repeated requests are not answered from MinIO:
// a byte-bounded, concurrency-safe memory LRU of small objects (thumbnails, small originals) in
// this file, and a size-bounded LRU of files on disk for larger ones (disk.go).
//
// Staleness: object keys name content-addressed bytes (the id is their SHA-256), so the bytes
// under a key never change; but an image can be deleted from MinIO by another service. Deletions
// are announced (DropImage is called for each), and since a message can be missed, an entry is
// also trusted for at most Config.TTL: then the memory tier drops it and fetches the object
// again, the disk tier asks MinIO whether it still exists. Each tier has an epoch that every
// invalidation advances, so that a fetch which began before a deletion never fills the cache.
package cache

import (
	"container/list"
	"sync"
	"time"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// EntryOverhead is the bookkeeping cost charged per entry on top of its bytes and key, so that
// many tiny objects cannot grow the cache without bound.
const EntryOverhead = 256

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

// Cache is the memory tier: a byte-bounded LRU of Entries keyed by object key with a TTL per
// entry. It is safe for concurrent use and is a prometheus.Collector of its hit, miss, eviction
// and size metrics (tier="memory"). A nil *Cache, or one whose Config is not Enabled, caches nothing.
type Cache struct {
	tierMetrics
	cfg Config
	now func() time.Time

	mu    sync.Mutex
	order *list.List // of *item; front is the most recently used
	items map[string]*list.Element
	bytes int64
	epoch uint64 // advanced by every invalidation
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
		tierMetrics: newTierMetrics(TierMemory),
		cfg:         cfg,
		now:         now,
		order:       list.New(),
		items:       map[string]*list.Element{},
	}
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
		c.count(ok)
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

// Epoch is the number of invalidations so far; pass it, read before fetching, to Add.
func (c *Cache) Epoch() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Add stores e, fetched after Epoch returned since, under key for the TTL, replacing an entry
// already there and evicting the least recently used entries until the cache is within MaxBytes.
// It returns false (storing nothing) when the cache is off, e is larger than MaxObjectBytes or
// inconsistent (Size != len(Data)), or an invalidation happened since: e may be a deleted image.
func (c *Cache) Add(key string, e Entry, since uint64) bool {
	if !c.Fits(e.Size) || e.Size != int64(len(e.Data)) {
		return false
	}
	cost := e.Size + int64(len(key)) + EntryOverhead
	if cost > c.cfg.MaxBytes {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != since {
		return false
	}
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

// DropImage removes every entry of image id (original, thumbnail, variants) at once and
// advances the epoch; it returns how many it removed.
func (c *Cache) DropImage(id string) int {
	return c.removeWhere(func(key string) bool {
		owner, ok := storage.ImageOf(key)
		return ok && owner == id
	})
}

// ExpireAll removes every entry and advances the epoch: for when deletion messages may have been missed.
func (c *Cache) ExpireAll() int {
	return c.removeWhere(func(string) bool { return true })
}

// removeWhere removes the entries whose key matches, counting them as deleted, and advances the epoch.
func (c *Cache) removeWhere(match func(key string) bool) int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	removed := 0
	for key, el := range c.items {
		if match(key) {
			c.remove(el, ReasonDeleted)
			removed++
		}
	}
	return removed
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
