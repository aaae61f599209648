package catalog

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concrete turns a catalog route into a path a client could send.
func concrete(p pattern) string {
	var b strings.Builder
	for i, e := range p.elems {
		b.WriteByte('/')
		switch {
		case e.kind == elemLiteral:
			b.WriteString(e.lit)
		case e.check != nil:
			b.WriteString("4711")
		default:
			fmt.Fprintf(&b, "id-%d", i)
		}
	}
	if p.trail == trailRequired || len(p.elems) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// template writes a catalog route in a framework's route syntax; name turns
// the i-th parameter into that syntax. Regex rests become one parameter, as
// a server that routes them would declare.
func template(p pattern, name func(i int) string, leadingSlash bool) string {
	var segs []string
	for i, e := range p.elems {
		if e.kind == elemLiteral {
			segs = append(segs, e.lit)
		} else {
			segs = append(segs, name(i))
		}
	}
	s := strings.Join(segs, "/")
	if leadingSlash {
		s = "/" + s
	}
	return s
}

var syntaxes = []struct {
	name  string
	param func(i int) string
	slash bool
}{
	{"servemux", func(i int) string { return fmt.Sprintf("{p%d}", i) }, true},
	{"express", func(i int) string { return fmt.Sprintf(":p%d", i) }, true},
	{"flask", func(i int) string { return fmt.Sprintf("<p%d>", i) }, true},
	{"flask-int", func(i int) string { return fmt.Sprintf("<int:p%d>", i) }, true},
	{"spring", func(i int) string { return fmt.Sprintf("{id%d}", i) }, true},
	{"aspnet", func(i int) string { return fmt.Sprintf("{p%d:int}", i) }, false},
	{"aspnet-optional", func(i int) string { return fmt.Sprintf("{p%d?}", i) }, false},
}

// TestRegexRoutesWithoutParsing: a route of plain segments is accepted
// without parsing it whole, and every route reads as when each was parsed
// whole first, errors included.
func TestRegexRoutesWithoutParsing(t *testing.T) {
	reference := func(route string) (pattern, error) {
		if _, err := regexp.Compile(route); err != nil {
			return pattern{}, fmt.Errorf("invalid regex: %w", err)
		}
		p, _, err := parseRegexBody(route)
		return p, err
	}
	show := func(p pattern) string {
		var b strings.Builder
		for _, e := range p.elems {
			fmt.Fprintf(&b, "%d %q %t %q %t %t|", e.kind, e.lit, e.fold, e.constraint, e.check != nil, e.allowEmpty)
		}
		return fmt.Sprintf("%s trail %d", b.String(), p.trail)
	}
	routes := []string{
		"/", "^/$", "/[/]?", "/a", "^/a/b$", "/a/b/", "/a/b[/]?", "/a/b/?", `/a/b\/?`, "/a//b", "/a/b//?",
		"/a/.+", "/a/.*/b[/]?$", `/a/\d+/b`, "/a/[0-9]+", "/a/[^/]+", "/a/[a-z]+/b", "/a(/b)", "/a/(", "/a/b)",
		"^^/a", "/a$$", "a/b", "/a/\xff", "/a/\u212a", "/caf\u00e9/x",
	}
	for _, c := range builtins(t) {
		for _, ev := range c.Events {
			if ev.RouteIsRegex {
				routes = append(routes, ev.Route)
			}
		}
	}
	for _, route := range routes {
		want, wantErr := reference(route)
		got, gotErr := parseRegexRoute(route)
		if wantErr != nil {
			assert.EqualError(t, gotErr, wantErr.Error(), route)
			continue
		}
		require.NoError(t, gotErr, route)
		assert.Equal(t, show(want), show(got), route)
	}
}

// TestRegexSegmentLiterals: a segment without regex metacharacters is read
// as the literal that syntax.Parse finds in it, without parsing.
func TestRegexSegmentLiterals(t *testing.T) {
	for _, seg := range []string{"v1", "data-protect", "a", "x_y~z", "caf\u00e9", "a,b=c;d:e@f!g'h\"", "\u212a", " ", "#"} {
		e, err := parseRegexSegment(seg)
		require.NoError(t, err, seg)
		re, err := syntax.Parse(seg, syntax.Perl)
		require.NoError(t, err, seg)
		re = re.Simplify()
		require.Equal(t, syntax.OpLiteral, re.Op, seg)
		assert.Equal(t, elem{kind: elemLiteral, lit: string(re.Rune)}, e, seg)
	}
	// not plain: parsed
	e, err := parseRegexSegment(`data\-protect`)
	require.NoError(t, err)
	assert.Equal(t, elem{kind: elemLiteral, lit: "data-protect"}, e)
	_, err = parseRegexSegment("\xff")
	assert.Error(t, err)
}
