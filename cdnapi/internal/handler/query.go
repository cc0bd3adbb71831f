package handler

import (
	"net/url"
	"strings"
)

// queryValue returns the first value of key in the raw query string, unescaped, and whether key
// is there: what url.Values.Get says, without building the map of every parameter on each request.
func queryValue(rawQuery, key string) (string, bool) {
	for rawQuery != "" {
		var param string
		param, rawQuery, _ = strings.Cut(rawQuery, "&")
		name, value, _ := strings.Cut(param, "=")
		if name != key && (!strings.ContainsAny(name, "%+") || unescape(name) != key) {
			continue
		}
		if strings.ContainsAny(value, "%+") {
			value = unescape(value)
		}
		return value, true
	}
	return "", false
}

// unescape decodes a query component; a malformed one is kept as it is, and fails later checks.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
