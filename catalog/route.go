package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// A route, template or regular expression, is parsed once into a pattern:
// a list of path elements and what the path may do after the last one.

type elemKind uint8

const (
	elemLiteral elemKind = iota // exactly this segment
	elemParam                   // one non-empty segment, maybe constrained by a regex
	elemRest                    // the rest of the path: one or more segments
)

type elem struct {
	kind elemKind
	// lit is the segment of a literal; lower case when fold is set.
	lit string
	// fold makes a literal match its segment in any ASCII letter case.
	fold bool
	// constraint is the regex source that a param's segment must match; "" for any.
	constraint string
	// check tests a constrained param's segment; nil for any.
	check func(string) bool
	// allowEmpty lets a rest match a single empty segment (".*").
	allowEmpty bool
}

type trailing uint8

const (
	trailNone     trailing = iota // the path ends after the last element
	trailRequired                 // the path ends with one more "/"
	trailOptional                 // either
)

type pattern struct {
	elems []elem
	trail trailing
}

// maxElems bounds a route's segments, so relation checks stay small.
const maxElems = 40

var errTooLong = fmt.Errorf("more than %d segments", maxElems)

// parseRoute parses a catalog route. Templates use "{name}" for one segment,
// "{name...}" for the rest of the path, which may be empty as in ServeMux
// ("/files/{p...}" matches "/files/"; last only) and "{$}" for a required
// trailing slash (last only). Regular expressions are anchored at both ends
// and read segment by segment: a literal, ".+" or ".*" for one or more whole
// segments, or a regex for one segment; a final "[/]?" or "/?" makes the
// trailing slash optional.
func parseRoute(route string, isRegex bool) (pattern, error) {
	if isRegex {
		return parseRegexRoute(route)
	}
	return parseTemplate(route)
}

// routeOf parses the route of an API event, folded when fold is set (its
// catalog is compiled case-insensitive).
func routeOf(ev *Event, fold bool) (pattern, error) {
	p, err := parseRoute(ev.Route, ev.RouteIsRegex)
	if err != nil || !fold {
		return p, err
	}
	return p.folded()
}

// folded returns the pattern matching in any ASCII letter case: literals
// with letters become lower-case folding literals and constraint regexes
// match case-insensitively. Digit-only constraints are left as they are.
func (p pattern) folded() (pattern, error) {
	elems := slices.Clone(p.elems)
	for i, e := range elems {
		switch {
		case e.kind == elemLiteral && lowerASCII(e.lit) != upperASCII(e.lit):
			elems[i].lit, elems[i].fold = lowerASCII(e.lit), true
		case e.kind == elemParam && e.check != nil && e.constraint != `\d+` && e.constraint != `[0-9]+`:
			re, err := regexp.Compile(`^(?i:` + e.constraint + `)$`)
			if err != nil {
				return p, fmt.Errorf("segment %q: %w", e.constraint, err)
			}
			elems[i].constraint, elems[i].check = "(?i)"+e.constraint, re.MatchString
		}
	}
	return pattern{elems: elems, trail: p.trail}, nil
}

// lowerASCII and upperASCII change the case of ASCII letters only, as the
// matcher compares folding literals.
func lowerASCII(s string) string { return mapASCII(s, 'A', 'Z', 'a'-'A') }
func upperASCII(s string) string { return mapASCII(s, 'a', 'z', 'A'-'a') }

func mapASCII(s string, lo, hi byte, delta int) string {
	i := 0
	for i < len(s) && (s[i] < lo || hi < s[i]) {
		i++
	}
	if i == len(s) {
		return s // nothing to change, the common case: no copy
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; lo <= c && c <= hi {
			b[i] = byte(int(c) + delta)
		}
	}
	return string(b)
}

// foldEqual tells whether s equals the lower-case literal lit in ASCII case.
func foldEqual(s, lit string) bool {
	if len(s) != len(lit) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}

func parseTemplate(route string) (pattern, error) {
	var p pattern
	if !strings.HasPrefix(route, "/") {
		return p, errors.New("must start with /")
	}
	body := route[1:]
	switch {
	case strings.HasSuffix(body, "/{$}"):
		body, p.trail = strings.TrimSuffix(body, "/{$}"), trailRequired
	case body == "{$}" || body == "":
		return pattern{trail: trailRequired}, nil
	case strings.HasSuffix(body, "/"):
		body, p.trail = strings.TrimSuffix(body, "/"), trailRequired
	}
	segs := strings.Split(body, "/")
	if len(segs) > maxElems {
		return p, errTooLong
	}
	p.elems = make([]elem, 0, len(segs))
	for i, seg := range segs {
		switch {
		case seg == "":
			return p, errors.New("empty segment (//)")
		case seg == "{$}":
			return p, errors.New("{$} may only end a route")
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}"):
			if i != len(segs)-1 {
				return p, fmt.Errorf("%s may only end a route", seg)
			}
			if p.trail != trailNone {
				return p, fmt.Errorf("%s cannot be followed by /", seg)
			}
			p.elems = append(p.elems, elem{kind: elemRest, allowEmpty: true}) // as ServeMux: the remainder may be empty
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			name := seg[1 : len(seg)-1]
			if name == "" || strings.ContainsAny(name, "{}") {
				return p, fmt.Errorf("bad wildcard %q", seg)
			}
			p.elems = append(p.elems, elem{kind: elemParam})
		case strings.ContainsAny(seg, "{}"):
			return p, fmt.Errorf("bad wildcard in segment %q: a wildcard is a whole segment", seg)
		default:
			p.elems = append(p.elems, elem{kind: elemLiteral, lit: seg})
		}
	}
	return p, nil
}

func parseRegexRoute(route string) (pattern, error) {
	p, plain, err := parseRegexBody(route)
	// A route of plain segments is a valid regex. Any other is checked as a
	// whole, before what is wrong with its segments is reported. (regexp.Compile
	// would report the same errors: they all come from syntax.Parse.)
	if err != nil || !plain {
		if _, rerr := syntax.Parse(route, syntax.Perl); rerr != nil {
			return pattern{}, fmt.Errorf("invalid regex: %w", rerr)
		}
	}
	return p, err
}

// parseRegexBody parses a regex route segment by segment; plain says every
// segment is plain (see plainSegment).
func parseRegexBody(route string) (p pattern, plain bool, err error) {
	body := strings.TrimPrefix(route, "^")
	body = strings.TrimSuffix(body, "$")
	switch {
	case strings.HasSuffix(body, "[/]?"):
		body, p.trail = strings.TrimSuffix(body, "[/]?"), trailOptional
	case strings.HasSuffix(body, "/?") && !strings.HasSuffix(body, `\/?`):
		body, p.trail = strings.TrimSuffix(body, "/?"), trailOptional
	}
	if !strings.HasPrefix(body, "/") {
		return p, false, errors.New("must start with /")
	}
	body = body[1:]
	if body == "" {
		if p.trail == trailOptional {
			return p, false, errors.New("matches only the root path: write / as a template")
		}
		return pattern{trail: trailRequired}, true, nil
	}
	if strings.HasSuffix(body, "/") {
		if p.trail != trailNone {
			return p, false, errors.New("ends with two slashes")
		}
		body, p.trail = strings.TrimSuffix(body, "/"), trailRequired
	}
	segs := splitRegex(body)
	if len(segs) > maxElems {
		return p, false, errTooLong
	}
	p.elems = make([]elem, 0, len(segs))
	plain = true
	for _, seg := range segs {
		e, err := parseRegexSegment(seg)
		if err != nil {
			return p, false, err
		}
		p.elems = append(p.elems, e)
		plain = plain && plainSegment(seg)
	}
	return p, plain, nil
}

// splitRegex splits a regex at the slashes that are not escaped, in a
// character class or in a group.
func splitRegex(re string) []string {
	var segs []string
	depth, class, start := 0, false, 0
	for i := 0; i < len(re); i++ {
		switch c := re[i]; {
		case c == '\\':
			i++
		case class:
			class = c != ']'
		case c == '[':
			class = true
			if i+1 < len(re) && re[i+1] == ']' { // "[]...]": the ] is literal
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '/' && depth == 0:
			segs = append(segs, re[start:i])
			start = i + 1
		}
	}
	return append(segs, re[start:])
}

func parseRegexSegment(seg string) (elem, error) {
	switch seg {
	case "":
		return elem{}, errors.New("empty segment (//)")
	case ".+":
		return elem{kind: elemRest}, nil
	case ".*":
		return elem{kind: elemRest, allowEmpty: true}, nil
	case "[^/]+":
		return elem{kind: elemParam}, nil
	case `\d+`, `[0-9]+`:
		return elem{kind: elemParam, constraint: seg, check: allDigits}, nil
	}
	if plainText(seg) {
		// the most common segment: what syntax.Parse would find, without
		// parsing
		return elem{kind: elemLiteral, lit: seg}, nil
	}
	re, err := syntax.Parse(seg, syntax.Perl)
	if err != nil {
		return elem{}, fmt.Errorf("segment %q: a regex may use / only between segments (%w)", seg, err)
	}
	re = re.Simplify()
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase == 0 {
		return elem{kind: elemLiteral, lit: string(re.Rune)}, nil
	}
	if re.Op == syntax.OpEmptyMatch {
		return elem{}, fmt.Errorf("segment %q matches only the empty string", seg)
	}
	compiled, err := regexp.Compile(`^(?:` + seg + `)$`)
	if err != nil {
		return elem{}, fmt.Errorf("segment %q: %w", seg, err)
	}
	return elem{kind: elemParam, constraint: seg, check: compiled.MatchString}, nil
}

// plainSegment tells whether parseRegexSegment reads seg without parsing
// it: a wildcard it knows or plain text. Both are valid regexes.
func plainSegment(seg string) bool {
	switch seg {
	case ".+", ".*", "[^/]+", `\d+`, `[0-9]+`:
		return true
	}
	return seg != "" && plainText(seg)
}

// plainText tells whether s is a regex that matches itself only: valid
// UTF-8 without the metacharacters that regexp.QuoteMeta escapes.
func plainText(s string) bool {
	return !strings.ContainsAny(s, `\.+*?()|[]{}^$`) && utf8.ValidString(s)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sample returns a short string that a constrained param accepts, or "" when
// none was found.
func sample(e elem) string {
	re, err := syntax.Parse(e.constraint, syntax.Perl)
	if err != nil {
		return ""
	}
	var b strings.Builder
	gen(&b, re.Simplify())
	if s := b.String(); s != "" && e.check(s) {
		return s
	}
	for _, s := range []string{"0", "1", "a", "x1", "A", "abc", "0a", "_", "-"} {
		if e.check(s) {
			return s
		}
	}
	return ""
}

// gen writes a shortest string the regex matches (best effort).
func gen(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) > 0 {
			b.WriteRune(re.Rune[0])
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture:
		gen(b, re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			gen(b, s)
		}
	case syntax.OpAlternate:
		gen(b, re.Sub[0])
	case syntax.OpPlus:
		gen(b, re.Sub[0])
	case syntax.OpRepeat:
		for i := 0; i < re.Min; i++ {
			gen(b, re.Sub[0])
		}
	}
}

// segKind classifies a segment of a route template reported by telemetry.
type segKind uint8

const (
	segLiteral segKind = iota
	segParam           // {id}, {id:int}, {id?}, :id, <id>, <int:id>
	segRest            // {rest...}, {*path}, {**path}, <path:p>, *, :p*
)

// classifySegment tells what a segment of a reported route template stands
// for, in the syntaxes of common frameworks (Go ServeMux, Express, Flask,
// Spring, ASP.NET Core).
func classifySegment(seg string) segKind {
	// most segments are literals: this much is inlined where it is called
	if seg == "" {
		return segLiteral
	}
	switch seg[0] {
	case '{', ':', '<', '*', '(':
		return classifyWildcard(seg)
	}
	return segLiteral
}

// classifyWildcard classifies a segment that starts like a wildcard.
func classifyWildcard(seg string) segKind {
	switch seg[0] {
	case '{':
		if seg[len(seg)-1] != '}' {
			return segLiteral
		}
		if strings.HasSuffix(seg, "...}") || strings.HasPrefix(seg, "{*") {
			return segRest
		}
		return segParam
	case ':':
		if len(seg) == 1 {
			return segLiteral
		}
		if c := seg[len(seg)-1]; c == '*' || c == '+' {
			return segRest
		}
		return segParam
	case '<':
		if seg[len(seg)-1] != '>' {
			return segLiteral
		}
		if strings.HasPrefix(seg, "<path:") {
			return segRest
		}
		return segParam
	case '*':
		return segRest
	}
	if seg == "(.*)" {
		return segRest
	}
	return segLiteral
}
