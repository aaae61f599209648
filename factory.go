package auditprocessor // import "github.com/otel-audit/auditprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otel-audit/auditprocessor/internal/metadata"
)

// The processor changes records (tags them) and removes some.
var capabilities = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

// NewFactory returns the factory of the audit processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(createTraces, metadata.TracesStability),
		processor.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newAuditProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	t, err := processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces, capabilities, processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
	if err != nil {
		_ = p.shutdown(ctx)
		return nil, err
	}
	return pinnedTraces{t, p.live}, nil
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newAuditProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	l, err := processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs, capabilities, processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
	if err != nil {
		_ = p.shutdown(ctx)
		return nil, err
	}
	return pinnedLogs{l, p.live}, nil
}
