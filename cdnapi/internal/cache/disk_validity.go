package cache

import (
	"os"
	"path/filepath"
	"time"

	"github.com/imagesearch/cdnapi/internal/storage"
)

// Revalidate records MinIO's current metadata of a Stale entry: when it is still the object on
// disk (same size, and same ETag when both are known) the entry is Fresh again and returned,
// counting a hit; otherwise it is removed, counting a miss, and false is returned.
func (d *Disk) Revalidate(key string, info storage.Info) (File, bool) {
	if !d.Enabled() {
		return File{}, false
	}
	d.mu.Lock()
	el, ok := d.items[key]
	var file File
	if ok {
		it := el.Value.(*diskItem)
		if it.file.Size == info.Size && (it.file.ETag == "" || info.ETag == "" || it.file.ETag == info.ETag) {
			it.file.ContentType, it.file.LastModified, it.file.ETag = info.ContentType, info.LastModified, info.ETag
			it.fresh = d.now().Add(d.ttl)
			file = it.file
		} else {
			ok = false
			removeFiles(d.remove(el, ReasonExpired))
		}
	}
	d.mu.Unlock()
	d.count(ok)
	if ok { // the modification time orders the files by use when the index is rebuilt
		now := d.now()
		_ = os.Chtimes(file.Path, now, now)
	}
	return file, ok
}

// Remove drops key's entry and file, for an object MinIO no longer has, counting a miss.
func (d *Disk) Remove(key string) {
	if !d.Enabled() {
		return
	}
	d.forget(key, "", ReasonDeleted)
	d.count(false)
}

// forget drops key's entry (only if it still has path, when path is set) and removes its file.
func (d *Disk) forget(key, path, reason string) {
	d.mu.Lock()
	var doomed []string
	if el, ok := d.items[key]; ok && (path == "" || el.Value.(*diskItem).file.Path == path) {
		doomed = d.remove(el, reason)
	}
	d.mu.Unlock()
	removeFiles(doomed)
}

// DropImage removes the files of image id (original, thumbnail, variants) at once and advances
// the epoch; it returns how many it removed.
func (d *Disk) DropImage(id string) int {
	if !d.Enabled() {
		return 0
	}
	d.mu.Lock()
	d.epoch++
	var doomed []string
	for key, el := range d.items {
		if owner, ok := storage.ImageOf(key); ok && owner == id {
			doomed = append(doomed, d.remove(el, ReasonDeleted)...)
		}
	}
	d.mu.Unlock()
	removeFiles(doomed)
	return len(doomed)
}

// ExpireAll makes every entry Stale and advances the epoch: for when deletion messages may have
// been missed. The files stay; each is checked with MinIO when next requested.
func (d *Disk) ExpireAll() int {
	if !d.Enabled() {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.epoch++
	for _, el := range d.items {
		el.Value.(*diskItem).fresh = time.Time{}
	}
	return len(d.items)
}

// removeFiles unlinks files outside the lock; one already gone is fine. An open file stays
// readable until closed, so removing a file that is being served is safe.
func removeFiles(paths []string) {
	for _, p := range paths {
		_ = os.Remove(p)
		if dir := filepath.Dir(p); filepath.Base(filepath.Dir(dir)) == variantsDir {
			_ = os.Remove(dir) // variants/{id} once its last variant is gone; fails while it has others
		}
	}
}
