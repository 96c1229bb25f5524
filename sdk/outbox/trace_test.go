package outbox_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
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

// TestTraceContextThroughTheOutbox: an event added to the outbox inside a
// span is published by the relay, later and from another goroutine, in
// that span's trace: the handler's span is its child. A row stored before
// the outbox kept headers (the column added by Migrate, NULL) goes without.
func TestTraceContextThroughTheOutbox(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
	tracer := tp.Tracer("bus-test")

	e := newEnv(t)
	db := openOutboxDB(t)
	// A table of the outbox as it was before it carried trace context.
	_, err := db.Exec(`CREATE TABLE giia_outbox (
	seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, subject TEXT NOT NULL, envelope BLOB NOT NULL,
	created_at INTEGER NOT NULL, sent_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)`)
	require.NoError(t, err)
	old := newOrder()
	body, err := json.Marshal(bus.Envelope{ID: uuid.New(), Subject: e.Cat.Subject("orders.created"), CorrelationID: "c",
		Timestamp: time.Now().UTC(), Source: "orders", Version: 2, Payload: mustJSON(t, old)})
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO giia_outbox (id, subject, envelope, created_at) VALUES (?, ?, ?, ?)`,
		uuid.NewString(), e.Cat.Subject("orders.created"), body, time.Now().UnixMilli())
	require.NoError(t, err)

	o, errs := newOutbox(t, e, db) // migrates: adds the headers column
	got := make(chan trace.SpanContext, 2)
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			_, span := tracer.Start(ctx, "handle "+ev.Payload.SKU)
			span.End()
			got <- span.SpanContext()
			return nil
		}),
	})
	pctx, parent := tracer.Start(ctx(t), "place order")
	placeOrder(t, pctx, db, o, e.Cat, false)
	parent.End()
	startRelay(t, o)
	require.NoError(t, o.Flush(ctx(t)))
	for range 2 {
		select {
		case <-got:
		case <-ctx(t).Done():
			t.Fatal("the handler never ran")
		}
	}
	var traced, untraced int
	for _, sp := range spans.Ended() {
		if sp.Name() != "handle "+old.SKU {
			continue
		}
		if sp.Parent().SpanID() == parent.SpanContext().SpanID() {
			traced++
			assert.Equal(t, parent.SpanContext().TraceID(), sp.SpanContext().TraceID())
		} else {
			untraced++
		}
	}
	assert.Equal(t, 1, traced, "the event added in the span is handled in its trace")
	assert.Equal(t, 1, untraced, "the row without headers is published without a trace context")
	assert.Zero(t, errs.len(), "%v", errs.all())
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

// TestNoPropagatorNoTraceHeaders: without a global propagator nothing is
// added to the message.
func TestNoPropagatorNoTraceHeaders(t *testing.T) {
	e := newEnv(t)
	_, err := e.Publisher(t, "orders").Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	msg := e.LastMsg(t, e.Cat.Subject("orders.created"))
	assert.Empty(t, nats.Header(msg.Header).Get("traceparent"))
}

// TestOutboxCorruptTraceHeaders: a row whose stored trace headers do not
// decode is still published, without them, and the error says which event.
func TestOutboxCorruptTraceHeaders(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, errs := newOutbox(t, e, db)
	id := placeOrder(t, ctx(t), db, o, e.Cat, false)[0]
	_, err := db.Exec(`UPDATE giia_outbox SET headers = 'not json' WHERE id = ?`, id.String())
	require.NoError(t, err)
	startRelay(t, o)
	require.NoError(t, o.Flush(ctx(t)))
	msg := e.LastMsg(t, e.Cat.Subject("orders.created"))
	assert.Equal(t, id.String(), msg.Header.Get(jetstream.MsgIDHeader))
	require.Equal(t, 1, errs.len())
	assert.Contains(t, errs.all()[0].Error(), "event "+id.String()+`: stored trace headers "not json"`)
}
