package httppath

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromTarget(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"/v1/customizations", "/v1/customizations", true},
		{"/v1/customizations?x=1", "/v1/customizations", true},
		{"/v1/customizations#frag", "/v1/customizations", true},
		{"/v1/a?b=/c#d", "/v1/a", true},
		{"/", "/", true},
		{"http://example.test/v1/x?y", "/v1/x", true},
		{"https://example.test:8443/v1/x", "/v1/x", true},
		{"https://example.test", "/", true},
		{"https://example.test?q=1", "/", true},
		{"*", "", false},
		{"", "", false},
		{"v1/x", "", false},
		{"://nohost/x", "", false},
		{"https://", "", false},
	} {
		got, ok := FromTarget(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
	}
}
