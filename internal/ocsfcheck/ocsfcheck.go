// Package ocsfcheck checks an OCSF event against facts taken from the
// schema itself: the public github.com/ocsf/ocsf-schema repository at a
// release tag, reduced by generate.go to what a check needs (attribute
// names, types, requirement levels, enum ids and their captions, the
// profiles the event applies) for the API Activity class and the objects
// the audit connector writes. The connector's tests and e2e run it on every
// OCSF event they see; it is a test helper, not used at run time.
//
// An event passes when every attribute is one its class or object defines
// (a profile's only when metadata.profiles lists the profile), every
// required one is present, every value has its type (timestamp_t is an
// integer of milliseconds; integer_t fits 32 bits), every enum id is one
// the schema lists, a sibling name (activity_name beside activity_id) is
// its id's caption (any non-empty text for 99, Other), type_uid is
// class_uid * 100 + activity_id, and metadata.version is the tag.
package ocsfcheck // import "github.com/otel-audit/auditprocessor/internal/ocsfcheck"

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Version is the OCSF release the facts come from.
const Version = "1.8.0"

//go:embed testdata/schema-1.8.0.json
var facts []byte

// Attr is what the schema says of one attribute.
type Attr struct {
	// Type is a scalar type (string_t, timestamp_t, ...; Types gives its
	// base) or an object's name ("object" is any object).
	Type        string            `json:"type"`
	Array       bool              `json:"array,omitempty"`
	Requirement string            `json:"requirement"`
	Enum        map[string]string `json:"enum,omitempty"` // id -> caption
	Sibling     string            `json:"sibling,omitempty"`
	Profile     string            `json:"profile,omitempty"`
}

// Class is the event class.
type Class struct {
	Name        string          `json:"name"`
	UID         int             `json:"uid"`
	CategoryUID int             `json:"category_uid"`
	Attributes  map[string]Attr `json:"attributes"`
}

// Object is an object's attributes.
type Object struct {
	Attributes map[string]Attr `json:"attributes"`
}

// Schema is the facts of one class at one tag.
type Schema struct {
	Source   string            `json:"source"`
	Tag      string            `json:"tag"`
	Profiles []string          `json:"profiles"`
	Types    map[string]string `json:"types"`
	Class    Class             `json:"class"`
	Objects  map[string]Object `json:"objects"`
}

// Load returns the facts of OCSF Version's API Activity class.
func Load() (*Schema, error) {
	s := new(Schema)
	if err := json.Unmarshal(facts, s); err != nil {
		return nil, fmt.Errorf("ocsfcheck: the schema facts: %w", err)
	}
	if s.Tag != Version {
		return nil, fmt.Errorf("ocsfcheck: the facts are of %s, not %s", s.Tag, Version)
	}
	return s, nil
}

// CheckJSON decodes an event's JSON text (numbers kept exact) and checks it.
func (s *Schema) CheckJSON(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var event map[string]any
	if err := d.Decode(&event); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if d.More() {
		return errors.New("more than one JSON value")
	}
	return s.Check(event)
}

// Check returns every way event (a JSON object: decoded JSON or a pdata
// map's AsRaw) departs from the class; nil when it conforms.
func (s *Schema) Check(event map[string]any) error {
	c := &checker{s: s, applied: map[string]bool{}}
	if md, ok := event["metadata"].(map[string]any); ok {
		if list, ok := md["profiles"].([]any); ok {
			for _, p := range list {
				if name, ok := p.(string); ok {
					c.applied[name] = true
				}
			}
		}
		if v, ok := md["version"]; ok && v != s.Tag {
			c.fail("metadata.version", "is %v, the facts are of %s", v, s.Tag)
		}
	}
	c.object("", s.Class.Attributes, event)
	activity, ok1 := integer(event["activity_id"])
	class, ok2 := integer(event["class_uid"])
	typ, ok3 := integer(event["type_uid"])
	if ok1 && ok2 && ok3 && typ != class*100+activity {
		c.fail("type_uid", "is %d, not class_uid * 100 + activity_id (%d)", typ, class*100+activity)
	}
	return errors.Join(c.errs...)
}

type checker struct {
	s       *Schema
	applied map[string]bool
	errs    []error
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: "+format, append([]any{path}, args...)...))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// object checks the attributes of one object (or of the event, path "").
func (c *checker) object(path string, attrs map[string]Attr, value map[string]any) {
	keys := make([]string, 0, len(value))
	for k := range value {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		a, ok := attrs[k]
		p := join(path, k)
		switch {
		case !ok:
			c.fail(p, "is not an attribute of %s", c.owner(path))
		case a.Profile != "" && !c.applied[a.Profile]:
			c.fail(p, "belongs to profile %s, which metadata.profiles does not list", a.Profile)
		default:
			c.attr(p, a, value[k])
			if a.Sibling != "" {
				c.sibling(path, k, a, value)
			}
		}
	}
	names := make([]string, 0, len(attrs))
	for k, a := range attrs {
		if a.Requirement == "required" && (a.Profile == "" || c.applied[a.Profile]) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if _, ok := value[k]; !ok {
			c.fail(join(path, k), "is required and missing")
		}
	}
}

func (c *checker) owner(path string) string {
	if path == "" {
		return "class " + c.s.Class.Name
	}
	return "its object"
}

// sibling checks the name beside an enum id: its caption, or any text for
// 99 (Other), which then needs it.
func (c *checker) sibling(path, key string, a Attr, value map[string]any) {
	id, ok := integer(value[key])
	if !ok {
		return
	}
	name, has := value[a.Sibling]
	p := join(path, a.Sibling)
	if id == 99 {
		if s, ok := name.(string); !has || !ok || s == "" {
			c.fail(p, "is required beside %s 99 (Other)", key)
		}
		return
	}
	if caption, known := a.Enum[strconv.FormatInt(id, 10)]; has && known && name != caption {
		c.fail(p, "is %v, not %q, the caption of %s %d", name, caption, key, id)
	}
}

func (c *checker) attr(path string, a Attr, v any) {
	if !a.Array {
		c.value(path, a, v)
		return
	}
	list, ok := v.([]any)
	if !ok {
		c.fail(path, "is %T, not an array", v)
		return
	}
	for i, e := range list {
		c.value(fmt.Sprintf("%s[%d]", path, i), a, e)
	}
}

func (c *checker) value(path string, a Attr, v any) {
	base, scalar := c.s.Types[a.Type]
	if !scalar {
		m, ok := v.(map[string]any)
		if !ok {
			c.fail(path, "is %T, not the object %s", v, a.Type)
			return
		}
		if a.Type == "object" {
			return // any object (unmapped)
		}
		o, known := c.s.Objects[a.Type]
		if !known {
			c.fail(path, "is object %s, of which the facts hold nothing (generate.go lists the objects)", a.Type)
			return
		}
		c.object(path, o.Attributes, m)
		return
	}
	ok := true
	switch base {
	case "string_t":
		_, ok = v.(string)
	case "integer_t":
		n, isInt := integer(v)
		ok = isInt && n >= math.MinInt32 && n <= math.MaxInt32
	case "long_t":
		_, ok = integer(v)
	case "float_t":
		_, ok = number(v)
	case "boolean_t":
		_, ok = v.(bool)
	case "json_t":
	default:
		c.fail(path, "has type %s, which the check does not know", a.Type)
		return
	}
	if !ok {
		c.fail(path, "is %T %v, not %s", v, v, a.Type)
		return
	}
	if len(a.Enum) > 0 {
		id := fmt.Sprint(v)
		if n, isInt := integer(v); isInt {
			id = strconv.FormatInt(n, 10)
		}
		if _, known := a.Enum[id]; !known {
			c.fail(path, "is %s, not an id the schema lists", id)
		}
	}
}

// integer reads a whole number as pdata (int64) or a JSON decoder
// (float64, json.Number) gives it.
func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	i, ok := integer(v)
	return float64(i), ok
}
