package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
)

// Connection settings of every client of the suite: reconnect quickly
// and forever, so that recovery time measures the system, not a wait.
const reconnectWait = 50 * time.Millisecond

// ackWait of the suite's consumers: a delivery whose ack was lost in a
// fault comes back after 2s rather than the default 30s.
const ackWait = 2 * time.Second

func connect(url, name string) (*bus.Conn, error) {
	c, err := bus.Connect(url, bus.WithName(name), bus.WithReconnect(-1, reconnectWait))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", name, err)
	}
	return c, nil
}

// reader is a plain nats.go client, outside the SDK, that reads streams
// and consumer states.
type reader struct {
	nc *nats.Conn
	js jetstream.JetStream
}

func newReader(url string) (*reader, error) {
	nc, err := nats.Connect(url, nats.Name("chaos-reader"), nats.MaxReconnects(-1), nats.ReconnectWait(reconnectWait))
	if err != nil {
		return nil, fmt.Errorf("reader: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reader: %w", err)
	}
	return &reader{nc: nc, js: js}, nil
}

func (r *reader) Close() { r.nc.Close() }

// errorCounter counts a subscription's non-fatal errors and logs them.
type errorCounter struct {
	n   atomic.Int64
	log *slog.Logger
}

func (c *errorCounter) handle(err error) {
	c.n.Add(1)
	c.log.Info("consumer error", "err", err)
}

func (c *errorCounter) Count() int { return int(c.n.Load()) }

// applyWith returns a handler that applies each event through led.
func applyWith[T any](led *ledger) bus.Handler[T] {
	return func(ctx context.Context, ev bus.Event[T]) error { return led.Apply(ctx, ev.Metadata) }
}

// consumeStock starts the consumer of the external service ai-hub on
// conn, applying every event it consumes through led; fail, when not nil,
// may make the handler of execution.inventory.updated fail first.
func consumeStock(ctx context.Context, conn *bus.Conn, led *ledger, errs *errorCounter, fail func(bus.Event[events.InventoryUpdated]) error, opts ...bus.ConsumerOption) (*bus.Subscription, error) {
	h := events.AIHubHandlers{
		BufferAlertTriggered: applyWith[events.BufferAlertTriggered](led),
		BufferCalculated:     applyWith[events.BufferCalculated](led),
		BufferStatusChanged:  applyWith[events.BufferStatusChanged](led),
		InventoryUpdated: func(ctx context.Context, ev bus.Event[events.InventoryUpdated]) error {
			if fail != nil {
				if err := fail(ev); err != nil {
					return err
				}
			}
			return led.Apply(ctx, ev.Metadata)
		},
	}
	opts = append([]bus.ConsumerOption{bus.WithMaxInFlight(32), bus.WithAckWait(ackWait), bus.WithErrorHandler(errs.handle)}, opts...)
	sub, err := events.ConsumeAIHub(ctx, conn, h, opts...)
	if err != nil {
		return nil, fmt.Errorf("consume as ai-hub: %w", err)
	}
	return sub, nil
}

// consumeOrders starts the consumer of the external service analytics on
// conn, applying every event it consumes through led.
func consumeOrders(ctx context.Context, conn *bus.Conn, led *ledger, errs *errorCounter) (*bus.Subscription, error) {
	h := events.AnalyticsHandlers{
		BufferCalculated:      applyWith[events.BufferCalculated](led),
		BufferStatusChanged:   applyWith[events.BufferStatusChanged](led),
		PurchaseOrderCreated:  applyWith[events.PurchaseOrderCreated](led),
		PurchaseOrderReceived: applyWith[events.PurchaseOrderReceived](led),
		SalesOrderCreated:     applyWith[events.SalesOrderCreated](led),
		SalesOrderShipped:     applyWith[events.SalesOrderShipped](led),
	}
	sub, err := events.ConsumeAnalytics(ctx, conn, h, bus.WithMaxInFlight(32), bus.WithAckWait(ackWait), bus.WithErrorHandler(errs.handle))
	if err != nil {
		return nil, fmt.Errorf("consume as analytics: %w", err)
	}
	return sub, nil
}

// stopSub stops a subscription, waiting at most 10s.
func stopSub(sub *bus.Subscription) error {
	if sub == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return sub.Stop(ctx)
}
