package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/internal/backoff"
	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
)

// publishUntilAcked publishes payload as event id until the stream
// acknowledges it, however many attempts that takes within ctx: the
// publisher retries transient failures itself, and a failure after its
// retries is retried here with the same id, so that the stream stores the
// event once, after a wait from 20ms doubling up to 500ms with equal
// jitter (the many publishers of a run do not retry in step). A payload or
// permission error returns at once.
func publishUntilAcked(ctx context.Context, pub *bus.Publisher, subject string, payload any, id uuid.UUID, retries *atomic.Int64) (*bus.PublishAck, error) {
	retry := backoff.New(backoff.Policy{First: 20 * time.Millisecond, Max: 500 * time.Millisecond})
	for {
		ack, err := pub.Publish(ctx, subject, payload, bus.WithEventID(id))
		if err == nil {
			return ack, nil
		}
		if !errors.Is(err, bus.ErrPublishFailed) || errors.Is(err, bus.ErrPermissionDenied) || ctx.Err() != nil {
			return nil, err
		}
		retries.Add(1)
		t := time.NewTimer(retry.Next())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// stockEvent returns a valid execution.inventory.updated payload: the
// n-th movement of one product at one location.
func stockEvent(product, location uuid.UUID, n int) events.InventoryUpdated {
	return events.InventoryUpdated{
		MovementID: uuid.New(),
		Product:    events.ProductRef{ProductID: product, SKU: "CHAOS-1"},
		LocationID: location,
		OnHand:     events.Quantity{Value: float64(n), Unit: events.UnitEA},
		Delta:      1,
		Reason:     events.InventoryUpdatedReasonAdjustment,
		UpdatedAt:  time.Now().UTC(),
	}
}

// newIDs returns n fresh event ids.
func newIDs(n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
	}
	return ids
}

// idSet returns ids as a set.
func idSet(ids ...[]uuid.UUID) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for _, l := range ids {
		for _, id := range l {
			out[id] = true
		}
	}
	return out
}

// limiter hands out rate tokens a second to the goroutines that call
// take, until ctx ends. Tokens not taken are kept up to half a second's
// worth, so that a short stall of the callers is made up for afterwards.
type limiter struct {
	tokens chan struct{}
}

func newLimiter(ctx context.Context, rate int) *limiter {
	l := &limiter{tokens: make(chan struct{}, max(rate/2, 1))}
	go func() {
		// Tokens are handed out in small batches every 5ms, so that a
		// rate above what a ticker can tick still holds.
		const tick = 5 * time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		start := time.Now()
		given := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			due := int(time.Since(start).Seconds() * float64(rate))
			for given < due {
				select {
				case l.tokens <- struct{}{}:
					given++
				case <-ctx.Done():
					return
				default:
					given = due // half a second behind: drop the rest
				}
			}
		}
	}()
	return l
}

// take waits for a token; false when ctx ended.
func (l *limiter) take(ctx context.Context) bool {
	select {
	case <-l.tokens:
		return true
	case <-ctx.Done():
		return false
	}
}
