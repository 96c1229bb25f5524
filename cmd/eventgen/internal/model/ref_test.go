package model_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

func TestResolver(t *testing.T) {
	const common = "schemas/common/defs.json"
	cat := newCatalog(t, map[string]string{
		thingPath: `{"type": "object", "properties": {"a": {"$ref": "../common/defs.json#/$defs/a~1b"}, "q": {"$ref": "../common/defs.json"}}}`,
		common:    `{"$id": "https://giia.example/defs.json", "type": "object", "$defs": {"a/b": {"type": "string"}, "list": [{"type": "integer"}]}}`,
	})
	r := model.NewResolver(cat)

	ref, err := r.Resolve(thingPath, "../common/defs.json#/$defs/a~1b")
	require.NoError(t, err)
	assert.Equal(t, common, ref.File)
	assert.Equal(t, "/$defs/a~1b", ref.Pointer)
	assert.Equal(t, common+"#/$defs/a~1b", ref.Key())
	assert.Equal(t, "string", model.Member(ref.Node, "type").Value)

	ref, err = r.Resolve(thingPath, "../common/defs.json")
	require.NoError(t, err)
	assert.Equal(t, "", ref.Pointer)
	assert.Equal(t, "Defs", ref.Name)

	// Relative to the $id of the file it is written in.
	ref, err = r.Resolve(common, "defs.json#/$defs/list/0")
	require.NoError(t, err)
	assert.Equal(t, "/$defs/list/0", ref.Pointer)

	for _, bad := range []struct{ file, ref, want string }{
		{"schemas/none.json", "#", "no schema file schemas/none.json was loaded"},
		{thingPath, "missing.json", "no schema file"},
		{thingPath, "#anchor", "not a JSON pointer"},
		{thingPath, "#/properties/zz", "has nothing at /properties/zz"},
		{thingPath, "%zz", "invalid URL escape"},
	} {
		_, err := r.Resolve(bad.file, bad.ref)
		assert.ErrorContains(t, err, bad.want, bad.ref)
	}

	n, ok := r.Lookup(thingPath, "/properties/a")
	require.True(t, ok)
	assert.Equal(t, "../common/defs.json#/$defs/a~1b", model.Member(n, "$ref").Value)
	n, ok = r.Lookup(common, "/$defs/a~1b")
	require.True(t, ok)
	assert.Equal(t, "string", model.Member(n, "type").Value)
	root, ok := r.Lookup(common, "")
	require.True(t, ok)
	assert.NotNil(t, model.Member(root, "$defs"))
	for _, miss := range [][2]string{{"schemas/none.json", ""}, {thingPath, "properties"}, {thingPath, "/properties/zz"}} {
		_, ok := r.Lookup(miss[0], miss[1])
		assert.False(t, ok, miss)
	}
	assert.Equal(t, "a~1b~0c", model.EscapePointer("a/b~c"))
	assert.Nil(t, model.Member(nil, "x"))
}
