package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// sample is one line of the Prometheus text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// metrics is one scrape of the collector's own Prometheus endpoint.
type metrics []sample

// scrape reads the Prometheus text format from url.
func scrape(ctx context.Context, client *http.Client, url string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// The classic text format, not OpenMetrics or protobuf.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics parses the text format. Comments, histogram buckets we do not
// read and timestamps are all tolerated; only "name{labels} value" matters.
func parseMetrics(r io.Reader) (metrics, error) {
	var ms metrics
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d %q: %w", n, line, err)
		}
		ms = append(ms, s)
	}
	return ms, sc.Err()
}

func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return s, fmt.Errorf("no value")
	}
	s.name, line = line[:end], line[end:]
	if line[0] == '{' {
		rest, err := parseLabels(line[1:], s.labels)
		if err != nil {
			return s, err
		}
		line = rest
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, err
	}
	s.value = v
	return s, nil
}

// parseLabels reads `name="value",...}` into labels and returns what follows
// the closing brace.
func parseLabels(s string, labels map[string]string) (string, error) {
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		eq := strings.Index(s, `="`)
		if eq <= 0 {
			return "", fmt.Errorf("malformed labels")
		}
		name := s[:eq]
		s = s[eq+2:]
		var val strings.Builder
		i := 0
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				if s[i] == 'n' {
					val.WriteByte('\n')
				} else {
					val.WriteByte(s[i])
				}
				continue
			}
			val.WriteByte(s[i])
		}
		if i == len(s) {
			return "", fmt.Errorf("unterminated label value")
		}
		labels[name] = val.String()
		s = s[i+1:]
	}
}

// sum adds up the samples called name whose labels include all of match.
func (ms metrics) sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, s := range ms {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range match {
			if s.labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			total += s.value
		}
	}
	return total
}

// counters are the collector's own counts the driver checks, cumulative since
// the collector started.
type counters struct {
	accepted     float64 // otelcol_receiver_accepted_spans
	refused      float64 // otelcol_receiver_refused_spans
	sent         float64 // otelcol_exporter_sent_spans
	sendFailed   float64 // otelcol_exporter_send_failed_spans
	enqueueFail  float64 // otelcol_exporter_enqueue_failed_spans (sending queue full: lost)
	auditDropped float64 // otelcol_processor_audit_records_dropped{signal="traces"}
}

func countersOf(m metrics) counters {
	traces := map[string]string{"signal": "traces"}
	return counters{
		accepted:     m.sum("otelcol_receiver_accepted_spans", nil),
		refused:      m.sum("otelcol_receiver_refused_spans", nil),
		sent:         m.sum("otelcol_exporter_sent_spans", nil),
		sendFailed:   m.sum("otelcol_exporter_send_failed_spans", nil),
		enqueueFail:  m.sum("otelcol_exporter_enqueue_failed_spans", nil),
		auditDropped: m.sum("otelcol_processor_audit_records_dropped", traces),
	}
}

func (c counters) minus(o counters) counters {
	return counters{
		accepted:     c.accepted - o.accepted,
		refused:      c.refused - o.refused,
		sent:         c.sent - o.sent,
		sendFailed:   c.sendFailed - o.sendFailed,
		enqueueFail:  c.enqueueFail - o.enqueueFail,
		auditDropped: c.auditDropped - o.auditDropped,
	}
}
