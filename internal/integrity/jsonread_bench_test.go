package integrity

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkJSONReader: the reader alone, and with each record's flat form
// written, over the verify fixtures' OTLP JSON lines and VictoriaLogs rows
// (records per second; BenchmarkVerify in cmd/auditcatalog is the whole of
// verify). The reader adds an OTLP record's pairs as it reads them (its
// flat form is then written from them, as the verifier does); a row's are
// added from its fields.
func BenchmarkJSONReader(b *testing.B) {
	for _, in := range []struct{ name, file string }{
		{"otlp", "../../cmd/auditcatalog/testdata/verify/events.jsonl"},
		{"victorialogs", "../../cmd/auditcatalog/testdata/verify/victorialogs/query.jsonl"},
	} {
		data, err := os.ReadFile(in.file)
		if err != nil {
			b.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
		for _, flat := range []bool{false, true} {
			name := in.name + "/read"
			if flat {
				name = in.name + "/read+flat"
			}
			b.Run(name, func(b *testing.B) {
				var j JSONReader
				var e Encoder
				records := 0
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					for _, l := range lines {
						if _, err := j.Read(l, func(r *Record) {
							records++
							if flat {
								r.flatForm(&e)
							}
						}); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
