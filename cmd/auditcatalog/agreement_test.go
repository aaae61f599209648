package main

import (
	"context"
	"os"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	auditprocessor "github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/catalog"
	"github.com/otel-audit/auditprocessor/internal/metadata"
)

const indexKey = "test.index"

// processorConfig is the default configuration with every region of both
// built-in catalogs sending events, so that the processor drops nothing it
// matched.
func processorConfig(t *testing.T) *auditprocessor.Config {
	cfg := auditprocessor.NewFactory().CreateDefaultConfig().(*auditprocessor.Config)
	cfg.Services = map[string]auditprocessor.ServiceConfig{}
	for _, name := range catalog.BuiltinNames() {
		c, err := catalog.Builtin(name)
		require.NoError(t, err)
		var ids []string
		for _, r := range c.Regions {
			ids = append(ids, r.ID)
		}
		cfg.Services[c.Service] = auditprocessor.ServiceConfig{Regions: ids, RegionsMode: auditprocessor.RegionsAdd}
	}
	return cfg
}

// coverageActions numbers every span and log record (test.index) and
// returns the action coverage finds for each, "" for none.
func coverageActions(t *testing.T, attrsOf func(yield func(attrs pcommon.Map, spanName string, audited bool))) []string {
	a, err := (&catalogFlags{}).load()
	require.NoError(t, err)
	cov := newCoverage(a)
	var actions []string
	attrsOf(func(attrs pcommon.Map, spanName string, audited bool) {
		action := ""
		if audited {
			before := cov.byAction
			cov.byAction = map[string]int{}
			cov.record(attrs, nil, spanName)
			for a := range cov.byAction {
				action = a
			}
			cov.byAction = before
		}
		attrs.PutInt(indexKey, int64(len(actions)))
		actions = append(actions, action)
	})
	return actions
}

func processedAction(t *testing.T, attrs pcommon.Map) (int, string) {
	i, ok := attrs.Get(indexKey)
	require.True(t, ok)
	got := ""
	if v, ok := attrs.Get("audit.action"); ok {
		got = v.Str()
	}
	return int(i.Int()), got
}

// TestCoverageAgreesWithProcessor runs the processor and coverage's reading
// on the same traces and logs (the processor's own golden inputs and
// coverage's test data) and checks that they find the same action for
// every record the processor passes on.
func TestCoverageAgreesWithProcessor(t *testing.T) {
	ctx := context.Background()
	set := processortest.NewNopSettings(metadata.Type)
	var traces []ptrace.Traces
	td, err := golden.ReadTraces("../../testdata/traces_input.yaml")
	require.NoError(t, err)
	traces = append(traces, td)
	var logs []plog.Logs
	ld, err := golden.ReadLogs("../../testdata/logs_input.yaml")
	require.NoError(t, err)
	logs = append(logs, ld)
	for _, f := range []string{"testdata/otlp/traces.jsonl", "testdata/otlp/logs.json"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		cov := newCoverage(nil)
		cov.onTraces = func(td ptrace.Traces) { traces = append(traces, td) }
		cov.onLogs = func(ld plog.Logs) { logs = append(logs, ld) }
		require.NoError(t, cov.readFile(data))
	}
	compared := 0
	for _, td := range traces {
		want := coverageActions(t, func(yield func(pcommon.Map, string, bool)) {
			for _, rs := range td.ResourceSpans().All() {
				for _, ss := range rs.ScopeSpans().All() {
					for _, s := range ss.Spans().All() {
						yield(s.Attributes(), s.Name(), s.Kind() == ptrace.SpanKindServer)
					}
				}
			}
		})
		sink := new(consumertest.TracesSink)
		p, err := auditprocessor.NewFactory().CreateTraces(ctx, set, processorConfig(t), sink)
		require.NoError(t, err)
		require.NoError(t, p.Start(ctx, componenttest.NewNopHost()))
		require.NoError(t, p.ConsumeTraces(ctx, td))
		require.NoError(t, p.Shutdown(ctx))
		for _, out := range sink.AllTraces() {
			for _, rs := range out.ResourceSpans().All() {
				for _, ss := range rs.ScopeSpans().All() {
					for _, s := range ss.Spans().All() {
						i, got := processedAction(t, s.Attributes())
						assert.Equal(t, want[i], got, "span %d %q", i, s.Name())
						compared++
					}
				}
			}
		}
	}
	for _, ld := range logs {
		want := coverageActions(t, func(yield func(pcommon.Map, string, bool)) {
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, r := range sl.LogRecords().All() {
						yield(r.Attributes(), "", true)
					}
				}
			}
		})
		sink := new(consumertest.LogsSink)
		p, err := auditprocessor.NewFactory().CreateLogs(ctx, set, processorConfig(t), sink)
		require.NoError(t, err)
		require.NoError(t, p.Start(ctx, componenttest.NewNopHost()))
		require.NoError(t, p.ConsumeLogs(ctx, ld))
		require.NoError(t, p.Shutdown(ctx))
		for _, out := range sink.AllLogs() {
			for _, rl := range out.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, r := range sl.LogRecords().All() {
						i, got := processedAction(t, r.Attributes())
						assert.Equal(t, want[i], got, "log record %d", i)
						compared++
					}
				}
			}
		}
	}
	assert.Greater(t, compared, 30)
}
