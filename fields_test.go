package auditprocessor

import (
	"github.com/otel-audit/auditprocessor/internal/audit"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestAuditFields checks each audit field beyond action, outcome and region
// against the provider's rules, written out per case.
func TestAuditFields(t *testing.T) {
	create := func(status any, extra map[string]any) map[string]any {
		a := map[string]any{"http.request.method": "POST", "url.path": "/v1/customizations", "http.response.status_code": status}
		for k, v := range extra {
			a[k] = v
		}
		return a
	}
	const createMsg = "Speech to Text: Create a custom language model"
	const lm = "speech-to-text/custom-language-model"
	fields := func(severity string, code int64, target, message string) map[string]any {
		f := map[string]any{"audit.severity": severity, "audit.target.type": target, "audit.message": message}
		if code != 0 {
			f["audit.reason.code"] = code
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		region string
		attrs  map[string]any
		error  bool // span status Error
		want   map[string]any
	}{
		{"created", "eu-de", create(int64(201), nil), false, fields("normal", 201, lm, createMsg)},
		{"status as string", "eu-de", create("201", nil), false, fields("normal", 201, lm, createMsg)},
		{"401 is critical", "eu-de", create(int64(401), nil), false, fields("critical", 401, lm, createMsg+" -failure")},
		{"403 is critical", "eu-de", create(int64(403), nil), false, fields("critical", 403, lm, createMsg+" -failure")},
		{"503 is critical", "eu-de", create(int64(503), nil), false, fields("critical", 503, lm, createMsg+" -failure")},
		{"507 is critical", "eu-de", create(int64(507), nil), false, fields("critical", 507, lm, createMsg+" -failure")},
		{"404 is a warning", "eu-de", create(int64(404), nil), false, fields("warning", 404, lm, createMsg+" -failure")},
		{"500 is a warning", "eu-de", create(int64(500), nil), false, fields("warning", 500, lm, createMsg+" -failure")},
		{"span error without status is a warning", "eu-de", map[string]any{"http.request.method": "POST", "url.path": "/v1/customizations"}, true,
			fields("warning", 0, lm, createMsg+" -failure")},
		{"no status: no reason code", "eu-de", map[string]any{"http.request.method": "POST", "url.path": "/v1/customizations"}, false,
			fields("normal", 0, lm, createMsg)},
		{"unusable status: no reason code", "eu-de", create(int64(999), nil), false, fields("normal", 0, lm, createMsg)},
		{"successful delete is critical", "eu-de", map[string]any{"http.request.method": "DELETE", "url.path": "/v1/user_data", "http.response.status_code": int64(200)}, false,
			fields("critical", 200, "speech-to-text/gdpr-user-data", "Speech to Text: Delete information for a user")},
		{"pending delete is critical", "eu-de", map[string]any{"http.request.method": "DELETE", "url.path": "/v1/customizations/x", "http.response.status_code": int64(202)}, false,
			fields("critical", 202, lm, "Speech to Text: Delete a custom language model")},
		{"failed delete is rated by status", "eu-de", map[string]any{"http.request.method": "DELETE", "url.path": "/v1/customizations/x", "http.response.status_code": int64(404)}, false,
			fields("warning", 404, lm, "Speech to Text: Delete a custom language model -failure")},
		{"successful update is a warning", "us-south", map[string]any{"http.request.method": "PUT", "url.path": "/v2/data-protect/protection-groups/7/runs", "http.response.status_code": int64(200)}, false,
			fields("warning", 200, "backup-recovery/protection-group-run", "Backup and Recovery: Update runs of a particular protection group")},
		{"catalog severity wins on success", "us-south", map[string]any{"http.request.method": "DELETE", "http.route": "/api/orders/{order_id}", "http.response.status_code": int64(204)}, false,
			fields("normal", 204, "orders/order", "Orders: Cancel an order")},
		{"catalog severity wins on failure", "us-south", map[string]any{"http.request.method": "DELETE", "http.route": "/api/orders/{order_id}", "http.response.status_code": int64(403)}, false,
			fields("normal", 403, "orders/order", "Orders: Cancel an order -failure")},
		{"initiator from enduser.id", "eu-de", create(int64(201), map[string]any{"enduser.id": "alice", "user.id": "bob"}), false,
			merge(fields("normal", 201, lm, createMsg), map[string]any{"audit.initiator.id": "alice"})},
		{"initiator from user.id", "eu-de", create(int64(201), map[string]any{"user.id": "bob"}), false,
			merge(fields("normal", 201, lm, createMsg), map[string]any{"audit.initiator.id": "bob"})},
		{"int initiator", "eu-de", create(int64(201), map[string]any{"enduser.id": int64(42)}), false,
			merge(fields("normal", 201, lm, createMsg), map[string]any{"audit.initiator.id": "42"})},
		{"initiator of an odd type is left out", "eu-de", create(int64(201), map[string]any{"enduser.id": map[string]any{"a": "b"}}), false,
			fields("normal", 201, lm, createMsg)},
		{"forged fields are replaced", "eu-de", create(int64(201), map[string]any{"audit.severity": "normal", "audit.message": "nothing to see", "audit.initiator.id": "mallory", "audit.reason.code": int64(200)}), false,
			fields("normal", 201, lm, createMsg)},
		{"forged fields of an unmatched record are removed", "eu-de", map[string]any{"http.request.method": "GET", "url.path": "/healthz", "audit.severity": "normal"}, false,
			map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.CatalogFiles = []string{"testdata/catalogs/orders.yaml"}
			cfg.Services = map[string]ServiceConfig{"backup-recovery": {Regions: []string{"us-south"}}}
			td := oneSpan(tc.region, ptrace.SpanKindServer, tc.attrs)
			if tc.error {
				td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Status().SetCode(ptrace.StatusCodeError)
			}
			out, _ := runTraces(t, cfg, td)
			require.Len(t, out, 1)
			got := auditAttrs(out[0])
			for _, k := range []string{audit.AttrAction, audit.AttrOutcome, audit.AttrRegion} {
				delete(got, k) // TestOptions and the golden files check these
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func merge(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// TestAuditFieldSwitches turns each field off on its own.
func TestAuditFieldSwitches(t *testing.T) {
	attrs := map[string]any{"http.request.method": "POST", "url.path": "/v1/customizations", "http.response.status_code": int64(403), "enduser.id": "alice"}
	all := []string{audit.AttrSeverity, audit.AttrReasonCode, audit.AttrTargetType, audit.AttrMessage, audit.AttrInitiator}
	for _, tc := range []struct {
		off     string
		disable func(*FieldsConfig)
	}{
		{audit.AttrSeverity, func(f *FieldsConfig) { f.Severity = false }},
		{audit.AttrReasonCode, func(f *FieldsConfig) { f.ReasonCode = false }},
		{audit.AttrTargetType, func(f *FieldsConfig) { f.TargetType = false }},
		{audit.AttrMessage, func(f *FieldsConfig) { f.Message = false }},
		{audit.AttrInitiator, func(f *FieldsConfig) { f.InitiatorID = false }},
	} {
		t.Run(tc.off, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tc.disable(&cfg.Fields)
			out, _ := runTraces(t, cfg, oneSpan("eu-de", ptrace.SpanKindServer, attrs))
			require.Len(t, out, 1)
			got := auditAttrs(out[0])
			for _, k := range all {
				_, present := got[k]
				assert.Equal(t, k != tc.off, present, k)
			}
			assert.Equal(t, "speech-to-text.custom-language-model.create", got[audit.AttrAction])
		})
	}
}
