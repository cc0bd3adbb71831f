package redisconn

import (
	"strings"
	"testing"
	"time"
)

func TestURLIsParsedAsThePythonServicesWriteIt(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.URL = "redis://:s3cret@redis.internal:6380/4"
	client, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	opts := client.Options()
	if opts.Addr != "redis.internal:6380" || opts.Password != "s3cret" || opts.DB != 4 ||
		opts.ReadTimeout != cfg.Timeout || opts.DialTimeout != cfg.Timeout {
		t.Errorf("options = addr %s, db %d, timeouts %s/%s", opts.Addr, opts.DB, opts.DialTimeout, opts.ReadTimeout)
	}
}

func TestEmptyURLMeansNoRedis(t *testing.T) {
	client, err := New(Config{Timeout: time.Second})
	if err != nil || client != nil {
		t.Errorf("New with no URL = %v, %v; want nil, nil", client, err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, bad := range []Config{{URL: "http://x", Timeout: time.Second}, {URL: "redis://x:6379/0", Timeout: 0}} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "redis.") {
			t.Errorf("%+v: Validate() = %v", bad, err)
		}
	}
	if err := NewDefaultConfig().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}
