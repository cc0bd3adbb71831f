package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imagesearch/cdnapi/internal/handler"
)

func TestRequestIDIsEchoedAndLogged(t *testing.T) {
	logs := &syncBuffer{}
	h := newTestServer(t, logs).Handler()
	cases := map[string]bool{ // sent id -> kept
		"abc-123_x.Y": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "a b": false, `a"b`: false, "ünï": false, "a\nb": false,
	}
	for sent, kept := range cases {
		req := httptest.NewRequest(http.MethodGet, "/images/"+strings.Repeat("b", 64), nil)
		if sent != "" {
			req.Header.Set("X-Request-ID", sent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-ID")
		if kept && got != sent {
			t.Errorf("sent %q, answered %q; want it kept", sent, got)
		}
		if !kept && (got == sent || !handler.ValidRequestID(got) || len(got) != 32) {
			t.Errorf("sent %q, answered %q; want a new 32-character id", sent, got)
		}
		var line map[string]any
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil || line["request_id"] != got {
			t.Errorf("access log request_id = %v (%v), want %q", line["request_id"], err, got)
		}
	}
	first, second := serve(h, http.MethodGet, "/nope"), serve(h, http.MethodGet, "/nope")
	if a, b := first.Header().Get("X-Request-ID"), second.Header().Get("X-Request-ID"); a == "" || a == b {
		t.Errorf("generated ids %q and %q, want two different ones", a, b)
	}
}
