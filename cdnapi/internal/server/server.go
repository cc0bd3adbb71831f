// Package server assembles cdnapi's gin router, middleware and http.Server, and runs it
// until its context ends, then shuts down gracefully.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imagesearch/cdnapi/internal/handler"
)

// Route patterns served by cdnapi.
const (
	// RouteOriginal serves an image's original bytes.
	RouteOriginal = "/images/:" + handler.ParamID
	// RouteThumb serves an image's WebP thumbnail.
	RouteThumb = "/images/:" + handler.ParamID + "/thumb"
	// RouteVariant serves one rendered variant of an image.
	RouteVariant = "/images/:" + handler.ParamID + "/variants/:" + handler.ParamVariant
	// RouteHealthz is the liveness probe.
	RouteHealthz = "/healthz"
	// RouteReadyz is the readiness probe.
	RouteReadyz = "/readyz"
	// RouteMetrics exposes Prometheus metrics.
	RouteMetrics = "/metrics"
)

// Deps are the collaborators a Server routes to.
type Deps struct {
	// Images serves image bytes.
	Images *handler.Images
	// Health answers the probes.
	Health *handler.Health
	// Logger receives server errors, and decides whether access lines are written.
	Logger *slog.Logger
	// AccessLog receives the access lines: the writer under Logger's handler.
	AccessLog io.Writer
	// Collectors are extra metrics served on /metrics, such as the object cache's; optional.
	Collectors []prometheus.Collector
}

// Server is cdnapi's HTTP server.
type Server struct {
	cfg     Config
	engine  *gin.Engine
	httpSrv *http.Server
	logger  *slog.Logger
}

// New builds the router (routes, 404/405 problems, request id, access log, metrics, panic
// recovery, 413 for any request body, the signed-link check on the byte routes while deps.Images reads privately; the probes and
// /metrics stay open)
// and the http.Server with cfg's timeouts. It does not listen yet.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Images == nil || deps.Health == nil || deps.Logger == nil || deps.AccessLog == nil {
		return nil, errors.New("server: Images, Health, Logger and AccessLog are required")
	}
	registry := prometheus.NewRegistry()
	m, err := newMetrics(registry)
	if err != nil {
		return nil, err
	}
	for _, c := range deps.Collectors {
		if err := registry.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	err = registry.Register(collectors.NewGoCollector())
	if err != nil {
		return nil, fmt.Errorf("register go collector: %w", err)
	}
	err = registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err != nil {
		return nil, fmt.Errorf("register process collector: %w", err)
	}

	gin.SetMode(gin.ReleaseMode) // silences gin's debug route printing; the only package-level switch gin has
	engine := gin.New()
	engine.HandleMethodNotAllowed = true
	engine.RedirectTrailingSlash = false
	engine.RedirectFixedPath = false
	err = engine.SetTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("http.trusted_proxies: %w", err)
	}
	engine.Use(requestID, accessLog(deps.Logger, deps.AccessLog, m), recovery(deps.Logger), refuseBodies)
	engine.NoRoute(func(c *gin.Context) {
		handler.WriteProblem(c, handler.ProblemRouteNotFound, "no route for "+c.Request.URL.Path)
	})
	engine.NoMethod(func(c *gin.Context) {
		handler.WriteProblem(c, handler.ProblemMethodNotAllowed,
			c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})
	byteRoutes := engine.Group("")
	if check := deps.Images.LinkCheck(); check != nil {
		byteRoutes.Use(check)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		byteRoutes.Handle(method, RouteOriginal, deps.Images.Original)
		byteRoutes.Handle(method, RouteThumb, deps.Images.Thumb)
		byteRoutes.Handle(method, RouteVariant, deps.Images.Variant)
	}
	engine.GET(RouteHealthz, deps.Health.Live)
	engine.GET(RouteReadyz, deps.Health.Ready)
	engine.GET(RouteMetrics, gin.WrapH(promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry})))

	httpSrv := &http.Server{
		Addr:              cfg.Addr(),
		Handler:           engine,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn),
		ConnContext:       handler.WithConn,
	}
	return &Server{cfg: cfg, engine: engine, httpSrv: httpSrv, logger: deps.Logger}, nil
}

// Handler returns the router, for tests and for embedding.
func (s *Server) Handler() http.Handler {
	return s.engine
}

// Run listens on the configured address and serves until ctx is done, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr(), err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting, waits up to the shutdown timeout
// for in-flight requests, and force-closes what is left.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errCh := make(chan error, 1)
	go func() { errCh <- s.httpSrv.Serve(ln) }()
	s.logger.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errCh:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", "deadline", s.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.httpSrv.Shutdown(shutdownCtx); err != nil {
		_ = s.httpSrv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errCh; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.logger.Info("stopped")
	return nil
}

// refuseBodies answers a request that carries a body (cdnapi reads none) with a 413 problem at
// once, from its headers, and closes the connection instead of reading the body.
func refuseBodies(c *gin.Context) {
	if c.Request.ContentLength == 0 && len(c.Request.TransferEncoding) == 0 {
		return
	}
	c.Header("Connection", "close")
	handler.WriteProblem(c, handler.ProblemTooLarge, "cdnapi takes no request body")
}

// recovery turns a handler panic into a logged 500 problem.
func recovery(logger *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, rec any) {
		logger.Error("panic", "path", c.Request.URL.Path, "panic", fmt.Sprint(rec))
		handler.WriteProblem(c, handler.ProblemInternal, "the server failed; the error was logged")
	})
}
