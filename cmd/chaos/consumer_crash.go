package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

// runConsumerCrash: a backlog of purchase-order receipts waits for the
// ddmrp service, which runs as a process of its own; while it works
// through them it is killed with SIGKILL (mid-batch: its consumer
// delivers one event at a time, and there is always one in its handler
// or its ack), and started again on the same database. Each receipt adds
// one unit of its own product to ddmrp's on-hand stock, which is not
// idempotent: only the inbox, committing with the change, keeps a
// redelivered receipt from adding it twice. At the end every product must
// show exactly 1 on hand.
func runConsumerCrash(ctx context.Context, e *env, r *Result) error {
	total := e.size(3000, 300)
	kills := e.size(3, 1)

	b, err := newBroker(filepath.Join(e.dir, "nats"))
	if err != nil {
		return err
	}
	defer b.Shutdown()
	admin, err := connect(b.URL(), "chaos-admin")
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := bus.EnsureTopology(ctx, admin, events.Catalog); err != nil {
		return err
	}
	rd, err := newReader(b.URL())
	if err != nil {
		return err
	}
	defer rd.Close()

	// The backlog, published as the execution service would.
	pub, err := bus.NewPublisher(admin, events.Catalog, events.ServiceExecution)
	if err != nil {
		return err
	}
	org, location := uuid.New(), uuid.New()
	octx := bus.WithCorrelation(ctx, org, "chaos-consumer-crash")
	ids := newIDs(total)
	products := newIDs(total)
	for i, id := range ids {
		if _, err := pub.Publish(octx, events.SubjectExecutionPurchaseOrderReceived, receipt(products[i], location, i), bus.WithEventID(id)); err != nil {
			return err
		}
	}
	r.Published = total

	durable := spec.ConsumerName(events.ServiceDDMRP)
	consumerInfo := func() (*jetstream.ConsumerInfo, error) {
		c, err := rd.js.Consumer(ctx, events.Catalog.Stream.Name, durable)
		if err != nil {
			return nil, err
		}
		return c.Info(ctx)
	}
	dbPath := filepath.Join(e.dir, "ddmrp.db")
	proc, err := startChild(ctx, e, events.ServiceDDMRP, b.URL(), dbPath, 0)
	if err != nil {
		return err
	}
	defer func() { proc.Kill() }()
	inFlight := 0
	var left []string       // receipts not yet delivered at each kill
	var restarted time.Time // the last restart: the end of the fault
	for k := 1; k <= kills; k++ {
		// Kill once the consumer has been handed its share of the batch
		// (the ack floor would lag: the event in flight at the last kill
		// waits for its ack wait to be redelivered).
		at := uint64(k * total / (kills + 1))
		var info *jetstream.ConsumerInfo
		if err := pollFor(ctx, time.Minute, fmt.Sprintf("ddmrp to be handed %d receipts", at), func() (bool, error) {
			var err error
			info, err = consumerInfo()
			return err == nil && info.Delivered.Stream >= at, err
		}); err != nil {
			return err
		}
		proc.Kill()
		e.log.Info("killed ddmrp", "delivered", info.Delivered.Stream, "ack_pending", info.NumAckPending, "pending", info.NumPending)
		inFlight += info.NumAckPending
		left = append(left, fmt.Sprint(info.NumPending))
		restarted = time.Now()
		if proc, err = startChild(ctx, e, events.ServiceDDMRP, b.URL(), dbPath, k); err != nil {
			return err
		}
	}
	drainErr := pollFor(ctx, time.Minute, "ddmrp to handle the whole batch", func() (bool, error) {
		info, err := consumerInfo()
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream >= uint64(total), err
	})
	r.Drain = time.Since(restarted)
	info, infoErr := consumerInfo()
	stopErr := proc.Stop()

	msgs, readErr := readStream(ctx, rd.js, events.Catalog.Stream.Name)
	stored := idCounts(msgs)
	inbox, inboxErr := readInbox(ctx, dbPath, events.ServiceDDMRP)
	onHand, stockErr := readOnHand(ctx, dbPath, "stock", org)
	for _, id := range ids {
		if stored[id] > 0 {
			r.Stored++
		}
	}
	// The state decides: 1 on hand is a receipt applied once, 0 (or no
	// row) one lost, 2 one applied twice.
	inconsistent := 0
	for i, p := range products {
		q := onHand[position{p, location}]
		switch {
		case q < 1:
			r.Lost++
		default:
			r.Applied++
			r.DuplicatesApplied += int(q) - 1
		}
		if (q >= 1) != inbox[ids[i]] {
			inconsistent++ // state and inbox record must commit together
		}
	}
	r.Add("kills", kills)
	r.Add("in_flight_at_kills", inFlight)
	r.Add("undelivered_at_kills", strings.Join(left, ","))
	if info != nil {
		r.Add("deliveries", info.Delivered.Consumer)
		r.Add("redeliveries", int(info.Delivered.Consumer)-total)
	}
	r.Add("inbox_records", len(inbox))
	r.Add("state_inbox_mismatches", inconsistent)
	r.Check(inconsistent == 0, "%d receipts whose state and inbox record disagree", inconsistent)
	r.Check(len(msgs) == total, "stream holds %d messages, want %d", len(msgs), total)
	return errors.Join(drainErr, infoErr, stopErr, readErr, inboxErr, stockErr)
}

// receipt is a purchase order receipt of one unit of product.
func receipt(product, location uuid.UUID, n int) events.PurchaseOrderReceived {
	return events.PurchaseOrderReceived{
		PurchaseOrderID: uuid.New(),
		OrderNumber:     fmt.Sprintf("PO-2026-%06d", n+1),
		ReceiptID:       uuid.New(),
		LocationID:      location,
		Lines: []events.PurchaseOrderReceiptLine{{
			LineNumber:          1,
			Product:             events.ProductRef{ProductID: product, SKU: fmt.Sprintf("CHAOS-%06d", n)},
			QuantityReceived:    events.Quantity{Value: 1, Unit: events.UnitEA},
			QuantityOutstanding: events.Quantity{Value: 0, Unit: events.UnitEA},
		}},
		FullyReceived: true,
		ReceivedAt:    time.Now().UTC(),
	}
}
