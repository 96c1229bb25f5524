package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// resourceBase turns the module-relative path of a schema file into the URL
// the compiler knows it by. Relative $refs between files resolve against it,
// and no schema is ever read from disk or the network at run time.
const resourceBase = "file:///"

// Schema is a compiled JSON Schema (draft 2020-12) with formats asserted,
// the same verdict jsonschema/v5 gives with AssertFormat on.
type Schema struct {
	path   string
	schema *jsonschema.Schema
}

// CompileSchema compiles the schema at root, a module-relative path such as
// "schemas/execution/purchase_order_created.json". resources maps every such
// path that root may reference to that file's JSON text.
func CompileSchema(root string, resources map[string]string) (*Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.AssertContent = true
	c.LoadURL = func(s string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema %q is not among the compiled resources", strings.TrimPrefix(s, resourceBase))
	}
	paths := make([]string, 0, len(resources))
	for p := range resources {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := c.AddResource(resourceBase+p, strings.NewReader(resources[p])); err != nil {
			return nil, fmt.Errorf("schema %s: %w", p, err)
		}
	}
	s, err := c.Compile(resourceBase + root)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", root, err)
	}
	return &Schema{path: root, schema: s}, nil
}

// MustCompileSchema is CompileSchema for schemas that were already checked
// when the code holding them was generated; it panics on error.
func MustCompileSchema(root string, resources map[string]string) *Schema {
	s, err := CompileSchema(root, resources)
	if err != nil {
		panic(err)
	}
	return s
}

// Path returns the module-relative path of the schema's root file.
func (s *Schema) Path() string { return s.path }

// ValidateJSON checks one JSON document against the schema. It returns nil
// or a *ValidationError listing every failing JSON pointer.
func (s *Schema) ValidateJSON(data []byte) error {
	v, err := decodeJSON(data)
	if err != nil {
		return &ValidationError{Violations: []Violation{{Pointer: "", Message: err.Error()}}}
	}
	return s.ValidateValue(v)
}

// ValidateValue checks a document decoded with json.Number numbers.
func (s *Schema) ValidateValue(v any) (err error) {
	defer func() {
		// jsonschema/v5 dereferences a nil *big.Rat for a number math/big
		// cannot hold (1e9999999) when it meets a bound: an invalid
		// payload, not a crash.
		if r := recover(); r != nil {
			err = &ValidationError{Violations: []Violation{{Message: fmt.Sprintf("cannot be checked: %v", r)}}}
		}
	}()
	err = s.schema.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &ValidationError{Violations: []Violation{{Message: err.Error()}}}
	}
	return &ValidationError{Violations: violations(ve)}
}

// decodeJSON decodes exactly one JSON value, numbers kept exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: data after the top-level value")
	}
	return v, nil
}

// violations flattens jsonschema's tree of causes into its leaves, the
// concrete problems, sorted by pointer and without repeats.
func violations(ve *jsonschema.ValidationError) []Violation {
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, Violation{Pointer: e.InstanceLocation, Message: e.Message})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return slicesCompactViolations(out)
}

func slicesCompactViolations(vs []Violation) []Violation {
	if len(vs) < 2 {
		return vs
	}
	w := 1
	for r := 1; r < len(vs); r++ {
		if vs[r] != vs[w-1] {
			vs[w] = vs[r]
			w++
		}
	}
	return vs[:w]
}

// Violation is one failed constraint: where in the payload, and what.
type Violation struct {
	Pointer string // JSON pointer into the payload; "" is the whole payload
	Message string
}

func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + v.Message
}

// ValidationError reports a payload that breaks its event's schema. It
// matches ErrInvalidPayload with errors.Is.
type ValidationError struct {
	Subject    string // the event's subject, when known
	Violations []Violation
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("payload: invalid payload")
	if e.Subject != "" {
		fmt.Fprintf(&b, " for %q", e.Subject)
	}
	for i, v := range e.Violations {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidPayload) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidPayload }
