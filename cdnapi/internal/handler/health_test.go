package handler_test

import (
	"errors"
	"net/http"
	"testing"
)

func TestHealthzIsAlwaysOK(t *testing.T) {
	store := newFakeStore()
	store.readyErr = errors.New("down")
	rec := do(newRouter(t, store), http.MethodGet, "/healthz")
	if rec.Code != http.StatusOK || rec.Body.String() != `{"status":"ok"}` {
		t.Errorf("healthz = %d %q", rec.Code, rec.Body.String())
	}
}

func TestReadyz(t *testing.T) {
	store := newFakeStore()
	r := newRouter(t, store)
	rec := do(r, http.MethodGet, "/readyz")
	if rec.Code != http.StatusOK || rec.Body.String() != `{"status":"ok"}` {
		t.Errorf("ready readyz = %d %q", rec.Code, rec.Body.String())
	}
	store.readyErr = errors.New("bucket \"images\" does not exist")
	assertProblem(t, do(r, http.MethodGet, "/readyz"), http.StatusServiceUnavailable, "dependency-unavailable", "does not exist")
}
