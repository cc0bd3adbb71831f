package logging

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Line builds one log line in the shape slog's JSONHandler writes ({"time":…,"level":…,"msg":…,
// then the fields}) with plain appends: for the line written on every request, where slog's
// generic path costs more than the rest of answering a cached thumbnail's headers. Build it with
// NewLine, add fields, then Write it; it must not be used after.
type Line struct {
	buf []byte
}

// linePool recycles the buffers of written lines.
var linePool = sync.Pool{New: func() any { return &Line{buf: make([]byte, 0, 512)} }}

// NewLine starts a line stamped t, at level, with message msg.
func NewLine(t time.Time, level slog.Level, msg string) *Line {
	l := linePool.Get().(*Line)
	l.buf = append(l.buf[:0], `{"time":"`...)
	l.buf = t.AppendFormat(l.buf, time.RFC3339Nano)
	l.buf = append(l.buf, `","level":"`...)
	l.buf = append(l.buf, level.String()...)
	l.buf = append(l.buf, `","msg":`...)
	l.buf = appendString(l.buf, msg)
	return l
}

// Str adds a string field.
func (l *Line) Str(key, value string) *Line {
	l.buf = appendString(append(appendString(append(l.buf, ','), key), ':'), value)
	return l
}

// Int adds an integer field.
func (l *Line) Int(key string, value int64) *Line {
	l.buf = strconv.AppendInt(append(appendString(append(l.buf, ','), key), ':'), value, 10)
	return l
}

// Millis adds a duration in milliseconds with microsecond precision (1.234), as a JSON number.
func (l *Line) Millis(key string, d time.Duration) *Line {
	us := d.Microseconds()
	l.buf = strconv.AppendInt(append(appendString(append(l.buf, ','), key), ':'), us/1000, 10)
	frac := us % 1000
	l.buf = append(l.buf, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return l
}

// Write ends the line, writes it to w in one call and recycles it.
func (l *Line) Write(w io.Writer) error {
	l.buf = append(l.buf, '}', '\n')
	_, err := w.Write(l.buf)
	if cap(l.buf) <= 4<<10 {
		linePool.Put(l)
	}
	return err
}

// hexDigits spell \u00XX escapes.
const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, so that any request path makes a valid line.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			buf = append(buf, c)
		}
		i++
	}
	return append(buf, '"')
}
