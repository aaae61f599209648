package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestPortsConfig: the file of ports moves the receiver, the metrics and
// health_check (unless there is none) and points the exporters that are
// set at their endpoints.
func TestPortsConfig(t *testing.T) {
	type config struct {
		Receivers struct {
			OTLP struct {
				Protocols map[string]struct{ Endpoint string }
			}
		}
		Exporters  map[string]struct{ Endpoint string }
		Extensions map[string]struct{ Endpoint string }
		Service    struct {
			Telemetry struct {
				Metrics struct {
					Level   string
					Readers []map[string]any
				}
			}
		}
	}
	e := endpoints{grpc: "127.0.0.1:1", http: "127.0.0.1:2", health: "127.0.0.1:4", metricsPort: 3}
	var got config
	require.NoError(t, yaml.Unmarshal([]byte(portsConfig(CollectorOptions{ExportEndpoint: "http://127.0.0.1:5"}, e)), &got))
	assert.Equal(t, "127.0.0.1:1", got.Receivers.OTLP.Protocols["grpc"].Endpoint)
	assert.Equal(t, "127.0.0.1:2", got.Receivers.OTLP.Protocols["http"].Endpoint)
	assert.Equal(t, map[string]struct{ Endpoint string }{"otlp_http": {"http://127.0.0.1:5"}}, got.Exporters)
	assert.Equal(t, "127.0.0.1:4", got.Extensions["health_check"].Endpoint)
	assert.Equal(t, "normal", got.Service.Telemetry.Metrics.Level)
	assert.Len(t, got.Service.Telemetry.Metrics.Readers, 1)

	e.health = ""
	got = config{}
	require.NoError(t, yaml.Unmarshal([]byte(portsConfig(CollectorOptions{EventsEndpoint: "http://127.0.0.1:6"}, e)), &got))
	assert.Nil(t, got.Extensions, "no health_check")
	assert.Equal(t, map[string]struct{ Endpoint string }{"otlp_http/events": {"http://127.0.0.1:6"}}, got.Exporters)
}
