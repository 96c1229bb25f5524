package cli

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSDKImportIsTheRuntimes(t *testing.T) {
	assert.Equal(t, "github.com/giia/events/sdk", sdkImport)
	assert.Equal(t, "github.com/giia/events", runtimeModule)
}

func TestModuleVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "(unknown)"},
		{"a checkout", &debug.BuildInfo{Main: debug.Module{Path: runtimeModule, Version: "(devel)"}, Settings: vcs}, "(devel) abc123+dirty"},
		{"a checkout without VCS", &debug.BuildInfo{Main: debug.Module{Path: runtimeModule}}, "(devel)"},
		{"a dependency", &debug.BuildInfo{
			Main:     debug.Module{Path: "example.com/shop", Version: "(devel)"},
			Deps:     []*debug.Module{{Path: "github.com/google/uuid", Version: "v1.6.0"}, {Path: runtimeModule, Version: "v1.4.0"}},
			Settings: vcs,
		}, "v1.4.0"},
		{"a replaced dependency", &debug.BuildInfo{
			Main: debug.Module{Path: "example.com/shop"},
			Deps: []*debug.Module{{Path: runtimeModule, Version: "v0.0.0", Replace: &debug.Module{Path: "../events"}}},
		}, "v0.0.0 => ../events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, moduleVersion(tt.info)) })
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, _ := runCLI("version")
	assert.Equal(t, exitOK, code)
	assert.Regexp(t, `^eventgen \S.* \(runtime github.com/giia/events/sdk, go1\.`, out)

	code, _, errOut := runCLI("version", "extra")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unexpected argument "extra"`)

	code, out, _ = runCLI("version", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "usage: eventgen version")
}
