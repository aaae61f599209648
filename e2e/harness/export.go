package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// ExportError is an OTLP/HTTP receiver's answer other than 200 OK: the
// records were not acknowledged.
type ExportError struct {
	StatusCode int
	Message    string
}

func (e *ExportError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// ExportTraces posts td as protobuf to baseURL/v1/traces (baseURL is
// scheme://host:port) with client. It returns nil when the receiver
// acknowledged the records, an *ExportError when it answered otherwise, and
// the client's error when there was no answer.
func ExportTraces(ctx context.Context, client *http.Client, baseURL string, td ptrace.Traces) error {
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return err
	}
	return export(ctx, client, baseURL+"/v1/traces", body)
}

// ExportLogs is ExportTraces for log records, to baseURL/v1/logs.
func ExportLogs(ctx context.Context, client *http.Client, baseURL string, ld plog.Logs) error {
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		return err
	}
	return export(ctx, client, baseURL+"/v1/logs", body)
}

func export(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return &ExportError{StatusCode: resp.StatusCode, Message: string(msg)}
	}
	return nil
}
