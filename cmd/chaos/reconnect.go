package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

// runReconnect is Watermill's reconnect test on the SDK: many publishers,
// each a bus.Publisher on its own connection publishing its own event
// ids, while the broker is stopped and restarted on its store twice. Every
// event must arrive at the consumer, whose inbox applies it once however
// often it is delivered.
func runReconnect(ctx context.Context, e *env, r *Result) error {
	total := e.size(10000, 500)
	publishers := e.size(100, 25)
	down := e.dur(time.Second, 300*time.Millisecond)
	const restarts = 2

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

	led, err := openLedger(ctx, filepath.Join(e.dir, "ai-hub.db"), events.ServiceAIHub)
	if err != nil {
		return err
	}
	defer led.Close()
	cconn, err := connect(b.URL(), "chaos-ai-hub")
	if err != nil {
		return err
	}
	defer cconn.Close()
	errs := &errorCounter{log: e.log}
	sub, err := consumeStock(ctx, cconn, led, errs, nil)
	if err != nil {
		return err
	}
	defer stopSub(sub)

	// Each publisher owns a slice of the ids.
	ids := newIDs(total)
	expected := idSet(ids)
	product, location := uuid.New(), uuid.New()
	pubs := make([]*bus.Publisher, publishers)
	for i := range pubs {
		c, err := connect(b.URL(), fmt.Sprintf("chaos-publisher-%d", i))
		if err != nil {
			return err
		}
		defer c.Close()
		if pubs[i], err = bus.NewPublisher(c, events.Catalog, events.ServiceExecution,
			bus.WithRetry(5, 20*time.Millisecond), bus.WithPublishTimeout(time.Second)); err != nil {
			return err
		}
	}

	pctx, cancel := context.WithTimeout(ctx, e.dur(2*time.Minute, 45*time.Second))
	defer cancel()
	var acked, retries, dupAcks atomic.Int64
	var restarted atomic.Int64
	faults := make(chan error, 1)
	go func() {
		// Restart when a third, then two thirds, of the events are in:
		// both restarts fall in the middle of the run.
		for k := 1; k <= restarts; k++ {
			at := int64(k * total / (restarts + 1))
			if err := poll(pctx, fmt.Sprintf("%d acknowledged events", at), func() (bool, error) { return acked.Load() >= at, nil }); err != nil {
				faults <- err
				return
			}
			e.log.Info("restarting the broker", "acked", acked.Load())
			b.Shutdown()
			time.Sleep(down) // the outage itself
			if err := b.Start(); err != nil {
				faults <- err
				return
			}
			restarted.Add(1)
		}
		faults <- nil
	}()

	start := time.Now()
	var wg sync.WaitGroup
	pubErrs := make([]error, publishers)
	per := (total + publishers - 1) / publishers
	for w := range publishers {
		lo, hi := w*per, min((w+1)*per, total)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ack, err := publishUntilAcked(pctx, pubs[w], events.SubjectExecutionInventoryUpdated, stockEvent(product, location, i), ids[i], &retries)
				if err != nil {
					pubErrs[w] = fmt.Errorf("publisher %d, event %d: %w", w, i, err)
					return
				}
				if ack.Duplicate {
					dupAcks.Add(1)
				}
				acked.Add(1)
			}
		}()
	}
	wg.Wait()
	published := time.Now()
	if errors.Join(pubErrs...) != nil {
		cancel() // the restarts wait for progress that will not come
	}
	faultErr := <-faults
	e.log.Info("published", "events", acked.Load(), "in", published.Sub(start))

	drainErr := pollFor(ctx, e.dur(time.Minute, 30*time.Second), "the consumer to apply every event", func() (bool, error) {
		if n := led.Applied(); n < total {
			return false, fmt.Errorf("%d of %d events applied", n, total)
		}
		return consumerIdle(ctx, rd.js, events.Catalog.Stream.Name, spec.ConsumerName(events.ServiceAIHub))
	})
	r.Drain = time.Since(published)
	stopErr := stopSub(sub)

	msgs, readErr := readStream(ctx, rd.js, events.Catalog.Stream.Name)
	stored := idCounts(msgs)
	apps, appsErr := led.Applications(ctx)
	t := tallyApplications(expected, apps)
	storedTwice := 0
	for id := range expected {
		if stored[id] > 0 {
			r.Stored++
			storedTwice += stored[id] - 1
		}
	}
	r.Published = int(acked.Load())
	r.Applied = t.applied
	r.Lost = t.lost
	r.DuplicatesApplied = t.duplicates
	r.Add("publishers", publishers)
	r.Add("restarts", restarted.Load())
	r.Add("outage_ms", down)
	r.Add("publish_seconds", published.Sub(start).Seconds())
	r.Add("publish_retries", retries.Load())
	r.Add("duplicate_acks", dupAcks.Load())
	r.Add("stored_twice", storedTwice)
	r.Add("duplicates_delivered", led.Redeliveries())
	r.Add("max_apply_gap_ms", led.MaxGap(start, published))
	r.Add("consumer_errors", errs.Count())
	r.Check(r.Published == total, "%d of %d events acknowledged", r.Published, total)
	r.Check(restarted.Load() == restarts, "broker restarted %d times, want %d", restarted.Load(), restarts)
	r.Check(storedTwice == 0, "%d events stored twice in the stream", storedTwice)
	r.Check(len(msgs) == total, "stream holds %d messages, want %d", len(msgs), total)
	r.Check(t.unexpected == 0, "%d applications of unknown events", t.unexpected)
	return errors.Join(errors.Join(pubErrs...), faultErr, drainErr, stopErr, readErr, appsErr)
}
