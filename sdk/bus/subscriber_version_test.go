package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
)

// orderCreatedV1 is the first version of orders.created in these tests:
// the quantity was a string.
type orderCreatedV1 struct {
	OrderID  uuid.UUID `json:"order_id"`
	SKU      string    `json:"sku"`
	Quantity string    `json:"quantity"`
}

const orderCreatedV1Schema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["order_id", "sku", "quantity"],
  "properties": {
    "order_id": {"type": "string", "format": "uuid"},
    "sku": {"type": "string", "minLength": 1},
    "quantity": {"type": "string", "pattern": "^[1-9][0-9]*$"}
  }
}`

// withVersion1 gives orders.created of cat an older version 1.
func withVersion1(t *testing.T, cat *spec.Catalog, subject string) {
	t.Helper()
	ev, ok := cat.Event(subject)
	require.True(t, ok)
	s, err := payload.CompileSchema("schemas/orders/order_created.v1.json", map[string]string{"schemas/orders/order_created.v1.json": orderCreatedV1Schema})
	require.NoError(t, err)
	ev.Older = []spec.EventVersion{{Version: 1, Schema: orderCreatedV1Schema, ValidateJSON: s.ValidateJSON}}
}

// decodeOrder decodes either version into the current type, as a
// generated decoder with an upcaster does.
func decodeOrder(version int, data []byte) (orderCreated, error) {
	switch version {
	case 2:
		var v orderCreated
		return v, json.Unmarshal(data, &v)
	case 1:
		var v1 orderCreatedV1
		if err := json.Unmarshal(data, &v1); err != nil {
			return orderCreated{}, err
		}
		q, err := strconv.ParseInt(v1.Quantity, 10, 64)
		return orderCreated{OrderID: v1.OrderID, SKU: v1.SKU, Quantity: q}, err
	}
	return orderCreated{}, errors.New("unknown version " + strconv.Itoa(version))
}

func TestConsumeDispatchesOnVersion(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	withVersion1(t, e.Cat.Catalog, subject)
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewDecodedRoute(subject, rec.Handler, decodeOrder)}, bus.WithErrorHandler(rec.OnError))

	id := uuid.New()
	publishRaw(t, e, subject, envelopeJSON(t, subject, orderCreatedV1{OrderID: id, SKU: "A", Quantity: "7"}, func(m map[string]any) { m["version"] = 1 }))
	// Valid under version 2, not under version 1: checked by its own version's schema.
	publishRaw(t, e, subject, envelopeJSON(t, subject, newOrder(), func(m map[string]any) { m["version"] = 1 }))
	current := newOrder()
	_, err := e.Publisher(t, "orders").Publish(ctx(t), subject, current)
	require.NoError(t, err)

	eventually(t, func() bool { return len(rec.Got()) == 2 }, "both valid events applied")
	got := rec.Got()
	assert.Equal(t, 1, got[0].Version, "Metadata says the version it was published as")
	assert.Equal(t, orderCreated{OrderID: id, SKU: "A", Quantity: 7}, got[0].Payload, "upcast")
	assert.Equal(t, 2, got[1].Version)
	assert.Equal(t, current.OrderID, got[1].Payload.OrderID)
	dl := e.DeadLetters(t, 1)[0]
	assert.Contains(t, dl.Header.Get(bus.HeaderDeadLetterReason), "/quantity")
}

func TestConsumeDeadLettersVersionsNotKept(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	ev, _ := e.Cat.Event(subject)
	ev.Version = 3
	ev.Older = []spec.EventVersion{{Version: 2, ValidateJSON: ev.ValidateJSON}}
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(subject, rec.Handler)}, bus.WithErrorHandler(rec.OnError))
	publishRaw(t, e, subject, envelopeJSON(t, subject, newOrder(), func(m map[string]any) { m["version"] = 1 }))
	dl := e.DeadLetters(t, 1)[0]
	assert.Contains(t, dl.Header.Get(bus.HeaderDeadLetterReason), "version 1 of")
	assert.Contains(t, dl.Header.Get(bus.HeaderDeadLetterReason), "is not one the catalog keeps (2, 3)")
	assert.Empty(t, rec.Got())
}

// TestConsumeWaitsForAnUpgrade: an event of a version the consumer does
// not know yet is redelivered with a growing delay, each wait reported,
// and dead-lettered once the patience is over, with a reason that says
// what to do.
func TestConsumeWaitsForAnUpgrade(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(subject, rec.Handler)},
		bus.WithErrorHandler(rec.OnError), bus.WithVersionPatience(400*time.Millisecond))
	publishRaw(t, e, subject, envelopeJSON(t, subject, newOrder(), func(m map[string]any) { m["version"] = 3 }))

	dl := e.DeadLetters(t, 1)[0]
	reason := dl.Header.Get(bus.HeaderDeadLetterReason)
	assert.Contains(t, reason, "is version 3, newer than \"stock\" knows (2)")
	assert.Contains(t, reason, "upgrade the consumer, then replay this dead letter")
	delivered, err := strconv.Atoi(dl.Header.Get(bus.HeaderDeliveryCount))
	require.NoError(t, err)
	assert.Greater(t, delivered, 2, "redelivered while it waited")
	waits := 0
	for _, err := range rec.Errors() {
		if errors.Is(err, bus.ErrUnknownVersion) {
			waits++
			assert.Contains(t, err.Error(), "waiting for an upgrade")
		}
	}
	assert.Equal(t, delivered-1, waits, "each wait is reported")
	assert.Empty(t, rec.Got())
}

// TestUpgradedConsumerAppliesWhatWaited: a consumer built for version 2
// leaves a version 3 event waiting; its replacement, built for version 3,
// applies it, although the event was delivered more often than
// MaxDeliver while it waited; nothing is dead-lettered.
func TestUpgradedConsumerAppliesWhatWaited(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	var waits atomic.Int32
	old := e.Consume(t, "stock", []bus.Route{bus.NewRoute(subject, func(context.Context, bus.Event[orderCreated]) error {
		return errors.New("the old build must not handle it")
	})}, bus.WithMaxDeliver(1), bus.WithVersionPatience(time.Hour), bus.WithErrorHandler(func(err error) {
		if errors.Is(err, bus.ErrUnknownVersion) {
			waits.Add(1)
		}
	}))
	order := newOrder()
	publishRaw(t, e, subject, envelopeJSON(t, subject, order, func(m map[string]any) { m["version"] = 3 }))
	eventually(t, func() bool { return waits.Load() >= 3 }, "three waits")
	require.NoError(t, old.Stop(ctx(t)))

	// The new build's catalog: version 3 is current, 2 is kept.
	upgraded := *e.Cat.Catalog
	upgraded.Events = append([]spec.Event(nil), e.Cat.Events...)
	for i := range upgraded.Events {
		if upgraded.Events[i].Subject == subject {
			ev := &upgraded.Events[i]
			ev.Older = []spec.EventVersion{{Version: ev.Version, ValidateJSON: ev.ValidateJSON}}
			ev.Version = 3
		}
	}
	var rec recorder[orderCreated]
	failOnce := atomic.Bool{}
	sub, err := bus.Consume(ctx(t), e.Conn, &upgraded, "stock", []bus.Route{bus.NewRoute(subject, func(ctx context.Context, ev bus.Event[orderCreated]) error {
		if !failOnce.Swap(true) {
			return errors.New("a transient failure still gets a retry")
		}
		return rec.Handler(ctx, ev)
	})}, bus.WithMaxDeliver(2), bus.WithNakDelay(func(uint64) time.Duration { return 10 * time.Millisecond }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Stop(context.Background()) })
	eventually(t, func() bool { return len(rec.Got()) == 1 }, "applied by the upgraded consumer")
	assert.Equal(t, 3, rec.Got()[0].Version)
	assert.Equal(t, order.OrderID, rec.Got()[0].Payload.OrderID)
	assert.Greater(t, rec.Got()[0].Delivered, uint64(2), "it waited")
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.DeadLetterStream), "nothing dead-lettered")
}

func TestDecodedRouteErrors(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	_, err := bus.Consume(ctx(t), e.Conn, e.Cat.Catalog, "stock", []bus.Route{bus.NewDecodedRoute[orderCreated](subject, func(context.Context, bus.Event[orderCreated]) error { return nil }, nil)})
	assert.ErrorIs(t, err, bus.ErrInvalidRoute)
	assert.ErrorContains(t, err, "nil decoder")

	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewDecodedRoute(subject, rec.Handler, func(int, []byte) (orderCreated, error) {
		return orderCreated{}, errors.New("upcaster refused")
	})}, bus.WithErrorHandler(rec.OnError))
	_, err = e.Publisher(t, "orders").Publish(ctx(t), subject, newOrder())
	require.NoError(t, err)
	dl := e.DeadLetters(t, 1)[0]
	reason := dl.Header.Get(bus.HeaderDeadLetterReason)
	assert.True(t, strings.Contains(reason, "decode version 2") && strings.Contains(reason, "upcaster refused"), reason)

	_, err = bus.Consume(ctx(t), e.Conn, e.Cat.Catalog, "stock", nil, bus.WithVersionPatience(-time.Second))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
}

// TestVersionWaitSpansThePatience: the waits double, and the deliveries
// the server keeps for them span the patience window.
func TestVersionWaitSpansThePatience(t *testing.T) {
	var total time.Duration
	prev := time.Duration(0)
	for d := uint64(1); d <= spec.VersionWaitDeliveries; d++ {
		w := bus.VersionWait(d, time.Hour)
		assert.Greater(t, w, prev, "delivery %d", d)
		prev = w
		total += w
	}
	assert.InDelta(t, float64(time.Hour), float64(total), float64(time.Second))
	assert.Equal(t, 10*time.Millisecond, bus.VersionWait(1, 0), "a floor")
}

// TestReplayAfterUpgrade: an event dead-lettered after the patience, its
// version unknown, is applied once replayed to a consumer that knows it.
func TestReplayAfterUpgrade(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	old := e.Consume(t, "stock", []bus.Route{bus.NewRoute(subject, func(context.Context, bus.Event[orderCreated]) error {
		return errors.New("the old build must not handle it")
	})}, bus.WithVersionPatience(100*time.Millisecond), bus.WithErrorHandler(func(error) {}))
	order := newOrder()
	publishRaw(t, e, subject, envelopeJSON(t, subject, order, func(m map[string]any) { m["version"] = 3 }))
	dl := e.DeadLetters(t, 1)[0]
	require.NoError(t, old.Stop(ctx(t)))

	upgraded := *e.Cat.Catalog
	upgraded.Events = append([]spec.Event(nil), e.Cat.Events...)
	for i := range upgraded.Events {
		if ev := &upgraded.Events[i]; ev.Subject == subject {
			ev.Older = []spec.EventVersion{{Version: ev.Version, ValidateJSON: ev.ValidateJSON}}
			ev.Version = 3
		}
	}
	var rec recorder[orderCreated]
	sub, err := bus.Consume(ctx(t), e.Conn, &upgraded, "stock", []bus.Route{bus.NewRoute(subject, rec.Handler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Stop(context.Background()) })
	require.NoError(t, bus.ReplayDeadLetter(ctx(t), e.Conn, &upgraded, dl.Sequence))
	eventually(t, func() bool { return len(rec.Got()) == 1 }, "the replayed event applied")
	assert.Equal(t, 3, rec.Got()[0].Version)
	assert.Equal(t, order.OrderID, rec.Got()[0].Payload.OrderID)
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.DeadLetterStream), "the dead letter is gone")
}
