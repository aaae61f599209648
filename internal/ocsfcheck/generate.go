//go:build ignore

// generate extracts from a checkout of the public OCSF schema repository
// (github.com/ocsf/ocsf-schema, at a release tag) the facts the check
// needs for one event class: the attributes of the class (its base event
// and the profiles it applies), of the objects it emits, their types,
// requirement levels and enum ids. It keeps no descriptions.
//
//	git -C ocsf-schema archive 1.8.0 | tar -x -C /tmp/ocsf-1.8.0
//	go run generate.go -schema /tmp/ocsf-1.8.0 -tag 1.8.0 > testdata/schema-1.8.0.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/otel-audit/auditprocessor/internal/ocsfcheck"
)

// What the connector emits (auditconnector/ocsf.go): the class, the
// profiles it applies and the objects it writes. "object" (unmapped) is
// free-form and needs no facts.
var (
	className = "api_activity"
	profiles  = []string{"cloud", "trace"}
	objects   = []string{"actor", "api", "cloud", "http_request", "http_response", "metadata", "network_endpoint",
		"product", "reporter", "request", "resource_details", "response", "service", "trace", "url", "user"}
)

type rawAttr struct {
	Type        string                     `json:"type"`
	IsArray     *bool                      `json:"is_array"`
	Requirement string                     `json:"requirement"`
	Enum        map[string]json.RawMessage `json:"enum"`
	Sibling     string                     `json:"sibling"`
	Profile     *string                    `json:"profile"`
	hasProfile  bool
}

type rawFile struct {
	UID        int                        `json:"uid"`
	Name       string                     `json:"name"`
	Caption    string                     `json:"caption"`
	Extends    string                     `json:"extends"`
	Category   string                     `json:"category"`
	Attributes map[string]json.RawMessage `json:"attributes"`
}

var root string

func read(path string, v any) {
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		fail(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func captionOf(raw json.RawMessage) string {
	var e struct {
		Caption string `json:"caption"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Caption
}

// merged is an attribute as the schema server resolves it: the dictionary's
// entry, then each level from the root of the extends chain down.
type merged struct {
	ocsfcheck.Attr
	set bool
}

// attrsOf resolves the attributes of a class or object file, its parents
// first; profile includes carry their profile's name.
func attrsOf(name string, find func(string) string) map[string]*merged {
	var f rawFile
	read(find(name), &f)
	out := map[string]*merged{}
	if f.Extends != "" {
		out = attrsOf(f.Extends, find)
	}
	apply := func(attrs map[string]json.RawMessage, profile string) {
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			if k == "$include" {
				continue
			}
			var a rawAttr
			if err := json.Unmarshal(attrs[k], &a); err != nil {
				fail(err)
			}
			var probe map[string]json.RawMessage
			_ = json.Unmarshal(attrs[k], &probe)
			_, a.hasProfile = probe["profile"]
			m := out[k]
			if m == nil {
				m = &merged{}
				out[k] = m
			}
			if profile != "" && !m.set {
				m.Profile = profile
			}
			if a.hasProfile {
				m.Profile = ""
				if a.Profile != nil {
					m.Profile = *a.Profile
				}
			}
			m.set = true
			if a.Requirement != "" {
				m.Requirement = a.Requirement
			}
			if a.Type != "" {
				m.Type = a.Type
			}
			if a.IsArray != nil {
				m.Array = *a.IsArray
			}
			for id, e := range a.Enum {
				if m.Enum == nil {
					m.Enum = map[string]string{}
				}
				m.Enum[id] = captionOf(e)
			}
		}
	}
	if inc, ok := f.Attributes["$include"]; ok {
		var files []string
		if err := json.Unmarshal(inc, &files); err != nil {
			fail(err)
		}
		for _, p := range files {
			var pf rawFile
			read(p, &pf)
			apply(pf.Attributes, pf.Name)
		}
	}
	apply(f.Attributes, "")
	return out
}

func main() {
	flag.StringVar(&root, "schema", "", "a checkout of github.com/ocsf/ocsf-schema at a release tag")
	tag := flag.String("tag", "", "the release tag of the checkout")
	flag.Parse()
	if root == "" || *tag == "" {
		fail(fmt.Errorf("usage: go run generate.go -schema DIR -tag TAG"))
	}
	var version struct {
		Version string `json:"version"`
	}
	read("version.json", &version)
	if strings.TrimPrefix(*tag, "v") != version.Version {
		fail(fmt.Errorf("the checkout is version %s, not %s", version.Version, *tag))
	}
	var dict struct {
		Attributes map[string]json.RawMessage `json:"attributes"`
		Types      struct {
			Attributes map[string]struct {
				Type string `json:"type"`
			} `json:"attributes"`
		} `json:"types"`
	}
	read("dictionary.json", &dict)
	var cats struct {
		Attributes map[string]struct {
			UID     int    `json:"uid"`
			Caption string `json:"caption"`
		} `json:"attributes"`
	}
	read("categories.json", &cats)

	findEvent := func(name string) string {
		var found string
		_ = filepath.WalkDir(filepath.Join(root, "events"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == name+".json" {
				found, _ = filepath.Rel(root, p)
			}
			return nil
		})
		if found == "" {
			fail(fmt.Errorf("no event class %s", name))
		}
		return found
	}
	findObject := func(name string) string { return filepath.Join("objects", name+".json") }

	types := map[string]string{}
	resolve := func(in map[string]*merged) map[string]ocsfcheck.Attr {
		out := map[string]ocsfcheck.Attr{}
		for k, m := range in {
			if m.Profile != "" && !slices.Contains(profiles, m.Profile) {
				continue // a profile this event does not apply
			}
			var d rawAttr
			raw, ok := dict.Attributes[k]
			if !ok {
				fail(fmt.Errorf("%s is not in the dictionary", k))
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				fail(err)
			}
			a := m.Attr
			if a.Type == "" {
				a.Type = d.Type
			}
			if d.IsArray != nil && *d.IsArray {
				a.Array = true
			}
			a.Sibling = d.Sibling
			if len(d.Enum) > 0 {
				all := map[string]string{}
				for id, e := range d.Enum {
					all[id] = captionOf(e)
				}
				maps.Copy(all, a.Enum) // the class's captions win
				a.Enum = all
			}
			if a.Requirement == "" {
				a.Requirement = "optional"
			}
			if t, ok := dict.Types.Attributes[a.Type]; ok {
				base := a.Type
				if t.Type != "" {
					base = t.Type
				}
				types[a.Type] = base
			}
			out[k] = a
		}
		return out
	}

	var cf rawFile
	read(findEvent(className), &cf)
	category := cf.Category
	for p := cf.Extends; category == ""; {
		var pf rawFile
		read(findEvent(p), &pf)
		category, p = pf.Category, pf.Extends
	}
	cat := cats.Attributes[category]
	class := ocsfcheck.Class{Name: className, CategoryUID: cat.UID, UID: cat.UID*1000 + cf.UID}
	class.Attributes = resolve(attrsOf(className, findEvent))
	// The ids the schema server derives: the category's, the class's, and
	// type_uid = class_uid * 100 + activity_id.
	set := func(k string, enum map[string]string) {
		a := class.Attributes[k]
		a.Enum = enum
		class.Attributes[k] = a
	}
	set("category_uid", map[string]string{strconv.Itoa(cat.UID): cat.Caption})
	set("class_uid", map[string]string{strconv.Itoa(class.UID): cf.Caption})
	typeIDs := map[string]string{}
	for id, caption := range class.Attributes["activity_id"].Enum {
		n, err := strconv.Atoi(id)
		if err != nil {
			fail(err)
		}
		typeIDs[strconv.Itoa(class.UID*100+n)] = cf.Caption + ": " + caption
	}
	set("type_uid", typeIDs)

	out := ocsfcheck.Schema{Source: "github.com/ocsf/ocsf-schema", Tag: *tag, Profiles: profiles, Types: types, Class: class, Objects: map[string]ocsfcheck.Object{}}
	for _, o := range objects {
		out.Objects[o] = ocsfcheck.Object{Attributes: resolve(attrsOf(o, findObject))}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}
