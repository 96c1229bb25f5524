package cli

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// The break the tests make: a wider order number pattern of
// execution.purchase_order.created, whose examples still validate.
const (
	poSchema     = "schemas/execution/purchase_order_created.json"
	poPattern    = `"pattern": "^PO-[0-9]{4}-[0-9]{6}$"`
	poPatternNew = `"pattern": "^PO-[0-9]{4}-[0-9]{6,8}$"`
	poFinding    = `schemas/execution/purchase_order_created.json:29: /properties/order_number/pattern: execution.purchase_order.created: ` +
		`field "order_number": pattern changed from "^PO-[0-9]{4}-[0-9]{6}$" to "^PO-[0-9]{4}-[0-9]{6,8}$": ` +
		`new events can fail old readers and retained old events can fail new readers; affects consumers analytics, ddmrp`
	poAllow = `allow:
  - subject: execution.purchase_order.created
    pointer: /properties/order_number/pattern
    change: pattern-changed
    reason: The ERP moved to 8-digit order numbers; every reader was updated first.
`
)

// copyCatalog copies the repository's catalog/ and schemas/ into a new
// folder with a go.mod, and returns the folder.
func copyCatalog(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	mod, err := findModule(wd)
	require.NoError(t, err)
	root := t.TempDir()
	for _, dir := range []string{"catalog", "schemas"} {
		err := filepath.WalkDir(filepath.Join(mod.root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if dir == "catalog" && !strings.HasSuffix(p, ".yaml") {
				return nil // generated documents
			}
			rel, err := filepath.Rel(mod.root, p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out := filepath.Join(root, rel)
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, data, 0o644)
		})
		require.NoError(t, err)
	}
	writeText(t, root, "go.mod", "module github.com/giia/events\n\ngo 1.26\n")
	return root
}

func writeText(t *testing.T, root, name, text string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
}

// replaceText replaces old with new, once, in the file name under root.
func replaceText(t *testing.T, root, name, old, new string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Contains(t, string(data), old, name)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

// removeLastEvent cuts catalog/catalog.yaml before its last event,
// catalog.product.discontinued, and returns the line the event was on.
func removeLastEvent(t *testing.T, root string) int {
	t.Helper()
	p := filepath.Join(root, "catalog", "catalog.yaml")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	i := strings.Index(string(data), "  - subject: catalog.product.discontinued")
	require.Positive(t, i)
	require.NoError(t, os.WriteFile(p, data[:i], 0o644))
	return strings.Count(string(data[:i]), "\n") + 1
}

// keepVersion1 raises execution.purchase_order.created to version 2 and
// lists version 1 under versions:, with a copy of its schema and its first
// example, as a version raise must.
func keepVersion1(t *testing.T, root string) {
	t.Helper()
	cat, err := catalog.Load(root, "catalog")
	require.NoError(t, err)
	e, ok := cat.Event("execution.purchase_order.created")
	require.True(t, ok)
	data, err := os.ReadFile(filepath.Join(root, poSchema))
	require.NoError(t, err)
	writeText(t, root, "schemas/execution/purchase_order_created_v1.json", string(data))
	replaceText(t, root, "catalog/execution.yaml", "subject: execution.purchase_order.created\n    version: 1",
		"subject: execution.purchase_order.created\n    version: 2\n    versions:\n      - version: 1\n"+
			"        schema: ../schemas/execution/purchase_order_created_v1.json\n        examples: ["+string(e.Examples[0])+"]")
}

func TestCheckUsage(t *testing.T) {
	code, stdout, stderr := runCLI("check", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "usage: eventgen check --against REF|DIR [--catalog DIR]")
	assert.Contains(t, stdout, "-against REF")
	assert.Empty(t, stderr)

	code, stdout, _ = runCLI("--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "check      report breaking changes")

	for _, args := range [][]string{
		{"check"},
		{"check", "--against"},
		{"check", "--against", "main", "extra"},
		{"check", "--bogus"},
	} {
		code, stdout, stderr := runCLI(args...)
		assert.Equal(t, exitUsage, code, args)
		assert.Empty(t, stdout, args)
		assert.Contains(t, stderr, "eventgen check: ", args)
	}
	_, _, stderr = runCLI("check")
	assert.Contains(t, stderr, "--against REF|DIR is required")
}

func TestCheckAgainstDir(t *testing.T) {
	old := copyCatalog(t)

	t.Run("no change", func(t *testing.T) {
		t.Chdir(copyCatalog(t))
		code, stdout, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitOK, code, stderr)
		assert.Equal(t, "eventgen check: no breaking change against "+old+" (11 events compared)\n", stdout)
		assert.Empty(t, stderr)
	})

	t.Run("breaking edit", func(t *testing.T) {
		cur := copyCatalog(t)
		replaceText(t, cur, poSchema, poPattern, poPatternNew)
		t.Chdir(cur)
		code, stdout, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitFindings, code)
		assert.Empty(t, stdout)
		assert.Equal(t, poFinding+"\n"+
			"eventgen check: 1 breaking change against "+old+": raise the event's version, or name the change with a reason in catalog/compat-allow.yaml\n", stderr)
	})

	t.Run("stream edit", func(t *testing.T) {
		cur := copyCatalog(t)
		replaceText(t, cur, "catalog/platform.yaml", "max_age: 720h", "max_age: 24h")
		t.Chdir(cur)
		code, _, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitFindings, code)
		assert.Contains(t, stderr, "catalog/platform.yaml:6: /stream/max_age: stream GIIA: max_age lowered from 720h0m0s to 24h0m0s")
		assert.Contains(t, stderr, "eventgen check: 1 breaking change against "+old+": name the change with a reason in catalog/compat-allow.yaml\n")
	})

	t.Run("compatible edit", func(t *testing.T) {
		cur := copyCatalog(t)
		replaceText(t, cur, poSchema, `"title": "Purchase order created"`, `"title": "A purchase order was created"`)
		replaceText(t, cur, poSchema, `"description": "The purchase order's id."`, `"description": "The id of the purchase order."`)
		replaceText(t, cur, "catalog/catalog.yaml", "consumers: [execution]\n    schema: ../schemas/catalog/product_updated.json",
			"consumers: [execution, ddmrp]\n    schema: ../schemas/catalog/product_updated.json")
		t.Chdir(cur)
		code, stdout, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitOK, code, stderr)
		assert.Contains(t, stdout, "no breaking change")
	})

	t.Run("version raised", func(t *testing.T) {
		cur := copyCatalog(t)
		keepVersion1(t, cur)
		replaceText(t, cur, poSchema, poPattern, poPatternNew)
		t.Chdir(cur)
		code, stdout, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitOK, code, stderr)
		assert.Empty(t, stderr)
		assert.Contains(t, stdout, poFinding+" [accepted: version raised from 1 to 2]\n")
	})

	t.Run("allow-list", func(t *testing.T) {
		cur := copyCatalog(t)
		replaceText(t, cur, poSchema, poPattern, poPatternNew)
		writeText(t, cur, "catalog/compat-allow.yaml", poAllow)
		t.Chdir(cur)
		code, stdout, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitOK, code, stderr)
		assert.Contains(t, stdout, poFinding+" [accepted: allowed by catalog/compat-allow.yaml:2: The ERP moved to 8-digit order numbers; every reader was updated first.]\n")
	})

	t.Run("stale and carried entries", func(t *testing.T) {
		base := copyCatalog(t)
		carried := strings.Replace(poAllow, "pattern-changed", "format-changed", 1)
		writeText(t, base, "catalog/compat-allow.yaml", carried)
		cur := copyCatalog(t)
		writeText(t, cur, "catalog/compat-allow.yaml", carried+strings.TrimPrefix(poAllow, "allow:\n"))
		t.Chdir(cur)
		code, stdout, stderr := runCLI("check", "--against", base)
		assert.Equal(t, exitFindings, code)
		assert.Equal(t, `catalog/compat-allow.yaml:6: stale allow-list entry: no breaking change "pattern-changed" of execution.purchase_order.created at /properties/order_number/pattern (remove the entry, or copy subject, pointer and change from a finding)`+"\n", stderr)
		assert.Contains(t, stdout, "catalog/compat-allow.yaml:2: allow-list entry (format-changed of execution.purchase_order.created at /properties/order_number/pattern) is in "+base+" too: it allows nothing now and can be deleted\n")
	})

	t.Run("invalid allow-list", func(t *testing.T) {
		cur := copyCatalog(t)
		writeText(t, cur, "catalog/compat-allow.yaml", "allow:\n  - {subject: a.b, pointer: /, change: event-removed}\n")
		t.Chdir(cur)
		code, _, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitFindings, code)
		assert.Equal(t, `catalog/compat-allow.yaml:2: allow-list entry is missing "reason" (every entry needs subject, pointer, change and a reason)`+"\n", stderr)
	})

	t.Run("event removed", func(t *testing.T) {
		cur := copyCatalog(t)
		line := removeLastEvent(t, cur)
		t.Chdir(cur)
		code, _, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitFindings, code)
		assert.Contains(t, stderr, filepath.ToSlash(old)+"/catalog/catalog.yaml:"+strconv.Itoa(line)+": /: catalog.product.discontinued: event removed from the catalog: "+
			"its consumers no longer receive it and their generated handlers disappear; affects consumers ddmrp, execution\n")
	})

	t.Run("relative folder and --catalog", func(t *testing.T) {
		cur := copyCatalog(t)
		replaceText(t, cur, poSchema, poPattern, poPatternNew)
		replaceText(t, cur, poSchema, `"minItems": 1`, `"minItems": 1, "maxItems": 500`)
		rel, err := filepath.Rel(filepath.Join(cur, "schemas"), old)
		require.NoError(t, err)
		t.Chdir(filepath.Join(cur, "schemas"))
		code, _, stderr := runCLI("check", "--against", rel, "--catalog", "../catalog")
		assert.Equal(t, exitFindings, code)
		assert.Contains(t, stderr, poFinding)
		assert.Contains(t, stderr, `/properties/lines/maxItems: execution.purchase_order.created: field "lines": maxItems 500 added`)
		assert.Contains(t, stderr, "eventgen check: 2 breaking changes against "+rel+":")
	})

	t.Run("folder without a catalog", func(t *testing.T) {
		t.Chdir(copyCatalog(t))
		code, _, stderr := runCLI("check", "--against", t.TempDir())
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "the folder has no catalog/")
	})

	t.Run("catalog outside the module", func(t *testing.T) {
		t.Chdir(copyCatalog(t))
		code, _, stderr := runCLI("check", "--against", old, "--catalog", filepath.Join(old, "catalog"))
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "is not inside the module")
	})

	t.Run("base catalog invalid", func(t *testing.T) {
		bad := copyCatalog(t)
		replaceText(t, bad, "catalog/execution.yaml", "publisher: execution", "publisher: nobody")
		t.Chdir(copyCatalog(t))
		code, _, stderr := runCLI("check", "--against", bad)
		assert.Equal(t, exitFindings, code)
		assert.Contains(t, stderr, "eventgen check: the catalog of "+bad+" does not load:\ncatalog/execution.yaml:")
	})

	t.Run("current catalog invalid", func(t *testing.T) {
		cur := copyCatalog(t)
		replaceText(t, cur, "catalog/execution.yaml", "publisher: execution", "publisher: nobody")
		t.Chdir(cur)
		code, _, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitFindings, code)
		assert.Contains(t, stderr, `publisher "nobody" is not a declared service`)
	})

	t.Run("no module", func(t *testing.T) {
		t.Chdir(t.TempDir())
		code, _, stderr := runCLI("check", "--against", old)
		assert.Equal(t, exitFindings, code)
		assert.Contains(t, stderr, "eventgen check: no go.mod")
	})
}

// gitRun runs git in dir for a test.
func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
}

func TestCheckAgainstGit(t *testing.T) {
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
	gitRun(t, root, "init", "-q", "-b", "main")
	gitRun(t, root, "add", "go.mod")
	gitRun(t, root, "commit", "-q", "-m", "module only")
	gitRun(t, root, "tag", "before-catalog")
	gitRun(t, root, "add", ".")
	gitRun(t, root, "commit", "-q", "-m", "catalog")
	t.Chdir(root)

	code, stdout, stderr := runCLI("check", "--against", "main")
	assert.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "eventgen check: no breaking change against main (11 events compared)\n", stdout)

	code, stdout, stderr = runCLI("check", "--against", "before-catalog")
	assert.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "eventgen check: before-catalog has no catalog/: every event is new\n", stdout)

	replaceText(t, root, poSchema, poPattern, poPatternNew)
	code, _, stderr = runCLI("check", "--against", "main")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, poFinding+"\n")

	// The edit committed on a branch: compared with main.
	gitRun(t, root, "checkout", "-q", "-b", "wider-numbers")
	gitRun(t, root, "commit", "-q", "-am", "wider order numbers")
	code, _, stderr = runCLI("check", "--against", "main")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, poFinding+"\n")
	code, _, stderr = runCLI("check", "--against", "HEAD")
	assert.Equal(t, exitOK, code, stderr)

	// An allow-list entry committed with the break passes it; on the next
	// change the entry is in the base too, allows nothing and is not stale.
	writeText(t, root, "catalog/compat-allow.yaml", poAllow)
	code, _, stderr = runCLI("check", "--against", "main")
	assert.Equal(t, exitOK, code, stderr)
	gitRun(t, root, "add", ".")
	gitRun(t, root, "commit", "-q", "-m", "allow it")
	code, stdout, stderr = runCLI("check", "--against", "HEAD")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "is in HEAD too: it allows nothing now and can be deleted")

	// A removed event points at the old catalog entry.
	line := removeLastEvent(t, root)
	code, _, stderr = runCLI("check", "--against", "main")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, "catalog/catalog.yaml:"+strconv.Itoa(line)+": /: catalog.product.discontinued: event removed from the catalog (position in main): ")

	for _, ref := range []string{"no-such-branch", "-v", "main~5"} {
		code, _, stderr = runCLI("check", "--against", ref)
		assert.Equal(t, exitUsage, code, ref)
		assert.Contains(t, stderr, `--against "`+ref+`" is neither a folder nor a git revision`, ref)
	}

	// A base whose catalog does not load.
	gitRun(t, root, "checkout", "-q", "--", ".")
	replaceText(t, root, "catalog/execution.yaml", "publisher: execution", "publisher: nobody")
	gitRun(t, root, "commit", "-q", "-am", "broken")
	gitRun(t, root, "checkout", "-q", "HEAD~1", "--", "catalog")
	code, _, stderr = runCLI("check", "--against", "HEAD")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, stderr, "eventgen check: the catalog of HEAD does not load:\n")

	// Not a repository.
	t.Chdir(copyCatalog(t))
	code, _, stderr = runCLI("check", "--against", "main")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "is neither a folder nor a git revision")
}

func TestGitErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	_, err := git(dir, "show", "HEAD:catalog")
	var ge *gitError
	require.ErrorAs(t, err, &ge)
	assert.Contains(t, err.Error(), "git show HEAD:catalog: exit status 128: fatal: not a git repository")
	assert.ErrorAs(t, err, new(*exec.ExitError))
}
