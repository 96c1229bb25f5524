package events_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
)

// examples reads every event's examples from the catalog as JSON, keyed by
// subject: the same examples eventgen validated when it generated the SDK.
func examples(t *testing.T) map[string][][]byte {
	t.Helper()
	files, err := filepath.Glob("../../catalog/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string][][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct {
			Events []struct {
				Subject  string `yaml:"subject"`
				Examples []any  `yaml:"examples"`
			} `yaml:"events"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &doc), f)
		for _, e := range doc.Events {
			for _, ex := range e.Examples {
				data, err := json.Marshal(ex)
				require.NoError(t, err, "%s: example of %s", f, e.Subject)
				out[e.Subject] = append(out[e.Subject], data)
			}
		}
	}
	return out
}

// received is one event as a consuming service's typed handler saw it.
type received struct {
	consumer string
	md       bus.Metadata
	payload  any
}

// recorder collects what the handlers of every consuming service receive.
type recorder struct {
	mu  sync.Mutex
	got []received
}

func record[T any](r *recorder, consumer string) bus.Handler[T] {
	return func(_ context.Context, ev bus.Event[T]) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, received{consumer: consumer, md: ev.Metadata, payload: ev.Payload})
		return nil
	}
}

func (r *recorder) byEvent(id string) []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.md.ID.String() == id {
			out = append(out, g)
		}
	}
	return out
}

// publishFunc parses an example into its payload type and publishes it
// through the publishing service's facade.
type publishFunc func(ctx context.Context, example []byte) (any, *bus.PublishAck, error)

func via[T any](parse func([]byte) (T, error), publish func(context.Context, T, ...bus.PublishOption) (*bus.PublishAck, error)) publishFunc {
	return func(ctx context.Context, example []byte) (any, *bus.PublishAck, error) {
		p, err := parse(example)
		if err != nil {
			return nil, nil, err
		}
		ack, err := publish(ctx, p)
		return p, ack, err
	}
}

// connect starts (or reaches, with NATS_TEST_URL) a server, ensures the
// catalog's stream and consumers from scratch, and returns a connection.
func connect(t *testing.T) *bus.Conn {
	t.Helper()
	srv := bustest.RunServer(t)
	c, err := bus.Connect(srv.URL(), bus.WithName(t.Name()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if srv.External() {
		// A shared server may hold an earlier run's stream: start empty.
		for _, name := range []string{events.Catalog.Stream.Name, events.Catalog.Stream.DeadLetterStream} {
			if err := c.JetStream().DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				require.NoError(t, err)
			}
		}
	}
	require.NoError(t, bus.EnsureTopology(ctx, c, events.Catalog))
	return c
}

// TestRoundTripEveryEvent publishes every example of the catalog through
// its publisher's facade and checks that every consuming service's typed
// handler receives the same payload, once, with the envelope's metadata.
func TestRoundTripEveryEvent(t *testing.T) {
	c := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	execution, err := events.NewExecutionPublisher(c)
	require.NoError(t, err)
	ddmrp, err := events.NewDDMRPPublisher(c)
	require.NoError(t, err)
	catalog, err := events.NewCatalogPublisher(c)
	require.NoError(t, err)
	publishers := map[string]publishFunc{
		events.SubjectExecutionPurchaseOrderCreated:  via(events.ParsePurchaseOrderCreated, execution.PurchaseOrderCreated),
		events.SubjectExecutionPurchaseOrderReceived: via(events.ParsePurchaseOrderReceived, execution.PurchaseOrderReceived),
		events.SubjectExecutionSalesOrderCreated:     via(events.ParseSalesOrderCreated, execution.SalesOrderCreated),
		events.SubjectExecutionSalesOrderShipped:     via(events.ParseSalesOrderShipped, execution.SalesOrderShipped),
		events.SubjectExecutionInventoryUpdated:      via(events.ParseInventoryUpdated, execution.InventoryUpdated),
		events.SubjectDDMRPBufferCalculated:          via(events.ParseBufferCalculated, ddmrp.BufferCalculated),
		events.SubjectDDMRPBufferStatusChanged:       via(events.ParseBufferStatusChanged, ddmrp.BufferStatusChanged),
		events.SubjectDDMRPBufferAlertTriggered:      via(events.ParseBufferAlertTriggered, ddmrp.BufferAlertTriggered),
		events.SubjectCatalogProductCreated:          via(events.ParseProductCreated, catalog.ProductCreated),
		events.SubjectCatalogProductUpdated:          via(events.ParseProductUpdated, catalog.ProductUpdated),
		events.SubjectCatalogProductDiscontinued:     via(events.ParseProductDiscontinued, catalog.ProductDiscontinued),
	}
	require.ElementsMatch(t, events.Subjects, mapsKeys(publishers), "every subject of the catalog has a publisher in this test")

	rec := &recorder{}
	subs := []func() (*bus.Subscription, error){
		func() (*bus.Subscription, error) {
			return events.ConsumeExecution(ctx, c, events.ExecutionHandlers{
				ProductCreated:       record[events.ProductCreated](rec, events.ServiceExecution),
				ProductUpdated:       record[events.ProductUpdated](rec, events.ServiceExecution),
				ProductDiscontinued:  record[events.ProductDiscontinued](rec, events.ServiceExecution),
				BufferAlertTriggered: record[events.BufferAlertTriggered](rec, events.ServiceExecution),
			})
		},
		func() (*bus.Subscription, error) {
			return events.ConsumeDDMRP(ctx, c, events.DDMRPHandlers{
				ProductDiscontinued:   record[events.ProductDiscontinued](rec, events.ServiceDDMRP),
				InventoryUpdated:      record[events.InventoryUpdated](rec, events.ServiceDDMRP),
				PurchaseOrderCreated:  record[events.PurchaseOrderCreated](rec, events.ServiceDDMRP),
				PurchaseOrderReceived: record[events.PurchaseOrderReceived](rec, events.ServiceDDMRP),
				SalesOrderCreated:     record[events.SalesOrderCreated](rec, events.ServiceDDMRP),
				SalesOrderShipped:     record[events.SalesOrderShipped](rec, events.ServiceDDMRP),
			})
		},
		func() (*bus.Subscription, error) {
			return events.ConsumeAnalytics(ctx, c, events.AnalyticsHandlers{
				BufferCalculated:      record[events.BufferCalculated](rec, events.ServiceAnalytics),
				BufferStatusChanged:   record[events.BufferStatusChanged](rec, events.ServiceAnalytics),
				PurchaseOrderCreated:  record[events.PurchaseOrderCreated](rec, events.ServiceAnalytics),
				PurchaseOrderReceived: record[events.PurchaseOrderReceived](rec, events.ServiceAnalytics),
				SalesOrderCreated:     record[events.SalesOrderCreated](rec, events.ServiceAnalytics),
				SalesOrderShipped:     record[events.SalesOrderShipped](rec, events.ServiceAnalytics),
			})
		},
		func() (*bus.Subscription, error) {
			return events.ConsumeAIHub(ctx, c, events.AIHubHandlers{
				BufferAlertTriggered: record[events.BufferAlertTriggered](rec, events.ServiceAIHub),
				BufferCalculated:     record[events.BufferCalculated](rec, events.ServiceAIHub),
				BufferStatusChanged:  record[events.BufferStatusChanged](rec, events.ServiceAIHub),
				InventoryUpdated:     record[events.InventoryUpdated](rec, events.ServiceAIHub),
			})
		},
	}
	for _, start := range subs {
		sub, err := start()
		require.NoError(t, err)
		t.Cleanup(func() { _ = sub.Stop(context.Background()) })
	}

	org := mustUUID(t, "0b6a2c1e-4f8d-4e3a-9c7b-5d1e8f2a6b90")
	for subject, list := range examples(t) {
		spec, ok := events.Catalog.Event(subject)
		require.True(t, ok, subject)
		for i, ex := range list {
			pctx := bus.WithCorrelation(ctx, org, "round-trip-"+subject)
			sent, ack, err := publishers[subject](pctx, ex)
			require.NoError(t, err, "%s example %d", subject, i+1)
			require.False(t, ack.Duplicate)

			want := slices.Clone(spec.Consumers)
			require.Eventually(t, func() bool { return len(rec.byEvent(ack.ID.String())) >= len(want) },
				10*time.Second, 5*time.Millisecond, "%s example %d: consumers %v", subject, i+1, want)
			got := rec.byEvent(ack.ID.String())
			var consumers []string
			for _, g := range got {
				consumers = append(consumers, g.consumer)
				assert.Equal(t, sent, g.payload, "%s example %d at %s", subject, i+1, g.consumer)
				assert.Equal(t, subject, g.md.Subject)
				assert.Equal(t, spec.Publisher, g.md.Source)
				assert.Equal(t, spec.Version, g.md.Version)
				assert.Equal(t, org, g.md.OrganizationID)
				assert.Equal(t, "round-trip-"+subject, g.md.CorrelationID)
				assert.Equal(t, uint64(1), g.md.Delivered)
			}
			assert.ElementsMatch(t, want, consumers, "%s example %d: each consumer exactly once", subject, i+1)
		}
	}
}

// TestInvalidPayloadRefusedAtPublish: a payload that breaks its schema is
// refused with the failing field's JSON pointer, and the stream holds
// nothing new.
func TestInvalidPayloadRefusedAtPublish(t *testing.T) {
	c := connect(t)
	ctx := context.Background()
	pub, err := events.NewExecutionPublisher(c)
	require.NoError(t, err)

	po, err := events.ParsePurchaseOrderCreated(examples(t)[events.SubjectExecutionPurchaseOrderCreated][0])
	require.NoError(t, err)
	po.Lines[0].Quantity.Value = -5
	po.OrderNumber = "not-an-order-number"

	stream, err := c.JetStream().Stream(ctx, events.Catalog.Stream.Name)
	require.NoError(t, err)
	before, err := stream.Info(ctx)
	require.NoError(t, err)

	_, err = pub.PurchaseOrderCreated(ctx, po)
	require.Error(t, err)
	require.ErrorIs(t, err, bus.ErrInvalidPayload)
	var ve *payload.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, events.SubjectExecutionPurchaseOrderCreated, ve.Subject)
	var pointers []string
	for _, v := range ve.Violations {
		pointers = append(pointers, v.Pointer)
	}
	assert.Equal(t, []string{"/lines/0/quantity/value", "/order_number"}, pointers)
	assert.Contains(t, err.Error(), "/lines/0/quantity/value")

	after, err := stream.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, before.State.Msgs, after.State.Msgs, "nothing reached the stream")
	assert.Equal(t, before.State.LastSeq, after.State.LastSeq)

	// The same verdict for raw bytes, by subject and through Validate.
	require.ErrorIs(t, po.Validate(), bus.ErrInvalidPayload)
	raw, err := json.Marshal(po)
	require.NoError(t, err)
	require.ErrorAs(t, events.ValidateJSON(events.SubjectExecutionPurchaseOrderCreated, raw), &ve)
	require.ErrorIs(t, events.ValidateJSON("execution.no_such.event", raw), bus.ErrUnknownSubject)
}

// TestPublishersOwnOnlyTheirEvents checks every generated facade's method
// set against the catalog, the publishers' and the outboxes': one method
// per owned event (and, on a publisher, its Async twin and Flush), nothing
// else.
func TestPublishersOwnOnlyTheirEvents(t *testing.T) {
	facades := map[string][]reflect.Type{
		events.ServiceExecution: {reflect.TypeFor[*events.ExecutionPublisher](), reflect.TypeFor[*events.ExecutionOutbox]()},
		events.ServiceDDMRP:     {reflect.TypeFor[*events.DDMRPPublisher](), reflect.TypeFor[*events.DDMRPOutbox]()},
		events.ServiceCatalog:   {reflect.TypeFor[*events.CatalogPublisher](), reflect.TypeFor[*events.CatalogOutbox]()},
	}
	for service, types := range facades {
		var want []string
		for _, subject := range events.Catalog.PublishedBy(service) {
			tokens := strings.Split(subject, ".")
			want = append(want, camel(tokens[len(tokens)-2])+camel(tokens[len(tokens)-1]))
		}
		require.NotEmpty(t, want, service)
		for i, typ := range types {
			var methods []string
			for m := range typ.Methods() {
				methods = append(methods, m.Name)
			}
			wantMethods := want
			if i == 0 { // the publisher: each event's Async twin, and Flush
				wantMethods = slices.Clone(want)
				for _, name := range want {
					wantMethods = append(wantMethods, name+"Async")
				}
				wantMethods = append(wantMethods, "Flush")
			}
			assert.ElementsMatch(t, wantMethods, methods, typ.String())
		}
	}
}

// TestOutboxFacadeChecksItsService: an outbox facade is built only over an
// outbox whose publisher is its service's, and adds its events in the
// caller's transaction.
func TestOutboxFacadeChecksItsService(t *testing.T) {
	c := connect(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "outbox.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	pub, err := bus.NewPublisher(c, events.Catalog, events.ServiceDDMRP)
	require.NoError(t, err)
	out, err := outbox.New(db, pub)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, out.Migrate(ctx))
	assert.Equal(t, events.ServiceDDMRP, out.Service())

	_, err = events.NewExecutionOutbox(out)
	require.ErrorIs(t, err, bus.ErrNotPublisher)
	assert.Contains(t, err.Error(), `the outbox publishes for "ddmrp", not "execution"`)
	_, err = events.NewDDMRPOutbox(nil)
	require.ErrorIs(t, err, bus.ErrInvalidOption)

	o, err := events.NewDDMRPOutbox(out)
	require.NoError(t, err)
	raw := examples(t)[events.SubjectDDMRPBufferCalculated]
	require.NotEmpty(t, raw)
	payload, err := events.ParseBufferCalculated(raw[0])
	require.NoError(t, err)
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	id, err := o.BufferCalculated(ctx, tx, payload)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	var subject string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT subject FROM "+out.Table()+" WHERE id = ?", id.String()).Scan(&subject))
	assert.Equal(t, events.SubjectDDMRPBufferCalculated, subject)
}

// TestExecutionCannotPublishDDMRPEvents proves that the compiler, not a
// run-time check, stops the execution service from publishing a ddmrp
// event, directly or through its outbox: a program that tries does not
// build.
func TestExecutionCannotPublishDDMRPEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "compilefail")
	src := filepath.Join(t.TempDir(), "main.go")
	require.NoError(t, os.WriteFile(src, []byte(`package main

import (
	"context"

	"github.com/giia/events/sdk/events"
)

func main() {
	var p *events.ExecutionPublisher
	_, _ = p.BufferAlertTriggered(context.Background(), events.BufferAlertTriggered{})
	var o *events.ExecutionOutbox
	_, _ = o.BufferAlertTriggered(context.Background(), nil, events.BufferAlertTriggered{})
}
`), 0o644))
	// The program lives only in an overlay: nothing is written to the tree.
	overlay := filepath.Join(t.TempDir(), "overlay.json")
	ov, err := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(dir, "main.go"): src}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(overlay, ov, 0o644))

	cmd := exec.Command("go", "build", "-overlay", overlay, "-o", os.DevNull, "./compilefail")
	cmd.Dir = filepath.Dir(file)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the program must not build")
	assert.Contains(t, string(out), "p.BufferAlertTriggered undefined (type *events.ExecutionPublisher has no field or method BufferAlertTriggered)")
	assert.Contains(t, string(out), "o.BufferAlertTriggered undefined (type *events.ExecutionOutbox has no field or method BufferAlertTriggered)")
}

func camel(token string) string {
	var b strings.Builder
	for _, w := range strings.Split(token, "_") {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func mapsKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return id
}
