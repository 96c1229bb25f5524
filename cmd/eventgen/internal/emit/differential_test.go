package emit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/emit"
	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/sdk/payload"
)

// The differential test: jsonschema/v5 is the oracle of the generated
// validators. Every group of the JSON Schema Test Suite (draft 2020-12,
// optional cases included) becomes an event whose payload is {"v": D}, its
// schema {"type": "object", "required": ["v"], "properties": {"v": {"$ref":
// "gNNNN_s.json"}}}, the group's schema S in a file of its own so that its
// "#" references keep their meaning. The groups the generator accepts are
// generated into one package inside the module, whose test runs each case
// through the generated ValidateJSON and, when the payload decodes into the
// generated struct, through Validate; every verdict and every set of JSON
// pointers must be jsonschema/v5's. testdata/differential/extra.json adds
// groups of our own, in the suite's format, for what the suite leaves out.
//
// Validate checks what a value's JSON encoding would be, so its oracle is
// jsonschema/v5 on the decoded value's encoding, not on the payload: the
// two differ where a struct cannot hold the payload as written. Decoding
// drops unknown keys, keeps the last of repeated keys, turns numbers into
// float64 or int64 (1e-400 becomes 0, 1.0 becomes 1), times into
// time.Time (an offset of +00:00 becomes Z) and UUIDs into uuid.UUID (upper
// case becomes lower case); and some payloads do not decode at all (a leap
// second, an integer beyond int64, a string where the struct has a number).
// The test counts the cases whose encoding is the payload's value exactly.
//
// Run it with -v to see how many cases ran and why the generator rejects
// the groups it rejects.

// suiteDir returns the test suite's draft 2020-12 folder, next to the
// module: <module root>/../shared/testdata/json-schema-test-suite.
func suiteDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test")
		dir = parent
	}
	suite := filepath.Join(dir, "..", "shared", "testdata", "json-schema-test-suite", "draft2020-12")
	if _, err := os.Stat(suite); err != nil {
		t.Fatalf("the JSON Schema Test Suite is not at %s (shared/ must sit beside the checkout): %v", suite, err)
	}
	return suite
}

type suiteCase struct {
	Description string          `json:"description"`
	Data        json.RawMessage `json:"data"`
	Valid       bool            `json:"valid"`
}

type suiteGroup struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Tests       []suiteCase     `json:"tests"`

	file string // relative to the suite folder
	id   string // g0001
}

func (g *suiteGroup) subject() string     { return "suite." + g.id + ".checked" }
func (g *suiteGroup) goName() string      { return strings.ToUpper(g.id[:1]) + g.id[1:] }
func (g *suiteGroup) wrapperPath() string { return "schemas/suite/" + g.id + ".json" }
func (g *suiteGroup) schemaPath() string  { return "schemas/suite/" + g.id + "_s.json" }

func (g *suiteGroup) wrapper() string {
	return `{"type": "object", "required": ["v"], "properties": {"v": {"$ref": "` + g.id + `_s.json"}}}`
}

func payloadOf(data []byte) []byte {
	return append(append([]byte(`{"v": `), data...), '}')
}

func loadSuite(t *testing.T, dir string) []*suiteGroup {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.json", "optional/*.json", "optional/format/*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	sort.Strings(files)
	// Cases of our own, in the suite's format, for what the suite leaves
	// out: the typed checks of maps, tuples, unique structs...
	extra, err := filepath.Abs(filepath.Join("testdata", "differential", "extra.json"))
	require.NoError(t, err)
	files = append(files, extra)
	var groups []*suiteGroup
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var gs []*suiteGroup
		require.NoError(t, json.Unmarshal(data, &gs), f)
		rel, err := filepath.Rel(dir, f)
		require.NoError(t, err)
		if f == extra {
			rel = "extra.json"
		}
		for _, g := range gs {
			g.file = filepath.ToSlash(rel)
			g.id = fmt.Sprintf("g%04d", len(groups)+1)
			groups = append(groups, g)
		}
	}
	return groups
}

// suiteCatalog returns a catalog of the groups' events, as catalog.Load
// would return it.
func suiteCatalog(t *testing.T, groups []*suiteGroup) *catalog.Catalog {
	t.Helper()
	cat := &catalog.Catalog{
		Dir:   "catalog",
		Files: []string{"catalog/suite.yaml"},
		Stream: catalog.Stream{
			Name: "SUITE", Subjects: []string{"suite.>"}, Duplicates: 2 * time.Minute, MaxAge: time.Hour,
			Replicas: 1, DeadLetterStream: "SUITE_DEAD_LETTERS", DeadLetterPrefix: "deadletter",
		},
		Services: []catalog.Service{{Name: "suite", Description: "The JSON Schema Test Suite.", Pos: catalog.Pos{File: "catalog/suite.yaml", Line: 1, Col: 1}}},
		Schemas:  map[string]*catalog.SchemaFile{},
	}
	for _, g := range groups {
		for path, text := range map[string]string{g.wrapperPath(): g.wrapper(), g.schemaPath(): string(g.Schema)} {
			var n yaml.Node
			require.NoError(t, yaml.Unmarshal(yamlSafeJSON(t, text), &n), "%s: %s", g.file, text)
			cat.Schemas[path] = &catalog.SchemaFile{Path: path, Raw: []byte(text), Node: &n}
		}
		line, _ := strconv.Atoi(g.id[1:])
		cat.Events = append(cat.Events, catalog.Event{
			Subject: g.subject(), Version: 1, Publisher: "suite", GoName: g.goName(),
			Description: g.Description, Schema: g.wrapperPath(), SchemaURL: "../" + g.wrapperPath(),
			Pos:       catalog.Pos{File: "catalog/suite.yaml", Line: line, Col: 5},
			SchemaPos: catalog.Pos{File: "catalog/suite.yaml", Line: line, Col: 13},
		})
	}
	return cat
}

// yamlSafeJSON rewrites a JSON document, numbers kept as written, in the
// subset of JSON that yaml.v3 reads as JSON (no "\/" escapes, no tabs).
func yamlSafeJSON(t *testing.T, text string) []byte {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return b.Bytes()
}

// oracle compiles a group's wrapper schema with jsonschema/v5.
func oracle(g *suiteGroup) (s *payload.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jsonschema/v5 panics: %v", r)
		}
	}()
	return payload.CompileSchema(g.wrapperPath(), map[string]string{g.wrapperPath(): g.wrapper(), g.schemaPath(): string(g.Schema)})
}

// verdict is a validator's answer: valid, or the JSON pointers that fail.
type verdict struct {
	Valid    bool     `json:"valid"`
	Pointers []string `json:"pointers,omitempty"`
	Panic    string   `json:"panic,omitempty"`
}

func verdictOf(err error) verdict {
	if err == nil {
		return verdict{Valid: true}
	}
	var ve *payload.ValidationError
	if !errors.As(err, &ve) {
		return verdict{Pointers: []string{"error: " + err.Error()}}
	}
	var ps []string
	for _, v := range ve.Violations {
		ps = append(ps, v.Pointer)
	}
	slices.Sort(ps)
	return verdict{Pointers: slices.Compact(ps)}
}

// ask runs the oracle on data; ok is false when jsonschema/v5 panics (on
// numbers big.Rat cannot hold).
func ask(s *payload.Schema, data []byte) (v verdict, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	return verdictOf(s.ValidateJSON(data)), true
}

// rejection summarises why the generator rejected a group: the keyword or
// rule at fault.
var rejectionPatterns = []struct {
	re     *regexp.Regexp
	reason string // with $1 for the first group
}{
	{regexp.MustCompile(`keyword "([^"]+)" is not supported`), "keyword $1"},
	{regexp.MustCompile(`format "([^"]+)" is not supported`), "format $1"},
	{regexp.MustCompile(`type \[.*\] is not supported`), "type: a union other than [T, \"null\"]"},
	{regexp.MustCompile(`type "null" is not supported`), "type: \"null\" alone"},
	{regexp.MustCompile(`enum value .* is not a string`), "enum: values that are not strings"},
	{regexp.MustCompile(`enum must be a non-empty array`), "enum: empty"},
	{regexp.MustCompile(`the schema false accepts no value`), "false schema where a Go type is needed"},
	{regexp.MustCompile(`keyword "([^"]+)" next to "\$ref"`), "$1 next to $ref"},
	{regexp.MustCompile(`cannot resolve \$ref`), "$ref to a remote or unknown document or anchor"},
	{regexp.MustCompile(`additionalProperties as a schema next to properties`), "additionalProperties schema next to properties"},
	{regexp.MustCompile(`required property .* is not among the properties`), "required: a property not in properties"},
	{regexp.MustCompile(`\$ref cycle`), "$ref cycle without an object in between"},
	{regexp.MustCompile(`cannot make a Go (field|type|constant) name`), "a name with no Go identifier"},
	{regexp.MustCompile(`is already used by`), "a Go name clash"},
	{regexp.MustCompile(`must not be nullable or untyped`), "payload untyped"},
	{regexp.MustCompile(`"\$id" is only supported at the root`), "$id below the root"},
	{regexp.MustCompile(`would be the Go field Validate`), "a property named validate"},
	{regexp.MustCompile(`is not a Go regular expression`), "pattern: not a Go regular expression"},
}

func rejectionReasons(err error) []string {
	var errs model.Errors
	lines := []string{err.Error()}
	if errors.As(err, &errs) {
		lines = lines[:0]
		for _, e := range errs {
			lines = append(lines, e.Message)
		}
	}
	var reasons []string
	for _, line := range lines {
		reason := "other: " + line
		for _, p := range rejectionPatterns {
			if m := p.re.FindStringSubmatch(line); m != nil {
				reason = strings.ReplaceAll(p.reason, "$1", append(m, "")[1])
				break
			}
		}
		if !slices.Contains(reasons, reason) {
			reasons = append(reasons, reason)
		}
	}
	return reasons
}

var groupRE = regexp.MustCompile(`^schemas/suite/(g\d{4})`)

// implicated returns the groups at whose schemas or events a model error
// points: for a clash of Go names, the second declaration.
func implicated(err error) []string {
	var errs model.Errors
	if !errors.As(err, &errs) {
		return nil
	}
	var ids []string
	for _, e := range errs {
		id := ""
		if m := groupRE.FindStringSubmatch(e.Pos.File); m != nil {
			id = m[1]
		} else if e.Pos.File == "catalog/suite.yaml" {
			id = fmt.Sprintf("g%04d", e.Pos.Line)
		}
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

const suiteSDKImport = "github.com/giia/events/sdk"

func buildModel(cat *catalog.Catalog) (*model.Model, error) {
	return model.Build(cat, model.Options{Package: "suite", SDKImport: suiteSDKImport})
}

// result is what the generated package's test reports for a case.
type result struct {
	ID      string  `json:"id"`
	Raw     verdict `json:"raw"`
	Decoded bool    `json:"decoded"`
	Encoded string  `json:"encoded,omitempty"`
	Typed   verdict `json:"typed"`

	ParseOK  bool   `json:"parse_ok"`            // ParseX decoded it
	ParseErr string `json:"parse_err,omitempty"` // ParseX's error, but for a refusal by the schema
	Parsed   string `json:"parsed,omitempty"`    // the decoded value's AppendJSON
}

type runCase struct {
	ID      string          `json:"id"`
	Subject string          `json:"subject"`
	Payload json.RawMessage `json:"payload"`
}

func TestDifferentialJSONSchemaTestSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs a package of the whole test suite")
	}
	groups := loadSuite(t, suiteDir(t))
	require.NotEmpty(t, groups)

	// Which groups the generator accepts, one by one.
	schemas := map[string]*payload.Schema{}
	reasons := map[string][]string{} // reason -> groups
	var accepted []*suiteGroup
	oracleRejects := 0
	casesIn := func(gs []string) int {
		n := 0
		for _, g := range groups {
			if slices.Contains(gs, g.id) {
				n += len(g.Tests)
			}
		}
		return n
	}
	for _, g := range groups {
		s, err := oracle(g)
		if err != nil {
			oracleRejects++
			reasons["jsonschema/v5 cannot compile it"] = append(reasons["jsonschema/v5 cannot compile it"], g.id)
			continue
		}
		schemas[g.id] = s
		m, err := buildModel(suiteCatalog(t, []*suiteGroup{g}))
		if err == nil {
			_, err = emit.Generate(m)
		}
		if err != nil {
			require.NotContains(t, err.Error(), "emit:", "%s (%s): the model accepts what the emitter cannot print", g.id, g.file)
			for _, r := range rejectionReasons(err) {
				reasons[r] = append(reasons[r], g.id)
			}
			continue
		}
		accepted = append(accepted, g)
	}

	// One package of every accepted group, but for groups whose Go names
	// clash with another's: those go to a second package, and so on.
	var batches [][]*suiteGroup
	pending := accepted
	for len(pending) > 0 {
		batch := pending
		var moved []*suiteGroup
		for {
			m, err := buildModel(suiteCatalog(t, batch))
			if err == nil {
				_, err = emit.Generate(m)
				require.NoError(t, err)
				break
			}
			ids := implicated(err)
			require.NotEmpty(t, ids, "a combined build fails without naming a group: %v", err)
			var keep []*suiteGroup
			for _, g := range batch {
				if slices.Contains(ids, g.id) {
					moved = append(moved, g)
				} else {
					keep = append(keep, g)
				}
			}
			require.Less(t, len(keep), len(batch), "no progress separating clashing groups: %v", err)
			batch = keep
		}
		batches = append(batches, batch)
		pending = moved
	}

	// Generate each batch into testdata/suite-*/bN with its runner test.
	root, err := os.MkdirTemp("testdata", "suite-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	var pkgs []string
	for i, batch := range batches {
		dir := filepath.Join(root, fmt.Sprintf("b%d", i))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		m, err := buildModel(suiteCatalog(t, batch))
		require.NoError(t, err)
		files, err := emit.Generate(m)
		require.NoError(t, err)
		for name, data := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "runner_test.go"), runnerSource(batch), 0o644))
		var cases []runCase
		for _, g := range batch {
			for j, c := range g.Tests {
				cases = append(cases, runCase{ID: fmt.Sprintf("%s/%d", g.id, j), Subject: g.subject(), Payload: payloadOf(c.Data)})
			}
		}
		data, err := json.Marshal(cases)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cases.json"), data, 0o644))
		pkgs = append(pkgs, "./"+filepath.ToSlash(dir))
	}
	goCmd(t, ".", append([]string{"test", "-count=1", "-run", "TestRunSuite"}, pkgs...)...)

	// Compare with the oracle.
	results := map[string]result{}
	for _, p := range pkgs {
		data, err := os.ReadFile(filepath.Join(p, "results.json"))
		require.NoError(t, err)
		var rs []result
		require.NoError(t, json.Unmarshal(data, &rs))
		for _, r := range rs {
			results[r.ID] = r
		}
	}
	var ran, typedRan, typedExact, notDecoded, oraclePanics, suiteDisagrees int
	var rawDiffs, typedDiffs, parseDiffs []string
	var parseAccepted, parseRefused, parseUnrepresentable, reencodedValid int
	for _, batch := range batches {
		for _, g := range batch {
			s := schemas[g.id]
			for j, c := range g.Tests {
				id := fmt.Sprintf("%s/%d", g.id, j)
				r, ok := results[id]
				require.True(t, ok, "no result for %s", id)
				label := fmt.Sprintf("%s %s (%s: %q / %q)", id, c.Data, g.file, g.Description, c.Description)
				want, ok := ask(s, payloadOf(c.Data))
				if !ok {
					oraclePanics++
					continue
				}
				ran++
				if want.Valid != c.Valid && g.file != "extra.json" {
					suiteDisagrees++
				}
				if r.Raw.Panic != "" || !equalVerdicts(want, r.Raw) {
					rawDiffs = append(rawDiffs, fmt.Sprintf("%s: jsonschema/v5 %v, generated %v", label, want, r.Raw))
				}
				// ParseX, with the generated decoder: every case the oracle
				// accepts decodes (but for values the Go type cannot hold,
				// counted), every case it refuses is refused, and the value
				// encodes back to JSON the oracle accepts.
				switch {
				case !want.Valid && (r.ParseOK || r.ParseErr != ""):
					parseDiffs = append(parseDiffs, fmt.Sprintf("%s: jsonschema/v5 refuses it, ParseX gives %q, error %q", label, r.Parsed, r.ParseErr))
				case !want.Valid:
					parseRefused++
				case r.ParseOK && r.ParseErr == "":
					parseAccepted++
					if back, ok := ask(s, []byte(r.Parsed)); ok && !back.Valid {
						parseDiffs = append(parseDiffs, fmt.Sprintf("%s: decoded and encoded back as %s, which jsonschema/v5 refuses: %v", label, r.Parsed, back))
					} else if ok {
						reencodedValid++
					}
				case strings.Contains(r.ParseErr, payload.ErrUnrepresentable.Error()):
					parseUnrepresentable++
				default:
					parseDiffs = append(parseDiffs, fmt.Sprintf("%s: jsonschema/v5 accepts it, ParseX fails: %s", label, r.ParseErr))
				}
				if !r.Decoded {
					notDecoded++
					continue
				}
				typedRan++
				if exact(payloadOf(c.Data), []byte(r.Encoded)) {
					typedExact++
				}
				want, ok = ask(s, []byte(r.Encoded))
				if !ok {
					continue
				}
				if r.Typed.Panic != "" || !equalVerdicts(want, r.Typed) {
					typedDiffs = append(typedDiffs, fmt.Sprintf("%s encoded as %s: jsonschema/v5 %v, Validate %v", label, r.Encoded, want, r.Typed))
				}
			}
		}
	}

	var rejected []string
	for r := range reasons {
		rejected = append(rejected, r)
	}
	sort.Slice(rejected, func(i, j int) bool {
		if a, b := len(reasons[rejected[i]]), len(reasons[rejected[j]]); a != b {
			return a > b
		}
		return rejected[i] < rejected[j]
	})
	total := 0
	for _, g := range groups {
		total += len(g.Tests)
	}
	var rejectedGroups []string
	for _, ids := range reasons {
		for _, id := range ids {
			if !slices.Contains(rejectedGroups, id) {
				rejectedGroups = append(rejectedGroups, id)
			}
		}
	}
	t.Logf("JSON Schema Test Suite (draft 2020-12, optional included): %d groups, %d cases", len(groups), total)
	t.Logf("generated: %d groups in %d package(s); ran %d cases through the generated ValidateJSON (%d skipped: jsonschema/v5 panics on them)",
		len(accepted), len(batches), ran, oraclePanics)
	t.Logf("typed: %d cases decoded into the generated struct and ran through Validate (%d of them encode back to the same JSON value); %d do not decode (%s)",
		typedRan, typedExact, notDecoded, "a number where the struct has a string, a leap second, an int64 overflow...")
	t.Logf("the oracle itself disagrees with the suite's expected verdict on %d cases (jsonschema/v5's own deviations; the generated code follows jsonschema/v5)", suiteDisagrees)
	t.Logf("rejected: %d groups (%d cases), of which %d jsonschema/v5 cannot compile; by reason (a group may have several):",
		len(rejectedGroups), casesIn(rejectedGroups), oracleRejects)
	for _, r := range rejected {
		t.Logf("  %4d groups, %4d cases: %s", len(reasons[r]), casesIn(reasons[r]), r)
	}
	t.Logf("parse_accepted: %d (decoded by ParseX's generated decoder; %d encode back to JSON jsonschema/v5 accepts)", parseAccepted, reencodedValid)
	t.Logf("parse_refused: %d (refused by jsonschema/v5 and by ParseX)", parseRefused)
	t.Logf("parse_unrepresentable: %d (accepted by jsonschema/v5, but the Go type cannot hold the value: payload.ErrUnrepresentable)", parseUnrepresentable)
	t.Logf("parse_disagreements: %d", len(parseDiffs))
	assert.Empty(t, parseDiffs, "ParseX disagrees with jsonschema/v5")
	assert.Empty(t, rawDiffs, "ValidateJSON disagrees with jsonschema/v5")
	assert.Empty(t, typedDiffs, "Validate disagrees with jsonschema/v5")
	assert.GreaterOrEqual(t, ran, 500, "the differential test should run several hundred cases")
}

func equalVerdicts(a, b verdict) bool {
	return a.Valid == b.Valid && slices.Equal(a.Pointers, b.Pointers)
}

func (v verdict) String() string {
	if v.Panic != "" {
		return "panic: " + v.Panic
	}
	if v.Valid {
		return "valid"
	}
	return "invalid at " + strings.Join(quoteAll(v.Pointers), ", ")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// exact reports whether two documents are the same JSON value.
func exact(a, b []byte) bool {
	ca, err1 := payload.CanonicalJSON(a)
	cb, err2 := payload.CanonicalJSON(b)
	return err1 == nil && err2 == nil && ca == cb
}

// runnerSource returns the test that runs inside a generated package: it
// reads cases.json and writes results.json.
func runnerSource(batch []*suiteGroup) []byte {
	var table strings.Builder
	for _, g := range batch {
		fmt.Fprintf(&table, "\t%q: {decode[%s], parse(Parse%s)},\n", g.subject(), g.goName(), g.goName())
	}
	return []byte(strings.ReplaceAll(runnerTemplate, "TABLE\n", table.String()))
}

const runnerTemplate = `package suite

// Written by TestDifferentialJSONSchemaTestSuite: runs each case of
// cases.json through the generated validators and writes results.json.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/giia/events/sdk/payload"
)

type verdict struct {
	Valid    bool     ` + "`json:\"valid\"`" + `
	Pointers []string ` + "`json:\"pointers,omitempty\"`" + `
	Panic    string   ` + "`json:\"panic,omitempty\"`" + `
}

type result struct {
	ID      string  ` + "`json:\"id\"`" + `
	Raw     verdict ` + "`json:\"raw\"`" + `
	Decoded bool    ` + "`json:\"decoded\"`" + `
	Encoded string  ` + "`json:\"encoded,omitempty\"`" + `
	Typed   verdict ` + "`json:\"typed\"`" + `

	ParseOK  bool   ` + "`json:\"parse_ok\"`" + `
	ParseErr string ` + "`json:\"parse_err,omitempty\"`" + `
	Parsed   string ` + "`json:\"parsed,omitempty\"`" + `
}

func verdictOf(err error) verdict {
	if err == nil {
		return verdict{Valid: true}
	}
	var ve *payload.ValidationError
	if !errors.As(err, &ve) {
		return verdict{Pointers: []string{"error: " + err.Error()}}
	}
	var ps []string
	for _, v := range ve.Violations {
		ps = append(ps, v.Pointer)
	}
	slices.Sort(ps)
	return verdict{Pointers: slices.Compact(ps)}
}

// decode decodes a payload into T and returns Validate's verdict on it
// and its JSON encoding.
func decode[T any, P interface {
	*T
	Validate() error
}](data []byte) (verdict, []byte, bool) {
	var p T
	if json.Unmarshal(data, &p) != nil {
		return verdict{}, nil, false
	}
	enc, err := json.Marshal(&p)
	if err != nil {
		return verdict{Panic: "encode: " + err.Error()}, nil, true
	}
	return verdictOf(P(&p).Validate()), enc, true
}

// parse runs the generated ParseX, whose decoder reads the payload without
// encoding/json, and returns its error and the value's AppendJSON.
func parse[T interface{ AppendJSON([]byte) ([]byte, error) }](f func([]byte) (T, error)) func([]byte) (string, string, bool) {
	return func(data []byte) (string, string, bool) {
		v, err := f(data)
		if err != nil {
			var ve *payload.ValidationError
			if errors.As(err, &ve) && !errors.Is(err, payload.ErrUnrepresentable) {
				return "", "", false // refused: invalid
			}
			return err.Error(), "", false
		}
		enc, err := v.AppendJSON(nil)
		if err != nil {
			return "encode: " + err.Error(), "", true
		}
		return "", string(enc), true
	}
}

var decoders = map[string]struct {
	typed  func([]byte) (verdict, []byte, bool)
	parsed func([]byte) (string, string, bool)
}{
TABLE
}

func guard(v *verdict, f func()) {
	defer func() {
		if r := recover(); r != nil {
			v.Panic = fmt.Sprint(r)
		}
	}()
	f()
}

func TestRunSuite(t *testing.T) {
	data, err := os.ReadFile("cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		ID      string          ` + "`json:\"id\"`" + `
		Subject string          ` + "`json:\"subject\"`" + `
		Payload json.RawMessage ` + "`json:\"payload\"`" + `
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	var results []result
	for _, c := range cases {
		r := result{ID: c.ID}
		guard(&r.Raw, func() { r.Raw = verdictOf(ValidateJSON(c.Subject, c.Payload)) })
		guard(&r.Typed, func() {
			var enc []byte
			r.Typed, enc, r.Decoded = decoders[c.Subject].typed(c.Payload)
			r.Encoded = string(enc)
		})
		guard(&r.Raw, func() {
			r.ParseErr, r.Parsed, r.ParseOK = decoders[c.Subject].parsed(c.Payload)
		})
		results = append(results, r)
	}
	out, err := json.Marshal(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("results.json", out, 0o644); err != nil {
		t.Fatal(err)
	}
}
`
