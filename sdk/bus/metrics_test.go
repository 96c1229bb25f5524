package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// metricsReader sets a MeterProvider with a manual reader as the global
// one for the test, and returns a function collecting its series by name.
func metricsReader(t *testing.T) func() map[string]metricdata.Aggregation {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	return func() map[string]metricdata.Aggregation {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm))
		out := map[string]metricdata.Aggregation{}
		for _, sm := range rm.ScopeMetrics {
			if sm.Scope.Name != InstrumentationName {
				continue
			}
			for _, m := range sm.Metrics {
				out[m.Name] = m.Data
			}
		}
		return out
	}
}

// sum is the value of the counter's point whose attributes include want.
func sum(t *testing.T, data metricdata.Aggregation, want ...attribute.KeyValue) int64 {
	t.Helper()
	s, ok := data.(metricdata.Sum[int64])
	require.True(t, ok, "%T is not an int64 sum", data)
	var total int64
	for _, p := range s.DataPoints {
		if hasAll(p.Attributes, want) {
			total += p.Value
		}
	}
	return total
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func TestMetricsOffUntilAProviderIsSet(t *testing.T) {
	ctx := context.Background()
	var c *Conn // no provider of its own: the global one's
	var sets sync.Map
	assert.True(t, c.publishStart(ctx).IsZero(), "no provider: the clock is not even read")
	assert.True(t, c.consumeStart(ctx, &sets, "a.b", "g", 1).IsZero())
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		c.published(ctx, &sets, "a.b", c.publishStart(ctx), nil)
	}), "a measurement without a provider allocates nothing")
}

func TestMetricsRecorded(t *testing.T) {
	collect := metricsReader(t)
	ctx := context.Background()
	var c *Conn // no provider of its own: the global one's

	var sets sync.Map
	c.published(ctx, &sets, "execution.order.created", c.publishStart(ctx), nil)
	c.published(ctx, &sets, "execution.order.created", c.publishStart(ctx), nil)
	c.published(ctx, &sets, "execution.order.created", c.publishStart(ctx), fmt.Errorf("nats: %w", ErrPermissionDenied))

	const subj, durable = "execution.order.created", "ddmrp-service"
	c.processed(ctx, &sets, subj, durable, c.consumeStart(ctx, &sets, subj, durable, 1), nil)
	c.processed(ctx, &sets, subj, durable, c.consumeStart(ctx, &sets, subj, durable, 2), errors.New("boom"))
	c.deadLettered(ctx, "execution.order.created", "ddmrp-service", "invalid payload")

	stop := c.observeConsumers(map[string]consumerInfo{
		"ddmrp-service": func(context.Context) (int64, int64, error) { return 7, 2, nil },
		"broken":        func(context.Context) (int64, int64, error) { return 0, 0, errors.New("no server") },
	})
	got := collect()
	stop()

	subject := attribute.String(attrDestination, "execution.order.created")
	group := attribute.String(attrConsumerGroup, "ddmrp-service")
	assert.EqualValues(t, 2, sum(t, got["messaging.client.sent.messages"], subject, attribute.String("messaging.system", "nats")))
	ops, ok := got["messaging.client.operation.duration"].(metricdata.Histogram[float64])
	require.True(t, ok)
	var failed, all uint64
	for _, p := range ops.DataPoints {
		all += p.Count
		if v, ok := p.Attributes.Value(attrErrorType); ok && v.AsString() == "permission_denied" {
			failed += p.Count
		}
	}
	assert.EqualValues(t, 3, all)
	assert.EqualValues(t, 1, failed)

	assert.EqualValues(t, 2, sum(t, got["messaging.client.consumed.messages"], subject, group))
	assert.EqualValues(t, 1, sum(t, got[MetricRedeliveries], subject, group))
	assert.EqualValues(t, 1, sum(t, got[MetricDeadLetters], subject, group, attribute.String(AttrDeadLetterReason, "invalid payload")))
	proc, ok := got["messaging.process.duration"].(metricdata.Histogram[float64])
	require.True(t, ok)
	var errored uint64
	for _, p := range proc.DataPoints {
		if v, ok := p.Attributes.Value(attrErrorType); ok && v.AsString() == "_OTHER" {
			errored += p.Count
		}
	}
	assert.EqualValues(t, 1, errored)

	pending, ok := got[MetricConsumerPending].(metricdata.Gauge[int64])
	require.True(t, ok)
	require.Len(t, pending.DataPoints, 1, "the consumer whose poll failed reports nothing")
	assert.EqualValues(t, 7, pending.DataPoints[0].Value)
	ackPending, ok := got[MetricConsumerAckPending].(metricdata.Gauge[int64])
	require.True(t, ok)
	assert.EqualValues(t, 2, ackPending.DataPoints[0].Value)

	_, ok = collect()[MetricConsumerPending]
	assert.False(t, ok, "stopped: no more polls")
}

func TestDeadLetterKind(t *testing.T) {
	for reason, want := range map[string]string{
		"bus: unknown event version: version 3 of \"a.b\" is not one the catalog keeps (1, 2)": "unknown_version",
		"bus: unknown subject: \"a.b\" is not an event \"ddmrp\" consumes":                     "unknown_subject",
		"permanent: payload: invalid payload for \"a.b\": /x: required":                        "invalid_payload",
		"bus: invalid message: envelope subject \"a\" sent on \"b\"":                           "invalid_message",
		"delivery 9 is past MaxDeliver 8":                                                      "max_deliver",
		"handler failed on delivery 8 of 8: bus: handler panicked: boom [main.f x.go:1]":       "handler_panic",
		"permanent: no such warehouse":                                                         "permanent",
		"handler failed on delivery 8 of 8: timeout":                                           "handler_failed",
		"something new": "other",
	} {
		assert.Equal(t, want, deadLetterKind(reason), reason)
	}
}

func TestConnMeterProvider(t *testing.T) {
	global := metricsReader(t)
	_, err := Connect("nats://127.0.0.1:4222", WithMeterProvider(nil))
	require.ErrorIs(t, err, ErrInvalidOption)

	reader := sdkmetric.NewManualReader()
	var o connectOptions
	require.NoError(t, WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))(&o))
	c := &Conn{metrics: newInstruments(o.meterProvider)}
	ctx := context.Background()
	var sets sync.Map
	c.published(ctx, &sets, "execution.order.created", c.publishStart(ctx), nil)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	names := map[string]bool{}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		names[m.Name] = true
	}
	assert.True(t, names["messaging.client.sent.messages"], "the connection's provider has the publish: %v", names)
	assert.NotContains(t, global(), "messaging.client.sent.messages", "the global provider has nothing of it")
}
