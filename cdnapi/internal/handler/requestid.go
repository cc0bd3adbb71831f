package handler

import (
	"encoding/hex"
	"math/rand/v2"

	"github.com/gin-gonic/gin"
)

// HeaderRequestID names the request id header: Nginx sets it, cdnapi echoes it in every answer.
const HeaderRequestID = "X-Request-ID"

// maxRequestIDLength bounds an accepted request id.
const maxRequestIDLength = 64

// ValidRequestID reports whether id may be taken from a client: 1 to 64 of A-Z a-z 0-9 . _ -
// (what Nginx accepts too), so it cannot forge log fields or headers.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if (ch < 'a' || ch > 'z') && (ch < 'A' || ch > 'Z') && (ch < '0' || ch > '9') && ch != '.' && ch != '_' && ch != '-' {
			return false
		}
	}
	return true
}

// NewRequestID returns 32 random lowercase hex characters, the shape of Nginx's $request_id.
// It names a request in logs; it is not a secret, so the fast non-cryptographic source serves.
func NewRequestID() string {
	var b [16]byte
	for i := 0; i < len(b); i += 8 {
		v := rand.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

// RequestID is the id of c's request, as the server's middleware set it on the answer.
func RequestID(c *gin.Context) string {
	return c.Writer.Header().Get(HeaderRequestID)
}
