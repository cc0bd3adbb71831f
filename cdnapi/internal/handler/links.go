package handler

import (
	"errors"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/imagesearch/cdnapi/internal/signing"
)

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
// through. It stores nothing: the handlers read the verified expiry from the query again.
func (l *SignedLinks) Require(c *gin.Context) {
	raw := c.Request.URL.RawQuery
	exp, _ := queryValue(raw, signing.ParamExpiry)
	sig, _ := queryValue(raw, signing.ParamSignature)
	switch l.signer.Verify(c.Request.Method, c.Request.URL.Path, exp, sig, l.now()) {
	case signing.OK:
	case signing.Expired:
		WriteProblem(c, ProblemLinkExpired, "this link has expired; fetch the image's details again for a fresh one")
	default:
		WriteProblem(c, ProblemBadSignature, "image bytes need a link signed by the API (exp and sig) while reads are private")
	}
}

// expiry is when the link of a request that Require let through expires.
func (l *SignedLinks) expiry(c *gin.Context) time.Time {
	exp, _ := queryValue(c.Request.URL.RawQuery, signing.ParamExpiry)
	seconds, _ := strconv.ParseInt(exp, 10, 64) // Require accepted it: a plain integer
	return time.Unix(seconds, 0)
}

// LinkCheck is the middleware the byte routes need: Links.Require while reads are private, nil
// while they are public.
func (h *Images) LinkCheck() gin.HandlerFunc {
	if h.Links == nil {
		return nil
	}
	return h.Links.Require
}

// cacheControl is the Cache-Control of an image answer: while reads are private, private until
// the link expires (only the browser may keep it, and not past the link); else public and
// immutable.
func (h *Images) cacheControl(c *gin.Context) string {
	if h.Links == nil {
		return CacheImmutable
	}
	left := h.Links.expiry(c).Sub(h.Links.now()) / time.Second
	return CachePrivatePrefix + strconv.FormatInt(int64(max(left, 0)), 10)
}

// linkDeadline is when the request's signed link expires; zero while reads are public.
func (h *Images) linkDeadline(c *gin.Context) time.Time {
	if h.Links == nil {
		return time.Time{}
	}
	return h.Links.expiry(c)
}
