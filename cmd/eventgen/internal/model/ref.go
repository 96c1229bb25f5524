package model

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// Ref is the target of a $ref, or a schema found by its JSON pointer.
type Ref struct {
	File    string     // module-relative slash path of the schema file
	Pointer string     // escaped JSON pointer into File; "" is the whole document
	Node    *yaml.Node // the target schema
	// Name is the name Build gives a type made for the target: CamelCase of
	// the pointer's last token, or of the file's base name. (A payload
	// file keeps its event's name instead; Model.Types has it.)
	Name string
}

// Key returns "File#Pointer", the same for every reference to one schema.
func (r Ref) Key() string { return location{file: r.File, pointer: r.Pointer}.key() }

// Resolver resolves $refs and JSON pointers in the schema files of a
// catalog exactly as Build does, for the emitters that print schemas
// rather than Go (documentation, AsyncAPI).
type Resolver struct{ b *builder }

// NewResolver returns a Resolver of cat's schema files.
func NewResolver(cat *catalog.Catalog) *Resolver { return &Resolver{b: newBuilder(cat)} }

// Resolve returns the target of ref, written in the schema file file: it
// resolves against the file's root $id, or its path.
func (r *Resolver) Resolve(file, ref string) (Ref, error) {
	if _, ok := r.b.bases[file]; !ok {
		return Ref{}, fmt.Errorf("no schema file %s was loaded", file)
	}
	at, node, name, err := r.b.resolve(file, ref)
	if err != nil {
		return Ref{}, err
	}
	return Ref{File: at.file, Pointer: at.pointer, Node: node, Name: name}, nil
}

// Lookup returns the schema at the escaped JSON pointer of file ("" for
// the whole document), as Type.File and Type.Pointer name it.
func (r *Resolver) Lookup(file, pointer string) (*yaml.Node, bool) {
	f := r.b.cat.Schemas[file]
	if f == nil || f.Node == nil {
		return nil, false
	}
	n := documentRoot(f.Node)
	if pointer == "" {
		return n, true
	}
	if !strings.HasPrefix(pointer, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(pointer[1:], "/") {
		if n = memberOf(n, unescapePointer(tok)); n == nil {
			return nil, false
		}
	}
	return n, true
}

// EscapePointer escapes a token of a JSON pointer ("~" as "~0", "/" as "~1").
func EscapePointer(token string) string { return escapePointer(token) }

// Member returns the value of key in the JSON object n, or nil.
func Member(n *yaml.Node, key string) *yaml.Node { return findKey(n, key) }
