package model

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/naming"
)

// Supported lists, in the order of error messages, the schema keywords that
// have a Go meaning or none (annotations, constraints that only Validate
// checks). Any other keyword is a generation error.
var Supported = []string{
	"$schema", "$id", "$comment", "title", "description", "examples", "default",
	"deprecated", "readOnly", "writeOnly", "$defs", "$ref", "type", "properties",
	"required", "additionalProperties", "enum", "const", "minLength", "maxLength",
	"pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"multipleOf", "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "minProperties",
	"maxProperties", "allOf",
}

// Formats lists the supported values of "format".
var Formats = []string{"date-time", "date", "uuid", "email", "uri"}

var (
	supported = setOf(Supported...)

	// shapeKeywords decide a Go type; next to $ref they would make a type
	// that is neither the target's nor their own.
	shapeKeywords = []string{"type", "properties", "additionalProperties", "items", "enum", "format"}
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// location is a schema inside a schema file: the file and a JSON pointer.
type location struct {
	file    string
	pointer string // escaped JSON pointer; "" is the whole document
}

func (l location) key() string { return l.file + "#" + l.pointer }

// child returns the location of l's member at the path tokens.
func (l location) child(tokens ...string) location {
	p := l.pointer
	for _, t := range tokens {
		p += "/" + escapePointer(t)
	}
	return location{file: l.file, pointer: p}
}

func escapePointer(token string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(token)
}

func unescapePointer(token string) string {
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
}

// keyword is a schema keyword and its value.
type keyword struct {
	key, value *yaml.Node
}

// goType returns the Go type of the schema n at at; name is the name to
// give the type when the schema needs a named one. It returns nil after
// recording an error.
func (b *builder) goType(at location, n *yaml.Node, name string) *GoType {
	pos := nodePos(at.file, n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if n.Value == "true" {
			return &GoType{Kind: Any}
		}
		b.errorf(pos, at.pointer, "the schema false accepts no value and has no Go type")
		return nil
	}
	if n.Kind != yaml.MappingNode {
		b.errorf(pos, at.pointer, "a schema must be an object or a boolean")
		return nil
	}
	key := at.key()
	if t := b.named[key]; t != nil {
		return &GoType{Kind: Named, Named: t}
	}
	if b.visiting[key] {
		b.errorf(pos, at.pointer, "$ref cycle: the schema refers to itself without an object in between")
		return nil
	}
	b.visiting[key] = true
	defer delete(b.visiting, key)

	kw := b.keywords(at, n)
	if ref, ok := kw["$ref"]; ok {
		return b.ref(at, kw, ref)
	}
	typ, nullable, ok := b.typeOf(at, kw)
	if !ok {
		return nil
	}
	var t *GoType
	switch typ {
	case "":
		t = &GoType{Kind: Any}
	case "string":
		t = b.stringType(at, n, kw, name)
	case "integer":
		t = &GoType{Kind: Int64}
	case "number":
		t = &GoType{Kind: Float64}
	case "boolean":
		t = &GoType{Kind: Bool}
	case "array":
		t = b.arrayType(at, kw, name)
	case "object":
		t = b.objectType(at, n, kw, name)
	}
	if t != nil && nullable && !t.Nilable() {
		t = &GoType{Kind: Pointer, Elem: t}
	}
	return t
}

// keywords returns n's keywords, after reporting each unsupported one.
func (b *builder) keywords(at location, n *yaml.Node) map[string]keyword {
	kw := make(map[string]keyword, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !supported[k.Value]:
			b.errorf(nodePos(at.file, k), at.child(k.Value).pointer,
				"keyword %q is not supported (supported: %s)", k.Value, strings.Join(Supported, ", "))
			continue
		case k.Value == "$id" && at.pointer != "":
			b.errorf(nodePos(at.file, k), at.child(k.Value).pointer,
				"keyword \"$id\" is only supported at the root of a schema file")
			continue
		}
		kw[k.Value] = keyword{key: k, value: v}
	}
	return kw
}

// typeOf returns the JSON type the schema describes ("" for any value) and
// whether it also allows null.
func (b *builder) typeOf(at location, kw map[string]keyword) (typ string, nullable, ok bool) {
	t, has := kw["type"]
	if !has {
		// Without "type", the keywords that only apply to one type give it.
		// An enum gives it: only its (string) values are accepted. The
		// object and array keywords do not: without "type" the schema
		// accepts every other kind of value too, which a struct or a slice
		// could not hold, so the value is any JSON value ("").
		if has2(kw, "enum") {
			return "string", false, true
		}
		return "", false, true
	}
	ptr := at.child("type").pointer
	pos := nodePos(at.file, t.value)
	var names []string
	switch t.value.Kind {
	case yaml.ScalarNode:
		names = []string{t.value.Value}
	case yaml.SequenceNode:
		for _, c := range t.value.Content {
			names = append(names, c.Value)
		}
	}
	for _, n := range names {
		switch n {
		case "string", "integer", "number", "boolean", "array", "object", "null":
		default:
			b.errorf(pos, ptr, "type %q is not a JSON Schema type", n)
			return "", false, false
		}
	}
	switch {
	case len(names) == 1 && names[0] != "null":
		return names[0], false, true
	case len(names) == 2 && names[0] == "null" && names[1] != "null":
		return names[1], true, true
	case len(names) == 2 && names[1] == "null" && names[0] != "null":
		return names[0], true, true
	}
	b.errorf(pos, ptr, "type %s is not supported (want one type, or one type and \"null\")", flow(t.value))
	return "", false, false
}

func has2(kw map[string]keyword, names ...string) bool {
	for _, n := range names {
		if _, ok := kw[n]; ok {
			return true
		}
	}
	return false
}

// flow returns a short JSON-like spelling of a type keyword's value.
func flow(n *yaml.Node) string {
	if n.Kind == yaml.SequenceNode {
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = fmt.Sprintf("%q", c.Value)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (b *builder) stringType(at location, n *yaml.Node, kw map[string]keyword, name string) *GoType {
	if e, ok := kw["enum"]; ok {
		return b.enumType(at, n, e, name)
	}
	f, ok := kw["format"]
	if !ok {
		return &GoType{Kind: String}
	}
	switch f.value.Value {
	case "date-time":
		return &GoType{Kind: Time}
	case "date":
		return &GoType{Kind: Date}
	case "uuid":
		return &GoType{Kind: UUID}
	case "email", "uri":
		return &GoType{Kind: String}
	}
	b.errorf(nodePos(at.file, f.value), at.child("format").pointer,
		"format %q is not supported (supported: %s)", f.value.Value, strings.Join(Formats, ", "))
	return nil
}

func (b *builder) enumType(at location, n *yaml.Node, e keyword, name string) *GoType {
	ptr := at.child("enum").pointer
	if e.value.Kind != yaml.SequenceNode || len(e.value.Content) == 0 {
		b.errorf(nodePos(at.file, e.value), ptr, "enum must be a non-empty array of strings")
		return nil
	}
	t := b.newNamed(at, n, name, Enum)
	if t == nil {
		return nil
	}
	for i, v := range e.value.Content {
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			continue // allowed by a nullable type; the pointer holds it
		case v.Kind != yaml.ScalarNode || v.Tag != "!!str":
			b.errorf(nodePos(at.file, v), fmt.Sprintf("%s/%d", ptr, i),
				"enum value %s is not a string (only string enums are supported)", flow(v))
			continue
		}
		suffix := naming.CamelCase(v.Value)
		if suffix == "" {
			b.errorf(nodePos(at.file, v), fmt.Sprintf("%s/%d", ptr, i),
				"cannot make a Go constant name from enum value %q", v.Value)
			continue
		}
		c := &EnumValue{Name: t.Name + suffix, Value: v.Value}
		if b.declare(c.Name, fmt.Sprintf("the constant of enum value %q of %s", v.Value, at.pointerOrRoot()), nodePos(at.file, v), fmt.Sprintf("%s/%d", ptr, i)) {
			t.Values = append(t.Values, c)
		}
	}
	return &GoType{Kind: Named, Named: t}
}

func (l location) pointerOrRoot() string {
	if l.pointer == "" {
		return l.file
	}
	return l.pointer
}

func (b *builder) arrayType(at location, kw map[string]keyword, name string) *GoType {
	items, ok := kw["items"]
	_, tuple := kw["prefixItems"]
	if !ok || tuple || items.value.ShortTag() == "!!bool" {
		// Items of one schema each (prefixItems), or of any or no value:
		// the validators check them, the Go type holds any value.
		return &GoType{Kind: Slice, Elem: &GoType{Kind: Any}}
	}
	elem := b.goType(at.child("items"), items.value, naming.Singular(name))
	if elem == nil {
		return nil
	}
	return &GoType{Kind: Slice, Elem: elem}
}

func (b *builder) objectType(at location, n *yaml.Node, kw map[string]keyword, name string) *GoType {
	props, hasProps := kw["properties"]
	addl, hasAddl := kw["additionalProperties"]
	if hasProps && props.value.Kind != yaml.MappingNode {
		b.errorf(nodePos(at.file, props.value), at.child("properties").pointer, "properties must be an object")
		return nil
	}
	addlSchema := hasAddl && addl.value.Kind == yaml.MappingNode && len(addl.value.Content) > 0
	addlFalse := hasAddl && addl.value.Kind == yaml.ScalarNode && addl.value.Value == "false"

	if !hasProps || len(props.value.Content) == 0 {
		switch {
		case addlSchema:
			// map[string]T
			elem := b.goType(at.child("additionalProperties"), addl.value, name+"Value")
			if elem == nil {
				return nil
			}
			return &GoType{Kind: Map, Elem: elem}
		case !addlFalse:
			return &GoType{Kind: Map, Elem: &GoType{Kind: Any}}
		}
		// additionalProperties false and no properties: the empty object.
	}
	if addlSchema && hasProps && len(props.value.Content) > 0 {
		b.errorf(nodePos(at.file, addl.key), at.child("additionalProperties").pointer,
			"additionalProperties as a schema next to properties is not supported (want false, true, or no properties)")
	}

	t := b.newNamed(at, n, name, Struct)
	if t == nil {
		return nil
	}
	required := map[string]bool{}
	if r, ok := kw["required"]; ok {
		for i, c := range r.value.Content {
			if !hasProps || findKey(props.value, c.Value) == nil {
				b.errorf(nodePos(at.file, c), fmt.Sprintf("%s/%d", at.child("required").pointer, i),
					"required property %q is not among the properties", c.Value)
			}
			required[c.Value] = true
		}
	}
	if !hasProps {
		return &GoType{Kind: Named, Named: t}
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(props.value.Content); i += 2 {
		k, v := props.value.Content[i], props.value.Content[i+1]
		fat := at.child("properties", k.Value)
		fpos := nodePos(at.file, k)
		fname := naming.CamelCase(k.Value)
		switch {
		case !naming.Exported(fname):
			b.errorf(fpos, fat.pointer, "cannot make a Go field name from property %q", k.Value)
			continue
		case fname == "Validate" || fname == "AppendJSON":
			b.errorf(fpos, fat.pointer, "property %q would be the Go field %s, which clashes with the method %s", k.Value, fname, fname)
			continue
		case seen[fname] != nil:
			first := seen[fname]
			b.errorf(fpos, fat.pointer, "Go field name %q of property %q is already used by property %q at %s",
				fname, k.Value, first.Value, posString(nodePos(at.file, first)))
			continue
		}
		seen[fname] = k
		ft := b.goType(fat, v, name+fname)
		if ft == nil {
			continue
		}
		req := required[k.Value]
		if !req && !ft.Nilable() {
			ft = &GoType{Kind: Pointer, Elem: ft}
		}
		t.Fields = append(t.Fields, &Field{
			Name:     fname,
			JSONName: k.Value,
			Type:     ft,
			Required: req,
			Doc:      descriptionOf(v),
			Pos:      fpos,
			Node:     b.node(fat, v),
		})
	}
	return &GoType{Kind: Named, Named: t}
}

// newNamed declares the named type of the schema n at at. The root of a
// payload schema keeps the name its event reserved.
func (b *builder) newNamed(at location, n *yaml.Node, name string, kind TypeKind) *Type {
	name += b.suffixOf(at.file)
	t := &Type{
		Name:    name,
		Kind:    kind,
		Doc:     descriptionOf(n),
		File:    at.file,
		Pointer: at.pointer,
		Pos:     nodePos(at.file, n),
		Node:    b.node(at, n),
	}
	b.named[at.key()] = t
	b.types = append(b.types, t)
	if e := b.payloads[at.file]; at.pointer == "" && e != nil && e.Payload.Name == name {
		return t // declared by its event
	}
	if v := b.versionFiles[at.file]; at.pointer == "" && v != nil && v.Payload.Name == name {
		return t // declared by its version
	}
	if !naming.Exported(name) {
		b.errorf(t.Pos, at.pointer, "cannot make a Go type name from %q", name)
		return t
	}
	b.declare(name, "the type of "+at.pointerOrRoot(), t.Pos, at.pointer)
	return t
}

// ref returns the Go type of the $ref's target.
func (b *builder) ref(at location, kw map[string]keyword, ref keyword) *GoType {
	for _, s := range shapeKeywords {
		if k, ok := kw[s]; ok {
			b.errorf(nodePos(at.file, k.key), at.child(s).pointer,
				"keyword %q next to \"$ref\" is not supported (move it into the referenced schema)", s)
		}
	}
	ptr := at.child("$ref").pointer
	pos := nodePos(at.file, ref.value)
	if ref.value.Kind != yaml.ScalarNode || ref.value.Tag != "!!str" {
		b.errorf(pos, ptr, "$ref must be a string")
		return nil
	}
	target, node, name, err := b.resolve(at.file, ref.value.Value)
	if err != nil {
		b.errorf(pos, ptr, "cannot resolve $ref %q: %v", ref.value.Value, err)
		return nil
	}
	if e := b.payloads[target.file]; target.pointer == "" && e != nil {
		name = e.Payload.Name
	} else if v := b.versionFiles[target.file]; target.pointer == "" && v != nil {
		name = v.Event.Payload.Name // suffixed by newNamed
	}
	if !naming.Exported(name) {
		b.errorf(pos, ptr, "cannot make a Go type name from $ref %q", ref.value.Value)
		return nil
	}
	return b.goType(target, node, name)
}

// indexSchemaURIs records the base URI of every schema file, against which
// its relative $refs resolve: its root $id when it has one, else its path.
func (b *builder) indexSchemaURIs() {
	for p, f := range b.cat.Schemas {
		base := &url.URL{Scheme: "file", Path: "/" + p}
		b.byURI[base.String()] = p
		if root := documentRoot(f.Node); root != nil {
			if id := findKey(root, "$id"); id != nil {
				if u, err := url.Parse(id.Value); err == nil {
					base = base.ResolveReference(u)
					base.Fragment, base.RawFragment = "", ""
					b.byURI[base.String()] = p
				}
			}
		}
		b.bases[p] = base.String()
	}
}

// resolve finds the target of ref, written in file: its location, its
// node, and the name a type made for it would take.
func (b *builder) resolve(file, ref string) (location, *yaml.Node, string, error) {
	base, err := url.Parse(b.bases[file])
	if err != nil {
		return location{}, nil, "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return location{}, nil, "", err
	}
	u := base.ResolveReference(r)
	frag := u.Fragment
	u.Fragment, u.RawFragment = "", ""
	target, ok := b.byURI[u.String()]
	if !ok {
		return location{}, nil, "", fmt.Errorf("no schema file %s was loaded", strings.TrimPrefix(u.String(), "file:///"))
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return location{}, nil, "", fmt.Errorf("fragment %q is not a JSON pointer (anchors are not supported)", frag)
	}
	node := documentRoot(b.cat.Schemas[target].Node)
	at := location{file: target}
	name := naming.CamelCase(strings.TrimSuffix(path.Base(target), path.Ext(target)))
	if frag != "" {
		for _, tok := range strings.Split(frag[1:], "/") {
			tok = unescapePointer(tok)
			node = memberOf(node, tok)
			if node == nil {
				return location{}, nil, "", fmt.Errorf("%s has nothing at %s", target, frag)
			}
			at = at.child(tok)
			name = naming.CamelCase(tok)
		}
	}
	return at, node, name, nil
}

// memberOf returns the member tok of an object or an array node.
func memberOf(n *yaml.Node, tok string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		return findKey(n, tok)
	case yaml.SequenceNode:
		var i int
		if _, err := fmt.Sscanf(tok, "%d", &i); err == nil && fmt.Sprint(i) == tok && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

// findKey returns the value of key in the mapping n, or nil.
func findKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func documentRoot(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

func nodePos(file string, n *yaml.Node) catalog.Pos {
	return catalog.Pos{File: file, Line: n.Line, Col: n.Column}
}

// descriptionOf returns the schema's description, one entry per line.
func descriptionOf(n *yaml.Node) []string {
	d := findKey(n, "description")
	if d == nil || d.Kind != yaml.ScalarNode || strings.TrimSpace(d.Value) == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(d.Value), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return lines
}
