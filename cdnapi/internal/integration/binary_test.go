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

// cdnEnv is the environment of a cdnapi child reading the test MinIO and listening on port,
// with private reads (the default) checked with signingSecret.
func cdnEnv(port int, extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !ownSetting(kv) {
			env = append(env, kv)
		}
	}
	env = append(env, "MINIO__ENDPOINT="+shared.endpoint, "MINIO__ACCESS_KEY="+rootUser,
		"MINIO__SECRET_KEY="+rootPassword, "MINIO__BUCKET="+bucket, "HTTP__PORT="+strconv.Itoa(port),
		"SIGNING__SECRET="+signingSecret)
	return append(env, extra...)
}

// ownSetting reports whether kv sets one of cdnapi's settings, which the tests choose themselves.
func ownSetting(kv string) bool {
	for _, prefix := range []string{"MINIO__", "HTTP__", "CACHE__", "LOG__", "AUTH__", "SIGNING__", "CONF_DIR="} {
		if strings.HasPrefix(kv, prefix) {
			return true
		}
	}
	return false
}

func TestBinaryServesAndDrainsOnSIGTERM(t *testing.T) {
	bin, root := buildBinary(t)
	mc := adminClient(t)
	ensureBucket(t, mc)
	id, data := putRandom(t, mc, 8<<20, storage.OriginalKey, "image/png")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = root // reads conf/common.yaml and conf/cdnapi.yaml from the repo
	cmd.Env = cdnEnv(port)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // no-op once it has exited
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("cdnapi exited (%v): %s", err, logs.String())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("cdnapi not up within 30s: %s", logs.String())
		}
	}
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
			cmd.Env = cdnEnv(8002, tc.extra...)
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
