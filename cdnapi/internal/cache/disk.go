package cache

import (
	"container/list"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// File is an object kept on disk: its path and the metadata it is served with.
type File struct {
	// Path is the file, {disk_dir}/{bucket}/{object key}.
	Path string
	// Size is the object's length in bytes.
	Size int64
	// ContentType is the stored Content-Type; empty until MinIO was asked (after a restart).
	ContentType string
	// LastModified is when the object was written to MinIO.
	LastModified time.Time
	// ETag is MinIO's entity tag of the object when known, to notice a replaced object.
	ETag string
}

// Lookup is what Disk.Open found.
type Lookup int

// The lookups.
const (
	// Miss: no file for the key.
	Miss Lookup = iota
	// Fresh: a file checked against MinIO within the TTL; serve it.
	Fresh
	// Stale: a file to check against MinIO (Revalidate or Remove) before serving it.
	Stale
)

// diskItem is an entry in the disk LRU list.
type diskItem struct {
	key   string
	file  File
	fresh time.Time // valid until; zero: check with MinIO first
}

// Disk is the disk tier: an LRU of immutable files under one directory, bounded by their total
// size. Files are written whole to a temporary name and renamed into place, so a reader never
// sees a partial one; they are served by the caller as *os.File (sendfile). The index is in
// memory and rebuilt from the directory on start, with every entry Stale, since the metadata
// and the object's existence are only known again by asking MinIO. A nil *Disk keeps nothing.
type Disk struct {
	tierMetrics
	dir       string
	maxBytes  int64
	maxObject int64
	ttl       time.Duration
	now       func() time.Time

	mu    sync.Mutex
	order *list.List // of *diskItem; front is the most recently used
	items map[string]*list.Element
	bytes int64
	epoch uint64 // advanced by every invalidation
}

// OpenDisk returns the disk tier of bucket under cfg.DiskDir, creating the directory and
// indexing the files already there (temporary files of an interrupted write are removed); nil
// when cfg turns the tier off.
func OpenDisk(cfg Config, bucket string, deps Deps) (*Disk, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.DiskEnabled() {
		return nil, nil
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	d := &Disk{
		tierMetrics: newTierMetrics(TierDisk),
		dir:         filepath.Join(cfg.DiskDir, bucket),
		maxBytes:    cfg.DiskMaxBytes,
		maxObject:   cfg.DiskMaxObjectBytes,
		ttl:         cfg.TTL,
		now:         now,
		order:       list.New(),
		items:       map[string]*list.Element{},
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache.disk_dir: %w", err)
	}
	if err := d.rebuild(); err != nil {
		return nil, fmt.Errorf("cache.disk_dir: index %s: %w", d.dir, err)
	}
	return d, nil
}

// Enabled reports whether the tier keeps anything.
func (d *Disk) Enabled() bool { return d != nil }

// Fits reports whether an object of size bytes may be kept on disk.
func (d *Disk) Fits(size int64) bool {
	return d.Enabled() && size >= 0 && size <= d.maxObject
}

// Open looks key up and opens its file, marking it most recently used. A Fresh lookup counts a
// hit and a Miss a miss; a Stale one is counted by Revalidate or Remove, which the caller must
// call before serving it. The caller closes the file. A file removed by another process or by an
// eviction between the lookup and the open is a Miss.
func (d *Disk) Open(key string) (*os.File, File, Lookup) {
	if !d.Enabled() {
		return nil, File{}, Miss
	}
	d.mu.Lock()
	el, ok := d.items[key]
	var it diskItem
	if ok {
		d.order.MoveToFront(el)
		it = *el.Value.(*diskItem)
	}
	d.mu.Unlock()
	if !ok {
		d.count(false)
		return nil, File{}, Miss
	}
	f, err := os.Open(it.file.Path)
	if err != nil {
		d.forget(key, it.file.Path, "")
		d.count(false)
		return nil, File{}, Miss
	}
	if d.now().Before(it.fresh) {
		d.count(true)
		return f, it.file, Fresh
	}
	return f, it.file, Stale
}

// Epoch is the number of invalidations so far; pass it, read before fetching, to Store.
func (d *Disk) Epoch() uint64 {
	if d == nil {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.epoch
}

// Store writes the object read from body (obj's metadata) to key's file and returns it opened at
// its start, for the caller to serve and close. The entry is Fresh, or Stale when an invalidation
// happened since the epoch since (the object may be a deleted image). Less recently used files
// are removed until the tier is within its size. body must yield exactly obj.Size bytes.
func (d *Disk) Store(key string, obj storage.Info, body io.Reader, since uint64) (*os.File, File, error) {
	if !d.Fits(obj.Size) || !filepath.IsLocal(key) {
		return nil, File{}, fmt.Errorf("cache: %s (%d bytes) cannot go to disk", key, obj.Size)
	}
	path := filepath.Join(d.dir, filepath.FromSlash(key))
	f, err := writeFile(path, body, obj.Size)
	if err != nil {
		return nil, File{}, err
	}
	file := File{Path: path, Size: obj.Size, ContentType: obj.ContentType, LastModified: obj.LastModified, ETag: obj.ETag}
	d.mu.Lock()
	fresh := time.Time{}
	if d.epoch == since {
		fresh = d.now().Add(d.ttl)
	}
	doomed := d.add(&diskItem{key: key, file: file, fresh: fresh})
	d.mu.Unlock()
	removeFiles(doomed)
	return f, file, nil
}

// writeFile writes exactly size bytes from body to a temporary file beside path, renames it to
// path and returns it opened at its start.
func writeFile(path string, body io.Reader, size int64) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(f, io.LimitReader(body, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("cache: object is %d bytes, its metadata says %d", n, size)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}
