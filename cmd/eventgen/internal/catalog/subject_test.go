package catalog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestCheckSubject(t *testing.T) {
	tests := map[string]string{
		"execution.purchase_order.created": "",
		"a.b":                              "",
		"a1.b_2.c3":                        "",
		"execution.*.created":              `"execution.*.created" has a wildcard; event subjects must be concrete`,
		"execution.>":                      `"execution.>" has a wildcard; event subjects must be concrete`,
		"execution":                        `"execution" has one token (want at least two, such as "execution.purchase_order.created")`,
		"":                                 `"" is not valid (want lower-case dot-separated tokens of a-z, 0-9 and "_", each starting with a letter, such as "execution.purchase_order.created")`,
	}
	for subject, want := range tests {
		assert.Equal(t, want, checkSubject(subject), subject)
	}
	for _, bad := range []string{"Execution.po", "a..b", ".a.b", "a.b.", "a.1b", "a.b-c", "a b.c", "a._b"} {
		assert.Contains(t, checkSubject(bad), "is not valid", bad)
	}
}

func TestValidStreamSubject(t *testing.T) {
	for _, ok := range []string{">", "*", "a", "a.>", "a.*.c", "*.*", "A.B", "a-b.c"} {
		assert.True(t, validStreamSubject(ok), ok)
	}
	for _, bad := range []string{"", "a..b", ".a", "a.", ">.a", "a.b*", "a.>x", "a b", "a\tb"} {
		assert.False(t, validStreamSubject(bad), bad)
	}
}

func TestSubjectMatches(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"execution.>", "execution.po.created", true},
		{"execution.>", "execution.po", true},
		{"execution.>", "execution", false},
		{"execution.*", "execution.po", true},
		{"execution.*", "execution.po.created", false},
		{"*.po.*", "execution.po.created", true},
		{"*.po.*", "execution.so.created", false},
		{"a.b", "a.b", true},
		{"a.b", "a.b.c", false},
		{"a.b.c", "a.b", false},
		{">", "a", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, subjectMatches(tt.pattern, tt.subject), "%s ~ %s", tt.pattern, tt.subject)
	}
}

func TestSubjectsOverlap(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"deadletter.>", "execution.>", false},
		{"deadletter.>", ">", true},
		{"deadletter.>", "*.x", true},
		{"deadletter.>", "deadletter", false},
		{"a.*", "a.b", true},
		{"a.*", "a.b.c", false},
		{"a.b", "a.c", false},
		{"a.b", "a.b", true},
		{"a.>", "a.b.c.d", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, subjectsOverlap(tt.a, tt.b), "%s / %s", tt.a, tt.b)
		assert.Equal(t, tt.want, subjectsOverlap(tt.b, tt.a), "%s / %s", tt.b, tt.a)
	}
}

func TestExampleJSON(t *testing.T) {
	tests := []struct {
		yaml, want string
	}{
		{`{b: 1, a: 2}`, `{"b":1,"a":2}`},
		{`[0x1F, 0o17, +5, -0, 1.5, .5, 1e3, 2.0E-2]`, `[31,15,5,-0,1.5,0.5,1e3,2.0E-2]`},
		{`[true, True, false, ~, null, ""]`, `[true,true,false,null,null,""]`},
		{`{date: 2024-05-01, time: 2024-05-01T10:00:00Z, s: "<&>", n: "1"}`, `{"date":"2024-05-01","time":"2024-05-01T10:00:00Z","s":"<&>","n":"1"}`},
		{"text: |\n  two\n  lines\n", `{"text":"two\nlines\n"}`},
		{"base: &b {x: 1}\ncopy: *b\n", `{"base":{"x":1},"copy":{"x":1}}`},
		{`{1: one, true: yes}`, `{"1":"one","true":"yes"}`},
		{`[]`, `[]`},
		{`{}`, `{}`},
		{`"just a string"`, `"just a string"`},
	}
	for _, tt := range tests {
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(tt.yaml), &doc), tt.yaml)
		got, err := exampleJSON(doc.Content[0])
		require.NoError(t, err, tt.yaml)
		assert.JSONEq(t, tt.want, string(got), tt.yaml)
		assert.Equal(t, tt.want, string(got), tt.yaml)
	}

	bad := map[string]string{
		"base: &b {x: 1}\ncopy: {<<: *b}\n": `merge keys ("<<") are not supported`,
		`[.nan]`:                            `".nan" is not a JSON number`,
		`[-.inf]`:                           `"-.inf" is not a JSON number`,
		`[!!binary aGk=]`:                   `value "aGk=" tagged !!binary has no JSON form`,
		`[!custom x]`:                       `value "x" tagged !custom has no JSON form`,
		`[!!bool maybe]`:                    `yaml: cannot decode !!str ` + "`maybe`" + ` as a !!bool`,
		`[!!int x1]`:                        `yaml: cannot decode !!str ` + "`x1`" + ` as a !!int`,
	}
	for in, want := range bad {
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(in), &doc), in)
		_, err := exampleJSON(doc.Content[0])
		assert.EqualError(t, err, want, in)
	}

	deep := &yaml.Node{Kind: yaml.SequenceNode}
	for n, i := deep, 0; i < 1001; i++ {
		c := &yaml.Node{Kind: yaml.SequenceNode}
		n.Content = []*yaml.Node{c}
		n = c
	}
	_, err := exampleJSON(deep)
	assert.EqualError(t, err, "nested too deeply")

	_, err = exampleJSON(&yaml.Node{Kind: yaml.DocumentNode})
	assert.EqualError(t, err, "unsupported YAML node")
}
