package payload

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanAll reads data as a generated validator that looks into nothing
// would, and returns whether it is one valid JSON document.
func scanAll(data []byte) bool {
	var s JSONScanner
	s.Reset(data)
	s.Skip()
	return s.Finish("", nil) == nil
}

var syntaxSeeds = []string{
	``, ` `, `null`, `nul`, `nullx`, `true`, `false`, `tru`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1E-5`,
	`.5`, `+1`, `1.5e308`, `"a"`, `"`, `"\u00e9"`, `"\u00"`, `"\x"`, "\"\x01\"", "\"\xff\"", `"\ud800"`, `"\ud800\udc00"`,
	`{}`, `{`, `}`, `{"a":1}`, `{"a" 1}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1}}`,
	`[]`, `[`, `]`, `[1,2]`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[{"a":[{"b":null}]}]`, ` {"a" : [ 1 , 2 ] } `,
	`{} {}`, `1 2`, "\ufeff{}", "{\"a\":\t1}", `[1]x`, `"a"b`, `{"a":{"b":{"c":[1,2,{"d":"e"}]}}}`,
	// Longer than a word, which the scanner reads eight bytes at a time.
	`"abcdefghijklmnop"`, `"abcdefgh\"ijkl"`, "\"abcdefgh\x01ijkl\"", "\"abcdefgh\xffijkl\"", `"abcdefghijklmnop`,
	`{"abcdefghijkl":"mnopqrstuvwx","yz":["abcdefghijklmnop"]}`, `{"abcdefghijkl" :1,"x":2}`,
}

func TestScannerSyntaxMatchesEncodingJSON(t *testing.T) {
	for _, in := range syntaxSeeds {
		_, err := decodeJSON([]byte(in))
		assert.Equal(t, err == nil, scanAll([]byte(in)), "%q", in)
	}
	deep := strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)
	assert.True(t, scanAll([]byte(deep)))
	deeper := "[" + deep + "]"
	_, err := decodeJSON([]byte(deeper))
	require.Error(t, err)
	assert.False(t, scanAll([]byte(deeper)))
}

func FuzzScannerSyntax(f *testing.F) {
	for _, s := range syntaxSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decodeJSON(data)
		if got := scanAll(data); got != (err == nil) {
			t.Fatalf("%q: scanner says valid=%v, encoding/json says %v", data, got, err)
		}
	})
}

func TestStrDecodesAsEncodingJSON(t *testing.T) {
	for _, in := range []string{`""`, `"abc"`, `"\u00e9\n\t\"\\\/"`, "\"\xff\xfe\"", `"\ud800"`, `"\ud800\u0041"`,
		`"\ud83d\ude00"`, `"\udc00\ud800"`, "\"\xed\xa0\x80\"", `"\ud800\ud800\udc00"`, "\"é😀\""} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(in), &want), in)
		var s JSONScanner
		s.Reset([]byte(in))
		require.Equal(t, JSONString, s.Value(), in)
		assert.Equal(t, want, s.Str(), in)
	}
}

func FuzzStr(f *testing.F) {
	f.Add(`"\ud800\udc00x"`)
	f.Add("\"\xffa\"")
	f.Add(`"abcdefgh\u00e9ijklmnop\"q"`)
	f.Add("\"abcdefgh\xffijklmnop\"")
	f.Fuzz(func(t *testing.T, in string) {
		var want string
		if json.Unmarshal([]byte(in), &want) != nil {
			return
		}
		var s JSONScanner
		s.Reset([]byte(in))
		if s.Value() != JSONString {
			t.Fatalf("%q: not read as a string", in)
		}
		if got := s.Str(); got != want {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
	})
}

func TestScannerWalk(t *testing.T) {
	var s JSONScanner
	s.Reset([]byte(` {"a": [1, "x", true, null, {"b": {}}], "c\/d": -2.5e1} `))
	require.Equal(t, JSONObject, s.Value())
	var keys []string
	var kinds []JSONKind
	for s.Member() {
		keys = append(keys, s.Key())
		if s.Key() != "a" {
			s.Skip()
			continue
		}
		require.Equal(t, JSONArray, s.Value())
		for s.Element() {
			kinds = append(kinds, s.Value())
			if s.Kind() == JSONObject {
				s.SkipContainer()
			}
		}
	}
	assert.NoError(t, s.Finish("x", nil))
	assert.Equal(t, []string{"a", "c/d"}, keys)
	assert.Equal(t, []JSONKind{JSONNumber, JSONString, JSONBool, JSONNull, JSONObject}, kinds)
	assert.Equal(t, "object", JSONObject.String())
	assert.Equal(t, "JSONKind(42)", JSONKind(42).String())
}

func TestPathEscapesAsJSONSchema(t *testing.T) {
	var root *Path
	a := root.Member("a/b~c d")
	i := a.Item(3)
	k := i.Member("%é")
	assert.Equal(t, "", root.String())
	assert.Equal(t, "/a~1b~0c%20d/3/%25%C3%A9", k.String())

	deep := root.Member("x")
	at := &deep
	levels := []Path{}
	for range 20 {
		levels = append(levels, at.Item(0))
		at = &levels[len(levels)-1]
	}
	assert.Equal(t, "/x"+strings.Repeat("/0", 20), at.String())
}

func TestViolations(t *testing.T) {
	var v Violations
	assert.NoError(t, v.Err("s"))
	var root *Path
	b := root.Member("b")
	v.Add(&b, "second")
	v.Addf(nil, "first %d", 1)
	v.Add(&b, "second")
	assert.Equal(t, 3, v.Len())
	err := v.Err("a.b.c")
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "a.b.c", ve.Subject)
	assert.Equal(t, []Violation{{"", "first 1"}, {"/b", "second"}}, ve.Violations)
	assert.ErrorIs(t, err, ErrInvalidPayload)
	assert.Equal(t, `"a", "b\"c"`, QuoteList([]string{"a", `b"c`}))
}

func TestCheckEncoded(t *testing.T) {
	var v Violations
	at := (*Path)(nil).Member("v")
	wantString := func(s *JSONScanner, at *Path) {
		if s.Value() != JSONString {
			s.TypeError(at, "string")
		}
	}
	v.CheckEncoded(&at, "x", wantString)
	assert.Equal(t, 0, v.Len())
	v.CheckEncoded(&at, map[string]int{"a": 1}, wantString)
	v.CheckEncoded(&at, math.NaN(), wantString)
	ve := v.Err("").(*ValidationError)
	require.Len(t, ve.Violations, 2)
	assert.Equal(t, "/v", ve.Violations[0].Pointer)
	assert.Contains(t, ve.Violations[0].Message+ve.Violations[1].Message, "want string, got object")
	assert.Contains(t, ve.Violations[0].Message+ve.Violations[1].Message, "cannot be encoded as JSON")
}

var numberSeeds = []string{"0", "-0", "1", "-1", "1.0", "1.5", "10", "100e-2", "1e2", "0.001", "1e-3", "-2.50",
	"123456789012345678901234567890", "0.1", "0.30000000000000004", "1e308", "1.7976931348623157e308", "5e-324",
	"3", "0.5", "2.5", "7", "0.0075", "0.01", "19.99", "1e40", "123456789012345678", "9999999999999999999"}

func rat(t *testing.T, s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	require.True(t, ok, s)
	return r
}

func TestNumbersAreExact(t *testing.T) {
	for _, a := range numberSeeds {
		ra := rat(t, a)
		assert.Equal(t, ra.IsInt(), IsInteger([]byte(a)), "IsInteger(%s)", a)
		for _, b := range numberSeeds {
			n := MustNumber(b)
			rb := rat(t, b)
			assert.Equal(t, ra.Cmp(rb), CompareNumber([]byte(a), n), "compare %s %s", a, b)
			assert.Equal(t, ra.Cmp(rb) == 0, CanonicalNumber([]byte(a)) == CanonicalNumber([]byte(b)), "canonical %s %s", a, b)
			if rb.Sign() > 0 {
				assert.Equal(t, new(big.Rat).Quo(ra, rb).IsInt(), IsMultipleOf([]byte(a), n), "%s multipleOf %s", a, b)
			}
		}
	}
	assert.Equal(t, "1.5", MustNumber("1.5").String())
	assert.Panics(t, func() { MustNumber("1.") })
}

func FuzzNumbers(f *testing.F) {
	f.Add("1.5", "0.5")
	f.Add("1e300", "0.0001")
	f.Add("-12345678901234567890123", "3")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !json.Valid([]byte(a)) || !json.Valid([]byte(b)) || len(a) > 40 || len(b) > 40 {
			return
		}
		if _, ok := parseDecimal([]byte(a)); !ok {
			return
		}
		if _, ok := parseDecimal([]byte(b)); !ok {
			return
		}
		ra, ok1 := new(big.Rat).SetString(a)
		rb, ok2 := new(big.Rat).SetString(b)
		if !ok1 || !ok2 {
			return // beyond big.Rat, and beyond jsonschema/v5
		}
		n := MustNumber(b)
		if got, want := CompareNumber([]byte(a), n), ra.Cmp(rb); got != want {
			t.Fatalf("compare %s %s: got %d, want %d", a, b, got, want)
		}
		if ra.IsInt() != IsInteger([]byte(a)) {
			t.Fatalf("IsInteger(%s)", a)
		}
		if rb.Sign() > 0 && new(big.Rat).Quo(ra, rb).IsInt() != IsMultipleOf([]byte(a), n) {
			t.Fatalf("%s multipleOf %s", a, b)
		}
	})
}

func TestTypedNumbers(t *testing.T) {
	for _, f := range []float64{0, -0.0, 0.1, 1.5, 3, 1e21, 1e-7, 123456.789, -2.5} {
		lit := []byte(strconv.FormatFloat(f, 'g', -1, 64))
		for _, b := range numberSeeds {
			n := MustNumber(b)
			assert.Equal(t, CompareNumber(lit, n), CompareFloat(f, n), "%v vs %s", f, b)
			if n.digits != "" {
				assert.Equal(t, IsMultipleOf(lit, n), FloatIsMultipleOf(f, n), "%v multipleOf %s", f, b)
			}
		}
	}
	for _, i := range []int64{0, 1, -7, 100, math.MaxInt64, math.MinInt64} {
		lit := []byte(strconv.FormatInt(i, 10))
		for _, b := range numberSeeds {
			n := MustNumber(b)
			assert.Equal(t, CompareNumber(lit, n), CompareInt(i, n))
			if n.digits != "" {
				assert.Equal(t, IsMultipleOf(lit, n), IntIsMultipleOf(i, n))
			}
		}
	}
	assert.True(t, IsFinite(1))
	assert.False(t, IsFinite(math.Inf(-1)))
	assert.False(t, IsFinite(math.NaN()))
}

// equalBySchema asks jsonschema/v5 whether b equals a.
func equalBySchema(t testing.TB, a, b string) (bool, bool) {
	s, err := CompileSchema("c.json", map[string]string{"c.json": `{"const": ` + a + `}`})
	if err != nil {
		return false, false
	}
	ok := true
	var verdict error
	func() {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		verdict = s.ValidateJSON([]byte(b))
	}()
	return verdict == nil, ok
}

var canonicalSeeds = [][2]string{
	{`1`, `1.0`}, {`{"a":1,"b":[1,2]}`, `{"b":[1,2.0],"a":1}`}, {`[1,2]`, `[2,1]`}, {`"a"`, `"\u0061"`},
	{`null`, `false`}, {`{"a":1}`, `{"a":1,"a":2}`}, {`{"a":2}`, `{"a":1,"a":2}`}, {`0`, `-0`}, {`"1"`, `1`},
	{`[]`, `{}`}, {`true`, `true`}, {`{"a":{"b":[]}}`, `{"a":{"b":[null]}}`},
}

func TestCanonicalMatchesJSONSchemaEquality(t *testing.T) {
	for _, c := range canonicalSeeds {
		ca, err := CanonicalJSON([]byte(c[0]))
		require.NoError(t, err)
		cb, err := CanonicalJSON([]byte(c[1]))
		require.NoError(t, err)
		want, ok := equalBySchema(t, c[0], c[1])
		require.True(t, ok)
		assert.Equal(t, want, ca == cb, "%s vs %s", c[0], c[1])
	}
	_, err := CanonicalJSON([]byte(`{`))
	assert.Error(t, err)
	_, err = CanonicalJSON([]byte(`1 2`))
	assert.Error(t, err)
}

func FuzzCanonical(f *testing.F) {
	for _, c := range canonicalSeeds {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ca, err1 := CanonicalJSON([]byte(a))
		cb, err2 := CanonicalJSON([]byte(b))
		if err1 != nil || err2 != nil {
			return
		}
		want, ok := equalBySchema(t, a, b)
		if !ok {
			return
		}
		if want != (ca == cb) {
			t.Fatalf("%s vs %s: jsonschema says equal=%v, canonical %q %q", a, b, want, ca, cb)
		}
	})
}

func TestScannerEqualityHelpers(t *testing.T) {
	var s JSONScanner
	s.Reset([]byte(`[{"a":1}, {"a":1.0}, 2, "x"]`))
	require.Equal(t, JSONArray, s.Value())
	mark := s.ItemMark()
	var canon []string
	for s.Element() {
		start := s.Pos()
		s.Skip()
		s.NoteItem(start)
		canon = append(canon, s.Canonical(start))
	}
	s.UniqueItems(nil, mark)
	assert.Equal(t, `{"a":0.1e1}`, canon[0])
	err := s.Finish("", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "items 0 and 1 are equal")

	s.Reset([]byte(`{"a":1,"b":2,"a":3}`))
	var seen [2]bool
	s.Value()
	for s.Member() {
		s.Seen(&seen[strings.Index("ab", s.Key())])
		s.Skip()
	}
	assert.True(t, s.dup)

	s.Reset([]byte(`{"a":1,"b":2,"a":3}`))
	s.Value()
	mark = s.KeyMark()
	for s.Member() {
		s.NoteKey(mark, s.Key())
		s.Skip()
	}
	s.ReleaseKeys(mark)
	assert.True(t, s.dup)

	// Many keys: the set becomes a map.
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"k5":0}`)
	s.Reset([]byte(b.String()))
	s.Value()
	outer := s.KeyMark()
	s.NoteKey(outer, "outer")
	mark = s.KeyMark()
	n := 0
	for s.Member() {
		s.NoteKey(mark, s.Key())
		s.Skip()
		n++
		if n == 100 {
			assert.False(t, s.dup)
		}
	}
	assert.True(t, s.dup)
	s.ReleaseKeys(mark)
	assert.Equal(t, []string{"outer"}, s.keys)
	assert.Empty(t, s.sets)
}

func TestFinishFallsBackOnDuplicates(t *testing.T) {
	schema, err := CompileSchema("d.json", map[string]string{"d.json": `{"properties": {"a": {"type": "integer"}}}`})
	require.NoError(t, err)
	var s JSONScanner
	s.Reset([]byte(`{"a":"x","a":1}`))
	s.Skip()
	s.Duplicate()
	assert.NoError(t, s.Finish("x", schema)) // the last value counts

	s.Reset([]byte(`{"a":1,"a":"x"}`))
	s.Skip()
	s.Duplicate()
	err = s.Finish("x.y", schema)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "x.y", ve.Subject)

	// jsonschema/v5 panics on numbers big.Rat cannot hold.
	s.Reset([]byte(`{"a":1e99999999,"a":1e99999999}`))
	s.Skip()
	s.Duplicate()
	err = s.Finish("x", schema)
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Violations[0].Message, "cannot be checked")
}

func TestTypeErrorSkipsTheValue(t *testing.T) {
	var s JSONScanner
	s.Reset([]byte(`[{"a":[1]}, 2]`))
	require.Equal(t, JSONArray, s.Value())
	var at *Path
	for i := 0; s.Element(); i++ {
		p := at.Item(i)
		if s.Value() != JSONNumber {
			s.TypeError(&p, "number")
		}
	}
	err := s.Finish("", nil)
	require.Error(t, err)
	assert.Equal(t, "payload: invalid payload: /0: want number, got object", err.Error())

	s.Reset([]byte(`{"a":`))
	s.Value()
	for s.Member() {
		s.Value()
		s.TypeError(nil, "string") // after a syntax error: nothing
	}
	err = s.Finish("", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not valid JSON")
	assert.True(t, s.Failed())
}

var formatSeeds = []string{
	"", "2026-11-20T15:04:12Z", "2026-11-20t15:04:12.123+05:30", "1998-12-31T23:59:60Z", "1998-12-31T22:59:60-01:00",
	"2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2026-11-20T15:04:12", "2026-11-20 15:04:12Z", "2026-11-20T24:00:00Z",
	"+026-11-20T15:04:12Z", "2026-11-20T+1:04:12Z", "2026-11-20T15:04:12.Z", "2026-11-20", "2026-1-20", "0000-01-01",
	"9999-12-31", "2026-13-01", "1900-02-29", "2000-02-29", "0000-02-29", "2026-04-31", "2026-04-30", "2026-00-10",
	"2026-01-00", "2026-1a-01", "2026/01/01", "２０２６-01-01", "a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c30", "A3E6C9F2-1B4D-4A87-9E5C-6D2F8B1A7C30",
	"a3e6c9f21b4d4a879e5c6d2f8b1a7c30", "2026-11-20T23:59:60+00:00", "2026-11-20T00:59:60+01:00", "2026-11-20T15:04:60Z",
	"2026-11-20T15:04:12.5", "2026-11-20T15:04:12+0530", "2026-11-20T15:04:12+24:00", "2026-11-20T15:04:12+05:60",
	"2026-11-20T15:04:12*05:30", "2026-11-20T15:60:12Z", "2026-11-20T15:04:12ZZ", "2026-11-20T1a:04:12Z", "a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c3g", "maria@giia.example", "a@b",
	"not an email", "https://giia.example/x?y#z", "/relative", "mailto:a@b",
}

func TestFormatsMatchJSONSchema(t *testing.T) {
	for _, s := range formatSeeds {
		checkFormats(t, s)
	}
	assert.True(t, plainEmail("first.last+tag@sub-domain.example.com"))
	assert.False(t, plainEmail("a@x.-y"), "left to the full check, which accepts it")
	assert.True(t, IsEmail("a@x.-y"))
}

func checkFormats(t testing.TB, s string) {
	for name, f := range map[string]func(string) bool{"date-time": IsDateTime, "date": IsDate, "uuid": IsUUID, "email": IsEmail, "uri": IsURI} {
		if got, want := f(s), jsonschema.Formats[name](s); got != want {
			t.Errorf("%s(%q) = %v, jsonschema/v5 says %v", name, s, got, want)
		}
	}
}

func FuzzFormats(f *testing.F) {
	for _, s := range formatSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFormats(t, s) })
}

func TestValidTimeAndDate(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+30*60), time.FixedZone("y", -23*3600-59*60),
		time.FixedZone("z", 24*3600), time.FixedZone("w", -24*3600-60), time.FixedZone("s", 30)}
	for _, y := range []int{-1, 0, 1, 2026, 9999, 10000} {
		for _, loc := range zones {
			tm := time.Date(y, time.June, 1, 12, 0, 0, 5, loc)
			data, err := json.Marshal(tm)
			want := err == nil && IsDateTime(strings.Trim(string(data), `"`))
			assert.Equal(t, want, ValidTime(tm), "%v", tm)
		}
		for _, m := range []time.Month{1, 12, 13} {
			d := Date{Year: y, Month: m, Day: 31}
			assert.Equal(t, IsDate(d.String()), ValidDate(d), "%v", d)
		}
	}
}

func TestSeekReadsAValueAgain(t *testing.T) {
	var s JSONScanner
	s.Reset([]byte(` [true, "x"] `))
	start := s.Pos()
	require.Equal(t, JSONArray, s.Value())
	s.SkipContainer()
	end := s.Pos()
	s.Seek(start)
	require.Equal(t, JSONArray, s.Value())
	require.True(t, s.Element())
	require.Equal(t, JSONBool, s.Value())
	assert.True(t, s.Bool())
	var at *Path
	s.Fail(at, "first")
	s.SkipContainer()
	s.Seek(end)
	err := s.Finish("", nil)
	require.Error(t, err)
	assert.Equal(t, "payload: invalid payload: /: first", err.Error())
	assert.Equal(t, `[true,"x"]`, s.Canonical(0))
	s.Reset([]byte(`[1,`))
	s.Skip()
	assert.Equal(t, "", s.Canonical(0), "after a syntax error, nothing to compare")
}

func TestDuplicateItems(t *testing.T) {
	_, _, ok := DuplicateItems([]string{"a", "b"})
	assert.False(t, ok)
	i, j, ok := DuplicateItems([]int64{1, 2, 3, 2, 1})
	assert.True(t, ok)
	assert.Equal(t, [2]int{1, 3}, [2]int{i, j})
	long := make([]int, 30)
	for k := range long {
		long[k] = k
	}
	_, _, ok = DuplicateItems(long)
	assert.False(t, ok)
	long[29] = 7
	i, j, ok = DuplicateItems(long)
	assert.True(t, ok)
	assert.Equal(t, [2]int{7, 29}, [2]int{i, j})
	_, _, ok = DuplicateItems([]float64{0, math.Copysign(0, -1)})
	assert.True(t, ok, "0 and -0 are one JSON value")
}

var patternSeeds = [][2]string{
	{`^[A-Z0-9][A-Z0-9-]{2,39}$`, "BRG-6204-2RS"}, {`^[A-Z]{3}$`, "USD"}, {`^PO-[0-9]{4}-[0-9]{6}$`, "PO-2026-000142"},
	{`^[a-z][a-z0-9-]*$`, "ddmrp"}, {`^[a-z]*a$`, "banana"}, {`^a?b?c$`, "ac"}, {`^x{2,}$`, "xxx"}, {`^.{1,3}$`, "é\n"},
	{`^[^a]+$`, "\xffb"}, {`^(?i)abc$`, "ABC"}, {`^(ab)+$`, "abab"}, {`abc`, "xabcx"}, {`^$`, ""}, {`^\d+\.\d{2}$`, "12.50"},
	{`^[a-zé]{2}$`, "éé"}, {`\A[0-9]\z`, "7"}, {`^[a-z]{1,2}[a-z]$`, "abc"}, {`^a*b*$`, "aab"}, {`^[\x{1F600}-\x{1F64F}]$`, "😀"},
	{`^(?s:.)$`, "\n"}, {`^[[:alpha:]]+$`, "abc"}, {`^\p{Greek}+$`, "αβ"},
}

func TestPatternMatchesAsRegexp(t *testing.T) {
	for _, c := range patternSeeds {
		checkPattern(t, c[0], c[1])
	}
	assert.NotNil(t, MustPattern(`^[A-Z]{3}$`).items, "a simple pattern")
	assert.NotNil(t, MustPattern(`^PO-[0-9]{4}-[0-9]{6}$`).items)
	assert.NotNil(t, MustPattern(`^[A-Z0-9][A-Z0-9-]{2,39}$`).items)
	assert.Nil(t, MustPattern(`^[a-z]*a$`).items, "needs backtracking")
	assert.Nil(t, MustPattern(`abc`).items, "not anchored")
	assert.Equal(t, `^[A-Z]{3}$`, MustPattern(`^[A-Z]{3}$`).String())
	assert.Panics(t, func() { MustPattern(`(`) })
}

func checkPattern(t testing.TB, expr, s string) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return
	}
	p := MustPattern(expr)
	for _, in := range []string{s, "", s + s, s[:len(s)/2], strings.ToUpper(s), "x" + s, s + "\n"} {
		if got, want := p.MatchString(in), re.MatchString(in); got != want {
			t.Errorf("%q on %q: %v, regexp says %v", expr, in, got, want)
		}
	}
}

func FuzzPattern(f *testing.F) {
	for _, c := range patternSeeds {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, expr, s string) {
		if len(expr) > 64 {
			return
		}
		checkPattern(t, expr, s)
	})
}

func TestSpecialBytesFindsTheFirstByteThatIsNotPlain(t *testing.T) {
	first := func(w []byte) int {
		for i, c := range w {
			if !plainByte[c] {
				return i
			}
		}
		return 8
	}
	check := func(w []byte) {
		t.Helper()
		got := 8
		if m := specialBytes(binary.LittleEndian.Uint64(w)); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if want := first(w); got != want {
			t.Fatalf("%q: first special byte at %d, want %d", w, got, want)
		}
	}
	// Every byte at every place among plain bytes, and after every other
	// byte (a borrow from a lower byte must not hide or fake one).
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			check(w)
			for d := 0; d < 256 && pos < 7; d++ {
				w[pos+1] = byte(d)
				check(w)
			}
		}
	}
	check([]byte("\x00\x00\x00\x00\x00\x00\x00\x00"))
	check([]byte("\xff\xff\xff\xff\xff\xff\xff\xff"))
	check([]byte("        "))
}

func TestStringsLongerThanAWord(t *testing.T) {
	for _, in := range []string{
		`"abcdefghijklmnopqrstuvwxyz"`, `"abcdefgh\"ijkl"`, `"abcdefgh\\"`, "\"abcdefgh\x01ijkl\"", `"abcdefghé"`,
		"\"abcdefgh\xffijkl\"", `"abcdefgh`, `"abcdefg"`, `"abcdefgh"`, `"abcdefghi"`, `"abcdefghijklmno\u00e9pq"`,
		`{"abcdefghijkl":"mnopqrstuvwx","yz":"abcdefghijklmnopq"}`, `{ "abcdefghijkl" : "m" , "n":1}`,
	} {
		var want any
		err := json.Unmarshal([]byte(in), &want)
		assert.Equal(t, err == nil, scanAll([]byte(in)), "%q", in)
		if s, ok := want.(string); ok {
			var sc JSONScanner
			sc.Reset([]byte(in))
			require.Equal(t, JSONString, sc.Value(), "%q", in)
			assert.Equal(t, s, sc.Str(), "%q", in)
		}
	}
}

func TestPlainUUID(t *testing.T) {
	var s JSONScanner
	s.Reset([]byte(` ["a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c30", "A3E6C9F2-1B4D-4A87-9E5C-6D2F8B1A7C30","a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c3g", "\u0061"]`))
	require.Equal(t, JSONArray, s.Value())
	require.True(t, s.Element())
	require.True(t, s.PlainUUID())
	assert.Equal(t, JSONString, s.Kind())
	assert.Equal(t, "a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c30", s.Str())
	require.True(t, s.Element())
	require.True(t, s.PlainUUID(), "upper case hex digits are hex digits")
	require.True(t, s.Element())
	require.False(t, s.PlainUUID(), "not a UUID")
	require.Equal(t, JSONString, s.Value(), "PlainUUID read nothing")
	assert.Equal(t, "a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c3g", s.Str())
	require.True(t, s.Element())
	require.False(t, s.PlainUUID())
	s.Skip()
	require.False(t, s.Element())
	assert.NoError(t, s.Finish("", nil))

	for _, in := range []string{`"a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c30`, `"a3e6c9f2-1b4d-4a87-9e5c-6d2f8b1a7c3\u0030"`, `null`, ``} {
		s.Reset([]byte(in))
		assert.False(t, s.PlainUUID(), "%q", in)
		assert.Equal(t, 0, s.Pos(), "%q", in)
	}
	s.Reset([]byte(`[1,`))
	s.Skip()
	assert.False(t, s.PlainUUID(), "after a syntax error")
}

func TestNumberFastPaths(t *testing.T) {
	for _, lit := range []string{"0", "-0", "7", "-7", "123456789012345678", "-123456789012345678", "1234567890123456789",
		"0.0", "-0.0", "0e5", "-0e-5", "1.5", "-1.5", "1e2", "-1E2", "0.000001", "-0.000001", "100", "99"} {
		for _, b := range []string{"0", "1", "-1", "100", "1e2", "100.0", "123456789012345678", "1e18", "-5", "2.5"} {
			ra, rb := rat(t, lit), rat(t, b)
			assert.Equal(t, ra.Cmp(rb), CompareNumber([]byte(lit), MustNumber(b)), "compare %s %s", lit, b)
		}
		assert.Equal(t, rat(t, lit).IsInt(), IsInteger([]byte(lit)), "IsInteger(%s)", lit)
	}
	assert.True(t, MustNumber("1e2").isInt)
	assert.Equal(t, int64(100), MustNumber("1e2").value)
	assert.False(t, MustNumber("1e18").isInt)
	assert.False(t, MustNumber("0.5").isInt)
}

// skipBoth reads data's first value with SkipContainer, and again with
// skipSlow, and returns where each stopped and the syntax error each
// recorded.
func skipBoth(data []byte) (fast, slow string) {
	read := func(skip func(*JSONScanner)) string {
		var s JSONScanner
		s.Reset(data)
		if k := s.Value(); k == JSONObject || k == JSONArray {
			skip(&s)
		}
		return fmt.Sprintf("pos %d depth %d first %v failed %v: %s; end: %s", s.pos, s.depth, s.first, s.failed, s.errMsg, s.End())
	}
	return read((*JSONScanner).SkipContainer), read((*JSONScanner).skipSlow)
}

var skipSeeds = append([]string{
	`{"a":[1,{"b":"c"}],"d":{}}`, `[[],[[]],{"":""}]`, ` { "a" : [ 1 , 2.5e-3 , true , false , null ] } `,
	`{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":1 "b":2}`, `[1 2]`, `{"a":tru}`, `["\x"]`, `{"a\u12":1}`,
	`[-]`, `[01]`, `{"a":[}`, `{"a":{]}`, `[{"a":1]`, `{"a":1`, `[`, `{"a":"b`, "[\"\x01\"]",
	strings.Repeat("[", 70) + strings.Repeat("]", 70), strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70),
	strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
}, syntaxSeeds...)

// TestSkipContainerAsSlow: the one-loop skip stops where the reading by
// Member and Element stops, with the same syntax error.
func TestSkipContainerAsSlow(t *testing.T) {
	for _, in := range skipSeeds {
		fast, slow := skipBoth([]byte(in))
		assert.Equal(t, slow, fast, "%q", in)
	}
	// Part of the object read already: the rest is skipped as the rest.
	for _, in := range []string{`{"a":1,"b":[2]}`, `{"a":1 "b":2}`, `{"a":1,}`} {
		var fast, slow JSONScanner
		for _, s := range []*JSONScanner{&fast, &slow} {
			s.Reset([]byte(in))
			require.Equal(t, JSONObject, s.Value())
			require.True(t, s.Member())
			s.Skip()
		}
		fast.SkipContainer()
		slow.skipSlow()
		assert.Equal(t, slow.End(), fast.End(), in)
		assert.Equal(t, slow.pos, fast.pos, in)
	}
}

func FuzzSkipContainer(f *testing.F) {
	for _, s := range skipSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, slow := skipBoth(data)
		if fast != slow {
			t.Fatalf("%q: SkipContainer %s, skipSlow %s", data, fast, slow)
		}
	})
}
