package handler

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// fetched is an object fetched from MinIO for one request: a memory entry, a file of the disk
// tier opened for this request (meta describes it), or a stream of its own.
type fetched struct {
	entry  cache.Entry
	file   *os.File
	meta   cache.File
	stream *storage.Object
}

// close releases the file or stream.
func (f fetched) close() {
	if f.file != nil {
		_ = f.file.Close()
	}
	if f.stream != nil {
		_ = f.stream.Body.Close()
	}
}

// fetch gets key from MinIO. Concurrent fetches of one key share a single MinIO request
// (singleflight): an object that fits the memory tier is read whole and cached there, one that
// fits the disk tier is written to it, and every waiting caller is answered from the copy; a
// larger one is streamed to the caller that made the request, while the others open their own.
func (h *Images) fetch(ctx context.Context, key string) (fetched, error) {
	if !h.Memory.Enabled() && !h.Disk.Enabled() {
		return h.open(ctx, key)
	}
	var own fetched // what the caller that ran the function below keeps: an open file or stream
	v, err, shared := h.flight.Do(key, func() (any, error) {
		// A flight that started just after another one cached the object finds it here.
		if entry, ok := h.Memory.Peek(key); ok {
			return fetched{entry: entry}, nil
		}
		var err error
		own, err = h.fill(ctx, key)
		if err != nil || own.stream != nil {
			return nil, err
		}
		return fetched{entry: own.entry, meta: own.meta}, nil
	})
	switch {
	case own.file != nil || own.stream != nil:
		return own, nil
	case err != nil && shared && ctx.Err() == nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// The request that fetched for us went away mid-flight; we are still here, so go alone.
		return h.open(ctx, key)
	case err != nil:
		return fetched{}, err
	case v == nil:
		// Streamed, and the stream belongs to the request that fetched it.
		return h.open(ctx, key)
	}
	got := v.(fetched)
	if got.meta.Path == "" {
		return got, nil
	}
	f, openErr := os.Open(got.meta.Path)
	if openErr != nil { // evicted already: serve this one from MinIO
		return h.open(ctx, key)
	}
	got.file = f
	return got, nil
}

// fill opens key in MinIO and keeps it in the tier that fits its size: the memory tier (entry),
// the disk tier (an open file), or none (the stream itself). An object the disk tier failed to
// take is streamed anew, the failure logged.
func (h *Images) fill(ctx context.Context, key string) (fetched, error) {
	memoryEpoch, diskEpoch := h.Memory.Epoch(), h.Disk.Epoch() // before the object is read
	obj, err := h.Store.GetObject(ctx, key)
	switch {
	case err != nil:
		return fetched{}, err
	case h.Memory.Fits(obj.Size):
		defer func() { _ = obj.Body.Close() }()
		entry, err := readEntry(obj)
		if err != nil {
			return fetched{}, err
		}
		h.Memory.Add(key, entry, memoryEpoch)
		return fetched{entry: entry}, nil
	case h.Disk.Fits(obj.Size):
		defer func() { _ = obj.Body.Close() }()
		info := storage.Info{Size: obj.Size, ContentType: obj.ContentType, LastModified: obj.LastModified, ETag: obj.ETag}
		f, meta, err := h.Disk.Store(key, info, obj.Body, diskEpoch)
		if err == nil {
			return fetched{file: f, meta: meta}, nil
		}
		if ctx.Err() != nil {
			return fetched{}, ctx.Err()
		}
		h.Logger.Warn("disk cache store failed", "key", key, "error", err.Error())
		return h.open(ctx, key)
	}
	return fetched{stream: obj}, nil
}

// open streams key from MinIO for one caller, caching nothing.
func (h *Images) open(ctx context.Context, key string) (fetched, error) {
	obj, err := h.Store.GetObject(ctx, key)
	if err != nil {
		return fetched{}, err
	}
	return fetched{stream: obj}, nil
}

// readEntry reads a small object whole; Size comes from the GET response headers.
func readEntry(obj *storage.Object) (cache.Entry, error) {
	data := make([]byte, obj.Size)
	if _, err := io.ReadFull(obj.Body, data); err != nil {
		return cache.Entry{}, err
	}
	return cache.Entry{Data: data, ContentType: obj.ContentType, LastModified: obj.LastModified, Size: obj.Size}, nil
}
