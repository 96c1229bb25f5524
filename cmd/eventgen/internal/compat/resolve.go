package compat

import (
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// side is one version of the catalog, with what resolving $refs needs.
type side struct {
	cat   *catalog.Catalog
	bases map[string]*url.URL // schema path -> the base URI its $refs resolve against
	byURI map[string]string   // base URI, without fragment -> schema path
}

func newSide(cat *catalog.Catalog) *side {
	s := &side{cat: cat, bases: map[string]*url.URL{}, byURI: map[string]string{}}
	paths := make([]string, 0, len(cat.Schemas))
	for p := range cat.Schemas {
		paths = append(paths, p)
	}
	slices.Sort(paths) // a deterministic winner when two files claim one $id
	for _, p := range paths {
		base := &url.URL{Scheme: "file", Path: "/" + p}
		s.byURI[base.String()] = p
		if id := member(docRoot(cat.Schemas[p].Node), "$id"); id != nil && id.Kind == yaml.ScalarNode {
			if u, err := url.Parse(id.Value); err == nil {
				base = base.ResolveReference(u)
				base.Fragment, base.RawFragment = "", ""
				s.byURI[base.String()] = p
			}
		}
		s.bases[p] = base
	}
	return s
}

// resolve finds the schema that ref, written in file, names.
func (s *side) resolve(file, ref string) (loc, *yaml.Node, error) {
	base, ok := s.bases[file]
	if !ok {
		return loc{}, nil, fmt.Errorf("no schema file %s", file)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return loc{}, nil, err
	}
	u := base.ResolveReference(r)
	frag := u.Fragment
	u.Fragment, u.RawFragment = "", ""
	target, ok := s.byURI[u.String()]
	if !ok {
		return loc{}, nil, fmt.Errorf("no schema file %s was loaded", strings.TrimPrefix(u.String(), "file:///"))
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return loc{}, nil, fmt.Errorf("fragment %q is not a JSON pointer", frag)
	}
	n := docRoot(s.cat.Schemas[target].Node)
	at := loc{file: target}
	if frag != "" {
		for _, tok := range strings.Split(frag[1:], "/") {
			tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			n = memberOrItem(n, tok)
			if n == nil {
				return loc{}, nil, fmt.Errorf("%s has nothing at %s", target, frag)
			}
			at = at.child(tok)
		}
	}
	at.line = n.Line
	return at, n, nil
}

// loc is a place in a schema file: the file, the escaped JSON pointer of a
// value, and the line it starts on.
type loc struct {
	file string
	ptr  string
	line int
}

func (l loc) key() string { return l.file + "#" + l.ptr }

func (l loc) pos() catalog.Pos { return catalog.Pos{File: l.file, Line: l.line} }

// child returns the location of the member at tokens (the line is left as
// it is: set it when the member exists).
func (l loc) child(tokens ...string) loc {
	for _, t := range tokens {
		l.ptr += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
	}
	return l
}

// view is a schema with its $refs followed: its keywords, each with the
// place it is written, the outermost first when a keyword appears both next
// to a $ref and in its target.
type view struct {
	origin  loc    // where the schema is written, before any $ref
	at      loc    // the last $ref's target, or origin
	boolean string // "true" or "false" for a boolean schema
	kws     map[string]kw
	refs    []string // the $refs followed, as written
}

// kw is one keyword of a view.
type kw struct {
	key, val *yaml.Node
	at       loc // the schema object that holds it
}

// where returns the position and pointer of the keyword.
func (k kw) where(name string) (catalog.Pos, string) {
	return catalog.Pos{File: k.at.file, Line: k.key.Line}, k.at.child(name).ptr
}

// resolveView reads the schema n at at, following $refs. A nil n is an
// absent schema, the schema true.
func resolveView(s *side, at loc, n *yaml.Node) (view, error) {
	v := view{origin: at, at: at, kws: map[string]kw{}}
	seen := map[string]bool{}
	for n != nil {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
			if n.Value == "false" || len(v.kws) == 0 {
				v.boolean = n.Value
			}
			return v, nil
		}
		if n.Kind != yaml.MappingNode {
			return v, fmt.Errorf("%s:%d: %s: a schema must be an object or a boolean", at.file, n.Line, pointerText(at.ptr))
		}
		var ref *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "$ref" {
				ref = val
				continue
			}
			if _, ok := v.kws[k.Value]; !ok {
				v.kws[k.Value] = kw{key: k, val: val, at: at}
			}
		}
		if ref == nil {
			return v, nil
		}
		if seen[at.key()] {
			return v, fmt.Errorf("%s:%d: %s: $ref cycle", at.file, ref.Line, pointerText(at.child("$ref").ptr))
		}
		seen[at.key()] = true
		target, node, err := s.resolve(at.file, ref.Value)
		if err != nil {
			return v, fmt.Errorf("%s:%d: %s: cannot resolve $ref %q: %w", at.file, ref.Line, pointerText(at.child("$ref").ptr), ref.Value, err)
		}
		v.refs = append(v.refs, ref.Value)
		v.at = target
		at, n = target, node
	}
	return v, nil
}

// constraining reports whether the view constrains values at all: it is
// false for the schema true and for objects of annotations only.
func (v view) constraining() bool {
	if v.boolean != "" {
		return v.boolean == "false"
	}
	for name := range v.kws {
		if !annotations[name] {
			return true
		}
	}
	return false
}

// annotations are the keywords that never change which values a schema
// accepts.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "$defs": true, "definitions": true,
	"title": true, "description": true, "examples": true, "default": true, "deprecated": true,
	"readOnly": true, "writeOnly": true, "$anchor": true, "contentEncoding": true, "contentMediaType": true,
}

func pointerText(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func docRoot(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// member returns the value of key in the mapping n, or nil.
func member(n *yaml.Node, key string) *yaml.Node {
	_, v := memberKV(n, key)
	return v
}

// memberKV returns the key and value nodes of key in the mapping n.
func memberKV(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

func memberOrItem(n *yaml.Node, tok string) *yaml.Node {
	if n.Kind == yaml.SequenceNode {
		i, err := strconv.Atoi(tok)
		if err != nil || strconv.Itoa(i) != tok || i < 0 || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	return member(n, tok)
}

// canon returns a canonical JSON text of a value: object keys sorted,
// numbers compared by value (1 equals 1.0).
func canon(n *yaml.Node) string {
	var b strings.Builder
	writeCanon(&b, n)
	return b.String()
}

func writeCanon(b *strings.Builder, n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		writeCanon(b, docRoot(n))
	case yaml.MappingNode:
		type pair struct {
			k string
			v *yaml.Node
		}
		pairs := make([]pair, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, pair{n.Content[i].Value, n.Content[i+1]})
		}
		slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.k, b.k) })
		b.WriteByte('{')
		for i, p := range pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(p.k))
			b.WriteByte(':')
			writeCanon(b, p.v)
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanon(b, c)
		}
		b.WriteByte(']')
	default:
		switch n.Tag {
		case "!!int", "!!float":
			if r, ok := new(big.Rat).SetString(n.Value); ok {
				b.WriteString(r.RatString())
				return
			}
			b.WriteString(n.Value)
		case "!!str":
			b.WriteString(strconv.Quote(n.Value))
		default:
			b.WriteString(n.Value)
		}
	}
}

// display returns a short JSON text of a value for a message.
func display(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!str" {
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	s := canon(n)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// number returns the value of a numeric keyword, or nil.
func number(k kw) *big.Rat {
	if k.val == nil || k.val.Kind != yaml.ScalarNode || (k.val.Tag != "!!int" && k.val.Tag != "!!float") {
		return nil
	}
	r, ok := new(big.Rat).SetString(k.val.Value)
	if !ok {
		return nil
	}
	return r
}
