package bus

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecodeEnvelopeShared: the consumer's decoding, whose strings share
// the message's data, gives what decodeEnvelope gives on every seed, and
// leaves data as it was; on a valid envelope it allocates nothing.
func TestDecodeEnvelopeShared(t *testing.T) {
	for name, seed := range envelopeSeeds() {
		data := []byte(seed)
		before := bytes.Clone(data)
		want, wantErr := decodeEnvelope(data)
		var got Envelope
		err := decodeEnvelopeShared(&got, data)
		assert.Equal(t, before, data, name)
		if wantErr != nil {
			assert.EqualError(t, err, wantErr.Error(), name)
			continue
		}
		require.NoError(t, err, name)
		assert.Equal(t, *want, got, name)
	}
	valid := envelopeJSONForTest(t)
	var env Envelope
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = decodeEnvelopeShared(&env, valid) }))
}

func envelopeJSONForTest(t *testing.T) []byte {
	t.Helper()
	data := []byte(`{"id":"5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93","subject":"execution.purchase_order.created",` +
		`"correlation_id":"req-42","organization_id":"0d6c1f9e-2b3a-4c5d-8e7f-9a0b1c2d3e4f",` +
		`"timestamp":"2026-10-02T11:20:00Z","source":"execution","version":1,"payload":{"a":1}}`)
	_, err := decodeEnvelope(data)
	require.NoError(t, err)
	return data
}
