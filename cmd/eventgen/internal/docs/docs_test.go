package docs_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/docs"
	"github.com/giia/events/cmd/eventgen/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// load loads the catalog of testdata/<name> and its model.
func load(t *testing.T, name string) (*catalog.Catalog, *model.Model) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	cat, err := catalog.Load(root, filepath.Join(root, "catalog"))
	require.NoError(t, err)
	m, err := model.Build(cat, model.Options{Package: "events", SDKImport: "example.com/shop/sdk"})
	require.NoError(t, err)
	return cat, m
}

// TestGolden compares EVENTS.md of testdata/rich with want/EVENTS.md;
// go test -update rewrites it.
func TestGolden(t *testing.T) {
	cat, m := load(t, "rich")
	got := docs.Generate(cat, m, docs.Options{Root: ".."})
	golden := filepath.Join("testdata", "rich", "want", "EVENTS.md")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Equal(t, got, docs.Generate(cat, m, docs.Options{Root: ".."}), "deterministic")
}

// TestGoldenVersions: an event with an older version and a rollout pin
// shows both versions, in the table and in its section, with an example
// of each; go test -update rewrites want/EVENTS.md.
func TestGoldenVersions(t *testing.T) {
	cat, m := load(t, "versions")
	got := docs.Generate(cat, m, docs.Options{Root: ".."})
	golden := filepath.Join("testdata", "versions", "want", "EVENTS.md")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	out := string(got)
	assert.Contains(t, out, "| [`shop.order.placed`](#shoporderplaced) | orders | stock | 2 (also reads 1; sends 1) | An order was placed. |")
	assert.Contains(t, out, "| 1 | [schemas/orders/order_placed_v1.json](../schemas/orders/order_placed_v1.json) | older: its events may still be in the stream; consumers upcast them to version 2; publishers send it (pinned during the rollout) |")
	assert.Contains(t, out, "Example of version 1:")
}

// TestRealCatalog: the module's own catalog gives a table row, a section
// with an example and flowchart edges for every event.
func TestRealCatalog(t *testing.T) {
	root, err := filepath.Abs("../../../..")
	require.NoError(t, err)
	cat, err := catalog.Load(root, filepath.Join(root, "catalog"))
	require.NoError(t, err)
	m, err := model.Build(cat, model.Options{Package: "events", SDKImport: "github.com/giia/events/sdk"})
	require.NoError(t, err)
	out := string(docs.Generate(cat, m, docs.Options{Root: ".."}))

	assert.True(t, strings.HasPrefix(out, docs.Header+"\n"))
	assert.Contains(t, out, "```mermaid\nflowchart LR\n")
	assert.Contains(t, out, "class svc_ai_hub,svc_analytics,svc_catalog external")
	for _, e := range m.Events {
		assert.Contains(t, out, "\n### "+e.Subject+"\n")
		for _, c := range e.Consumers {
			assert.Contains(t, out, fmt.Sprintf("svc_%s -->|%q| svc_%s", strings.ReplaceAll(e.Publisher.Name, "-", "_"), e.Subject, strings.ReplaceAll(c.Name, "-", "_")))
		}
	}
	examples := len(m.Events)
	for _, e := range cat.Events {
		examples += len(e.Versions)
	}
	assert.Equal(t, examples, strings.Count(out, "```json\n"), "one example per event and per older version")
	assert.Contains(t, out, "| `lines[]/product/sku` | string | `string` | yes | pattern `^[A-Z0-9][A-Z0-9-]{2,39}$` |")
}
