package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/compat"
)

const checkHelp = `usage: eventgen check --against REF|DIR [--catalog DIR]

Check compares the event catalog and its JSON Schemas with another version
of them and reports every breaking change on stderr, one per line:

	path:line: /json/pointer: subject: field "f": what changed: why it breaks; affects consumers ...

path:line is where the change is in the current files, or the old catalog
entry of an event that was removed. Compatibility is full: readers still on
the old schemas must read new events, and new readers must read the old
events the stream retains. So narrowing and widening a schema both break,
except adding or removing an optional property of an open object (one
without "additionalProperties": false). Schemas are compared after
following every $ref, across files.

--against is the root folder of another checkout, holding catalog/ and
schemas/, or else a git revision of the repository that holds the module
(main, origin/main, a commit: its catalog/ and schemas/ are read with git
show).

The check is transitive: each version the catalog lists is also compared
with every schema of that version that catalog/schema-history.json (the
base's and the current one) retains, that is, whose events may still be in
the stream. Besides schema changes it reports: a property name removed
from a version that comes back with another type (property-reserved); a
version raised without listing the old one under "versions:", or a listed
version removed while its events may be retained (version-removed); a
history that does not record the catalog as it is (run go generate).

A breaking change between the base and the current schema of an event
passes when the event's version is raised and the old version stays
listed; the history's findings do not. Any finding passes when the
allow-list catalog/` + compat.AllowListFile + ` names it with a reason:

	allow:
	  - subject: execution.purchase_order.created
	    pointer: /properties/lines/minItems      # as check prints it
	    change: minItems-raised                  # as check prints it
	    reason: Why the break is safe, or who agreed to it.

An entry that matches no breaking change is itself reported (stale), unless
the other version's allow-list has it too: then it was used by an earlier
change and only a note says it can go.

Exit codes: 0 no breaking change (or every one accepted); 1 findings
(breaking changes, stale entries, a catalog or allow-list that does not
load); 2 usage, or a REF that is neither a folder nor a git revision.

Flags:
`

// runCheck is "eventgen check".
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	against := fs.String("against", "", "the version to compare with: a git `REF` or the root DIR of another checkout (required)")
	catalogDir := fs.String("catalog", "", "the catalog `DIR` (default: catalog/ at the module root)")
	if code := parseFlags(fs, checkHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "check", "unexpected argument %q", fs.Arg(0))
	}
	if *against == "" {
		return usageError(stderr, "check", "--against REF|DIR is required")
	}

	wd, err := os.Getwd()
	if err != nil {
		return checkFail(stderr, err)
	}
	mod, err := findModule(wd)
	if err != nil {
		return checkFail(stderr, err)
	}
	catDir := filepath.Join(mod.root, "catalog")
	if *catalogDir != "" {
		catDir = *catalogDir
		if !filepath.IsAbs(catDir) {
			catDir = filepath.Join(wd, catDir)
		}
		catDir = filepath.Clean(catDir)
	}
	if !mod.inside(catDir) {
		return usageError(stderr, "check", "--catalog %s is not inside the module at %s", catDir, mod.root)
	}
	catRel := mod.rel(catDir)

	cur, err := catalog.Load(mod.root, catDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFindings
	}
	allow, err := readAllowList(filepath.Join(catDir, compat.AllowListFile), mod.rel(filepath.Join(catDir, compat.AllowListFile)))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFindings
	}

	historyShow := mod.rel(filepath.Join(catDir, compat.HistoryFile))
	history, _, err := readHistory(filepath.Join(catDir, compat.HistoryFile), historyShow)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFindings
	}

	base, code := loadBase(*against, wd, mod, catRel, stderr)
	if code >= 0 {
		return code
	}
	defer base.cleanup()

	report, err := compat.Check(base.cat, cur, compat.Options{
		Allow: allow, BaseAllow: base.allow,
		History: history, BaseHistory: base.history, HistoryFile: historyShow,
		BaseLabel: base.label, Now: clock(),
	})
	if err != nil {
		return checkFail(stderr, err)
	}
	for _, f := range report.Accepted {
		fmt.Fprintf(stdout, "%s [accepted: %s]\n", base.show(f), f.Accepted)
	}
	for _, a := range report.Carried {
		fmt.Fprintf(stdout, "%s:%d: allow-list entry (%s of %s at %s) is in %s too: it allows nothing now and can be deleted\n",
			a.Pos.File, a.Pos.Line, a.Change, a.Subject, a.Pointer, base.label)
	}
	for _, f := range report.Breaking {
		fmt.Fprintln(stderr, base.show(f))
	}
	for _, d := range report.Stale {
		fmt.Fprintln(stderr, d)
	}
	for _, d := range report.History {
		fmt.Fprintln(stderr, d)
	}
	if !report.OK() {
		if n := len(report.Breaking); n > 0 {
			remedy := "raise the event's version, or name the change"
			if !slices.ContainsFunc(report.Breaking, func(f compat.Finding) bool { return !strings.HasPrefix(f.Pointer, "/stream/") && !f.Transitive() }) {
				// No version covers the stream, and a raise cannot
				// accept what breaks a version still in the stream.
				remedy = "name the change"
			}
			fmt.Fprintf(stderr, "eventgen check: %d breaking change%s against %s: %s with a reason in %s\n",
				n, plural(n), base.label, remedy, path.Join(catRel, compat.AllowListFile))
		}
		return exitFindings
	}
	if base.empty {
		fmt.Fprintf(stdout, "eventgen check: %s has no %s/: every event is new\n", base.label, catRel)
		return exitOK
	}
	if history != nil {
		fmt.Fprintf(stdout, "eventgen check: no breaking change against %s (%d events compared) or any schema %s retains\n", base.label, len(base.cat.Events), historyShow)
		return exitOK
	}
	fmt.Fprintf(stdout, "eventgen check: no breaking change against %s (%d events compared)\n", base.label, len(base.cat.Events))
	return exitOK
}

func checkFail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "eventgen check: %v\n", err)
	return exitFindings
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// readAllowList reads the allow-list at file, shown as show; a missing
// file is an empty list.
func readAllowList(file, show string) ([]compat.Allow, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the allow-list: %w", show, err)
	}
	return compat.ParseAllowList(show, data)
}

// baseVersion is the version compared with.
type baseVersion struct {
	cat     *catalog.Catalog
	allow   []compat.Allow
	history *compat.History // nil when the version has none
	label   string          // how messages name it: the REF or DIR as given
	prefix  string          // prepended to the paths of its files, for a DIR
	empty   bool            // a git revision without the catalog
	cleanup func()
}

// show formats a finding, naming the base version's files as the user
// can find them.
func (b *baseVersion) show(f compat.Finding) string {
	if f.InOld {
		if b.prefix != "" {
			f.Pos.File = path.Join(b.prefix, f.Pos.File)
		} else {
			f.What += " (position in " + b.label + ")"
		}
	}
	return f.String()
}

// loadBase loads the catalog of the version against names. It returns -1
// to go on, or the exit code after reporting a problem.
func loadBase(against, wd string, mod module, catRel string, stderr io.Writer) (*baseVersion, int) {
	dir := against
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(wd, dir)
	}
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return loadBaseDir(against, dir, catRel, stderr)
	}
	return loadBaseGit(against, mod, catRel, stderr)
}

// loadBaseDir loads the catalog of another checkout rooted at dir.
func loadBaseDir(against, dir, catRel string, stderr io.Writer) (*baseVersion, int) {
	catDir := filepath.Join(dir, filepath.FromSlash(catRel))
	if info, err := os.Stat(catDir); err != nil || !info.IsDir() {
		return nil, usageError(stderr, "check", "--against %s: the folder has no %s/ (want the root of another checkout, holding %s/ and schemas/)", against, catRel, catRel)
	}
	b := &baseVersion{label: against, prefix: filepath.ToSlash(filepath.Clean(against)), cleanup: func() {}}
	var err error
	if b.cat, err = catalog.Load(dir, catDir); err != nil {
		fmt.Fprintf(stderr, "eventgen check: the catalog of %s does not load:\n%v\n", against, err)
		return nil, exitFindings
	}
	b.allow = baseAllowList(catDir)
	if b.history, _, err = readHistory(filepath.Join(catDir, compat.HistoryFile), path.Join(b.prefix, catRel, compat.HistoryFile)); err != nil {
		fmt.Fprintf(stderr, "eventgen check: the schema history of %s does not load:\n%v\n", against, err)
		return nil, exitFindings
	}
	return b, -1
}

// baseAllowList reads the allow-list of the base version; one that does
// not parse counts as empty, since it only tells which entries are old.
func baseAllowList(catDir string) []compat.Allow {
	allow, err := readAllowList(filepath.Join(catDir, compat.AllowListFile), compat.AllowListFile)
	if err != nil {
		return nil
	}
	return allow
}

// loadBaseGit loads the catalog of a git revision: it writes the revision's
// catalog/ and schemas/ into a temporary folder, read with git show.
func loadBaseGit(ref string, mod module, catRel string, stderr io.Writer) (*baseVersion, int) {
	if strings.HasPrefix(ref, "-") {
		return nil, usageError(stderr, "check", "--against %q is neither a folder nor a git revision", ref)
	}
	if _, err := git(mod.root, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); err != nil {
		msg := ""
		var ge *gitError
		if errors.As(err, &ge) && ge.stderr != "" {
			msg = " (" + ge.stderr + ")"
		} else if !errors.As(err, &ge) {
			msg = " (" + err.Error() + ")"
		}
		return nil, usageError(stderr, "check", "--against %q is neither a folder nor a git revision of the repository at %s%s", ref, mod.root, msg)
	}
	list, err := git(mod.root, "ls-tree", "-r", "-z", "--name-only", ref, "--", catRel, "schemas")
	if err != nil {
		return nil, checkFail(stderr, err)
	}
	tmp, err := os.MkdirTemp("", "eventgen-check-*")
	if err != nil {
		return nil, checkFail(stderr, err)
	}
	b := &baseVersion{label: ref, cleanup: func() { os.RemoveAll(tmp) }}
	hasCatalog := false
	for _, name := range strings.Split(string(list), "\x00") {
		if name == "" {
			continue
		}
		data, err := git(mod.root, "show", ref+":./"+name)
		if err != nil {
			b.cleanup()
			return nil, checkFail(stderr, err)
		}
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.cleanup()
			return nil, checkFail(stderr, err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.cleanup()
			return nil, checkFail(stderr, err)
		}
		if strings.HasPrefix(name, catRel+"/") {
			hasCatalog = true
		}
	}
	if !hasCatalog {
		// The catalog is new since ref: everything in it is an addition.
		b.cat = &catalog.Catalog{Dir: catRel, Schemas: map[string]*catalog.SchemaFile{}}
		b.empty = true
		return b, -1
	}
	catDir := filepath.Join(tmp, filepath.FromSlash(catRel))
	if b.cat, err = catalog.Load(tmp, catDir); err != nil {
		b.cleanup()
		fmt.Fprintf(stderr, "eventgen check: the catalog of %s does not load:\n%v\n", ref, err)
		return nil, exitFindings
	}
	b.allow = baseAllowList(catDir)
	if b.history, _, err = readHistory(filepath.Join(catDir, compat.HistoryFile), ref+":"+path.Join(catRel, compat.HistoryFile)); err != nil {
		b.cleanup()
		fmt.Fprintf(stderr, "eventgen check: the schema history of %s does not load:\n%v\n", ref, err)
		return nil, exitFindings
	}
	return b, -1
}

// gitError is a git command that failed.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := fmt.Sprintf("git %s: %v", strings.Join(e.args, " "), e.err)
	if e.stderr != "" {
		msg += ": " + e.stderr
	}
	return msg
}

func (e *gitError) Unwrap() error { return e.err }

// git runs git in dir and returns its standard output.
func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, fmt.Errorf("running git: %w", err)
		}
		return nil, &gitError{args: args, stderr: strings.TrimSpace(stderr.String()), err: err}
	}
	return stdout.Bytes(), nil
}
