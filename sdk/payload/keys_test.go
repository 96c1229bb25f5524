package payload

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKeys mixes keys of every length class of keyText (shorter than a
// word, one word, two, three, more), keys that share first bytes or are
// prefixes of others, the empty key, and keys MemberIn cannot compare by
// bytes.
var testKeys = NewKeys("a", "ab", "abc", "amount", "sku", "line_number", "purchase_order_id",
	"expected_delivery_date", "a_key_longer_than_three_words_of_eight", "", "é", `q"uote`, "back\\slash", "tab\t")

// walkKeys reads the members of every object in data, at any depth, with
// next, and returns the keys read and the scanner's verdict.
func walkKeys(data []byte, next func(*JSONScanner) bool) ([]string, error) {
	var s JSONScanner
	s.Reset(data)
	var keys []string
	var walk func()
	walk = func() {
		switch s.Value() {
		case JSONObject:
			for next(&s) {
				keys = append(keys, s.Key())
				walk()
			}
		case JSONArray:
			for s.Element() {
				walk()
			}
		}
	}
	walk()
	return keys, s.Finish("", nil)
}

func checkMemberIn(t *testing.T, doc string) {
	want, wantErr := walkKeys([]byte(doc), (*JSONScanner).Member)
	got, gotErr := walkKeys([]byte(doc), func(s *JSONScanner) bool { return s.MemberIn(testKeys) })
	assert.Equal(t, want, got, "%s", doc)
	assert.Equal(t, wantErr, gotErr, "%s", doc)
}

var memberInSeeds = []string{
	`{"a":1,"ab":2,"abc":3,"abcd":4,"amount":5}`,
	`{"sku":"x","line_number":1,"purchase_order_id":"y","expected_delivery_date":"z"}`,
	`{"a_key_longer_than_three_words_of_eight":1,"a_key_longer_than_three_words_of_eigh":2}`,
	`{"":1,"é":2,"q\"uote":3,"back\\slash":4,"tab\t":5}`,
	`{"\u0061":1,"sk\u0075":2,"line_numbe\u0072":3}`,
	`{ "a" : 1 , "ab":2}`,
	`{"a":{"ab":{"abc":[{"sku":1}]}},"amount":2}`,
	`{"a":1,"a":2}`,
	`{"a"`, `{"a":`, `{"ab"1}`, `{"sku":1,}`, `{"sku":1 "a":2}`, `{"amount`, `{"amount":1`,
	`{"purchase_order_id"`, `{"purchase_order_id":`, `{"a",1}`, `{,"a":1}`, `{}`, `[{"a":1},{"ab":2}]`,
}

func TestMemberInReadsWhatMemberReads(t *testing.T) {
	for _, doc := range memberInSeeds {
		checkMemberIn(t, doc)
	}
}

func TestMemberInComparesBytes(t *testing.T) {
	var s JSONScanner
	s.Reset([]byte(`{"purchase_order_id":1,"sku":2}`))
	require.Equal(t, JSONObject, s.Value())
	require.True(t, s.MemberIn(testKeys))
	assert.Equal(t, "purchase_order_id", s.Key())
	assert.Equal(t, len(`{"purchase_order_id":`), s.Pos(), "the key and its colon are read")
	s.Skip()
	require.True(t, s.MemberIn(testKeys))
	assert.Equal(t, "sku", s.Key())
	s.Skip()
	assert.False(t, s.MemberIn(testKeys))
	assert.NoError(t, s.Finish("", nil))
}

func TestPlainKey(t *testing.T) {
	for key, want := range map[string]bool{"": true, "a b": true, "é": true, "\x7f": true,
		`"`: false, `\`: false, "\n": false, "\xff": false} {
		assert.Equal(t, want, plainKey(key), "%q", key)
	}
}

func FuzzMemberIn(f *testing.F) {
	for _, doc := range memberInSeeds {
		f.Add(doc)
	}
	f.Fuzz(checkMemberIn)
}
