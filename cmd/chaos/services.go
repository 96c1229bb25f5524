package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the services' database driver

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
)

// openDB opens a service's SQLite database for reading alongside the
// service (WAL mode lets a reader in while it writes).
func openDB(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// outboxRow is an event a service committed to its outbox.
type outboxRow struct {
	ID      uuid.UUID
	Subject string
	Sent    bool
}

// readOutbox returns the rows of the service's outbox (outbox.Outbox's
// default table), in commit order.
func readOutbox(ctx context.Context, path string) ([]outboxRow, error) {
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT id, subject, sent_at IS NOT NULL FROM `+outbox.DefaultTable+` ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("outbox of %s: %w", path, err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var id string
		var r outboxRow
		if err := rows.Scan(&id, &r.Subject, &r.Sent); err != nil {
			return nil, fmt.Errorf("outbox of %s: %w", path, err)
		}
		if r.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("outbox of %s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// readInbox returns the events consumer recorded in the service's inbox
// (outbox.Inbox's default table).
func readInbox(ctx context.Context, path, consumer string) (map[uuid.UUID]bool, error) {
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT event_id FROM `+outbox.DefaultInboxTable+` WHERE consumer = ?`, consumer)
	if err != nil {
		return nil, fmt.Errorf("inbox of %s: %w", path, err)
	}
	defer rows.Close()
	out := map[uuid.UUID]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("inbox of %s: %w", path, err)
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("inbox of %s: %w", path, err)
		}
		out[u] = true
	}
	return out, rows.Err()
}

// position is a product at a location.
type position struct{ product, location uuid.UUID }

// readOnHand returns the on-hand stock per position of org in a service's
// database: table is "inventory" for execution, "stock" for ddmrp.
func readOnHand(ctx context.Context, path, table string, org uuid.UUID) (map[position]float64, error) {
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT product_id, location_id, on_hand FROM `+table+` WHERE org = ?`, org.String())
	if err != nil {
		return nil, fmt.Errorf("on hand in %s: %w", path, err)
	}
	defer rows.Close()
	out := map[position]float64{}
	for rows.Next() {
		var p, l string
		var q float64
		if err := rows.Scan(&p, &l, &q); err != nil {
			return nil, fmt.Errorf("on hand in %s: %w", path, err)
		}
		pu, err1 := uuid.Parse(p)
		lu, err2 := uuid.Parse(l)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("on hand in %s: bad position %s/%s", path, p, l)
		}
		out[position{pu, lu}] = q
	}
	return out, rows.Err()
}

// client calls a service's HTTP API for one organization.
type client struct {
	http  *http.Client
	org   uuid.UUID
	token string // a bearer token acting for org
}

func newClient(org uuid.UUID, conns int, token string) *client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns
	return &client{http: &http.Client{Transport: t, Timeout: 15 * time.Second}, org: org, token: token}
}

func (c *client) Close() { c.http.CloseIdleConnections() }

// do sends a JSON request and returns the status and body.
func (c *client) do(ctx context.Context, method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// expect sends a request and fails unless the status is want.
func (c *client) expect(ctx context.Context, want int, method, url string, body any) error {
	status, data, err := c.do(ctx, method, url, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	if status != want {
		return fmt.Errorf("%s %s: %d %s (want %d)", method, url, status, bytes.TrimSpace(data), want)
	}
	return nil
}

// adjust is the body of POST /inventory/adjustments adding one unit.
func adjust(p position) map[string]any {
	return map[string]any{"product_id": p.product, "location_id": p.location, "delta": 1, "reason": "adjustment"}
}

// salesOrder is the body of POST /sales-orders for one unit of p.
func salesOrder(p position) map[string]any {
	return map[string]any{
		"customer_id": uuid.New(), "location_id": p.location, "due_date": time.Now().AddDate(0, 0, 14).Format(time.DateOnly),
		"lines": []map[string]any{{"product_id": p.product, "quantity": 1}},
	}
}

// bufferProfile is the body of ddmrp's PUT /buffers/{product}/{location},
// its average daily usage varying with n.
func bufferProfile(p position, n int) map[string]any {
	return map[string]any{
		"sku": skuOf(p.product), "unit": "EA", "adu": 10 + 10*(n%3), "dlt_days": 10,
		"lead_time_factor": 0.5, "variability_factor": 0.5, "moq": 10, "order_cycle_days": 7,
	}
}

// skuOf names a product of the suite.
func skuOf(id uuid.UUID) string { return "CHAOS-" + strings.ToUpper(id.String()[:8]) }

// publishProducts publishes catalog.product.created for each product, as
// the external catalog service would, and waits until the execution
// service at execURL knows them all.
func publishProducts(ctx context.Context, conn *bus.Conn, c *client, execURL string, products []uuid.UUID) error {
	pub, err := events.NewCatalogPublisher(conn)
	if err != nil {
		return err
	}
	octx := bus.WithCorrelation(ctx, c.org, "chaos-products")
	for i, id := range products {
		supplier := uuid.New()
		if _, err := pub.ProductCreated(octx, events.ProductCreated{
			ProductID: id, SKU: skuOf(id), Name: fmt.Sprintf("Chaos product %d", i),
			UnitOfMeasure: events.UnitEA, PreferredSupplierID: &supplier, CreatedAt: time.Now().UTC(),
		}); err != nil {
			return err
		}
	}
	for _, id := range products {
		if err := pollFor(ctx, 30*time.Second, "execution to learn product "+id.String(), func() (bool, error) {
			status, _, err := c.do(ctx, http.MethodGet, execURL+"/products/"+id.String(), nil)
			return status == http.StatusOK, err
		}); err != nil {
			return err
		}
	}
	return nil
}

// request is one HTTP operation of a load.
type request struct {
	method, url string
	body        any
	want        int // the status of success; 0 for any 2xx
}

// load sends requests from a bounded pool of workers and counts how they
// went.
type load struct {
	ok, failed atomic.Int64

	mu     sync.Mutex
	errors []string // the first few failures
}

// run sends next(i) for i = 0, 1, ... from workers goroutines, each
// waiting for a token of lim when lim is not nil, until n requests were
// sent (n > 0) or ctx ends. It returns when every request sent has
// returned.
func (l *load) run(ctx context.Context, c *client, workers, n int, lim *limiter, next func(i int) request) {
	var seq atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(seq.Add(1)) - 1
				if n > 0 && i >= n {
					return
				}
				if lim != nil && !lim.take(ctx) {
					return
				}
				req := next(i)
				// A request once sent is not cut short by ctx: its answer
				// decides whether it failed.
				status, body, err := c.do(context.WithoutCancel(ctx), req.method, req.url, req.body)
				switch {
				case err != nil:
					l.fail(fmt.Sprintf("%s %s: %v", req.method, req.url, err))
				case req.want == 0 && (status < 200 || status > 299), req.want != 0 && status != req.want:
					l.fail(fmt.Sprintf("%s %s: %d %s", req.method, req.url, status, bytes.TrimSpace(body)))
				default:
					l.ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
}

func (l *load) fail(msg string) {
	l.failed.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errors) < 5 {
		l.errors = append(l.errors, msg)
	}
}

// Errors returns the first few failures.
func (l *load) Errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errors)
}

// consumerApps is how many times each running consumer applied each
// event: consumer name -> event id -> applications.
type consumerApps map[string]map[uuid.UUID]int

// inboxApps turns an inbox's records into applications (an inbox holds
// an event once at most).
func inboxApps(in map[uuid.UUID]bool) map[uuid.UUID]int {
	out := make(map[uuid.UUID]int, len(in))
	for id := range in {
		out[id] = 1
	}
	return out
}

// rowTally is what became of the events services committed to their
// outboxes.
type rowTally struct {
	stored, storedTwice int
	applied, lost, dups int
	missing             map[string]int // per consumer, events it never applied
}

// tallyRows checks every committed event: stored in the stream, and
// applied by each running consumer the catalog gives it to, once.
func tallyRows(rows []outboxRow, stored map[uuid.UUID]int, apps consumerApps) rowTally {
	t := rowTally{missing: map[string]int{}}
	for _, row := range rows {
		ok := true
		if n := stored[row.ID]; n > 0 {
			t.stored++
			t.storedTwice += n - 1
		} else {
			ok = false
		}
		decl, _ := events.Catalog.Event(row.Subject)
		for consumer, applied := range apps {
			if decl == nil || !slices.Contains(decl.Consumers, consumer) {
				continue
			}
			switch n := applied[row.ID]; {
			case n == 0:
				t.missing[consumer]++
				ok = false
			default:
				t.dups += n - 1
			}
		}
		if ok {
			t.applied++
		} else {
			t.lost++
		}
	}
	return t
}

// compareOnHand counts the positions where ddmrp's copy of on-hand stock
// differs from execution's own.
func compareOnHand(exec, ddmrp map[position]float64) int {
	bad := 0
	for p, q := range exec {
		if ddmrp[p] != q {
			bad++
		}
	}
	return bad
}
