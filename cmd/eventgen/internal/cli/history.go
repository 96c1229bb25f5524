package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/compat"
)

const historyHelp = `usage: eventgen history [--catalog DIR] [--check]

History brings catalog/` + compat.HistoryFile + ` up to date with the catalog: for
each event and each version it lists (version, and versions:), every schema
the version had whose events may still be in the stream (the payload schema
and each file it reaches through $ref, as they were), when each was
replaced and when the version stopped being the one publishers send, and
the property names removed from a version with the types they had
(reserved: such a name may come back only with its old type). Revisions
whose events the stream cannot hold any more (the stream's max_age after
they stopped being published, plus a week for the deploy) are dropped;
reserved names stay.

"eventgen check" compares the catalog with every revision the history
retains, so that a change cannot break, step by step, readers of events
still in the stream. go generate runs it; commit the file with the catalog.

With --check it writes nothing, names each event the history does not
record as it is, and exits 1 if there is any.

Flags:
`

// clock is the time the history records; tests set it.
var clock = time.Now

// runHistory is "eventgen history".
func runHistory(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	catalogDir := fs.String("catalog", "", "the catalog `DIR` (default: catalog/ at the module root)")
	check := fs.Bool("check", false, "write nothing; report the events the history does not record")
	if code := parseFlags(fs, historyHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "history", "unexpected argument %q", fs.Arg(0))
	}
	wd, err := os.Getwd()
	if err != nil {
		return reportAs(stderr, "history", err)
	}
	mod, err := findModule(wd)
	if err != nil {
		return reportAs(stderr, "history", err)
	}
	catDir := filepath.Join(mod.root, "catalog")
	if *catalogDir != "" {
		catDir = *catalogDir
		if !filepath.IsAbs(catDir) {
			catDir = filepath.Join(wd, catDir)
		}
	}
	cat, err := catalog.Load(mod.root, catDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFindings
	}
	file := filepath.Join(catDir, compat.HistoryFile)
	show := mod.rel(file)
	h, old, err := readHistory(file, show)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFindings
	}
	if h == nil {
		h = &compat.History{}
	}
	if *check {
		stale := h.Stale(cat)
		if old == nil && len(cat.Events) > 0 {
			fmt.Fprintf(stderr, "%s is missing\n", show)
		} else if len(stale) > 0 {
			fmt.Fprintf(stderr, "%s does not record %s as the catalog has it\n", show, strings.Join(stale, ", "))
		}
		if old == nil && len(cat.Events) > 0 || len(stale) > 0 {
			fmt.Fprintln(stderr, "run \"eventgen history\" (or go generate) to update it")
			return exitFindings
		}
		return exitOK
	}
	h.Update(cat, clock())
	data := h.Marshal()
	if bytes.Equal(data, old) {
		return exitOK
	}
	if err := writeFile(file, data); err != nil {
		return reportAs(stderr, "history", err)
	}
	return exitOK
}

// readHistory reads the schema history at file, shown as show: nil, nil
// when there is none, with the file's bytes.
func readHistory(file, show string) (*compat.History, []byte, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: cannot read the schema history: %w", show, err)
	}
	h, err := compat.ParseHistory(show, data)
	if err != nil {
		return nil, nil, err
	}
	return h, data, nil
}
