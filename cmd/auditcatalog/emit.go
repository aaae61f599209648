package main

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/catalog"
)

// encodeCatalog writes an imported catalog in the catalog format, as the
// built-in catalogs are written: a three-line header comment, the region
// table in flow style (left out when the source states no regions), one
// block per event. Values with braces, brackets,
// commas or asterisks are single-quoted so they read the same in any YAML
// reader.
func encodeCatalog(im *imported, pageName string) ([]byte, error) {
	c := im.cat
	var sending []string
	for _, r := range c.Regions {
		if r.SendsEvents {
			sending = append(sending, r.ID)
		}
	}
	sends := "no region sends events"
	if len(sending) > 0 {
		sends = "events sent from " + strings.Join(sending, ", ")
	}
	regionsLine := fmt.Sprintf("%d %s (%s)", len(c.Regions), plural(len(c.Regions), "region", "regions"), sends)
	if len(c.Regions) == 0 {
		regionsLine = "Regions not stated (the processor keeps events from every region)"
	}
	source := "page"
	if im.operations > 0 {
		source = "description"
	}
	header := fmt.Sprintf("%s audit event catalog, imported by auditcatalog from %s:\n"+
		"%s, %d API %s with a route, %d without one.\n"+
		"Change the %s and import it again rather than editing this file.",
		c.DisplayName, pageName, regionsLine, im.api, plural(im.api, "event", "events"), im.other, source)

	regions := seq(0)
	for _, r := range c.Regions {
		kv := []any{"id", str(r.ID)}
		if r.Name != "" {
			kv = append(kv, "name", str(r.Name))
		}
		if r.Geography != "" {
			kv = append(kv, "geography", str(r.Geography))
		}
		kv = append(kv, "sends_events", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(r.SendsEvents)})
		m := mapping(yaml.FlowStyle, kv...)
		regions.Content = append(regions.Content, m)
	}
	events := seq(0)
	for _, ev := range c.Events {
		kv := []any{"action", str(ev.Action)}
		if ev.Kind != catalog.KindAPI {
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
		events.Content = append(events.Content, mapping(0, kv...))
	}
	kv := []any{"service", str(c.Service), "display_name", str(c.DisplayName)}
	if len(c.Regions) > 0 { // none: the catalog does not state its regions
		kv = append(kv, "regions", regions)
	}
	doc := mapping(0, append(kv, "events", events)...)
	doc.HeadComment = header
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

func seq(style yaml.Style) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Style: style}
}

// mapping builds a mapping from key, value pairs; values are *yaml.Node.
func mapping(style yaml.Style, kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Style: style}
	for i := 0; i < len(kv); i += 2 {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: kv[i].(string)}, kv[i+1].(*yaml.Node))
	}
	return m
}
