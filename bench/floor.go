package bench

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The floor is what any implementation must pay: walk the batch, read the
// method, the route or path, the status and the region, and write three
// string attributes. It matches nothing, decides nothing and drops nothing.

// floorSink keeps the reads observable.
var floorSink int

// FloorTraces runs the floor over the SERVER spans of a batch.
func FloorTraces(td ptrace.Traces) {
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
				floorRecord(s.Attributes(), region)
			}
		}
	}
}

// FloorLogs runs the floor over the records of a batch.
func FloorLogs(ld plog.Logs) {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		region := str(rl.Resource().Attributes(), "cloud.region")
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			records := sls.At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				floorRecord(records.At(k).Attributes(), region)
			}
		}
	}
}

func floorRecord(attrs pcommon.Map, region string) {
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
	floorSink += len(method) + len(route)
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
