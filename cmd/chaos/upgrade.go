package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
)

// buildEnv, set on a service process, makes it run as an older build of
// the repository (applyBuild): "v1" is the build before
// execution.sales_order.created version 2; "" or "v2" is this one.
const buildEnv = "GIIA_CHAOS_BUILD"

// oldExecution is the service process that publishes as the execution
// service's build v1 did: version 1 sales orders (startOldPublisher).
const oldExecution = "execution-v1"

// upgradeSubject is the event the upgrade scenario moves from version 1
// to version 2.
const upgradeSubject = events.SubjectExecutionSalesOrderCreated

// applyBuild makes cat the catalog of the named build. One executable
// holds one SDK, so build v1 is simulated, honestly for a consumer: the
// event of upgradeSubject keeps only version 1 (Version 1, the version 1
// schema and check, no older versions), which is what the catalog of the
// build before version 2 held. A consumer of that build validates and
// decodes version 1 as before and leaves version 2 events waiting for an
// upgrade (bus.ErrUnknownVersion) as the old build would; the handlers
// still receive the version 1 payload upcast to the current type, the
// only type the services' code knows now. A publisher of build v1 is
// startOldPublisher, not the execution service, whose code sends version
// 2 only.
func applyBuild(cat *spec.Catalog, build string) error {
	switch build {
	case "", "v2":
		return nil
	case "v1":
	default:
		return fmt.Errorf("unknown build %q (want v1 or v2)", build)
	}
	ev, ok := cat.Event(upgradeSubject)
	if !ok {
		return fmt.Errorf("build v1: no event %q in the catalog", upgradeSubject)
	}
	if ev.Version != 2 || len(ev.Older) == 0 || ev.Older[0].Version != 1 {
		return fmt.Errorf("build v1: %q has versions %v, want 1 and 2", upgradeSubject, ev.Versions())
	}
	v1 := ev.Older[0]
	ev.Version, ev.Schema, ev.ValidateJSON, ev.Older, ev.PublishVersion = 1, v1.Schema, v1.ValidateJSON, nil, 0
	return nil
}

// oldPublisher publishes version 1 sales orders at a steady rate through
// a bus.Publisher of the execution service, as the execution service of
// build v1 did, and writes the id of each event the stream acknowledged
// to a file, one a line.
type oldPublisher struct {
	conn     *bus.Conn
	file     *os.File
	out      *bufio.Writer
	stop     context.CancelFunc
	finished chan struct{}
	failed   chan error // receives the error that stopped the publishing early
	err      error      // once finished is closed
}

// startOldPublisher starts publishing on natsURL, rate events a second,
// the acknowledged ids going to the file at outPath.
func startOldPublisher(natsURL, outPath string, rate int) (*oldPublisher, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("%s: rate %d, want more than 0", oldExecution, rate)
	}
	conn, err := connect(natsURL, "chaos-"+oldExecution)
	if err != nil {
		return nil, err
	}
	pub, err := bus.NewPublisher(conn, events.Catalog, events.ServiceExecution)
	if err != nil {
		conn.Close()
		return nil, err
	}
	f, err := os.Create(outPath)
	if err != nil {
		conn.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &oldPublisher{conn: conn, file: f, out: bufio.NewWriter(f), stop: cancel, finished: make(chan struct{}), failed: make(chan error, 1)}
	go func() {
		defer close(p.finished)
		if p.err = p.run(ctx, pub, rate); p.err != nil {
			p.failed <- p.err
		}
	}()
	return p, nil
}

// run publishes until ctx ends; the publish in progress then completes.
func (p *oldPublisher) run(ctx context.Context, pub *bus.Publisher, rate int) error {
	org, location := uuid.New(), uuid.New()
	products := newIDs(4)
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	var retries atomic.Int64
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		id := uuid.New()
		pctx, cancel := context.WithTimeout(bus.WithCorrelation(context.WithoutCancel(ctx), org, "chaos-upgrade-v1"), 30*time.Second)
		v := salesOrderV1(products[n%len(products)], location, n)
		_, err := publishUntilAcked(pctx, pub, upgradeSubject, &v, id, &retries)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: publish: %w", oldExecution, err)
		}
		fmt.Fprintln(p.out, id)
	}
}

// Shutdown stops publishing and writes out the acknowledged ids.
func (p *oldPublisher) Shutdown(ctx context.Context) error {
	p.stop()
	select {
	case <-p.finished:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := errors.Join(p.err, p.out.Flush(), p.file.Close())
	p.conn.Close()
	return err
}

// salesOrderV1 is a version 1 sales order of one unit of product, the
// n-th of the publisher.
func salesOrderV1(product, location uuid.UUID, n int) events.SalesOrderCreatedV1 {
	return events.SalesOrderCreatedV1{
		SalesOrderID: uuid.New(),
		OrderNumber:  fmt.Sprintf("SO-2026-%06d", n%1000000),
		CustomerID:   uuid.New(),
		LocationID:   location,
		Lines: []events.SalesOrderLineV1{{
			LineNumber: 1,
			Product:    events.ProductRef{ProductID: product, SKU: skuOf(product)},
			Quantity:   events.Quantity{Value: 1, Unit: events.UnitEA},
		}},
		DueDate:   payload.DateOf(time.Now().AddDate(0, 0, 14)),
		CreatedAt: time.Now().UTC(),
	}
}

// ledgerConsumer is the suite's analytics consumer as a process of its
// own, so that it can be restarted on another build.
type ledgerConsumer struct {
	conn *bus.Conn
	led  *ledger
	sub  *bus.Subscription
}

func startLedgerConsumer(ctx context.Context, natsURL, dbPath string, log *slog.Logger) (*ledgerConsumer, error) {
	led, err := openLedger(ctx, dbPath, events.ServiceAnalytics)
	if err != nil {
		return nil, err
	}
	conn, err := connect(natsURL, "chaos-analytics")
	if err != nil {
		_ = led.Close()
		return nil, err
	}
	sub, err := consumeOrders(ctx, conn, led, &errorCounter{log: log})
	if err != nil {
		conn.Close()
		_ = led.Close()
		return nil, err
	}
	return &ledgerConsumer{conn: conn, led: led, sub: sub}, nil
}

func (c *ledgerConsumer) Shutdown(ctx context.Context) error {
	err := c.sub.Stop(ctx)
	c.conn.Close()
	return errors.Join(err, c.led.Close())
}

// rolloutOrder is one of the two orders of an upgrade.
type rolloutOrder struct {
	name           string
	publisherFirst bool
}

var rolloutOrders = []rolloutOrder{{"consumers_first", false}, {"publisher_first", true}}

// rollout is what one order of the upgrade measured.
type rollout struct {
	published, stored, appliedV1, appliedV2 int
	publishedV1, publishedV2                int
	deadLetters, lost, dups                 int
	waited                                  int           // version 2 events stored while a consumer still ran build v1: they waited for its upgrade
	longestWait                             time.Duration // of those, the longest from stored to applied, by the consumer they waited for
	v2ByOldBuild                            int           // version 2 events a consumer of build v1 applied: must be 0
	versionMismatches                       int           // events stored with another version than their publisher's build sends
	drain                                   time.Duration
}

// runUpgrade: execution.sales_order.created goes from version 1 to
// version 2 while events flow, twice, once in each rollout order, each on
// a broker and databases of its own. The consumers, ddmrp and the suite's
// analytics ledger (its applications not idempotent by themselves), run
// as processes of their own, and so does the publisher: first build v1
// (applyBuild; its publisher is startOldPublisher, sending version 1),
// then build v2 (the execution service itself, taking sales orders over
// HTTP and sending version 2 from its outbox). Consumers first: the
// consumer processes are restarted one by one on build v2 mid-stream,
// then the publisher switches; no event waits. Publisher first: the
// publisher switches, the consumers of build v1 leave the version 2
// events waiting (redelivered with doubling delays, bus.ErrUnknownVersion,
// the default patience of an hour), then restart on build v2 and apply
// them. In both orders every event must be applied once by each consumer
// and nothing dead-lettered.
func runUpgrade(ctx context.Context, e *env, r *Result) error {
	var errs []error
	var appliedV1, appliedV2, deadLetters int
	var longestWait time.Duration
	totals := func() {
		r.Add("applied_v1", appliedV1)
		r.Add("applied_v2", appliedV2)
		r.Add("dead_letters", deadLetters)
		r.Add("longest_wait_ms", longestWait)
	}
	totals() // first, updated after each order
	for _, o := range rolloutOrders {
		oe := *e
		oe.dir = filepath.Join(e.dir, o.name)
		oe.log = e.log.With("order", o.name)
		if err := os.Mkdir(oe.dir, 0o755); err != nil {
			return err
		}
		ro, err := runRollout(ctx, &oe, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.name, err))
		}
		r.Published += ro.published
		r.Stored += ro.stored
		r.Applied += ro.appliedV1 + ro.appliedV2
		r.Lost += ro.lost
		r.DuplicatesApplied += ro.dups
		r.Drain = max(r.Drain, ro.drain)
		appliedV1 += ro.appliedV1
		appliedV2 += ro.appliedV2
		deadLetters += ro.deadLetters
		longestWait = max(longestWait, ro.longestWait)
		totals()
		add := func(name string, v any) { r.Add(o.name+"_"+name, v) }
		add("published", ro.published)
		add("published_v1", ro.publishedV1)
		add("published_v2", ro.publishedV2)
		add("stored", ro.stored)
		add("applied_v1", ro.appliedV1)
		add("applied_v2", ro.appliedV2)
		add("dead_letters", ro.deadLetters)
		add("lost", ro.lost)
		add("duplicates_applied", ro.dups)
		add("waited", ro.waited)
		add("longest_wait_ms", ro.longestWait)
		add("drain_ms", ro.drain)
		r.Check(ro.deadLetters == 0, "%s: %d dead letters", o.name, ro.deadLetters)
		r.Check(ro.v2ByOldBuild == 0, "%s: a consumer of build v1 applied %d version 2 events", o.name, ro.v2ByOldBuild)
		r.Check(ro.versionMismatches == 0, "%s: %d events stored with another version than their publisher sends", o.name, ro.versionMismatches)
		r.Check(ro.publishedV1 > 0 && ro.publishedV2 > 0, "%s: %d version 1 and %d version 2 events published, want some of each", o.name, ro.publishedV1, ro.publishedV2)
		if o.publisherFirst {
			r.Check(ro.waited > 0, "%s: no version 2 event reached a consumer of build v1", o.name)
		} else {
			r.Check(ro.waited == 0, "%s: %d version 2 events stored before the consumers were upgraded", o.name, ro.waited)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// upgradeConsumers are the consumers of upgradeSubject the scenario runs,
// each as a process restarted on build v2.
var upgradeConsumers = []string{events.ServiceDDMRP, events.ServiceAnalytics}

// runRollout runs one order of the upgrade.
func runRollout(ctx context.Context, e *env, o rolloutOrder) (*rollout, error) {
	ro := &rollout{}
	phase := e.dur(4*time.Second, 1500*time.Millisecond) // of load before, between and after the two switches
	rate := e.size(300, 100)                             // events a second, from either publisher
	if e.short && raceBuild {
		rate = 40
	}
	const workers = 8

	b, err := newBroker(filepath.Join(e.dir, "nats"))
	if err != nil {
		return ro, err
	}
	defer b.Shutdown()
	admin, err := connect(b.URL(), "chaos-admin")
	if err != nil {
		return ro, err
	}
	defer admin.Close()
	if err := bus.EnsureTopology(ctx, admin, events.Catalog); err != nil {
		return ro, err
	}
	rd, err := newReader(b.URL())
	if err != nil {
		return ro, err
	}
	defer rd.Close()

	// The consumers, build v1.
	dbs := map[string]string{}
	procs := map[string]*child{}
	defer func() {
		for _, p := range procs {
			p.Kill()
		}
	}()
	for _, name := range upgradeConsumers {
		dbs[name] = filepath.Join(e.dir, name+".db")
		if procs[name], err = startChild(ctx, e, name, b.URL(), dbs[name], 1, asBuild("v1")); err != nil {
			return ro, err
		}
	}
	// switchedAt is when each consumer's build v1 process had stopped.
	switchedAt := map[string]time.Time{}
	upgradeConsumersNow := func() error {
		for _, name := range upgradeConsumers {
			if err := procs[name].Stop(); err != nil {
				return err
			}
			delete(procs, name)
			switchedAt[name] = time.Now()
			p, err := startChild(ctx, e, name, b.URL(), dbs[name], 2, asBuild("v2"))
			if err != nil {
				return err
			}
			procs[name] = p
			e.log.Info("consumer upgraded", "service", name)
		}
		return nil
	}

	// The publisher, build v1.
	v1IDs := filepath.Join(e.dir, "published-v1.txt")
	procs[oldExecution], err = startChild(ctx, e, oldExecution, b.URL(), v1IDs, 1, asBuild("v1"), withArgs("--rate", strconv.Itoa(rate)))
	if err != nil {
		return ro, err
	}
	execDB := filepath.Join(e.dir, "execution.db")
	c, err := e.newClient(uuid.New(), workers)
	if err != nil {
		return ro, err
	}
	defer c.Close()
	var ld load
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var loadDone sync.WaitGroup
	upgradePublisher := func() error {
		if err := procs[oldExecution].Stop(); err != nil {
			return err
		}
		delete(procs, oldExecution)
		p, err := startChild(ctx, e, events.ServiceExecution, b.URL(), execDB, 2)
		if err != nil {
			return err
		}
		procs[events.ServiceExecution] = p
		products := newIDs(4)
		if err := publishProducts(ctx, admin, c, p.url, products); err != nil {
			return err
		}
		location := uuid.New()
		lim := newLimiter(loadCtx, rate)
		loadDone.Add(1)
		go func() {
			defer loadDone.Done()
			ld.run(loadCtx, c, workers, 0, lim, func(i int) request {
				return request{http.MethodPost, p.url + "/sales-orders", salesOrder(position{products[i%len(products)], location}), http.StatusCreated}
			})
		}()
		e.log.Info("publisher upgraded")
		return nil
	}

	first, second := upgradeConsumersNow, upgradePublisher
	if o.publisherFirst {
		first, second = upgradePublisher, upgradeConsumersNow
	}
	for _, step := range []func() error{first, second} {
		if err := hold(ctx, phase); err != nil {
			return ro, err
		}
		if err := step(); err != nil {
			return ro, err
		}
	}
	if err := hold(ctx, phase); err != nil {
		return ro, err
	}
	stopLoad()
	loadDone.Wait()
	endOfLoad := time.Now()

	ids, err := readIDs(v1IDs)
	if err != nil {
		return ro, err
	}
	published := func() ([]outboxRow, error) {
		rows, err := readOutbox(ctx, execDB)
		if err != nil {
			return nil, err
		}
		out := make([]outboxRow, 0, len(ids)+len(rows))
		for _, id := range ids {
			out = append(out, outboxRow{ID: id, Subject: upgradeSubject, Sent: true})
		}
		for _, row := range rows {
			if row.Subject == upgradeSubject {
				out = append(out, row)
			}
		}
		return out, nil
	}
	drainErr := pollEvery(ctx, 2*time.Minute, 200*time.Millisecond, "every sales order published and applied by ddmrp and analytics", func() (bool, error) {
		rows, err := published()
		if err != nil {
			return false, err
		}
		for _, name := range upgradeConsumers {
			applied, err := readApplied(ctx, name, dbs[name])
			if err != nil {
				return false, err
			}
			for _, row := range rows {
				if !row.Sent {
					return false, fmt.Errorf("event %s not sent by the execution service's relay yet", row.ID)
				}
				if _, ok := applied[row.ID]; !ok {
					return false, fmt.Errorf("event %s not applied by %s yet", row.ID, name)
				}
			}
		}
		for _, name := range upgradeConsumers {
			if idle, err := consumerIdle(ctx, rd.js, events.Catalog.Stream.Name, spec.ConsumerName(name)); !idle || err != nil {
				return false, err
			}
		}
		return true, nil
	})
	ro.drain = time.Since(endOfLoad)
	var stopErrs []error
	for name, p := range procs {
		stopErrs = append(stopErrs, p.Stop())
		delete(procs, name)
	}

	rows, rowsErr := published()
	msgs, readErr := readStream(ctx, rd.js, events.Catalog.Stream.Name)
	dead, deadErr := readStream(ctx, rd.js, events.Catalog.Stream.DeadLetterStream)
	apps := consumerApps{}
	appliedAt := map[string]map[uuid.UUID]time.Time{}
	var appErrs []error
	for _, name := range upgradeConsumers {
		at, err := readApplied(ctx, name, dbs[name])
		appErrs = append(appErrs, err)
		appliedAt[name] = at
		if name == events.ServiceDDMRP {
			apps[name] = inboxApps(keys(at))
		} else {
			ledApps, err := ledgerApps(ctx, dbs[name])
			appErrs = append(appErrs, err)
			apps[name] = ledApps
		}
	}

	// What the stream says of each event: its version and when it was stored.
	version := map[uuid.UUID]int{}
	storedAt := map[uuid.UUID]time.Time{}
	for _, m := range msgs {
		id, err := uuid.Parse(m.Header.Get(jetstream.MsgIDHeader))
		if err != nil {
			continue
		}
		if _, ok := storedAt[id]; !ok {
			storedAt[id] = m.Time
			version[id], _ = strconv.Atoi(m.Header.Get(bus.HeaderVersion))
		}
	}
	t := tallyRows(rows, idCounts(msgs), apps)
	ro.published, ro.stored, ro.lost, ro.dups = len(rows), t.stored, t.lost, t.dups
	ro.deadLetters = len(dead)
	v1 := idSet(ids)
	for _, row := range rows {
		want := 2
		if v1[row.ID] {
			want = 1
			ro.publishedV1++
		} else {
			ro.publishedV2++
		}
		v, stored := version[row.ID]
		if stored && v != want {
			ro.versionMismatches++
		}
		appliedByAll, waited := stored, false
		for _, name := range upgradeConsumers {
			at, ok := appliedAt[name][row.ID]
			appliedByAll = appliedByAll && ok
			switched, upgraded := switchedAt[name]
			if !ok || !stored || v != 2 || !upgraded {
				continue
			}
			if at.Before(switched) {
				ro.v2ByOldBuild++
			}
			if storedAt[row.ID].Before(switched) {
				waited = true
				ro.longestWait = max(ro.longestWait, at.Sub(storedAt[row.ID]))
			}
		}
		if waited {
			ro.waited++
		}
		switch {
		case !appliedByAll:
		case v == 1:
			ro.appliedV1++
		case v == 2:
			ro.appliedV2++
		}
	}
	for _, msg := range ld.Errors() {
		stopErrs = append(stopErrs, fmt.Errorf("request failed: %s", msg))
	}
	if n := ld.failed.Load(); n > 0 {
		stopErrs = append(stopErrs, fmt.Errorf("%d HTTP requests failed", n))
	}
	return ro, errors.Join(drainErr, errors.Join(stopErrs...), rowsErr, readErr, deadErr, errors.Join(appErrs...))
}

// hold lets the load run for d.
func hold(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollEvery is pollFor checking every interval, for conditions that read
// databases.
func pollEvery(ctx context.Context, timeout, interval time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if ok && err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("waiting for %s: %w (last: %w)", what, ctx.Err(), err)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// readIDs reads a file of event ids, one a line.
func readIDs(path string) ([]uuid.UUID, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for _, line := range strings.Fields(string(data)) {
		id, err := uuid.Parse(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// readApplied returns when consumer first applied each event: from
// ddmrp's inbox (processed_at) or the analytics ledger's applications.
func readApplied(ctx context.Context, consumer, path string) (map[uuid.UUID]time.Time, error) {
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	query, args := `SELECT event_id, processed_at FROM `+outbox.DefaultInboxTable+` WHERE consumer = ?`, []any{consumer}
	if consumer != events.ServiceDDMRP {
		query, args = `SELECT event_id, applied_at FROM applications`, nil
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("applied by %s: %w", consumer, err)
	}
	defer rows.Close()
	out := map[uuid.UUID]time.Time{}
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("applied by %s: %w", consumer, err)
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("applied by %s: %w", consumer, err)
		}
		var t time.Time
		if ms, err := strconv.ParseInt(at, 10, 64); err == nil {
			t = time.UnixMilli(ms)
		} else if t, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("applied by %s: %w", consumer, err)
		}
		if prev, ok := out[u]; !ok || t.Before(prev) {
			out[u] = t
		}
	}
	return out, rows.Err()
}

// ledgerApps counts the applications of each event in a ledger's database.
func ledgerApps(ctx context.Context, path string) (map[uuid.UUID]int, error) {
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT event_id, COUNT(*) FROM applications GROUP BY event_id`)
	if err != nil {
		return nil, fmt.Errorf("applications in %s: %w", path, err)
	}
	defer rows.Close()
	out := map[uuid.UUID]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("applications in %s: %w", path, err)
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("applications in %s: %w", path, err)
		}
		out[u] = n
	}
	return out, rows.Err()
}

// keys returns the set of m's keys.
func keys[V any](m map[uuid.UUID]V) map[uuid.UUID]bool {
	out := make(map[uuid.UUID]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
