package handler

import (
	"context"
	"net"
)

// corkMinBytes is the smallest body worth corking: a smaller answer leaves net/http's 4 KiB
// connection buffer in one write anyway.
const corkMinBytes = 4 << 10

// connKey is the context key of the request's connection.
type connKey struct{}

// WithConn returns ctx carrying the connection c, for http.Server.ConnContext: the handlers cork
// it while they write a body.
func WithConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// corkFor holds back the partial segments of ctx's connection until the returned function is
// called, so that the headers and a body written in several calls leave as full segments (what
// Nginx's tcp_nopush does): net/http writes a larger body in at least two system calls, and on a
// connection with TCP_NODELAY each would otherwise go out as a packet of its own. It does nothing
// for small bodies, off Linux, or without a TCP connection in ctx.
func corkFor(ctx context.Context, size int64) (uncork func()) {
	conn, ok := ctx.Value(connKey{}).(*net.TCPConn)
	if !ok || size < corkMinBytes {
		return func() {}
	}
	raw, err := conn.SyscallConn()
	if err != nil || setCork(raw, true) != nil {
		return func() {}
	}
	return func() { _ = setCork(raw, false) }
}
