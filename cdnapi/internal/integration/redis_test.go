package integration

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is one redis-server process on a loopback port, which a test may stop and start
// again on the same port.
type redisServer struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
	exited   chan error
}

// sharedRedis is the Redis every test uses; set once by TestMain.
var sharedRedis *redisServer

// redisBinary is $REDIS_BIN, or redis-server on the PATH.
func redisBinary() (string, error) {
	if bin := os.Getenv("REDIS_BIN"); bin != "" {
		return bin, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not on PATH (install it, or set REDIS_BIN): %w", err)
	}
	return bin, nil
}

// startRedis runs redis-server without persistence on a free loopback port and waits until it answers.
func startRedis(bin, dir string) (*redisServer, error) {
	var lastErr error
	for range 3 { // a port taken between freePort and the start is retried
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		srv := &redisServer{bin: bin, dir: dir, port: port}
		if lastErr = srv.start(); lastErr == nil {
			return srv, nil
		}
	}
	return nil, lastErr
}

// start runs the server on its port and waits up to 10 s for it to accept connections.
func (s *redisServer) start() error {
	logPath := filepath.Join(s.dir, "redis-"+strconv.Itoa(s.port)+".log")
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", s.dir, "--logfile", logPath)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("redis-server exited early (%v): %s", err, log)
		case <-time.After(20 * time.Millisecond):
		}
		if conn, err := net.Dial("tcp", s.addr()); err == nil {
			_ = conn.Close()
			return nil
		}
	}
	s.stop()
	return errors.New("redis-server not accepting connections within 10s")
}

// stop sends SIGTERM to the server's PID and kills it if it has not exited within 10 s.
func (s *redisServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// url is the server's redis:// URL for database db.
func (s *redisServer) url(db int) string { return "redis://" + s.addr() + "/" + strconv.Itoa(db) }

// newRedisClient is a client of the shared Redis, closed when the test ends.
func newRedisClient(t *testing.T) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: sharedRedis.addr(), DisableIdentity: true,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	return client
}
