package docs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

func TestAnchor(t *testing.T) {
	assert.Equal(t, "executionpurchase_ordercreated", anchor("execution.purchase_order.created"))
	assert.Equal(t, "a-b-c", anchor("A b-C!"))
}

func TestNodeIDs(t *testing.T) {
	a, b, c := &model.Service{Name: "ai-hub"}, &model.Service{Name: "ai_hub"}, &model.Service{Name: "end"}
	ids := nodeIDs([]*model.Service{a, b, c})
	assert.Equal(t, "svc_ai_hub", ids[a])
	assert.Equal(t, "svc_ai_hub_2", ids[b], "two names that meet get a number")
	assert.Equal(t, "svc_end", ids[c])
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0s",
		90 * time.Second:        "1m30s",
		2 * time.Minute:         "2m",
		720 * time.Hour:         "720h (30 days)",
		25 * time.Hour:          "25h",
		1500 * time.Millisecond: "1.5s",
	} {
		assert.Equal(t, want, duration(d), d)
	}
}

func TestCode(t *testing.T) {
	assert.Equal(t, "`a`", code("a"))
	assert.Equal(t, "`a\\|b`", code("a|b"))
	assert.Equal(t, "``a`b``", code("a`b"))
	assert.Equal(t, "`` `a ``", code("`a"))
}

func TestCell(t *testing.T) {
	assert.Equal(t, `a b \| c`, cell(" a\n  b | c "))
	assert.Equal(t, "PO-&lt;year&gt;", cell("PO-<year>"))
}

func TestPrettyJSON(t *testing.T) {
	assert.Equal(t, "{\n  \"a\": 1\n}", prettyJSON([]byte(`{"a":1}`)))
	assert.Equal(t, "not json", prettyJSON([]byte("not json")), "shown as it is")
}

func TestValue(t *testing.T) {
	var n yaml.Node
	assert.NoError(t, yaml.Unmarshal([]byte(`{"a": [1, "x"]}`), &n))
	assert.Equal(t, `{"a":[1,"x"]}`, value(n.Content[0]))
	assert.Equal(t, "s", value(&yaml.Node{Kind: yaml.ScalarNode, Value: "s"}))
	bad := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!int", Value: "x"}}}
	assert.Equal(t, "", value(bad), "undecodable: its (empty) value")
}

func TestImpliedType(t *testing.T) {
	node := func(src string) *yaml.Node {
		var n yaml.Node
		assert.NoError(t, yaml.Unmarshal([]byte(src), &n))
		return n.Content[0]
	}
	assert.Equal(t, "string", impliedType(node(`{"enum": ["a"]}`)))
	assert.Equal(t, "any", impliedType(node(`{"required": ["a"]}`)), "object keywords alone accept other kinds too")
	assert.Equal(t, "any", impliedType(node(`{"minItems": 1}`)), "array keywords alone accept other kinds too")
	assert.Equal(t, "any", impliedType(node(`{}`)))
}
