package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestARequestWithABodyIs413ProblemAndClosesTheConnection(t *testing.T) {
	h := newTestServer(t, io.Discard).Handler()
	for name, req := range map[string]*http.Request{
		"declared length": httptest.NewRequest(http.MethodGet, "/images/"+testID, strings.NewReader("x")),
		"chunked":         httptest.NewRequest(http.MethodPost, "/images/"+testID, strings.NewReader("x")),
	} {
		if name == "chunked" {
			req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		p := problemOf(t, rec)
		if rec.Code != http.StatusRequestEntityTooLarge || p.Type != "urn:imagesearch:problem:file-too-large" {
			t.Errorf("%s: %d %+v, want a 413 file-too-large problem", name, rec.Code, p)
		}
		if rec.Header().Get("Connection") != "close" {
			t.Errorf("%s: Connection = %q, want close", name, rec.Header().Get("Connection"))
		}
	}
	if rec := serve(h, http.MethodGet, "/images/"+testID); rec.Code != http.StatusOK {
		t.Errorf("GET without a body = %d", rec.Code)
	}
}

// listen serves a test server with cfg's limits on a loopback port until the test ends.
func listen(t *testing.T, cfg Config) string {
	t.Helper()
	srv := newTestServer(t, io.Discard)
	srv.httpSrv.ReadHeaderTimeout, srv.httpSrv.MaxHeaderBytes = cfg.ReadHeaderTimeout, cfg.MaxHeaderBytes
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = srv.Serve(ctx, ln) }()
	return ln.Addr().String()
}

// untilClosed reads what the server answers on conn until it closes it; the answer's first line
// and the time it took, failing after limit.
func untilClosed(t *testing.T, conn net.Conn, limit time.Duration) (string, time.Duration) {
	t.Helper()
	started := time.Now()
	_ = conn.SetReadDeadline(started.Add(limit))
	answer, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("not closed within %s: %v (got %q)", limit, err, answer)
	}
	line, _, _ := strings.Cut(string(answer), "\r\n")
	return line, time.Since(started)
}

func TestHeadersTooSlowAreCutAtTheReadHeaderTimeout(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.ReadHeaderTimeout = 300 * time.Millisecond
	conn, err := net.Dial("tcp", listen(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: slow\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, took := untilClosed(t, conn, 5*time.Second); took < 250*time.Millisecond {
		t.Errorf("closed after %s, before the header timeout", took)
	}
}

func TestADeclaredBodyIsRefusedWithoutWaitingForIt(t *testing.T) {
	conn, err := net.Dial("tcp", listen(t, NewDefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "GET /images/" + testID + " HTTP/1.1\r\nHost: t\r\nContent-Length: 2147483648\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	line, took := untilClosed(t, conn, 5*time.Second)
	if line != "HTTP/1.1 413 Request Entity Too Large" || took > 2*time.Second {
		t.Errorf("answered %q after %s, want a 413 at once", line, took)
	}
}

func TestHeadersOverMaxHeaderBytesAre431(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.MaxHeaderBytes = 1024
	conn, err := net.Dial("tcp", listen(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	big := "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n"
	if _, err := io.WriteString(conn, big); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status = %d, want 431", resp.StatusCode)
	}
}

func TestConfigRefusesANonPositiveMaxHeaderBytes(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.MaxHeaderBytes = 0
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "http.max_header_bytes") {
		t.Errorf("Validate() = %v, want mention of http.max_header_bytes", err)
	}
}
