// Package httppath extracts the request path from the forms HTTP telemetry
// reports it in, without allocating.
package httppath // import "github.com/otel-audit/auditprocessor/internal/httppath"

import "strings"

// FromTarget returns the path of a request target (http.target): the query
// and fragment are cut off, and an absolute-form target
// ("http://host/path?q") gives its path. ok is false when no path is there.
func FromTarget(target string) (path string, ok bool) {
	if strings.HasPrefix(target, "/") {
		return cutQuery(target), true
	}
	return FromURL(target)
}

// FromURL returns the path of an absolute URL (url.full, http.url), with the
// query and fragment cut off; a URL with a host and no path has path "/".
func FromURL(u string) (path string, ok bool) {
	i := strings.Index(u, "://")
	if i <= 0 || strings.ContainsAny(u[:i], "/?#") {
		return "", false
	}
	rest := u[i+3:]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 || rest[j] != '/' {
		if len(rest) == 0 {
			return "", false
		}
		return "/", true
	}
	return cutQuery(rest[j:]), true
}

func cutQuery(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}
