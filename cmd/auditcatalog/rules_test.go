package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The importer's rules, one row per case; the transcripts in testdata/
// show them at work on whole pages and descriptions.

func TestEventColumnsOf(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   eventColumns
		ok     bool
	}{
		{[]string{"Action", "Description"}, eventColumns{action: 0, desc: 1, req: -1, path: -1}, true},
		{[]string{"**Event name**", "API request", "Details"}, eventColumns{action: 0, desc: 2, req: 1, path: -1}, true},
		{[]string{"Description", "Action", "Outcome"}, eventColumns{action: 1, desc: 0, req: -1, path: -1, ignored: []int{2}}, true},
		{[]string{"Action name", "Legacy action name", "Description"}, eventColumns{action: 0, desc: 2, req: -1, path: -1, ignored: []int{1}}, true},
		// actions by API: the AT action column is the action, Action describes the call
		{[]string{"Action", "Method", "IAM action", "AT action"}, eventColumns{action: 3, desc: 0, req: 1, path: -1, byAPI: true, ignored: []int{2}}, true},
		{[]string{"Action", "Operation ID", "Method", "IAM ACTION", "AT ACTION"}, eventColumns{action: 4, desc: 0, req: 2, path: -1, byAPI: true, ignored: []int{1, 3}}, true},
		// a column a person reads as the request (issue 23)
		{[]string{"Action", "Methods", "Description"}, eventColumns{action: 0, desc: 2, req: 1, path: -1}, true},
		{[]string{"Event", "HTTP requests", "Summary"}, eventColumns{action: 0, desc: 2, req: 1, path: -1}, true},
		{[]string{"Action", "REST API"}, eventColumns{action: 0, desc: -1, req: 1, path: -1}, true},
		{[]string{"Action", "Operation", "Description"}, eventColumns{action: 0, desc: 2, req: 1, path: -1}, true},
		{[]string{"Action", "API endpoint"}, eventColumns{action: 0, desc: -1, req: 1, path: -1}, true},
		// a method column takes a path column along, in either order
		{[]string{"Action", "Path", "HTTP method", "Description"}, eventColumns{action: 0, desc: 3, req: 2, path: 1}, true},
		{[]string{"Action", "Verb", "Endpoint", "Route"}, eventColumns{action: 0, desc: -1, req: 1, path: 2, ignored: []int{3}}, true},
		{[]string{"Action", "Operation ID"}, eventColumns{action: 0, desc: -1, req: -1, path: -1, ignored: []int{1}}, true},
		{[]string{"Action", "Request body"}, eventColumns{action: 0, desc: -1, req: -1, path: -1, ignored: []int{1}}, true},
		{[]string{"Field", "Description"}, eventColumns{action: -1, desc: -1, req: -1, path: -1}, false},
		{[]string{"Severity", "Actions"}, eventColumns{action: -1, desc: -1, req: -1, path: -1}, false},
	} {
		got, ok := eventColumnsOf(row{cells: tc.header})
		assert.Equal(t, tc.ok, ok, "%q", tc.header)
		if ok {
			assert.Equal(t, tc.want, got, "%q", tc.header)
		}
	}
}

func TestEventColumnsOfTooWide(t *testing.T) {
	cells, over := splitRow("| Action | Description |"+strings.Repeat(" x |", maxColumns), nil)
	require.Len(t, cells, maxColumns)
	assert.Equal(t, 2, over)
	_, ok := eventColumnsOf(row{cells: cells, over: over})
	assert.False(t, ok, "a table wider than maxColumns is no event table")
}

func TestKindNamed(t *testing.T) {
	for text, want := range map[string]string{
		"actions that generate management events":                       "management",
		"actions that generate data events":                             "data",
		"dns zone events":                                               "dns-zone",
		"kmip protocol operation events":                                "kmip-protocol-operation",
		"workspace events where activity tracking events are sent":      "workspace",
		"events for cog wheels":                                         "cog-wheels",
		"events for the   link component":                               "link-component",
		"list of events: ipsec policy":                                  "ipsec-policy",
		"captures: list of management events":                           "management",
		"actions that generate events":                                  "",
		"the following table lists the actions that generate an event.": "",
		"other events":                                                  "",
		"global load balancers":                                         "",
	} {
		assert.Equal(t, want, kindNamed(text), "%q", text)
	}
}

func TestDeriveAction(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"POST", "/levers", "levers.lever.create"},
		{"GET", "/levers", "levers.lever-list.read"},
		{"GET", "/levers/{id}", "levers.lever.read"},
		{"HEAD", "/levers/{id}", "levers.lever.read"},
		{"PUT", "/levers/{id}", "levers.lever.update"},
		{"PATCH", "/levers/{id}", "levers.lever.update"},
		{"DELETE", "/levers/{id}", "levers.lever.delete"},
		{"GET", "/v1/levers/{id}/safetyCatches", "levers.safety-catch-list.read"},
		{"POST", "/v2/data-protect/protection-groups/{id}/runs", "levers.run.create"},
		{"GET", "/v2/data-protect/protection-groups", "levers.data-protect-protection-group-list.read"},
		{"GET", "/v1/lever_policies/{a}/{b}", "levers.lever-policy.read"},
		{"DELETE", "/v1/boxes/{id}", "levers.box.delete"},
		{"GET", "/v1/statuses/{id}/status", "levers.status-list.read"},
		{"HEAD", "/levers", "levers.lever-list.read"},
		{"DELETE", "/{id}", ""},
		{"GET", "/v1", ""},
		{"OPTIONS", "/levers", ""},
	} {
		got, why := deriveAction("levers", tc.method, tc.path)
		assert.Equal(t, tc.want, got, "%s %s", tc.method, tc.path)
		assert.Equal(t, tc.want == "", why != "", "%s %s: why %q", tc.method, tc.path, why)
	}
}

func TestSingular(t *testing.T) {
	for in, want := range map[string]string{
		"things": "thing", "policies": "policy", "addresses": "address", "boxes": "box", "batches": "batch",
		"status": "status", "analysis": "analysis", "access": "access", "safety-catches": "safety-catch",
		"data": "data", "s": "s",
	} {
		assert.Equal(t, want, singular(in), in)
	}
}
