package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGenerateOutsideThisModule is a team's own module (example.com/shop,
// the catalog of genModuleFiles) that requires this one, as analytics or
// ai-hub would: it runs eventgen as a Go tool through "go generate", and
// the SDK it gets imports the runtime by its real module path, builds,
// vets and runs. The checkout stands in for a released version through a
// replace directive.
func TestGenerateOutsideThisModule(t *testing.T) {
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command")
	checkout, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(checkout, "go.mod"))

	root := writeGenModule(t, map[string]string{
		"go.mod": "module example.com/shop\n\ngo 1.26.0\n\n" +
			"require " + runtimeModule + " v0.0.0\n\n" +
			"replace " + runtimeModule + " => " + filepath.ToSlash(checkout) + "\n\n" +
			"tool " + runtimeModule + "/cmd/eventgen\n",
		"sdk/events/gen.go": "// Package events is the shop's SDK, generated from catalog/.\npackage events\n\n//go:generate go tool eventgen generate\n",
	})
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}

	goCmd("mod", "tidy")
	goCmd("generate", "./...")
	generated := goFiles(t, filepath.Join(root, "sdk", "events"))
	assert.Contains(t, generated["publisher.go"], `"`+runtimeModule+`/sdk/bus"`)
	for name, text := range generated {
		assert.NotContains(t, text, `"example.com/shop/sdk/`, "%s imports a runtime from the shop's own module", name)
	}

	main := `package main

import (
	"fmt"
	"os"

	"github.com/google/uuid"

	"example.com/shop/sdk/events"
)

func main() {
	p := events.OrderPlaced{OrderID: uuid.MustParse("5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93"), Quantity: events.Quantity{Value: 2}}
	if err := p.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	data, err := p.AppendJSON(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bad := events.OrderPlaced{Quantity: events.Quantity{Value: -1}}
	fmt.Printf("%s %s %s\n%v\n", events.Catalog.Stream.Name, events.SubjectShopOrderPlaced, data, bad.Validate())
}
`
	require.NoError(t, os.WriteFile(filepath.Join(root, "main.go"), []byte(main), 0o644))
	goCmd("mod", "tidy")
	goCmd("vet", "./...")
	out := goCmd("run", ".")
	assert.Contains(t, out, `SHOP shop.order.placed {"order_id":"5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93","quantity":{"value":2}}`)
	assert.Contains(t, out, "/quantity/value: must be >= 0")

	version := goCmd("tool", "eventgen", "version")
	assert.Contains(t, version, "eventgen v0.0.0 => "+filepath.ToSlash(checkout))
	assert.Contains(t, version, "runtime "+runtimeModule+"/sdk")
}
