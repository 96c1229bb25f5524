package catalog

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// quote quotes a value for a message: "value".
func quote(s string) string { return strconv.Quote(s) }

// quoteList quotes and joins values: "a", "b", "c".
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quote(v)
	}
	return strings.Join(q, ", ")
}

// deref follows YAML aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// found describes a node for a "(found ...)" message suffix.
func found(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return "found nothing"
	case n.Kind == yaml.MappingNode:
		return "found a mapping"
	case n.Kind == yaml.SequenceNode:
		return "found a list"
	case n.ShortTag() == "!!null":
		return "found null"
	}
	return "found " + quote(n.Value)
}

// isNull reports whether n is absent or an explicit YAML null.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isString reports whether n is a YAML string scalar.
func isString(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
}

// field is one key of a YAML mapping and its value.
type field struct {
	Key, Value *yaml.Node
}

// fields is the keys of a YAML mapping that were allowed, by name.
type fields map[string]field

func (fs fields) has(name string) bool {
	_, ok := fs[name]
	return ok
}
