package cli

import (
	"flag"
	"fmt"
	"io"
	"path"
	"reflect"
	"runtime"
	"runtime/debug"

	"github.com/giia/events/sdk/payload"
)

// sdkImport is the import path of the runtime's sdk folder (sdk/bus,
// sdk/payload, sdk/spec), which the generated code imports. It is read
// from the runtime eventgen was built with, not from the go.mod of the
// module it generates into: a team's own module (analytics, ai-hub)
// requires this one and imports its runtime by this path.
var sdkImport = path.Dir(reflect.TypeFor[payload.ValidationError]().PkgPath())

// runtimeModule is the module path of that runtime.
var runtimeModule = path.Dir(sdkImport)

const versionHelp = `usage: eventgen version

Version prints eventgen's version: the version of the module that holds
it (the one the generated code imports its runtime from), its VCS
revision when built from a checkout, and the Go version it was built
with.
`

// runVersion is "eventgen version".
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if code := parseFlags(fs, versionHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "version", "unexpected argument %q", fs.Arg(0))
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintf(stdout, "eventgen %s (runtime %s, %s)\n", moduleVersion(info), sdkImport, runtime.Version())
	return exitOK
}

// moduleVersion is the version of runtimeModule in info: the required
// version, and its replacement, when eventgen is built from a module that
// requires this one ("go tool eventgen", "go run
// github.com/giia/events/cmd/eventgen@v1.2.3"); "(devel)" and the VCS
// revision, when the build recorded one, when built in a checkout.
func moduleVersion(info *debug.BuildInfo) string {
	if info == nil {
		return "(unknown)"
	}
	m := &info.Main
	if m.Path != runtimeModule {
		for _, dep := range info.Deps {
			if dep.Path == runtimeModule {
				m = dep
			}
		}
	}
	v := m.Version
	if v == "" {
		v = "(devel)"
	}
	if m.Replace != nil {
		v += " => " + m.Replace.Path
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" && m == &info.Main {
		v += " " + rev + modified
	}
	return v
}
