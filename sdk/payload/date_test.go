package payload_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/payload"
)

func TestDate(t *testing.T) {
	d, err := payload.ParseDate("2026-11-27")
	require.NoError(t, err)
	assert.Equal(t, payload.Date{Year: 2026, Month: time.November, Day: 27}, d)
	assert.Equal(t, "2026-11-27", d.String())
	assert.Equal(t, d, payload.DateOf(time.Date(2026, 11, 27, 23, 59, 0, 0, time.FixedZone("X", -3600))))
	assert.Equal(t, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), d.In(time.UTC))
	assert.False(t, d.IsZero())
	assert.True(t, payload.Date{}.IsZero())
	next := d.AddDays(5)
	assert.Equal(t, "2026-12-02", next.String())
	assert.True(t, d.Before(next))
	assert.True(t, next.After(d))
	assert.False(t, d.After(next))

	_, err = payload.ParseDate("27/11/2026")
	assert.ErrorContains(t, err, "YYYY-MM-DD")

	type holder struct {
		D payload.Date `json:"d"`
	}
	b, err := json.Marshal(holder{D: d})
	require.NoError(t, err)
	assert.JSONEq(t, `{"d":"2026-11-27"}`, string(b))
	var h holder
	require.NoError(t, json.Unmarshal(b, &h))
	assert.Equal(t, d, h.D)
	assert.Error(t, json.Unmarshal([]byte(`{"d":"2026-02-30"}`), &h))
}

func TestSchemaHelpers(t *testing.T) {
	s := payload.MustCompileSchema("schemas/x.json", map[string]string{"schemas/x.json": `{"type":"object","required":["a","b"]}`})
	assert.Equal(t, "schemas/x.json", s.Path())
	err := s.ValidateJSON([]byte(`{}`))
	var ve *payload.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, payload.ErrInvalidPayload)
	assert.Panics(t, func() { payload.MustCompileSchema("schemas/y.json", nil) })
}
