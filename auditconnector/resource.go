package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/auditprocessor/internal/audit"
)

// An event's resource. The source record's resource is the sender's: a
// store that flattens a map body into top-level fields (VictoriaLogs, for
// one) puts resource attributes beside the body's fields, so a sender's
// resource `initiator.id` or `outcome` would stand beside, or shadow, the
// event's own. The event keeps only the resource attributes that
// event.resource_attributes allows: keys that name where the request was
// served (service, instance, cloud, deployment, Kubernetes, host), none of
// which can be a body field.

// DefaultResourceAttributes are the resource attributes an event keeps by
// default: an entry is a key, or a prefix ending in ".*".
var DefaultResourceAttributes = []string{"service.*", "cloud.*", "deployment.*", "k8s.*", "host.name", "host.id"}

// bodyFields are the body's top-level fields (connector.go's write): no
// resource attribute an event keeps may be one of them or under one.
var bodyFields = []string{
	"id", "action", "outcome", "reason", "severity", "eventTime", "message", "target", "initiator",
	"observer", "correlationId", "dataEvent", "requestData", "responseData", "logSourceCRN", "saveServiceCopy",
}

// checkResourceAttribute says what is wrong with an entry of
// event.resource_attributes, or "".
func checkResourceAttribute(entry string) string {
	key := strings.TrimSuffix(entry, ".*")
	switch {
	case strings.TrimSpace(entry) == "" || key == "" || strings.Contains(key, "*"):
		return "is not a key or a prefix ending in .*"
	case audit.Owned(key) || strings.HasPrefix(audit.Prefix, key+"."):
		return "is in the audit. namespace, which the audit components own"
	}
	for _, f := range bodyFields {
		if key == f || strings.HasPrefix(key, f+".") || strings.HasPrefix(f, key+".") {
			return fmt.Sprintf("can collide with the body's %s in a store that flattens the body", f)
		}
	}
	return ""
}

// resourceFilter keeps the allowed resource attributes.
type resourceFilter struct {
	keys     map[string]bool
	prefixes []string
}

func newResourceFilter(entries []string) *resourceFilter {
	f := &resourceFilter{keys: map[string]bool{}}
	for _, e := range entries {
		if p, ok := strings.CutSuffix(e, "*"); ok {
			f.prefixes = append(f.prefixes, p)
		} else {
			f.keys[e] = true
		}
	}
	return f
}

func (f *resourceFilter) allows(k string) bool {
	if f.keys[k] {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// copyTo copies the allowed attributes of src into dst (empty).
func (f *resourceFilter) copyTo(src, dst pcommon.Map) {
	n := 0
	for k := range src.All() {
		if f.allows(k) {
			n++
		}
	}
	dst.EnsureCapacity(n)
	for k, v := range src.All() {
		if f.allows(k) {
			v.CopyTo(dst.PutEmpty(k))
		}
	}
}
