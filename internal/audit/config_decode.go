package audit

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// Configuration errors name the key they are about in one spelling, the
// collector's: map keys joined by "::" (the collector itself prefixes
// "processors::audit: "), a list's element by its index in brackets:
// "services::speech-to-text::regions[0]: invalid region id". Decoding
// (unknown keys, enums, types) and Check use it alike.

// keySep joins the keys of a path (confmap.KeyDelimiter).
const keySep = "::"

// Unmarshal decodes a component's configuration into cfg (a pointer to its
// Config) after CheckKeys; a component's confmap.Unmarshaler calls it.
func Unmarshal(conf *confmap.Conf, cfg any) error {
	if err := CheckKeys(conf.ToStringMap(), cfg); err != nil {
		return err
	}
	err := conf.Unmarshal(cfg)
	if err != nil {
		return respell(err)
	}
	return err
}

const decodingFailed = "decoding failed due to the following error(s):\n\n"

// decodePath is the path mapstructure puts first in a decoding error, in
// its spelling: fields joined by ".", map keys in brackets (” first for
// the root): "” 'reload.poll_interval' time: invalid duration".
var decodePath = regexp.MustCompile(`(?m)^(?:'' )?'([^']*)' `)

// respell gives a decoding error (of a value's type: an enum is checked by
// CheckKeys first) the package's spelling of its key path, without the
// preamble the collector adds around what returns from here.
func respell(err error) error {
	msg, _ := strings.CutPrefix(err.Error(), decodingFailed)
	msg = decodePath.ReplaceAllStringFunc(msg, func(m string) string {
		path := decodePath.FindStringSubmatch(m)[1]
		var b strings.Builder
		for i := 0; i < len(path); i++ {
			switch c := path[i]; c {
			case '.':
				b.WriteString(keySep)
			case '[':
				end := strings.IndexByte(path[i:], ']')
				if end < 0 {
					b.WriteString(path[i:])
					i = len(path)
					continue
				}
				key := path[i+1 : i+end]
				if _, numeric := strconv.Atoi(key); numeric == nil {
					b.WriteString("[" + key + "]")
				} else {
					b.WriteString(keySep + key)
				}
				i += end
			default:
				b.WriteByte(c)
			}
		}
		return b.String() + ": "
	})
	return errors.New(msg)
}

// CheckKeys rejects the keys of raw (a component's configuration as a map)
// that cfg (a pointer to its Config struct) has no field for, each with its
// path and, when a known key is close, the key it probably means:
// "unmached: unknown key (did you mean unmatched?)". The collector's own
// message names neither the path nor a suggestion. It also decodes every
// value of an enum type (an encoding.TextUnmarshaler), so that a bad one is
// rejected here, once, with its path: "unmatched: must be keep or drop, got
// \"kepp\"".
func CheckKeys(raw map[string]any, cfg any) error {
	return errors.Join(checkKeys(raw, reflect.TypeOf(cfg), "")...)
}

func checkKeys(raw map[string]any, t reflect.Type, path string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	collectFields(t, fields)
	var errs []error
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ft, ok := fields[k]
		if !ok {
			msg := fmt.Sprintf("%s%s: unknown key", path, k)
			if s := closest(k, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		errs = append(errs, checkEnums(raw[k], ft, path+k)...)
		sub, isMap := raw[k].(map[string]any)
		if !isMap {
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Struct:
			errs = append(errs, checkKeys(sub, ft, path+k+keySep)...)
		case reflect.Map: // keyed by a name: check each value
			names := make([]string, 0, len(sub))
			for name := range sub {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				if v, ok := sub[name].(map[string]any); ok {
					errs = append(errs, checkKeys(v, ft.Elem(), path+k+keySep+name+keySep)...)
				}
			}
		}
	}
	return errs
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// checkEnums decodes v, the value of key path, when t (or, for a list, its
// element type) is an enum type, and returns its errors with their paths.
func checkEnums(v any, t reflect.Type, path string) []error {
	if t.Kind() == reflect.Slice {
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		var errs []error
		for i, e := range list {
			errs = append(errs, checkEnums(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	}
	s, ok := v.(string)
	if !ok || !reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
		return []error{fmt.Errorf("%s: %w", path, err)}
	}
	return nil
}

// collectFields maps the mapstructure names of t's fields (squashed
// embedded structs included) to their types.
func collectFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if strings.Contains(opts, "squash") {
			collectFields(f.Type, fields)
			continue
		}
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fields[name] = f.Type
	}
}

// closest returns the known key nearest to k when it is near enough (an
// edit distance of at most a third of its length, at least 1), else "".
func closest(k string, fields map[string]reflect.Type) string {
	best, bestD := "", len(k)/3+1
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if d := editDistance(k, name); d <= bestD && (best == "" || d < editDistance(k, best)) {
			best = name
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
