package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/giia/events/sdk/payload"
	"github.com/santhosh-tekuri/jsonschema/v5"
	"go.yaml.in/yaml/v3"
)

// draft202012 is the only JSON Schema dialect the catalog uses.
const draft202012 = "https://json-schema.org/draft/2020-12/schema"

// schemaState is one schema file as loaded: its content, or why it could
// not be read, and the files its $refs reach.
type schemaState struct {
	abs     string
	path    string      // module-relative slash path
	file    *SchemaFile // nil when the file could not be read or parsed
	readErr error       // reading failed: the referrer reports it
	bad     bool        // the file has diagnostics of its own
	refs    []*schemaState
}

// Event returns the event with the given subject.
func (c *Catalog) Event(subject string) (*Event, bool) {
	i, ok := slices.BinarySearchFunc(c.Events, subject, func(e Event, s string) int { return strings.Compare(e.Subject, s) })
	if !ok {
		return nil, false
	}
	return &c.Events[i], true
}

// Resources returns the text of every schema file of the catalog, keyed by
// its module-relative path: the resources payload.CompileSchema takes.
func (c *Catalog) Resources() map[string]string {
	res := make(map[string]string, len(c.Schemas))
	for p, s := range c.Schemas {
		res[p] = string(s.Raw)
	}
	return res
}

// Compile compiles the payload schema of the event with the given subject.
func (c *Catalog) Compile(subject string) (*payload.Schema, error) {
	e, ok := c.Event(subject)
	if !ok {
		return nil, fmt.Errorf("catalog: unknown subject %q", subject)
	}
	s, err := payload.CompileSchema(e.Schema, c.Resources())
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return s, nil
}

// checkSchemas loads the schema of every event and of each of its older
// versions, compiles it and validates the examples against it.
func (l *loader) checkSchemas() {
	for _, e := range l.events {
		if e.schemaOK {
			e.Schema = l.checkSchema(e.file, e.SchemaURL, e.SchemaPos, e.Examples, e.ExamplesPos, e.exampleOK, e.Subject, "")
		}
		for _, v := range e.versions {
			if v.schemaOK {
				v.Schema = l.checkSchema(e.file, v.SchemaURL, v.SchemaPos, v.Examples, v.ExamplesPos, v.exampleOK, e.Subject, fmt.Sprintf(" version %d", v.Version))
			}
		}
	}
}

// checkSchema loads the schema url, written in the catalog file at pos,
// compiles it and validates the examples (those whose ok is true) against
// it. It returns the schema's module-relative path, or "" when it lies
// outside the module. label names the version in messages (" version 1").
func (l *loader) checkSchema(file, url string, pos Pos, examples []json.RawMessage, examplesPos []Pos, ok []bool, subject, label string) string {
	abs := filepath.Join(filepath.Dir(file), filepath.FromSlash(url))
	rel, inside := l.rel(abs)
	if !inside {
		l.errorf(pos, "schema %s is outside the module root", quote(url))
		return ""
	}
	s := l.loadSchema(abs)
	if s.readErr != nil {
		if errors.Is(s.readErr, fs.ErrNotExist) {
			l.errorf(pos, "schema %s not found", quote(url))
		} else {
			l.errorf(pos, "schema %s cannot be read: %v", quote(url), s.readErr)
		}
		return rel
	}
	closure, reached := reach(s)
	if !reached {
		return rel // the broken file is reported already
	}
	res := make(map[string]string, len(closure))
	for _, c := range closure {
		res[c.path] = string(c.file.Raw)
	}
	compiled, err := payload.CompileSchema(rel, res)
	if err != nil {
		l.errorf(pos, "schema %s does not compile: %s", quote(url), l.compileMessage(err))
		return rel
	}
	for i, raw := range examples {
		if !ok[i] {
			continue
		}
		err := compiled.ValidateJSON(raw)
		var ve *payload.ValidationError
		if errors.As(err, &ve) {
			for _, v := range ve.Violations {
				l.errorf(examplesPos[i], "example %d of %s%s is invalid: %s", i+1, quote(subject), label, v)
			}
		}
	}
	return rel
}

// reach returns the schema files s reaches through $refs, s first, and
// false when one of them is broken.
func reach(s *schemaState) ([]*schemaState, bool) {
	seen := map[*schemaState]bool{s: true}
	out := []*schemaState{s}
	for i := 0; i < len(out); i++ {
		if out[i].bad || out[i].file == nil {
			return nil, false
		}
		for _, r := range out[i].refs {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out, true
}

// loadSchema reads and parses one schema file, once, and the files its
// relative $refs name, transitively.
func (l *loader) loadSchema(abs string) *schemaState {
	if s, ok := l.schemas[abs]; ok {
		return s
	}
	path, _ := l.rel(abs)
	s := &schemaState{abs: abs, path: path}
	l.schemas[abs] = s
	raw, err := os.ReadFile(abs)
	if err != nil {
		s.readErr = err
		return s
	}
	show := l.show(abs)
	doc, dups, err := parseJSON(raw)
	if err != nil {
		var je *jsonError
		if errors.As(err, &je) {
			l.errorf(Pos{File: show, Line: je.Line, Col: je.Col}, "invalid JSON: %s", je.Msg)
		} else {
			l.errorf(Pos{File: show}, "invalid JSON: %v", err)
		}
		s.bad = true
		return s
	}
	s.file = &SchemaFile{Path: path, Raw: raw, Node: doc}
	for _, d := range dups {
		l.errorf(l.pos(abs, d.Next), "duplicate key %s (first defined at %s)", quote(d.Key), l.pos(abs, d.First))
		s.bad = true
	}
	root := doc.Content[0]
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if k, v := root.Content[i], root.Content[i+1]; k.Value == "$schema" && (v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || strings.TrimSuffix(v.Value, "#") != draft202012) {
				l.errorf(l.pos(abs, v), "\"$schema\" must be %s (%s)", quote(draft202012), found(v))
				s.bad = true
			}
		}
	}
	l.walkSchema(s, root)
	return s
}

// Keywords whose value is a schema, a list of schemas, or a mapping of
// names to schemas. Other keywords (const, enum, default, examples, ...)
// hold data, where a "$ref" key is not a reference.
var (
	schemaKeywords = map[string]bool{
		"items": true, "additionalProperties": true, "not": true, "if": true, "then": true, "else": true,
		"contains": true, "propertyNames": true, "unevaluatedItems": true, "unevaluatedProperties": true,
		"additionalItems": true, "contentSchema": true,
	}
	schemaListKeywords = map[string]bool{"allOf": true, "anyOf": true, "oneOf": true, "prefixItems": true}
	schemaMapKeywords  = map[string]bool{"properties": true, "$defs": true, "definitions": true, "patternProperties": true, "dependentSchemas": true}
)

// walkSchema finds the $refs of a schema and loads the files they name.
func (l *loader) walkSchema(s *schemaState, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch {
		case k == "$ref" && v.Kind == yaml.ScalarNode:
			l.followRef(s, v)
		case schemaKeywords[k] && v.Kind == yaml.SequenceNode, schemaListKeywords[k]:
			for _, c := range v.Content {
				l.walkSchema(s, c)
			}
		case schemaKeywords[k]:
			l.walkSchema(s, v)
		case schemaMapKeywords[k] && v.Kind == yaml.MappingNode:
			for j := 1; j < len(v.Content); j += 2 {
				l.walkSchema(s, v.Content[j])
			}
		}
	}
}

// followRef loads the file a $ref names, when it names one.
func (l *loader) followRef(s *schemaState, v *yaml.Node) {
	ref := v.Value
	at := l.pos(s.abs, v)
	file, _, _ := strings.Cut(ref, "#")
	if file == "" {
		return // within this document
	}
	u, err := url.Parse(file)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(file, "/") || u.RawQuery != "" {
		l.errorf(at, "$ref %s must be a relative file path (want e.g. \"../common/quantity.json\" or \"../common/product.json#/$defs/product_ref\")", quote(ref))
		s.bad = true
		return
	}
	abs := filepath.Join(filepath.Dir(s.abs), filepath.FromSlash(u.Path))
	rel, inside := l.rel(abs)
	if !inside {
		l.errorf(at, "$ref %s points outside the module root", quote(ref))
		s.bad = true
		return
	}
	t := l.loadSchema(abs)
	if t.readErr != nil {
		if errors.Is(t.readErr, fs.ErrNotExist) {
			l.errorf(at, "$ref %s not found (no file %s)", quote(ref), rel)
		} else {
			l.errorf(at, "$ref %s cannot be read: %v", quote(ref), t.readErr)
		}
		s.bad = true
		return
	}
	if !slices.Contains(s.refs, t) {
		s.refs = append(s.refs, t)
	}
}

// compileMessage turns a compile error into a short message: the schema
// file and JSON pointer at fault, with its line and column, and what is
// wrong.
func (l *loader) compileMessage(err error) string {
	var se *jsonschema.SchemaError
	if errors.As(err, &se) {
		where := strings.TrimPrefix(se.SchemaURL, "file:///")
		var ve *jsonschema.ValidationError
		if errors.As(se.Err, &ve) {
			// The schema breaks the draft 2020-12 meta-schema.
			leaf := ve
			for len(leaf.Causes) > 0 {
				leaf = leaf.Causes[0]
			}
			pointer := leaf.InstanceLocation
			if pointer == "" {
				pointer = "/"
			}
			if p, ok := l.pointerPos(where, leaf.InstanceLocation); ok {
				where = p.String()
			}
			return fmt.Sprintf("%s: %s: %s", where, pointer, leaf.Message)
		}
		if se.Err != nil {
			msg := cleanCompileError(se.Err.Error())
			if strings.Contains(msg, ".json") {
				return msg
			}
			return where + ": " + msg
		}
	}
	return cleanCompileError(err.Error())
}

func cleanCompileError(msg string) string {
	msg = strings.TrimPrefix(msg, "jsonschema: ")
	return strings.ReplaceAll(msg, "file:///", "")
}

// pointerPos finds the position of the value at a JSON pointer in a loaded
// schema file.
func (l *loader) pointerPos(path, pointer string) (Pos, bool) {
	var s *schemaState
	for _, c := range l.schemas {
		if c.path == path && c.file != nil {
			s = c
		}
	}
	if s == nil {
		return Pos{}, false
	}
	n := s.file.Node.Content[0]
	if pointer != "" {
		for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			var next *yaml.Node
			switch n.Kind {
			case yaml.MappingNode:
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == tok {
						next = n.Content[i+1]
					}
				}
			case yaml.SequenceNode:
				if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
					next = n.Content[i]
				}
			}
			if next == nil {
				return Pos{}, false
			}
			n = next
		}
	}
	return l.pos(s.abs, n), true
}

// ParseSchemaFile parses the JSON text of a schema file as Load does, for
// schemas kept elsewhere than in the module's files (package compat's
// history). path is the module-relative slash path the text had.
func ParseSchemaFile(path string, raw []byte) (*SchemaFile, error) {
	doc, dups, err := parseJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", path, err)
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("%s: duplicate key %q", path, dups[0].Key)
	}
	return &SchemaFile{Path: path, Raw: raw, Node: doc}, nil
}
