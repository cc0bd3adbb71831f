package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imagesearch/cdnapi/internal/handler"
	"github.com/imagesearch/cdnapi/internal/signing"
)

// exchange is one request to the router and what its answer must carry: the status, the
// Content-Type, the problem type for errors, and any header pinned to an exact value
// ("" pins the header absent).
type exchange struct {
	method, path string
	request      map[string]string
	status       int
	contentType  string
	problem      handler.ProblemCode
	headers      map[string]string
	emptyBody    bool
}

const otherID = "0000000000000000000000000000000000000000000000000000000000000000"

var (
	original   = "/images/" + testID
	bytesOK    = map[string]string{"ETag": `"` + testID + `"`, "Cache-Control": handler.CacheImmutable, "Accept-Ranges": "bytes", "X-Content-Type-Options": handler.NoSniff}
	noStore    = map[string]string{"Cache-Control": handler.CacheNoStore}
	byteRoutes = []string{original, original + "/thumb", original + "/variants/" + otherID}
)

// TestEveryRouteAnswersItsContract pins, route by route, what cdnapi answers: the statuses, the
// problem types, the caching and range headers, HEAD, 405 with Allow. cdnapi has no OpenAPI
// document; this table is its contract.
func TestEveryRouteAnswersItsContract(t *testing.T) {
	cases := []exchange{
		{method: "GET", path: original, status: 200, contentType: "image/png", headers: merge(bytesOK, map[string]string{"Content-Length": "5"})},
		{method: "HEAD", path: original, status: 200, contentType: "image/png", headers: bytesOK, emptyBody: true},
		{method: "GET", path: original, request: map[string]string{"Range": "bytes=1-2"}, status: 206, contentType: "image/png",
			headers: merge(bytesOK, map[string]string{"Content-Range": "bytes 1-2/5", "Content-Length": "2"})},
		{method: "GET", path: original, request: map[string]string{"Range": "bytes=9-"}, status: 416, problem: handler.ProblemRangeNotSatisfiable},
		{method: "GET", path: original, request: map[string]string{"If-None-Match": `"` + testID + `"`}, status: 304,
			headers: map[string]string{"ETag": `"` + testID + `"`, "Cache-Control": handler.CacheImmutable}, emptyBody: true},
		{method: "GET", path: original, request: map[string]string{"If-Match": `"other"`}, status: 412, problem: handler.ProblemPreconditionFailed},
		{method: "GET", path: "/images/NOT-AN-ID", status: 400, problem: handler.ProblemInvalidID, headers: noStore},
		{method: "HEAD", path: "/images/NOT-AN-ID/thumb", status: 400, contentType: handler.ContentTypeProblem, emptyBody: true},
		{method: "GET", path: original + "/variants/short", status: 400, problem: handler.ProblemInvalidID},
		{method: "GET", path: original + "/thumb", status: 404, problem: handler.ProblemNotFound, headers: noStore},
		{method: "GET", path: original + "/variants/" + otherID, status: 404, problem: handler.ProblemNotFound},
		{method: "GET", path: "/images/" + otherID, status: 404, problem: handler.ProblemNotFound},
		{method: "GET", path: original + "?redirect=elsewhere", status: 400, problem: handler.ProblemInvalidInput},
		{method: "GET", path: "/nope", status: 404, problem: handler.ProblemRouteNotFound},
		{method: "GET", path: RouteHealthz, status: 200, contentType: "application/json"},
		{method: "GET", path: RouteReadyz, status: 200, contentType: "application/json"},
		{method: "GET", path: RouteMetrics, status: 200, contentType: "text/plain"},
	}
	for _, path := range byteRoutes {
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			cases = append(cases, exchange{method: method, path: path, status: 405,
				problem: handler.ProblemMethodNotAllowed, headers: map[string]string{"Allow": "GET, HEAD"}})
		}
	}
	for _, path := range []string{RouteHealthz, RouteReadyz, RouteMetrics} {
		cases = append(cases, exchange{method: "POST", path: path, status: 405,
			problem: handler.ProblemMethodNotAllowed, headers: map[string]string{"Allow": "GET"}})
	}
	check(t, newTestServer(t, io.Discard).Handler(), cases)
}

// TestPrivateReadsAnswerTheirContract pins the signed-link answers: 403 without a valid
// signature or past the expiry, and a signed answer cached privately until the link ends.
func TestPrivateReadsAnswerTheirContract(t *testing.T) {
	signer, err := signing.New(signing.Config{Secret: strings.Repeat("k", signing.MinSecretLength)})
	if err != nil {
		t.Fatal(err)
	}
	links, err := handler.NewSignedLinks(signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed := original + "?" + signer.Sign(original, time.Now().Add(time.Hour))
	cases := []exchange{
		{method: "GET", path: original, status: 403, problem: handler.ProblemBadSignature, headers: noStore},
		{method: "GET", path: signed + "0", status: 403, problem: handler.ProblemBadSignature},
		{method: "GET", path: original + "?" + signer.Sign(original, time.Now().Add(-time.Minute)), status: 403,
			problem: handler.ProblemLinkExpired},
		{method: "GET", path: signed, status: 200, contentType: "image/png", headers: map[string]string{"ETag": `"` + testID + `"`}},
		{method: "HEAD", path: signed, status: 200, contentType: "image/png", emptyBody: true},
	}
	h := newTestServerWithLinks(t, io.Discard, links).Handler()
	check(t, h, cases)
	rec := send(h, exchange{method: "GET", path: signed})
	if got := rec.Header().Get("Cache-Control"); !strings.HasPrefix(got, handler.CachePrivatePrefix) {
		t.Errorf("signed GET Cache-Control = %q, want %s…", got, handler.CachePrivatePrefix)
	}
}

func check(t *testing.T, h http.Handler, cases []exchange) {
	t.Helper()
	for _, want := range cases {
		name := want.method + " " + want.path
		for k, v := range want.request {
			name += " " + k + ": " + v
		}
		t.Run(name, func(t *testing.T) {
			rec := send(h, want)
			if rec.Code != want.status {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, want.status, rec.Body.String())
			}
			contentType := want.contentType
			if want.problem != "" {
				contentType = handler.ContentTypeProblem
				if p := problemOf(t, rec); p.Type != handler.ProblemTypePrefix+string(want.problem) || p.Status != want.status {
					t.Errorf("problem = %+v, want %s", p, want.problem)
				}
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, contentType) {
				t.Errorf("Content-Type = %q, want %q", got, contentType)
			}
			for k, v := range want.headers {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if want.emptyBody && rec.Body.Len() != 0 {
				t.Errorf("body = %q, want none", rec.Body.String())
			}
		})
	}
}

func send(h http.Handler, x exchange) *httptest.ResponseRecorder {
	req := httptest.NewRequest(x.method, x.path, nil)
	for k, v := range x.request {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
