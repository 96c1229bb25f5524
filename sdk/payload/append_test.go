package payload_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/payload"
)

// The helpers of the generated AppendJSON methods, each held to what
// encoding/json writes for the same value.

func TestAppendJSONFloatMatchesEncodingJSON(t *testing.T) {
	floats := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.1, 12.5, 1e-6, 9.999999e-7, 1e-7, 1.5e-10, 1e20, 1e21, 1.5e300,
		math.MaxFloat64, math.SmallestNonzeroFloat64, -1e-300, 123456789.123,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		f := math.Float64frombits(r.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			floats = append(floats, f)
		}
	}
	for _, f := range floats {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		got, err := payload.AppendJSONFloat([]byte("x"), f)
		require.NoError(t, err)
		if string(got) != "x"+string(want) {
			t.Fatalf("%v: got %s, want %s", f, got[1:], want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, jerr := json.Marshal(f)
		require.Error(t, jerr)
		got, err := payload.AppendJSONFloat([]byte("x"), f)
		assert.ErrorIs(t, err, payload.ErrUnsupportedValue)
		assert.Equal(t, "x", string(got), "nothing appended")
	}
}

func TestAppendJSONTimeMatchesEncodingJSON(t *testing.T) {
	times := []time.Time{
		{}, time.Date(2026, 11, 28, 1, 2, 3, 0, time.UTC), time.Date(2026, 11, 28, 1, 2, 3, 45600, time.FixedZone("", -(3*3600+30*60))),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, tm := range times {
		want, err := json.Marshal(tm)
		require.NoError(t, err)
		got, err := payload.AppendJSONTime([]byte("x"), tm)
		require.NoError(t, err)
		assert.Equal(t, "x"+string(want), string(got))
	}
	for _, tm := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600)),
	} {
		_, jerr := json.Marshal(tm)
		require.Error(t, jerr, tm)
		got, err := payload.AppendJSONTime([]byte("x"), tm)
		assert.ErrorIs(t, err, payload.ErrUnsupportedValue)
		assert.Equal(t, "x", string(got), "nothing appended")
	}
}

func TestAppendJSONScalarsMatchEncodingJSON(t *testing.T) {
	id := uuid.MustParse("8f14e45f-ceea-4e6b-9c1d-2a3b4c5d6e7f")
	d := payload.Date{Year: 2026, Month: time.December, Day: 1}
	for _, tt := range []struct {
		value any
		got   []byte
	}{
		{id, payload.AppendJSONUUID(nil, id)},
		{d, payload.AppendJSONDate(nil, d)},
		{"<a & \u2028 \xff>", payload.AppendJSONString(nil, "<a & \u2028 \xff>")},
	} {
		want, err := json.Marshal(tt.value)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(tt.got))
	}
}

func TestAppendJSONValueIsJSONMarshal(t *testing.T) {
	v := map[string]any{"b": []any{1.5, "<x>", nil}, "a": true}
	want, err := json.Marshal(v)
	require.NoError(t, err)
	got, err := payload.AppendJSONValue([]byte("x"), v)
	require.NoError(t, err)
	assert.Equal(t, "x"+string(want), string(got))

	got, err = payload.AppendJSONValue([]byte("x"), math.NaN())
	var unsupported *json.UnsupportedValueError
	assert.True(t, errors.As(err, &unsupported), "%v", err)
	assert.Equal(t, "x", string(got))
}
