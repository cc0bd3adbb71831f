package handler

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Header names and values set by the handlers.
const (
	// HeaderCacheControl is the Cache-Control header name.
	HeaderCacheControl = "Cache-Control"
	// HeaderContentType is the Content-Type header name.
	HeaderContentType = "Content-Type"
	// HeaderContentLength is the Content-Length header name.
	HeaderContentLength = "Content-Length"
	// HeaderETag is the ETag header name.
	HeaderETag = "ETag"
	// HeaderLastModified is the Last-Modified header name.
	HeaderLastModified = "Last-Modified"
	// HeaderContentTypeOptions is the X-Content-Type-Options header name.
	HeaderContentTypeOptions = "X-Content-Type-Options"
	// HeaderAcceptRanges is the Accept-Ranges header name.
	HeaderAcceptRanges = "Accept-Ranges"
	// HeaderRetryAfter is the Retry-After header name.
	HeaderRetryAfter = "Retry-After"

	// CacheImmutable is the Cache-Control of image bytes: content-addressed, so they never change.
	CacheImmutable = "public, max-age=31536000, immutable"
	// CachePrivatePrefix starts the Cache-Control of an answer to a signed link, followed by the
	// seconds until the link expires: only the browser may keep it, and not past the link.
	CachePrivatePrefix = "private, max-age="
	// CacheNoStore is the Cache-Control of errors and health answers.
	CacheNoStore = "no-store"
	// NoSniff is the X-Content-Type-Options value.
	NoSniff = "nosniff"
	// RetryAfterUnavailable is the Retry-After (seconds) of a dependency-unavailable problem, as
	// the Python services send it.
	RetryAfterUnavailable = "5"
	// ContentTypeProblem is the RFC 9457 media type of every error body.
	ContentTypeProblem = "application/problem+json"
	// ProblemTypePrefix starts every problem type URI, as in the Python services.
	ProblemTypePrefix = "urn:imagesearch:problem:"
)

// ProblemCode names a kind of problem; its type URI is ProblemTypePrefix + code, and the code
// decides the HTTP status and the title. The codes and titles match the Python services'.
type ProblemCode string

// The problems cdnapi answers.
const (
	// ProblemInvalidID (400): the image or variant id is not 64 lowercase hex characters.
	ProblemInvalidID ProblemCode = "invalid-id"
	// ProblemInvalidInput (400): a query parameter has a value the route does not take.
	ProblemInvalidInput ProblemCode = "invalid-input"
	// ProblemNotFound (404): no such original, thumbnail or variant.
	ProblemNotFound ProblemCode = "not-found"
	// ProblemLinkExpired (403): a correctly signed byte link whose expiry has passed.
	ProblemLinkExpired ProblemCode = "link-expired"
	// ProblemBadSignature (403): a byte link without a valid signature while reads are private.
	ProblemBadSignature ProblemCode = "bad-signature"
	// ProblemRouteNotFound (404): no route for the path.
	ProblemRouteNotFound ProblemCode = "http-404"
	// ProblemMethodNotAllowed (405): the route exists, the method does not.
	ProblemMethodNotAllowed ProblemCode = "http-405"
	// ProblemPreconditionFailed (412): If-Match or If-Unmodified-Since does not hold.
	ProblemPreconditionFailed ProblemCode = "precondition-failed"
	// ProblemTooLarge (413): the request carries a body, and cdnapi reads none.
	ProblemTooLarge ProblemCode = "file-too-large"
	// ProblemRangeNotSatisfiable (416): the Range lies outside the object.
	ProblemRangeNotSatisfiable ProblemCode = "range-not-satisfiable"
	// ProblemDependencyUnavailable (503): MinIO cannot be reached or cannot answer.
	ProblemDependencyUnavailable ProblemCode = "dependency-unavailable"
	// ProblemInternal (500): anything else; unknown codes are reported as this one.
	ProblemInternal ProblemCode = "internal"
)

// describe returns the status and title of code; false for an unknown code.
func (c ProblemCode) describe() (int, string, bool) {
	switch c {
	case ProblemInvalidID, ProblemInvalidInput:
		return http.StatusBadRequest, "Invalid request", true
	case ProblemLinkExpired, ProblemBadSignature:
		return http.StatusForbidden, "Forbidden", true
	case ProblemNotFound, ProblemRouteNotFound:
		return http.StatusNotFound, "Not found", true
	case ProblemMethodNotAllowed:
		return http.StatusMethodNotAllowed, "Method not allowed", true
	case ProblemPreconditionFailed:
		return http.StatusPreconditionFailed, "Precondition failed", true
	case ProblemTooLarge:
		return http.StatusRequestEntityTooLarge, "File too large", true
	case ProblemRangeNotSatisfiable:
		return http.StatusRequestedRangeNotSatisfiable, "Range not satisfiable", true
	case ProblemDependencyUnavailable:
		return http.StatusServiceUnavailable, "Service unavailable", true
	case ProblemInternal:
		return http.StatusInternalServerError, "Internal error", true
	}
	return 0, "", false
}

// Status is the HTTP status of code (500 for an unknown code).
func (c ProblemCode) Status() int {
	status, _, _ := c.known().describe()
	return status
}

// Title is the short summary of code ("Internal error" for an unknown code).
func (c ProblemCode) Title() string {
	_, title, _ := c.known().describe()
	return title
}

// Type is the problem type URI of code, urn:imagesearch:problem:<code>.
func (c ProblemCode) Type() string {
	return ProblemTypePrefix + string(c.known())
}

// known is c, or ProblemInternal when c is not one of the codes above.
func (c ProblemCode) known() ProblemCode {
	if _, _, ok := c.describe(); ok {
		return c
	}
	return ProblemInternal
}

// problemCodeFor maps a status that http.ServeContent wrote itself to a problem code.
func problemCodeFor(status int) ProblemCode {
	switch status {
	case http.StatusPreconditionFailed:
		return ProblemPreconditionFailed
	case http.StatusRequestedRangeNotSatisfiable:
		return ProblemRangeNotSatisfiable
	}
	return ProblemInternal
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	// Type identifies the problem type: urn:imagesearch:problem:<code>.
	Type string `json:"type"`
	// Title is the short, human-readable summary of the type.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence.
	Detail string `json:"detail"`
}

// WriteProblem is the one error writer: it answers code's status with an application/problem+json
// body, replacing any caching or representation headers already set, and aborts the gin chain.
func WriteProblem(c *gin.Context, code ProblemCode, detail string) {
	status := code.Status()
	body, err := json.Marshal(Problem{
		Type:   code.Type(),
		Title:  code.Title(),
		Status: status,
		Detail: detail,
	})
	if err != nil { // cannot happen for this struct; keep a valid body anyway
		status = http.StatusInternalServerError
		body = []byte(`{"type":"urn:imagesearch:problem:internal","title":"Internal error","status":500,"detail":""}`)
	}
	h := c.Writer.Header()
	h.Del(HeaderETag)
	h.Del(HeaderLastModified)
	h.Del(HeaderAcceptRanges)
	h.Set(HeaderContentType, ContentTypeProblem)
	h.Set(HeaderContentLength, strconv.Itoa(len(body)))
	h.Set(HeaderCacheControl, CacheNoStore)
	h.Set(HeaderContentTypeOptions, NoSniff)
	if code == ProblemDependencyUnavailable {
		h.Set(HeaderRetryAfter, RetryAfterUnavailable)
	}
	c.Status(status)
	if c.Request.Method != http.MethodHead {
		_, _ = c.Writer.Write(body)
	} else {
		c.Writer.WriteHeaderNow()
	}
	c.Abort()
}
