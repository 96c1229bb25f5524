package web

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/internal/problem"
)

// strict refuses, in body, what encoding/json would accept but read as
// another document than the one sent, as the wire decoder refuses it:
// bytes that are not UTF-8 (encoding/json turns them into U+FFFD), a key
// repeated in one object (encoding/json keeps the last value), and a key
// that names a field of t only when case is ignored (encoding/json
// matches keys case-insensitively). Syntax errors and unknown fields are
// left to the decoding, which names them. The field of a refusal is its
// path, as "lines[0].quantity".
func strict(body []byte, t reflect.Type) error {
	if !utf8.Valid(body) {
		return problem.Invalidf("", "request body is not valid UTF-8")
	}
	var s payload.JSONScanner
	s.Reset(body)
	return walkStrict(&s, t, "")
}

// walkStrict reads the next value of s as one of type t (nil: any).
func walkStrict(s *payload.JSONScanner, t reflect.Type, at string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)) {
		t = nil // its own decoding: only what every document must be
	}
	switch s.Value() {
	case payload.JSONObject:
		var fields map[string]structField
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = fieldsOf(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		seen := map[string]bool{}
		for s.Member() {
			key := s.Key()
			path := memberPath(at, key)
			if seen[key] {
				return problem.Invalidf(path, "repeated key: each key may appear once in an object")
			}
			seen[key] = true
			next := elem
			if fields != nil {
				f, ok := fields[key]
				if !ok {
					if exact, ok := foldedField(fields, key); ok {
						return problem.Invalidf(path, "unknown field (keys are case-sensitive: did you mean %q?)", exact)
					}
					s.Skip() // the decoding names it
					continue
				}
				next = f.typ
			}
			if err := walkStrict(s, next, path); err != nil {
				return err
			}
		}
	case payload.JSONArray:
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; s.Element(); i++ {
			if err := walkStrict(s, elem, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// memberPath is the path of key in the object at at.
func memberPath(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// foldedField returns the exact name of the field key names when case is
// ignored.
func foldedField(fields map[string]structField, key string) (string, bool) {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return name, true
		}
	}
	return "", false
}

// structField is a field of a request type as encoding/json reads it.
type structField struct{ typ reflect.Type }

var fieldCache sync.Map // reflect.Type: map[string]structField

// fieldsOf returns the fields encoding/json decodes into t by their JSON
// names, those of embedded structs included.
func fieldsOf(t reflect.Type) map[string]structField {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]structField)
	}
	fields := map[string]structField{}
	addFields(fields, t)
	fieldCache.Store(t, fields)
	return fields
}

func addFields(fields map[string]structField, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(fields, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = structField{typ: f.Type}
	}
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
