package bus

import (
	"context"

	"github.com/google/uuid"
)

// eventContext is what WithCorrelation returns, in one allocation instead
// of two (the value context and the boxed correlation): the consumer
// makes one for every handler call.
type eventContext struct {
	context.Context
	c correlation
}

func withEventCorrelation(parent context.Context, organizationID uuid.UUID, correlationID string) context.Context {
	return &eventContext{Context: parent, c: correlation{organizationID, correlationID}}
}

func (c *eventContext) Value(key any) any {
	if _, ok := key.(correlationKey); ok {
		return c.c
	}
	return c.Context.Value(key)
}

func (c *eventContext) String() string { return "bus.eventContext" }
