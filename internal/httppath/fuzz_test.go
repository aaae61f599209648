package httppath

import (
	"strings"
	"testing"
)

// FuzzExtract checks that path extraction and canonicalisation never panic,
// that what they return is a path, and that a canonical path has no dot
// segments or repeated slashes left from its escaped form.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"/v1/customizations?x=1", "http://h/v1/x#f", "*", "", "//a/./b/../c/", "/a%2Fb/%zz", "https://h", "/\xff/%2e%2e/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, extract := range []func(string) (string, bool){FromTarget, FromURL} {
			if p, ok := extract(s); ok && !strings.HasPrefix(p, "/") {
				t.Fatalf("%q gave path %q", s, p)
			}
		}
		c, ok := Canonical(s)
		if !ok {
			return
		}
		if !strings.HasPrefix(c, "/") {
			t.Fatalf("%q gave %q", s, c)
		}
		if !strings.Contains(s, "%") && (strings.Contains(c, "//") || strings.Contains(c, "/./") || strings.Contains(c, "/../")) {
			t.Fatalf("%q gave %q, not clean", s, c)
		}
	})
}
