package storage

import (
	"context"
	"errors"
	"io"

	"github.com/minio/minio-go/v7"
)

// drainLimit is the most unread bytes Close reads off a response so its connection can be reused.
const drainLimit = 32 << 10

// objectStream is an io.ReadSeekCloser over one object version. It reads the body of the GET
// that opened it; Seek only moves the position, and a Read away from where the current body
// stands closes it and requests `Range: bytes=pos-` with If-Match on the ETag.
// http.ServeContent's size probe (Seek to the end and back) therefore costs no request.
type objectStream struct {
	ctx     context.Context
	core    minio.Core
	bucket  string
	key     string
	etag    string
	size    int64
	body    io.ReadCloser // nil after Close or a failed reopen
	pos     int64         // next byte the caller reads
	bodyPos int64         // next byte body returns
}

// Read reads at the current position, re-requesting the object there if needed.
func (s *objectStream) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	if s.body == nil || s.bodyPos != s.pos {
		if err := s.reopen(); err != nil {
			return 0, err
		}
	}
	n, err := s.body.Read(p)
	s.pos += int64(n)
	s.bodyPos += int64(n)
	if err == io.EOF && s.pos < s.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// reopen replaces the body with one starting at pos.
func (s *objectStream) reopen() error {
	s.closeBody()
	opts := minio.GetObjectOptions{}
	if s.etag != "" {
		if err := opts.SetMatchETag(s.etag); err != nil {
			return err
		}
	}
	if s.pos > 0 {
		if err := opts.SetRange(s.pos, 0); err != nil {
			return err
		}
	}
	body, _, _, err := s.core.GetObject(s.ctx, s.bucket, s.key, opts)
	if err != nil {
		return classify(s.key, err)
	}
	s.body, s.bodyPos = body, s.pos
	return nil
}

// Seek moves the read position; it never contacts MinIO.
func (s *objectStream) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = s.pos + offset
	case io.SeekEnd:
		abs = s.size + offset
	default:
		return 0, errors.New("storage: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("storage: negative position")
	}
	s.pos = abs
	return abs, nil
}

// Close releases the body; a small unread rest is drained first to keep the connection.
func (s *objectStream) Close() error {
	s.closeBody()
	return nil
}

// closeBody drains a short remainder (keeping the connection alive) and closes the body.
func (s *objectStream) closeBody() {
	if s.body == nil {
		return
	}
	if s.size-s.bodyPos <= drainLimit {
		_, _ = io.CopyN(io.Discard, s.body, drainLimit)
	}
	_ = s.body.Close()
	s.body = nil
}
