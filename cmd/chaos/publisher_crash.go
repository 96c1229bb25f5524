package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
	ddmrpapp "github.com/giia/events/services/ddmrp/app"
)

// runPublisherCrash: the execution service runs as a process of its own
// and takes inventory adjustments over HTTP; each commits the change and
// its execution.inventory.updated event to the service's outbox, which a
// relay publishes. The process is killed with SIGKILL between the commit
// and the relay's ack, in two ways: with NATS stopped (every event
// committed, none published; the requests still succeed), and right after
// a burst of requests with NATS up (the relay behind, or ahead of
// marking what the stream acknowledged). Each time NATS and the service
// come back, the relay publishes what is pending, and every committed
// event reaches the stream once and each consumer (ddmrp, and ai-hub run
// by the suite) once.
func runPublisherCrash(ctx context.Context, e *env, r *Result) error {
	whileDown := e.size(500, 60)
	burst := e.size(800, 100)
	bursts := e.size(3, 1)
	const workers = 8

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

	// The consumers: ddmrp in-process, ai-hub with the suite's ledger.
	ddmrpDB := filepath.Join(e.dir, "ddmrp.db")
	auth, err := e.httpAuth()
	if err != nil {
		return err
	}
	ddmrp, err := ddmrpapp.Start(ctx, ddmrpapp.Config{NATSURL: b.URL(), HTTPAddr: "127.0.0.1:0", DBPath: ddmrpDB, Logger: e.log,
		ConsumerOptions: []bus.ConsumerOption{bus.WithAckWait(ackWait)}, HTTPAuth: auth})
	if err != nil {
		return err
	}
	defer shutdownService(ddmrp.Shutdown)
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

	execDB := filepath.Join(e.dir, "execution.db")
	starts := 0
	proc, err := startChild(ctx, e, events.ServiceExecution, b.URL(), execDB, starts)
	if err != nil {
		return err
	}
	defer func() { proc.Kill() }()
	org := uuid.New()
	c, err := e.newClient(org, workers)
	if err != nil {
		return err
	}
	defer c.Close()
	products := newIDs(4)
	if err := publishProducts(ctx, admin, c, proc.url, products); err != nil {
		return err
	}
	location := uuid.New()
	var ld load
	adjustments := func(url string) func(int) request {
		return func(i int) request {
			return request{http.MethodPost, url + "/inventory/adjustments", adjust(position{products[i%len(products)], location}), http.StatusCreated}
		}
	}
	var restarted time.Time // the last restart: the end of the fault
	restart := func() error {
		starts++
		restarted = time.Now()
		var err error
		proc, err = startChild(ctx, e, events.ServiceExecution, b.URL(), execDB, starts)
		return err
	}
	// unsent counts the committed events not marked sent, and those of
	// them the stream already holds (published, ack not recorded).
	unsent := func() (pending, inStream int, err error) {
		rows, err := readOutbox(ctx, execDB)
		if err != nil {
			return 0, 0, err
		}
		msgs, err := readStream(ctx, rd.js, events.Catalog.Stream.Name)
		if err != nil {
			return 0, 0, err
		}
		stored := idCounts(msgs)
		for _, row := range rows {
			if !row.Sent {
				pending++
				if stored[row.ID] > 0 {
					inStream++
				}
			}
		}
		return pending, inStream, nil
	}

	// 1. NATS down: the requests commit, nothing is published; kill.
	b.Shutdown()
	ld.run(ctx, c, workers, whileDown, nil, adjustments(proc.url))
	proc.Kill()
	rows, err := readOutbox(ctx, execDB)
	if err != nil {
		return err
	}
	pendingDown := 0
	for _, row := range rows {
		if !row.Sent {
			pendingDown++
		}
	}
	e.log.Info("killed execution with NATS down", "committed", len(rows), "unsent", pendingDown)
	if err := b.Start(); err != nil {
		return err
	}
	if err := restart(); err != nil {
		return err
	}

	// 2. NATS up: a burst of requests, then kill at once, while the relay
	// works through the burst.
	// Per kill: events committed but not marked sent, and those of them
	// the stream already held.
	unsentAtKills := []string{fmt.Sprint(pendingDown)}
	unmarkedAtKills := []string{"0"}
	for range bursts {
		ld.run(ctx, c, workers, burst, nil, adjustments(proc.url))
		proc.Kill()
		pending, inStream, err := unsent()
		if err != nil {
			return err
		}
		e.log.Info("killed execution after a burst", "unsent", pending, "published_unmarked", inStream)
		unsentAtKills = append(unsentAtKills, fmt.Sprint(pending))
		unmarkedAtKills = append(unmarkedAtKills, fmt.Sprint(inStream))
		if err := restart(); err != nil {
			return err
		}
	}

	// Drain: the outbox empties, the stream holds every event, both
	// consumers applied them.
	drainErr := pollFor(ctx, time.Minute, "every committed event published and applied", func() (bool, error) {
		rows, err := readOutbox(ctx, execDB)
		if err != nil {
			return false, err
		}
		for _, row := range rows {
			if !row.Sent {
				return false, nil
			}
		}
		if led.Applied() < len(rows) {
			return false, nil
		}
		for _, durable := range []string{spec.ConsumerName(events.ServiceDDMRP), spec.ConsumerName(events.ServiceAIHub)} {
			if idle, err := consumerIdle(ctx, rd.js, events.Catalog.Stream.Name, durable); !idle || err != nil {
				return false, err
			}
		}
		return true, nil
	})
	r.Drain = time.Since(restarted)
	stopErr := errors.Join(proc.Stop(), stopSub(sub), shutdownService(ddmrp.Shutdown))

	rows, rowsErr := readOutbox(ctx, execDB)
	msgs, readErr := readStream(ctx, rd.js, events.Catalog.Stream.Name)
	ledApps, appsErr := led.Applications(ctx)
	ddmrpInbox, inboxErr := readInbox(ctx, ddmrpDB, events.ServiceDDMRP)
	execStock, err1 := readOnHand(ctx, execDB, "inventory", org)
	ddmrpStock, err2 := readOnHand(ctx, ddmrpDB, "stock", org)
	t := tallyRows(rows, idCounts(msgs), consumerApps{events.ServiceAIHub: ledApps, events.ServiceDDMRP: inboxApps(ddmrpInbox)})
	r.Published = len(rows)
	r.Stored = t.stored
	r.Applied = t.applied
	r.Lost = t.lost
	r.DuplicatesApplied = t.dups
	mismatches := compareOnHand(execStock, ddmrpStock)
	r.Add("http_ok", ld.ok.Load())
	r.Add("http_failed", ld.failed.Load())
	r.Add("kills", 1+bursts)
	r.Add("committed_while_nats_down", pendingDown)
	r.Add("unsent_at_kills", strings.Join(unsentAtKills, ","))
	r.Add("published_unmarked_at_kills", strings.Join(unmarkedAtKills, ","))
	r.Add("stored_twice", t.storedTwice)
	r.Add("duplicates_delivered", led.Redeliveries())
	r.Add("missing_ddmrp", t.missing[events.ServiceDDMRP])
	r.Add("missing_ai_hub", t.missing[events.ServiceAIHub])
	r.Add("stock_mismatches", mismatches)
	for _, msg := range ld.Errors() {
		r.Problemf("request failed: %s", msg)
	}
	r.Check(ld.failed.Load() == 0, "%d HTTP requests failed", ld.failed.Load())
	r.Check(int(ld.ok.Load()) == len(rows), "%d adjustments succeeded but the outbox holds %d events", ld.ok.Load(), len(rows))
	r.Check(pendingDown == whileDown, "with NATS down %d of %d committed events were unsent at the kill", pendingDown, whileDown)
	r.Check(t.storedTwice == 0, "%d events stored twice", t.storedTwice)
	r.Check(len(msgs) == len(rows)+len(products), "the stream holds %d messages, want %d events and %d products", len(msgs), len(rows), len(products))
	r.Check(mismatches == 0, "ddmrp's on-hand differs from execution's at %d positions", mismatches)
	return errors.Join(drainErr, stopErr, rowsErr, readErr, appsErr, inboxErr, err1, err2)
}

// shutdownService shuts an in-process service down within 10s.
func shutdownService(f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
