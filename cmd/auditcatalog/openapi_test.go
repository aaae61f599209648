package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/catalog"
)

// TestDeriveActionReadsLikeBuiltins holds the OpenAPI import's names for
// reads to the provider's convention, as its own catalogs show it: every
// read of a built-in catalog (a GET the provider names ….read) is named as
// deriveAction names it, a collection's (the route ends with a literal)
// service.object-list.read, an item's service.object.read. The object
// itself is the provider's choice (custom-language-model for
// /v1/customizations) and is not compared, nor are GETs the provider names
// with another verb (download), which x-audit-action names.
func TestDeriveActionReadsLikeBuiltins(t *testing.T) {
	gets := 0
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		require.NoError(t, err)
		for _, e := range c.Events {
			if e.Kind != catalog.KindAPI || e.Method != "GET" || readKind(e.Action) == "other" {
				continue
			}
			gets++
			derived, why := deriveAction(c.Service, e.Method, e.Route)
			require.NotEmpty(t, derived, "%s %s: %s", e.Method, e.Route, why)
			assert.Equal(t, readKind(e.Action), readKind(derived), "%s %s: the provider's %s, imported as %s", e.Method, e.Route, e.Action, derived)
		}
	}
	assert.GreaterOrEqual(t, gets, 10, "the built-in catalogs' reads")
}

// readKind says how an action reads: "list" (….object-list.read), "item"
// (….object.read) or "other".
func readKind(action string) string {
	switch {
	case strings.HasSuffix(action, "-list.read"):
		return "list"
	case strings.HasSuffix(action, ".read"):
		return "item"
	}
	return "other"
}
