package handler

import (
	"net/url"
	"testing"
)

func TestQueryValueAgreesWithURLValues(t *testing.T) {
	for _, raw := range []string{
		"", "exp=1&sig=abc", "sig=abc&exp=1", "exp=1&exp=2", "exp=&sig=", "exp", "a=1&&exp=3", "e%78p=4&sig=a%2Bb",
		"exp=1+2", "redirect=storage", "redirect", "exp=%zz", "x=1;exp=2",
	} {
		values, _ := url.ParseQuery(raw)
		for _, key := range []string{"exp", "sig", "redirect"} {
			got, ok := queryValue(raw, key)
			want, wantOK := values.Get(key), values.Has(key)
			if raw == "exp=%zz" && key == "exp" { // ParseQuery drops a malformed pair; the check refuses it
				want, wantOK = "%zz", true
			}
			if got != want || ok != wantOK {
				t.Errorf("%q[%s] = %q, %v; url.Values says %q, %v", raw, key, got, ok, want, wantOK)
			}
		}
	}
}
