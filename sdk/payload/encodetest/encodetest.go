// Package encodetest holds the generated payload types' AppendJSON to
// encoding/json: for a value, and for random values of its type,
// AppendJSON must write exactly the bytes json.Marshal writes, and fail
// exactly when it fails. Only tests import it.
package encodetest

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/payload"
)

// T is the part of testing.TB the checks use.
type T interface {
	Helper()
	Errorf(format string, args ...any)
}

// Appender is a value that encodes itself, as every generated payload
// type does (payload.Payload).
type Appender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

// Check compares v.AppendJSON with json.Marshal(v), and reports a
// difference as an error of t. It returns whether they agreed.
func Check(t T, v Appender) bool {
	t.Helper()
	want, werr := json.Marshal(v)
	prefix := []byte("prefix:") // AppendJSON appends; it must keep what dst holds
	got, gerr := v.AppendJSON(bytes.Clone(prefix))
	switch {
	case werr != nil && gerr == nil:
		t.Errorf("%T: json.Marshal fails (%v), AppendJSON writes %s", v, werr, got)
		return false
	case werr == nil && gerr != nil:
		t.Errorf("%T: AppendJSON fails (%v), json.Marshal writes %s", v, gerr, want)
		return false
	case werr != nil:
		return true
	case !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want):
		t.Errorf("%T: AppendJSON writes\n%s\njson.Marshal writes\n%s", v, got, want)
		return false
	}
	return true
}

// CheckRandom runs Check on n random values of v's type, drawn from seed:
// strings with HTML characters, control characters, U+2028 and invalid
// UTF-8; numbers at the edges of encoding/json's formats, NaN and the
// infinities; times in odd zones and out of range; nil, empty and full
// pointers, slices, maps and untyped values. It returns how many agreed.
func CheckRandom(t T, v Appender, n int, seed uint64) int {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	typ := reflect.TypeOf(v)
	agreed := 0
	for range n {
		rv := reflect.New(typ).Elem()
		fill(r, rv, 0)
		if Check(t, rv.Interface().(Appender)) {
			agreed++
		}
	}
	return agreed
}

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
	dateType = reflect.TypeFor[payload.Date]()
)

// strings are the interesting strings; random ones are added to them.
var oddStrings = []string{
	"", "a", "EA", "<script>&amp;</script>", "\"quoted\" \\ back", "line\nbreak\ttab\r\b\f",
	"\x00\x01\x1f\x7f", "\u2028\u2029", "caf\u00e9 \u4e2d\u6587 \U0001F600", "\xff\xfe", "a\xc3", "\xed\xa0\x80",
}

func randomString(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return oddStrings[r.IntN(len(oddStrings))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

// floats are the edges of encoding/json's float format: the switch to
// exponent form below 1e-6 and from 1e21, negative zero, the extremes.
var floats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 12.5, 1e-6, 9.999999e-7, 1e-7, 1e20, 1e21, 123456789e15,
	math.MaxFloat64, math.SmallestNonzeroFloat64, -1e-300, 5e-324, 1e100, math.NaN(), math.Inf(1), math.Inf(-1),
}

func randomFloat(r *rand.Rand) float64 {
	switch r.IntN(3) {
	case 0:
		return floats[r.IntN(len(floats))]
	case 1:
		return math.Float64frombits(r.Uint64()) // now and then NaN or infinite
	}
	return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(40)-20))
}

func randomTime(r *rand.Rand) time.Time {
	zones := []*time.Location{
		time.UTC, time.FixedZone("", 0), time.FixedZone("", -(3*3600 + 30*60)), time.FixedZone("", 14*3600),
		time.FixedZone("", 25*3600), // a day or more: time refuses to encode it
	}
	switch r.IntN(8) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // year out of range
	case 2:
		return time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)
	}
	sec := r.Int64N(253402300799) // up to 9999-12-31
	return time.Unix(sec, r.Int64N(2)*r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
}

// fill sets rv, of any type the generator emits, to a random value.
func fill(r *rand.Rand, rv reflect.Value, depth int) {
	switch rv.Type() {
	case timeType:
		rv.Set(reflect.ValueOf(randomTime(r)))
		return
	case uuidType:
		var id uuid.UUID
		for i := range id {
			id[i] = byte(r.IntN(256))
		}
		rv.Set(reflect.ValueOf(id))
		return
	case dateType:
		rv.Set(reflect.ValueOf(payload.Date{Year: r.IntN(10000), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(28)}))
		return
	}
	switch rv.Kind() {
	case reflect.String:
		rv.SetString(randomString(r))
	case reflect.Int64:
		ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, r.Int64(), r.Int64N(1000)}
		rv.SetInt(ints[r.IntN(len(ints))])
	case reflect.Float64:
		rv.SetFloat(randomFloat(r))
	case reflect.Bool:
		rv.SetBool(r.IntN(2) == 0)
	case reflect.Pointer:
		if r.IntN(4) > 0 {
			rv.Set(reflect.New(rv.Type().Elem()))
			fill(r, rv.Elem(), depth+1)
		}
	case reflect.Slice:
		switch n := r.IntN(5); {
		case n == 0: // nil
		case n == 1 || depth > 4:
			rv.Set(reflect.MakeSlice(rv.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(rv.Type(), n-1, n-1)
			for i := range n - 1 {
				fill(r, s.Index(i), depth+1)
			}
			rv.Set(s)
		}
	case reflect.Map:
		switch n := r.IntN(5); {
		case n == 0:
		case n == 1 || depth > 4:
			rv.Set(reflect.MakeMap(rv.Type()))
		default:
			m := reflect.MakeMap(rv.Type())
			for range n - 1 {
				e := reflect.New(rv.Type().Elem()).Elem()
				fill(r, e, depth+1)
				m.SetMapIndex(reflect.ValueOf(randomString(r)).Convert(rv.Type().Key()), e)
			}
			rv.Set(m)
		}
	case reflect.Interface:
		if v := randomAny(r, depth); v != nil {
			rv.Set(reflect.ValueOf(v))
		}
	case reflect.Struct:
		for i := range rv.NumField() {
			if rv.Type().Field(i).IsExported() {
				fill(r, rv.Field(i), depth+1)
			}
		}
	}
}

// randomAny returns a value of what json.Unmarshal puts in an any.
func randomAny(r *rand.Rand, depth int) any {
	if depth > 4 {
		return nil
	}
	switch r.IntN(7) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randomFloat(r)
	case 3:
		return randomString(r)
	case 4:
		a := make([]any, r.IntN(3))
		for i := range a {
			a[i] = randomAny(r, depth+1)
		}
		return a
	case 5:
		m := map[string]any{}
		for range r.IntN(3) {
			m[randomString(r)] = randomAny(r, depth+1)
		}
		return m
	}
	return json.Number("12.50")
}
