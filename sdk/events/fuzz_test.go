package events_test

// FuzzParsePayloads holds every generated Parse function to "an error
// rather than a wrong value", and the parsed value's AppendJSON to
// json.Marshal:
//
//	go test ./sdk/events -run '^$' -fuzz FuzzParsePayloads -fuzztime 60s
//
// testdata/fuzz/FuzzParsePayloads holds the seed corpus (the catalog's
// examples and mutations of them); go test ./sdk/events -run
// TestParseSeedCorpus -update-parse-corpus rewrites it.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload/encodetest"
)

// parser is an event's Parse function, returning a pointer to the value.
type parser struct {
	subject string
	parse   func([]byte) (any, error)
}

func parseWith[T any](subject string, parse func([]byte) (T, error)) parser {
	return parser{subject: subject, parse: func(data []byte) (any, error) {
		v, err := parse(data)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}}
}

// parsers lists every event's Parse function in the order of
// events.Subjects; TestParsersCoverTheCatalog keeps it complete.
var parsers = []parser{
	parseWith(events.SubjectCatalogProductCreated, events.ParseProductCreated),
	parseWith(events.SubjectCatalogProductDiscontinued, events.ParseProductDiscontinued),
	parseWith(events.SubjectCatalogProductUpdated, events.ParseProductUpdated),
	parseWith(events.SubjectDDMRPBufferAlertTriggered, events.ParseBufferAlertTriggered),
	parseWith(events.SubjectDDMRPBufferCalculated, events.ParseBufferCalculated),
	parseWith(events.SubjectDDMRPBufferStatusChanged, events.ParseBufferStatusChanged),
	parseWith(events.SubjectExecutionInventoryUpdated, events.ParseInventoryUpdated),
	parseWith(events.SubjectExecutionPurchaseOrderCreated, events.ParsePurchaseOrderCreated),
	parseWith(events.SubjectExecutionPurchaseOrderReceived, events.ParsePurchaseOrderReceived),
	parseWith(events.SubjectExecutionSalesOrderCreated, events.ParseSalesOrderCreated),
	parseWith(events.SubjectExecutionSalesOrderShipped, events.ParseSalesOrderShipped),
}

func TestParsersCoverTheCatalog(t *testing.T) {
	var subjects []string
	for _, p := range parsers {
		subjects = append(subjects, p.subject)
	}
	assert.Equal(t, events.Subjects, subjects)
	var fromCatalog []string
	for _, e := range events.Catalog.Events {
		fromCatalog = append(fromCatalog, e.Subject)
	}
	assert.Equal(t, fromCatalog, subjects)
}

// parseSeeds returns the catalog's examples and mutations of them, keyed
// by a file name for the corpus.
func parseSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("../../catalog/*.yaml")
	require.NoError(t, err)
	sort.Strings(files)
	seeds := map[string][]byte{}
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
			for i, ex := range e.Examples {
				data, err := json.Marshal(ex)
				require.NoError(t, err)
				name := fmt.Sprintf("%s-%d", strings.ReplaceAll(e.Subject, ".", "-"), i)
				seeds[name] = data
				if i > 0 {
					continue // the first example's mutations cover the event
				}
				for j, m := range parseMutations(data) {
					seeds[fmt.Sprintf("%s-m%02d", name, j)] = m
				}
			}
		}
	}
	require.NotEmpty(t, seeds)
	return seeds
}

// parseMutations returns variations of a valid payload aimed at the gap
// between what a schema accepts and what a Go value holds: other spellings
// of the same value (upper-case UUIDs, time offsets and fractions, number
// forms, escapes), values at the edge of the Go types, nulls, repeated,
// missing and unknown keys, and other nesting.
func parseMutations(data []byte) [][]byte {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out [][]byte
	add := func(v any) {
		b, err := json.Marshal(v)
		if err == nil && !bytes.Equal(b, data) {
			out = append(out, b)
		}
	}
	addRaw := func(b []byte) { out = append(out, b) }
	// Each leaf replaced by each of a few spellings.
	type leaf struct {
		get func() any
		set func(any)
	}
	var leaves []leaf
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				switch x[k].(type) {
				case map[string]any, []any:
					walk(x[k])
				default:
					leaves = append(leaves, leaf{func() any { return x[k] }, func(v any) { x[k] = v }})
				}
			}
		case []any:
			for i := range x {
				switch x[i].(type) {
				case map[string]any, []any:
					walk(x[i])
				default:
					leaves = append(leaves, leaf{func() any { return x[i] }, func(v any) { x[i] = v }})
				}
			}
		}
	}
	walk(doc)
	// Each leaf takes one spelling of its kind, in turn, so that every
	// spelling is tried and the corpus stays small; every number also takes
	// 1e-400 (a positive number that float64 holds as 0), every third leaf
	// null.
	turn := map[string]int{}
	for i, l := range leaves {
		old := l.get()
		kind, variants := "", []any(nil)
		switch x := old.(type) {
		case string:
			if _, err := uuid.Parse(x); err == nil {
				kind, variants = "uuid", []any{strings.ToUpper(x), "{" + x + "}", strings.ReplaceAll(x, "-", "")}
			} else if ts, err := time.Parse(time.RFC3339, x); err == nil {
				kind, variants = "time", []any{ts.In(time.FixedZone("", -(7*3600 + 1800))).Format(time.RFC3339Nano),
					ts.Format("2006-01-02T15:04:05.000000000Z07:00"), ts.Format("2006-01-02T15:04:05.0000000001Z07:00"),
					strings.ToLower(x)}
			} else if _, err := time.Parse(time.DateOnly, x); err == nil {
				kind, variants = "date", []any{x + "T00:00:00Z", strings.Replace(x, "-", "/", 1), "2024-02-30"}
			} else {
				kind, variants = "string", []any{x + "\u00e9<&>\u2028", "", strings.Repeat(x, 50), " " + x}
			}
		case float64:
			kind, variants = "number", []any{json.Number(strconv.FormatFloat(x, 'f', -1, 64) + ".0"),
				json.Number("9223372036854775807"), json.Number("9223372036854775808"), -x, json.Number("1E2"), 0.1}
		case bool:
			kind, variants = "bool", []any{!x, "true"}
		case nil:
			kind, variants = "null", []any{"", 0}
		}
		try := []any{variants[turn[kind]%len(variants)]}
		turn[kind]++
		if kind == "number" {
			try = append(try, json.Number("1e-400"))
		}
		if i%3 == 0 {
			try = append(try, nil)
		}
		for _, v := range try {
			l.set(v)
			add(doc)
		}
		l.set(old)
	}
	// Keys: each removed, an unknown one, a repeated one, a different case.
	if m, ok := doc.(map[string]any); ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys[:min(2, len(keys))] {
			v := m[k]
			delete(m, k)
			add(m)
			m[strings.ToUpper(k)] = v
			add(m)
			delete(m, strings.ToUpper(k))
			m[k] = v
		}
		m["unknown_key"] = 1
		add(m)
		delete(m, "unknown_key")
		if len(keys) > 0 {
			first, _ := json.Marshal(keys[0])
			addRaw(append(append([]byte("{"), first...), append([]byte(`:null,`), data[1:]...)...))
			addRaw(append(slices.Clone(data[:len(data)-1]), append([]byte(","), append(first, []byte(`:null}`)...)...)...))
		}
	}
	addRaw(append(slices.Clone(data), []byte(" {}")...))
	addRaw([]byte("[" + string(data) + "]"))
	addRaw(data[:len(data)/2])
	return out
}

// FuzzParsePayloads runs every event's Parse function on the input. None
// panics; and when one succeeds its value is what the input says: the
// event's ValidateJSON accepts the input, the value's Validate accepts it,
// it encodes to JSON that ValidateJSON accepts, and that JSON is the input
// (compared as decoded JSON values: numbers by value, UUIDs and times by
// what they denote, a null as good as a missing key).
func FuzzParsePayloads(f *testing.F) {
	for _, data := range parseSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parsers {
			v, err := p.parse(data)
			if err != nil {
				continue
			}
			require.NoError(t, events.ValidateJSON(p.subject, data), "%s parsed what its check refuses: %s", p.subject, data)
			if val, ok := v.(interface{ Validate() error }); ok {
				require.NoError(t, val.Validate(), "%s: Validate refuses the parsed %s", p.subject, data)
			}
			out, err := json.Marshal(v)
			require.NoError(t, err, "%s: %s", p.subject, data)
			// What a publisher sends: the generated encoder, byte for byte.
			require.True(t, encodetest.Check(t, v.(encodetest.Appender)), "%s: %s", p.subject, data)
			require.NoError(t, events.ValidateJSON(p.subject, out), "%s: %s re-encoded as %s", p.subject, data, out)
			if path, same := sameJSON(decodeJSON(t, data), decodeJSON(t, out), ""); !same {
				t.Fatalf("%s: %s parsed as a different value: %s re-encodes as %s", p.subject, data, path, out)
			}
		}
	})
}

func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "%s", data)
	return v
}

// sameJSON reports whether b, a decoded re-encoding, denotes the value a
// (decoded input) denotes; when not, path says where they differ.
func sameJSON(a, b any, path string) (string, bool) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path, false
		}
		for k, av := range x {
			bv, present := y[k]
			if !present {
				if av == nil {
					continue // null and missing are one value of an optional field
				}
				return path + "/" + k + " (dropped)", false
			}
			if p, ok := sameJSON(av, bv, path+"/"+k); !ok {
				return p, false
			}
		}
		for k := range y {
			if _, present := x[k]; !present {
				return path + "/" + k + " (added)", false
			}
		}
		return "", true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path, false
		}
		for i := range x {
			if p, ok := sameJSON(x[i], y[i], path+"/"+strconv.Itoa(i)); !ok {
				return p, false
			}
		}
		return "", true
	case json.Number:
		y, ok := b.(json.Number)
		return path, ok && sameNumber(x, y)
	case string:
		y, ok := b.(string)
		return path, ok && sameString(x, y)
	default:
		return path, a == b
	}
}

func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	if ai, err := a.Int64(); err == nil {
		if bi, err := b.Int64(); err == nil {
			return ai == bi
		}
	}
	af, err1 := a.Float64()
	bf, err2 := b.Float64()
	return err1 == nil && err2 == nil && af == bf
}

// sameString: equal, or the same UUID, or the same instant.
func sameString(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) == 36 {
		ua, err1 := uuid.Parse(a)
		ub, err2 := uuid.Parse(b)
		if err1 == nil && err2 == nil {
			return ua == ub
		}
	}
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

func TestSameJSON(t *testing.T) {
	same := func(a, b string) bool {
		_, ok := sameJSON(decodeJSON(t, []byte(a)), decodeJSON(t, []byte(b)), "")
		return ok
	}
	assert.True(t, same(`{"a":1.0,"b":null,"c":[1e2]}`, `{"a":1,"c":[100]}`))
	assert.True(t, same(`{"u":"5A8C3E1F-9D27-4B64-8F0A-2C7E6B1D4A93"}`, `{"u":"5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93"}`))
	assert.True(t, same(`{"t":"2026-10-02T13:20:00.000+02:00"}`, `{"t":"2026-10-02T11:20:00Z"}`))
	assert.True(t, same(`{"n":9007199254740993}`, `{"n":9007199254740993}`))
	assert.False(t, same(`{"n":9007199254740993}`, `{"n":9007199254740992}`))
	assert.False(t, same(`{"a":1}`, `{}`))
	assert.False(t, same(`{}`, `{"a":1}`))
	assert.False(t, same(`{"a":"x"}`, `{"a":"X"}`))
	assert.False(t, same(`[1,2]`, `[1]`))
	assert.False(t, same(`{"a":true}`, `{"a":"true"}`))
	assert.False(t, same(`{"t":"2026-10-02T11:20:00Z"}`, `{"t":"2026-10-02T11:20:01Z"}`))
}

var updateParseCorpus = flag.Bool("update-parse-corpus", false, "rewrite testdata/fuzz/FuzzParsePayloads from the catalog's examples and their mutations")

// TestParseSeedCorpus keeps testdata/fuzz/FuzzParsePayloads what
// parseSeeds gives, and rewrites it with -update-parse-corpus.
func TestParseSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParsePayloads")
	seeds := parseSeeds(t)
	if *updateParseCorpus {
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for name, data := range seeds {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), corpusFile(data), 0o644))
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err, "run go test ./sdk/events -run TestParseSeedCorpus -update-parse-corpus")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		data, ok := seeds[e.Name()]
		if !assert.True(t, ok, "%s is not a seed of the catalog: rerun with -update-parse-corpus", e.Name()) {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		assert.Equal(t, string(corpusFile(data)), string(got), "%s is stale: rerun with -update-parse-corpus", e.Name())
	}
	assert.Len(t, names, len(seeds), "seeds missing from %s: rerun with -update-parse-corpus", dir)
}

// corpusFile is data in the format of go test's fuzzing corpus.
func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
}
