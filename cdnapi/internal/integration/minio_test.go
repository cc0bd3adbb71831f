package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Credentials and bucket of the test MinIO.
const (
	rootUser     = "cdnapi-test"
	rootPassword = "cdnapi-test-secret"
	bucket       = "images"
)

// minioServer is one MinIO process started by TestMain.
type minioServer struct {
	endpoint string
	cmd      *exec.Cmd
	exited   chan error
	logPath  string
}

// shared is the MinIO every test uses; set once by TestMain.
var shared *minioServer

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests starts MinIO and Redis, runs the tests and stops both by PID, whatever happens.
func runTests(m *testing.M) int {
	bin, err := minioBinary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: integration tests need a MinIO server binary: %v\n", err)
		return 1
	}
	redisBin, err := redisBinary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: integration tests need a Redis server binary: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "cdnapi-minio-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	srv, err := startMinIO(bin, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start MinIO:", err)
		return 1
	}
	defer srv.stop()
	shared = srv
	redisSrv, err := startRedis(redisBin, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start Redis:", err)
		return 1
	}
	defer func() { sharedRedis.stop() }() // a test may have restarted it
	sharedRedis = redisSrv
	return m.Run()
}

// repoRoot walks up from the package directory to the directory holding cdnapi/go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cdnapi", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no directory above the test holds cdnapi/go.mod")
		}
		dir = parent
	}
}

// minioBinary is $MINIO_BIN, or <repo root>/.bin/minio; it must exist.
func minioBinary() (string, error) {
	bin := os.Getenv("MINIO_BIN")
	if bin == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		bin = filepath.Join(root, ".bin", "minio")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s not found (build it with `make test`/`make dev`, or set MINIO_BIN): %w", bin, err)
	}
	return bin, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startMinIO runs `minio server` on free loopback ports and waits until it is live;
// a start that loses its ports to another process is retried.
func startMinIO(bin, dir string) (*minioServer, error) {
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		srv, err := tryStartMinIO(bin, dir, attempt)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStartMinIO(bin, dir string, attempt int) (*minioServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	endpoint := "127.0.0.1:" + strconv.Itoa(port)
	logPath := filepath.Join(dir, fmt.Sprintf("minio-%d.log", attempt))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(bin, "server", "--quiet", "--address", endpoint,
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort), filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+rootUser, "MINIO_ROOT_PASSWORD="+rootPassword,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	srv := &minioServer{endpoint: endpoint, cmd: cmd, exited: make(chan error, 1), logPath: logPath}
	go func() { srv.exited <- cmd.Wait() }()

	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-srv.exited:
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("minio exited early (%v): %s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get("http://" + endpoint + "/minio/health/live")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv, nil
			}
		}
	}
	srv.stop()
	return nil, fmt.Errorf("minio at %s not live within 90s (log %s)", endpoint, logPath)
}

// stop sends SIGTERM to MinIO's PID and kills it if it has not exited within 10 s.
func (s *minioServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// adminClient is a minio-go client with the root credentials, for seeding.
func adminClient(t *testing.T) *minio.Client {
	t.Helper()
	mc, err := minio.New(shared.endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(rootUser, rootPassword, ""),
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// ensureBucket creates the test bucket once.
func ensureBucket(t *testing.T, mc *minio.Client) {
	t.Helper()
	ctx := context.Background()
	ok, err := mc.BucketExists(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// putRandom stores n random bytes under key(id) and returns the id (their SHA-256) and bytes.
func putRandom(t *testing.T, mc *minio.Client, n int, key func(string) string, contentType string) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:])
	_, err := mc.PutObject(context.Background(), bucket, key(id), bytes.NewReader(data), int64(n),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		t.Fatal(err)
	}
	return id, data
}

// minioPut is PutObjectOptions with a Content-Type.
func minioPut(contentType string) minio.PutObjectOptions {
	return minio.PutObjectOptions{ContentType: contentType}
}
