package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/compat"
)

// setClock makes the history and the check see the time at.
func setClock(t *testing.T, at time.Time) {
	t.Helper()
	prev := clock
	clock = func() time.Time { return at }
	t.Cleanup(func() { clock = prev })
}

const (
	discontinued = "schemas/catalog/product_discontinued.json"
	historyPath  = "catalog/" + compat.HistoryFile
)

func TestHistoryCommand(t *testing.T) {
	code, stdout, _ := runCLI("history", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "usage: eventgen history [--catalog DIR] [--check]")
	code, _, stderr := runCLI("history", "extra")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `unexpected argument "extra"`)

	root := copyCatalog(t)
	t.Chdir(root)
	setClock(t, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))

	code, _, stderr = runCLI("history", "--check")
	assert.Equal(t, exitFindings, code)
	assert.Equal(t, historyPath+" is missing\nrun \"eventgen history\" (or go generate) to update it\n", stderr)

	code, _, stderr = runCLI("history")
	require.Equal(t, exitOK, code, stderr)
	first, err := os.ReadFile(filepath.Join(root, historyPath))
	require.NoError(t, err)
	assert.Contains(t, string(first), `"recorded": "2026-03-01T09:00:00Z"`)
	code, _, stderr = runCLI("history", "--check")
	assert.Equal(t, exitOK, code, stderr)

	// Nothing changed: the file stays as it is, whatever the time.
	setClock(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	code, _, _ = runCLI("history", "--catalog", "catalog")
	require.Equal(t, exitOK, code)
	again, err := os.ReadFile(filepath.Join(root, historyPath))
	require.NoError(t, err)
	assert.Equal(t, string(first), string(again))

	replaceText(t, root, discontinued, `"title": "Product discontinued"`, `"title": "A product was discontinued"`)
	code, _, stderr = runCLI("history", "--check")
	assert.Equal(t, exitFindings, code)
	assert.Equal(t, historyPath+" does not record catalog.product.discontinued as the catalog has it\nrun \"eventgen history\" (or go generate) to update it\n", stderr)
	code, _, stderr = runCLI("check", "--against", root)
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, historyPath+": the history does not record the catalog as it is (catalog.product.discontinued): run go generate ./... (or eventgen history) and commit it\n")

	writeText(t, root, historyPath, "{\"events\": 1}\n")
	code, _, stderr = runCLI("history")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, historyPath+": not a schema history (")
	code, _, stderr = runCLI("check", "--against", root)
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, historyPath+": not a schema history (")

	// A base whose history does not load.
	t.Chdir(copyCatalog(t))
	code, _, stderr = runCLI("check", "--against", root)
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, "eventgen check: the schema history of "+root+" does not load:\n"+filepath.ToSlash(root)+"/"+historyPath+": not a schema history (")
	t.Chdir(root)

	replaceText(t, root, "catalog/execution.yaml", "publisher: execution", "publisher: nobody")
	code, _, stderr = runCLI("history")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, `publisher "nobody" is not a declared service`)

	t.Chdir(t.TempDir())
	code, _, stderr = runCLI("history")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, "eventgen history: no go.mod")
}

// TestCheckTransitiveGit is the sequence of issue 11, each step committed
// with the history go generate writes and checked against its parent as
// "make check-compat" does: an optional property added as a string to an
// open object, removed, added again as an integer. The first two pass, the
// last is refused: the string notes are still in the stream.
func TestCheckTransitiveGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	for k, v := range map[string]string{
		"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@giia.example",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@giia.example",
		"GIT_CONFIG_GLOBAL": os.DevNull, "GIT_CONFIG_NOSYSTEM": "1",
	} {
		t.Setenv(k, v)
	}
	root := copyCatalog(t)
	replaceText(t, root, discontinued, "  \"additionalProperties\": false,\n", "")
	t.Chdir(root)
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	step := func(n int, message string) (int, string, string) {
		t.Helper()
		setClock(t, day.Add(time.Duration(n)*24*time.Hour))
		code, _, stderr := runCLI("history") // what go generate runs
		require.Equal(t, exitOK, code, stderr)
		code, stdout, stderr := runCLI("check", "--against", "HEAD") // make check-compat COMPAT_BASE=HEAD
		gitRun(t, root, "add", ".")
		gitRun(t, root, "commit", "-q", "-m", message)
		return code, stdout, stderr
	}
	gitRun(t, root, "init", "-q", "-b", "main")
	setClock(t, day)
	code, _, stderr := runCLI("history")
	require.Equal(t, exitOK, code, stderr)
	gitRun(t, root, "add", ".")
	gitRun(t, root, "commit", "-q", "-m", "an open object")

	replaceText(t, root, discontinued, `"properties": {`, `"properties": {`+"\n    \"note\": {\"type\": \"string\"},")
	code, stdout, stderr := step(1, "note as a string")
	assert.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "eventgen check: no breaking change against HEAD (11 events compared) or any schema "+historyPath+" retains\n", stdout)

	replaceText(t, root, discontinued, "\n    \"note\": {\"type\": \"string\"},", "")
	code, _, stderr = step(2, "no note")
	assert.Equal(t, exitOK, code, stderr)

	replaceText(t, root, discontinued, `"properties": {`, `"properties": {`+"\n    \"note\": {\"type\": \"integer\"},")
	code, stdout, stderr = step(3, "note as an integer")
	assert.Equal(t, exitFindings, code, stdout)
	assert.Equal(t, `schemas/catalog/product_discontinued.json:8: /properties/note/type: catalog.product.discontinued: field "note": `+
		`type changed from "string" to "integer" (against version 1 as recorded 2026-03-02T09:00:00Z in `+historyPath+`): `+
		`new events can fail old readers and retained old events can fail new readers; affects consumers ddmrp, execution`+"\n"+
		`eventgen check: 1 breaking change against HEAD: name the change with a reason in catalog/compat-allow.yaml`+"\n", stderr)

	// Forgetting go generate does not help: the history must record the catalog.
	gitRun(t, root, "checkout", "-q", "HEAD~1", "--", historyPath)
	code, _, stderr = runCLI("check", "--against", "HEAD~1")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, historyPath+": the history does not record the catalog as it is (catalog.product.discontinued)")

	// Nor does dropping the history: what the base retains must stay.
	require.NoError(t, os.Remove(filepath.Join(root, historyPath)))
	code, _, stderr = runCLI("check", "--against", "HEAD~1")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, historyPath+": the history lost the schema of catalog.product.discontinued version 1 recorded 2026-03-02T09:00:00Z, which HEAD~1 has")
	assert.Contains(t, stderr, `type changed from "string" to "integer" (against version 1 as recorded 2026-03-02T09:00:00Z in `+historyPath+`)`, "the base's history is read too")
}
