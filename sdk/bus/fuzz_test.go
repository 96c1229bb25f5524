package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the checked-in seed corpus of the fuzz targets under testdata/fuzz")

// envelopeSeeds are valid envelopes and near misses: each field's edge
// cases (formats, offsets, fractions, case, escapes) and each way to break
// the envelope schema or the Go types behind it.
func envelopeSeeds() map[string]string {
	const valid = `{"id":"5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93","subject":"execution.purchase_order.created",` +
		`"correlation_id":"c-1","organization_id":"91c4e7a2-6b3d-4e58-8f1a-c2d9b5e3a760",` +
		`"timestamp":"2026-10-02T11:20:00Z","source":"execution","version":1,"payload":{"a":1}}`
	with := func(field, value string) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			panic(err)
		}
		if value == "" {
			delete(m, field)
		} else {
			m[field] = json.RawMessage(value)
		}
		out, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		return string(out)
	}
	return map[string]string{
		"valid":                   valid,
		"valid_indented":          "{\n  \"id\": \"5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93\",\n  \"subject\": \"ddmrp.buffer.calculated\",\n  \"correlation_id\": \"\\u00e9t\\u00e9 \\\"q\\\"\",\n  \"organization_id\": \"00000000-0000-0000-0000-000000000000\",\n  \"timestamp\": \"2026-10-02T11:20:00.123456789+02:00\",\n  \"source\": \"ai-hub\",\n  \"version\": 12,\n  \"payload\": {\"nested\": [1, 2.5, -3e2, true, null, \"x\"], \"o\": {}}\n}\n",
		"id_upper":                with("id", `"5A8C3E1F-9D27-4B64-8F0A-2C7E6B1D4A93"`),
		"id_braces":               with("id", `"{5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93}"`),
		"id_urn":                  with("id", `"urn:uuid:5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93"`),
		"id_no_dashes":            with("id", `"5a8c3e1f9d274b648f0a2c7e6b1d4a93"`),
		"id_missing":              with("id", ""),
		"id_number":               with("id", `1`),
		"subject_wildcard":        with("subject", `"execution.>"`),
		"subject_upper":           with("subject", `"Execution.X"`),
		"subject_one_token":       with("subject", `"execution"`),
		"correlation_empty":       with("correlation_id", `""`),
		"correlation_unicode":     with("correlation_id", `"\ud83d\ude00 and \u2028"`),
		"correlation_html":        with("correlation_id", `"<a href='x'>&</a>"`),
		"correlation_lone_surr":   with("correlation_id", `"\ud800"`),
		"correlation_invalid_utf": with("correlation_id", "\"\xff\xfe\""),
		"timestamp_offset":        with("timestamp", `"2026-10-02T11:20:00-07:30"`),
		"timestamp_fraction":      with("timestamp", `"2026-10-02T11:20:00.000000000001Z"`),
		"timestamp_lower_t":       with("timestamp", `"2026-10-02t11:20:00z"`),
		"timestamp_leap":          with("timestamp", `"2016-12-31T23:59:60Z"`),
		"timestamp_space":         with("timestamp", `"2026-10-02 11:20:00Z"`),
		"timestamp_no_zone":       with("timestamp", `"2026-10-02T11:20:00"`),
		"timestamp_date":          with("timestamp", `"2026-10-02"`),
		"timestamp_year_0":        with("timestamp", `"0000-01-01T00:00:00Z"`),
		"source_bad":              with("source", `"Execution_1"`),
		"version_zero":            with("version", `0`),
		"version_float":           with("version", `1.0`),
		"version_exp":             with("version", `1e0`),
		"version_huge":            with("version", `1e30`),
		"version_max_int":         with("version", `9223372036854775807`),
		"version_over_int":        with("version", `9223372036854775808`),
		"version_string":          with("version", `"1"`),
		"payload_array":           with("payload", `[1]`),
		"payload_null":            with("payload", `null`),
		"payload_big_numbers":     with("payload", `{"n":1e400,"m":-0.0000000000000000000000000001,"i":123456789012345678901234567890}`),
		"payload_dup_keys":        with("payload", `{"a":1,"a":2}`),
		"extra_field":             with("extra", `true`),
		"org_missing":             with("organization_id", ""),
		"dup_id":                  `{"id":"5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93",` + valid[1:],
		"case_key":                `{"ID":"5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93",` + valid[1:],
		"trailing":                valid + ` {}`,
		"trailing_space":          valid + " \n",
		"not_json":                "garbage",
		"empty":                   "",
		"null":                    "null",
		"array":                   "[]",
		"truncated":               valid[:len(valid)/2],
	}
}

// FuzzDecodeEnvelope: decoding an envelope never panics, and either fails
// with ErrInvalidMessage or yields the input's value: an envelope that
// re-encodes to JSON the envelope schema accepts, field for field equal to
// the input, and that decodes again to itself.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeEnvelope(data)
		if !utf8.Valid(data) {
			require.Error(t, err, "invalid UTF-8 is not JSON text")
		}
		want, ok := oracleEnvelope(data)
		require.Equal(t, ok, err == nil, "oracle ok %v, decodeEnvelope error %v, on %q", ok, err, data)
		if ok {
			require.Equal(t, want, env, "%q", data)
		}
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidMessage)
			require.Nil(t, env)
			return
		}
		out, err := json.Marshal(env)
		require.NoError(t, err)
		require.NoError(t, envelopeSchema.ValidateJSON(out), "re-encoded %s\nfrom %q", out, data)
		assertSameEnvelope(t, data, env)
		again, err := decodeEnvelope(out)
		require.NoError(t, err, "re-encoded %s", out)
		assertSameEnvelope(t, out, again)
		assert.True(t, env.Timestamp.Equal(again.Timestamp))
		assert.Equal(t, env.ID, again.ID)
	})
}

// oracleEnvelope is the verdict decodeEnvelope must give, from the
// envelope schema compiled by jsonschema/v5 and encoding/json: valid UTF-8,
// valid against the schema, decoded by json.Unmarshal; and, where
// decodeEnvelope is stricter, no key repeated at the top level.
func oracleEnvelope(data []byte) (*Envelope, bool) {
	if !utf8.Valid(data) || repeatsTopLevelKey(data) || envelopeSchema.ValidateJSON(data) != nil {
		return nil, false
	}
	var env Envelope
	if json.Unmarshal(data, &env) != nil {
		return nil, false
	}
	return &env, true
}

// repeatsTopLevelKey reports whether data is an object that repeats a key.
func repeatsTopLevelKey(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return false
		}
		if seen[key] {
			return true
		}
		seen[key] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// assertSameEnvelope checks env against data decoded as plain JSON.
func assertSameEnvelope(t *testing.T, data []byte, env *Envelope) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var in map[string]any
	require.NoError(t, dec.Decode(&in), "%q", data)
	str := func(key string) string {
		s, ok := in[key].(string)
		require.True(t, ok, "%s is %T", key, in[key])
		return s
	}
	sameUUID := func(key string, got uuid.UUID) {
		s := str(key)
		require.Len(t, s, 36, "%s %q: only the 8-4-4-4-12 form", key, s)
		want, err := uuid.Parse(s)
		require.NoError(t, err)
		assert.Equal(t, want, got, key)
	}
	sameUUID("id", env.ID)
	sameUUID("organization_id", env.OrganizationID)
	assert.Equal(t, str("subject"), env.Subject)
	assert.Equal(t, str("correlation_id"), env.CorrelationID)
	assert.Equal(t, str("source"), env.Source)
	ts, err := time.Parse(time.RFC3339Nano, str("timestamp"))
	require.NoError(t, err)
	assert.True(t, ts.Equal(env.Timestamp), "timestamp %q decoded as %s", str("timestamp"), env.Timestamp)
	version, ok := in["version"].(json.Number)
	require.True(t, ok)
	assert.Equal(t, version.String(), strconv.Itoa(env.Version))
	assert.True(t, reflect.DeepEqual(in["payload"], decodeNumbers(t, env.Payload)), "payload %s", env.Payload)
}

func decodeNumbers(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

// TestEnvelopeSeedCorpus keeps testdata/fuzz/FuzzDecodeEnvelope in step
// with envelopeSeeds; go test -run TestEnvelopeSeedCorpus -update-corpus
// rewrites it.
func TestEnvelopeSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeEnvelope")
	seeds := envelopeSeeds()
	if *updateCorpus {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for name, s := range seeds {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), corpusFile([]byte(s)), 0o644))
		}
	}
	for name, s := range seeds {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			t.Errorf("seed %s is not checked in: run go test ./sdk/bus -run TestEnvelopeSeedCorpus -update-corpus", name)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, string(corpusFile([]byte(s))), string(got), name)
	}
}

// corpusFile is data in the format of go test's fuzzing corpus.
func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
}

// BenchmarkDecodeEnvelope compares decodeEnvelope with what consumers did
// before it: the envelope schema by jsonschema/v5, then json.Unmarshal.
func BenchmarkDecodeEnvelope(b *testing.B) {
	data := []byte(envelopeSeeds()["valid_indented"])
	b.Run("native", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeEnvelope(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonschema+unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := oracleEnvelope(data); !ok {
				b.Fatal("refused")
			}
		}
	})
}
