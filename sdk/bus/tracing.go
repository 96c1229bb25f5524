package bus

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// Trace context (W3C traceparent and tracestate) travels in NATS headers,
// from the context a publish is made with to the context its handlers
// run with, through OpenTelemetry's propagation API. The global
// propagator (otel.SetTextMapPropagator) decides what is carried; until
// one is set, OpenTelemetry's default propagator carries nothing, so a
// service that does not trace pays for no headers.

// headerCarrier adapts nats.Header to propagation.TextMapCarrier. NATS
// headers are case-sensitive; the keys are kept exactly as the propagator
// writes them ("traceparent"), as other NATS clients expect.
type headerCarrier nats.Header

func (c headerCarrier) Get(key string) string { return nats.Header(c).Get(key) }

func (c headerCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

var _ propagation.TextMapCarrier = headerCarrier(nil)

// injectTrace writes ctx's trace context into h.
func injectTrace(ctx context.Context, h nats.Header) {
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(h))
}

// extractTrace returns ctx carrying the trace context found in h, if any.
func extractTrace(ctx context.Context, h nats.Header) context.Context {
	if len(h) == 0 {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, headerCarrier(h))
}
