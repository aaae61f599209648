package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// exampleConfig is the configuration the README and `make run` point users to.
const exampleConfig = "../examples/collector.yaml"

// withTLS returns the example with mutual TLS turned on as its comments
// tell a user to: each commented-out block, a line `# tls:` and the
// `#   key: value` lines under it at the same indentation, uncommented.
func withTLS(t *testing.T, example string) string {
	t.Helper()
	lines := strings.SplitAfter(example, "\n")
	blocks := 0
	for i := 0; i < len(lines); i++ {
		indent, ok := strings.CutSuffix(lines[i], "# tls:\n")
		if !ok || strings.Trim(indent, " ") != "" {
			continue
		}
		blocks++
		lines[i] = indent + "tls:\n"
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], indent+"#   ") {
			i++
			lines[i] = indent + lines[i][len(indent)+2:]
		}
	}
	require.Equal(t, 2, blocks, "the example's commented tls blocks, under grpc and http")
	return strings.Join(lines, "")
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
