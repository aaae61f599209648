package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadata"
)

// NewFactory returns the factory of the audit connector: traces to logs
// and logs to logs.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		createDefaultConfig,
		connector.WithTracesToLogs(createTracesToLogs, metadata.TracesToLogsStability),
		connector.WithLogsToLogs(createLogsToLogs, metadata.LogsToLogsStability),
		// The records' edge (records.go) is not declared in metadata.yaml:
		// mdatagen's lifecycle test would start it without its events edge,
		// which Start refuses. connector_test covers its lifecycle.
		connector.WithTracesToTraces(createTracesToTraces, component.StabilityLevelAlpha),
	)
}

func createTracesToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Traces, error) {
	c, err := newConnector(set, cfg.(*Config), next)
	if err != nil {
		return nil, err
	}
	c.id = set.ID
	if c.chain != nil {
		c.chain.edge = "traces" // its storage name: the source signal
	}
	c.edges = join(set.ID, func(e *edges) { e.events = c })
	return c, nil
}

func createTracesToTraces(_ context.Context, set connector.Settings, _ component.Config, next consumer.Traces) (connector.Traces, error) {
	return newRecordsForwarder(set.ID, next), nil
}

func createLogsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Logs, error) {
	c, err := newConnector(set, cfg.(*Config), next)
	if err != nil {
		return nil, err
	}
	if c.chain != nil {
		c.chain.edge = "logs"
	}
	return c, nil
}
