package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// exampleConfig is the configuration the README and `make run` point users to.
const exampleConfig = "../examples/collector.yaml"

// withTLS returns the example with mutual TLS turned on as its comments
// tell a user to (uncommented, under grpc and http).
func withTLS(t *testing.T, example string) string {
	t.Helper()
	out, blocks := uncommented(example, "tls")
	require.Equal(t, 2, blocks, "the example's commented tls blocks, under grpc and http")
	return out
}

// uncommented returns the example with each commented-out block of key
// uncommented: a line `# KEY:` and the `#   key: value` lines under it at
// the same indentation; and how many blocks there were.
func uncommented(example, key string) (string, int) {
	lines := strings.SplitAfter(example, "\n")
	blocks := 0
	for i := 0; i < len(lines); i++ {
		indent, ok := strings.CutSuffix(lines[i], "# "+key+":\n")
		if !ok || strings.Trim(indent, " ") != "" {
			continue
		}
		blocks++
		lines[i] = indent + key + ":\n"
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], indent+"#   ") {
			i++
			lines[i] = indent + lines[i][len(indent)+2:]
		}
	}
	return strings.Join(lines, ""), blocks
}

func readExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(exampleConfig)
	require.NoError(t, err)
	return string(data)
}

// validate runs `otelcol-audit validate` on the configuration text and
// returns its combined output and error.
func validate(t *testing.T, binary, config string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o644))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "validate", "--config", path)
	cmd.Env = append(os.Environ(), "AUDIT_QUEUE_DIR="+filepath.Join(t.TempDir(), "queue"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestExampleValidates checks examples/collector.yaml with the
// distribution's own validate command, as shipped and with mutual TLS
// turned on, so that the example cannot drift from what the components
// accept; and that validate does catch a mistake.
func TestExampleValidates(t *testing.T) {
	binary := collectorBinary(t)
	example := readExample(t)

	out, err := validate(t, binary, example)
	require.NoError(t, err, "as shipped:\n%s", out)

	tlsOn := withTLS(t, example)
	assert.Len(t, regexp.MustCompile(`(?m)^ +tls:$`).FindAllString(tlsOn, -1), 2)
	out, err = validate(t, binary, tlsOn)
	require.NoError(t, err, "with mutual TLS on:\n%s", out)

	// The control: a misspelt key in the persistent queue's settings.
	require.Contains(t, example, "queue_size:")
	out, err = validate(t, binary, strings.Replace(example, "queue_size:", "queue_sise:", 1))
	require.Error(t, err)
	assert.Contains(t, out, "queue_sise")
}

// TestHealthCheck runs the example and asks its health_check endpoint:
// it answers 200 while the collector runs and nothing once it has stopped.
func TestHealthCheck(t *testing.T) {
	binary := collectorBinary(t)
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, BaseConfig: exampleConfig,
		Env: []string{"AUDIT_QUEUE_DIR=" + t.TempDir()},
	})

	resp, err := plainClient.Get(col.HealthURL)
	require.NoError(t, err)
	var body struct {
		Status string `json:"status"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "Server available", body.Status)

	require.NoError(t, col.Stop(10*time.Second))
	_, err = plainClient.Get(col.HealthURL)
	assert.Error(t, err, "the health endpoint still answers after the collector stopped")
}

// exampleVariable is a row of the example's table of environment variables.
type exampleVariable struct{ name, def string }

// columnsRE separates the columns of a table in a comment.
var columnsRE = regexp.MustCompile(`\s{2,}`)

// exampleVariables reads the table of environment variables at the top of
// the example: the rows between the "variable default what" heading and the
// next empty comment line.
func exampleVariables(t *testing.T, example string) []exampleVariable {
	t.Helper()
	var rows []exampleVariable
	in := false
	for _, line := range strings.Split(example, "\n") {
		text, ok := strings.CutPrefix(line, "#")
		if !ok {
			break
		}
		fields := columnsRE.Split(strings.TrimSpace(text), -1)
		switch {
		case len(fields) == 3 && fields[0] == "variable" && fields[1] == "default":
			in = true
		case in && strings.TrimSpace(text) == "":
			in = false
		case in:
			require.Len(t, fields, 3, "a row of the table: %q", line)
			rows = append(rows, exampleVariable{fields[0], fields[1]})
		}
	}
	require.NotEmpty(t, rows, "the example's table of environment variables")
	return rows
}

// envRefs returns where the configuration reads the environment: each
// string value with a ${env:...} in it, by its path (map keys and list
// indexes).
func envRefs(v any, path []any, out map[string][]any, value map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			envRefs(e, append(slices.Clone(path), k), out, value)
		}
	case []any:
		for i, e := range v {
			envRefs(e, append(slices.Clone(path), i), out, value)
		}
	case string:
		if strings.Contains(v, "${env:") {
			key := fmt.Sprint(path...)
			out[key] = path
			value[key] = v
		}
	}
}

// at returns the value at path in a tree that yaml.Unmarshal made.
func at(v any, path []any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			l, _ := v.([]any)
			if p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

var envRefRE = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)`)

// TestExampleDefaults holds the example's table of environment variables
// to the configuration: every variable the configuration reads (but HOME) is
// in the table and every row is read; and with none of them set, the
// distribution's print-config shows at each place that reads one the
// default the table gives ($HOME standing for its value). The events'
// endpoint is not the records' by default (a record a sender builds like an
// event never lands beside the real ones unless a user says so).
func TestExampleDefaults(t *testing.T) {
	binary := collectorBinary(t)
	example := readExample(t)
	rows := exampleVariables(t, example)

	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(example), &cfg))
	paths, values := map[string][]any{}, map[string]string{}
	envRefs(cfg, nil, paths, values)
	read := map[string]bool{}
	for _, v := range values {
		for _, m := range envRefRE.FindAllStringSubmatch(v, -1) {
			read[m[1]] = true
		}
	}
	delete(read, "HOME")
	var listed []string
	defaults := map[string]string{}
	for _, r := range rows {
		listed = append(listed, r.name)
		defaults[r.name] = r.def
	}
	assert.ElementsMatch(t, slices.Sorted(maps.Keys(read)), listed, "the variables the example reads and the ones its table lists")

	// print-config with none of the table's variables set.
	home := t.TempDir()
	env := []string{"HOME=" + home}
	for _, e := range os.Environ() {
		name, _, _ := strings.Cut(e, "=")
		if name != "HOME" && !slices.Contains(listed, name) {
			env = append(env, e)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "print-config", "--config", exampleConfig)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var printed map[string]any
	require.NoError(t, yaml.Unmarshal(out, &printed))

	expand := strings.NewReplacer("$HOME", home)
	assert.NotEqual(t, defaults["AUDIT_OTLP_ENDPOINT"], defaults["AUDIT_EVENTS_OTLP_ENDPOINT"], "the events' endpoint is their own")
	require.NotEmpty(t, paths)
	for key, path := range paths {
		outer := envRefRE.FindStringSubmatch(values[key])[1]
		want, ok := defaults[outer]
		if !assert.True(t, ok, "%v reads %s, which the table does not list", path, outer) {
			continue
		}
		assert.Equal(t, expand.Replace(want), fmt.Sprint(at(printed, path)), "%v (%s unset): the table's default", path, outer)
	}
}

// TestExampleQueueDirUnset runs the example as a user would who sets only
// the records' backend: AUDIT_QUEUE_DIR and AUDIT_EVENTS_OTLP_ENDPOINT
// unset. The queue goes under $HOME (here a directory of the test's); the
// audited request's span arrives at the records' backend, and its event does
// not: the events exporter sends it to the events' own default endpoint
// (nothing listens there here: it stays queued, and its retries name it in
// the log).
func TestExampleQueueDirUnset(t *testing.T) {
	binary := collectorBinary(t)
	for _, name := range []string{"AUDIT_QUEUE_DIR", "AUDIT_EVENTS_OTLP_ENDPOINT"} {
		t.Setenv(name, "") // restored when the test ends
		require.NoError(t, os.Unsetenv(name))
	}
	home := t.TempDir()
	backend := startBackend(t, "")
	// The harness moves the receiver, health_check and the metrics to free
	// ports; the exporters and the queue are the example's.
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, BaseConfig: exampleConfig,
		Env: []string{"HOME=" + home, "AUDIT_OTLP_ENDPOINT=" + backend.URL},
	})

	id := newTraceID()
	require.NoError(t, harness.ExportTraces(t.Context(), plainClient, "http://"+col.HTTPEndpoint, auditedSpan(id)))
	waitFor(t, 30*time.Second, "the span at the records' backend, its event sent to the events' endpoint", func() (bool, string) {
		return backend.Count("traces") >= 1 && strings.Contains(col.Log(), "127.0.0.1:5319/v1/logs"),
			fmt.Sprintf("%d spans; the log does not name the events' endpoint", backend.Count("traces"))
	})
	m := scrape(t, col.MetricsURL)
	assert.Equal(t, 1.0, m.Sum("otelcol_connector_audit_events_emitted", nil), "the connector made the event")
	assert.Zero(t, backend.Count("logs"), "no event at the records' backend")
	for _, rec := range backend.Records() {
		assert.Equal(t, id, rec.TraceID, rec.Signal)
	}

	queue := filepath.Join(home, ".local", "state", "otelcol-audit", "queue")
	for _, f := range queueFiles {
		assert.FileExists(t, filepath.Join(queue, f), "the queue under $HOME")
	}
}
