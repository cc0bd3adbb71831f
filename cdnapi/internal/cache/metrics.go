package cache

import "github.com/prometheus/client_golang/prometheus"

// Tiers, the values of the `tier` label every cache metric carries.
const (
	// TierMemory is the in-process LRU of small objects.
	TierMemory = "memory"
	// TierDisk is the on-disk LRU of larger objects.
	TierDisk = "disk"
)

// Eviction reasons, the values of the `reason` label of cdnapi_cache_evictions_total.
const (
	// ReasonCapacity: the least recently used entry made room for a new one.
	ReasonCapacity = "capacity"
	// ReasonExpired: the entry outlived the TTL and was dropped when next looked up.
	ReasonExpired = "expired"
	// ReasonDeleted: the image was deleted (a message on the deletion channel) or is gone from MinIO.
	ReasonDeleted = "deleted"
)

// tierMetrics are one tier's instruments. Both tiers export the same names, told apart by a
// constant `tier` label, so one query sums or compares them.
type tierMetrics struct {
	hits      prometheus.Counter
	misses    prometheus.Counter
	evictions *prometheus.CounterVec
	sizeBytes prometheus.Gauge
	entries   prometheus.Gauge
}

// newTierMetrics creates the instruments of tier, every eviction reason at zero.
func newTierMetrics(tier string) tierMetrics {
	labels := prometheus.Labels{"tier": tier}
	m := tierMetrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnapi_cache_hits_total", ConstLabels: labels,
			Help: "Object lookups answered from the cache tier.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnapi_cache_misses_total", ConstLabels: labels,
			Help: "Object lookups that found no fresh entry in the tier (objects too large for it included).",
		}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnapi_cache_evictions_total", ConstLabels: labels,
			Help: "Entries removed from the cache tier, by reason (capacity, expired or deleted).",
		}, []string{"reason"}),
		sizeBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnapi_cache_bytes", ConstLabels: labels,
			Help: "Bytes charged to the cache tier (memory: object bytes plus key and per-entry overhead).",
		}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnapi_cache_entries", ConstLabels: labels,
			Help: "Entries in the cache tier.",
		}),
	}
	for _, reason := range []string{ReasonCapacity, ReasonExpired, ReasonDeleted} {
		m.evictions.WithLabelValues(reason)
	}
	return m
}

// count records a lookup as a hit or a miss.
func (m tierMetrics) count(hit bool) {
	if hit {
		m.hits.Inc()
	} else {
		m.misses.Inc()
	}
}

// collectors are the tier's metrics.
func (m tierMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.hits, m.misses, m.evictions, m.sizeBytes, m.entries}
}

// Describe sends the descriptors of the tier's metrics (prometheus.Collector).
func (m tierMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect sends the tier's current metric values (prometheus.Collector).
func (m tierMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}
