package catalog

import (
	"bytes"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Encode writes c in the catalog format that Parse reads (README.md,
// "Catalogs"): comment, when not empty, as "# " lines on top; service and
// display name; the region table in flow style, one region a line (left
// out when c states no regions); one block per event with only the keys
// that say something (kind when not api, severity when set, data_event when
// true). Values with braces, brackets, commas or asterisks are
// single-quoted so they read the same in any YAML reader. Parse(Encode(c))
// gives c back, but for Source and the events' Line.
func Encode(c *Catalog, comment string) ([]byte, error) {
	regions := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range c.Regions {
		kv := []any{"id", str(r.ID)}
		if r.Name != "" {
			kv = append(kv, "name", str(r.Name))
		}
		if r.Geography != "" {
			kv = append(kv, "geography", str(r.Geography))
		}
		kv = append(kv, "sends_events", boolean(r.SendsEvents))
		regions.Content = append(regions.Content, mapping(yaml.FlowStyle, kv...))
	}
	events := &yaml.Node{Kind: yaml.SequenceNode}
	for i := range c.Events {
		ev := &c.Events[i]
		kv := []any{"action", str(ev.Action)}
		if ev.Kind != KindAPI && ev.Kind != "" {
			kv = append(kv, "kind", str(ev.Kind))
		}
		if ev.HasRoute() {
			key := "route"
			if ev.RouteIsRegex {
				key = "route_regex"
			}
			kv = append(kv, "method", str(ev.Method), key, str(ev.Route))
		}
		if ev.Description != "" {
			kv = append(kv, "description", str(ev.Description))
		}
		if ev.Severity != "" {
			kv = append(kv, "severity", str(ev.Severity))
		}
		if ev.DataEvent {
			kv = append(kv, "data_event", boolean(true))
		}
		events.Content = append(events.Content, mapping(0, kv...))
	}
	kv := []any{"service", str(c.Service), "display_name", str(c.DisplayName)}
	if len(c.Regions) > 0 { // none: the catalog does not state its regions
		kv = append(kv, "regions", regions)
	}
	doc := mapping(0, append(kv, "events", events)...)
	doc.HeadComment = comment
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.ContainsAny(s, "{}[],*") {
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// mapping builds a mapping from key, value pairs; values are *yaml.Node.
func mapping(style yaml.Style, kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Style: style}
	for i := 0; i < len(kv); i += 2 {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: kv[i].(string)}, kv[i+1].(*yaml.Node))
	}
	return m
}
