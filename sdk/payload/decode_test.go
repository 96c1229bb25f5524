package payload_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/payload"
)

func TestParseInt64(t *testing.T) {
	for lit, want := range map[string]int64{
		"12": 12, "12.0": 12, "1.2e1": 12, "120e-1": 12, "-0": 0, "0.0e5": 0, "1E2": 100,
		"9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63, "9.223372036854775807e18": 1<<63 - 1,
	} {
		got, err := payload.ParseInt64([]byte(lit))
		require.NoError(t, err, lit)
		assert.Equal(t, want, got, lit)
	}
	for _, lit := range []string{"9223372036854775808", "-9223372036854775809", "1e19", "1e400", "-1e30"} {
		_, err := payload.ParseInt64([]byte(lit))
		assert.ErrorIs(t, err, payload.ErrUnrepresentable, lit)
	}
	_, err := payload.ParseInt64([]byte("1.5"))
	assert.Error(t, err)
	assert.False(t, errors.Is(err, payload.ErrUnrepresentable))
}

func TestParseDateTime(t *testing.T) {
	for str, want := range map[string]time.Time{
		"2026-01-02T03:04:05Z":               time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"2026-01-02t03:04:05z":               time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"2026-01-02T03:04:05-00:00":          time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"2026-01-02T03:04:05.1234567891234Z": time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		"1998-12-31T23:59:60Z":               time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
		"1998-12-31T15:59:60.5-08:00":        time.Date(1999, 1, 1, 0, 0, 0, 5e8, time.UTC),
		"2026-01-02T03:04:05+23:59":          time.Date(2026, 1, 1, 3, 5, 5, 0, time.UTC),
	} {
		got, err := payload.ParseDateTime(str)
		require.NoError(t, err, str)
		assert.True(t, want.Equal(got), "%s: %v, want %v", str, got, want)
		enc, err := payload.AppendJSONTime(nil, got)
		require.NoError(t, err, str)
		assert.True(t, payload.IsDateTime(string(enc[1:len(enc)-1])), "%s encodes as %s", str, enc)
	}
	_, err := payload.ParseDateTime("2026-01-02T03:04:60Z")
	assert.Error(t, err)
}

func TestDecodeAnyAndContainers(t *testing.T) {
	var s payload.JSONScanner
	s.Reset([]byte(`{"a": [1.50, "x\u00e9", null, true, {"b": {}}], "a": [12.0]}`))
	var v any
	require.NoError(t, payload.DecodeAny(&v, &s))
	require.NoError(t, payload.DecodeEnd(&s))
	assert.Equal(t, map[string]any{"a": []any{"12.0"[:4]}}, map[string]any{"a": []any{string(v.(map[string]any)["a"].([]any)[0].(interface{ String() string }).String())}})

	s.Reset([]byte(`[[1, 2.0e0], null, []]`))
	var xs [][]int64
	require.NoError(t, payload.DecodeSlice(&xs, &s, func(p *[]int64, s *payload.JSONScanner) error {
		return payload.DecodeSlice(p, s, payload.DecodeInt64)
	}))
	assert.Equal(t, [][]int64{{1, 2}, nil, {}}, xs)

	s.Reset([]byte(`{"k": [1, 1e30]}`))
	var m map[string][]int64
	err := payload.DecodeMap(&m, &s, func(p *[]int64, s *payload.JSONScanner) error {
		return payload.DecodeSlice(p, s, payload.DecodeInt64)
	})
	var de *payload.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "/k/1", de.Pointer)
	assert.ErrorIs(t, err, payload.ErrUnrepresentable)
}

func TestWithoutRepeatedKeys(t *testing.T) {
	plain := []byte(`{"a":1,"b":[{"c":"x"}]}`)
	got := payload.WithoutRepeatedKeys(plain)
	assert.Equal(t, string(plain), string(got))
	assert.Same(t, &plain[0], &got[0], "returned as it is")

	for in, want := range map[string]string{
		`{"x":{"a":1,"opt":"y"},"x":{"a":2}}`:         `{"x":{"a":2}}`,
		`{"x":1,"y":true,"x":"s"}`:                    `{"x":"s","y":true}`,
		` [ {"k":null, "k" : [1, 2.5e3, "\u00e9"]} ]`: `[{"k":[1,2.5e3,"\u00e9"]}]`,
		`{"o":{"i":{"z":1,"z":2}},"p":0}`:             `{"o":{"i":{"z":2}},"p":0}`,
		`{"a\"b":1,"a\"b":2}`:                         `{"a\"b":2}`,
	} {
		assert.Equal(t, want, string(payload.WithoutRepeatedKeys([]byte(in))), in)
	}
}

// TestDecodeUUID reads UUIDs in every form uuid.Parse takes to the value
// uuid.Parse gives, the 8-4-4-4-12 form through the table, and refuses
// what uuid.Parse refuses.
func TestDecodeUUID(t *testing.T) {
	for _, str := range []string{
		"47e2c8b5-3a9d-4f16-b7e0-8d1c5a6f2e93", "47E2C8B5-3A9D-4F16-B7E0-8D1C5A6F2E93",
		"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		"urn:uuid:47e2c8b5-3a9d-4f16-b7e0-8d1c5a6f2e93", "{47e2c8b5-3a9d-4f16-b7e0-8d1c5a6f2e93}",
		"47e2c8b53a9d4f16b7e08d1c5a6f2e93",
	} {
		var got uuid.UUID
		s := &payload.JSONScanner{}
		s.Reset([]byte(`"` + str + `"`))
		require.NoError(t, payload.DecodeUUID(&got, s), str)
		assert.Equal(t, uuid.MustParse(str), got, str)
	}
	for _, str := range []string{"47e2c8b5-3a9d-4f16-b7e0-8d1c5a6f2e9g", "47e2c8b5-3a9d-4f16-b7e0_8d1c5a6f2e93", "", "47e2c8b5"} {
		var got uuid.UUID
		s := &payload.JSONScanner{}
		s.Reset([]byte(`"` + str + `"`))
		var de *payload.DecodeError
		assert.ErrorAs(t, payload.DecodeUUID(&got, s), &de, str)
	}
}

// TestDecodeEnum stores a value of the enum as its constant (no
// allocation), any other string, escaped or not, as DecodeString would,
// null as "", and refuses a value that is no string.
func TestDecodeEnum(t *testing.T) {
	type unit string
	const each, box unit = "EA", "BOX"
	decode := func(doc string) (unit, error) {
		var got unit
		s := &payload.JSONScanner{}
		s.Reset([]byte(doc))
		return got, payload.DecodeEnum(&got, s, each, box)
	}
	for doc, want := range map[string]unit{`"EA"`: each, `"BOX"`: box, `"\u0045A"`: each, `"KG"`: "KG", `null`: ""} {
		got, err := decode(doc)
		require.NoError(t, err, doc)
		assert.Equal(t, want, got, doc)
	}
	_, err := decode(`12`)
	var de *payload.DecodeError
	assert.ErrorAs(t, err, &de)
	data := []byte(`"BOX"`)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		var got unit
		s := &payload.JSONScanner{}
		s.Reset(data)
		_ = payload.DecodeEnum(&got, s, each, box)
	}))
}
