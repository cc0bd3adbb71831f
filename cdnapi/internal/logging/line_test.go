package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLineIsTheJSONSlogWrites(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 4, 35, 612275479, time.UTC)
	fields := func(l *Line) *Line {
		return l.Str("path", "/images/a\"b\\c\n\x01é\xff").Int("status", 200).Int("bytes", -1).
			Millis("duration_ms", 1234567*time.Nanosecond)
	}
	var fast bytes.Buffer
	if err := fields(NewLine(at, slog.LevelInfo, "request")).Write(&fast); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(fast.Bytes(), &got); err != nil || !strings.HasSuffix(fast.String(), "}\n") {
		t.Fatalf("not one JSON line: %q (%v)", fast.String(), err)
	}
	var slowBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&slowBuf, nil)).LogAttrs(t.Context(), slog.LevelInfo, "request",
		slog.String("path", "/images/a\"b\\c\n\x01é\xff"), slog.Int("status", 200), slog.Int("bytes", -1),
		slog.Float64("duration_ms", 1.234))
	var want map[string]any
	if err := json.Unmarshal(slowBuf.Bytes(), &want); err != nil {
		t.Fatal(err)
	}
	delete(want, "time")
	if got["time"] != "2026-11-30T08:04:35.612275479Z" {
		t.Errorf("time = %v", got["time"])
	}
	delete(got, "time")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, slog writes %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %v, slog writes %v", got, want)
	}
}

func TestMillisKeepsMicroseconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.000", 999 * time.Nanosecond: "0.000", 7 * time.Microsecond: "0.007",
		1500 * time.Microsecond: "1.500", 61*time.Second + 20*time.Microsecond: "61000.020",
	} {
		var buf bytes.Buffer
		_ = NewLine(time.Unix(0, 0), slog.LevelDebug, "m").Millis("d", d).Write(&buf)
		if !strings.Contains(buf.String(), `"d":`+want+"}") {
			t.Errorf("%s -> %s, want d %s", d, buf.String(), want)
		}
	}
}
