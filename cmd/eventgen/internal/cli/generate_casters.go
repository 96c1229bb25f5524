package cli

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

// The casters that the owners of events write by hand (model.Caster): the
// generated code calls them, so a missing or mistyped one is a compile
// error; generate also says, before the compiler does, which function to
// write, with its signature, in which file.

// declaredFunc is a package-level function of a hand-written file.
type declaredFunc struct {
	pos       token.Position
	signature string // func name(v T) (U, error), as written but for the parameter names
}

// casterFindings returns a message for each hand-written caster of m that
// the hand-written .go files of dir (not generated, not tests) do not
// declare with its signature; rel shows a path to the user.
func casterFindings(m *model.Model, dir string, rel func(string) string) ([]string, error) {
	wanted := m.HandWritten()
	if len(wanted) == 0 {
		return nil, nil
	}
	funcs, err := handWrittenFuncs(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range wanted {
		want := c.Signature()
		got, ok := funcs[c.Name]
		switch {
		case !ok:
			out = append(out, missingCaster(c, rel(filepath.Join(dir, c.File))))
		case got.signature != want:
			out = append(out, fmt.Sprintf("%s:%d:%d: %s is declared as %s; want %s",
				rel(got.pos.Filename), got.pos.Line, got.pos.Column, c.Name, got.signature, want))
		}
	}
	return out, nil
}

// missingCaster says which caster to write, where, and why the generator
// cannot: the breaking changes between the two versions.
func missingCaster(c *model.Caster, file string) string {
	ev := c.From.Event
	var b strings.Builder
	if c.Pos.File != "" {
		b.WriteString(c.Pos.String() + ": ")
	}
	if c.From.Current() {
		fmt.Fprintf(&b, "%q pins publish_version %d: write its downcaster from version %d, which its publisher facades call, in %s:\n",
			ev.Subject, c.To.Number, c.From.Number, file)
	} else {
		fmt.Fprintf(&b, "version %d of %q needs an upcaster to version %d, which its consumers' decoder calls: write it in %s:\n",
			c.From.Number, ev.Subject, c.To.Number, file)
	}
	fmt.Fprintf(&b, "\t%s\n", c.Signature())
	fmt.Fprintf(&b, "  eventgen check finds breaking changes from version %d to %d, so the generator cannot write it:", c.From.Number, c.To.Number)
	for _, why := range c.Why {
		b.WriteString("\n\t" + why)
	}
	return b.String()
}

// handWrittenFuncs returns the package-level functions of the hand-written
// .go files of dir, by name. A file that does not parse is left to the
// compiler.
func handWrittenFuncs(dir string) (map[string]declaredFunc, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	funcs := map[string]declaredFunc{}
	fset := token.NewFileSet()
	for _, n := range names {
		path := filepath.Join(dir, n)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if isGenerated(src) {
			continue
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil {
				continue
			}
			if _, dup := funcs[fd.Name.Name]; !dup {
				funcs[fd.Name.Name] = declaredFunc{pos: fset.Position(fd.Pos()), signature: signature(fd)}
			}
		}
	}
	return funcs, nil
}

// signature prints fd's declaration without its body, with its parameter
// named v and its results unnamed, as model.Caster.Signature spells one.
func signature(fd *ast.FuncDecl) string {
	var b bytes.Buffer
	b.WriteString("func " + fd.Name.Name + "(")
	var params []string
	for _, p := range fd.Type.Params.List {
		n := max(1, len(p.Names))
		for range n {
			params = append(params, "v "+expr(p.Type))
		}
	}
	b.WriteString(strings.Join(params, ", ") + ")")
	var results []string
	if fd.Type.Results != nil {
		for _, r := range fd.Type.Results.List {
			for range max(1, len(r.Names)) {
				results = append(results, expr(r.Type))
			}
		}
	}
	switch len(results) {
	case 0:
	case 1:
		b.WriteString(" " + results[0])
	default:
		b.WriteString(" (" + strings.Join(results, ", ") + ")")
	}
	return b.String()
}

func expr(e ast.Expr) string {
	var b bytes.Buffer
	_ = printer.Fprint(&b, token.NewFileSet(), e) // an expression of a parsed file prints
	return b.String()
}
