package payload_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deps returns the packages pkg links, outside the standard library.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var list []string
	for _, p := range strings.Fields(string(out)) {
		list = append(list, p)
	}
	return list
}

// TestPayloadIsALeaf: what generated code imports links the standard
// library, jsonschema/v5 (the fallback for documents that repeat a key)
// and google/uuid (the Go type of format "uuid"), nothing else.
func TestPayloadIsALeaf(t *testing.T) {
	for _, p := range deps(t, "github.com/giia/events/sdk/payload") {
		switch p {
		case "github.com/giia/events/sdk/payload", "github.com/santhosh-tekuri/jsonschema/v5", "github.com/google/uuid":
		default:
			t.Errorf("sdk/payload links %s", p)
		}
	}
}

// TestGeneratorLinksNoNATS: eventgen writes NATS configuration from
// sdk/spec without linking a NATS client.
func TestGeneratorLinksNoNATS(t *testing.T) {
	list := deps(t, "github.com/giia/events/cmd/eventgen")
	require.NotEmpty(t, list)
	for _, p := range list {
		assert.False(t, strings.HasPrefix(p, "github.com/nats-io/"), "cmd/eventgen links %s", p)
		assert.NotEqual(t, "github.com/giia/events/sdk/bus", p)
		assert.NotEqual(t, "github.com/giia/events/sdk/outbox", p)
	}
	assert.Contains(t, list, "github.com/giia/events/sdk/payload")
}
