package asyncapi

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The document is built as a yaml.Node tree, so that its keys come out in
// the order they are added.

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

// mapping returns a mapping of the key and value pairs kv; a nil value
// leaves its key out.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		set(n, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return n
}

// set appends key: v to the mapping n, unless v is nil.
func set(n *yaml.Node, key string, v *yaml.Node) {
	if v == nil {
		return
	}
	n.Content = append(n.Content, str(key), v)
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

// text returns a string node, or nil for "" so that mapping leaves the key
// out.
func text(s string) *yaml.Node {
	if s == "" {
		return nil
	}
	return str(s)
}

func ref(pointer string) *yaml.Node { return mapping("$ref", str(pointer)) }

// member returns the value of key in the mapping n, or nil.
func member(n *yaml.Node, key string) *yaml.Node {
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

// plain returns a deep copy of n in block style, without the quoting and
// flow style of the JSON it was read from, and without positions: the
// encoder quotes what needs it.
func plain(n *yaml.Node) *yaml.Node {
	c := &yaml.Node{Kind: n.Kind, Tag: n.Tag, Value: n.Value}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return plain(n.Content[0])
	}
	for _, child := range n.Content {
		c.Content = append(c.Content, plain(child))
	}
	return c
}
