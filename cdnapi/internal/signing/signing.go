// Package signing checks (and, for tests and tools, makes) the signed byte links searchapi
// answers with when reads are private: {path}?exp={E}&sig={S}.
//
// E is the unix second at which the link stops working, a plain decimal integer. S is the
// unpadded base64url HMAC-SHA256, keyed with the secret's UTF-8 bytes, of
// "GET\n" + path + "\n" + E; HEAD is checked as GET. The Python signer (shared/signing.py)
// must agree byte for byte; tests/vectors/signed_links.json pins both.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// MinSecretLength is the shortest secret accepted, in characters.
const MinSecretLength = 32

// Query parameters of a signed link.
const (
	// ParamExpiry carries E, the unix second at which the link stops working.
	ParamExpiry = "exp"
	// ParamSignature carries S, the signature.
	ParamSignature = "sig"
)

// Verdict is the outcome of checking a link.
type Verdict int

// The verdicts.
const (
	// Bad: missing, garbled, or signed for another path, method, expiry or secret.
	Bad Verdict = iota
	// Expired: correctly signed, but its expiry has passed.
	Expired
	// OK: correctly signed and not yet expired.
	OK
)

// String names the verdict as the shared test vectors do: ok, expired or bad.
func (v Verdict) String() string {
	switch v {
	case OK:
		return "ok"
	case Expired:
		return "expired"
	}
	return "bad"
}

// Config holds the link signing settings (YAML section `signing`, env prefix `SIGNING__`).
// The section's link_ttl_s is searchapi's: cdnapi only checks the expiry a link carries.
type Config struct {
	// Secret keys the HMAC; searchapi must have the same one.
	Secret string `yaml:"secret"`
}

// NewDefaultConfig returns no secret: one must be configured whenever links are checked.
func NewDefaultConfig() Config {
	return Config{}
}

// Validate checks that the secret has at least MinSecretLength characters.
func (c Config) Validate() error {
	if n := utf8.RuneCountInString(c.Secret); n < MinSecretLength {
		return fmt.Errorf("signing.secret (SIGNING__SECRET) has %d characters: want at least %d, the same secret "+
			"searchapi signs byte links with, while auth.public_read is false", n, MinSecretLength)
	}
	return nil
}

// Signer makes and checks signed links with one secret. It is safe for concurrent use.
type Signer struct {
	// macs holds HMACs keyed with the secret: reusing one spares hashing the key's pads and the
	// allocations of a new one on every request.
	macs sync.Pool
}

// New returns a Signer keyed with cfg's secret; an invalid config is an error.
func New(cfg Config) (*Signer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key := []byte(cfg.Secret)
	return &Signer{macs: sync.Pool{New: func() any { return &mac{Hash: hmac.New(sha256.New, key)} }}}, nil
}

// mac is a keyed HMAC with room for its message and its signature.
type mac struct {
	hash.Hash
	msg []byte
	sum [sha256.Size]byte
	enc [signatureLength]byte
}

// signatureLength is the length of a signature: 32 bytes in unpadded base64.
const signatureLength = (sha256.Size*8 + 5) / 6

// Sign returns the query string "exp=E&sig=S" that makes a GET (or HEAD) of path work until exp.
func (s *Signer) Sign(path string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	m := s.sign(http.MethodGet, path, e)
	defer s.macs.Put(m)
	return ParamExpiry + "=" + e + "&" + ParamSignature + "=" + string(m.enc[:])
}

// Verify checks a request's method and path against the exp and sig it carries, at now.
// A correctly signed link is Expired from its expiry second on; everything else that does not
// verify is Bad. The signature is compared in constant time.
func (s *Signer) Verify(method, path, exp, sig string, now time.Time) Verdict {
	e, ok := parseExpiry(exp)
	if !ok {
		return Bad
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	m := s.sign(method, path, exp)
	match := subtle.ConstantTimeCompare(m.enc[:], []byte(sig)) == 1
	s.macs.Put(m)
	if !match {
		return Bad
	}
	if now.Unix() >= e {
		return Expired
	}
	return OK
}

// sign computes the unpadded base64url HMAC-SHA256 of "method\npath\nexp" into a pooled mac's
// enc; the caller puts the mac back.
func (s *Signer) sign(method, path, exp string) *mac {
	m := s.macs.Get().(*mac)
	m.Reset()
	m.msg = append(append(append(append(append(m.msg[:0], method...), '\n'), path...), '\n'), exp...)
	m.Write(m.msg)
	base64.RawURLEncoding.Encode(m.enc[:], m.Sum(m.sum[:0]))
	return m
}

// parseExpiry accepts only the one spelling of an expiry: ASCII digits without sign, space or
// leading zero, within int64. Any other spelling would be a second link for the same signature.
func parseExpiry(exp string) (int64, bool) {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || e < 0 || strconv.FormatInt(e, 10) != exp {
		return 0, false
	}
	return e, true
}
