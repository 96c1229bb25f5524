package events

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// largestExample returns the catalog's largest example payload and its
// event.
func largestExample(b *testing.B) (eventUnderTest, []byte) {
	idx, docs := catalogExamples(b)
	best := 0
	for j := range docs {
		if len(docs[j]) > len(docs[best]) {
			best = j
		}
	}
	return underTest[idx[best]], docs[best]
}

// BenchmarkValidate compares, on the catalog's largest example payload,
// the generated validators with jsonschema/v5:
//
//   - native-typed: Validate on the decoded value (what a publisher checks);
//   - native-raw: the generated check of the JSON bytes (ParseX, the
//     catalog's ValidateJSON: what a consumer checks);
//   - jsonschema-raw: jsonschema/v5 on the bytes (decoding included);
//   - jsonschema-typed: jsonschema/v5 on a typed value, which must be
//     encoded first (what Validate did before the generated validators).
func BenchmarkValidate(b *testing.B) {
	e, data := largestExample(b)
	spec, ok := Catalog.Event(e.subject)
	require.True(b, ok)
	p := e.newPayload()
	require.NoError(b, json.Unmarshal(data, p))
	require.NoError(b, p.Validate())
	require.NoError(b, spec.ValidateJSON(data))
	require.NoError(b, e.oracle.ValidateJSON(data))
	b.Logf("%s, %d bytes", e.subject, len(data))

	b.Run("native-typed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("native-raw", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := spec.ValidateJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonschema-raw", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := e.oracle.ValidateJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonschema-typed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			enc, err := json.Marshal(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := e.oracle.ValidateJSON(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
