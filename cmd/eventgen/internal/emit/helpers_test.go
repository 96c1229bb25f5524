package emit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dave/jennifer/jen"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

func TestFormatErrorShowsNumberedSource(t *testing.T) {
	_, err := formatSource("broken.go", []byte("package events\n\nfunc {\n"))
	require.Error(t, err)
	assert.Equal(t, "emit: broken.go does not format: 3:6: expected 'IDENT', found '{'\n1\tpackage events\n2\t\n3\tfunc {\n", err.Error())
}

func TestRenderError(t *testing.T) {
	f := jen.NewFile("events")
	f.Func().Id("x").Params().Block(jen.Op("}"))
	_, err := render("x.go", f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "emit: x.go does not format")
	assert.Contains(t, err.Error(), "\n4\tfunc x () {\n")
}

func TestNumberedPadsLineNumbers(t *testing.T) {
	src := strings.Repeat("x\n", 10)
	got := numbered([]byte(src))
	assert.True(t, strings.HasPrefix(got, " 1\tx\n"))
	assert.True(t, strings.HasSuffix(got, "10\tx\n"))
}

func TestGoFileName(t *testing.T) {
	tests := []struct{ prefix, stem, want string }{
		{"service", "execution", "service_execution.go"},
		{"service", "linux", "service_linux_gen.go"},
		{"types", "amd64", "types_amd64_gen.go"},
		{"types", "test", "types_test_gen.go"},
		{"types", "", "types.go"},
		{"service", "ai_hub", "service_ai_hub.go"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, goFileName(tt.prefix, tt.stem))
	}
}

func TestSchemaGroup(t *testing.T) {
	assert.Equal(t, "execution", schemaGroup("schemas/execution/a.json"))
	assert.Equal(t, "", schemaGroup("schemas/a.json"))
	assert.Equal(t, "", schemaGroup("a.json"))
	assert.Equal(t, "ai_hub", schemaGroup("schemas/AI-Hub/a.json"))
}

func TestStringLit(t *testing.T) {
	lit := func(s string) string {
		var b bytes.Buffer
		require.NoError(t, jen.Var().Id("x").Op("=").Add(stringLit([]byte(s))).Render(&b))
		return strings.TrimPrefix(b.String(), "var x = ")
	}
	assert.Equal(t, "`{\n}`", lit("{\n}"))
	assert.Equal(t, "`a` + \"`\" + `b`", lit("a`b"))
	assert.Equal(t, `"{\r\n}"`, lit("{\r\n}"))
	assert.Equal(t, `"\xff"`, lit("\xff"))
}

func TestDuration(t *testing.T) {
	code := func(d time.Duration) string { return jen.Add(duration(d)).GoString() }
	assert.Equal(t, "0", code(0))
	assert.Equal(t, "time.Hour", code(time.Hour))
	assert.Equal(t, "720 * time.Hour", code(720*time.Hour))
	assert.Equal(t, "90 * time.Second", code(90*time.Second))
	assert.Equal(t, "1500 * time.Millisecond", code(1500*time.Millisecond))
	assert.Equal(t, "3 * time.Microsecond", code(3*time.Microsecond))
	assert.Equal(t, "7", code(7))
}

func TestWrapAndComments(t *testing.T) {
	long := "one two three four five six seven eight nine ten eleven twelve"
	assert.Equal(t, []string{"one two three", "four five six", "seven eight", "nine ten", "eleven twelve"}, wrap([]string{long}, 14))
	assert.Equal(t, []string{"  - one two", "  three"}, wrap([]string{"  - one two three"}, 12))
	assert.Equal(t, []string{"", "unbreakable-word-longer-than-width"}, wrap([]string{"", "unbreakable-word-longer-than-width"}, 10))
	var got []string
	for _, c := range comment("// not a raw comment", "/* nor this */") {
		got = append(got, jen.Add(c).GoString())
	}
	assert.Equal(t, []string{"//  // not a raw comment", "//  /* nor this */"}, got)
	assert.Equal(t, "", sentence(" "))
	assert.Equal(t, "Done.", sentence("Done"))
	assert.Equal(t, "Done?", sentence("Done?"))
	assert.Nil(t, lines(" \n "))
	assert.Equal(t, []string{"a", "", "b"}, lines("a \n\nb\t"))
	assert.Equal(t, []string{"a", "", "b"}, paragraphs(nil, []string{"a"}, nil, []string{"b"}))
}

func TestGroupImports(t *testing.T) {
	src := "package x\n\nimport (\n\t\"github.com/a/b\"\n\t\"time\"\n\tu \"github.com/google/uuid\"\n)\n"
	assert.Equal(t, "package x\n\nimport (\n\t\"time\"\n\n\t\"github.com/a/b\"\n\tu \"github.com/google/uuid\"\n)\n", string(groupImports([]byte(src))))
	assert.Equal(t, "package x\n", string(groupImports([]byte("package x\n"))))
	assert.Equal(t, "package x\nimport (\n", string(groupImports([]byte("package x\nimport (\n"))))
}

func TestGoTypes(t *testing.T) {
	e := newEmitter(&model.Model{SDKImport: "example.com/sdk"})
	named := &model.Type{Name: "X"}
	tests := []struct {
		t    *model.GoType
		want string
	}{
		{&model.GoType{Kind: model.Any}, "any"},
		{&model.GoType{Kind: model.Bool}, "bool"},
		{&model.GoType{Kind: model.Map, Elem: &model.GoType{Kind: model.Pointer, Elem: &model.GoType{Kind: model.Named, Named: named}}}, "map[string]*X"},
		{&model.GoType{Kind: model.Slice, Elem: &model.GoType{Kind: model.Date}}, "[]payload.Date"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, e.goType(tt.t).GoString())
	}
}

func TestGenerateEmptyModel(t *testing.T) {
	files, err := Generate(&model.Model{Package: "events", SDKImport: "example.com/sdk"})
	require.NoError(t, err)
	assert.Len(t, files, 4)
	assert.Contains(t, string(files["schemas.go"]), "var schemaFiles = map[string]string{}")
	assert.NotContains(t, string(files["schemas.go"]), "MustCompileSchema")
}
