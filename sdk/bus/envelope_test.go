package bus_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/spec"
)

func TestEnvelopeSchemaMatchesFile(t *testing.T) {
	file, err := os.ReadFile("../../schemas/envelope.json")
	require.NoError(t, err)
	assert.Equal(t, string(file), spec.EnvelopeSchema, "sdk/bus/envelope_schema.go must be a byte-for-byte copy of schemas/envelope.json")
}

func TestCorrelationContext(t *testing.T) {
	_, _, ok := bus.CorrelationFrom(context.Background())
	assert.False(t, ok)
	org := uuid.New()
	c := bus.WithCorrelation(context.Background(), org, "req-1")
	gotOrg, gotCorr, ok := bus.CorrelationFrom(c)
	assert.True(t, ok)
	assert.Equal(t, org, gotOrg)
	assert.Equal(t, "req-1", gotCorr)
}
