// Package routeregexp writes a catalog route as the Go regular expression it
// means, from the route's text alone. It is the oracle of the tests that
// check the catalog's matcher and route relation, and the processor against
// net/http's ServeMux: it shares nothing with the code they check.
package routeregexp // import "github.com/otel-audit/auditprocessor/internal/routeregexp"

import (
	"regexp"
	"strings"
)

// Of returns the route as an anchored regular expression: a regex route as
// written, anchored at both ends; a template with [^/]+ for a parameter, .*
// for {name...} (as ServeMux's, the rest may be empty) and a trailing slash
// for {$} or a final /. fold makes it case-insensitive (a catalog compiled
// with case_insensitive). It panics on a regex route that does not compile.
func Of(route string, isRegex, fold bool) *regexp.Regexp {
	flags := ""
	if fold {
		flags = "(?i)"
	}
	if isRegex {
		re := strings.TrimSuffix(strings.TrimPrefix(route, "^"), "$")
		return regexp.MustCompile(flags + `^(?:` + re + `)$`)
	}
	var b strings.Builder
	b.WriteString(flags + "^")
	for _, s := range strings.Split(strings.TrimPrefix(route, "/"), "/") {
		switch {
		case s == "{$}" || s == "":
			b.WriteString("/")
		case strings.HasSuffix(s, "...}"):
			b.WriteString("/.*")
		case strings.HasPrefix(s, "{"):
			b.WriteString("/[^/]+")
		default:
			b.WriteString("/" + regexp.QuoteMeta(s))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
