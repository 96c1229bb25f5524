package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/services/sqlitedb"
)

// drainOutbox measures how fast an outbox's relay publishes a backlog of
// outboxN events left by an outage: the events are committed (100 per
// transaction, as a service would during the outage) while no relay
// runs; the clock runs from the relay's start until every row is
// acknowledged and marked sent. Median of the rounds.
func (b *bench) drainOutbox(ctx context.Context) error {
	db, err := sqlitedb.Open(ctx, filepath.Join(b.dir, "outbox.db"), "SELECT 1")
	if err != nil {
		return err
	}
	defer db.Close()
	pub, err := bus.NewPublisher(b.conn, events.Catalog, events.ServiceExecution)
	if err != nil {
		return err
	}
	var rates []float64
	for r := range b.rounds {
		out, err := outbox.New(db, pub, outbox.WithTable(fmt.Sprintf("bench_outbox_%d", r)))
		if err != nil {
			return err
		}
		if err := out.Migrate(ctx); err != nil {
			return err
		}
		if err := b.fillOutbox(ctx, out, db); err != nil {
			return err
		}
		before, err := b.streamMsgs(ctx)
		if err != nil {
			return err
		}
		runtime.GC()
		start := time.Now()
		if err := out.Start(); err != nil {
			return err
		}
		err = out.Flush(ctx)
		elapsed := time.Since(start)
		if stopErr := out.Stop(ctx); err == nil {
			err = stopErr
		}
		if err != nil {
			return err
		}
		after, err := b.streamMsgs(ctx)
		if err != nil {
			return err
		}
		if got := after - before; got != uint64(b.outboxN) {
			return fmt.Errorf("the relay stored %d events, want %d", got, b.outboxN)
		}
		rate := float64(b.outboxN) / elapsed.Seconds()
		rates = append(rates, rate)
		fmt.Fprintf(b.log, "  round %d: %d events in %v, %.0f/s\n", r+1, b.outboxN, elapsed, rate)
		if err := b.purge(ctx); err != nil {
			return err
		}
	}
	b.printf("outbox_drain_per_s", "%.0f", median(rates))
	return nil
}

// fillOutbox commits outboxN purchase orders into out, 100 per
// transaction.
func (b *bench) fillOutbox(ctx context.Context, out *outbox.Outbox, db *sql.DB) error {
	const perTx = 100
	for done := 0; done < b.outboxN; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for i := 0; i < perTx && done < b.outboxN; i++ {
			if _, err := out.Add(ctx, tx, events.SubjectExecutionPurchaseOrderCreated, b.po); err != nil {
				_ = tx.Rollback()
				return err
			}
			done++
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// streamMsgs returns how many messages the events stream holds.
func (b *bench) streamMsgs(ctx context.Context) (uint64, error) {
	s, err := b.js.Stream(ctx, events.Catalog.Stream.Name)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}
