package handler

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ReadinessChecker reports whether the service's dependencies can serve; *storage.Client implements it.
type ReadinessChecker interface {
	Ready(ctx context.Context) error
}

// statusBody is the body of a successful health answer.
type statusBody struct {
	// Status is always "ok".
	Status string `json:"status"`
}

// Health answers the liveness and readiness probes.
type Health struct {
	ready  ReadinessChecker
	logger *slog.Logger
}

// NewHealth returns the probe handlers; ready is consulted by /readyz only.
func NewHealth(ready ReadinessChecker, logger *slog.Logger) (*Health, error) {
	if ready == nil {
		return nil, errors.New("handler: nil ReadinessChecker")
	}
	if logger == nil {
		return nil, errors.New("handler: nil logger")
	}
	return &Health{ready: ready, logger: logger}, nil
}

// Live answers GET /healthz: 200 {"status":"ok"} while the process serves HTTP.
func (h *Health) Live(c *gin.Context) {
	c.Header(HeaderCacheControl, CacheNoStore)
	c.JSON(http.StatusOK, statusBody{Status: "ok"})
}

// Ready answers GET /readyz: 200 when MinIO answers and the bucket exists, else a 503 problem.
func (h *Health) Ready(c *gin.Context) {
	if err := h.ready.Ready(c.Request.Context()); err != nil {
		h.logger.Warn("not ready", "error", err.Error())
		WriteProblem(c, ProblemDependencyUnavailable, "storage not ready: "+err.Error())
		return
	}
	c.Header(HeaderCacheControl, CacheNoStore)
	c.JSON(http.StatusOK, statusBody{Status: "ok"})
}
