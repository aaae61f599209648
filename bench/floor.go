package bench

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/auditprocessor/bench/floorprocessor"
)

// The floor is what any implementation must pay: walk the batch, read the
// method, the route or path, the status and the region, and write three
// string attributes. It matches nothing, decides nothing and drops nothing.
// It is the floor processor's code (bench/floorprocessor), which the
// end-to-end benchmark runs in a collector.

// FloorTraces runs the floor over the SERVER spans of a batch.
func FloorTraces(td ptrace.Traces) { floorprocessor.Traces(td) }

// FloorLogs runs the floor over the records of a batch.
func FloorLogs(ld plog.Logs) { floorprocessor.Logs(ld) }

// str is the string value of key, "" when absent or not a string.
func str(attrs pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}
