package asyncapi

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/sdk/spec"
)

// converter turns the catalog's schemas into AsyncAPI Schema Objects and
// collects every schema a $ref reaches as a component.
type converter struct {
	res   *model.Resolver
	names map[string]string // component name by schema location (file#pointer)
	taken map[string]bool   // component names in use
	done  map[string]*yaml.Node
	queue []model.Ref // schemas named but not converted yet
}

// componentPrefix is where the component schemas are.
const componentPrefix = "#/components/schemas/"

func newConverter(cat *catalog.Catalog, m *model.Model) *converter {
	c := &converter{
		res:   model.NewResolver(cat),
		names: map[string]string{},
		taken: map[string]bool{},
		done:  map[string]*yaml.Node{},
	}
	// The Go SDK's names first: a component is called as its Go type.
	for _, t := range m.Types {
		if t.Kind == model.Struct || t.Kind == model.Enum {
			c.reserve(model.Ref{File: t.File, Pointer: t.Pointer}.Key(), t.Name)
		}
	}
	for _, e := range m.Events {
		c.reserve(model.Ref{File: e.Schema.Path}.Key(), e.Payload.Name)
	}
	return c
}

// reserve names the schema at key, unless it has a name.
func (c *converter) reserve(key, name string) {
	if _, ok := c.names[key]; ok {
		return
	}
	for base, i := name, 2; c.taken[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	c.names[key] = name
	c.taken[name] = true
}

// component returns the reference to the component of r, queueing it for
// conversion the first time.
func (c *converter) component(r model.Ref) *yaml.Node {
	key := r.Key()
	c.reserve(key, r.Name)
	name := c.names[key]
	if _, ok := c.done[name]; !ok {
		c.done[name] = nil
		c.queue = append(c.queue, r)
	}
	return ref(componentPrefix + name)
}

// payloadOf returns the reference to the component of the payload schema
// at path of a version of e, named name unless it has a name.
func (c *converter) payloadOf(e *model.Event, path, name string) (*yaml.Node, error) {
	root, ok := c.res.Lookup(path, "")
	if !ok {
		return nil, fmt.Errorf("asyncapi: schema %s of %q was not loaded", path, e.Subject)
	}
	return c.component(model.Ref{File: path, Node: root, Name: name}), nil
}

// components converts the queued schemas, and those they reach, and
// returns them sorted by name.
func (c *converter) components() (*yaml.Node, error) {
	for len(c.queue) > 0 {
		r := c.queue[0]
		c.queue = c.queue[1:]
		n, err := c.schema(r.File, r.Pointer, r.Node)
		if err != nil {
			return nil, err
		}
		c.done[c.names[r.Key()]] = n
	}
	return sortedMapping(c.done), nil
}

// schema converts the schema n, at pointer in file.
func (c *converter) schema(file, pointer string, n *yaml.Node) (*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return plain(n), nil // true or false
	}
	out := mapping()
	var target *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		at := pointer + "/" + model.EscapePointer(k)
		switch k {
		case "$schema", "$id", "$defs":
			// Dialect and base URI are the document's; definitions are
			// components when referred to.
		case "$ref":
			r, err := c.res.Resolve(file, v.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: cannot resolve $ref %q: %w", file, at, v.Value, err)
			}
			target = c.component(r)
			set(out, "allOf", seq(target))
		case "properties":
			props := mapping()
			for j := 0; j+1 < len(v.Content); j += 2 {
				name := v.Content[j].Value
				p, err := c.schema(file, at+"/"+model.EscapePointer(name), v.Content[j+1])
				if err != nil {
					return nil, err
				}
				set(props, name, p)
			}
			set(out, k, props)
		case "items", "additionalProperties":
			s, err := c.schema(file, at, v)
			if err != nil {
				return nil, err
			}
			set(out, k, s)
		default:
			set(out, k, plain(v))
		}
	}
	if target != nil && len(out.Content) == 2 {
		return target, nil // the $ref alone
	}
	return out, nil
}

// envelope returns the envelope's schema as a Schema Object.
func (c *converter) envelope() *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(spec.EnvelopeSchema), &doc); err != nil {
		panic("asyncapi: spec.EnvelopeSchema is not JSON: " + err.Error())
	}
	env := plain(&doc)
	out := mapping()
	for i := 0; i+1 < len(env.Content); i += 2 {
		if env.Content[i].Value != "$schema" {
			set(out, env.Content[i].Value, env.Content[i+1])
		}
	}
	return out
}
