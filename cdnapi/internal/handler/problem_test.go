package handler_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/imagesearch/cdnapi/internal/handler"
)

// TestProblemTypesMatchThePythonServices pins every code's type URI, status and title to the
// scheme of shared/web.py: "urn:imagesearch:problem:<code>" and its short titles.
func TestProblemTypesMatchThePythonServices(t *testing.T) {
	cases := []struct {
		code   handler.ProblemCode
		typ    string
		status int
		title  string
	}{
		{handler.ProblemInvalidID, "urn:imagesearch:problem:invalid-id", 400, "Invalid request"},
		{handler.ProblemLinkExpired, "urn:imagesearch:problem:link-expired", 403, "Forbidden"},
		{handler.ProblemBadSignature, "urn:imagesearch:problem:bad-signature", 403, "Forbidden"},
		{handler.ProblemNotFound, "urn:imagesearch:problem:not-found", 404, "Not found"},
		{handler.ProblemRouteNotFound, "urn:imagesearch:problem:http-404", 404, "Not found"},
		{handler.ProblemMethodNotAllowed, "urn:imagesearch:problem:http-405", 405, "Method not allowed"},
		{handler.ProblemPreconditionFailed, "urn:imagesearch:problem:precondition-failed", 412, "Precondition failed"},
		{handler.ProblemRangeNotSatisfiable, "urn:imagesearch:problem:range-not-satisfiable", 416, "Range not satisfiable"},
		{handler.ProblemDependencyUnavailable, "urn:imagesearch:problem:dependency-unavailable", 503, "Service unavailable"},
		{handler.ProblemInternal, "urn:imagesearch:problem:internal", 500, "Internal error"},
		{handler.ProblemCode("no-such-code"), "urn:imagesearch:problem:internal", 500, "Internal error"},
	}
	gin.SetMode(gin.TestMode)
	for _, tc := range cases {
		if tc.code.Type() != tc.typ || tc.code.Status() != tc.status || tc.code.Title() != tc.title {
			t.Errorf("%s: type %q status %d title %q, want %q %d %q", tc.code,
				tc.code.Type(), tc.code.Status(), tc.code.Title(), tc.typ, tc.status, tc.title)
		}
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodGet, "/x", nil)
		handler.WriteProblem(c, tc.code, "because")
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %v: %q", tc.code, err, rec.Body.String())
		}
		want := map[string]any{"type": tc.typ, "title": tc.title, "status": float64(tc.status), "detail": "because"}
		if rec.Code != tc.status || len(body) != len(want) {
			t.Errorf("%s: status %d, body %v", tc.code, rec.Code, body)
		}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("%s: %s = %v, want %v", tc.code, k, body[k], v)
			}
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: Content-Type %q", tc.code, ct)
		}
		wantRetry := ""
		if tc.status == http.StatusServiceUnavailable {
			wantRetry = "5" // as the Python services answer dependency-unavailable
		}
		if got := rec.Header().Get("Retry-After"); got != wantRetry {
			t.Errorf("%s: Retry-After %q, want %q", tc.code, got, wantRetry)
		}
	}
}
