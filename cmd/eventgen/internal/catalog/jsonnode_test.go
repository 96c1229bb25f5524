package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// nodeValue turns a parsed JSON node tree back into the value
// encoding/json decodes (numbers as json.Number, the last of repeated keys
// winning), so that encoding/json can serve as the oracle.
func nodeValue(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		return nodeValue(n.Content[0])
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = nodeValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, nodeValue(c))
		}
		return s
	}
	switch n.Tag {
	case "!!str":
		return n.Value
	case "!!int", "!!float":
		return json.Number(n.Value)
	case "!!bool":
		return n.Value == "true"
	}
	return nil
}

func decodeOracle(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// checkAgainstOracle asserts that parseJSON accepts exactly what
// encoding/json accepts, with the same value.
func checkAgainstOracle(t *testing.T, data []byte) {
	t.Helper()
	doc, _, err := parseJSON(data)
	if !json.Valid(data) {
		assert.Error(t, err, "%q is not JSON", data)
		return
	}
	require.NoError(t, err, "%q is JSON", data)
	want, err := decodeOracle(data)
	require.NoError(t, err)
	assert.Equal(t, want, nodeValue(doc), "%q", data)
}

func TestParseJSONNodes(t *testing.T) {
	doc, dups, err := parseJSON([]byte("{\n\t\"a\": \"x\\/y\\u00e9\\ud83d\\ude00\",\n\t\"b\": [1, -2.5e+3, true, null, {}],\n\t\"a\": []\n}"))
	require.NoError(t, err)
	require.Equal(t, yaml.DocumentNode, doc.Kind)
	root := doc.Content[0]
	assert.Equal(t, yaml.MappingNode, root.Kind)
	assert.Equal(t, "!!map", root.Tag)
	assert.Equal(t, yaml.FlowStyle, root.Style)

	a := root.Content[1]
	assert.Equal(t, "x/yé😀", a.Value)
	assert.Equal(t, yaml.DoubleQuotedStyle, a.Style)
	assert.Equal(t, [2]int{2, 7}, [2]int{a.Line, a.Column})

	b := root.Content[3]
	assert.Equal(t, "!!seq", b.Tag)
	var tags, values []string
	for _, c := range b.Content {
		tags = append(tags, c.Tag)
		values = append(values, c.Value)
	}
	assert.Equal(t, []string{"!!int", "!!float", "!!bool", "!!null", "!!map"}, tags)
	assert.Equal(t, []string{"1", "-2.5e+3", "true", "null", ""}, values)
	assert.Equal(t, [2]int{3, 11}, [2]int{b.Content[1].Line, b.Content[1].Column})

	require.Len(t, dups, 1)
	assert.Equal(t, "a", dups[0].Key)
	assert.Equal(t, [4]int{2, 2, 4, 2}, [4]int{dups[0].First.Line, dups[0].First.Column, dups[0].Next.Line, dups[0].Next.Column})
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{``, "1:1: unexpected end of JSON input"},
		{`  `, "1:3: unexpected end of JSON input"},
		{`{"a": 1`, "1:8: unexpected end of JSON input"},
		{`{"a" 1}`, "1:6: invalid character '1' after object key"},
		{`{"a": 1 "b": 2}`, "1:9: invalid character '\"' after object key:value pair"},
		{`{a: 1}`, "1:2: invalid character 'a' looking for beginning of object key string"},
		{`{"a": 1,}`, "1:9: invalid character '}' looking for beginning of object key string"},
		{`[1,]`, "1:4: invalid character ']' looking for beginning of value"},
		{`[1 2]`, "1:4: invalid character '2' after array element"},
		{`[1`, "1:3: unexpected end of JSON input"},
		{`[`, "1:2: unexpected end of JSON input"},
		{`{`, "1:2: unexpected end of JSON input"},
		{`{"a"`, "1:5: unexpected end of JSON input"},
		{`{"a":`, "1:6: unexpected end of JSON input"},
		{"\"a\nb\"", "1:3: invalid character '\\n' in string literal"},
		{`"ab`, "1:4: unexpected end of JSON input"},
		{`"\x"`, "1:3: invalid character 'x' in string escape code"},
		{`"\`, "1:3: unexpected end of JSON input"},
		{`"\u12g4"`, "1:6: invalid character 'g' in \\u hexadecimal character escape"},
		{`"\u12`, "1:6: unexpected end of JSON input"},
		{`"\ud83d\u12"`, "1:12: invalid character '\"' in \\u hexadecimal character escape"},
		{`tru`, "1:4: unexpected end of JSON input"},
		{`trux`, "1:4: invalid character 'x' in literal true (expecting 'e')"},
		{`nul1`, "1:4: invalid character '1' in literal null (expecting 'l')"},
		{`fals`, "1:5: unexpected end of JSON input"},
		{`-`, "1:2: unexpected end of JSON input"},
		{`-a`, "1:2: invalid character 'a' in numeric literal"},
		{`01`, "1:2: invalid character '1' after top-level value"},
		{`1.`, "1:3: unexpected end of JSON input"},
		{`1.e5`, "1:3: invalid character 'e' after decimal point in numeric literal"},
		{`1e`, "1:3: unexpected end of JSON input"},
		{`1e+x`, "1:4: invalid character 'x' in exponent of numeric literal"},
		{`{} x`, "1:4: invalid character 'x' after top-level value"},
		{"\n\n  'a'", "3:3: invalid character '\\'' looking for beginning of value"},
		{"\xef\xbb\xbf{}", "1:1: invalid character '\\ufeff' looking for beginning of value"},
		{strings.Repeat("[", 10001), "1:10001: exceeded max depth"},
		{"\x00", "1:1: invalid character '\\x00' looking for beginning of value"},
		{"\xff", `1:1: invalid character '\xff' looking for beginning of value`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, _, err := parseJSON([]byte(tt.in))
			var je *jsonError
			require.True(t, errors.As(err, &je), "want a *jsonError, got %v", err)
			assert.Equal(t, tt.want, err.Error())
			assert.False(t, json.Valid([]byte(tt.in)), "encoding/json must reject it too")
		})
	}
}

var jsonSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5`, `-1.25e-10`, `1E+2`, `true`, `false`, `null`,
	`{"a": [1, {"b": null}], "c": "d"}`, "\t[ 1 ,\r\n 2 ]\n",
	`"\"\\\/\b\f\n\r\t\u0041\u00e9"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83d\u0041"`, `"\ude00\ud83d"`,
	"\"\xff\xfe\"", `"é"`, `{"a": 1, "a": 2}`, `[1, 2`, `{"a": 1,}`, `01`, `1.`, `.5`, `+1`, `NaN`,
	`"a` + "\t" + `b"`, `[1] [2]`, `{"a" : 1 , "b" : [ ] }`,
}

func TestParseJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkAgainstOracle(t, []byte(s))
	}
}

// TestParseJSONSchemaCorpus parses every JSON file of the shared test data
// (the JSON Schema Test Suite and the AsyncAPI schema), checked against
// encoding/json.
func TestParseJSONSchemaCorpus(t *testing.T) {
	dir := "../../../../../shared/testdata"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no shared test data at %s", dir)
	}
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		checkAgainstOracle(t, data)
		n++
		return nil
	})
	require.NoError(t, err)
	assert.NotZero(t, n)
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstOracle(t, data)
	})
}
