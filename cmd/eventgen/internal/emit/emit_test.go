package emit_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/emit"
	"github.com/giia/events/cmd/eventgen/internal/model"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/*/want")

const sdkImport = "github.com/giia/events/sdk"

// generate runs the generator on the case folder dir, as the module root
// of its catalog/ and schemas/. It returns the files, or the diagnostics
// as eventgen prints them.
func generate(t *testing.T, dir string) (map[string][]byte, string) {
	t.Helper()
	root, err := filepath.Abs(dir)
	require.NoError(t, err)
	cat, err := catalog.Load(root, "catalog")
	if err != nil {
		return nil, err.Error() + "\n"
	}
	m, err := model.Build(cat, model.Options{Package: "events", SDKImport: sdkImport})
	if err != nil {
		return nil, err.Error() + "\n"
	}
	files, err := emit.Generate(m)
	if err != nil {
		return nil, err.Error() + "\n"
	}
	return files, ""
}

// cases returns the golden case folders: those with a catalog/.
func cases(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "catalog"))
	require.NoError(t, err)
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Dir(d))
	}
	require.GreaterOrEqual(t, len(out), 3)
	return out
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err, "no expected output; run go test -update")
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = data
	}
	return files
}

// TestGolden compares the output of each case of testdata with its want/
// folder: the generated files, or a file stderr with the diagnostics.
// go test -update rewrites want/. A .go file of want/ that eventgen did not
// generate is the case's hand-written code (the upcasters of the versions
// case): kept, and compiled with the rest.
func TestGolden(t *testing.T) {
	for _, dir := range cases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, stderr := generate(t, dir)
			if stderr != "" {
				files = map[string][]byte{"stderr": []byte(stderr)}
			}
			want := filepath.Join(dir, "want")
			if *update {
				keep := handWritten(t, want)
				require.NoError(t, os.RemoveAll(want))
				require.NoError(t, os.MkdirAll(want, 0o755))
				for name, data := range keep {
					require.NoError(t, os.WriteFile(filepath.Join(want, name), data, 0o644))
				}
				for name, data := range files {
					require.NoError(t, os.WriteFile(filepath.Join(want, name), data, 0o644))
				}
				return
			}
			expected := readDir(t, want)
			for name := range handWritten(t, want) {
				delete(expected, name)
			}
			assert.Equal(t, sortedKeys(expected), sortedKeys(files), "file names")
			for name, data := range expected {
				assert.Equal(t, string(data), string(files[name]), "%s differs; run go test -update and review the diff", name)
			}
		})
	}
}

// handWritten returns the .go files of dir that eventgen did not generate.
func handWritten(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return out
	}
	for name, data := range readDir(t, dir) {
		if strings.HasSuffix(name, ".go") && !bytes.HasPrefix(data, []byte(emit.Header+"\n")) {
			out[name] = data
		}
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestGoldenCompiles type-checks and vets the expected code of each case.
func TestGoldenCompiles(t *testing.T) {
	for _, dir := range cases(t) {
		want := filepath.Join(dir, "want")
		if _, err := os.Stat(filepath.Join(want, "stderr")); err == nil {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			goCmd(t, ".", "vet", "./"+filepath.ToSlash(want))
		})
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, stderr := generate(t, filepath.Join("testdata", "full"))
	require.Empty(t, stderr)
	for range 3 {
		b, _ := generate(t, filepath.Join("testdata", "full"))
		assert.Equal(t, a, b)
	}
	for name, src := range a {
		assert.True(t, bytes.HasPrefix(src, []byte(emit.Header+"\n// source: ")), "%s starts with the header and a source line", name)
	}
}

// goCmd runs the go command in dir and returns its standard output; a
// failure fails the test with the command's output.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "go %s:\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String()
}

// TestGeneratedCodeRuns generates testdata/full into a package inside the
// module, next to testdata/run/events_test.go.in, and runs that test with
// the go command: payload validation, parsing, the catalog, the facades'
// method sets, and a publish and consume through an in-process NATS
// server.
func TestGeneratedCodeRuns(t *testing.T) {
	runGolden(t, "full", "events_test.go.in",
		"TestValidate", "TestValidateJSONAndParse", "TestCatalog", "TestFacades", "TestPublishAndConsume")
}

// TestVersionedCodeRuns does the same with testdata/versions, its
// hand-written casters and testdata/run/versions_test.go.in: payloads of
// older versions decode through the generated decoders into the current
// types, with the generated and the hand-written upcasters applied, on
// their own and over the bus, and the pinned publisher sends version 1.
func TestVersionedCodeRuns(t *testing.T) {
	runGolden(t, "versions", "versions_test.go.in", "TestDecodeUpcasts", "TestVersionsInCatalog", "TestVersionsOverTheBus")
}

// runGolden generates the case into a package inside the module, with the
// hand-written files of its want/ folder and the test testdata/run/test,
// and runs that test with the go command; each of tests must pass.
func runGolden(t *testing.T, name, test string, tests ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a generated package")
	}
	files, stderr := generate(t, filepath.Join("testdata", name))
	require.Empty(t, stderr)
	for n, data := range handWritten(t, filepath.Join("testdata", name, "want")) {
		files[n] = data
	}
	dir, err := os.MkdirTemp("testdata", "run-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	for n, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), data, 0o644))
	}
	src, err := os.ReadFile(filepath.Join("testdata", "run", test))
	require.NoError(t, err)
	importPath := "github.com/giia/events/cmd/eventgen/internal/emit/" + filepath.ToSlash(dir)
	src = bytes.ReplaceAll(src, []byte("EVENTS_IMPORT_PATH"), []byte(importPath))
	require.NoError(t, os.WriteFile(filepath.Join(dir, strings.TrimSuffix(test, ".in")), src, 0o644))

	pkg := "./" + filepath.ToSlash(dir)
	goCmd(t, ".", "vet", pkg)
	out := goCmd(t, ".", "test", "-count=1", "-v", pkg)
	for _, name := range tests {
		assert.Contains(t, out, "--- PASS: "+name+" ")
	}
}
