package cache

import (
	"container/list"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// tempPrefix starts the name of a file being written; such a file found on start is a leftover.
const tempPrefix = ".tmp-"

// variantsDir is the directory of per-image variant directories, as object keys name it.
const variantsDir = "variants"

// add puts it at the front of the LRU, replacing an entry of the same key, and evicts from the
// back until the tier is within its size. It returns the files to remove. The caller holds mu.
func (d *Disk) add(it *diskItem) []string {
	var doomed []string
	if el, ok := d.items[it.key]; ok {
		old := d.order.Remove(el).(*diskItem)
		d.bytes -= old.file.Size
		if old.file.Path != it.file.Path {
			doomed = append(doomed, old.file.Path)
		}
	}
	d.items[it.key] = d.order.PushFront(it)
	d.bytes += it.file.Size
	for d.bytes > d.maxBytes && d.order.Len() > 1 {
		doomed = append(doomed, d.remove(d.order.Back(), ReasonCapacity)...)
	}
	d.publish()
	return doomed
}

// remove drops el from the index, counting an eviction when reason is set, and returns its file
// for the caller to remove. The caller holds mu.
func (d *Disk) remove(el *list.Element, reason string) []string {
	it := d.order.Remove(el).(*diskItem)
	delete(d.items, it.key)
	d.bytes -= it.file.Size
	if reason != "" {
		d.evictions.WithLabelValues(reason).Inc()
	}
	d.publish()
	return []string{it.file.Path}
}

// publish updates the size gauges. The caller holds mu.
func (d *Disk) publish() {
	d.sizeBytes.Set(float64(d.bytes))
	d.entries.Set(float64(len(d.items)))
}

// Len is the number of entries.
func (d *Disk) Len() int {
	if !d.Enabled() {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.items)
}

// Bytes is the size of the files in the tier; it never exceeds Config.DiskMaxBytes.
func (d *Disk) Bytes() int64 {
	if !d.Enabled() {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bytes
}

// found is a cached file seen while rebuilding the index.
type found struct {
	key      string
	path     string
	size     int64
	modified time.Time
}

// rebuild indexes the files under the directory whose names are object keys, least recently
// used (oldest modification time) at the back, every one Stale; it removes temporary leftovers
// and files larger than an object may be, and evicts what exceeds the size. Files with other
// names are left alone and not counted.
func (d *Disk) rebuild() error {
	var files []found
	err := filepath.WalkDir(d.dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() || !entry.Type().IsRegular() {
			return err
		}
		if strings.HasPrefix(entry.Name(), tempPrefix) {
			_ = os.Remove(path)
			return nil
		}
		rel, err := filepath.Rel(d.dir, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if _, ok := storage.ImageOf(key); !ok {
			return nil
		}
		info, err := entry.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if info.Size() > d.maxObject {
			_ = os.Remove(path)
			return nil
		}
		files = append(files, found{key: key, path: path, size: info.Size(), modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].modified.Before(files[j].modified) })
	var doomed []string
	for _, f := range files {
		doomed = append(doomed, d.add(&diskItem{key: f.key, file: File{Path: f.path, Size: f.size}})...)
	}
	removeFiles(doomed)
	return nil
}
