package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
	"github.com/giia/events/services/authn"
	ddmrpapp "github.com/giia/events/services/ddmrp/app"
	execapp "github.com/giia/events/services/execution/app"
)

// The scenario's buffer: ADU 40 EA/day, DLT 10 days, LTF 0.5, VF 0.5,
// MOQ 500, order cycle 7 days. Red 300 (200 + 100), yellow 400, green
// max(200, 500, 280) = 500: top of red 300, top of yellow 700, top of
// green 1200.
const (
	initialStock = 1000.0
	orderSize    = 140.0 // below the spike threshold (150), and so are its halves: not qualified until due
	salesOrders  = 5     // 1000 - 5 x 140 = 300: top of red
)

var profile = map[string]any{
	"sku": "BRG-6204-2RS", "unit": "EA",
	"adu": 40, "dlt_days": 10, "lead_time_factor": 0.5, "variability_factor": 0.5, "moq": 500, "order_cycle_days": 7,
}

type demo struct {
	outMu   sync.Mutex // the observer prints from its own goroutine
	out     io.Writer
	natsURL string
	users   *users // each service's own NATS user, nil without --auth
	dir     string
	log     *slog.Logger
	start   time.Time

	org      uuid.UUID
	token    string // the APIs' bearer token for org, every role
	product  uuid.UUID
	location uuid.UUID
	obs      *observer
	exec     *execapp.Service
	ddmrp    *ddmrpapp.Service
	js       jetstream.JetStream
	started  map[string]time.Time // HTTP call start by correlation id

	// settled, when set, is called once the services finished what the
	// scenario caused, before they shut down (the tests read their
	// /metrics there).
	settled func(ctx context.Context, d *demo)
}

// result is what the run measured.
type result struct {
	published, consumed, expected int
	deadLetters                   int
	lost                          int
	publishP99, e2eP99            float64
	loop                          time.Duration
	loopClosed                    bool
	refused                       bool // under --auth: execution's user may not publish a ddmrp event
}

func (d *demo) printf(format string, args ...any) {
	d.outMu.Lock()
	defer d.outMu.Unlock()
	fmt.Fprintf(d.out, format, args...)
}

// step prints a step's title, once every event stored so far is printed.
func (d *demo) step(ctx context.Context, format string, args ...any) error {
	if err := d.caughtUp(ctx); err != nil {
		return err
	}
	d.printf("\n== "+format+"\n", args...)
	return nil
}

// caughtUp waits until the observer has read the stream up to its last
// message.
func (d *demo) caughtUp(ctx context.Context) error {
	return poll(ctx, "the observer to catch up", func() (bool, error) {
		s, err := d.js.Stream(ctx, events.Catalog.Stream.Name)
		if err != nil {
			return false, err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return false, err
		}
		return d.obs.last() >= info.State.LastSeq, nil
	})
}

// play runs the scenario; the result holds what was measured even when
// it fails part-way.
func (d *demo) play(ctx context.Context) (res result, err error) {
	d.org, d.product, d.location = uuid.New(), uuid.New(), uuid.New()
	d.started = map[string]time.Time{}

	// The platform's admin provisions the topology; the simulated catalog
	// service publishes as its own user.
	admin, err := d.users.connect(d.natsURL, spec.AdminUser, "giia-demo")
	if err != nil {
		return res, err
	}
	defer admin.Close()
	if err := bus.EnsureTopology(ctx, admin, events.Catalog); err != nil {
		return res, err
	}
	conn, err := d.users.connect(d.natsURL, events.ServiceCatalog, "giia-demo-catalog")
	if err != nil {
		return res, err
	}
	defer conn.Close()
	observerOpts := []nats.Option{nats.Name("giia-demo-observer")}
	if d.users != nil {
		observerOpts = append(observerOpts, nats.UserInfo(spec.AdminUser, d.users.password(spec.AdminUser)))
	}
	nc, err := nats.Connect(d.natsURL, observerOpts...)
	if err != nil {
		return res, fmt.Errorf("observer: %w", err)
	}
	defer nc.Close()
	if d.js, err = jetstream.New(nc); err != nil {
		return res, fmt.Errorf("observer: %w", err)
	}
	stream, err := d.js.Stream(ctx, events.Catalog.Stream.Name)
	if err != nil {
		return res, fmt.Errorf("observer: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return res, fmt.Errorf("observer: %w", err)
	}
	deadBefore, err := d.deadLetters(ctx)
	if err != nil {
		return res, err
	}

	// The identity provider of the APIs: a key of the demo's own, its
	// public JWKS beside the databases, a token for the organization.
	issuer, err := authn.NewDevIssuer(filepath.Join(d.dir, "jwks.json"))
	if err != nil {
		return res, err
	}
	if d.token, err = issuer.Token("demo", d.org, time.Hour, authn.AllRoles...); err != nil {
		return res, err
	}
	if d.ddmrp, err = ddmrpapp.Start(ctx, ddmrpapp.Config{
		NATSURL: d.natsURL, HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(d.dir, "ddmrp.db"), Logger: d.log,
		Auth: d.users.serviceAuth(events.ServiceDDMRP), HTTPAuth: issuer.Config(),
	}); err != nil {
		return res, err
	}
	defer d.shutdown("ddmrp", d.ddmrp.Shutdown)
	if d.exec, err = execapp.Start(ctx, execapp.Config{
		NATSURL: d.natsURL, HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(d.dir, "execution.db"), Logger: d.log,
		Auth: d.users.serviceAuth(events.ServiceExecution), HTTPAuth: issuer.Config(),
	}); err != nil {
		return res, err
	}
	defer d.shutdown("execution", d.exec.Shutdown)
	d.printf("execution service at %s, ddmrp service at %s, organization %s\n", d.exec.URL(), d.ddmrp.URL(), d.org)

	consumedBefore, err := d.consumed(ctx)
	if err != nil {
		return res, err
	}
	d.printf("\n%9s  %-34s %-72s %s\n", "t", "subject", "summary", "e2e")
	d.obs, err = observe(ctx, d.js, events.Catalog.Stream.Name, info.State.LastSeq, d.org, d.printEvent)
	if err != nil {
		return res, err
	}
	defer d.obs.stop()

	loopErr := d.scenario(ctx, conn, &res)
	if loopErr == nil && d.users != nil {
		loopErr = d.leastPrivilege(ctx, &res)
	}

	// Let every service finish what the scenario caused, then measure.
	settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	settleErr := errors.Join(d.settle(settleCtx), d.caughtUp(settleCtx))
	evs := d.obs.snapshot()
	res.published = len(evs)
	var pubLat, e2eLat []time.Duration
	for _, ev := range evs {
		pubLat = append(pubLat, ev.publishLatency())
		e2eLat = append(e2eLat, ev.e2eLatency())
		for _, svc := range []string{events.ServiceExecution, events.ServiceDDMRP} {
			if decl, ok := events.Catalog.Event(ev.Subject); ok && contains(decl.Consumers, svc) {
				res.expected++
			}
		}
	}
	res.publishP99, res.e2eP99 = p99(pubLat), p99(e2eLat)
	if d.settled != nil {
		d.settled(settleCtx, d)
	}
	if consumedAfter, err := d.consumed(settleCtx); err == nil {
		res.consumed = consumedAfter - consumedBefore
	} else {
		settleErr = errors.Join(settleErr, err)
	}
	res.lost = max(0, res.expected-res.consumed)
	if deadAfter, err := d.deadLetters(settleCtx); err == nil {
		res.deadLetters = deadAfter - deadBefore
	} else {
		settleErr = errors.Join(settleErr, err)
	}
	return res, errors.Join(loopErr, settleErr)
}

func (d *demo) shutdown(name string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		d.printf("%s: shutdown: %v\n", name, err)
	}
}

// scenario plays the story through the HTTP APIs.
func (d *demo) scenario(ctx context.Context, conn *bus.Conn, res *result) error {
	exec := &client{base: d.exec.URL(), org: d.org, token: d.token, started: d.started}
	ddmrp := &client{base: d.ddmrp.URL(), org: d.org, token: d.token, started: d.started}
	sku := profile["sku"].(string)
	isSubject := func(s string) func(observed) bool { return func(ev observed) bool { return ev.Subject == s } }

	if err := d.step(ctx, "1. The product catalog (simulated) publishes a product"); err != nil {
		return err
	}
	catalog, err := events.NewCatalogPublisher(conn)
	if err != nil {
		return err
	}
	supplier := uuid.New()
	if _, err := catalog.ProductCreated(bus.WithCorrelation(ctx, d.org, "demo-catalog"), events.ProductCreated{
		ProductID: d.product, SKU: sku, Name: "Deep groove ball bearing 6204-2RS", UnitOfMeasure: events.UnitEA,
		PreferredSupplierID: &supplier, CreatedAt: time.Now().UTC(),
	}); err != nil {
		return err
	}
	if err := poll(ctx, "execution to learn the product", func() (bool, error) {
		status, err := exec.do(ctx, http.MethodGet, "/products/"+d.product.String(), nil, nil)
		return status == http.StatusOK, err
	}); err != nil {
		return err
	}

	if err := d.step(ctx, "2. Planning sets the buffer profile: tops of red 300, yellow 700, green 1200"); err != nil {
		return err
	}
	mark := d.obs.count()
	if err := ddmrp.expect(ctx, http.StatusCreated, http.MethodPut, fmt.Sprintf("/buffers/%s/%s", d.product, d.location), profile, nil); err != nil {
		return err
	}
	if _, _, err := d.obs.wait(ctx, mark, "buffer.calculated", isSubject(events.SubjectDDMRPBufferCalculated)); err != nil {
		return err
	}

	if err := d.step(ctx, "3. Stock arrives: a purchase order of %v EA, received in full", initialStock); err != nil {
		return err
	}
	today := payload.DateOf(time.Now().UTC())
	due, dueLater := today.AddDays(7).String(), today.AddDays(14).String()
	var po struct {
		ID uuid.UUID `json:"purchase_order_id"`
	}
	if err := exec.expect(ctx, http.StatusCreated, http.MethodPost, "/purchase-orders", map[string]any{
		"location_id": d.location, "expected_delivery_date": due, "created_by": "buyer@example.com",
		"lines": []any{map[string]any{"product_id": d.product, "quantity": initialStock}},
	}, &po); err != nil {
		return err
	}
	if err := exec.expect(ctx, http.StatusCreated, http.MethodPost, "/purchase-orders/"+po.ID.String()+"/receipts", nil, nil); err != nil {
		return err
	}
	if err := d.settle(ctx); err != nil {
		return err
	}

	if err := d.step(ctx, "4. Customers order %d x %v EA, due in a week (the last in two lines of %v, the second due a week later); the orders ship one by one, the last line by line",
		salesOrders, orderSize, orderSize/2); err != nil {
		return err
	}
	var sos []uuid.UUID
	for i := range salesOrders {
		var so struct {
			ID uuid.UUID `json:"sales_order_id"`
		}
		lines := []any{map[string]any{"product_id": d.product, "quantity": orderSize}}
		if i == salesOrders-1 {
			// Each line has its own due date; the second gives one, the
			// first takes the order's.
			lines = []any{
				map[string]any{"product_id": d.product, "quantity": orderSize / 2},
				map[string]any{"product_id": d.product, "quantity": orderSize / 2, "due_date": dueLater},
			}
		}
		if err := exec.expect(ctx, http.StatusCreated, http.MethodPost, "/sales-orders", map[string]any{
			"customer_id": uuid.New(), "location_id": d.location, "due_date": due, "lines": lines,
		}, &so); err != nil {
			return err
		}
		sos = append(sos, so.ID)
	}
	if err := d.settle(ctx); err != nil {
		return err
	}
	for i, so := range sos {
		shipments := []any{nil} // in full
		if i == len(sos)-1 {
			// The two-line order ships line by line, each line on its own
			// (a shipment of both would move the same stock twice, line by
			// line, in one go).
			shipments = []any{
				map[string]any{"lines": []any{map[string]any{"line_number": 1, "quantity": orderSize / 2}}},
				map[string]any{"lines": []any{map[string]any{"line_number": 2, "quantity": orderSize / 2}}},
			}
		}
		for _, body := range shipments {
			if err := exec.expect(ctx, http.StatusCreated, http.MethodPost, "/sales-orders/"+so.String()+"/shipments", body, nil); err != nil {
				return err
			}
			if err := d.settle(ctx); err != nil {
				return err
			}
		}
	}
	alert, _, err := d.obs.wait(ctx, 0, "the buffer alert", isSubject(events.SubjectDDMRPBufferAlertTriggered))
	if err != nil {
		return err
	}
	repl, _, err := d.obs.wait(ctx, 0, "the replenishment purchase order", func(ev observed) bool {
		if ev.Subject != events.SubjectExecutionPurchaseOrderCreated {
			return false
		}
		var p events.PurchaseOrderCreated
		return json.Unmarshal(ev.Payload, &p) == nil && p.Origin == events.PurchaseOrderCreatedOriginReplenishment
	})
	if err != nil {
		return err
	}
	if start, ok := d.started[alert.CorrelationID]; ok && repl.CorrelationID == alert.CorrelationID {
		res.loop = repl.Timestamp.Sub(start)
	}
	var replPO events.PurchaseOrderCreated
	if err := json.Unmarshal(repl.Payload, &replPO); err != nil {
		return err
	}
	var buf struct {
		Zone string  `json:"zone"`
		NFP  float64 `json:"net_flow_position"`
	}
	if err := ddmrp.expect(ctx, http.StatusOK, http.MethodGet, fmt.Sprintf("/buffers/%s/%s", d.product, d.location), nil, &buf); err != nil {
		return err
	}
	d.printf("   replenishment %s (draft, not on order until placed) raised %.2f ms after the shipment that crossed top of yellow; the buffer is %s at %v\n",
		replPO.OrderNumber, ms(res.loop), buf.Zone, buf.NFP)

	if err := d.step(ctx, "5. The replenishment order %s is received", replPO.OrderNumber); err != nil {
		return err
	}
	mark = d.obs.count()
	if err := exec.expect(ctx, http.StatusCreated, http.MethodPost, "/purchase-orders/"+replPO.PurchaseOrderID.String()+"/receipts", nil, nil); err != nil {
		return err
	}
	if _, _, err := d.obs.wait(ctx, mark, "the buffer back to green", func(ev observed) bool {
		var c events.BufferStatusChanged
		return ev.Subject == events.SubjectDDMRPBufferStatusChanged && json.Unmarshal(ev.Payload, &c) == nil && c.ToZone == events.ZoneGreen
	}); err != nil {
		return err
	}
	if err := ddmrp.expect(ctx, http.StatusOK, http.MethodGet, fmt.Sprintf("/buffers/%s/%s", d.product, d.location), nil, &buf); err != nil {
		return err
	}
	res.loopClosed = buf.Zone == "green"
	return nil
}

// settle waits until both services' outboxes are empty and their
// consumers have handled everything in the stream, with nothing new
// stored meanwhile.
func (d *demo) settle(ctx context.Context) error {
	return poll(ctx, "the services to catch up", func() (bool, error) {
		s, err := d.js.Stream(ctx, events.Catalog.Stream.Name)
		if err != nil {
			return false, err
		}
		before, err := s.Info(ctx)
		if err != nil {
			return false, err
		}
		if idle, err := d.outboxesEmpty(); !idle || err != nil {
			return false, err
		}
		for _, name := range d.consumerNames() {
			c, err := d.js.Consumer(ctx, events.Catalog.Stream.Name, name)
			if err != nil {
				return false, err
			}
			ci, err := c.Info(ctx)
			if err != nil {
				return false, err
			}
			if ci.NumPending > 0 || ci.NumAckPending > 0 {
				return false, nil
			}
			// The pending count can lag a message just stored: the
			// consumer must also have acknowledged the last message of
			// its subjects.
			last, err := lastOf(ctx, s, ci.Config)
			if err != nil {
				return false, err
			}
			if ci.AckFloor.Stream < last {
				return false, nil
			}
		}
		// A reaction handled meanwhile committed its events before its
		// acknowledgement: they are in its outbox now, or already stored.
		if idle, err := d.outboxesEmpty(); !idle || err != nil {
			return false, err
		}
		after, err := s.Info(ctx)
		if err != nil {
			return false, err
		}
		return after.State.LastSeq == before.State.LastSeq, nil
	})
}

// lastOf returns the stream sequence of the last message a consumer with
// config c receives, 0 when none is stored.
func lastOf(ctx context.Context, s jetstream.Stream, c jetstream.ConsumerConfig) (uint64, error) {
	filters := c.FilterSubjects
	if c.FilterSubject != "" {
		filters = append(filters, c.FilterSubject)
	}
	var last uint64
	for _, f := range filters {
		m, err := s.GetLastMsgForSubject(ctx, f)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		last = max(last, m.Sequence)
	}
	return last, nil
}

// outboxesEmpty reports whether both services have published every event
// they committed.
func (d *demo) outboxesEmpty() (bool, error) {
	for _, o := range []*outbox.Outbox{d.exec.Outbox(), d.ddmrp.Outbox()} {
		s := o.Stats()
		if s.Err != nil {
			return false, s.Err
		}
		if s.Pending > 0 {
			return false, nil
		}
	}
	return true, nil
}

func (d *demo) consumerNames() []string {
	return append(d.exec.Consumers(), d.ddmrp.Consumers()...)
}

// consumed returns how many deliveries the services' consumers have
// acknowledged.
func (d *demo) consumed(ctx context.Context) (int, error) {
	n := 0
	for _, name := range d.consumerNames() {
		c, err := d.js.Consumer(ctx, events.Catalog.Stream.Name, name)
		if err != nil {
			return 0, fmt.Errorf("consumer %s: %w", name, err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return 0, fmt.Errorf("consumer %s: %w", name, err)
		}
		n += int(ci.AckFloor.Consumer)
	}
	return n, nil
}

func (d *demo) deadLetters(ctx context.Context) (int, error) {
	s, err := d.js.Stream(ctx, events.Catalog.Stream.DeadLetterStream)
	if err != nil {
		return 0, fmt.Errorf("dead letters: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("dead letters: %w", err)
	}
	return int(info.State.Msgs), nil
}

func (d *demo) report(r result) {
	d.printf("\nevents_published: %d\n", r.published)
	d.printf("events_consumed: %d\n", r.consumed)
	d.printf("dead_letters: %d\n", r.deadLetters)
	d.printf("publish_p99_ms: %.2f\n", r.publishP99)
	d.printf("e2e_p99_ms: %.2f\n", r.e2eP99)
	d.printf("replenishment_loop_ms: %.2f\n", ms(r.loop))
	d.printf("loop_closed: %t\n", r.loopClosed)
	d.printf("lost: %d\n", r.lost)
	if d.users != nil {
		d.printf("permission_refused: %t\n", r.refused)
	}
}

func (d *demo) printEvent(ev observed) {
	d.printf("%8.1fms  %-34s %-72s %.2fms\n", ms(ev.seen.Sub(d.start)), ev.Subject, summary(ev), ms(ev.e2eLatency()))
}

// poll calls cond every few milliseconds until it holds or ctx ends.
func poll(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// client calls a service's API for the demo's organization, each call
// with a correlation id of its own.
type client struct {
	base    string
	org     uuid.UUID
	token   string // a bearer token acting for org
	started map[string]time.Time
}

func (c *client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	corr := "demo-" + uuid.NewString()
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Correlation-ID", corr)
	req.Header.Set("Content-Type", "application/json")
	c.started[corr] = time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return resp.StatusCode, nil
}

// expect is do, failing unless the status is want.
func (c *client) expect(ctx context.Context, want int, method, path string, body, out any) error {
	status, err := c.do(ctx, method, path, body, out)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d", method, path, status, want)
	}
	return nil
}
