package bus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/giia/events/sdk/bus"
)

// telemetry sets a MeterProvider with a manual reader and a
// TracerProvider with a span recorder as the global ones for the test.
func telemetry(t *testing.T) (*sdkmetric.ManualReader, *tracetest.SpanRecorder) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	prevM, prevT := otel.GetMeterProvider(), otel.GetTracerProvider()
	otel.SetMeterProvider(mp)
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetMeterProvider(prevM)
		otel.SetTracerProvider(prevT)
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	return reader, spans
}

// counter sums the points of the SDK's counter name whose attributes
// include want.
func counter(t *testing.T, reader *sdkmetric.ManualReader, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sm.Scope.Name != bus.InstrumentationName || m.Name != name {
				continue
			}
			s, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is a %T", name, m.Data)
		points:
			for _, p := range s.DataPoints {
				for _, kv := range want {
					if v, ok := p.Attributes.Value(kv.Key); !ok || v != kv.Value {
						continue points
					}
				}
				total += p.Value
			}
		}
	}
	return total
}

// TestPublishTelemetry: with a MeterProvider and a TracerProvider set,
// each publish, synchronous or not, counts a message sent on its subject
// and ends a "send" span of kind producer, whose context is the one the
// message carries.
func TestPublishTelemetry(t *testing.T) {
	reader, spans := telemetry(t)
	e := newEnv(t)
	p := e.Publisher(t, "orders")
	subject := e.Cat.Subject("orders.created")

	ack, err := p.Publish(ctx(t), subject, newOrder())
	require.NoError(t, err)
	f, err := p.PublishAsync(ctx(t), subject, newOrder())
	require.NoError(t, err)
	_, err = f.Wait(ctx(t))
	require.NoError(t, err)

	assert.EqualValues(t, 2, counter(t, reader, "messaging.client.sent.messages",
		attribute.String("messaging.system", "nats"), attribute.String("messaging.destination.name", subject)))

	var sends []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "send "+subject {
			sends = append(sends, s)
		}
	}
	require.Len(t, sends, 2)
	assert.Equal(t, trace.SpanKindProducer, sends[0].SpanKind())
	assert.Contains(t, sends[0].Attributes(), attribute.String("messaging.message.id", ack.ID.String()))
}

// TestConsumeTelemetry: each delivery handed to a handler counts a
// consumed message and ends a "process" span of kind consumer, a child of
// the publisher's send span; a handler's Permanent error counts a dead
// letter by its reason's class; the durable's pending and ack-pending
// counts are polled at each collection.
func TestConsumeTelemetry(t *testing.T) {
	reader, spans := telemetry(t)
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	handled := make(chan struct{}, 2)
	var calls atomic.Int32
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(subject, func(ctx context.Context, ev bus.Event[orderCreated]) error {
			defer func() { handled <- struct{}{} }()
			if calls.Add(1) == 2 {
				return bus.Permanent(errors.New("no such warehouse"))
			}
			return nil
		}),
	})
	p := e.Publisher(t, "orders")
	for range 2 {
		_, err := p.Publish(ctx(t), subject, newOrder())
		require.NoError(t, err)
		select {
		case <-handled:
		case <-ctx(t).Done():
			t.Fatal("the handler never ran")
		}
	}
	dest := attribute.String("messaging.destination.name", subject)
	eventually(t, func() bool {
		return counter(t, reader, bus.MetricDeadLetters, dest, attribute.String(bus.AttrDeadLetterReason, "permanent")) == 1
	}, "the dead letter is counted")
	assert.EqualValues(t, 2, counter(t, reader, "messaging.client.consumed.messages", dest,
		attribute.String("messaging.consumer.group.name", e.Durable(t, "stock", subject))))

	var sends, processes []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		switch s.Name() {
		case "send " + subject:
			sends = append(sends, s)
		case "process " + subject:
			processes = append(processes, s)
		}
	}
	require.Len(t, processes, 2)
	require.Len(t, sends, 2)
	failed := 0
	for _, p := range processes { // in the order they ended, which two workers may swap
		assert.Equal(t, trace.SpanKindConsumer, p.SpanKind())
		if p.Status().Code == codes.Error {
			failed++
		}
	}
	assert.Equal(t, 1, failed, "the Permanent error is the status of its process span")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var gauges []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == bus.MetricConsumerPending || m.Name == bus.MetricConsumerAckPending {
				gauges = append(gauges, m.Name)
			}
		}
	}
	assert.ElementsMatch(t, []string{bus.MetricConsumerPending, bus.MetricConsumerAckPending}, gauges)
}
