package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/spec"
	ddmrpapp "github.com/giia/events/services/ddmrp/app"
	execapp "github.com/giia/events/services/execution/app"
)

// runOutage: both services run in-process, the execution service taking
// inventory adjustments and sales orders over HTTP at a steady rate from a
// bounded pool of clients, while the NATS server is stopped for a few
// seconds and started again on the same store, twice. No request may
// fail because of the outage: each commits its change and its event to
// the service's outbox and returns; the relay catches up once NATS is
// back. Every committed event must reach the stream once and each of its
// running consumers (ddmrp, and ai-hub and analytics run by the suite)
// once, and ddmrp's copy of on-hand stock must end equal to execution's.
func runOutage(ctx context.Context, e *env, r *Result) error {
	rate := e.size(600, 150) // requests a second
	minRate := e.size(500, 100)
	if e.short && raceBuild {
		rate, minRate = 40, 10
	}
	outage := e.dur(3*time.Second, time.Second)
	outages := e.size(2, 1)
	between := e.dur(2*time.Second, 500*time.Millisecond) // of load before, between and after the outages
	const workers = 32

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

	consumerOpts := []bus.ConsumerOption{bus.WithAckWait(ackWait)}
	execDB, ddmrpDB := filepath.Join(e.dir, "execution.db"), filepath.Join(e.dir, "ddmrp.db")
	auth, err := e.httpAuth()
	if err != nil {
		return err
	}
	exec, err := execapp.Start(ctx, execapp.Config{NATSURL: b.URL(), HTTPAddr: "127.0.0.1:0", DBPath: execDB, Logger: e.log, ConsumerOptions: consumerOpts, HTTPAuth: auth})
	if err != nil {
		return err
	}
	defer shutdownService(exec.Shutdown)
	ddmrp, err := ddmrpapp.Start(ctx, ddmrpapp.Config{NATSURL: b.URL(), HTTPAddr: "127.0.0.1:0", DBPath: ddmrpDB, Logger: e.log, ConsumerOptions: consumerOpts, HTTPAuth: auth})
	if err != nil {
		return err
	}
	defer shutdownService(ddmrp.Shutdown)
	errs := &errorCounter{log: e.log}
	aiHub, err := openLedger(ctx, filepath.Join(e.dir, "ai-hub.db"), events.ServiceAIHub)
	if err != nil {
		return err
	}
	defer aiHub.Close()
	analytics, err := openLedger(ctx, filepath.Join(e.dir, "analytics.db"), events.ServiceAnalytics)
	if err != nil {
		return err
	}
	defer analytics.Close()
	cconn, err := connect(b.URL(), "chaos-consumers")
	if err != nil {
		return err
	}
	defer cconn.Close()
	aiSub, err := consumeStock(ctx, cconn, aiHub, errs, nil)
	if err != nil {
		return err
	}
	defer stopSub(aiSub)
	anSub, err := consumeOrders(ctx, cconn, analytics, errs)
	if err != nil {
		return err
	}
	defer stopSub(anSub)

	org := uuid.New()
	c, err := e.newClient(org, workers)
	if err != nil {
		return err
	}
	defer c.Close()
	products := newIDs(8)
	if err := publishProducts(ctx, admin, c, exec.URL(), products); err != nil {
		return err
	}
	locations := newIDs(2)
	var positions []position
	for _, p := range products {
		for _, l := range locations {
			positions = append(positions, position{p, l})
		}
	}
	// The mix: stock adjustments and sales orders on execution, buffer
	// profiles on ddmrp. The buffers make ddmrp react to execution's
	// events with events of its own (buffer status changes, alerts that
	// execution answers with purchase orders): every hop goes through an
	// outbox and an inbox.
	next := func(i int) request {
		p := positions[i%len(positions)]
		switch i % 10 {
		case 7, 8:
			return request{http.MethodPost, exec.URL() + "/sales-orders", salesOrder(p), http.StatusCreated}
		case 9:
			return request{http.MethodPut, fmt.Sprintf("%s/buffers/%s/%s", ddmrp.URL(), p.product, p.location), bufferProfile(p, i), 0}
		}
		return request{http.MethodPost, exec.URL() + "/inventory/adjustments", adjust(p), http.StatusCreated}
	}

	// The load, until the outages are over.
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var ld load
	loadDone := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(loadDone)
		ld.run(lctx, c, workers, 0, newLimiter(lctx, rate), next)
	}()
	// served waits until the load has had n more requests answered,
	// about the given duration's worth at the rate.
	served := func(d time.Duration) error {
		want := ld.ok.Load() + ld.failed.Load() + int64(d.Seconds()*float64(rate))
		return pollFor(ctx, 10*d+10*time.Second, fmt.Sprintf("%v of load", d), func() (bool, error) {
			return ld.ok.Load()+ld.failed.Load() >= want, nil
		})
	}
	var duringOutage atomic.Int64
	faultErr := func() error {
		for range outages {
			if err := served(between); err != nil {
				return err
			}
			before := ld.ok.Load()
			e.log.Info("stopping NATS", "requests", before)
			b.Shutdown()
			time.Sleep(outage) // the outage itself
			duringOutage.Add(ld.ok.Load() - before)
			if err := b.Start(); err != nil {
				return err
			}
		}
		return served(between)
	}()
	stopLoad()
	<-loadDone
	loadTime := time.Since(start)
	loadEnd := time.Now()
	e.log.Info("load over", "ok", ld.ok.Load(), "failed", ld.failed.Load(), "in", loadTime)

	drainErr := pollFor(ctx, time.Minute, "every committed event published and applied", func() (bool, error) {
		for _, s := range []outbox.Stats{exec.Outbox().Stats(), ddmrp.Outbox().Stats()} {
			if s.Err != nil || s.Pending != 0 {
				return false, s.Err
			}
		}
		for _, durable := range []string{events.ServiceDDMRP, events.ServiceAIHub, events.ServiceAnalytics, events.ServiceExecution} {
			if idle, err := consumerIdle(ctx, rd.js, events.Catalog.Stream.Name, spec.ConsumerName(durable)); !idle || err != nil {
				return false, err
			}
		}
		return true, nil
	})
	r.Drain = time.Since(loadEnd)
	stopErr := errors.Join(stopSub(aiSub), stopSub(anSub), shutdownService(exec.Shutdown), shutdownService(ddmrp.Shutdown))

	execRows, err1 := readOutbox(ctx, execDB)
	ddmrpRows, err2 := readOutbox(ctx, ddmrpDB)
	msgs, readErr := readStream(ctx, rd.js, events.Catalog.Stream.Name)
	aiApps, err3 := aiHub.Applications(ctx)
	anApps, err4 := analytics.Applications(ctx)
	ddmrpInbox, err5 := readInbox(ctx, ddmrpDB, events.ServiceDDMRP)
	execInbox, err6 := readInbox(ctx, execDB, events.ServiceExecution)
	execStock, err7 := readOnHand(ctx, execDB, "inventory", org)
	ddmrpStock, err8 := readOnHand(ctx, ddmrpDB, "stock", org)
	rows := append(execRows, ddmrpRows...)
	t := tallyRows(rows, idCounts(msgs), consumerApps{
		events.ServiceDDMRP:     inboxApps(ddmrpInbox),
		events.ServiceExecution: inboxApps(execInbox),
		events.ServiceAIHub:     aiApps,
		events.ServiceAnalytics: anApps,
	})
	r.Published = len(rows)
	r.Stored = t.stored
	r.Applied = t.applied
	r.Lost = t.lost
	r.DuplicatesApplied = t.dups
	opsPerSec := float64(ld.ok.Load()) / loadTime.Seconds()
	mismatches := compareOnHand(execStock, ddmrpStock)
	r.Add("outages", outages)
	r.Add("outage_ms", outage)
	r.Add("http_ok", ld.ok.Load())
	r.Add("http_failed", ld.failed.Load())
	r.Add("ops_per_sec", opsPerSec)
	r.Add("ops_during_outages", duringOutage.Load())
	r.Add("client_workers", workers)
	r.Add("stored_twice", t.storedTwice)
	r.Add("duplicates_delivered", aiHub.Redeliveries()+analytics.Redeliveries())
	r.Add("consumer_errors", errs.Count())
	r.Add("stock_positions", len(execStock))
	r.Add("stock_mismatches", mismatches)
	for consumer, n := range t.missing {
		r.Problemf("%s never applied %d events", consumer, n)
	}
	for _, msg := range ld.Errors() {
		r.Problemf("request failed: %s", msg)
	}
	r.Check(ld.failed.Load() == 0, "%d HTTP requests failed", ld.failed.Load())
	r.Check(opsPerSec >= float64(minRate), "%.0f requests a second, want at least %d", opsPerSec, minRate)
	r.Check(duringOutage.Load() > 0, "no request was answered while NATS was down")
	r.Check(t.storedTwice == 0, "%d events stored twice", t.storedTwice)
	r.Check(mismatches == 0, "ddmrp's on-hand differs from execution's at %d of %d positions", mismatches, len(execStock))
	return errors.Join(faultErr, drainErr, stopErr, err1, err2, readErr, err3, err4, err5, err6, err7, err8)
}
