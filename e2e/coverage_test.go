package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/cmd/auditcatalog/report"
	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// auditcatalogBinary builds the repository's cmd/auditcatalog into a
// temporary directory. The command belongs to the root module, which this
// module does not require, so it is built there, from the repository root:
// a checkout and Go are all it needs.
func auditcatalogBinary(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "auditcatalog")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/auditcatalog")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/auditcatalog:\n%s", out)
	return bin
}

// routeKey is an unmatched route without its count.
type routeKey struct{ method, route, from string }

// checkCoverage runs auditcatalog coverage on what backend recorded, as JSON
// and as a table, and checks both against reqs, the requests whose records
// the recording holds.
func checkCoverage(t *testing.T, tool string, backend *harness.Backend, reqs []request) {
	files := []string{backend.TracesFile, backend.LogsFile}

	out := runTool(t, tool, append([]string{"coverage", "--json"}, files...)...)
	var rep report.Coverage
	require.NoError(t, json.Unmarshal([]byte(out), &rep), "coverage --json output:\n%s", out)
	t.Run("json", func(t *testing.T) { assertCoverage(t, rep, reqs) })

	out = runTool(t, tool, append([]string{"coverage"}, files...)...)
	t.Run("table", func(t *testing.T) {
		table, err := parseCoverageTable(out)
		require.NoError(t, err, "coverage output:\n%s", out)
		assertCoverage(t, table, reqs)
		if t.Failed() {
			t.Logf("coverage output:\n%s", out)
		}
	})
}

func runTool(t *testing.T, tool string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	out, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "auditcatalog %s\n%s", strings.Join(args, " "), stderr)
	return string(out)
}

// assertCoverage checks a coverage report of a recording of reqs. Each
// request gave the collector one server span and one access-log record, and
// the two read alike: the same method and path, the same route (otelhttp
// puts it in the span name "{METHOD} {route}", the access log in http.route)
// and so the same catalog action.
func assertCoverage(t *testing.T, got report.Coverage, reqs []request) {
	wantActions := map[string]int{}
	wantRoutes := map[routeKey]int{}
	matched := 0
	for _, r := range reqs {
		if r.action != "" {
			matched++
			wantActions[r.action] += 2
			continue
		}
		path, _, _ := strings.Cut(r.target, "?")
		key := routeKey{r.method, path, "path"}
		if route := servedRoute(r); route != "" {
			key = routeKey{r.method, route, "route"}
		}
		wantRoutes[key] += 2
	}
	n := len(reqs)
	assert.Equal(t, []int{n, n, 2 * n, 2 * matched, 2 * (n - matched), 0},
		[]int{got.Spans, got.LogRecords, got.HTTP, got.Matched, got.Unmatched, got.Malformed},
		"spans, log records, HTTP records, matched, unmatched, malformed")

	// Every action of the catalogs is listed, with 0 for those never sent.
	listed := map[string]bool{}
	for _, a := range got.Actions {
		assert.False(t, listed[a.Action], "%s listed twice", a.Action)
		listed[a.Action] = true
		assert.Equal(t, wantActions[a.Action], a.Records, "records of %s", a.Action)
		service, _, _ := strings.Cut(a.Action, ".")
		assert.Equal(t, "builtin:"+service, a.Catalog, "catalog of %s", a.Action)
	}
	for action := range wantActions {
		assert.True(t, listed[action], "%s is not listed", action)
	}

	gotRoutes := map[routeKey]int{}
	for i, r := range got.Routes {
		key := routeKey{r.Method, r.Route, r.From}
		_, dup := gotRoutes[key]
		assert.False(t, dup, "%v listed twice", key)
		gotRoutes[key] = r.Records
		if i > 0 {
			assert.LessOrEqual(t, r.Records, got.Routes[i-1].Records, "unmatched routes, most frequent first")
		}
	}
	assert.Equal(t, wantRoutes, gotRoutes, "unmatched routes")
}

// servedRoute returns the route of the app's ServeMux pattern that serves
// r, "" when none does (the mux answers 404 and reports no route).
func servedRoute(r request) string {
	mux := http.NewServeMux()
	for pattern := range routes[r.service] {
		mux.Handle(pattern, http.NotFoundHandler())
	}
	_, pattern := mux.Handler(httptest.NewRequest(r.method, r.target, nil))
	_, route, _ := strings.Cut(pattern, " ")
	return route
}

// parseCoverageTable reads coverage's table output: the counts line, the
// actions table, its "N of M actions seen" line, then the unmatched routes
// table or "every HTTP record matched an event".
func parseCoverageTable(out string) (report.Coverage, error) {
	var rep report.Coverage
	sc := bufio.NewScanner(strings.NewReader(out))
	next := func() string {
		if !sc.Scan() {
			return "<end of output>"
		}
		return sc.Text()
	}
	line := next()
	if _, err := fmt.Sscanf(line, "%d spans, %d log records: %d HTTP records, %d matched, %d unmatched, %d malformed, %d refused",
		&rep.Spans, &rep.LogRecords, &rep.HTTP, &rep.Matched, &rep.Unmatched, &rep.Malformed, &rep.Refused); err != nil {
		return rep, fmt.Errorf("counts line %q: %w", line, err)
	}
	if line = next(); line != "" {
		return rep, fmt.Errorf("want an empty line after the counts, got %q", line)
	}
	if line = next(); !slices.Equal(strings.Fields(line), []string{"RECORDS", "ACTION", "CATALOG"}) {
		return rep, fmt.Errorf("actions header %q", line)
	}
	seen := 0
	for {
		line = next()
		f := strings.Fields(line)
		if len(f) != 3 {
			break
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			return rep, fmt.Errorf("action row %q: %w", line, err)
		}
		rep.Actions = append(rep.Actions, report.ActionCount{Action: f[1], Catalog: f[2], Records: n})
		if n > 0 {
			seen++
		}
	}
	if want := fmt.Sprintf("%d of %d actions seen", seen, len(rep.Actions)); line != want {
		return rep, fmt.Errorf("want %q after the actions, got %q", want, line)
	}
	if line = next(); line != "" {
		return rep, fmt.Errorf("want an empty line after the actions, got %q", line)
	}
	switch line = next(); line {
	case "every HTTP record matched an event":
	case "unmatched HTTP routes, most frequent first:":
		if line = next(); !slices.Equal(strings.Fields(line), []string{"RECORDS", "METHOD", "ROUTE", "FROM"}) {
			return rep, fmt.Errorf("unmatched routes header %q", line)
		}
		for sc.Scan() {
			line = sc.Text()
			f := strings.Fields(line)
			if len(f) != 4 {
				return rep, fmt.Errorf("unmatched route row %q", line)
			}
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return rep, fmt.Errorf("unmatched route row %q: %w", line, err)
			}
			rep.Routes = append(rep.Routes, report.UnmatchedRoute{Method: f[1], Route: f[2], From: f[3], Records: n})
		}
	default:
		return rep, fmt.Errorf("unexpected line %q after the actions", line)
	}
	if sc.Scan() {
		return rep, fmt.Errorf("unexpected line %q at the end", sc.Text())
	}
	return rep, sc.Err()
}
