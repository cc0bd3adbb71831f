package handler

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// corked reads TCP_CORK of conn.
func corked(t *testing.T, conn *net.TCPConn) bool {
	t.Helper()
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var value int
	var getErr error
	if err := raw.Control(func(fd uintptr) {
		value, getErr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK)
	}); err != nil || getErr != nil {
		t.Fatal(err, getErr)
	}
	return value != 0
}

func TestCorkHoldsALargeBodyUntilUncorked(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Close() }()
	ctx := WithConn(context.Background(), server)

	corkFor(ctx, corkMinBytes-1)
	if corked(t, server.(*net.TCPConn)) {
		t.Error("a body smaller than net/http's buffer was corked")
	}
	uncork := corkFor(ctx, 1<<20)
	if !corked(t, server.(*net.TCPConn)) {
		t.Fatal("a large body was not corked")
	}
	uncork()
	if corked(t, server.(*net.TCPConn)) {
		t.Error("still corked after uncork")
	}
	corkFor(context.Background(), 1<<20)() // no connection: nothing to do
}
