package routeregexp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		route       string
		regex, fold bool
		want        string
	}{
		{"/v1/customizations/{id}", false, false, `^/v1/customizations/[^/]+$`},
		{"/files/{path...}", false, false, `^/files/.*$`},
		{"/a/{$}", false, false, `^/a/$`},
		{"/a/", false, false, `^/a/$`},
		{"/v1.0/x", false, true, `(?i)^/v1\.0/x$`},
		{"^/v2/groups/.+/runs[/]?$", true, false, `^(?:/v2/groups/.+/runs[/]?)$`},
	} {
		assert.Equal(t, tc.want, Of(tc.route, tc.regex, tc.fold).String(), tc.route)
	}
}
