// Package floorprocessor is the benchmarks' floor in a collector: a
// processor that does the least any implementation of the audit processor
// must do, and nothing more. On every SERVER span (and every log record) that
// has an HTTP method it reads the method, the route or path, the status and
// the resource's cloud.region, and writes three string attributes
// (audit.action, a constant; audit.outcome; audit.region) into room reserved
// once. It matches nothing, decides nothing and drops nothing.
//
// It is built for the benchmarks only: into the bench/floor-dist collector
// for make bench-e2e, and called in process by the bench package's floor
// contender (bench/floor.go). It is no part of the otelcol-audit
// distribution.
package floorprocessor // import "github.com/otel-audit/auditprocessor/bench/floorprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// Type is the processor's name in a collector configuration: floor.
var Type = component.MustNewType("floor")

// Config is empty: the floor has nothing to configure.
type Config struct{}

var _ component.Config = (*Config)(nil)

// NewFactory returns the floor processor's factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(Type, func() component.Config { return &Config{} },
		processor.WithTraces(createTraces, component.StabilityLevelDevelopment),
		processor.WithLogs(createLogs, component.StabilityLevelDevelopment))
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	return processorhelper.NewTraces(ctx, set, cfg, next,
		func(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) { Traces(td); return td, nil },
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	return processorhelper.NewLogs(ctx, set, cfg, next,
		func(_ context.Context, ld plog.Logs) (plog.Logs, error) { Logs(ld); return ld, nil },
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}

// Sink keeps the reads observable, so that no compiler drops them.
var Sink int

// Traces runs the floor over the SERVER spans of a batch.
func Traces(td ptrace.Traces) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		region := str(rs.Resource().Attributes(), "cloud.region")
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				if s.Kind() != ptrace.SpanKindServer {
					continue
				}
				Record(s.Attributes(), region)
			}
		}
	}
}

// Logs runs the floor over the records of a batch.
func Logs(ld plog.Logs) {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		region := str(rl.Resource().Attributes(), "cloud.region")
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			records := sls.At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				Record(records.At(k).Attributes(), region)
			}
		}
	}
}

// Record reads one record's request and writes the three attributes.
func Record(attrs pcommon.Map, region string) {
	method := str(attrs, "http.request.method")
	if method == "" {
		method = str(attrs, "http.method")
	}
	if method == "" {
		return
	}
	route := str(attrs, "http.route")
	if route == "" {
		route = str(attrs, "url.path")
	}
	if route == "" {
		route = str(attrs, "http.target")
	}
	status, ok := attrs.Get("http.response.status_code")
	if !ok {
		status, ok = attrs.Get("http.status_code")
	}
	outcome := "unknown"
	if ok {
		if status.Int() >= 400 {
			outcome = "failure"
		} else {
			outcome = "success"
		}
	}
	Sink += len(method) + len(route)
	attrs.EnsureCapacity(attrs.Len() + 3)
	attrs.PutStr("audit.action", "floor.request.handle")
	attrs.PutStr("audit.outcome", outcome)
	attrs.PutStr("audit.region", region)
}

func str(attrs pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}
