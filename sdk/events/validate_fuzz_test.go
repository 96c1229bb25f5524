package events

// The generated validators against their oracle, jsonschema/v5 (the
// compiled schemas the package keeps), on the catalog's own schemas: the
// examples, mutations of them, and whatever the fuzzer makes of those.
//
//	go test ./sdk/events -run '^$' -fuzz FuzzValidate -fuzztime 60s
//
// testdata/fuzz/FuzzValidate holds the seed corpus; go test -run
// TestWriteFuzzSeeds -write-fuzz-seeds rewrites it from the catalog.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/sdk/payload"
)

// validatable is a payload type of the catalog.
type validatable interface{ Validate() error }

// eventUnderTest is an event with its oracle and its payload type.
type eventUnderTest struct {
	subject    string
	oracle     *payload.Schema
	newPayload func() validatable
}

func newOf[T any, P interface {
	*T
	validatable
}]() validatable {
	return P(new(T))
}

// underTest lists every event of the catalog, in the order of
// Catalog.Events; TestUnderTestCoversTheCatalog keeps it complete.
var underTest = []eventUnderTest{
	{SubjectCatalogProductCreated, schemaProductCreated, newOf[ProductCreated]},
	{SubjectCatalogProductDiscontinued, schemaProductDiscontinued, newOf[ProductDiscontinued]},
	{SubjectCatalogProductUpdated, schemaProductUpdated, newOf[ProductUpdated]},
	{SubjectDDMRPBufferAlertTriggered, schemaBufferAlertTriggered, newOf[BufferAlertTriggered]},
	{SubjectDDMRPBufferCalculated, schemaBufferCalculated, newOf[BufferCalculated]},
	{SubjectDDMRPBufferStatusChanged, schemaBufferStatusChanged, newOf[BufferStatusChanged]},
	{SubjectExecutionInventoryUpdated, schemaInventoryUpdated, newOf[InventoryUpdated]},
	{SubjectExecutionPurchaseOrderCreated, schemaPurchaseOrderCreated, newOf[PurchaseOrderCreated]},
	{SubjectExecutionPurchaseOrderReceived, schemaPurchaseOrderReceived, newOf[PurchaseOrderReceived]},
	{SubjectExecutionSalesOrderCreated, schemaSalesOrderCreated, newOf[SalesOrderCreated]},
	{SubjectExecutionSalesOrderShipped, schemaSalesOrderShipped, newOf[SalesOrderShipped]},
}

func TestUnderTestCoversTheCatalog(t *testing.T) {
	var subjects []string
	for _, e := range underTest {
		subjects = append(subjects, e.subject)
	}
	assert.Equal(t, Subjects, subjects)
}

// TestPayloadsSayTheirVersion: every payload type is a payload.Payload of
// its event's current version, which is the version its publishers send.
func TestPayloadsSayTheirVersion(t *testing.T) {
	for _, e := range underTest {
		ev, ok := Catalog.Event(e.subject)
		require.True(t, ok, e.subject)
		p, ok := e.newPayload().(payload.Payload)
		require.True(t, ok, "%s: a payload.Payload", e.subject)
		assert.Equal(t, e.subject, p.EventSubject())
		assert.Equal(t, ev.Version, p.EventVersion(), e.subject)
		assert.Equal(t, ev.Sends(), p.EventVersion(), "%s: no version is pinned", e.subject)
	}
}

// catalogExamples returns every example of the catalog as JSON, with its
// event's index in underTest, in catalog order.
func catalogExamples(t testing.TB) (idx []int, docs [][]byte) {
	t.Helper()
	files, err := filepath.Glob("../../catalog/*.yaml")
	require.NoError(t, err)
	sort.Strings(files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct {
			Events []struct {
				Subject  string `yaml:"subject"`
				Examples []any  `yaml:"examples"`
			} `yaml:"events"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &doc), f)
		for _, e := range doc.Events {
			i := slices.IndexFunc(underTest, func(u eventUnderTest) bool { return u.subject == e.Subject })
			require.GreaterOrEqual(t, i, 0, "%s: unknown subject %s", f, e.Subject)
			for _, ex := range e.Examples {
				data, err := json.Marshal(ex)
				require.NoError(t, err)
				idx = append(idx, i)
				docs = append(docs, data)
			}
		}
	}
	require.NotEmpty(t, docs)
	return idx, docs
}

// mutations returns variations of a valid object payload that break it in
// the ways the generated code must see as jsonschema/v5 does.
func mutations(data []byte) [][]byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	enc := func(m map[string]json.RawMessage) []byte {
		b, _ := json.Marshal(m)
		return b
	}
	with := func(k string, v json.RawMessage) []byte {
		c := map[string]json.RawMessage{}
		for kk, vv := range m {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return enc(c)
	}
	var out [][]byte
	out = append(out, with("unknown_key", json.RawMessage(`1`)))
	for i, k := range keys {
		if i%3 == 0 {
			out = append(out, with(k, nil)) // missing
		}
		switch i % 4 {
		case 0:
			out = append(out, with(k, json.RawMessage(`null`)))
		case 1:
			out = append(out, with(k, json.RawMessage(`-1.5e400`)))
		case 2:
			out = append(out, with(k, json.RawMessage(`"\u00e9\ud800 "`)))
		case 3:
			out = append(out, with(k, json.RawMessage(`[{"a":1},{"a":1.0}]`)))
		}
	}
	if len(keys) > 0 {
		// A repeated key, first invalid then valid: the last one counts.
		k := keys[0]
		out = append(out, append([]byte(`{"`+k+`": {}, `), data[1:]...))
	}
	out = append(out, data[:len(data)/2], append(slices.Clone(data), ' ', '1'), bytes.ToUpper(data))
	return out
}

// check compares the generated validators with the oracle on data for the
// event underTest[i]. It returns an error describing a disagreement.
func check(i int, data []byte) error {
	e := underTest[i]
	spec, ok := Catalog.Event(e.subject)
	if !ok {
		return fmt.Errorf("no event %s", e.subject)
	}
	want, ok := ask(e.oracle, data)
	if ok {
		if got := pointersOf(spec.ValidateJSON(data)); !slices.Equal(want, got) {
			return fmt.Errorf("%s %s: ValidateJSON gives %q, jsonschema/v5 %q", e.subject, data, got, want)
		}
	}
	p := e.newPayload()
	if json.Unmarshal(data, p) != nil {
		return nil
	}
	enc, err := json.Marshal(p)
	if err != nil {
		return nil // an unencodable value; Validate reports it, the oracle cannot see it
	}
	want, ok = ask(e.oracle, enc)
	if !ok {
		return nil
	}
	if got := pointersOf(p.Validate()); !slices.Equal(want, got) {
		return fmt.Errorf("%s %s decoded and encoded as %s: Validate gives %q, jsonschema/v5 %q", e.subject, data, enc, got, want)
	}
	return nil
}

// pointersOf returns nil for a valid payload, else the failing JSON
// pointers, sorted, each once (the "valid" marker is a nil slice).
func pointersOf(err error) []string {
	if err == nil {
		return nil
	}
	var ve *payload.ValidationError
	if !errors.As(err, &ve) {
		return []string{"error: " + err.Error()}
	}
	ps := []string{}
	for _, v := range ve.Violations {
		ps = append(ps, v.Pointer)
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

// ask runs the oracle; ok is false when it panics (jsonschema/v5 does on
// numbers math/big cannot hold, such as 1e9999999).
func ask(s *payload.Schema, data []byte) (ps []string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return pointersOf(s.ValidateJSON(data)), true
}

func TestValidatorsAgreeOnExamplesAndMutations(t *testing.T) {
	idx, docs := catalogExamples(t)
	n := 0
	for j, data := range docs {
		e := underTest[idx[j]]
		spec, _ := Catalog.Event(e.subject)
		require.NoError(t, spec.ValidateJSON(data), "example %s", data)
		p := e.newPayload()
		require.NoError(t, json.Unmarshal(data, p))
		require.NoError(t, p.Validate(), "example %s", data)
		for _, d := range append([][]byte{data}, mutations(data)...) {
			assert.NoError(t, check(idx[j], d))
			n++
		}
	}
	t.Logf("%d payloads checked against jsonschema/v5", n)
}

func FuzzValidate(f *testing.F) {
	idx, docs := catalogExamples(f)
	for j, data := range docs {
		f.Add(uint8(idx[j]), data)
	}
	f.Fuzz(func(t *testing.T, i uint8, data []byte) {
		if err := check(int(i)%len(underTest), data); err != nil {
			t.Fatal(err)
		}
	})
}

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzValidate from the catalog's examples and their mutations")

// TestWriteFuzzSeeds rewrites the checked-in seed corpus when asked to.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to rewrite testdata/fuzz/FuzzValidate")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzValidate")
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	idx, docs := catalogExamples(t)
	n := 0
	for j, data := range docs {
		for _, d := range append([][]byte{data}, mutations(data)...) {
			body := fmt.Sprintf("go test fuzz v1\nuint8(%d)\n[]byte(%s)\n", idx[j], strconv.Quote(string(d)))
			name := fmt.Sprintf("%s-%03d", strings.ReplaceAll(underTest[idx[j]].subject, ".", "-"), n)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
			n++
		}
	}
	t.Logf("wrote %d seeds", n)
}
