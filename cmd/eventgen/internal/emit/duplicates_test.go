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
				t.Skip("an error case")
			}
			first := map[string]string{} // body -> the function that has it
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
					id := filepath.Base(name) + ": " + funcName(fd)
					body := normalizedBody(t, fset, fd)
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
