package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Diagnostic is one problem of a catalog, at the place it was found.
type Diagnostic struct {
	Pos     Pos
	Message string
}

// String formats the diagnostic as "path:line:col: message", leaving out
// the column when it is unknown and the line and column when the line is.
func (d Diagnostic) String() string {
	return d.Pos.String() + ": " + d.Message
}

// String formats the position as "path:line:col", "path:line" or "path".
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Diagnostics is every problem Load found. As an error it reads as one
// diagnostic per line, sorted by file, line, column and message.
type Diagnostics []Diagnostic

// Error joins the sorted diagnostics with newlines.
func (ds Diagnostics) Error() string {
	sorted := slices.Clone(ds)
	sorted.Sort()
	lines := make([]string, len(sorted))
	for i, d := range sorted {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the diagnostics by file, line, column and message.
func (ds Diagnostics) Sort() {
	slices.SortStableFunc(ds, compareDiagnostics)
}

func compareDiagnostics(a, b Diagnostic) int {
	return cmp.Or(
		cmp.Compare(a.Pos.File, b.Pos.File),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Col, b.Pos.Col),
		cmp.Compare(a.Message, b.Message),
	)
}
