package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// sink records what reaches the output, one entry per write.
type sink struct {
	mu     sync.Mutex
	writes []string
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *sink) text() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.writes, ""), len(s.writes)
}

func TestLinesAreWrittenTogetherAtTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &sink{}
		w := NewWriter(out, 1<<10, time.Second)
		for i := range 3 {
			fmt.Fprintf(w, "line %d\n", i)
		}
		if text, _ := out.text(); text != "" {
			t.Fatalf("written before the interval: %q", text)
		}
		time.Sleep(time.Second) // the fake clock of the bubble: the flusher's tick
		synctest.Wait()
		if text, writes := out.text(); text != "line 0\nline 1\nline 2\n" || writes != 1 {
			t.Errorf("after the interval: %q in %d writes, want the three lines in one", text, writes)
		}
		fmt.Fprintln(w, "last")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if text, _ := out.text(); !strings.HasSuffix(text, "last\n") {
			t.Errorf("Close did not flush: %q", text)
		}
	})
}

func TestAFullBufferIsWrittenWithoutSplittingALine(t *testing.T) {
	out := &sink{}
	w := NewWriter(out, 100, time.Hour)
	line := strings.Repeat("x", 59) + "\n"
	for range 3 {
		fmt.Fprint(w, line)
	}
	_, writes := out.text()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	text, all := out.text()
	if writes != 2 || all != 3 || text != strings.Repeat(line, 3) {
		t.Errorf("%d writes before Close, %d in all, %q; want each 60-byte line alone in a 100-byte buffer", writes, all, text)
	}
}

func TestConcurrentLoggersKeepLinesWhole(t *testing.T) {
	out := &bytes.Buffer{}
	logger, w := New(out, slog.LevelInfo)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				logger.Info("request", "g", g, "i", i, "pad", strings.Repeat("p", 200))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil || entry["msg"] != "request" {
			t.Fatalf("broken line %q: %v", line, err)
		}
	}
	logger.Debug("below the level")
	if strings.Contains(out.String(), "below the level") {
		t.Error("a debug line was written at level info")
	}
}
