package main

import (
	"os"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	auditprocessor "github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/internal/audittest"
)

const indexKey = "test.index"

// processorConfig is the default configuration with every region of both
// built-in catalogs sending events, so that the processor drops nothing it
// matched.
func processorConfig(t *testing.T) *auditprocessor.Config {
	cfg := auditprocessor.NewFactory().CreateDefaultConfig().(*auditprocessor.Config)
	cfg.Services = audittest.EveryRegion(t)
	return cfg
}

// coverageActions numbers every span and log record of a batch
// (test.index) and returns the action coverage finds for each, "" for none.
func coverageActions(t *testing.T, batch any) []string {
	a, err := (&catalogFlags{}).load()
	require.NoError(t, err)
	cov := newCoverage(a)
	var actions []string
	for r := range audittest.Records(batch) {
		action := ""
		if r.Kind == ptrace.SpanKindServer {
			before := cov.byAction
			cov.byAction = map[string]int{}
			cov.record(r.Attrs, nil, r.Name)
			for a := range cov.byAction {
				action = a
			}
			cov.byAction = before
		}
		r.Attrs.PutInt(indexKey, int64(len(actions)))
		actions = append(actions, action)
	}
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
	td, err := golden.ReadTraces("../../testdata/traces_input.yaml")
	require.NoError(t, err)
	ld, err := golden.ReadLogs("../../testdata/logs_input.yaml")
	require.NoError(t, err)
	batches := []any{td, ld}
	for _, f := range []string{"testdata/otlp/traces.jsonl", "testdata/otlp/logs.json"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		cov := newCoverage(nil)
		cov.onBatch = func(batch any) { batches = append(batches, batch) }
		require.NoError(t, cov.readFile(data))
	}
	compared := 0
	for _, batch := range batches {
		want := coverageActions(t, batch)
		signal := "traces"
		if _, ok := batch.(plog.Logs); ok {
			signal = "logs"
		}
		p := audittest.Start(t, auditprocessor.NewFactory(), signal, processorConfig(t))
		if out := p.Consume(t, batch); out != nil {
			for r := range audittest.Records(out) {
				i, got := processedAction(t, r.Attrs)
				assert.Equal(t, want[i], got, "%s record %d %q", signal, i, r.Name)
				compared++
			}
		}
	}
	assert.Greater(t, compared, 30)
}
