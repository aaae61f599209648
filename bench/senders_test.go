package bench

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	auditprocessor "github.com/otel-audit/auditprocessor"
	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// BenchmarkSenders: the built-in catalogs' input with no senders and no
// authenticated sender (as before senders existed), with an authenticated
// sender (read once per batch, named in audit.sender), and with every
// service listing senders (a glob) that the batch's sender matches. Read
// the ratios of one run (benchstat's rows).
func BenchmarkSenders(b *testing.B) {
	authed := client.NewContext(context.Background(), client.Info{Auth: audittest.Subject("spiffe://example.org/ns/stt/sa/api")})
	for _, c := range []struct {
		name    string
		senders bool
		ctx     context.Context
	}{
		{"senders=none/sender=none", false, context.Background()},
		{"senders=none/sender=spiffe", false, authed},
		{"senders=listed/sender=spiffe", true, authed},
	} {
		b.Run(c.name, func(b *testing.B) {
			slowOnly(b, false)
			cfg := config(b, builtin).(*auditprocessor.Config)
			if c.senders {
				cfg.Services = map[string]audit.ServiceConfig{}
				for _, name := range []string{"speech-to-text", "backup-recovery"} {
					svc := cfg.Services[name]
					svc.Senders = []string{"spiffe://example.org/ns/backup/*/*", "spiffe://example.org/ns/stt/*/*"}
					cfg.Services[name] = svc
				}
			}
			p, err := auditprocessor.NewFactory().CreateTraces(context.Background(), settings(), cfg, consumertest.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			runTraces(b, traceBatches(b, builtin), func(td ptrace.Traces) error { return p.ConsumeTraces(c.ctx, td) })
		})
	}
}
