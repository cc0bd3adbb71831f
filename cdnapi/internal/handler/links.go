package handler

import (
	"errors"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/imagesearch/cdnapi/internal/signing"
)

// keyCacheControl is the gin context key under which a check leaves the Cache-Control of a
// signed answer for serveContent.
const keyCacheControl = "handler.cache_control"

// SignedLinks guards the byte routes while reads are private: a request passes only with an
// exp and sig that sign its method and path (see package signing). The answer it lets through
// may be cached by the browser alone, and only until the link expires.
type SignedLinks struct {
	signer *signing.Signer
	now    func() time.Time
}

// NewSignedLinks returns the check, reading the time from now (nil: time.Now).
func NewSignedLinks(signer *signing.Signer, now func() time.Time) (*SignedLinks, error) {
	if signer == nil {
		return nil, errors.New("handler: nil Signer")
	}
	if now == nil {
		now = time.Now
	}
	return &SignedLinks{signer: signer, now: now}, nil
}

// Require is gin middleware: it answers 403 link-expired or bad-signature, or lets the request
// through with a private Cache-Control that ends when the link does.
func (l *SignedLinks) Require(c *gin.Context) {
	exp, sig := c.Query(signing.ParamExpiry), c.Query(signing.ParamSignature)
	now := l.now()
	switch l.signer.Verify(c.Request.Method, c.Request.URL.Path, exp, sig, now) {
	case signing.OK:
		seconds, _ := strconv.ParseInt(exp, 10, 64) // Verify accepted it: a plain integer
		left := time.Unix(seconds, 0).Sub(now) / time.Second
		c.Set(keyCacheControl, CachePrivatePrefix+strconv.FormatInt(int64(left), 10))
	case signing.Expired:
		WriteProblem(c, ProblemLinkExpired, "this link has expired; fetch the image's details again for a fresh one")
	default:
		WriteProblem(c, ProblemBadSignature, "image bytes need a link signed by the API (exp and sig) while reads are private")
	}
}

// cacheControl is the Cache-Control of an image answer: private until a signed link's expiry,
// else public and immutable.
func cacheControl(c *gin.Context) string {
	if signed := c.GetString(keyCacheControl); signed != "" {
		return signed
	}
	return CacheImmutable
}
