package catalog

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestZoneRegion(t *testing.T) {
	for _, tc := range []struct {
		id, region string
		ok         bool
	}{
		{"eu-de-2", "eu-de", true},
		{"us-south-10", "us-south", true},
		{"eu-de", "", false},
		{"eu-de-", "", false},
		{"eu-de-2a", "", false},
		{"-2", "", false},
		{"eu", "", false},
	} {
		region, ok := ZoneRegion(tc.id)
		assert.Equal(t, tc.region, region, tc.id)
		assert.Equal(t, tc.ok, ok, tc.id)
	}
}
