package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Query parameter of a byte route that asks for a redirect instead of the bytes.
const (
	// ParamRedirect names the redirect target; it is not part of a link's signature.
	ParamRedirect = "redirect"
	// RedirectStorage, its one value: 307 to a presigned MinIO URL of the object.
	RedirectStorage = "storage"
	// HeaderLocation is the Location header name.
	HeaderLocation = "Location"
)

// Presigner issues URLs that fetch an object from storage directly; *presign.Presigner
// implements it. Errors wrap storage.ErrNotFound or storage.ErrUnavailable.
type Presigner interface {
	// PresignedURL returns a URL that GETs key from storage and stops working no later than
	// notAfter (zero: no bound but the presigner's own).
	PresignedURL(ctx context.Context, key string, notAfter time.Time) (string, error)
}

// redirect answers 307 to a presigned storage URL of the object, valid no longer than the
// request's signed link; 400 for another redirect value, 404 when the object does not exist.
// The answer must not be cached: the URL it names expires.
func (h *Images) redirect(c *gin.Context, obj object, target string) {
	if target != RedirectStorage {
		WriteProblem(c, ProblemInvalidInput, "redirect must be "+RedirectStorage)
		return
	}
	if h.Presigner == nil {
		WriteProblem(c, ProblemDependencyUnavailable, "redirects to storage are not available")
		return
	}
	url, err := h.Presigner.PresignedURL(c.Request.Context(), obj.key, h.linkDeadline(c))
	if err != nil {
		h.storageError(c, obj, err)
		return
	}
	hdr := c.Writer.Header()
	hdr.Set(HeaderLocation, url)
	hdr.Set(HeaderCacheControl, CacheNoStore)
	hdr.Set(HeaderContentTypeOptions, NoSniff)
	c.Status(http.StatusTemporaryRedirect)
	c.Writer.WriteHeaderNow()
}
