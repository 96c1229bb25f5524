package catalog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsGeneratedFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	assert.True(t, IsGeneratedFile(write("a.yaml", GeneratedHeader+"\nasyncapi: 3.0.0\n")))
	assert.True(t, IsGeneratedFile(write("b.yaml", GeneratedHeader+"\r\n")))
	assert.False(t, IsGeneratedFile(write("c.yaml", GeneratedHeader)), "the whole first line")
	assert.False(t, IsGeneratedFile(write("d.yaml", "# "+GeneratedHeader+"\n")))
	assert.False(t, IsGeneratedFile(write("e.yaml", "stream: {}\n")))
	assert.False(t, IsGeneratedFile(filepath.Join(dir, "missing.yaml")))
}

// TestLoadSkipsGeneratedFiles: a generated document in the catalog
// directory (catalog/asyncapi.yaml) is not read as a catalog file.
func TestLoadSkipsGeneratedFiles(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"catalog/platform.yaml": "stream: {name: S, subjects: [\"a.>\"], duplicates: 1m, max_age: 1h, replicas: 1}\nservices:\n  x: {description: X}\n",
		"catalog/events.yaml":   "events:\n  - subject: a.b.c\n    version: 1\n    publisher: x\n    schema: ../schemas/x/c.json\n    description: C.\n    examples: [{}]\n",
		"catalog/asyncapi.yaml": GeneratedHeader + "\nasyncapi: 3.0.0\ninfo: {title: T, version: 1.0.0}\n",
		"schemas/x/c.json":      `{"type": "object"}`,
	}
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	cat, err := Load(root, "catalog")
	require.NoError(t, err)
	assert.Equal(t, []string{"catalog/events.yaml", "catalog/platform.yaml"}, cat.Files)
}
