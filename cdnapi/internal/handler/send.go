package handler

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/imagesearch/cdnapi/internal/cache"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// keySentBytes is the gin context key under which a response sent past gin's writer (sendfile)
// leaves its body size for the access log; see BodyBytes.
const keySentBytes = "handler.sent_bytes"

// BodyBytes is the number of response body bytes written for c, those sent with sendfile included.
func BodyBytes(c *gin.Context) int64 {
	return int64(max(c.Writer.Size(), 0)) + c.GetInt64(keySentBytes)
}

// sendEntry answers from a memory entry's bytes.
func (h *Images) sendEntry(c *gin.Context, etag string, entry cache.Entry) {
	body := &entryReader{Reader: *bytes.NewReader(entry.Data), data: entry.Data}
	h.serveContent(c, etag, entry.ContentType, entry.LastModified, entry.Size, body)
}

// sendFile answers from a file of the disk tier; its body goes out with sendfile.
func (h *Images) sendFile(c *gin.Context, etag string, file cache.File, f *os.File) {
	h.serveContent(c, etag, file.ContentType, file.LastModified, file.Size, f)
}

// sendStream answers with an object streamed from MinIO, logging a failure mid-way.
func (h *Images) sendStream(c *gin.Context, obj object, stream *storage.Object) {
	body := &errRecorder{ReadSeeker: stream.Body}
	h.serveContent(c, obj.etag, stream.ContentType, stream.LastModified, stream.Size, body)
	if body.err != nil && c.Request.Context().Err() == nil {
		h.Logger.Warn("stream interrupted", "key", obj.key, "error", body.err.Error(), "request_id", RequestID(c))
	}
}

// serveContent sets the image headers and lets http.ServeContent answer from content (size
// bytes): Range (206/416), If-None-Match / If-Modified-Since (304), If-Match (412) and HEAD come
// with it. An error status it writes itself (412, 416, 500) is replaced by a problem.
func (h *Images) serveContent(c *gin.Context, etag, contentType string, modified time.Time, size int64,
	content io.ReadSeeker) {
	hdr := c.Writer.Header()
	hdr.Set(HeaderETag, etag)
	hdr.Set(HeaderCacheControl, h.cacheControl(c))
	hdr.Set(HeaderContentType, contentType)
	hdr.Set(HeaderContentTypeOptions, NoSniff)

	if c.Request.Method != http.MethodHead {
		defer corkFor(c.Request.Context(), size)()
	}
	catcher := &problemCatcher{ResponseWriter: c.Writer}
	http.ServeContent(catcher, c.Request, "", modified, content)
	if catcher.status != 0 {
		WriteProblem(c, problemCodeFor(catcher.status), strings.TrimSpace(string(catcher.detail)))
	}
	if catcher.sent > 0 {
		c.Set(keySentBytes, catcher.sent)
	}
}

// entryReader reads a memory entry; problemCatcher writes its bytes with one call instead of
// copying them through a buffer.
type entryReader struct {
	bytes.Reader
	data []byte
}

// errRecorder remembers the first read error other than io.EOF, which ServeContent discards.
type errRecorder struct {
	io.ReadSeeker
	err error
}

// Read reads from the object and records a failure.
func (r *errRecorder) Read(p []byte) (int, error) {
	n, err := r.ReadSeeker.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// maxCaughtDetail bounds the error text kept from http.ServeContent.
const maxCaughtDetail = 512

// problemCatcher lets a successful response through, but holds back an error status and its
// text/plain body that http.ServeContent writes itself (416, 500), so WriteProblem answers instead.
// Its ReadFrom, which io.Copy prefers, sends a memory entry with one write and a file with
// net/http's own ReadFrom (sendfile), which gin's writer does not expose.
type problemCatcher struct {
	gin.ResponseWriter
	status int
	detail []byte
	sent   int64 // body bytes sent past gin's writer
}

// WriteHeader forwards codes below 400 and records the others.
func (p *problemCatcher) WriteHeader(code int) {
	if code >= http.StatusBadRequest {
		p.status = code
		return
	}
	p.ResponseWriter.WriteHeader(code)
}

// Write forwards the body of a success and keeps (a bounded prefix of) the body of an error.
func (p *problemCatcher) Write(b []byte) (int, error) {
	if p.status == 0 {
		return p.ResponseWriter.Write(b)
	}
	if room := maxCaughtDetail - len(p.detail); room > 0 {
		p.detail = append(p.detail, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

// ReadFrom sends the body http.ServeContent copies: io.CopyN hands it src as an
// *io.LimitedReader over the content.
func (p *problemCatcher) ReadFrom(src io.Reader) (int64, error) {
	limited, ok := src.(*io.LimitedReader)
	if p.status != 0 || !ok {
		return io.Copy(writerOnly{p}, src)
	}
	switch content := limited.R.(type) {
	case *entryReader:
		start := len(content.data) - content.Len()
		end := start + int(min(limited.N, int64(content.Len())))
		n, err := p.Write(content.data[start:end])
		_, _ = content.Seek(int64(n), io.SeekCurrent)
		limited.N -= int64(n)
		return int64(n), err
	case *os.File:
		if rf := rawReaderFrom(p.ResponseWriter); rf != nil {
			p.WriteHeaderNow() // through gin, which records the status
			n, err := rf.ReadFrom(src)
			p.sent += n
			return n, err
		}
	}
	return io.Copy(writerOnly{p}, src)
}

// rawReaderFrom is the ReadFrom of the net/http writer under gin's, or nil (in tests: a recorder).
func rawReaderFrom(w gin.ResponseWriter) io.ReaderFrom {
	wrapper, ok := w.(interface{ Unwrap() http.ResponseWriter })
	if !ok {
		return nil
	}
	rf, _ := wrapper.Unwrap().(io.ReaderFrom)
	return rf
}

// writerOnly hides ReadFrom, so io.Copy falls back to Write.
type writerOnly struct{ io.Writer }
