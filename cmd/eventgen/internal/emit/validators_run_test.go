package emit_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidatorsRun generates testdata/validators into a package inside
// the module, next to testdata/run/validators_test.go.in, and runs that
// test: the validators of tuples, allOf, whole-value constraints, untyped
// values and payload types defined on other types, raw and typed, against
// the compiled schemas; and the AppendJSON methods against json.Marshal.
func TestValidatorsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a generated package")
	}
	files, stderr := generate(t, filepath.Join("testdata", "validators"))
	require.Empty(t, stderr)
	dir, err := os.MkdirTemp("testdata", "run-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	test, err := os.ReadFile(filepath.Join("testdata", "run", "validators_test.go.in"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "validators_test.go"), test, 0o644))
	out := goCmd(t, ".", "test", "-count=1", "-v", "./"+filepath.ToSlash(dir))
	for _, name := range []string{"TestRawAgainstOracle", "TestTypedAgainstOracle", "TestParse", "TestAppendJSON"} {
		assert.Contains(t, out, "--- PASS: "+name+" ")
	}
}
