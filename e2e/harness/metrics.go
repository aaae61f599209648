package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sample is one line of the Prometheus text exposition format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is one scrape of a Prometheus endpoint.
type Metrics []Sample

// scrapeClient is Scrape's: a collector answers at once, or something is wrong.
var scrapeClient = &http.Client{Timeout: 10 * time.Second}

// Scrape reads the Prometheus text format from url.
func Scrape(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// Ask for the classic text format, not OpenMetrics or protobuf.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// WaitMetrics scrapes url every 100ms until done holds for a scrape, and
// returns that scrape. When ctx ends first, it returns the last scrape it
// got (nil when none succeeded) and an error that says so.
func WaitMetrics(ctx context.Context, url string, done func(Metrics) bool) (Metrics, error) {
	var last Metrics
	var lastErr error
	for {
		m, err := Scrape(ctx, url)
		if err == nil {
			last = m
			if done(m) {
				return m, nil
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				return nil, fmt.Errorf("%w; no scrape of %s succeeded: %v", ctx.Err(), url, lastErr)
			}
			return last, fmt.Errorf("%w before the metrics of %s got there", ctx.Err(), url)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ParseMetrics parses the Prometheus text exposition format. Comment lines
// (# HELP, # TYPE) are skipped; so are timestamps.
func ParseMetrics(r io.Reader) (Metrics, error) {
	var ms Metrics
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n, line, err)
		}
		ms = append(ms, s)
	}
	return ms, sc.Err()
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return s, fmt.Errorf("no value")
	}
	s.Name, line = line[:end], line[end:]
	if line[0] == '{' {
		rest, err := parseLabels(line[1:], s.Labels)
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
	s.Value = v
	return s, nil
}

// parseLabels reads `name="value",...}` into labels and returns what follows the brace.
func parseLabels(s string, labels map[string]string) (string, error) {
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		eq := strings.Index(s, "=\"")
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
				switch s[i] {
				case 'n':
					val.WriteByte('\n')
				default:
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

// Sum adds up the samples named name whose labels include all of match.
func (ms Metrics) Sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, s := range ms {
		if s.Name == name && s.matches(match) {
			total += s.Value
		}
	}
	return total
}

func (s Sample) matches(match map[string]string) bool {
	for k, v := range match {
		if s.Labels[k] != v {
			return false
		}
	}
	return true
}

// Named returns the samples whose name starts with prefix, sorted by name and labels.
func (ms Metrics) Named(prefix string) Metrics {
	var out Metrics
	for _, s := range ms {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// String formats the sample as a line of the text format, labels sorted.
func (s Sample) String() string {
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(s.Name)
	if len(keys) > 0 {
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", k, s.Labels[k])
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, " %g", s.Value)
	return b.String()
}
