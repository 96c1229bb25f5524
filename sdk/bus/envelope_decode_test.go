package bus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecodeEnvelopeSaysWhatIsWrong: each refusal names the member and
// what was wanted.
func TestDecodeEnvelopeSaysWhatIsWrong(t *testing.T) {
	seeds := envelopeSeeds()
	for name, want := range map[string]string{
		"id_braces":         `/id: "{5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93}" is not a UUID`,
		"id_missing":        `missing properties: "id"`,
		"id_number":         `/id: must be a string, not number`,
		"subject_wildcard":  `/subject: "execution.>" is not a subject`,
		"correlation_empty": `/correlation_id: length 0, want 1 to 128 characters`,
		"timestamp_space":   `/timestamp: "2026-10-02 11:20:00Z" is not an RFC 3339 date-time`,
		"source_bad":        `/source: "Execution_1" is not a service name`,
		"version_zero":      `/version: must be >= 1, not 0`,
		"version_float":     `/version: 1.0 is not an integer of Go's int`,
		"version_string":    `/version: must be an integer, not string`,
		"payload_array":     `/payload: must be an object, not array`,
		"extra_field":       `/extra: unknown member (the envelope has "id", "subject"`,
		"dup_id":            `/id: repeated member`,
		"trailing":          `not valid JSON: invalid character '{' after top-level value`,
		"array":             `envelope: must be an object, not array`,
		"empty":             `not valid JSON: unexpected end of JSON input`,
	} {
		_, err := decodeEnvelope([]byte(seeds[name]))
		require.ErrorIs(t, err, ErrInvalidMessage, name)
		assert.Contains(t, err.Error(), want, name)
	}
}
