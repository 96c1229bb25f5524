package bus_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	e.consume(t, "stock", []bus.Route{
		bus.NewRoute(e.cat.subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			_, span := tracer.Start(ctx, "handle order")
			span.End() // ended before the test reads the recorder
			got <- span.SpanContext()
			return nil
		}),
	})

	pctx, parent := tracer.Start(ctx(t), "create order")
	_, err := e.publisher(t, "orders").Publish(pctx, e.cat.subject("orders.created"), newOrder())
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
	msg := lastMsg(t, e, e.cat.subject("orders.created"))
	assert.Contains(t, msg.Header.Get("traceparent"), parent.SpanContext().TraceID().String())
}

// TestNoPropagatorNoTraceHeaders: without a global propagator nothing is
// added to the message.
func TestNoPropagatorNoTraceHeaders(t *testing.T) {
	e := newEnv(t)
	_, err := e.publisher(t, "orders").Publish(ctx(t), e.cat.subject("orders.created"), newOrder())
	require.NoError(t, err)
	msg := lastMsg(t, e, e.cat.subject("orders.created"))
	assert.Empty(t, nats.Header(msg.Header).Get("traceparent"))
}

func lastMsg(t *testing.T, e *env, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	stream, err := e.conn.JetStream().Stream(ctx(t), e.cat.Stream.Name)
	require.NoError(t, err)
	msg, err := stream.GetLastMsgForSubject(ctx(t), subject)
	require.NoError(t, err)
	return msg
}
