package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Config holds the HTTP listener settings (YAML section `http`, env prefix `HTTP__`).
type Config struct {
	// Host is the address to listen on.
	Host string `yaml:"host"`
	// Port is the TCP port to listen on.
	Port int `yaml:"port"`
	// ReadHeaderTimeout bounds reading request headers (slowloris guard).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request; cdnapi requests have no body.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a whole response: 20 MB must fit at the slowest client you serve.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for its next request.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's line and headers; larger ones are answered 431.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ShutdownTimeout bounds draining in-flight requests on SIGTERM/SIGINT.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TrustedProxies are the peers whose X-Forwarded-For is believed for the logged client address.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// NewDefaultConfig returns loopback:8002 with timeouts that fit 20 MB at about 0.6 Mbit/s.
func NewDefaultConfig() Config {
	return Config{
		Host:              "127.0.0.1",
		Port:              8002,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ShutdownTimeout:   15 * time.Second,
		TrustedProxies:    []string{"127.0.0.1", "::1"},
	}
}

// Addr is the host:port to listen on.
func (c Config) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("http.host must not be empty"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("http.port %d: must be 1..65535", c.Port))
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"http.read_header_timeout", c.ReadHeaderTimeout},
		{"http.read_timeout", c.ReadTimeout},
		{"http.write_timeout", c.WriteTimeout},
		{"http.idle_timeout", c.IdleTimeout},
		{"http.shutdown_timeout", c.ShutdownTimeout},
	} {
		if t.d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", t.name, t.d))
		}
	}
	if c.MaxHeaderBytes < 1 {
		errs = append(errs, fmt.Errorf("http.max_header_bytes must be positive, got %d", c.MaxHeaderBytes))
	}
	if c.ReadHeaderTimeout > c.ReadTimeout && c.ReadTimeout > 0 {
		errs = append(errs, errors.New("http.read_header_timeout must not exceed http.read_timeout"))
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParseAddr(p); err != nil {
			if _, err := netip.ParsePrefix(p); err != nil {
				errs = append(errs, fmt.Errorf("http.trusted_proxies: %q is neither an IP nor a CIDR", p))
			}
		}
	}
	return errors.Join(errs...)
}
