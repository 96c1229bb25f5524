package bus

import (
	"context"
)

// eventContext is the context a handler runs with: the event's
// correlation (what WithCorrelation would add) and its Metadata
// (MetadataFrom), in one allocation instead of a value context and a
// boxed value each: the consumer makes one for every handler call.
type eventContext struct {
	context.Context
	md Metadata
}

// metadataKey is the key of a handled event's Metadata.
type metadataKey struct{}

func withEvent(parent context.Context, md *Metadata) context.Context {
	return &eventContext{Context: parent, md: *md}
}

func (c *eventContext) Value(key any) any {
	switch key.(type) {
	case correlationKey:
		return correlation{c.md.OrganizationID, c.md.CorrelationID}
	case metadataKey:
		return c.md
	}
	return c.Context.Value(key)
}

func (c *eventContext) String() string { return "bus.eventContext" }

// MetadataFrom returns the Metadata of the event whose handler runs with
// ctx (or a context made from it), for example for a log line to name the
// event; ok is false outside a handler.
func MetadataFrom(ctx context.Context) (md Metadata, ok bool) {
	md, ok = ctx.Value(metadataKey{}).(Metadata)
	return md, ok
}
