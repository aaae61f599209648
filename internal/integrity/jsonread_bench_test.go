package integrity

import (
	"bytes"
	"os"
	"testing"
)

func BenchmarkJSONReaderParts(b *testing.B) {
	data, err := os.ReadFile("../../cmd/auditcatalog/testdata/verify/events.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.Run("read", func(b *testing.B) {
		var j JSONReader
		for b.Loop() {
			for _, l := range lines {
				_, _ = j.Read(l, func(*Record) {})
			}
		}
	})
	b.Run("read+digest", func(b *testing.B) {
		var j JSONReader
		var e Encoder
		for b.Loop() {
			for _, l := range lines {
				_, _ = j.Read(l, func(r *Record) {
					e.BeginFields()
					for _, f := range r.Fields {
						e.AddField(f.Key, f.Value)
					}
					e.FlatEvent(&r.Header)
				})
			}
		}
	})
}
