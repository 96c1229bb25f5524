package emit_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/emit"
)

// TestNoDuplicateFunctionBodies fails when two generated functions or
// methods of sdk/events, or of a golden case, have the same body and
// parameters once their own name and their receiver are set aside: the
// generator writes one function per distinct piece of code. (The typed
// facades, one line each, differ by the type of their payload.)
//
// Methods are one piece of code when their receivers convert to each other
// too, the one calling the other's method: their types have the same
// underlying type, as written. Two versions of a payload whose fields
// differ in type (CurrencyV2 and Currency) hold methods of the same text
// that call different code.
//
// Two kinds of bodies are not code to share. One that only returns a
// constant states a value (EventSubject of each version of an event,
// EventVersion of events of one version). And a method that calls a method
// of its receiver is told apart by the receiver's type, which the call
// dispatches on (Validate of each version of an event calls that version's
// validateAt).
func TestNoDuplicateFunctionBodies(t *testing.T) {
	dirs := []string{filepath.Join("..", "..", "..", "..", "sdk", "events")}
	for _, dir := range cases(t) {
		dirs = append(dirs, filepath.Join(dir, "want"))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(dir, "*.go"))
			require.NoError(t, err)
			if len(files) == 0 {
				return // an error case: nothing was generated
			}
			first := map[string]string{} // body -> the function that has it
			underlying := underlyingTypes(t, files)
			for _, name := range files {
				src, err := os.ReadFile(name)
				require.NoError(t, err)
				if strings.HasSuffix(name, "_test.go") || !bytes.HasPrefix(src, []byte(emit.Header+"\n")) {
					continue
				}
				fset := token.NewFileSet()
				f, err := parser.ParseFile(fset, name, src, 0)
				require.NoError(t, err)
				for _, d := range f.Decls {
					fd, ok := d.(*ast.FuncDecl)
					if !ok || fd.Body == nil {
						continue
					}
					if returnsConstant(fd) {
						continue
					}
					id := filepath.Base(name) + ": " + funcName(fd)
					body := normalizedBody(t, fset, fd)
					if r := receiverType(fd); r != "" {
						body = underlying[r] + " " + body
						if callsReceiver(fd) {
							body = r + " " + body
						}
					}
					if other, ok := first[body]; ok {
						assert.Failf(t, "two generated functions have the same body", "%s and %s:\n%s", other, id, body)
						continue
					}
					first[body] = id
				}
			}
			assert.NotEmpty(t, first)
		})
	}
}

// underlyingTypes returns the type expression of each type declared by
// the generated files among files, by name.
func underlyingTypes(t *testing.T, files []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range files {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		if strings.HasSuffix(name, "_test.go") || !bytes.HasPrefix(src, []byte(emit.Header+"\n")) {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					var b bytes.Buffer
					require.NoError(t, printer.Fprint(&b, token.NewFileSet(), ts.Type))
					out[ts.Name.Name] = b.String()
				}
			}
		}
	}
	return out
}

// receiverType returns the name of the type of fd's receiver, "" for a
// function.
func receiverType(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return ""
	}
	e := fd.Recv.List[0].Type
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// returnsConstant reports whether fd's body is one return of an identifier
// or a literal.
func returnsConstant(fd *ast.FuncDecl) bool {
	if len(fd.Body.List) != 1 {
		return false
	}
	r, ok := fd.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(r.Results) != 1 {
		return false
	}
	switch r.Results[0].(type) {
	case *ast.Ident, *ast.BasicLit:
		return true
	}
	return false
}

// callsReceiver reports whether fd is a method that calls a method of its
// receiver: recv.m(...).
func callsReceiver(fd *ast.FuncDecl) bool {
	if fd.Recv == nil || len(fd.Recv.List) == 0 || len(fd.Recv.List[0].Names) == 0 {
		return false
	}
	recv := fd.Recv.List[0].Names[0].Name
	found := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == recv {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	var b bytes.Buffer
	printer.Fprint(&b, token.NewFileSet(), fd.Recv.List[0].Type)
	return "(" + b.String() + ")." + fd.Name.Name
}

// normalizedBody prints fd's body with its own name and its receiver's
// name replaced by placeholders.
func normalizedBody(t *testing.T, fset *token.FileSet, fd *ast.FuncDecl) string {
	t.Helper()
	rename := map[string]string{fd.Name.Name: "_func"}
	if fd.Recv != nil {
		for _, f := range fd.Recv.List {
			for _, n := range f.Names {
				rename[n.Name] = "_recv"
			}
		}
	}
	body := cloneBlock(fd.Body)
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if to, ok := rename[id.Name]; ok {
				id.Name = to
			}
		}
		return true
	})
	var b bytes.Buffer
	require.NoError(t, printer.Fprint(&b, fset, fd.Type))
	b.WriteString(" ")
	require.NoError(t, printer.Fprint(&b, fset, body))
	return b.String()
}

// cloneBlock copies the identifiers of a body, so that renaming them
// leaves the parsed file as it was; the rest is shared, and not changed.
func cloneBlock(b *ast.BlockStmt) ast.Node {
	// Re-parsing is the simplest deep copy of a function body.
	var buf bytes.Buffer
	if err := printer.Fprint(&buf, token.NewFileSet(), b); err != nil {
		panic(err)
	}
	e, err := parser.ParseExpr("func() " + buf.String())
	if err != nil {
		panic(err)
	}
	return e.(*ast.FuncLit).Body
}
