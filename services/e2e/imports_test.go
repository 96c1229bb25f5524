package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServicesUseOnlyTheSDKForMessaging walks everything the two service
// binaries build from this repository (the main packages and every
// package of ours they pull in, tests excluded) and fails if one of them
// imports NATS directly: messaging goes through sdk/events and sdk/bus.
func TestServicesUseOnlyTheSDKForMessaging(t *testing.T) {
	const module = "github.com/giia/events/"
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports", "../execution", "../ddmrp")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())

	type pkg struct {
		ImportPath string
		Imports    []string
	}
	var ours []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		if strings.HasPrefix(p.ImportPath, module+"services/") {
			ours = append(ours, p)
		}
	}
	var paths []string
	for _, p := range ours {
		paths = append(paths, p.ImportPath)
	}
	require.Contains(t, paths, module+"services/execution", "the walk must reach the execution binary")
	require.Contains(t, paths, module+"services/ddmrp", "the walk must reach the ddmrp binary")
	require.Contains(t, paths, module+"services/execution/internal/core", "the walk must reach the internal packages")

	usesSDK := false
	for _, p := range ours {
		for _, imp := range p.Imports {
			assert.False(t, strings.HasPrefix(imp, "github.com/nats-io/"),
				"%s imports %s: services talk to NATS only through sdk/events and sdk/bus", p.ImportPath, imp)
			usesSDK = usesSDK || imp == module+"sdk/events"
		}
	}
	assert.True(t, usesSDK, "the services publish and consume through sdk/events")
}
