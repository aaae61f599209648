// Package httppath extracts the request path from the forms HTTP telemetry
// reports it in, without allocating.
package httppath // import "github.com/otel-audit/auditprocessor/internal/httppath"

import (
	"path"
	"strings"
)

// FromTarget returns the path of a request target (http.target): the query
// and fragment are cut off, and an absolute-form target
// ("http://host/path?q") gives its path. ok is false when no path is there.
func FromTarget(target string) (path string, ok bool) {
	if strings.HasPrefix(target, "/") {
		return cutQuery(target), true
	}
	return FromURL(target)
}

// FromURL returns the path of an absolute URL (url.full, http.url, or an
// absolute-form http.target), with the query and fragment cut off: after the
// authority of "scheme://host/path", or right after "scheme:" when a "/"
// follows (Go's server routes "a:/v1/x" to /v1/x). A URL with a host and no
// path has path "/". ok is false without a valid scheme or a path.
func FromURL(u string) (path string, ok bool) {
	i := schemeEnd(u)
	if i <= 0 {
		return "", false
	}
	rest := u[i+1:]
	if !strings.HasPrefix(rest, "//") {
		if strings.HasPrefix(rest, "/") {
			return cutQuery(rest), true
		}
		return "", false
	}
	rest = rest[2:]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 || rest[j] != '/' {
		if len(rest) == 0 {
			return "", false
		}
		return "/", true
	}
	return cutQuery(rest[j:]), true
}

// schemeEnd returns the index of the ":" that ends a URL's scheme (a letter,
// then letters, digits, "+", "-" or "."), or -1.
func schemeEnd(u string) int {
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

func cutQuery(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

// Canonical returns the path as a router sees it, so that a request cannot
// hide its route behind another spelling of its path. It follows Go's
// net/http.ServeMux: the escaped path is cleaned first (repeated slashes
// collapse, "." and ".." segments are resolved, a trailing slash is kept),
// then each segment is percent-decoded, except that "%2F" stays as it is
// so that it does not split its segment. ok is false for a path that does
// not start with "/" or holds an invalid percent-encoding (a server
// rejects such a request). A path that needs no change is returned as is,
// without allocating.
func Canonical(p string) (string, bool) {
	if p == "" || p[0] != '/' {
		return "", false
	}
	if needsClean(p) {
		p = clean(p)
	}
	if strings.IndexByte(p, '%') < 0 {
		return p, true
	}
	return unescape(p)
}

// needsClean tells whether p has a repeated slash or a "." or ".." segment.
// Most paths have no dot at all: one vectorised search for it spares them
// the searches for the dot segments.
func needsClean(p string) bool {
	if strings.Contains(p, "//") {
		return true
	}
	if strings.IndexByte(p, '.') < 0 {
		return false
	}
	return strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
}

// clean resolves dot segments and repeated slashes and keeps a trailing
// slash, as ServeMux does.
func clean(p string) string {
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c
}

func unescape(p string) (string, bool) {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", false
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		if d == '/' {
			b.WriteString("%2F")
		} else {
			b.WriteByte(d)
		}
		i += 2
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
