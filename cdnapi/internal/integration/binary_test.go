package integration

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/invalidate"
	"github.com/imagesearch/cdnapi/internal/storage"
)

// lockedBuffer collects a child's output safely.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildBinary compiles cmd/cdnapi into a temp dir and returns its path and the repo root.
func buildBinary(t *testing.T) (string, string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "cdnapi")
	build := exec.Command("go", "build", "-o", bin, "./cmd/cdnapi")
	build.Dir = filepath.Join(root, "cdnapi")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin, root
}

// cdnEnv is the environment of a cdnapi child reading the test MinIO and Redis and listening on
// port, with private reads (the default) checked with signingSecret and its disk cache in diskDir.
func cdnEnv(port int, diskDir string, extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !ownSetting(kv) {
			env = append(env, kv)
		}
	}
	env = append(env, "MINIO__ENDPOINT="+shared.endpoint, "MINIO__ACCESS_KEY="+rootUser,
		"MINIO__SECRET_KEY="+rootPassword, "MINIO__BUCKET="+bucket, "HTTP__PORT="+strconv.Itoa(port),
		"SIGNING__SECRET="+signingSecret, "REDIS__URL="+sharedRedis.url(0), "CACHE__DISK_DIR="+diskDir)
	return append(env, extra...)
}

// ownSetting reports whether kv sets one of cdnapi's settings, which the tests choose themselves.
func ownSetting(kv string) bool {
	for _, prefix := range []string{"MINIO__", "HTTP__", "CACHE__", "LOG__", "AUTH__", "SIGNING__", "REDIS__", "CDN__",
		"CONF_DIR="} {
		if strings.HasPrefix(kv, prefix) {
			return true
		}
	}
	return false
}

// child is a cdnapi process started by a test.
type child struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	logs   *lockedBuffer
	exited chan error
}

// startBinary runs bin from the repo root (which holds conf/) with cdnEnv plus extra, and waits
// until it answers /healthz; it is killed when the test ends, if still running.
func startBinary(t *testing.T, bin, root string, extra ...string) *child {
	t.Helper()
	port, err := freePort()
	check(t, err)
	c := &child{cmd: exec.Command(bin), base: "http://127.0.0.1:" + strconv.Itoa(port), logs: &lockedBuffer{},
		exited: make(chan error, 1)}
	c.cmd.Dir = root
	c.cmd.Env = cdnEnv(port, t.TempDir(), extra...)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	check(t, c.cmd.Start())
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() { _ = c.cmd.Process.Kill() }) // no-op once it has exited
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(c.base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			return c
		}
		select {
		case err := <-c.exited:
			t.Fatalf("cdnapi exited (%v): %s", err, c.logs.String())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("cdnapi not up within 30s: %s", c.logs.String())
		}
	}
}

func TestBinaryServesAndDrainsOnSIGTERM(t *testing.T) {
	bin, root := buildBinary(t)
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 8<<20, storage.OriginalKey, "image/png")
	c := startBinary(t, bin, root)
	cmd, base, logs, exited := c.cmd, c.base, c.logs, c.exited
	resp, body := get(t, http.MethodGet, base+"/readyz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d %s", resp.StatusCode, body)
	}

	// Reads are private: unsigned bytes are refused, a signed link is served.
	path := "/images/" + id
	resp, body = get(t, http.MethodGet, base+path)
	wantProblem(t, resp, body, http.StatusForbidden, "bad-signature")

	// Start a download, read a little, then SIGTERM: the download must still complete.
	dl, err := http.Get(base + path + "?" + newTestSigner(t).Sign(path, time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dl.Body.Close() }()
	br := bufio.NewReaderSize(dl.Body, 1024)
	head := make([]byte, 1024)
	if _, err := io.ReadFull(br, head); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("download cut by shutdown: %v", err)
	}
	if got := append(head, rest...); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, want %d exact", len(got), len(data))
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cdnapi still running 20s after SIGTERM")
	}
	out := logs.String()
	for _, want := range []string{`"msg":"request"`, `"route":"/images/:id"`, `"status":200`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

func TestBinaryRejectsInvalidConfig(t *testing.T) {
	bin, root := buildBinary(t)
	cases := []struct {
		name  string
		extra []string
		want  string
	}{
		{"bad values", []string{"HTTP__PORT=eighty", "MINIO__ENDPOINT=http://x"}, "HTTP__PORT"},
		{"private reads without a secret", []string{"SIGNING__SECRET="}, "signing.secret"},
		{"default MinIO password off loopback", []string{"HTTP__HOST=0.0.0.0", "MINIO__SECRET_KEY=minioadmin"},
			"minio.secret_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Dir = root
			cmd.Env = cdnEnv(8002, t.TempDir(), tc.extra...)
			out, err := cmd.CombinedOutput()
			if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() == 0 {
				t.Fatalf("cdnapi with a bad config: err %v, output %s", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("error does not name %s: %s", tc.want, out)
			}
		})
	}
}

func TestBinaryForgetsAnImageDeletedOnRedis(t *testing.T) {
	bin, root := buildBinary(t)
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 1<<20, storage.OriginalKey, "image/jpeg")
	c := startBinary(t, bin, root, "AUTH__PUBLIC_READ=true")
	rdb := newRedisClient(t)
	waitUntil(t, 10*time.Second, "cdnapi subscribes", func() bool { return subscribers(t, rdb) >= 1 })
	url := c.base + "/images/" + id
	if resp, body := get(t, http.MethodGet, url); resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET = %d, %d bytes", resp.StatusCode, len(body))
	}
	removeAll(t, mc, storage.OriginalKey(id))
	if resp, _ := get(t, http.MethodGet, url); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET after the removal from MinIO = %d, want the disk copy", resp.StatusCode)
	}
	check(t, rdb.Publish(t.Context(), invalidate.Channel, id).Err())
	dropped := `"msg":"image deleted, cache dropped","image_id":"` + id + `","memory_entries":0,"disk_entries":1`
	waitUntil(t, 10*time.Second, "the deletion is logged", func() bool { return strings.Contains(c.logs.String(), dropped) })
	resp, body := get(t, http.MethodGet, url)
	wantProblem(t, resp, body, http.StatusNotFound, "not-found")
	notFound := `"status":404,"bytes":` // the access line follows within the log's flush interval
	waitUntil(t, 5*time.Second, "the 404 is logged with the answer's request id", func() bool {
		out := c.logs.String()
		return strings.Contains(out, notFound) && strings.Contains(out, `"request_id":"`+resp.Header.Get("X-Request-ID")+`"`)
	})
}
