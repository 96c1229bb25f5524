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

// listed is a package as go list -json reports it.
type listed struct {
	ImportPath string
	Imports    []string
}

// goList runs go list -deps -test over the patterns: every package they
// build, their tests and the test variants of what the tests pull in.
func goList(t *testing.T, patterns ...string) []listed {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-test", "-json=ImportPath,Imports"}, patterns...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		p.ImportPath = plainPath(p.ImportPath)
		for i, imp := range p.Imports {
			p.Imports[i] = plainPath(imp)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// plainPath drops the test variant of a path ("p [q.test]" is p).
func plainPath(path string) string {
	path, _, _ = strings.Cut(path, " ")
	return path
}

// under reports whether path is dir or a package below it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// TestServicesImportNoTool: the tools (the demo, the fault suite, the
// benchmark, ... under cmd/) build on the services, never the other way
// round, tests included.
func TestServicesImportNoTool(t *testing.T) {
	const module = "github.com/giia/events/"
	pkgs := goList(t, "../...")
	var seen []string
	for _, p := range pkgs {
		assert.False(t, under(p.ImportPath, module+"cmd"), "%s is built for the services or their tests: services import no tool", p.ImportPath)
		if !under(p.ImportPath, module+"services") {
			continue
		}
		seen = append(seen, p.ImportPath)
		for _, imp := range p.Imports {
			assert.False(t, under(imp, module+"cmd"), "%s imports the tool %s", p.ImportPath, imp)
		}
	}
	require.Contains(t, seen, module+"services/e2e", "the walk must reach the end-to-end suite")
	require.Contains(t, seen, module+"services/internal/servicetest", "the walk must reach the shared helpers")
}

// TestSharedPackagesImportNoService: services/internal (and the SQLite
// helper the tools share, services/sqlitedb) is the floor both services
// stand on: no package there, nor its tests, imports either service.
// What starts a service gets it from its caller (servicetest's Env.Start
// takes the service's app.Start); what starts both lives above them, in
// services/e2e.
func TestSharedPackagesImportNoService(t *testing.T) {
	const module = "github.com/giia/events/"
	pkgs := goList(t, "../internal/...", "../sqlitedb/...")
	var shared []string
	for _, p := range pkgs {
		if !under(p.ImportPath, module+"services/internal") && !under(p.ImportPath, module+"services/sqlitedb") {
			continue
		}
		shared = append(shared, p.ImportPath)
		for _, imp := range p.Imports {
			for _, svc := range []string{"execution", "ddmrp"} {
				assert.False(t, under(imp, module+"services/"+svc), "%s imports %s: a shared package knows no service", p.ImportPath, imp)
			}
		}
	}
	for _, want := range []string{"host", "servicetest", "usecase", "delivery"} {
		require.Contains(t, shared, module+"services/internal/"+want, "the walk must reach services/internal/%s", want)
	}
	// Transitively too: nothing the shared packages build pulls a service in.
	for _, p := range pkgs {
		for _, svc := range []string{"execution", "ddmrp"} {
			assert.False(t, under(p.ImportPath, module+"services/"+svc), "%s is built for the shared packages or their tests", p.ImportPath)
		}
	}
}
