package bus_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/giia/events/sdk/bus"
)

// TestTraceContextReachesTheHandler: with a global propagator set, a span
// started before a publish is the parent of the span the handler starts,
// and the W3C traceparent header is on the message.
func TestTraceContextReachesTheHandler(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
	tracer := tp.Tracer("bus-test")

	e := newEnv(t)
	got := make(chan trace.SpanContext, 1)
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			_, span := tracer.Start(ctx, "handle order")
			span.End() // ended before the test reads the recorder
			got <- span.SpanContext()
			return nil
		}),
	})

	pctx, parent := tracer.Start(ctx(t), "create order")
	_, err := e.Publisher(t, "orders").Publish(pctx, e.Cat.Subject("orders.created"), newOrder())
	parent.End()
	require.NoError(t, err)

	var handled trace.SpanContext
	select {
	case handled = <-got:
	case <-ctx(t).Done():
		t.Fatal("the handler never ran")
	}
	assert.Equal(t, parent.SpanContext().TraceID(), handled.TraceID(), "one trace from publish to handler")

	var child sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "handle order" {
			child = s
		}
	}
	require.NotNil(t, child)
	assert.Equal(t, parent.SpanContext().SpanID(), child.Parent().SpanID(), "the publisher's span is the handler span's parent")
	assert.True(t, child.Parent().IsRemote())

	// The header on the wire is the W3C one, with its lower-case name.
	msg := e.LastMsg(t, e.Cat.Subject("orders.created"))
	assert.Contains(t, msg.Header.Get("traceparent"), parent.SpanContext().TraceID().String())
}
