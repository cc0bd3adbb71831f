package integration

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/redis/go-redis/v9"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/invalidate"
	"github.com/imagesearch/cdnapi/internal/presign"
	"github.com/imagesearch/cdnapi/internal/redisconn"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// waitUntil polls cond every 20 ms until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// subscribers is how many clients listen for deletions on the shared Redis.
func subscribers(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	counts, err := rdb.PubSubNumSub(t.Context(), invalidate.Channel).Result()
	if err != nil {
		return 0 // Redis is restarting
	}
	return counts[invalidate.Channel]
}

// removeAll deletes keys from MinIO, as ingestapi does before it announces the deletion.
func removeAll(t *testing.T, mc *minio.Client, keys ...string) {
	t.Helper()
	for _, key := range keys {
		check(t, mc.RemoveObject(t.Context(), bucket, key, minio.RemoveObjectOptions{}))
	}
}

func TestDeletionMessageDropsEveryCachedCopyAtOnce(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, original := putRandom(t, mc, 1<<20, storage.OriginalKey, "image/jpeg") // disk tier
	thumb := bytes.Repeat([]byte{7}, 20<<10)                                   // memory tier
	_, err := mc.PutObject(t.Context(), bucket, storage.ThumbKey(id), bytes.NewReader(thumb), int64(len(thumb)), minioPut("image/webp"))
	check(t, err)
	variantID, variant := putRandom(t, mc, 300<<10, func(v string) string { return storage.VariantKey(id, v) }, "image/avif")
	rdb := newRedisClient(t)
	cdn := newCDNServer(t, cdnOptions{endpoint: shared.endpoint, bucket: bucket, redis: rdb})
	paths := map[string][]byte{"/images/" + id: original, "/images/" + id + "/thumb": thumb,
		"/images/" + id + "/variants/" + variantID: variant}
	for path, want := range paths {
		if resp, body := get(t, http.MethodGet, cdn.URL+path); resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Fatalf("GET %s = %d, %d bytes", path, resp.StatusCode, len(body))
		}
	}
	redirectOf(t, cdn.URL+"/images/"+id+"?redirect=storage")
	waitUntil(t, 10*time.Second, "the listener subscribes", func() bool { return subscribers(t, rdb) >= 1 })

	removeAll(t, mc, storage.OriginalKey(id), storage.ThumbKey(id), storage.VariantKey(id, variantID))
	for path := range paths { // gone from MinIO, still cached: only the message can tell
		if resp, _ := get(t, http.MethodGet, cdn.URL+path); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s before the message = %d, want the cached copy", path, resp.StatusCode)
		}
	}
	presigned := presign.KeyPrefix + storage.OriginalKey(id)
	if n, err := rdb.Exists(t.Context(), presigned).Result(); err != nil || n != 1 {
		t.Fatalf("the presigned URL is not cached before the message (%d, %v)", n, err)
	}
	check(t, rdb.Publish(t.Context(), invalidate.Channel, id).Err())
	// The listener drops the process's caches, then the presigned URL in Redis: applied when
	// every copy is gone.
	waitUntil(t, 10*time.Second, "the deletion is applied, the presigned URL too", func() bool {
		n, err := rdb.Exists(t.Context(), presigned).Result()
		return cdn.disk.Len() == 0 && cdn.memory.Len() == 0 && err == nil && n == 0
	})
	for path := range paths {
		resp, body := get(t, http.MethodGet, cdn.URL+path)
		wantProblem(t, resp, body, http.StatusNotFound, "not-found")
	}
}

func TestListenerSurvivesARedisRestartAndExpiresTheCaches(t *testing.T) {
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 1<<20, storage.OriginalKey, "image/jpeg")
	cfg := redisconn.NewDefaultConfig()
	cfg.URL = sharedRedis.url(0)
	listenerClient, err := redisconn.New(cfg) // the production client: its timeouts and retries
	check(t, err)
	t.Cleanup(func() { _ = listenerClient.Close() })
	rdb := newRedisClient(t)
	cdn := newCDNServer(t, cdnOptions{endpoint: shared.endpoint, bucket: bucket, redis: listenerClient})
	get(t, http.MethodGet, cdn.URL+"/images/"+id)
	waitUntil(t, 10*time.Second, "the listener subscribes", func() bool { return subscribers(t, rdb) >= 1 })

	sharedRedis.stop()
	if resp, body := get(t, http.MethodGet, cdn.URL+"/images/"+id); resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("bytes while Redis is down = %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get(t, http.MethodGet, cdn.URL+"/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("readyz while Redis is down = %d, want ready: Redis is not on the path of bytes", resp.StatusCode)
	}
	check(t, sharedRedis.start())
	waitUntil(t, 20*time.Second, "the listener subscribes again", func() bool { return subscribers(t, rdb) >= 1 })
	waitUntil(t, 5*time.Second, "the disk entry is expired", func() bool {
		f, _, found := cdn.disk.Open(storage.OriginalKey(id))
		if f != nil {
			_ = f.Close()
		}
		return found == cache.Stale
	})

	removeAll(t, mc, storage.OriginalKey(id))
	check(t, rdb.Publish(t.Context(), invalidate.Channel, id).Err())
	waitUntil(t, 10*time.Second, "a deletion after the restart is applied", func() bool { return cdn.disk.Len() == 0 })
}
