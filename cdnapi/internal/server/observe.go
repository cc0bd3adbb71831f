package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/logging"
)

// RouteUnmatched is the route label of requests that matched no route.
const RouteUnmatched = "unmatched"

// metrics are cdnapi's Prometheus instruments, registered on a per-Server registry.
type metrics struct {
	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics creates and registers the HTTP instruments on reg.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnapi_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnapi_http_response_bytes_total",
			Help: "Response body bytes written, by route pattern.",
		}, []string{"route"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cdnapi_http_request_duration_seconds",
			Help:    "Time from request start to the last byte written, by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.bytes, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// methodLabel bounds the method label to the methods HTTP defines.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// requestID gives every request an id: the client's X-Request-ID when it is well formed (Nginx
// sets one), else a new one; it is echoed in the answer and logged by accessLog.
func requestID(c *gin.Context) {
	id := c.GetHeader(handler.HeaderRequestID)
	if !handler.ValidRequestID(id) {
		id = handler.NewRequestID()
	}
	c.Writer.Header().Set(handler.HeaderRequestID, id)
}

// accessLog records every request in the metrics and as one JSON line (method, route, path,
// status, bytes, duration_ms, remote, request_id) written to out through logging.Line, at info
// level, or debug for the probes and /metrics, when logger has that level enabled.
func accessLog(logger *slog.Logger, out io.Writer, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)

		route := c.FullPath()
		if route == "" {
			route = RouteUnmatched
		}
		method := methodLabel(c.Request.Method)
		status := c.Writer.Status()
		size := handler.BodyBytes(c)

		m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		m.bytes.WithLabelValues(route).Add(float64(size))
		m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())

		level := slog.LevelInfo
		if route == RouteHealthz || route == RouteReadyz || route == RouteMetrics {
			level = slog.LevelDebug
		}
		if !logger.Enabled(c.Request.Context(), level) {
			return // spare building the line (ClientIP parses headers) of a dropped one
		}
		_ = logging.NewLine(start.Add(elapsed), level, "request").
			Str("method", c.Request.Method).Str("route", route).Str("path", c.Request.URL.Path).
			Int("status", int64(status)).Int("bytes", size).Millis("duration_ms", elapsed).
			Str("remote", c.ClientIP()).Str("request_id", handler.RequestID(c)).
			Write(out)
	}
}
