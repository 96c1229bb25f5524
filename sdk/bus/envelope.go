package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
	"github.com/google/uuid"
)

// Envelope is what travels on the wire: the event's payload wrapped with
// its identity and provenance. Its JSON form is checked against
// spec.EnvelopeSchema (schemas/envelope.json) by every consumer.
type Envelope struct {
	ID             uuid.UUID       `json:"id"`
	Subject        string          `json:"subject"`
	CorrelationID  string          `json:"correlation_id"`
	OrganizationID uuid.UUID       `json:"organization_id"`
	Timestamp      time.Time       `json:"timestamp"` // RFC 3339 UTC
	Source         string          `json:"source"`
	Version        int             `json:"version"`
	Payload        json.RawMessage `json:"payload"`
}

// maxCorrelationID is the longest correlation id the envelope schema takes.
const maxCorrelationID = 128

var envelopeSchema = payload.MustCompileSchema("schemas/envelope.json", map[string]string{
	"schemas/envelope.json": spec.EnvelopeSchema,
})

func joinReasons(rs []string) string {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r)
	}
	return b.String()
}

type correlationKey struct{}

type correlation struct {
	organizationID uuid.UUID
	correlationID  string
}

// WithCorrelation returns a context carrying the organization and the
// correlation id of the request or event being handled. Events published
// with that context inherit them. Consumers hand their handlers such a
// context, so a chain of reactions keeps one correlation id.
func WithCorrelation(ctx context.Context, organizationID uuid.UUID, correlationID string) context.Context {
	return context.WithValue(ctx, correlationKey{}, correlation{organizationID, correlationID})
}

// CorrelationFrom returns what WithCorrelation put in ctx; ok is false
// when it holds nothing.
func CorrelationFrom(ctx context.Context) (organizationID uuid.UUID, correlationID string, ok bool) {
	c, ok := ctx.Value(correlationKey{}).(correlation)
	return c.organizationID, c.correlationID, ok
}
