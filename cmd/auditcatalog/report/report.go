// Package report declares what auditcatalog coverage and verify report of
// a recording: the shape of their --json output, which the end-to-end tests
// read too.
package report // import "github.com/otel-audit/auditprocessor/cmd/auditcatalog/report"

// Coverage is what auditcatalog coverage reports of a recording: the
// shape of its --json output, and what its table prints.
type Coverage struct {
	Spans      int              `json:"spans"`
	LogRecords int              `json:"log_records"`
	HTTP       int              `json:"http_records"`
	Matched    int              `json:"matched"`
	Unmatched  int              `json:"unmatched"`
	Malformed  int              `json:"malformed"`
	Refused    int              `json:"refused"`
	Actions    []ActionCount    `json:"actions"`
	Routes     []UnmatchedRoute `json:"unmatched_routes"`
}

// ActionCount is how many records a catalog action had.
type ActionCount struct {
	Action  string `json:"action"`
	Catalog string `json:"catalog"`
	Records int    `json:"records"`
}

// UnmatchedRoute is a method and route (or path) no catalog event matched,
// and how many records had it.
type UnmatchedRoute struct {
	Method string `json:"method"`
	Route  string `json:"route"`
	// From is "route" for a route the server reported, "path" for a concrete path.
	From    string `json:"from"`
	Records int    `json:"records"`
}
